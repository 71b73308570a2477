//! Selector evaluation throughput on the delivery path, and a check that evaluating does
//! not allocate.
//!
//! Run with `cargo bench -p herald-core --bench selector`. Plain `std::time` keeps the
//! benchmark free of dependencies; each figure is the best of several rounds.

use std::alloc::{GlobalAlloc, Layout, System};
use std::borrow::Cow;
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use herald_core::selector::{Filterable, HeaderField, Operand, Selector};

/// Counts allocations so the benchmark can show evaluation makes none.
struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `alloc` above, i.e. from the system allocator.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const SELECTOR: &str =
    "color = 'red' AND weight > 2500 AND region IN ('EU','US') AND name LIKE 'ord%'";

enum Value {
    Bool(bool),
    Long(i64),
    Double(f64),
    Str(String),
}

/// Ten properties in a vector, looked up by name as a broker's message would.
struct Message {
    properties: Vec<(String, Value)>,
}

impl Message {
    fn new(color: &str, weight: i64) -> Message {
        let properties = vec![
            ("customer".to_string(), Value::Str("acme".to_string())),
            ("attempt".to_string(), Value::Long(1)),
            ("express".to_string(), Value::Bool(false)),
            ("color".to_string(), Value::Str(color.to_string())),
            ("ratio".to_string(), Value::Double(0.25)),
            ("weight".to_string(), Value::Long(weight)),
            ("channel".to_string(), Value::Str("web".to_string())),
            ("region".to_string(), Value::Str("EU".to_string())),
            ("batch".to_string(), Value::Long(77)),
            ("name".to_string(), Value::Str("order-4711".to_string())),
        ];
        Message { properties }
    }
}

impl Filterable for Message {
    fn header(&self, field: HeaderField) -> Option<Operand<'_>> {
        match field {
            HeaderField::DeliveryMode => Some(Operand::Str(Cow::Borrowed("PERSISTENT"))),
            HeaderField::Priority => Some(Operand::Long(4)),
            _ => None,
        }
    }

    fn property(&self, name: &str) -> Option<Operand<'_>> {
        self.properties.iter().find(|(n, _)| n == name).map(|(_, v)| match v {
            Value::Bool(b) => Operand::Bool(*b),
            Value::Long(l) => Operand::Long(*l),
            Value::Double(d) => Operand::Double(*d),
            Value::Str(s) => Operand::Str(Cow::Borrowed(s)),
        })
    }
}

/// Best evaluations per second over a few rounds of `n` evaluations, and the allocations
/// the rounds made.
fn measure(selector: &Selector, message: &Message, n: u32, expected: bool) -> (f64, usize) {
    assert_eq!(selector.matches(message), expected);
    let mut best = Duration::MAX;
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    for _ in 0..5 {
        let start = Instant::now();
        let mut hits = 0u32;
        for _ in 0..n {
            hits += u32::from(black_box(selector).matches(black_box(message)));
        }
        best = best.min(start.elapsed());
        assert_eq!(black_box(hits), if expected { n } else { 0 });
    }
    let allocations = ALLOCATIONS.load(Ordering::Relaxed) - before;
    (f64::from(n) / best.as_secs_f64(), allocations)
}

fn main() {
    let n = 10_000_000;
    let selector = Selector::parse(SELECTOR).expect("the benchmark selector parses");

    let parses = 100_000;
    let start = Instant::now();
    for _ in 0..parses {
        black_box(Selector::parse(black_box(SELECTOR)).is_ok());
    }
    let per_parse = start.elapsed() / parses;
    println!("selector: {SELECTOR}");
    println!("parse:        {per_parse:?} per selector");

    // Fails at the first condition, and at the last one.
    let cases = [
        ("matching", Message::new("red", 3000), true),
        ("not matching (first term)", Message::new("blue", 3000), false),
        ("not matching (second term)", Message::new("red", 100), false),
    ];
    for (label, message, expected) in &cases {
        let (rate, allocations) = measure(&selector, message, n, *expected);
        println!(
            "{label:<28} {:>6.1} M evaluations/s ({:.1} ns each), {allocations} allocations",
            rate / 1e6,
            1e9 / rate
        );
    }
}
