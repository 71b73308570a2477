//! One matching message behind 100,000 that the consumer's selector rejects: how long
//! until the consumer has it, for a consumer that arrives after the backlog and for one
//! that waits while the backlog builds.
//!
//! `cargo bench -p herald-core --bench selector_backlog`

use std::time::{Duration, Instant};

use herald_core::client::{AckMode, ConnectOptions, Connection, Consumer, ConsumerOptions, SendOptions, Session};
use herald_core::{Broker, DeliveryMode, Destination, Message};

const BACKLOG: usize = 100_000;

fn send(session: &Session, queue: &Destination, kind: &str, count: usize) {
    let mut producer = session.create_producer(Some(queue.clone())).unwrap();
    producer.set_options(SendOptions { delivery_mode: DeliveryMode::NonPersistent, ..Default::default() }).unwrap();
    for _ in 0..count {
        let mut m = Message::text(kind);
        m.set_property("kind", kind).unwrap();
        producer.send(m).unwrap();
    }
}

fn selecting(session: &Session, queue: &Destination) -> Consumer {
    let options = ConsumerOptions { selector: Some("kind = 'needle'".into()), ..Default::default() };
    session.create_consumer(queue, &options).unwrap()
}

fn main() {
    for round in 1..=3 {
        let broker = Broker::in_memory();
        let c = Connection::to_broker(&broker, &ConnectOptions::default()).unwrap();
        c.start().unwrap();
        let s = c.create_session(AckMode::Auto).unwrap();

        let q = Destination::queue("late-consumer");
        send(&s, &q, "hay", BACKLOG);
        send(&s, &q, "needle", 1);
        let began = Instant::now();
        let consumer = selecting(&s, &q);
        consumer.receive_timeout(Duration::from_secs(10)).unwrap().expect("the needle");
        let late = began.elapsed();

        let q = Destination::queue("waiting-consumer");
        let consumer = selecting(&s, &q);
        send(&s, &q, "hay", BACKLOG);
        let began = Instant::now();
        send(&s, &q, "needle", 1);
        consumer.receive_timeout(Duration::from_secs(10)).unwrap().expect("the needle");
        let waiting = began.elapsed();
        println!(
            "round {round}: needle behind {BACKLOG} rejected messages: consumer created after the backlog {:.2} ms, consumer waiting all along {:.3} ms",
            late.as_secs_f64() * 1e3,
            waiting.as_secs_f64() * 1e3
        );
    }
}
