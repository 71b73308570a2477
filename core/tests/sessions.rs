//! Acknowledgement modes, transactions, recovery and redelivery.

mod common;

use common::*;
use herald_core::client::AckMode;
use herald_core::message::{MOVE_REASON_PROPERTY, ORIGINAL_DESTINATION_PROPERTY};
use herald_core::{BrokerConfig, Destination, ErrorKind, Value};

#[test]
fn transacted_sends_are_invisible_until_commit_and_gone_after_rollback() {
    let broker = broker();
    let c = connect(&broker);
    let tx = session(&c, AckMode::Transacted);
    let plain = session(&c, AckMode::Auto);
    let q = Destination::queue("tx-sends");
    let watcher = consumer(&plain, &q);
    send_texts(&tx, &q, &["a", "b"]);
    assert!(watcher.receive_timeout(SHORT).unwrap().is_none(), "uncommitted sends were delivered");
    tx.rollback().unwrap();
    assert!(watcher.receive_timeout(SHORT).unwrap().is_none(), "rolled-back sends were delivered");
    send_texts(&tx, &q, &["c", "d"]);
    tx.commit().unwrap();
    assert_eq!(drain(&watcher, SHORT), ["c", "d"]);
}

#[test]
fn transacted_receives_come_back_on_rollback_and_are_gone_after_commit() {
    let broker = broker();
    let c = connect(&broker);
    let q = Destination::queue("tx-receives");
    send_texts(&session(&c, AckMode::Auto), &q, &["m1", "m2"]);
    let tx = session(&c, AckMode::Transacted);
    let consumer = consumer(&tx, &q);
    let first = consumer.receive_timeout(WAIT).unwrap().unwrap();
    assert!(!first.redelivered());
    assert_eq!(first.delivery_count(), 1);
    assert_eq!(text_of(&consumer), "m2");
    tx.rollback().unwrap();
    let again = consumer.receive_timeout(WAIT).unwrap().unwrap();
    assert_eq!(again.text_body(), Some("m1"), "rollback must restart from the oldest message");
    assert!(again.redelivered());
    assert_eq!(again.delivery_count(), 2);
    assert_eq!(text_of(&consumer), "m2");
    tx.commit().unwrap();
    tx.close();
    let s = session(&c, AckMode::Auto);
    assert!(drain(&consumer_of(&s, &q), SHORT).is_empty(), "committed receives came back");
}

fn consumer_of(s: &herald_core::client::Session, q: &Destination) -> herald_core::client::Consumer {
    consumer(s, q)
}

#[test]
fn a_commit_applies_sends_and_receives_together() {
    let broker = broker();
    let c = connect(&broker);
    let input = Destination::queue("in");
    let output = Destination::queue("out");
    send_texts(&session(&c, AckMode::Auto), &input, &["job"]);
    let tx = session(&c, AckMode::Transacted);
    let from = consumer(&tx, &input);
    let job = from.receive_timeout(WAIT).unwrap().unwrap();
    send_texts(&tx, &output, &[&format!("done {}", job.text_body().unwrap())]);
    tx.commit().unwrap();
    let s = session(&c, AckMode::Auto);
    assert_eq!(drain(&consumer(&s, &output), SHORT), ["done job"]);
    from.close();
    assert!(drain(&consumer(&s, &input), SHORT).is_empty());
}

#[test]
fn commit_and_rollback_need_a_transacted_session() {
    let broker = broker();
    let c = connect(&broker);
    let s = session(&c, AckMode::Auto);
    assert_eq!(s.commit().unwrap_err().kind(), ErrorKind::IllegalState);
    assert_eq!(s.rollback().unwrap_err().kind(), ErrorKind::IllegalState);
    let tx = session(&c, AckMode::Transacted);
    assert_eq!(tx.recover().unwrap_err().kind(), ErrorKind::IllegalState);
}

#[test]
fn client_acknowledge_acks_everything_received_so_far() {
    let broker = broker();
    let c = connect(&broker);
    let q = Destination::queue("client-ack");
    send_texts(&session(&c, AckMode::Auto), &q, &["1", "2", "3"]);
    let s = session(&c, AckMode::Client);
    let cons = consumer(&s, &q);
    assert_eq!(text_of(&cons), "1");
    assert_eq!(text_of(&cons), "2");
    s.acknowledge().unwrap();
    assert_eq!(text_of(&cons), "3");
    s.close();
    let s2 = session(&c, AckMode::Auto);
    let again = consumer(&s2, &q).receive_timeout(WAIT).unwrap().unwrap();
    assert_eq!(again.text_body(), Some("3"), "only the unacknowledged message comes back");
    assert!(again.redelivered());
}

#[test]
fn recover_redelivers_unacknowledged_messages_in_order() {
    let broker = broker();
    let c = connect(&broker);
    let q = Destination::queue("recover");
    send_texts(&session(&c, AckMode::Auto), &q, &["a", "b", "c"]);
    let s = session(&c, AckMode::Client);
    let cons = consumer(&s, &q);
    assert_eq!(text_of(&cons), "a");
    assert_eq!(text_of(&cons), "b");
    s.recover().unwrap();
    let redelivered: Vec<(String, bool, u32)> = (0..3)
        .map(|_| {
            let d = cons.receive_timeout(WAIT).unwrap().unwrap();
            (d.text_body().unwrap().to_owned(), d.redelivered(), d.delivery_count())
        })
        .collect();
    assert_eq!(
        redelivered,
        [("a".into(), true, 2), ("b".into(), true, 2), ("c".into(), false, 1)]
    );
}

#[test]
fn auto_acknowledged_messages_do_not_come_back() {
    let broker = broker();
    let c = connect(&broker);
    let q = Destination::queue("auto");
    send_texts(&session(&c, AckMode::Auto), &q, &["x"]);
    let s = session(&c, AckMode::Auto);
    let cons = consumer(&s, &q);
    assert_eq!(text_of(&cons), "x");
    s.recover().unwrap();
    assert!(cons.receive_timeout(SHORT).unwrap().is_none());
    s.close();
    let s = session(&c, AckMode::DupsOk);
    assert!(consumer(&s, &q).receive_timeout(SHORT).unwrap().is_none());
}

#[test]
fn closing_a_connection_returns_what_it_held_unacknowledged() {
    let broker = broker();
    let q = Destination::queue("orphaned");
    {
        let c = connect(&broker);
        send_texts(&session(&c, AckMode::Auto), &q, &["held"]);
        let s = session(&c, AckMode::Client);
        assert_eq!(text_of(&consumer(&s, &q)), "held");
    }
    let c = connect(&broker);
    let d = consumer(&session(&c, AckMode::Auto), &q).receive_timeout(WAIT).unwrap().unwrap();
    assert_eq!(d.text_body(), Some("held"));
    assert!(d.redelivered());
}

#[test]
fn after_the_delivery_limit_a_message_goes_to_the_dead_letter_queue() {
    let broker = broker_with(BrokerConfig { max_deliveries: 3, ..BrokerConfig::default() });
    let c = connect(&broker);
    let q = Destination::queue("poison");
    send_texts(&session(&c, AckMode::Auto), &q, &["bad", "good"]);
    let tx = session(&c, AckMode::Transacted);
    let cons = consumer(&tx, &q);
    for attempt in 1..=3 {
        let d = cons.receive_timeout(WAIT).unwrap().unwrap();
        assert_eq!(d.text_body(), Some("bad"));
        assert_eq!(d.delivery_count(), attempt);
        assert_eq!(d.redelivered(), attempt > 1);
        tx.rollback().unwrap();
    }
    assert_eq!(text_of(&cons), "good", "the poison message must be gone from its queue");
    tx.commit().unwrap();
    let s = session(&c, AckMode::Auto);
    let dead = consumer(&s, &Destination::queue("DLQ")).receive_timeout(WAIT).unwrap().unwrap();
    assert_eq!(dead.text_body(), Some("bad"));
    assert_eq!(dead.property(ORIGINAL_DESTINATION_PROPERTY), Some(&Value::String("queue://poison".into())));
    assert_eq!(dead.property(MOVE_REASON_PROPERTY), Some(&Value::String("max-deliveries".into())));
}

#[test]
fn a_dead_letter_queue_can_be_renamed() {
    let broker = broker_with(BrokerConfig { max_deliveries: 1, dead_letter_queue: "Graveyard".into(), ..BrokerConfig::default() });
    let c = connect(&broker);
    let q = Destination::queue("once");
    send_texts(&session(&c, AckMode::Auto), &q, &["x"]);
    let s = session(&c, AckMode::Client);
    assert_eq!(text_of(&consumer(&s, &q)), "x");
    s.recover().unwrap();
    let s2 = session(&c, AckMode::Auto);
    assert_eq!(text_of(&consumer(&s2, &Destination::queue("Graveyard"))), "x");
}

#[test]
fn a_listener_delivery_is_acknowledged_only_after_the_listener_returns() {
    let broker = broker();
    let c = connect(&broker);
    let q = Destination::queue("listener");
    send_texts(&session(&c, AckMode::Auto), &q, &["first", "second"]);
    let s = session(&c, AckMode::Auto);
    let cons = consumer(&s, &q);
    // The listener throws: the message comes back, marked redelivered.
    let d = cons.receive_held(Some(WAIT)).unwrap().unwrap();
    assert_eq!(d.text_body(), Some("first"));
    s.recover().unwrap();
    let d = cons.receive_held(Some(WAIT)).unwrap().unwrap();
    assert_eq!((d.text_body(), d.redelivered()), (Some("first"), true));
    // The listener returns: acknowledged for good.
    s.acknowledge_held().unwrap();
    let d = cons.receive_held(Some(WAIT)).unwrap().unwrap();
    assert_eq!(d.text_body(), Some("second"));
    s.acknowledge_held().unwrap();
    s.recover().unwrap();
    assert!(cons.receive_timeout(SHORT).unwrap().is_none(), "acknowledged messages came back");
}
