//! In-process throughput: non-persistent 1 KiB messages on one queue, AUTO_ACKNOWLEDGE,
//! 1 producer/1 consumer and 4 producers/4 consumers, measured side by side in one run.
//!
//! `cargo bench -p herald-core --bench throughput [-- MESSAGES]`

use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use herald_core::client::{AckMode, ConnectOptions, Connection, SendOptions};
use herald_core::{Broker, DeliveryMode, Destination, Message};

fn run(producers: usize, consumers: usize, total: usize, size: usize) -> f64 {
    let broker = Broker::in_memory();
    let queue = Destination::queue("bench");
    let per_producer = total / producers;
    let total = per_producer * producers;
    let start = Arc::new(Barrier::new(producers + consumers + 1));
    let received = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut handles = Vec::new();
    for _ in 0..consumers {
        let (broker, queue, start, received) = (broker.clone(), queue.clone(), start.clone(), received.clone());
        handles.push(thread::spawn(move || {
            let c = Connection::to_broker(&broker, &ConnectOptions::default()).unwrap();
            c.start().unwrap();
            let s = c.create_session(AckMode::Auto).unwrap();
            let consumer = s.create_consumer(&queue, &Default::default()).unwrap();
            start.wait();
            // Count locally and publish in batches: a shared counter bumped per
            // message would measure cache-line ping-pong, not the broker.
            let mut local = 0;
            loop {
                if consumer.receive_timeout(Duration::from_millis(20)).unwrap().is_some() {
                    local += 1;
                    if local < 256 {
                        continue;
                    }
                }
                let seen = received.fetch_add(local, std::sync::atomic::Ordering::Relaxed) + local;
                local = 0;
                if seen >= total {
                    break;
                }
            }
        }));
    }
    let body = vec![b'x'; size];
    for _ in 0..producers {
        let (broker, queue, start, body) = (broker.clone(), queue.clone(), start.clone(), body.clone());
        handles.push(thread::spawn(move || {
            let c = Connection::to_broker(&broker, &ConnectOptions::default()).unwrap();
            let s = c.create_session(AckMode::Auto).unwrap();
            let mut producer = s.create_producer(Some(queue)).unwrap();
            producer
                .set_options(SendOptions { delivery_mode: DeliveryMode::NonPersistent, ..SendOptions::default() })
                .unwrap();
            start.wait();
            for _ in 0..per_producer {
                producer.send(Message::bytes(body.clone())).unwrap();
            }
        }));
    }
    start.wait();
    let began = Instant::now();
    for h in handles {
        h.join().unwrap();
    }
    total as f64 / began.elapsed().as_secs_f64()
}

fn main() {
    let total: usize = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(2_000_000);
    const ROUNDS: usize = 5;
    println!("non-persistent 1 KiB, AUTO_ACKNOWLEDGE, one queue, {total} messages per scenario");
    // The first run grows the heap from nothing; its page faults are not the broker's.
    run(1, 1, total / 4, 1024);
    run(4, 4, total / 4, 1024);
    let (mut ones, mut fours, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for round in 1..=ROUNDS {
        let one = run(1, 1, total, 1024);
        let four = run(4, 4, total, 1024);
        println!(
            "round {round}: 1P/1C {:>10.0} msg/s   4P/4C {:>10.0} msg/s   4P/4C : 1P/1C = {:.2}",
            one,
            four,
            four / one
        );
        ones.push(one);
        fours.push(four);
        ratios.push(four / one);
    }
    println!(
        "median: 1P/1C {:>10.0} msg/s   4P/4C {:>10.0} msg/s   4P/4C : 1P/1C = {:.2} (median of the rounds' ratios)",
        median(ones),
        median(fours),
        median(ratios)
    );
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}
