//! Flow control at the journal's size limit: with `on_full = fail` a send that does not
//! fit is refused at once; with `on_full = block` it waits until consumers free space
//! (or its timeout passes), while acknowledgements always go through.

mod journal_support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use herald_core::client::AckMode;
use herald_core::journal::{OnFull, SqliteOptions};
use herald_core::{Destination, ErrorKind, Message};
use journal_support::*;

/// 512 KiB of database and 16 KiB bodies: a few dozen messages fit.
const MAX_SIZE: u64 = 512 * 1024;
const BODY: usize = 16 * 1024;

fn body(n: usize) -> String {
    format!("{n}:{}", "z".repeat(BODY))
}

fn number(text: &str) -> usize {
    text.split_once(':').unwrap().0.parse().unwrap()
}

fn options(on_full: OnFull, block_timeout: Duration) -> SqliteOptions {
    SqliteOptions { max_size: Some(MAX_SIZE), on_full, block_timeout, ..SqliteOptions::default() }
}

/// Waits until `count` stops moving for a while, and returns it.
fn settled(count: &AtomicUsize) -> usize {
    let mut last = count.load(Ordering::SeqCst);
    let mut still_since = Instant::now();
    let give_up = Instant::now() + Duration::from_secs(30);
    while still_since.elapsed() < Duration::from_millis(500) && Instant::now() < give_up {
        thread::sleep(Duration::from_millis(20));
        let now = count.load(Ordering::SeqCst);
        if now != last {
            last = now;
            still_since = Instant::now();
        }
    }
    last
}

#[test]
fn fail_refuses_the_send_beyond_the_limit_and_keeps_every_earlier_message() {
    let dir = TempDir::new("flow-fail");
    let queue = Destination::queue("full");
    let broker = open_broker_with(dir.path(), &options(OnFull::Fail, Duration::from_secs(30)));
    let c = connect(&broker);
    let s = session(&c, AckMode::Auto);
    let p = s.create_producer(Some(queue.clone())).unwrap();
    let mut sent = 0;
    let error = loop {
        assert!(sent < 200, "the size limit was never reached");
        let began = Instant::now();
        match p.send(Message::text(body(sent))) {
            Ok(_) => sent += 1,
            Err(e) => {
                assert!(began.elapsed() < Duration::from_secs(5), "a refused send waited");
                break e;
            }
        }
    };
    assert_eq!(error.kind(), ErrorKind::ResourceAllocation, "{error}");
    assert!(error.message().contains("full"), "{error}");
    assert!(sent > 10, "only {sent} messages fitted");
    // A refused send keeps failing while the journal is full, and leaves nothing behind.
    assert_eq!(p.send(Message::text(body(sent))).unwrap_err().kind(), ErrorKind::ResourceAllocation);
    // Acknowledgements are written although the journal is full: everything accepted
    // arrives, in order, once.
    let consumer = consumer(&s, &queue);
    let got: Vec<usize> = drain(&consumer, SHORT).iter().map(|t| number(t)).collect();
    assert_eq!(got, (0..sent).collect::<Vec<_>>());
    // The space is free again.
    p.send(Message::text(body(sent))).unwrap();
    assert_eq!(number(consumer.receive_timeout(WAIT).unwrap().unwrap().text_body().unwrap()), sent);
    c.close();
    broker.shutdown();
}

/// A producer sends `total` messages into a journal that holds a fraction of them; it
/// must block rather than fail, and a consumer draining the queue lets it finish.
fn a_blocked_producer_finishes_as_a_consumer_drains(label: &str, mode: AckMode, per_commit: usize) {
    let total = 120;
    let dir = TempDir::new(label);
    let queue = Destination::queue("flow");
    let other = Destination::queue("other");
    let broker = open_broker_with(dir.path(), &options(OnFull::Block, Duration::from_secs(60)));
    let c = connect(&broker);
    // A message on another queue, consumed while the producer is blocked.
    send_texts(&session(&c, AckMode::Auto), &other, &["elsewhere"]);
    let sent = Arc::new(AtomicUsize::new(0));
    let producer = {
        let (queue, sent) = (queue.clone(), sent.clone());
        let s = session(&c, mode);
        thread::spawn(move || -> herald_core::Result<()> {
            let p = s.create_producer(Some(queue))?;
            for n in 0..total {
                p.send(Message::text(body(n)))?;
                if mode == AckMode::Transacted && (n + 1) % per_commit == 0 {
                    s.commit()?;
                }
                sent.fetch_add(1, Ordering::SeqCst);
            }
            if mode == AckMode::Transacted {
                s.commit()?;
            }
            Ok(())
        })
    };
    let stuck = settled(&sent);
    assert!(stuck < total, "the producer was never held back: the limit did not apply");
    assert!(stuck > 0, "nothing was sent before the journal filled");
    assert!(!producer.is_finished(), "the producer gave up: {:?}", producer.join());
    // The blocked producer holds up neither consumers of other queues nor their
    // acknowledgements.
    {
        let s = session(&c, AckMode::Client);
        let elsewhere = consumer(&s, &other).receive_timeout(WAIT).unwrap().expect("the other queue's message");
        assert_eq!(elsewhere.text_body(), Some("elsewhere"));
        let began = Instant::now();
        s.acknowledge().unwrap();
        assert!(began.elapsed() < Duration::from_secs(5), "an acknowledgement waited behind the blocked producer");
    }
    // Draining lets the producer go on; every message arrives exactly once, in order.
    let s = session(&c, AckMode::Auto);
    let receiver = consumer(&s, &queue);
    for n in 0..total {
        let got = receiver.receive_timeout(Duration::from_secs(20)).unwrap();
        let got = got.unwrap_or_else(|| panic!("message {n} did not arrive ({} sent)", sent.load(Ordering::SeqCst)));
        assert_eq!(number(got.text_body().unwrap()), n);
    }
    producer.join().unwrap().expect("a blocked send failed");
    assert!(receiver.receive_timeout(SHORT).unwrap().is_none(), "a message arrived twice");
    c.close();
    broker.shutdown();
}

#[test]
fn block_holds_a_producer_until_a_consumer_frees_space() {
    a_blocked_producer_finishes_as_a_consumer_drains("flow-block", AckMode::Auto, 1);
}

#[test]
fn block_holds_a_transaction_commit_until_a_consumer_frees_space() {
    a_blocked_producer_finishes_as_a_consumer_drains("flow-block-tx", AckMode::Transacted, 4);
}

#[test]
fn block_gives_up_after_its_timeout_with_resource_allocation() {
    let timeout = Duration::from_millis(300);
    let dir = TempDir::new("flow-timeout");
    let queue = Destination::queue("stuck");
    let broker = open_broker_with(dir.path(), &options(OnFull::Block, timeout));
    let c = connect(&broker);
    let s = session(&c, AckMode::Auto);
    let p = s.create_producer(Some(queue.clone())).unwrap();
    let mut sent = 0;
    let (error, waited) = loop {
        assert!(sent < 200, "the size limit was never reached");
        let began = Instant::now();
        match p.send(Message::text(body(sent))) {
            Ok(_) => sent += 1,
            Err(e) => break (e, began.elapsed()),
        }
    };
    assert_eq!(error.kind(), ErrorKind::ResourceAllocation, "{error}");
    assert!(error.message().contains("block timeout"), "{error}");
    assert!(waited >= timeout, "the send failed after {waited:?}, before its timeout");
    // Nothing of the failed send was kept; everything before it is there.
    let consumer = consumer(&s, &queue);
    let got: Vec<usize> = drain(&consumer, SHORT).iter().map(|t| number(t)).collect();
    assert_eq!(got, (0..sent).collect::<Vec<_>>());
    p.send(Message::text(body(sent))).unwrap();
    c.close();
    broker.shutdown();
}
