//! A MessageListener's acknowledgements over tcp://: the loop the JMS and C bindings run
//! for a listener in AUTO_ACKNOWLEDGE and DUPS_OK_ACKNOWLEDGE (`receive_held`, the
//! application's work, `acknowledge_held`), against a real `herald serve` with its
//! durable journal, next to the same messages taken with plain `receive`.
//!
//! `cargo bench -p herald-server --bench listener_acks [-- MESSAGES]` (default 20000,
//! 1 KiB bodies). Prints messages per second for each case.

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::ServerProcess;
use herald_core::client::{AckMode, ConnectOptions, Connection, ConsumerOptions, SendOptions};
use herald_core::{DeliveryMode, Destination, Message};

const BATCH: usize = 500;

fn preload(conn: &Connection, queue: &Destination, count: usize, mode: DeliveryMode) {
    let s = conn.create_session(AckMode::Transacted).unwrap();
    let mut p = s.create_producer(Some(queue.clone())).unwrap();
    p.set_options(SendOptions { delivery_mode: mode, ..SendOptions::default() }).unwrap();
    let body = "x".repeat(1024);
    for k in 0..count {
        p.send(Message::text(body.clone())).unwrap();
        if (k + 1) % BATCH == 0 {
            s.commit().unwrap();
        }
    }
    s.commit().unwrap();
    s.close();
}

/// Takes `count` messages as a listener would (or with `receive`); returns messages/s.
fn drain(conn: &Connection, queue: &Destination, count: usize, ack: AckMode, listener: bool) -> f64 {
    let s = conn.create_session(ack).unwrap();
    let c = s.create_consumer(queue, &ConsumerOptions::default()).unwrap();
    let started = Instant::now();
    for _ in 0..count {
        let d = if listener { c.receive_held(Some(Duration::from_secs(10))) } else { c.receive_timeout(Duration::from_secs(10)) };
        let d = d.unwrap().expect("a message within 10 s");
        std::hint::black_box(d.text_body());
        if listener {
            s.acknowledge_held().unwrap();
        }
    }
    let elapsed = started.elapsed();
    // Every acknowledgement reached the server: nothing comes back after the close.
    s.close();
    let check = conn.create_session(AckMode::Auto).unwrap();
    let left = check.create_consumer(queue, &ConsumerOptions::default()).unwrap();
    assert!(left.receive_timeout(Duration::from_millis(200)).unwrap().is_none(), "a message was not acknowledged");
    check.close();
    count as f64 / elapsed.as_secs_f64()
}

fn main() {
    let count: usize = std::env::args().skip(1).find(|a| !a.starts_with('-')).and_then(|a| a.parse().ok()).unwrap_or(20_000);
    let server = ServerProcess::start("");
    let conn = Connection::open(&server.url(), &ConnectOptions::default()).unwrap();
    conn.start().unwrap();
    println!("{count} messages of 1 KiB over tcp:// to herald serve (durable journal)");
    println!("{:<16} {:<8} {:<14} {:>12}", "delivery", "mode", "path", "msg/s");
    for (delivery, dname) in [(DeliveryMode::NonPersistent, "non-pers"), (DeliveryMode::Persistent, "persistent")] {
        for (ack, aname) in [(AckMode::Auto, "AUTO"), (AckMode::DupsOk, "DUPS_OK")] {
            for (listener, pname) in [(true, "listener"), (false, "receive")] {
                let queue = Destination::queue(format!("bench.listener.{dname}.{aname}.{pname}"));
                preload(&conn, &queue, count, delivery);
                let rate = drain(&conn, &queue, count, ack, listener);
                println!("{dname:<16} {aname:<8} {pname:<14} {rate:>12.0}");
            }
        }
    }
    conn.close();
}
