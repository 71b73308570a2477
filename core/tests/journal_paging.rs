//! Paging: with a memory budget far smaller than the backlog, messages beyond the budget
//! live only in the journal; every message still arrives exactly once, in order,
//! with its body, to consumers, browsers and the dead-letter queue, and a restart
//! recovers the backlog within the budget.

mod journal_support;

use std::path::Path;

use herald_core::client::{AckMode, ConsumerOptions, SendOptions, SubscriptionOptions};
use herald_core::journal::{SqliteJournal, SqliteOptions};
use herald_core::{Broker, BrokerConfig, DeliveryMode, Destination, Message};
use journal_support::*;

const BUDGET: usize = 64 << 10;
const BODY: usize = 1024;
/// What one such message costs resident, as the budget counts it (body, headers,
/// properties, queue entry), at most.
const RESIDENT: usize = BODY + 512;
/// The budget may be overshot by about one message per concurrent sender.
const SLACK: usize = 4 * RESIDENT;

fn paging_broker(dir: &Path, max_deliveries: u32) -> Broker {
    let journal = SqliteJournal::open(dir, &SqliteOptions::default()).unwrap();
    Broker::start(BrokerConfig { journal: Box::new(journal), memory_budget: BUDGET, max_deliveries, ..BrokerConfig::default() })
        .unwrap()
}

/// A 1 KiB text body that names its message.
fn body(n: usize) -> String {
    let head = format!("message {n} ");
    format!("{head}{}", ".".repeat(BODY - head.len()))
}

fn mode(n: usize) -> DeliveryMode {
    if n % 3 == 0 {
        DeliveryMode::NonPersistent
    } else {
        DeliveryMode::Persistent
    }
}

/// Sends messages `range` to `dest`, every third NON_PERSISTENT, each with property `n`,
/// checking that the resident bodies stay within the budget.
fn send_backlog(broker: &Broker, dest: &Destination, range: std::ops::Range<usize>) {
    send_backlog_within(broker, dest, range, BUDGET + SLACK)
}

fn send_backlog_within(broker: &Broker, dest: &Destination, range: std::ops::Range<usize>, bound: usize) {
    let c = connect(broker);
    let s = session(&c, AckMode::Auto);
    let mut p = s.create_producer(Some(dest.clone())).unwrap();
    for n in range {
        p.set_options(SendOptions { delivery_mode: mode(n), ..SendOptions::default() }).unwrap();
        let mut m = Message::text(body(n));
        m.set_property("n", n as i64).unwrap();
        p.send(m).unwrap();
        assert!(broker.memory_used() <= bound, "{} body bytes resident after message {n}", broker.memory_used());
    }
    c.close();
}

#[test]
fn a_backlog_far_beyond_the_budget_drains_completely_and_in_order() {
    let dir = TempDir::new("paging-drain");
    let queue = Destination::queue("backlog");
    let broker = paging_broker(dir.path(), 10);
    let total = 3000; // about 3 MiB of bodies against a 64 KiB budget
    send_backlog(&broker, &queue, 0..total);
    assert!(broker.memory_used() >= BUDGET - SLACK, "the budget should be in use: {}", broker.memory_used());

    let c = connect(&broker);
    let s = session(&c, AckMode::Auto);
    // A browser sees paged bodies, and selectors work on paged messages' properties.
    let browsed: Vec<(i64, String)> = s
        .create_browser(&queue, Some("n >= 2990 OR n < 3"))
        .unwrap()
        .map(|d| (d.long_property("n").unwrap(), d.text_body().unwrap().to_owned()))
        .collect();
    let expected: Vec<usize> = (0..3).chain(2990..total).collect();
    assert_eq!(browsed.iter().map(|(n, _)| *n as usize).collect::<Vec<_>>(), expected);
    for (n, text) in &browsed {
        assert_eq!(*text, body(*n as usize));
    }

    let receiver = consumer(&s, &queue);
    for n in 0..total {
        let d = receiver.receive_timeout(WAIT).unwrap().unwrap_or_else(|| panic!("message {n} did not arrive"));
        assert_eq!(d.long_property("n").unwrap(), n as i64, "out of order");
        assert_eq!(d.text_body(), Some(body(n).as_str()), "message {n} lost its body");
        assert_eq!(d.delivery_mode, mode(n));
        assert!(broker.memory_used() <= BUDGET + SLACK);
    }
    assert!(receiver.receive_timeout(SHORT).unwrap().is_none(), "a message arrived twice");
    c.close();
    assert_eq!(broker.memory_used(), 0, "every resident body is released once consumed");
    broker.shutdown();

    // Everything was acknowledged, paged NON_PERSISTENT messages included: nothing is left.
    let broker = paging_broker(dir.path(), 10);
    let c = connect(&broker);
    let s = session(&c, AckMode::Auto);
    assert!(drain(&consumer(&s, &queue), SHORT).is_empty());
}

#[test]
fn a_restart_recovers_a_backlog_within_the_budget() {
    let dir = TempDir::new("paging-restart");
    let queue = Destination::queue("backlog");
    let total = 2000;
    {
        let broker = paging_broker(dir.path(), 10);
        send_backlog(&broker, &queue, 0..total);
        broker.shutdown();
    }
    let broker = paging_broker(dir.path(), 10);
    assert!(broker.memory_used() <= BUDGET, "{} body bytes resident after recovery", broker.memory_used());
    let c = connect(&broker);
    let s = session(&c, AckMode::Auto);
    let receiver = consumer(&s, &queue);
    // NON_PERSISTENT messages were journaled only to page them: they do not come back.
    for n in (0..total).filter(|n| mode(*n) == DeliveryMode::Persistent) {
        let d = receiver.receive_timeout(WAIT).unwrap().unwrap_or_else(|| panic!("message {n} did not arrive"));
        assert_eq!(d.long_property("n").unwrap(), n as i64, "out of order");
        assert_eq!(d.text_body(), Some(body(n).as_str()), "message {n} lost its body");
    }
    assert!(receiver.receive_timeout(SHORT).unwrap().is_none(), "a message arrived twice");
    c.close();
    broker.shutdown();
    let broker = paging_broker(dir.path(), 10);
    assert_eq!(broker.stats().iter().map(|s| s.depth).sum::<usize>(), 0);
}

#[test]
fn paged_messages_keep_their_bodies_through_rollback_and_dead_lettering() {
    let dir = TempDir::new("paging-dlq");
    let queue = Destination::queue("work");
    let broker = paging_broker(dir.path(), 2);
    let total = 300;
    send_backlog(&broker, &queue, 0..total);
    let c = connect(&broker);
    let s = session(&c, AckMode::Transacted);
    let receiver = consumer(&s, &queue);
    // Two failed attempts at the whole backlog: the second one's rollback dead-letters it.
    for attempt in 1..=2 {
        for n in 0..total {
            let d = receiver.receive_timeout(WAIT).unwrap().unwrap_or_else(|| panic!("message {n} did not arrive"));
            assert_eq!(d.long_property("n").unwrap(), n as i64);
            assert_eq!(d.delivery_count(), attempt);
            assert_eq!(d.text_body(), Some(body(n).as_str()));
        }
        s.rollback().unwrap();
    }
    receiver.close();
    let dlq = s.create_consumer(&Destination::queue("DLQ"), &Default::default()).unwrap();
    for n in 0..total {
        let d = dlq.receive_timeout(WAIT).unwrap().unwrap_or_else(|| panic!("dead letter {n} did not arrive"));
        assert_eq!(d.long_property("n").unwrap(), n as i64);
        assert_eq!(d.text_body(), Some(body(n).as_str()), "dead letter {n} lost its body");
    }
    s.commit().unwrap();
    assert!(broker.memory_used() <= BUDGET + SLACK);
}

#[test]
fn topic_subscribers_beyond_the_budget_get_every_body() {
    let dir = TempDir::new("paging-topic");
    let topic = Destination::topic("feed");
    let broker = paging_broker(dir.path(), 10);
    let c = connect_as(&broker, Some("reader"));
    let s = session(&c, AckMode::Auto);
    let durable = |name: &str, selector: Option<&str>| ConsumerOptions {
        selector: selector.map(str::to_owned),
        subscription: Some(SubscriptionOptions { name: name.into(), durable: true, shared: false }),
        ..ConsumerOptions::default()
    };
    // Durable subscriptions are paged (one with a selector on a property); a
    // non-durable one keeps its bodies in memory.
    let all = s.create_consumer(&topic, &durable("all", None)).unwrap();
    let even = s.create_consumer(&topic, &durable("even", Some("n / 2 * 2 = n"))).unwrap();
    let live = s.create_consumer(&topic, &ConsumerOptions::default()).unwrap();
    let total = 600;
    // The non-durable subscription holds every body until it is consumed.
    send_backlog_within(&broker, &topic, 0..total, BUDGET + SLACK + total * RESIDENT);
    for n in 0..total {
        let d = live.receive_timeout(WAIT).unwrap().unwrap_or_else(|| panic!("live message {n} did not arrive"));
        assert_eq!((d.long_property("n").unwrap(), d.text_body()), (n as i64, Some(body(n).as_str())));
    }
    assert!(broker.memory_used() <= BUDGET + SLACK, "{} body bytes resident", broker.memory_used());
    for n in 0..total {
        let d = all.receive_timeout(WAIT).unwrap().unwrap_or_else(|| panic!("message {n} did not arrive"));
        assert_eq!((d.long_property("n").unwrap(), d.text_body()), (n as i64, Some(body(n).as_str())));
    }
    for n in (0..total).step_by(2) {
        let d = even.receive_timeout(WAIT).unwrap().unwrap_or_else(|| panic!("even message {n} did not arrive"));
        assert_eq!((d.long_property("n").unwrap(), d.text_body()), (n as i64, Some(body(n).as_str())));
    }
    for consumer in [&all, &even, &live] {
        assert!(consumer.receive_timeout(SHORT).unwrap().is_none(), "a message arrived twice");
    }
    c.close();
    assert_eq!(broker.memory_used(), 0);
}

#[test]
fn a_full_disk_refuses_paged_non_persistent_sends_with_resource_allocation() {
    let dir = TempDir::new("paging-full");
    let options = SqliteOptions { max_size: Some(1 << 20), ..SqliteOptions::default() };
    let journal = SqliteJournal::open(dir.path(), &options).unwrap();
    let broker =
        Broker::start(BrokerConfig { journal: Box::new(journal), memory_budget: BUDGET, ..BrokerConfig::default() }).unwrap();
    let queue = Destination::queue("full");
    let c = connect(&broker);
    let s = session(&c, AckMode::Auto);
    let mut p = s.create_producer(Some(queue.clone())).unwrap();
    p.set_options(SendOptions { delivery_mode: DeliveryMode::NonPersistent, ..SendOptions::default() }).unwrap();
    // Memory holds 64 KiB of bodies and the disk 1 MiB: 2 MiB cannot all be accepted.
    let mut accepted = 0;
    let error = loop {
        assert!(accepted < 2048, "every send was accepted beyond both budgets");
        match p.send(Message::text(body(accepted))) {
            Ok(_) => accepted += 1,
            Err(e) => break e,
        }
    };
    assert_eq!(error.kind(), herald_core::ErrorKind::ResourceAllocation, "{error}");
    assert!(accepted > BUDGET / BODY, "only {accepted} accepted");
    // What was accepted is intact and in order.
    let receiver = consumer(&s, &queue);
    for n in 0..accepted {
        let d = receiver.receive_timeout(WAIT).unwrap().unwrap_or_else(|| panic!("message {n} did not arrive"));
        assert_eq!(d.text_body(), Some(body(n).as_str()));
    }
    assert!(receiver.receive_timeout(SHORT).unwrap().is_none());
}
