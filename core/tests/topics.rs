//! Publish/subscribe: fan-out, durable, shared and noLocal subscriptions.

mod common;

use common::*;
use herald_core::client::{AckMode, ConsumerOptions, SubscriptionOptions};
use herald_core::{Destination, ErrorKind, Message};

fn durable(name: &str, selector: Option<&str>) -> ConsumerOptions {
    ConsumerOptions {
        selector: selector.map(str::to_owned),
        subscription: Some(SubscriptionOptions { name: name.into(), durable: true, shared: false }),
        ..ConsumerOptions::default()
    }
}

fn shared(name: &str, durable: bool) -> ConsumerOptions {
    ConsumerOptions {
        subscription: Some(SubscriptionOptions { name: name.into(), durable, shared: true }),
        prefetch: Some(1),
        ..ConsumerOptions::default()
    }
}

#[test]
fn every_subscriber_gets_its_own_copy() {
    let broker = broker();
    let c = connect(&broker);
    let s = session(&c, AckMode::Auto);
    let topic = Destination::topic("news");
    let subscribers: Vec<_> = (0..3).map(|_| consumer(&s, &topic)).collect();
    send_texts(&s, &topic, &["one", "two"]);
    for sub in &subscribers {
        assert_eq!(drain(sub, SHORT), ["one", "two"]);
    }
}

#[test]
fn a_non_durable_subscriber_misses_what_was_published_before_it() {
    let broker = broker();
    let c = connect(&broker);
    let s = session(&c, AckMode::Auto);
    let topic = Destination::topic("early");
    send_texts(&s, &topic, &["lost"]);
    let sub = consumer(&s, &topic);
    send_texts(&s, &topic, &["seen"]);
    assert_eq!(drain(&sub, SHORT), ["seen"]);
}

#[test]
fn a_durable_subscription_keeps_messages_while_its_consumer_is_away() {
    let broker = broker();
    let topic = Destination::topic("prices");
    {
        let c = connect_as(&broker, "client-a");
        let s = session(&c, AckMode::Auto);
        let sub = s.create_consumer(&topic, &durable("ticker", None)).unwrap();
        send_texts(&s, &topic, &["1"]);
        assert_eq!(text_of(&sub), "1");
    }
    let publisher = connect(&broker);
    send_texts(&session(&publisher, AckMode::Auto), &topic, &["2", "3"]);
    let c = connect_as(&broker, "client-a");
    let s = session(&c, AckMode::Auto);
    let sub = s.create_consumer(&topic, &durable("ticker", None)).unwrap();
    assert_eq!(drain(&sub, SHORT), ["2", "3"]);
    sub.close();
    s.unsubscribe("ticker").unwrap();
    send_texts(&session(&publisher, AckMode::Auto), &topic, &["4"]);
    let sub = s.create_consumer(&topic, &durable("ticker", None)).unwrap();
    assert!(drain(&sub, SHORT).is_empty(), "unsubscribe must discard the subscription");
}

#[test]
fn a_durable_subscription_with_a_selector_stores_only_matching_messages() {
    let broker = broker();
    let topic = Destination::topic("orders");
    let c = connect_as(&broker, "sel-client");
    let s = session(&c, AckMode::Auto);
    s.create_consumer(&topic, &durable("big", Some("amount > 100"))).unwrap().close();
    let p = s.create_producer(Some(topic.clone())).unwrap();
    for amount in [50, 150, 99, 1000] {
        let mut m = Message::text(amount.to_string());
        m.set_property("amount", amount).unwrap();
        p.send(m).unwrap();
    }
    let stats = broker.stats();
    let store = stats.iter().find(|s| s.store.starts_with("sub:")).unwrap();
    assert_eq!(store.depth, 2, "non-matching messages were stored");
    let sub = s.create_consumer(&topic, &durable("big", Some("amount > 100"))).unwrap();
    assert_eq!(drain(&sub, SHORT), ["150", "1000"]);
}

#[test]
fn changing_a_durable_subscriptions_selector_replaces_it() {
    let broker = broker();
    let topic = Destination::topic("changes");
    let c = connect_as(&broker, "changer");
    let s = session(&c, AckMode::Auto);
    s.create_consumer(&topic, &durable("d", None)).unwrap().close();
    send_texts(&s, &topic, &["old"]);
    let sub = s.create_consumer(&topic, &durable("d", Some("x = 1"))).unwrap();
    assert!(drain(&sub, SHORT).is_empty(), "the old subscription's messages must be gone");
}

#[test]
fn an_unshared_durable_subscription_takes_one_consumer_and_needs_a_client_id() {
    let broker = broker();
    let topic = Destination::topic("single");
    let c = connect_as(&broker, "only-one");
    let s = session(&c, AckMode::Auto);
    let _first = s.create_consumer(&topic, &durable("d", None)).unwrap();
    let err = s.create_consumer(&topic, &durable("d", None)).err().unwrap();
    assert_eq!(err.kind(), ErrorKind::IllegalState);
    assert_eq!(s.unsubscribe("d").unwrap_err().kind(), ErrorKind::IllegalState);
    let anonymous = connect(&broker);
    let s2 = session(&anonymous, AckMode::Auto);
    assert_eq!(s2.create_consumer(&topic, &durable("d2", None)).err().unwrap().kind(), ErrorKind::IllegalState);
    assert_eq!(s2.unsubscribe("nope").unwrap_err().kind(), ErrorKind::InvalidDestination);
}

#[test]
fn a_shared_subscription_splits_work_between_its_consumers() {
    for durable in [false, true] {
        let broker = broker();
        let topic = Destination::topic("jobs");
        let c1 = connect(&broker);
        let c2 = connect(&broker);
        let s1 = session(&c1, AckMode::Auto);
        let s2 = session(&c2, AckMode::Auto);
        let a = s1.create_consumer(&topic, &shared("workers", durable)).unwrap();
        let b = s2.create_consumer(&topic, &shared("workers", durable)).unwrap();
        let texts: Vec<String> = (0..20).map(|i| i.to_string()).collect();
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        send_texts(&s1, &topic, &refs);
        let mut got_a = Vec::new();
        let mut got_b = Vec::new();
        loop {
            let x = a.receive_timeout(SHORT).unwrap();
            let y = b.receive_timeout(SHORT).unwrap();
            if x.is_none() && y.is_none() {
                break;
            }
            got_a.extend(x.map(|d| d.text_body().unwrap().to_owned()));
            got_b.extend(y.map(|d| d.text_body().unwrap().to_owned()));
        }
        assert!(!got_a.is_empty() && !got_b.is_empty(), "both consumers must get work: {got_a:?} {got_b:?}");
        let mut all: Vec<usize> = got_a.iter().chain(&got_b).map(|t| t.parse().unwrap()).collect();
        all.sort();
        assert_eq!(all, (0..20).collect::<Vec<_>>(), "each message exactly once (durable={durable})");
    }
}

#[test]
fn a_shared_subscription_and_a_private_one_each_get_a_copy() {
    let broker = broker();
    let topic = Destination::topic("mixed");
    let c = connect(&broker);
    let s = session(&c, AckMode::Auto);
    let shared_consumer = s.create_consumer(&topic, &shared("pool", false)).unwrap();
    let private = consumer(&s, &topic);
    send_texts(&s, &topic, &["x"]);
    assert_eq!(text_of(&shared_consumer), "x");
    assert_eq!(text_of(&private), "x");
}

#[test]
fn no_local_skips_the_subscribers_own_messages() {
    let broker = broker();
    let topic = Destination::topic("chat");
    let me = connect(&broker);
    let other = connect(&broker);
    let s = session(&me, AckMode::Auto);
    let options = ConsumerOptions { no_local: true, ..ConsumerOptions::default() };
    let sub = s.create_consumer(&topic, &options).unwrap();
    let everything = consumer(&s, &topic);
    send_texts(&s, &topic, &["mine"]);
    send_texts(&session(&other, AckMode::Auto), &topic, &["theirs"]);
    assert_eq!(drain(&sub, SHORT), ["theirs"]);
    assert_eq!(drain(&everything, SHORT), ["mine", "theirs"]);
}

#[test]
fn client_ids_are_unique_per_broker() {
    let broker = broker();
    let first = connect_as(&broker, "unique");
    let second = connect(&broker);
    let err = herald_core::client::Connection::to_broker(
        &broker,
        &herald_core::client::ConnectOptions { client_id: Some("unique".into()), ..Default::default() },
    )
    .err()
    .unwrap();
    assert_eq!(err.kind(), ErrorKind::InvalidClientId);
    second.close();
    first.close();
    let again = connect_as(&broker, "unique");
    assert_eq!(again.client_id().as_deref(), Some("unique"));
    assert_eq!(again.set_client_id("other").unwrap_err().kind(), ErrorKind::IllegalState);
}

#[test]
fn a_queue_consumer_cannot_name_a_subscription() {
    let broker = broker();
    let c = connect(&broker);
    let s = session(&c, AckMode::Auto);
    let err = s.create_consumer(&Destination::queue("q"), &durable("x", None)).err().unwrap();
    assert_eq!(err.kind(), ErrorKind::InvalidDestination);
}
