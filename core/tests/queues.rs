//! Point-to-point: each message to exactly one consumer, in order, by priority.

mod common;

use std::collections::HashSet;
use std::sync::{Arc, Barrier};
use std::thread;

use common::*;
use herald_core::client::{AckMode, ConsumerOptions, SendOptions};
use herald_core::{Destination, ErrorKind, Message};

#[test]
fn competing_consumers_get_every_message_exactly_once() {
    const PRODUCERS: usize = 4;
    const CONSUMERS: usize = 4;
    const PER_PRODUCER: usize = 5_000;
    let broker = broker();
    let queue = Destination::queue("work");
    let start = Arc::new(Barrier::new(PRODUCERS + CONSUMERS));
    let consumers: Vec<_> = (0..CONSUMERS)
        .map(|_| {
            let broker = broker.clone();
            let queue = queue.clone();
            let start = start.clone();
            thread::spawn(move || {
                let c = connect(&broker);
                let s = session(&c, AckMode::Auto);
                let consumer = s.create_consumer(&queue, &ConsumerOptions { prefetch: Some(10), ..Default::default() }).unwrap();
                start.wait();
                let mut got = Vec::new();
                while let Some(d) = consumer.receive_timeout(std::time::Duration::from_millis(500)).unwrap() {
                    got.push(d.text_body().unwrap().to_owned());
                }
                got
            })
        })
        .collect();
    let producers: Vec<_> = (0..PRODUCERS)
        .map(|p| {
            let broker = broker.clone();
            let queue = queue.clone();
            let start = start.clone();
            thread::spawn(move || {
                let c = connect(&broker);
                let s = session(&c, AckMode::Auto);
                let producer = s.create_producer(Some(queue)).unwrap();
                start.wait();
                for i in 0..PER_PRODUCER {
                    producer.send(Message::text(format!("{p}-{i}"))).unwrap();
                }
            })
        })
        .collect();
    for p in producers {
        p.join().unwrap();
    }
    let mut all = Vec::new();
    let mut per_consumer = Vec::new();
    for c in consumers {
        let got = c.join().unwrap();
        per_consumer.push(got.len());
        // Per-producer order holds within each consumer's share.
        for p in 0..PRODUCERS {
            let seq: Vec<usize> = got
                .iter()
                .filter_map(|t| t.split_once('-').filter(|(q, _)| q.parse::<usize>() == Ok(p)))
                .map(|(_, i)| i.parse().unwrap())
                .collect();
            assert!(seq.windows(2).all(|w| w[0] < w[1]), "producer {p}'s order broken");
        }
        all.extend(got);
    }
    let unique: HashSet<&String> = all.iter().collect();
    assert_eq!(all.len(), PRODUCERS * PER_PRODUCER, "lost or duplicated: {per_consumer:?}");
    assert_eq!(unique.len(), all.len(), "a message was delivered twice");
    assert!(per_consumer.iter().filter(|n| **n > 0).count() > 1, "work was not shared: {per_consumer:?}");
}

#[test]
fn one_producer_order_is_kept() {
    let broker = broker();
    let c = connect(&broker);
    let s = session(&c, AckMode::Auto);
    let q = Destination::queue("ordered");
    let p = s.create_producer(Some(q.clone())).unwrap();
    for i in 0..1000 {
        p.send(Message::text(i.to_string())).unwrap();
    }
    let consumer = consumer(&s, &q);
    let got: Vec<usize> = drain(&consumer, SHORT).iter().map(|t| t.parse().unwrap()).collect();
    assert_eq!(got, (0..1000).collect::<Vec<_>>());
}

#[test]
fn higher_priority_first_and_fifo_within_a_priority() {
    let broker = broker();
    let c = connect(&broker);
    let s = session(&c, AckMode::Auto);
    let q = Destination::queue("prio");
    let p = s.create_producer(Some(q.clone())).unwrap();
    for (text, priority) in [("a4", 4), ("b0", 0), ("c9", 9), ("d4", 4), ("e7", 7), ("f9", 9)] {
        let options = SendOptions { priority, ..SendOptions::default() };
        p.send_with(None, Message::text(text), &options).unwrap();
    }
    let consumer = consumer(&s, &q);
    assert_eq!(drain(&consumer, SHORT), ["c9", "f9", "e7", "a4", "d4", "b0"]);
}

#[test]
fn invalid_priority_is_rejected() {
    let broker = broker();
    let c = connect(&broker);
    let s = session(&c, AckMode::Auto);
    let p = s.create_producer(Some(Destination::queue("q"))).unwrap();
    let options = SendOptions { priority: 10, ..SendOptions::default() };
    let err = p.send_with(None, Message::text("x"), &options).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
}

#[test]
fn messages_wait_for_a_consumer_that_comes_later() {
    let broker = broker();
    let q = Destination::queue("later");
    {
        let c = connect(&broker);
        send_texts(&session(&c, AckMode::Auto), &q, &["kept"]);
    }
    let c = connect(&broker);
    let s = session(&c, AckMode::Auto);
    assert_eq!(text_of(&consumer(&s, &q)), "kept");
}

#[test]
fn a_stopped_connection_delivers_nothing_until_started() {
    let broker = broker();
    let c = connect(&broker);
    let s = session(&c, AckMode::Auto);
    let q = Destination::queue("paused");
    send_texts(&s, &q, &["one"]);
    c.stop().unwrap();
    let consumer = consumer(&s, &q);
    assert!(consumer.receive_timeout(SHORT).unwrap().is_none());
    let starter = {
        thread::spawn(move || {
            thread::sleep(SHORT);
            c.start().unwrap();
            c
        })
    };
    assert_eq!(text_of(&consumer), "one");
    drop(starter.join().unwrap());
}

#[test]
fn a_blocked_receive_wakes_when_a_message_arrives() {
    let broker = broker();
    let q = Destination::queue("wake");
    let b2 = broker.clone();
    let q2 = q.clone();
    let sender = thread::spawn(move || {
        thread::sleep(SHORT);
        let c = connect(&b2);
        send_texts(&session(&c, AckMode::Auto), &q2, &["late"]);
    });
    let c = connect(&broker);
    let s = session(&c, AckMode::Auto);
    assert_eq!(text_of(&consumer(&s, &q)), "late");
    sender.join().unwrap();
}

#[test]
fn a_wakeup_hook_fires_when_a_consumer_has_a_message() {
    let broker = broker();
    let c = connect(&broker);
    let s = session(&c, AckMode::Auto);
    let q = Destination::queue("hooked");
    let consumer = consumer(&s, &q);
    let (tx, rx) = std::sync::mpsc::channel();
    let tx = std::sync::Mutex::new(tx);
    consumer.set_wakeup(Some(Arc::new(move || { let _ = tx.lock().unwrap().send(()); }))).unwrap();
    assert!(consumer.receive_no_wait().unwrap().is_none());
    send_texts(&s, &q, &["ping"]);
    rx.recv_timeout(WAIT).expect("the hook fired");
    assert_eq!(consumer.receive_no_wait().unwrap().unwrap().text_body(), Some("ping"));
}

#[test]
fn pull_consumers_with_prefetch_zero_share_a_queue() {
    let broker = broker();
    let c = connect(&broker);
    let s = session(&c, AckMode::Auto);
    let q = Destination::queue("pull");
    let options = ConsumerOptions { prefetch: Some(0), ..Default::default() };
    let a = s.create_consumer(&q, &options).unwrap();
    let b = s.create_consumer(&q, &options).unwrap();
    send_texts(&s, &q, &["1", "2", "3", "4"]);
    assert_eq!(text_of(&a), "1");
    assert_eq!(text_of(&b), "2");
    assert_eq!(text_of(&a), "3");
    assert_eq!(text_of(&b), "4");
    assert!(a.receive_no_wait().unwrap().is_none());
}

#[test]
fn browsing_shows_waiting_messages_without_consuming_them() {
    let broker = broker();
    let c = connect(&broker);
    let s = session(&c, AckMode::Auto);
    let q = Destination::queue("browsed");
    let p = s.create_producer(Some(q.clone())).unwrap();
    for (i, color) in ["red", "blue", "red"].iter().enumerate() {
        let mut m = Message::text(format!("m{i}"));
        m.set_property("color", *color).unwrap();
        p.send(m).unwrap();
    }
    let seen: Vec<String> = s.create_browser(&q, None).unwrap().map(|d| d.text_body().unwrap().to_owned()).collect();
    assert_eq!(seen, ["m0", "m1", "m2"]);
    let again: Vec<String> = s.create_browser(&q, None).unwrap().map(|d| d.text_body().unwrap().to_owned()).collect();
    assert_eq!(again, seen, "browsing consumed something");
    assert_eq!(drain(&consumer(&s, &q), SHORT), ["m0", "m1", "m2"]);
    let err = s.create_browser(&Destination::topic("t"), None).err().unwrap();
    assert_eq!(err.kind(), ErrorKind::InvalidDestination);
}

#[test]
fn a_browser_walks_a_deep_queue_by_priority_and_does_not_return_what_was_consumed_meanwhile() {
    let broker = broker();
    let c = connect(&broker);
    let s = session(&c, AckMode::Auto);
    let q = Destination::queue("deep-browse");
    let p = s.create_producer(Some(q.clone())).unwrap();
    let mut expected_high = Vec::new();
    for i in 0..3000 {
        let mut m = Message::text(i.to_string());
        m.set_property("n", i).unwrap();
        p.send(m).unwrap();
        if i % 600 == 0 {
            let high = SendOptions { priority: 7, ..SendOptions::default() };
            p.send_with(None, Message::text(format!("high{i}")), &high).unwrap();
            expected_high.push(format!("high{i}"));
        }
    }
    let seen: Vec<String> = s.create_browser(&q, None).unwrap().map(|d| d.text_body().unwrap().to_owned()).collect();
    let expected: Vec<String> = expected_high.iter().cloned().chain((0..3000).map(|i| i.to_string())).collect();
    assert_eq!(seen, expected);

    // Found past several steps' worth of messages that do not match.
    let last: Vec<String> =
        s.create_browser(&q, Some("n = 2999")).unwrap().map(|d| d.text_body().unwrap().to_owned()).collect();
    assert_eq!(last, ["2999"]);

    // A browser shows what is waiting as it goes: once everything is consumed, it has
    // at most the few messages it had already taken in hand, not the rest of the queue.
    let mut browser = s.create_browser(&q, None).unwrap();
    assert_eq!(browser.next().unwrap().text_body().unwrap(), "high0");
    let all = consumer(&s, &q);
    for want in &expected {
        assert_eq!(&text_of(&all), want);
    }
    let stale = browser.count();
    assert!(stale < 100, "the browser returned {stale} messages consumed before it reached them");
}

#[test]
fn closed_handles_give_illegal_state() {
    let broker = broker();
    let c = connect(&broker);
    let s = session(&c, AckMode::Auto);
    let q = Destination::queue("closed");
    let consumer = consumer(&s, &q);
    consumer.close();
    assert_eq!(consumer.receive_no_wait().unwrap_err().kind(), ErrorKind::IllegalState);
    let p = s.create_producer(Some(q.clone())).unwrap();
    s.close();
    assert_eq!(p.send(Message::text("x")).unwrap_err().kind(), ErrorKind::IllegalState);
    c.close();
    c.close();
    assert_eq!(c.create_session(AckMode::Auto).err().unwrap().kind(), ErrorKind::IllegalState);
}

#[test]
fn closing_a_consumer_returns_its_prefetched_messages() {
    let broker = broker();
    let c = connect(&broker);
    let s = session(&c, AckMode::Auto);
    let q = Destination::queue("prefetched");
    let first = consumer(&s, &q);
    send_texts(&s, &q, &["a", "b", "c"]);
    assert_eq!(text_of(&first), "a");
    first.close();
    let second = consumer(&s, &q);
    assert_eq!(drain(&second, SHORT), ["b", "c"]);
}
