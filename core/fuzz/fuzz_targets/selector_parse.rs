//! Any text either parses or yields a positioned error, and a parsed selector evaluates
//! against messages of every value type without panicking.

#![no_main]

use std::borrow::Cow;

use herald_core::selector::{Filterable, HeaderField, Operand, Selector};
use libfuzzer_sys::fuzz_target;

/// Every header and property has the same value.
struct Uniform(Operand<'static>);

impl Filterable for Uniform {
    fn header(&self, _: HeaderField) -> Option<Operand<'_>> {
        Some(self.0.clone())
    }

    fn property(&self, _: &str) -> Option<Operand<'_>> {
        Some(self.0.clone())
    }
}

/// No headers, no properties: every identifier is NULL.
struct Empty;

impl Filterable for Empty {
    fn header(&self, _: HeaderField) -> Option<Operand<'_>> {
        None
    }

    fn property(&self, _: &str) -> Option<Operand<'_>> {
        None
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match Selector::parse(text) {
        Ok(selector) => {
            let messages: [&dyn Filterable; 7] = [
                &Empty,
                &Uniform(Operand::Bool(true)),
                &Uniform(Operand::Long(i64::MIN)),
                &Uniform(Operand::Long(0)),
                &Uniform(Operand::Double(f64::NAN)),
                &Uniform(Operand::Str(Cow::Borrowed("a%_"))),
                &Uniform(Operand::Str(Cow::Borrowed(""))),
            ];
            for message in messages {
                let result = selector.evaluate(message);
                assert_eq!(selector.matches(message), result == Some(true));
            }
        }
        Err(e) => assert!(e.position <= text.chars().count()),
    }
});
