//! `herald serve` takes the journal's settings from the `[journal]` section of its
//! config file: the size limit and what a send that does not fit does.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::{ServerProcess, TempDir, HERALD};
use herald_core::client::{AckMode, ConnectOptions, Connection, ConsumerOptions};
use herald_core::{Destination, ErrorKind, Message};

#[test]
fn a_full_journal_holds_a_send_for_the_configured_timeout_then_refuses_it() {
    let server = ServerProcess::start("[journal]\nmax_bytes = 524288\non_full = \"block\"\nblock_timeout_ms = 300\n");
    let queue = Destination::queue("bounded");
    let body = "b".repeat(16 * 1024);
    let producer = Connection::open(&server.url(), &ConnectOptions::default()).unwrap();
    let s = producer.create_session(AckMode::Auto).unwrap();
    let p = s.create_producer(Some(queue.clone())).unwrap();
    let mut sent = 0;
    let (error, waited) = loop {
        assert!(sent < 200, "the configured size limit was never reached");
        let began = Instant::now();
        match p.send(Message::text(format!("{sent}:{body}"))) {
            Ok(_) => sent += 1,
            Err(e) => break (e, began.elapsed()),
        }
    };
    assert_eq!(error.kind(), ErrorKind::ResourceAllocation, "{error}");
    assert!(error.message().contains("block timeout of 300 ms"), "{error}");
    assert!(waited >= Duration::from_millis(300), "refused after {waited:?}, before the configured timeout");
    assert!(sent > 10, "only {sent} messages fitted in 512 KiB");
    // Everything accepted is there, in order; draining makes room again.
    let consumer = Connection::open(&server.url(), &ConnectOptions::default()).unwrap();
    consumer.start().unwrap();
    let cs = consumer.create_session(AckMode::Auto).unwrap();
    let receiver = cs.create_consumer(&queue, &ConsumerOptions::default()).unwrap();
    for n in 0..sent {
        let got = receiver.receive_timeout(Duration::from_secs(5)).unwrap();
        let got = got.unwrap_or_else(|| panic!("message {n} is missing"));
        assert!(got.text_body().unwrap().starts_with(&format!("{n}:")));
    }
    assert!(receiver.receive_timeout(Duration::from_millis(200)).unwrap().is_none());
    p.send(Message::text("after draining")).unwrap();
    assert_eq!(receiver.receive_timeout(Duration::from_secs(5)).unwrap().unwrap().text_body(), Some("after draining"));
}

#[test]
fn an_unknown_on_full_policy_stops_the_server_at_start() {
    let dir = TempDir::new("journal-config");
    let config = dir.0.join("herald.toml");
    std::fs::write(&config, "[journal]\non_full = \"wait\"\n").unwrap();
    let out = Command::new(HERALD)
        .args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(dir.0.join("data"))
        .arg("--config")
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("\"wait\"") && stderr.contains("block"), "{stderr}");
}
