//! Time-based delivery rules, temporary destinations and selectors end to end.

mod common;

use std::thread;
use std::time::{Duration, Instant};

use common::*;
use herald_core::client::{AckMode, SendOptions};
use herald_core::message::{MOVE_REASON_PROPERTY, ORIGINAL_DESTINATION_PROPERTY};
use herald_core::{BrokerConfig, Destination, ErrorKind, Message, Value};

#[test]
fn an_expired_message_is_never_delivered() {
    let broker = broker();
    let c = connect(&broker);
    let s = session(&c, AckMode::Auto);
    let q = Destination::queue("perishable");
    let p = s.create_producer(Some(q.clone())).unwrap();
    let short = SendOptions { time_to_live: 50, ..SendOptions::default() };
    let sent = p.send_with(None, Message::text("stale"), &short).unwrap();
    assert!(sent.expiration >= sent.timestamp + 50);
    p.send(Message::text("fresh")).unwrap();
    thread::sleep(Duration::from_millis(120));
    assert_eq!(drain(&consumer(&s, &q), SHORT), ["fresh"]);
}

#[test]
fn a_prefetched_message_that_expires_is_not_delivered() {
    let broker = broker();
    let c = connect(&broker);
    let s = session(&c, AckMode::Auto);
    let q = Destination::queue("expires-in-inbox");
    let cons = consumer(&s, &q);
    let p = s.create_producer(Some(q.clone())).unwrap();
    p.send_with(None, Message::text("stale"), &SendOptions { time_to_live: 50, ..SendOptions::default() }).unwrap();
    thread::sleep(Duration::from_millis(120));
    assert!(cons.receive_timeout(SHORT).unwrap().is_none());
}

#[test]
fn expired_messages_go_to_the_expiry_queue_when_one_is_configured() {
    let broker = broker_with(BrokerConfig {
        expiry_queue: Some("Expired".into()),
        expiry_scan_interval: Duration::from_millis(50),
        ..BrokerConfig::default()
    });
    let c = connect(&broker);
    let s = session(&c, AckMode::Auto);
    let q = Destination::queue("timed");
    let p = s.create_producer(Some(q.clone())).unwrap();
    p.send_with(None, Message::text("late"), &SendOptions { time_to_live: 30, ..SendOptions::default() }).unwrap();
    // Nobody consumes "timed": the sweeper finds the message on its own.
    let expired = consumer(&s, &Destination::queue("Expired")).receive_timeout(WAIT).unwrap().unwrap();
    assert_eq!(expired.text_body(), Some("late"));
    assert_eq!(expired.expiration, 0, "a moved message must not expire again");
    assert_eq!(expired.property(ORIGINAL_DESTINATION_PROPERTY), Some(&Value::String("queue://timed".into())));
    assert_eq!(expired.property(MOVE_REASON_PROPERTY), Some(&Value::String("expired".into())));
    assert_eq!(broker.stats().iter().find(|st| st.store == "queue:timed").unwrap().depth, 0);
}

#[test]
fn a_delayed_message_is_delivered_only_after_its_delay() {
    let broker = broker();
    let c = connect(&broker);
    let s = session(&c, AckMode::Auto);
    let q = Destination::queue("later");
    let cons = consumer(&s, &q);
    let p = s.create_producer(Some(q.clone())).unwrap();
    let started = Instant::now();
    let sent = p.send_with(None, Message::text("delayed"), &SendOptions { delivery_delay: 300, ..SendOptions::default() }).unwrap();
    assert!(sent.delivery_time >= sent.timestamp + 300);
    p.send(Message::text("now")).unwrap();
    assert_eq!(text_of(&cons), "now");
    assert!(cons.receive_timeout(Duration::from_millis(100)).unwrap().is_none(), "delivered before its time");
    assert_eq!(text_of(&cons), "delayed");
    let received_at = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    assert!(received_at >= sent.delivery_time, "delivered at {received_at}, due at {}", sent.delivery_time);
    assert!(started.elapsed() >= Duration::from_millis(299));
}

#[test]
fn delayed_messages_are_not_browsable_before_their_time() {
    let broker = broker();
    let c = connect(&broker);
    let s = session(&c, AckMode::Auto);
    let q = Destination::queue("hidden");
    let p = s.create_producer(Some(q.clone())).unwrap();
    p.send_with(None, Message::text("x"), &SendOptions { delivery_delay: 10_000, ..SendOptions::default() }).unwrap();
    assert_eq!(s.create_browser(&q, None).unwrap().count(), 0);
}

#[test]
fn temporary_destinations_die_with_their_connection() {
    let broker = broker();
    let owner = connect(&broker);
    let other = connect(&broker);
    let temp = owner.create_temporary_queue().unwrap();
    assert!(temp.is_temporary());
    let other_session = session(&other, AckMode::Auto);
    // Anyone may send to it; only its connection may consume.
    send_texts(&other_session, &temp, &["reply"]);
    let err = other_session.create_consumer(&temp, &Default::default()).err().unwrap();
    assert_eq!(err.kind(), ErrorKind::InvalidDestination);
    let s = session(&owner, AckMode::Auto);
    assert_eq!(text_of(&consumer(&s, &temp)), "reply");
    owner.close();
    let p = other_session.create_producer(Some(temp.clone())).unwrap();
    assert_eq!(p.send(Message::text("too late")).unwrap_err().kind(), ErrorKind::InvalidDestination);
}

#[test]
fn a_temporary_topic_delivers_to_its_subscribers_and_can_be_deleted() {
    let broker = broker();
    let c = connect(&broker);
    let s = session(&c, AckMode::Auto);
    let temp = c.create_temporary_topic().unwrap();
    let sub = consumer(&s, &temp);
    send_texts(&s, &temp, &["event"]);
    assert_eq!(text_of(&sub), "event");
    assert_eq!(c.delete_temporary(&temp).unwrap_err().kind(), ErrorKind::IllegalState, "in use");
    sub.close();
    c.delete_temporary(&temp).unwrap();
    let p = s.create_producer(Some(temp)).unwrap();
    assert_eq!(p.send(Message::text("x")).unwrap_err().kind(), ErrorKind::InvalidDestination);
}

#[test]
fn request_reply_over_a_temporary_queue() {
    let broker = broker();
    let q = Destination::queue("requests");
    let b2 = broker.clone();
    let q2 = q.clone();
    let server = thread::spawn(move || {
        let c = connect(&b2);
        let s = session(&c, AckMode::Auto);
        let requests = consumer(&s, &q2);
        let replies = s.create_producer(None).unwrap();
        let req = requests.receive_timeout(WAIT).unwrap().unwrap();
        let mut reply = Message::text(format!("re: {}", req.text_body().unwrap()));
        reply.correlation_id = req.id.map(|id| id.to_string());
        replies.send_with(req.reply_to.as_ref(), reply, &SendOptions::default()).unwrap();
    });
    let c = connect(&broker);
    let s = session(&c, AckMode::Auto);
    let reply_to = c.create_temporary_queue().unwrap();
    let replies = consumer(&s, &reply_to);
    let mut req = Message::text("ping");
    req.reply_to = Some(reply_to);
    let sent = s.create_producer(Some(q)).unwrap().send(req).unwrap();
    let reply = replies.receive_timeout(WAIT).unwrap().unwrap();
    assert_eq!(reply.text_body(), Some("re: ping"));
    assert_eq!(reply.correlation_id, sent.message_id.map(|id| id.to_string()));
    server.join().unwrap();
}

#[test]
fn consumers_with_disjoint_selectors_split_a_queue() {
    let broker = broker();
    let c = connect(&broker);
    let s = session(&c, AckMode::Auto);
    let q = Destination::queue("colors");
    let reds = selecting(&s, &q, "color = 'red'");
    let blues = selecting(&s, &q, "color = 'blue'");
    let p = s.create_producer(Some(q.clone())).unwrap();
    for (i, color) in ["red", "blue", "red", "green", "blue", "red"].iter().enumerate() {
        let mut m = Message::text(format!("{color}{i}"));
        m.set_property("color", *color).unwrap();
        p.send(m).unwrap();
    }
    assert_eq!(drain(&reds, SHORT), ["red0", "red2", "red5"]);
    assert_eq!(drain(&blues, SHORT), ["blue1", "blue4"]);
    // The message nobody selected stays for others.
    assert_eq!(drain(&consumer(&s, &q), SHORT), ["green3"]);
}

#[test]
fn a_selector_can_test_headers_and_the_delivery_count() {
    let broker = broker();
    let c = connect(&broker);
    let q = Destination::queue("headers");
    let s = session(&c, AckMode::Auto);
    let p = s.create_producer(Some(q.clone())).unwrap();
    let mut m = Message::text("typed");
    m.jms_type = Some("order".into());
    p.send_with(None, m, &SendOptions { priority: 7, ..SendOptions::default() }).unwrap();
    p.send(Message::text("plain")).unwrap();
    let picky = selecting(&s, &q, "JMSType = 'order' AND JMSPriority > 5 AND JMSDeliveryMode = 'PERSISTENT'");
    assert_eq!(drain(&picky, SHORT), ["typed"]);
    picky.close();
    let client = session(&c, AckMode::Client);
    let first = consumer(&client, &q);
    assert_eq!(text_of(&first), "plain");
    client.recover().unwrap();
    first.close();
    let retried = selecting(&client, &q, "JMSXDeliveryCount > 1");
    assert_eq!(text_of(&retried), "plain");
}

#[test]
fn an_invalid_selector_is_rejected_when_the_consumer_is_created() {
    let broker = broker();
    let c = connect(&broker);
    let s = session(&c, AckMode::Auto);
    let q = Destination::queue("q");
    let options = herald_core::client::ConsumerOptions { selector: Some("color = ".into()), ..Default::default() };
    let err = s.create_consumer(&q, &options).err().unwrap();
    assert_eq!(err.kind(), ErrorKind::InvalidSelector);
    assert!(err.message().contains("position"), "{}", err.message());
    assert_eq!(s.create_browser(&q, Some("a LIKE")).err().unwrap().kind(), ErrorKind::InvalidSelector);
    let blank = herald_core::client::ConsumerOptions { selector: Some("   ".into()), ..Default::default() };
    s.create_consumer(&q, &blank).expect("a blank selector selects everything");
}

#[test]
fn a_browser_honours_its_selector() {
    let broker = broker();
    let c = connect(&broker);
    let s = session(&c, AckMode::Auto);
    let q = Destination::queue("browse-select");
    let p = s.create_producer(Some(q.clone())).unwrap();
    for n in 0..6 {
        let mut m = Message::text(n.to_string());
        m.set_property("n", n).unwrap();
        p.send(m).unwrap();
    }
    let even: Vec<String> =
        s.create_browser(&q, Some("n / 2 * 2 = n")).unwrap().map(|d| d.text_body().unwrap().to_owned()).collect();
    assert_eq!(even, ["0", "2", "4"]);
}

#[test]
fn one_match_behind_a_large_non_matching_backlog_is_found() {
    let broker = broker();
    let c = connect(&broker);
    let s = session(&c, AckMode::Auto);
    let q = Destination::queue("haystack");
    let p = s.create_producer(Some(q.clone())).unwrap();
    for _ in 0..20_000 {
        let mut m = Message::text("hay");
        m.set_property("kind", "hay").unwrap();
        p.send(m).unwrap();
    }
    let needle_seeker = selecting(&s, &q, "kind = 'needle'");
    assert!(needle_seeker.receive_no_wait().unwrap().is_none());
    // Each new non-matching message costs the waiting consumer one evaluation, not a
    // rescan of the backlog; then the needle arrives and is found.
    for _ in 0..2_000 {
        let mut m = Message::text("hay");
        m.set_property("kind", "hay").unwrap();
        p.send(m).unwrap();
    }
    let mut needle = Message::text("needle");
    needle.set_property("kind", "needle").unwrap();
    p.send(needle).unwrap();
    assert_eq!(text_of(&needle_seeker), "needle");
    assert_eq!(broker.stats().iter().find(|st| st.store == "queue:haystack").unwrap().depth, 22_000);
}
