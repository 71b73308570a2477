//! In-process topic fan-out: one producer publishes non-persistent 1 KiB messages to a
//! topic with four subscribers, each on its own connection and session, AUTO_ACKNOWLEDGE,
//! on a broker with a journal (as `vm://NAME?dataDir=...` runs). Each subscriber encodes
//! every delivery, as the language bindings do before handing it over. Prints
//! deliveries per second and the process's CPU time per delivery.
//!
//! `cargo bench -p herald-core --bench fanout [-- MESSAGES]`

use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use herald_core::client::{AckMode, ConnectOptions, Connection, SendOptions};
use herald_core::{DeliveryMode, Destination, Message};

const SUBSCRIBERS: usize = 4;

/// User plus system CPU time of this process so far.
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let fields: Vec<&str> = stat.rsplit_once(')').map_or("", |(_, rest)| rest).split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

fn run(url: &str, round: usize, messages: usize) -> (f64, Duration) {
    let topic = Destination::topic(format!("fanout-{round}"));
    let ready = Arc::new(Barrier::new(SUBSCRIBERS + 1));
    let mut handles = Vec::new();
    for _ in 0..SUBSCRIBERS {
        let (url, topic, ready) = (url.to_owned(), topic.clone(), ready.clone());
        handles.push(thread::spawn(move || {
            let c = Connection::open(&url, &ConnectOptions::default()).unwrap();
            c.start().unwrap();
            let s = c.create_session(AckMode::Auto).unwrap();
            let consumer = s.create_consumer(&topic, &Default::default()).unwrap();
            ready.wait();
            let mut bytes = 0usize;
            for _ in 0..messages {
                match consumer.receive_timeout(Duration::from_secs(10)).unwrap() {
                    Some(d) => bytes += d.encode().len(),
                    None => panic!("a subscriber waited 10 s for a message"),
                }
            }
            bytes
        }));
    }
    let c = Connection::open(url, &ConnectOptions::default()).unwrap();
    let s = c.create_session(AckMode::Auto).unwrap();
    let mut producer = s.create_producer(Some(topic)).unwrap();
    producer.set_options(SendOptions { delivery_mode: DeliveryMode::NonPersistent, ..SendOptions::default() }).unwrap();
    let body = vec![b'x'; 1024];
    ready.wait();
    let cpu = cpu_time();
    let began = Instant::now();
    for _ in 0..messages {
        producer.send(Message::bytes(body.clone())).unwrap();
    }
    for h in handles {
        assert!(h.join().unwrap() > messages * 1024);
    }
    let elapsed = began.elapsed().as_secs_f64();
    let deliveries = (messages * SUBSCRIBERS) as f64;
    (deliveries / elapsed, (cpu_time() - cpu) / (messages * SUBSCRIBERS) as u32)
}

fn main() {
    let messages: usize = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(500_000);
    let dir = std::env::temp_dir().join(format!("herald-fanout-bench-{}", std::process::id()));
    let url = format!("vm://fanout-bench?dataDir={}", dir.display());
    println!("topic fan-out 1P/{SUBSCRIBERS}S, non-persistent 1 KiB, AUTO_ACKNOWLEDGE, {messages} messages per round");
    run(&url, 0, messages / 4);
    let mut rates = Vec::new();
    for round in 1..=5 {
        let (rate, cpu) = run(&url, round, messages);
        println!("round {round}: {rate:>10.0} deliveries/s   {:>6.2} us CPU per delivery", cpu.as_secs_f64() * 1e6);
        rates.push(rate);
    }
    rates.sort_by(f64::total_cmp);
    println!("median: {:>10.0} deliveries/s", rates[rates.len() / 2]);
    herald_core::client::vm_shutdown("fanout-bench");
    let _ = std::fs::remove_dir_all(&dir);
}
