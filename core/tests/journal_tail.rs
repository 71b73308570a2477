//! Paging with a tail: beyond the memory budget a queue's (or durable subscription's)
//! newest messages live only in the journal and are read back in arrival order. These
//! tests use a budget of a few dozen messages and backlogs of thousands.

mod journal_support;

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use herald_core::client::{AckMode, ConsumerOptions, SendOptions, SubscriptionOptions};
use herald_core::journal::{SqliteJournal, SqliteOptions};
use herald_core::{Broker, BrokerConfig, DeliveryMode, Destination, Message};
use journal_support::*;

/// About forty 1 KiB messages.
const BUDGET: usize = 64 << 10;
const BODY: usize = 1024;
/// The most one such message costs resident, as the budget counts it.
const RESIDENT: usize = BODY + 512;
/// Concurrent senders may overshoot the budget by a message each; a starving consumer
/// reads one more back.
const SLACK: usize = 16 * RESIDENT;
/// Received but not yet acknowledged messages stay resident beyond the budget: a
/// DUPS_OK batch, or a transacted consumer's 100 uncommitted receipts.
const HELD: usize = 100 * RESIDENT;

fn config(dir: &Path) -> BrokerConfig {
    let journal = SqliteJournal::open(dir, &SqliteOptions::default()).unwrap();
    BrokerConfig { journal: Box::new(journal), memory_budget: BUDGET, ..BrokerConfig::default() }
}

fn tail_broker(dir: &Path) -> Broker {
    Broker::start(config(dir)).unwrap()
}

fn body(n: usize) -> String {
    let head = format!("message {n} ");
    format!("{head}{}", ".".repeat(BODY - head.len()))
}

fn depth(broker: &Broker, store: &str) -> usize {
    broker.stats().iter().find(|s| s.store == store).map_or(0, |s| s.depth)
}

/// Sends `range` to `dest` with property `n`, in transactions of 50 messages.
fn send_range(broker: &Broker, dest: &Destination, range: std::ops::Range<usize>, mode: DeliveryMode) {
    send_range_within(broker, dest, range, mode, BUDGET + SLACK)
}

/// Like `send_range`, checking that at most `bound` bytes are resident after each commit.
fn send_range_within(broker: &Broker, dest: &Destination, range: std::ops::Range<usize>, mode: DeliveryMode, bound: usize) {
    let c = connect(broker);
    let s = session(&c, AckMode::Transacted);
    let mut p = s.create_producer(Some(dest.clone())).unwrap();
    p.set_options(SendOptions { delivery_mode: mode, ..SendOptions::default() }).unwrap();
    for n in range {
        let mut m = Message::text(body(n));
        m.set_property("n", n as i64).unwrap();
        p.send(m).unwrap();
        if n % 50 == 49 {
            s.commit().unwrap();
            assert!(broker.memory_used() <= bound, "{} bytes resident after message {n}", broker.memory_used());
        }
    }
    s.commit().unwrap();
    c.close();
}

/// Commits a transacted consumer's session every hundred messages.
fn commit_every_100(s: &herald_core::client::Session, received: usize) {
    if received % 100 == 99 {
        s.commit().unwrap();
    }
}

#[test]
fn concurrent_producers_and_a_consumer_see_every_message_once_in_producer_order() {
    let dir = TempDir::new("tail-concurrent");
    let queue = Destination::queue("busy");
    let broker = tail_broker(dir.path());
    const PRODUCERS: usize = 4;
    const EACH: usize = 500; // 2000 messages, about 50 times the budget
    let consumer_broker = broker.clone();
    let consumer_queue = queue.clone();
    // The consumer starts while the backlog builds, so messages pass through the tail
    // while producers keep adding to it.
    let reader = std::thread::spawn(move || {
        let c = connect(&consumer_broker);
        let s = session(&c, AckMode::DupsOk);
        let receiver = consumer(&s, &consumer_queue);
        let mut next: HashMap<i64, i64> = HashMap::new();
        let mut got = 0;
        while got < PRODUCERS * EACH {
            let d = receiver
                .receive_timeout(Duration::from_secs(20))
                .unwrap()
                .unwrap_or_else(|| panic!("only {got} messages arrived"));
            let producer = d.long_property("producer").unwrap();
            let n = d.long_property("n").unwrap();
            let expected = next.entry(producer).or_insert(0);
            assert_eq!(n, *expected, "producer {producer}: out of order or duplicated");
            assert_eq!(d.text_body(), Some(body(n as usize).as_str()));
            *expected += 1;
            got += 1;
            assert!(consumer_broker.memory_used() <= BUDGET + SLACK + HELD, "{} bytes resident", consumer_broker.memory_used());
        }
        assert!(receiver.receive_timeout(SHORT).unwrap().is_none(), "a message arrived twice");
        c.close();
    });
    let senders: Vec<_> = (0..PRODUCERS)
        .map(|producer| {
            let broker = broker.clone();
            let queue = queue.clone();
            std::thread::spawn(move || {
                let c = connect(&broker);
                let s = session(&c, AckMode::Auto);
                let p = s.create_producer(Some(queue.clone())).unwrap();
                for n in 0..EACH {
                    let mut m = Message::text(body(n));
                    m.set_property("producer", producer as i64).unwrap();
                    m.set_property("n", n as i64).unwrap();
                    p.send(m).unwrap();
                }
                c.close();
            })
        })
        .collect();
    for t in senders {
        t.join().unwrap();
    }
    reader.join().unwrap();
    assert_eq!(depth(&broker, "queue:busy"), 0);
    assert_eq!(broker.memory_used(), 0, "every resident message is released once consumed");
}

#[test]
fn the_tail_counts_in_the_depth_and_a_browser_sees_all_of_it_without_consuming() {
    let dir = TempDir::new("tail-browse");
    let queue = Destination::queue("deep");
    let broker = tail_broker(dir.path());
    let total = 2000;
    send_range(&broker, &queue, 0..total, DeliveryMode::Persistent);
    assert_eq!(depth(&broker, "queue:deep"), total, "the depth counts the tail");
    let c = connect(&broker);
    let s = session(&c, AckMode::Auto);
    let all: Vec<i64> = s.create_browser(&queue, None).unwrap().map(|d| d.long_property("n").unwrap()).collect();
    assert_eq!(all, (0..total as i64).collect::<Vec<_>>());
    let some: Vec<(i64, String)> = s
        .create_browser(&queue, Some("n < 5 OR n >= 1995"))
        .unwrap()
        .map(|d| (d.long_property("n").unwrap(), d.text_body().unwrap().to_owned()))
        .collect();
    let expected: Vec<usize> = (0..5).chain(1995..total).collect();
    assert_eq!(some.iter().map(|(n, _)| *n as usize).collect::<Vec<_>>(), expected);
    for (n, text) in &some {
        assert_eq!(*text, body(*n as usize));
    }
    assert_eq!(depth(&broker, "queue:deep"), total, "browsing consumed nothing");
    // Half consumed: a new browser starts at the first message left.
    let tx = session(&c, AckMode::Transacted);
    let receiver = consumer(&tx, &queue);
    for n in 0..total / 2 {
        assert_eq!(receiver.receive_timeout(WAIT).unwrap().unwrap().long_property("n").unwrap(), n as i64);
        commit_every_100(&tx, n);
    }
    tx.commit().unwrap();
    receiver.close();
    let rest: Vec<i64> = s.create_browser(&queue, None).unwrap().map(|d| d.long_property("n").unwrap()).collect();
    assert_eq!(rest, (total as i64 / 2..total as i64).collect::<Vec<_>>());
}

#[test]
fn a_selector_matching_only_messages_deep_in_the_tail_gets_them_without_starving() {
    let dir = TempDir::new("tail-selector");
    let queue = Destination::queue("mixed");
    let broker = tail_broker(dir.path());
    let total = 3000;
    send_range(&broker, &queue, 0..total, DeliveryMode::Persistent);
    let c = connect(&broker);
    let s = session(&c, AckMode::Auto);
    // Nothing resident matches: the wanted messages are the last ten of 3000.
    let picky = s
        .create_consumer(&queue, &ConsumerOptions { selector: Some("n >= 2990".into()), ..ConsumerOptions::default() })
        .unwrap();
    for n in 2990..total {
        let d = picky.receive_timeout(WAIT).unwrap().unwrap_or_else(|| panic!("message {n} did not arrive"));
        assert_eq!(d.long_property("n").unwrap(), n as i64);
        assert_eq!(d.text_body(), Some(body(n).as_str()));
    }
    assert!(picky.receive_timeout(SHORT).unwrap().is_none());
    assert_eq!(depth(&broker, "queue:mixed"), total - 10);
    picky.close();
    // Everyone else gets the rest, in order, and none of the ten again.
    let tx = session(&c, AckMode::Transacted);
    let receiver = consumer(&tx, &queue);
    for n in 0..2990 {
        let d = receiver.receive_timeout(WAIT).unwrap().unwrap_or_else(|| panic!("message {n} did not arrive"));
        assert_eq!(d.long_property("n").unwrap(), n as i64, "out of order");
        commit_every_100(&tx, n);
    }
    tx.commit().unwrap();
    assert!(receiver.receive_timeout(SHORT).unwrap().is_none(), "a message arrived twice");
    assert_eq!(depth(&broker, "queue:mixed"), 0);
}

#[test]
fn a_restart_keeps_the_tail_in_the_journal_and_drains_it_in_order() {
    let dir = TempDir::new("tail-restart");
    let queue = Destination::queue("kept");
    let total = 3000;
    {
        let broker = tail_broker(dir.path());
        send_range(&broker, &queue, 0..total, DeliveryMode::Persistent);
        // Paged NON_PERSISTENT messages do not survive the restart, wherever they sit.
        send_range(&broker, &queue, total..total + 100, DeliveryMode::NonPersistent);
        // Some of the resident head was delivered and not acknowledged.
        let c = connect(&broker);
        let s = session(&c, AckMode::Client);
        let receiver = s
            .create_consumer(&queue, &ConsumerOptions { prefetch: Some(1), ..ConsumerOptions::default() })
            .unwrap();
        for n in 0..3 {
            assert_eq!(receiver.receive_timeout(WAIT).unwrap().unwrap().long_property("n").unwrap(), n);
        }
        broker.shutdown();
    }
    let broker = tail_broker(dir.path());
    assert!(broker.memory_used() <= BUDGET, "{} bytes resident after recovery", broker.memory_used());
    assert_eq!(depth(&broker, "queue:kept"), total + 100, "the depth counts the tail (stale transients until read)");
    let c = connect(&broker);
    let s = session(&c, AckMode::Transacted);
    let receiver = consumer(&s, &queue);
    for n in 0..total {
        let d = receiver.receive_timeout(WAIT).unwrap().unwrap_or_else(|| panic!("message {n} did not arrive"));
        assert_eq!(d.long_property("n").unwrap(), n as i64, "out of order");
        assert_eq!(d.text_body(), Some(body(n).as_str()));
        assert_eq!(d.redelivered(), n < 3, "message {n}");
        commit_every_100(&s, n);
        if n % 100 == 99 {
            // Received messages stay resident until committed; after a commit only
            // the budget's worth is.
            assert!(broker.memory_used() <= BUDGET + SLACK, "{} bytes resident", broker.memory_used());
        }
    }
    assert!(receiver.receive_timeout(SHORT).unwrap().is_none(), "a message arrived twice or a transient survived");
    s.commit().unwrap();
    assert_eq!(depth(&broker, "queue:kept"), 0);
    c.close();
    broker.shutdown();
    let broker = tail_broker(dir.path());
    assert_eq!(depth(&broker, "queue:kept"), 0, "nothing is left in the journal");
}

#[test]
fn priority_orders_the_resident_messages() {
    let dir = TempDir::new("tail-priority");
    let queue = Destination::queue("urgent");
    let broker = tail_broker(dir.path());
    let c = connect(&broker);
    let s = session(&c, AckMode::Auto);
    let mut p = s.create_producer(Some(queue.clone())).unwrap();
    // Ten of each fit the budget easily.
    for (n, priority) in (0..20).map(|n| (n, if n < 10 { 1 } else { 8 })) {
        p.set_options(SendOptions { priority, ..SendOptions::default() }).unwrap();
        let mut m = Message::text(body(n));
        m.set_property("n", n as i64).unwrap();
        p.send(m).unwrap();
    }
    let receiver = consumer(&s, &queue);
    let order: Vec<i64> = (0..20).map(|_| receiver.receive_timeout(WAIT).unwrap().unwrap().long_property("n").unwrap()).collect();
    assert_eq!(order, (10..20).chain(0..10).collect::<Vec<i64>>());
}

#[test]
fn each_durable_subscription_has_its_own_tail() {
    let dir = TempDir::new("tail-topic");
    let topic = Destination::topic("news");
    let broker = tail_broker(dir.path());
    let c = connect_as(&broker, Some("reader"));
    let s = session(&c, AckMode::Transacted);
    let durable = |name: &str| ConsumerOptions {
        subscription: Some(SubscriptionOptions { name: name.into(), durable: true, shared: false }),
        ..ConsumerOptions::default()
    };
    let fast = s.create_consumer(&topic, &durable("fast")).unwrap();
    let slow = s.create_consumer(&topic, &durable("slow")).unwrap();
    slow.close();
    let total = 1500;
    let publisher = {
        let broker = broker.clone();
        let topic = topic.clone();
        let bound = BUDGET + SLACK + HELD;
        std::thread::spawn(move || send_range_within(&broker, &topic, 0..total, DeliveryMode::Persistent, bound))
    };
    // One subscription keeps up while the other's backlog goes to its tail.
    for n in 0..total {
        let d = fast.receive_timeout(WAIT).unwrap().unwrap_or_else(|| panic!("message {n} did not arrive"));
        assert_eq!(d.long_property("n").unwrap(), n as i64);
        commit_every_100(&s, n);
    }
    s.commit().unwrap();
    publisher.join().unwrap();
    let slow_depth = broker.stats().iter().find(|st| st.store.ends_with(":slow")).map(|st| st.depth);
    assert_eq!(slow_depth, Some(total));
    let slow = s.create_consumer(&topic, &durable("slow")).unwrap();
    for n in 0..total {
        let d = slow.receive_timeout(WAIT).unwrap().unwrap_or_else(|| panic!("message {n} did not arrive"));
        assert_eq!((d.long_property("n").unwrap(), d.text_body()), (n as i64, Some(body(n).as_str())));
        commit_every_100(&s, n);
    }
    for consumer in [&fast, &slow] {
        assert!(consumer.receive_timeout(SHORT).unwrap().is_none(), "a message arrived twice");
    }
    s.commit().unwrap();
    c.close();
    assert_eq!(broker.memory_used(), 0);
}

#[test]
fn expired_tail_messages_go_to_the_expiry_queue_when_read_back() {
    let dir = TempDir::new("tail-expiry");
    let queue = Destination::queue("perishable");
    let broker =
        Broker::start(BrokerConfig { expiry_queue: Some("Expired".into()), ..config(dir.path()) }).unwrap();
    let c = connect(&broker);
    let sender = session(&c, AckMode::Transacted);
    let mut p = sender.create_producer(Some(queue.clone())).unwrap();
    let total = 400;
    for n in 0..total {
        // Every other message lives 300 ms.
        let ttl = if n % 2 == 0 { 300 } else { 0 };
        p.set_options(SendOptions { time_to_live: ttl, ..SendOptions::default() }).unwrap();
        let mut m = Message::text(body(n));
        m.set_property("n", n as i64).unwrap();
        p.send(m).unwrap();
        if n % 50 == 49 {
            sender.commit().unwrap();
        }
    }
    std::thread::sleep(Duration::from_millis(400));
    let s = session(&c, AckMode::Auto);
    let receiver = consumer(&s, &queue);
    for n in (1..total).step_by(2) {
        let d = receiver.receive_timeout(WAIT).unwrap().unwrap_or_else(|| panic!("message {n} did not arrive"));
        assert_eq!(d.long_property("n").unwrap(), n as i64);
    }
    assert!(receiver.receive_timeout(SHORT).unwrap().is_none());
    let expired = consumer(&s, &Destination::queue("Expired"));
    let mut moved: Vec<i64> = Vec::new();
    while let Some(d) = expired.receive_timeout(SHORT).unwrap() {
        moved.push(d.long_property("n").unwrap());
    }
    moved.sort_unstable();
    assert_eq!(moved, (0..total as i64).step_by(2).collect::<Vec<_>>());
}

#[test]
fn a_waiting_selector_consumer_gets_a_match_that_lands_in_the_tail() {
    let dir = TempDir::new("tail-wait");
    let queue = Destination::queue("haystack");
    // Room for well over a thousand resident messages, so that a new one in the tail
    // does not make the queue read its tail back by itself.
    let budget = 2 << 20;
    let broker = Broker::start(BrokerConfig { memory_budget: budget, ..config(dir.path()) }).unwrap();
    let hay = budget / RESIDENT + 300;
    send_range_within(&broker, &queue, 0..hay, DeliveryMode::Persistent, budget + SLACK);
    let waiting = connect(&broker);
    let waiting_session = session(&waiting, AckMode::Auto);
    let needle = waiting_session
        .create_consumer(&queue, &ConsumerOptions { selector: Some("needle = TRUE".into()), ..ConsumerOptions::default() })
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    // Blocked in receive() without a deadline: only being told can wake it.
    let waiter = std::thread::spawn(move || {
        if let Ok(Some(d)) = needle.receive() {
            let _ = tx.send((d.long_property("n").unwrap(), d.text_body().unwrap().to_owned()));
        }
    });
    std::thread::sleep(Duration::from_millis(300));
    let c = connect(&broker);
    let s = session(&c, AckMode::Auto);
    let p = s.create_producer(Some(queue.clone())).unwrap();
    let mut m = Message::text(body(hay));
    m.set_property("n", hay as i64).unwrap();
    m.set_property("needle", true).unwrap();
    p.send(m).unwrap();
    let got = rx.recv_timeout(Duration::from_secs(10));
    waiting.close();
    waiter.join().unwrap();
    assert_eq!(got.expect("the needle did not arrive"), (hay as i64, body(hay)));
    assert_eq!(depth(&broker, "queue:haystack"), hay);
}
