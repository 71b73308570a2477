//! The SQLite journal across restarts: what was sent and not acknowledged comes back,
//! in order, with its delivery count; nothing acknowledged or rolled back does.

mod journal_support;

use std::time::{Duration, Instant};

use herald_core::client::{vm_shutdown, AckMode, ConnectOptions, Connection, ConsumerOptions, SendOptions, SubscriptionOptions};
use herald_core::{DeliveryMode, Destination, Message};
use journal_support::*;

#[test]
fn queue_messages_survive_a_restart_in_order() {
    let dir = TempDir::new("restart-queue");
    let queue = Destination::queue("orders");
    {
        let broker = open_broker(dir.path());
        let c = connect(&broker);
        let s = session(&c, AckMode::Auto);
        send_texts(&s, &queue, &["one", "two", "three", "four"]);
        let mut p = s.create_producer(Some(queue.clone())).unwrap();
        p.set_options(SendOptions { delivery_mode: DeliveryMode::NonPersistent, ..SendOptions::default() }).unwrap();
        p.send(Message::text("not kept")).unwrap();
        // Acknowledge the first one: it must not come back.
        let first = consumer(&s, &queue).receive_timeout(WAIT).unwrap().unwrap();
        assert_eq!(first.text_body(), Some("one"));
        c.close();
        broker.shutdown();
    }
    let broker = open_broker(dir.path());
    let c = connect(&broker);
    let s = session(&c, AckMode::Auto);
    assert_eq!(drain(&consumer(&s, &queue), SHORT), ["two", "three", "four"]);
    c.close();
    broker.shutdown();
    // Everything was acknowledged: a third start finds nothing.
    let broker = open_broker(dir.path());
    let c = connect(&broker);
    let s = session(&c, AckMode::Auto);
    assert!(drain(&consumer(&s, &queue), SHORT).is_empty());
}

#[test]
fn priorities_and_several_queues_are_restored() {
    let dir = TempDir::new("restart-priority");
    let (a, b) = (Destination::queue("a"), Destination::queue("b"));
    {
        let broker = open_broker(dir.path());
        let c = connect(&broker);
        let s = session(&c, AckMode::Auto);
        let mut p = s.create_producer(None).unwrap();
        for (dest, text, priority) in [(&a, "a-low", 1), (&b, "b-1", 4), (&a, "a-high", 9), (&b, "b-2", 4)] {
            p.set_options(SendOptions { priority, ..SendOptions::default() }).unwrap();
            p.send_with(Some(dest), Message::text(text), &p.options().clone()).unwrap();
        }
        broker.shutdown();
    }
    let broker = open_broker(dir.path());
    let c = connect(&broker);
    let s = session(&c, AckMode::Auto);
    assert_eq!(drain(&consumer(&s, &a), SHORT), ["a-high", "a-low"]);
    assert_eq!(drain(&consumer(&s, &b), SHORT), ["b-1", "b-2"]);
}

#[test]
fn durable_subscriptions_and_their_messages_survive_a_restart() {
    let dir = TempDir::new("restart-durable");
    let topic = Destination::topic("prices");
    let sub = |name: &str, selector: Option<&str>| ConsumerOptions {
        selector: selector.map(str::to_owned),
        subscription: Some(SubscriptionOptions { name: name.into(), durable: true, shared: false }),
        ..ConsumerOptions::default()
    };
    {
        let broker = open_broker(dir.path());
        let c = connect_as(&broker, Some("app"));
        let s = session(&c, AckMode::Auto);
        // Subscribe, then go away: the subscription keeps collecting.
        s.create_consumer(&topic, &sub("cheap", Some("price < 10"))).unwrap().close();
        s.create_consumer(&topic, &sub("all", None)).unwrap().close();
        s.create_consumer(&topic, &sub("gone", None)).unwrap().close();
        s.unsubscribe("gone").unwrap();
        let p = s.create_producer(Some(topic.clone())).unwrap();
        for (text, price) in [("apple", 5), ("caviar", 500), ("bread", 2)] {
            let mut m = Message::text(text);
            m.set_property("price", price).unwrap();
            p.send(m).unwrap();
        }
        c.close();
        broker.shutdown();
    }
    let broker = open_broker(dir.path());
    let c = connect_as(&broker, Some("app"));
    let s = session(&c, AckMode::Auto);
    assert_eq!(drain(&s.create_consumer(&topic, &sub("cheap", Some("price < 10"))).unwrap(), SHORT), ["apple", "bread"]);
    assert_eq!(drain(&s.create_consumer(&topic, &sub("all", None)).unwrap(), SHORT), ["apple", "caviar", "bread"]);
    // The unsubscribed one did not come back.
    assert!(s.unsubscribe("gone").is_err());
    // The recovered subscription keeps its selector for new messages.
    let cheap = s.create_consumer(&topic, &sub("cheap", Some("price < 10"))).unwrap();
    let p = s.create_producer(Some(topic.clone())).unwrap();
    let mut m = Message::text("truffle");
    m.set_property("price", 900).unwrap();
    p.send(m).unwrap();
    assert!(cheap.receive_timeout(SHORT).unwrap().is_none());
}

#[test]
fn transactions_are_all_or_nothing_across_a_restart() {
    let dir = TempDir::new("restart-tx");
    let (input, output) = (Destination::queue("in"), Destination::queue("out"));
    {
        let broker = open_broker(dir.path());
        let c = connect(&broker);
        let auto = session(&c, AckMode::Auto);
        send_texts(&auto, &input, &["job-1", "job-2"]);
        let tx = session(&c, AckMode::Transacted);
        let p = tx.create_producer(Some(output.clone())).unwrap();
        let jobs = consumer(&tx, &input);
        // Committed: consume job-1 and produce its result, together.
        assert_eq!(jobs.receive_timeout(WAIT).unwrap().unwrap().text_body(), Some("job-1"));
        p.send(Message::text("result-1")).unwrap();
        p.send(Message::text("result-1b")).unwrap();
        tx.commit().unwrap();
        // Rolled back: job-2 stays, its result vanishes.
        assert_eq!(jobs.receive_timeout(WAIT).unwrap().unwrap().text_body(), Some("job-2"));
        p.send(Message::text("rolled-back")).unwrap();
        tx.rollback().unwrap();
        // Never committed: lost with the broker.
        p.send(Message::text("uncommitted")).unwrap();
        broker.shutdown();
    }
    let broker = open_broker(dir.path());
    let c = connect(&broker);
    let s = session(&c, AckMode::Auto);
    assert_eq!(drain(&consumer(&s, &output), SHORT), ["result-1", "result-1b"]);
    assert_eq!(drain(&consumer(&s, &input), SHORT), ["job-2"]);
}

#[test]
fn delayed_messages_wait_out_their_delay_after_a_restart() {
    let dir = TempDir::new("restart-delay");
    let queue = Destination::queue("later");
    let delivery_time;
    {
        let broker = open_broker(dir.path());
        let c = connect(&broker);
        let s = session(&c, AckMode::Auto);
        let mut p = s.create_producer(Some(queue.clone())).unwrap();
        p.set_options(SendOptions { delivery_delay: 1500, ..SendOptions::default() }).unwrap();
        delivery_time = p.send(Message::text("delayed")).unwrap().delivery_time;
        p.set_options(SendOptions::default()).unwrap();
        p.send(Message::text("now")).unwrap();
        broker.shutdown();
    }
    let broker = open_broker(dir.path());
    let c = connect(&broker);
    let s = session(&c, AckMode::Auto);
    let consumer = consumer(&s, &queue);
    assert_eq!(consumer.receive_timeout(WAIT).unwrap().unwrap().text_body(), Some("now"));
    let got = consumer.receive_timeout(WAIT).unwrap().expect("the delayed message after its delay");
    assert_eq!(got.text_body(), Some("delayed"));
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    assert!(now >= delivery_time, "delivered {} ms early", delivery_time - now);
}

#[test]
fn a_message_delivered_but_not_acknowledged_comes_back_redelivered() {
    let dir = TempDir::new("restart-redelivered");
    let queue = Destination::queue("work");
    {
        let broker = open_broker(dir.path());
        let c = connect(&broker);
        let s = session(&c, AckMode::Auto);
        send_texts(&s, &queue, &["held", "waiting"]);
        let client = session(&c, AckMode::Client);
        let consumer = client.create_consumer(&queue, &ConsumerOptions { prefetch: Some(0), ..Default::default() }).unwrap();
        let got = consumer.receive_timeout(WAIT).unwrap().unwrap();
        assert_eq!((got.text_body(), got.delivery_count()), (Some("held"), 1));
        // The broker goes down with the message unacknowledged, as in a crash: the
        // session never gets to give it back.
        broker.shutdown();
    }
    let broker = open_broker(dir.path());
    let c = connect(&broker);
    let s = session(&c, AckMode::Client);
    let consumer = consumer(&s, &queue);
    let held = consumer.receive_timeout(WAIT).unwrap().unwrap();
    assert_eq!(held.text_body(), Some("held"));
    assert!(held.redelivered());
    assert_eq!(held.delivery_count(), 2);
    let waiting = consumer.receive_timeout(WAIT).unwrap().unwrap();
    assert_eq!(waiting.text_body(), Some("waiting"));
    assert!(!waiting.redelivered(), "a message never delivered is not marked redelivered");
    assert_eq!(waiting.delivery_count(), 1);
}

#[test]
fn delivery_counts_accumulate_across_recover_and_restarts() {
    let dir = TempDir::new("restart-counts");
    let queue = Destination::queue("flaky");
    for round in 1..=3u32 {
        let broker = open_broker(dir.path());
        let c = connect(&broker);
        if round == 1 {
            send_texts(&session(&c, AckMode::Auto), &queue, &["m"]);
        }
        let s = session(&c, AckMode::Client);
        let consumer = consumer(&s, &queue);
        // Two deliveries per round: one, recover, and again.
        let first = consumer.receive_timeout(WAIT).unwrap().unwrap();
        assert_eq!(first.delivery_count(), 2 * round - 1);
        s.recover().unwrap();
        let second = consumer.receive_timeout(WAIT).unwrap().unwrap();
        assert_eq!(second.delivery_count(), 2 * round);
        assert!(second.redelivered());
        c.close();
        broker.shutdown();
    }
}

#[test]
fn a_vm_url_with_a_data_dir_keeps_messages_across_a_broker_restart() {
    let dir = TempDir::new("restart-vm");
    let url = format!("vm://journal-restart-vm?dataDir={}", dir.path().display());
    let queue = Destination::queue("vm-orders");
    {
        let c = Connection::open(&url, &ConnectOptions::default()).unwrap();
        send_texts(&session(&c, AckMode::Auto), &queue, &["kept"]);
        c.close();
    }
    assert!(dir.path().join("herald.db").exists());
    assert!(vm_shutdown("journal-restart-vm"));
    let c = Connection::open(&url, &ConnectOptions::default()).unwrap();
    c.start().unwrap();
    let s = session(&c, AckMode::Auto);
    assert_eq!(drain(&consumer(&s, &queue), SHORT), ["kept"]);
    c.close();
    assert!(vm_shutdown("journal-restart-vm"));
}

#[test]
fn concurrent_producers_all_land_in_the_journal() {
    const PRODUCERS: usize = 8;
    const EACH: usize = 200;
    let dir = TempDir::new("restart-concurrent");
    let queue = Destination::queue("many");
    {
        let broker = open_broker(dir.path());
        let threads: Vec<_> = (0..PRODUCERS)
            .map(|p| {
                let broker = broker.clone();
                let queue = queue.clone();
                std::thread::spawn(move || {
                    let c = connect(&broker);
                    let s = session(&c, AckMode::Auto);
                    let producer = s.create_producer(Some(queue)).unwrap();
                    for i in 0..EACH {
                        producer.send(Message::text(format!("{p}-{i}"))).unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        broker.shutdown();
    }
    let broker = open_broker(dir.path());
    let c = connect(&broker);
    let s = session(&c, AckMode::DupsOk);
    let got = drain(&consumer(&s, &queue), SHORT);
    assert_eq!(got.len(), PRODUCERS * EACH);
    for p in 0..PRODUCERS {
        let seq: Vec<usize> = got
            .iter()
            .filter_map(|t| t.split_once('-').filter(|(q, _)| q.parse::<usize>() == Ok(p)))
            .map(|(_, i)| i.parse().unwrap())
            .collect();
        assert_eq!(seq, (0..EACH).collect::<Vec<_>>(), "producer {p}'s messages lost or out of order");
    }
}

#[test]
fn sends_after_shutdown_fail_and_persist_nothing() {
    let dir = TempDir::new("restart-after-shutdown");
    let queue = Destination::queue("q");
    {
        let broker = open_broker(dir.path());
        let c = connect(&broker);
        let s = session(&c, AckMode::Auto);
        let p = s.create_producer(Some(queue.clone())).unwrap();
        broker.shutdown();
        let err = p.send(Message::text("too late")).unwrap_err();
        assert!(err.message().contains("shut down"), "{err}");
    }
    let started = Instant::now();
    let broker = open_broker(dir.path());
    assert!(started.elapsed() < Duration::from_secs(5));
    let c = connect(&broker);
    assert!(drain(&consumer(&session(&c, AckMode::Auto), &queue), SHORT).is_empty());
}
