//! What AUTO_ACKNOWLEDGE and DUPS_OK_ACKNOWLEDGE promise across a crash.
//!
//! AUTO_ACKNOWLEDGE records the acknowledgement of a message in the journal's delivery
//! log before the message is handed out, so after a kill -9 at most the last message
//! handed out comes back ("only a session's last consumed message is subject to
//! ambiguity"). DUPS_OK_ACKNOWLEDGE records acknowledgements in batches: at most the
//! last `DUPS_OK_BATCH` come back. Neither ever loses a message it has not handed out.
//!
//! A child process (this test binary, filter `auto_ack_child`) drains a persistent
//! backlog and prints `GOT k` after each receive returns; the parent kills it at a random
//! moment, recovers the journal and checks what is left: a contiguous tail of the
//! backlog, starting no earlier than the window allows.

mod journal_support;

use std::time::{Duration, Instant};

use herald_core::client::{AckMode, ConsumerOptions};
use herald_core::client::DUPS_OK_BATCH;
use herald_core::{Destination, Message};
use journal_support::*;

const CHILD_DIR: &str = "HERALD_ACK_CHILD_DIR";
const CHILD_MODE: &str = "HERALD_ACK_CHILD_MODE";
const QUEUE: &str = "auto-ack.backlog";
const BACKLOG: usize = 1500;

/// The child: drains the queue in the mode it is given until killed.
#[test]
#[ignore = "the child process of the auto-acknowledge crash tests"]
fn auto_ack_child() {
    let Ok(dir) = std::env::var(CHILD_DIR) else { return };
    let mode = if std::env::var(CHILD_MODE).unwrap() == "dups" { AckMode::DupsOk } else { AckMode::Auto };
    let broker = open_broker(std::path::Path::new(&dir));
    let c = connect(&broker);
    let s = session(&c, mode);
    let consumer = s.create_consumer(&Destination::queue(QUEUE), &ConsumerOptions::default()).unwrap();
    println!("READY");
    loop {
        match consumer.receive_timeout(Duration::from_secs(5)).unwrap() {
            Some(d) => println!("GOT {}", d.text_body().unwrap()),
            None => std::thread::sleep(Duration::from_secs(60)),
        }
    }
}

fn fill(dir: &std::path::Path) {
    let broker = open_broker(dir);
    let c = connect(&broker);
    let s = session(&c, AckMode::Transacted);
    let p = s.create_producer(Some(Destination::queue(QUEUE))).unwrap();
    for k in 0..BACKLOG {
        p.send(Message::text(k.to_string())).unwrap();
        if k % 500 == 499 {
            s.commit().unwrap();
        }
    }
    s.commit().unwrap();
    c.close();
    broker.shutdown();
}

/// What the journal holds after recovery, in delivery order.
fn recovered(dir: &std::path::Path) -> Vec<usize> {
    let broker = open_broker(dir);
    let c = connect(&broker);
    let s = session(&c, AckMode::Client);
    let consumer = consumer(&s, &Destination::queue(QUEUE));
    let left = drain(&consumer, SHORT).iter().map(|t| t.parse().unwrap()).collect();
    c.close();
    broker.shutdown();
    left
}

/// Runs the child until it has printed `kill_after` messages, kills it, and returns the
/// last message it printed.
fn run_child(dir: &std::path::Path, mode: &str, kill_after: usize) -> Option<usize> {
    let dir_text = dir.to_str().unwrap();
    let mut child = Child::spawn("auto_ack_child", &[(CHILD_DIR, dir_text), (CHILD_MODE, mode)]);
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut got = 0;
    let mut last = None;
    while got < kill_after {
        match child.lines.recv_timeout(Duration::from_millis(100)) {
            Ok(line) => {
                if let Some(k) = line.strip_prefix("GOT ") {
                    last = Some(k.parse().unwrap());
                    got += 1;
                }
            }
            Err(_) => {
                if Instant::now() > deadline || child.process.try_wait().unwrap().is_some() {
                    child.kill();
                    panic!("the child stopped or stalled after {got} messages");
                }
            }
        }
    }
    // A line the child printed before the kill is a message it was handed.
    for line in child.kill() {
        if let Some(k) = line.strip_prefix("GOT ") {
            last = Some(k.parse().unwrap());
        }
    }
    last
}

/// Kills a draining child in `mode` at several moments; after each, what is left must be
/// the backlog's tail from no earlier than `window` messages before the last one handed
/// out.
fn crash_rounds(mode: &str, window: usize, kill_points: &[usize]) {
    for &kill_after in kill_points {
        let dir = TempDir::new(&format!("ack-crash-{mode}"));
        fill(dir.path());
        let last = run_child(dir.path(), mode, kill_after).expect("the child received something");
        let left = recovered(dir.path());
        let first_left = left.first().copied().unwrap_or(BACKLOG);
        assert_eq!(
            left,
            (first_left..BACKLOG).collect::<Vec<_>>(),
            "{mode}: nothing is lost or reordered: what is left is a contiguous tail (killed after {last})"
        );
        assert!(
            first_left + window >= last,
            "{mode}: {} messages handed out before the kill came back (last handed out {last}, first left {first_left}); at most {window} may",
            last + 1 - first_left.min(last + 1)
        );
        // The child cannot have been handed more than one message beyond the last it printed.
        assert!(first_left <= last + 2, "{mode}: messages never handed out are gone (last {last}, first left {first_left})");
    }
}

#[test]
fn auto_acknowledge_after_kill_9_returns_at_most_the_last_message_handed_out() {
    // `last` itself may come back: its acknowledgement was being recorded.
    crash_rounds("auto", 0, &[1, 37, 400]);
}

#[test]
fn dups_ok_after_kill_9_returns_at_most_one_batch() {
    crash_rounds("dups", DUPS_OK_BATCH, &[5, 250, 700]);
}

/// Closing the session makes every acknowledgement durable in both modes: a restart
/// returns nothing that was received.
#[test]
fn closed_sessions_leave_nothing_received_behind() {
    for mode in [AckMode::Auto, AckMode::DupsOk] {
        let dir = TempDir::new("ack-close");
        fill(dir.path());
        let broker = open_broker(dir.path());
        let c = connect(&broker);
        let s = session(&c, mode);
        let consumer = consumer(&s, &Destination::queue(QUEUE));
        for k in 0..(DUPS_OK_BATCH + 7) {
            let d = consumer.receive_timeout(WAIT).unwrap().unwrap();
            assert_eq!(d.text_body(), Some(k.to_string().as_str()));
        }
        s.close();
        c.close();
        broker.shutdown();
        let left = recovered(dir.path());
        assert_eq!(left.first().copied(), Some(DUPS_OK_BATCH + 7), "{mode:?}");
        assert_eq!(left.len(), BACKLOG - DUPS_OK_BATCH - 7, "{mode:?}");
    }
}

/// DUPS_OK: recover() does not redeliver what was received (the batch is acknowledged,
/// not returned), and the acknowledgements waiting in a batch do not leak to other
/// consumers.
#[test]
fn dups_ok_recover_keeps_received_messages_received() {
    let dir = TempDir::new("ack-recover");
    let broker = open_broker(dir.path());
    let c = connect(&broker);
    let s = session(&c, AckMode::DupsOk);
    let q = Destination::queue("dups.recover");
    send_texts(&s, &q, &["a", "b", "c"]);
    let consumer = s.create_consumer(&q, &ConsumerOptions { prefetch: Some(0), ..ConsumerOptions::default() }).unwrap();
    assert_eq!(consumer.receive_timeout(WAIT).unwrap().unwrap().text_body(), Some("a"));
    s.recover().unwrap();
    assert_eq!(consumer.receive_timeout(WAIT).unwrap().unwrap().text_body(), Some("b"));
    c.close();
    broker.shutdown();
    let broker = open_broker(dir.path());
    let c = connect(&broker);
    let s = session(&c, AckMode::Client);
    assert_eq!(drain(&consumer_of(&s, &q), SHORT), vec!["c".to_owned()]);
    c.close();
    broker.shutdown();
}

fn consumer_of(s: &herald_core::client::Session, q: &Destination) -> herald_core::client::Consumer {
    s.create_consumer(q, &ConsumerOptions::default()).unwrap()
}
