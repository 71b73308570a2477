//! The client API over tcp:// behaves as it does in-process: acknowledgement modes,
//! transactions, subscriptions, browsing, temporary destinations, redelivery.

mod common;

use std::time::Duration;

use common::{InProcess, Raw};
use herald_core::client::{AckMode, ConnectOptions, Connection, ConsumerOptions, SendOptions, SubscriptionOptions};
use herald_core::wire::{Frame, Request, RequestFrame, NO_REPLY};
use herald_core::{DeliveryMode, Destination, ErrorKind, Message};

const WAIT: Duration = Duration::from_secs(5);
const BRIEF: Duration = Duration::from_millis(200);

fn texts(server: &InProcess, queue: &Destination, n: usize) -> Vec<String> {
    let c = server.connect();
    c.start().unwrap();
    let s = c.create_session(AckMode::Auto).unwrap();
    let consumer = s.create_consumer(queue, &ConsumerOptions::default()).unwrap();
    let mut out = Vec::new();
    for _ in 0..n {
        let d = consumer.receive_timeout(WAIT).unwrap().expect("a message");
        out.push(d.text_body().unwrap().to_owned());
    }
    assert!(consumer.receive_timeout(BRIEF).unwrap().is_none(), "nothing more");
    out
}

fn send_texts(conn: &Connection, queue: &Destination, bodies: &[&str], mode: DeliveryMode) {
    let s = conn.create_session(AckMode::Auto).unwrap();
    let mut p = s.create_producer(Some(queue.clone())).unwrap();
    p.set_options(SendOptions { delivery_mode: mode, ..SendOptions::default() }).unwrap();
    for b in bodies {
        p.send(Message::text(*b)).unwrap();
    }
    s.close();
}

#[test]
fn auto_ack_send_and_receive_in_order() {
    let server = InProcess::start();
    let q = Destination::queue("auto");
    let conn = server.connect();
    send_texts(&conn, &q, &["a", "b", "c"], DeliveryMode::Persistent);
    send_texts(&conn, &q, &["d", "e"], DeliveryMode::NonPersistent);
    assert_eq!(texts(&server, &q, 5), ["a", "b", "c", "d", "e"]);
    let stats = server.broker.stats();
    let line = stats.iter().find(|s| s.store == "queue:auto").unwrap();
    assert_eq!((line.depth, line.enqueued, line.acknowledged), (0, 5, 5));
}

#[test]
fn headers_and_properties_cross_the_wire() {
    let server = InProcess::start();
    let q = Destination::queue("headers");
    let conn = server.connect();
    conn.start().unwrap();
    let s = conn.create_session(AckMode::Auto).unwrap();
    let mut p = s.create_producer(Some(q.clone())).unwrap();
    p.set_options(SendOptions { priority: 7, time_to_live: 60_000, ..SendOptions::default() }).unwrap();
    let mut m = Message::bytes(vec![0u8, 1, 2, 255]);
    m.correlation_id = Some("corr".into());
    m.set_property("n", 42i32).unwrap();
    m.set_property("s", "text").unwrap();
    let sent = p.send(m).unwrap();
    let c = s.create_consumer(&q, &ConsumerOptions::default()).unwrap();
    let d = c.receive_timeout(WAIT).unwrap().unwrap();
    assert_eq!(d.id, sent.message_id);
    assert_eq!(d.priority, 7);
    assert_eq!(d.expiration, sent.expiration);
    assert_eq!(d.correlation_id.as_deref(), Some("corr"));
    assert_eq!(d.int_property("n").unwrap(), 42);
    assert_eq!(d.string_property("s").unwrap().as_deref(), Some("text"));
    assert_eq!(d.body, herald_core::Body::Bytes(vec![0, 1, 2, 255]));
    assert_eq!(d.destination, Some(q));
    assert!(!d.redelivered());
}

#[test]
fn client_ack_recover_redelivers_and_acknowledge_consumes() {
    let server = InProcess::start();
    let q = Destination::queue("client-ack");
    let conn = server.connect();
    send_texts(&conn, &q, &["1", "2", "3"], DeliveryMode::Persistent);
    conn.start().unwrap();
    let s = conn.create_session(AckMode::Client).unwrap();
    let c = s.create_consumer(&q, &ConsumerOptions::default()).unwrap();
    assert_eq!(c.receive_timeout(WAIT).unwrap().unwrap().text_body(), Some("1"));
    assert_eq!(c.receive_timeout(WAIT).unwrap().unwrap().text_body(), Some("2"));
    s.recover().unwrap();
    let again = c.receive_timeout(WAIT).unwrap().unwrap();
    assert_eq!(again.text_body(), Some("1"));
    assert!(again.redelivered());
    assert_eq!(again.delivery_count(), 2);
    let two = c.receive_timeout(WAIT).unwrap().unwrap();
    assert_eq!((two.text_body(), two.redelivered()), (Some("2"), true));
    // "3" was pushed ahead but never handed out: not redelivered.
    let three = c.receive_timeout(WAIT).unwrap().unwrap();
    assert_eq!((three.text_body(), three.redelivered()), (Some("3"), false));
    s.acknowledge().unwrap();
    s.close();
    assert!(texts(&server, &q, 0).is_empty());
}

#[test]
fn client_ack_unacknowledged_messages_return_when_the_session_closes() {
    let server = InProcess::start();
    let q = Destination::queue("client-close");
    let conn = server.connect();
    send_texts(&conn, &q, &["x", "y"], DeliveryMode::Persistent);
    conn.start().unwrap();
    let s = conn.create_session(AckMode::Client).unwrap();
    let c = s.create_consumer(&q, &ConsumerOptions::default()).unwrap();
    assert_eq!(c.receive_timeout(WAIT).unwrap().unwrap().text_body(), Some("x"));
    s.close();
    assert_eq!(texts(&server, &q, 2), ["x", "y"]);
}

#[test]
fn dups_ok_consumes() {
    let server = InProcess::start();
    let q = Destination::queue("dups");
    let conn = server.connect();
    send_texts(&conn, &q, &["p", "q"], DeliveryMode::NonPersistent);
    conn.start().unwrap();
    let s = conn.create_session(AckMode::DupsOk).unwrap();
    let c = s.create_consumer(&q, &ConsumerOptions::default()).unwrap();
    assert_eq!(c.receive_timeout(WAIT).unwrap().unwrap().text_body(), Some("p"));
    assert_eq!(c.receive_timeout(WAIT).unwrap().unwrap().text_body(), Some("q"));
    s.close();
    assert!(texts(&server, &q, 0).is_empty());
}

#[test]
fn transactions_commit_and_roll_back_sends_and_receives() {
    let server = InProcess::start();
    let q = Destination::queue("tx");
    let conn = server.connect();
    conn.start().unwrap();
    let tx = conn.create_session(AckMode::Transacted).unwrap();
    let p = tx.create_producer(Some(q.clone())).unwrap();
    p.send(Message::text("rolled-back")).unwrap();
    tx.rollback().unwrap();
    p.send(Message::text("one")).unwrap();
    p.send(Message::text("two")).unwrap();
    let watcher = conn.create_session(AckMode::Auto).unwrap();
    let browser: Vec<_> = watcher.create_browser(&q, None).unwrap().collect();
    assert!(browser.is_empty(), "uncommitted sends are invisible");
    tx.commit().unwrap();

    let c = tx.create_consumer(&q, &ConsumerOptions::default()).unwrap();
    assert_eq!(c.receive_timeout(WAIT).unwrap().unwrap().text_body(), Some("one"));
    tx.rollback().unwrap();
    let again = c.receive_timeout(WAIT).unwrap().unwrap();
    assert_eq!((again.text_body(), again.redelivered()), (Some("one"), true));
    assert_eq!(c.receive_timeout(WAIT).unwrap().unwrap().text_body(), Some("two"));
    tx.commit().unwrap();
    c.close();
    assert!(texts(&server, &q, 0).is_empty());
    assert_eq!(tx.recover().unwrap_err().kind(), ErrorKind::IllegalState);
    let auto = conn.create_session(AckMode::Auto).unwrap();
    assert_eq!(auto.commit().unwrap_err().kind(), ErrorKind::IllegalState);
}

#[test]
fn pull_consumers_receive_one_at_a_time() {
    let server = InProcess::start();
    let q = Destination::queue("pull");
    let conn = server.connect();
    conn.start().unwrap();
    let s = conn.create_session(AckMode::Auto).unwrap();
    let pull = ConsumerOptions { prefetch: Some(0), ..ConsumerOptions::default() };
    let c = s.create_consumer(&q, &pull).unwrap();
    assert!(c.receive_timeout(BRIEF).unwrap().is_none());
    send_texts(&conn, &q, &["m1", "m2"], DeliveryMode::NonPersistent);
    assert_eq!(c.receive_timeout(WAIT).unwrap().unwrap().text_body(), Some("m1"));
    // The second message stays on the queue for other consumers.
    let other = server.connect();
    other.start().unwrap();
    let os = other.create_session(AckMode::Auto).unwrap();
    let oc = os.create_consumer(&q, &ConsumerOptions::default()).unwrap();
    assert_eq!(oc.receive_timeout(WAIT).unwrap().unwrap().text_body(), Some("m2"));
}

#[test]
fn stopped_connections_do_not_deliver() {
    let server = InProcess::start();
    let q = Destination::queue("stopped");
    let conn = server.connect();
    let s = conn.create_session(AckMode::Auto).unwrap();
    let c = s.create_consumer(&q, &ConsumerOptions::default()).unwrap();
    send_texts(&conn, &q, &["later"], DeliveryMode::NonPersistent);
    assert!(c.receive_timeout(BRIEF).unwrap().is_none());
    conn.start().unwrap();
    assert_eq!(c.receive_timeout(WAIT).unwrap().unwrap().text_body(), Some("later"));
}

#[test]
fn topics_selectors_and_durable_subscriptions() {
    let server = InProcess::start();
    let t = Destination::topic("prices");
    let options = ConnectOptions { client_id: Some("watcher".into()), ..ConnectOptions::default() };
    let conn = Connection::open(&server.url(), &options).unwrap();
    assert_eq!(conn.client_id().as_deref(), Some("watcher"));
    conn.start().unwrap();
    let s = conn.create_session(AckMode::Auto).unwrap();
    let durable = ConsumerOptions {
        selector: Some("price > 10".into()),
        subscription: Some(SubscriptionOptions { name: "big".into(), durable: true, shared: false }),
        ..ConsumerOptions::default()
    };
    let c = s.create_consumer(&t, &durable).unwrap();
    let plain = s.create_consumer(&t, &ConsumerOptions::default()).unwrap();
    let publisher = server.connect();
    let ps = publisher.create_session(AckMode::Auto).unwrap();
    let p = ps.create_producer(Some(t.clone())).unwrap();
    for price in [5, 50] {
        let mut m = Message::text(format!("p{price}"));
        m.set_property("price", price).unwrap();
        p.send(m).unwrap();
    }
    assert_eq!(c.receive_timeout(WAIT).unwrap().unwrap().text_body(), Some("p50"));
    assert_eq!(plain.receive_timeout(WAIT).unwrap().unwrap().text_body(), Some("p5"));
    assert_eq!(plain.receive_timeout(WAIT).unwrap().unwrap().text_body(), Some("p50"));
    c.close();
    // Kept while no consumer is attached.
    let mut m = Message::text("p99");
    m.set_property("price", 99).unwrap();
    p.send(m).unwrap();
    let c = s.create_consumer(&t, &durable).unwrap();
    assert_eq!(c.receive_timeout(WAIT).unwrap().unwrap().text_body(), Some("p99"));
    assert_eq!(s.unsubscribe("big").unwrap_err().kind(), ErrorKind::IllegalState);
    c.close();
    s.unsubscribe("big").unwrap();
    assert_eq!(s.unsubscribe("big").unwrap_err().kind(), ErrorKind::InvalidDestination);
    // A second connection cannot take the same client ID.
    let err = Connection::open(&server.url(), &options).err().expect("client ID in use");
    assert_eq!(err.kind(), ErrorKind::InvalidClientId);
    assert_eq!(
        s.create_consumer(&t, &ConsumerOptions { selector: Some("price >".into()), ..ConsumerOptions::default() })
            .err()
            .unwrap()
            .kind(),
        ErrorKind::InvalidSelector
    );
}

#[test]
fn browsing_pages_through_a_queue_without_consuming() {
    let server = InProcess::start();
    let q = Destination::queue("browse");
    let conn = server.connect();
    let bodies: Vec<String> = (0..600).map(|i| format!("m{i}")).collect();
    let refs: Vec<&str> = bodies.iter().map(String::as_str).collect();
    send_texts(&conn, &q, &refs, DeliveryMode::NonPersistent);
    let s = conn.create_session(AckMode::Auto).unwrap();
    let seen: Vec<String> = s.create_browser(&q, None).unwrap().map(|d| d.text_body().unwrap().to_owned()).collect();
    assert_eq!(seen, bodies);
    assert_eq!(texts(&server, &q, 600).len(), 600);
    assert_eq!(s.create_browser(&Destination::topic("t"), None).err().unwrap().kind(), ErrorKind::InvalidDestination);
}

#[test]
fn request_reply_through_a_temporary_queue_which_dies_with_its_connection() {
    let server = InProcess::start();
    let service = Destination::queue("service");
    let responder = server.connect();
    responder.start().unwrap();
    let rs = responder.create_session(AckMode::Auto).unwrap();
    let requests = rs.create_consumer(&service, &ConsumerOptions::default()).unwrap();
    let replier = rs.create_producer(None).unwrap();

    let client = server.connect();
    client.start().unwrap();
    let cs = client.create_session(AckMode::Auto).unwrap();
    let replies = client.create_temporary_queue().unwrap();
    assert!(replies.is_temporary());
    let reply_consumer = cs.create_consumer(&replies, &ConsumerOptions::default()).unwrap();
    let mut m = Message::text("ping");
    m.reply_to = Some(replies.clone());
    cs.create_producer(Some(service.clone())).unwrap().send(m).unwrap();

    let req = requests.receive_timeout(WAIT).unwrap().unwrap();
    let reply_to = req.reply_to.clone().unwrap();
    // Only the owner may consume from a temporary queue.
    assert_eq!(
        rs.create_consumer(&reply_to, &ConsumerOptions::default()).err().unwrap().kind(),
        ErrorKind::InvalidDestination
    );
    replier.send_with(Some(&reply_to), Message::text("pong"), &SendOptions::default()).unwrap();
    assert_eq!(reply_consumer.receive_timeout(WAIT).unwrap().unwrap().text_body(), Some("pong"));

    drop(reply_consumer);
    drop(cs);
    client.close();
    // The temporary queue is gone with its connection.
    let err = replier.send_with(Some(&reply_to), Message::text("late"), &SendOptions::default()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidDestination);
}

#[test]
fn a_dropped_connection_returns_unacknowledged_messages_to_another_consumer() {
    let server = InProcess::start();
    let q = Destination::queue("killed");
    let conn = server.connect();
    send_texts(&conn, &q, &["k1", "k2", "k3"], DeliveryMode::Persistent);

    // A consumer that dies mid-stream: a raw client takes two messages (CLIENT_ACK),
    // reports one received, and its socket is torn down without any goodbye, as when
    // its process is killed.
    let mut raw = Raw::connect(server.addr);
    raw.hello();
    let req = |id, request| Frame::Request(RequestFrame { id, request });
    raw.send(&req(1, Request::CreateSession { session: 1, mode: 2 }));
    raw.send(&req(
        2,
        Request::CreateConsumer {
            session: 1,
            consumer: 2,
            destination: q.clone(),
            selector: None,
            no_local: false,
            subscription: None,
            prefetch: 2,
        },
    ));
    raw.send(&req(3, Request::Start));
    let mut tags = Vec::new();
    while tags.len() < 2 {
        match raw.next().expect("the server keeps the connection") {
            Frame::Deliver(d) => tags.push(d.tag),
            Frame::Reply(r) => assert!(r.result.is_ok(), "{r:?}"),
            other => panic!("unexpected {other:?}"),
        }
    }
    raw.send(&req(NO_REPLY, Request::Consumed { consumer: 2, tag: tags[0], hold: false }));
    std::thread::sleep(Duration::from_millis(100));
    raw.stream.shutdown(std::net::Shutdown::Both).unwrap();
    drop(raw);

    let other = server.connect();
    other.start().unwrap();
    let s = other.create_session(AckMode::Auto).unwrap();
    let c = s.create_consumer(&q, &ConsumerOptions::default()).unwrap();
    let got: Vec<(String, bool)> = (0..3)
        .map(|_| {
            let d = c.receive_timeout(WAIT).unwrap().expect("redelivered");
            (d.text_body().unwrap().to_owned(), d.redelivered())
        })
        .collect();
    // k1 reached the dead application: redelivered. k2 was only in its buffer.
    assert_eq!(got, [("k1".into(), true), ("k2".into(), false), ("k3".into(), false)]);
}

#[test]
fn messages_over_the_frame_limit_are_refused_on_the_client() {
    let limits = herald_server::config::Limits { max_frame_bytes: 64 * 1024, ..Default::default() };
    let server = InProcess::with_limits(limits);
    let conn = server.connect();
    let s = conn.create_session(AckMode::Auto).unwrap();
    let p = s.create_producer(Some(Destination::queue("big"))).unwrap();
    let err = p.send(Message::text("x".repeat(100 * 1024))).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ResourceAllocation);
    // The connection is still usable.
    p.send(Message::text("small")).unwrap();
    assert_eq!(texts(&server, &Destination::queue("big"), 1), ["small"]);
}

#[test]
fn browsing_large_messages_sees_every_one_in_pages_under_the_frame_limit() {
    let limits = herald_server::config::Limits { max_frame_bytes: 64 * 1024, ..Default::default() };
    let server = InProcess::with_limits(limits);
    let conn = server.connect();
    let s = conn.create_session(AckMode::Auto).unwrap();
    let q = Destination::queue("large.browse");
    let p = s.create_producer(Some(q.clone())).unwrap();
    for i in 0..40 {
        p.send(Message::text(format!("{i:02}{}", "x".repeat(30 * 1024)))).unwrap();
    }
    let seen: Vec<String> =
        s.create_browser(&q, None).unwrap().map(|d| d.text_body().unwrap()[..2].to_owned()).collect();
    assert_eq!(seen, (0..40).map(|i| format!("{i:02}")).collect::<Vec<_>>());
}

#[test]
fn consumer_limit_per_connection() {
    let limits = herald_server::config::Limits { max_consumers_per_connection: 2, ..Default::default() };
    let server = InProcess::with_limits(limits);
    let conn = server.connect();
    let s = conn.create_session(AckMode::Auto).unwrap();
    let q = Destination::queue("many");
    let _a = s.create_consumer(&q, &ConsumerOptions::default()).unwrap();
    let b = s.create_consumer(&q, &ConsumerOptions::default()).unwrap();
    let err = s.create_consumer(&q, &ConsumerOptions::default()).err().unwrap();
    assert_eq!(err.kind(), ErrorKind::ResourceAllocation);
    b.close();
    s.create_consumer(&q, &ConsumerOptions::default()).unwrap();
}

#[test]
fn stats_over_tcp() {
    let server = InProcess::start();
    let conn = server.connect();
    send_texts(&conn, &Destination::queue("counted"), &["1", "2"], DeliveryMode::Persistent);
    let stats = conn.stats().unwrap();
    let line = stats.iter().find(|s| s.store == "queue:counted").unwrap();
    assert_eq!((line.depth, line.enqueued), (2, 2));
}

#[test]
fn topic_bound_queues_receive_matching_copies() {
    let server = InProcess::start();
    server.broker.bind_queue("events", "audit", Some("level = 'high'")).unwrap();
    server.broker.bind_queue("events", "all-events", None).unwrap();
    let conn = server.connect();
    let s = conn.create_session(AckMode::Auto).unwrap();
    let p = s.create_producer(Some(Destination::topic("events"))).unwrap();
    for level in ["low", "high"] {
        let mut m = Message::text(level);
        m.set_property("level", level).unwrap();
        p.send(m).unwrap();
    }
    assert_eq!(texts(&server, &Destination::queue("audit"), 1), ["high"]);
    assert_eq!(texts(&server, &Destination::queue("all-events"), 2), ["low", "high"]);
    let stats = server.broker.stats();
    assert_eq!(stats.iter().filter(|s| s.store == "queue:audit").count(), 1, "listed once");
}

#[test]
fn idle_connections_are_closed() {
    let limits = herald_server::config::Limits { idle_timeout_ms: 300, ..Default::default() };
    let server = InProcess::with_limits(limits);
    let mut raw = Raw::connect(server.addr);
    raw.hello();
    let err = raw.expect_error_and_close();
    assert!(err.message().contains("no frame"), "{err}");
}

#[test]
fn an_idle_client_that_sends_heartbeats_outlives_a_short_idle_timeout() {
    // The client heartbeats every 10 s: a 300 ms idle timeout must not drop it.
    let limits = herald_server::config::Limits { idle_timeout_ms: 300, ..Default::default() };
    let server = InProcess::with_limits(limits);
    let conn = server.connect();
    std::thread::sleep(Duration::from_millis(1000));
    send_texts(&conn, &Destination::queue("after.idle"), &["still here"], DeliveryMode::NonPersistent);
    assert_eq!(texts(&server, &Destination::queue("after.idle"), 1), ["still here"]);
}

#[test]
fn connection_limit() {
    let limits = herald_server::config::Limits { max_connections: 1, ..Default::default() };
    let server = InProcess::with_limits(limits);
    let first = server.connect();
    let err = Connection::open(&server.url(), &ConnectOptions::default()).err().expect("over the limit");
    assert_eq!(err.kind(), ErrorKind::ResourceAllocation, "{err}");
    first.close();
    std::thread::sleep(Duration::from_millis(100));
    server.connect();
}

#[test]
fn listener_deliveries_are_held_until_acknowledge_held() {
    let server = InProcess::start();
    let q = Destination::queue("held");
    let conn = server.connect();
    send_texts(&conn, &q, &["h1", "h2"], DeliveryMode::Persistent);
    conn.start().unwrap();
    let s = conn.create_session(AckMode::Auto).unwrap();
    let c = s.create_consumer(&q, &ConsumerOptions::default()).unwrap();
    assert_eq!(c.receive_held(Some(WAIT)).unwrap().unwrap().text_body(), Some("h1"));
    // The listener failed: recover redelivers it.
    s.recover().unwrap();
    let again = c.receive_held(Some(WAIT)).unwrap().unwrap();
    assert_eq!((again.text_body(), again.redelivered()), (Some("h1"), true));
    s.acknowledge_held().unwrap();
    assert_eq!(c.receive_held(Some(WAIT)).unwrap().unwrap().text_body(), Some("h2"));
    s.acknowledge_held().unwrap();
    s.close();
    assert!(texts(&server, &q, 0).is_empty());
}

/// A long stream through small prefetch windows, concurrent with the sending: every
/// credit the consumer returns must reach the server, and every delivery wake the
/// consumer, or the stream stalls (each receive below allows 5 s).
#[test]
fn a_long_stream_never_stalls() {
    let server = InProcess::start();
    let queue = Destination::queue("stream");
    for prefetch in [1u32, 7, 100] {
        let receiver = Connection::open(&server.url(), &ConnectOptions { prefetch, ..ConnectOptions::default() }).unwrap();
        receiver.start().unwrap();
        let rs = receiver.create_session(AckMode::Auto).unwrap();
        let consumer = rs.create_consumer(&queue, &ConsumerOptions::default()).unwrap();
        let sender = server.connect();
        let q = queue.clone();
        let producer = std::thread::spawn(move || {
            let s = sender.create_session(AckMode::Auto).unwrap();
            let p = s.create_producer(Some(q)).unwrap();
            for i in 0..5000 {
                let mut m = Message::text("x");
                m.set_property("i", i).unwrap();
                p.send(m).unwrap();
            }
            sender.close();
        });
        for i in 0..5000 {
            let d = consumer.receive_timeout(WAIT).unwrap().unwrap_or_else(|| panic!("message {i} (prefetch {prefetch}) stalled"));
            assert_eq!(d.int_property("i").unwrap(), i);
        }
        producer.join().unwrap();
        receiver.close();
    }
}
