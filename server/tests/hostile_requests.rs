//! Requests that decode but carry what no producer or session of ours would send: each
//! gets an error reply that names the problem, nothing of it reaches a queue, and the
//! connection goes on working.

mod common;

use std::time::Duration;

use common::{wire_destination, InProcess, Raw};
use herald_server::config::Limits;
use herald_core::client::{AckMode, ConsumerOptions};
use herald_core::wire::{Frame, Reply, Request, RequestFrame};
use herald_core::{Destination, DestinationKind, ErrorKind, Message};
use serde::Serialize;

/// Sends `request` and returns its reply.
fn call(raw: &mut Raw, id: u64, request: Request) -> Result<Reply, herald_core::Error> {
    raw.send(&Frame::Request(RequestFrame { id, request }));
    loop {
        match raw.next() {
            Some(Frame::Reply(r)) => {
                assert_eq!(r.id, id, "replies come in order");
                return r.result.map_err(herald_core::Error::from);
            }
            Some(Frame::Heartbeat) => continue,
            other => panic!("expected the reply to request {id}, got {other:?}"),
        }
    }
}

#[test]
fn destinations_without_a_name_are_refused() {
    let server = InProcess::start();
    // Through the client API, which builds such a destination without complaint...
    let connection = server.connect();
    connection.start().unwrap();
    let session = connection.create_session(AckMode::Auto).unwrap();
    for nameless in [Destination::queue(""), Destination::topic("")] {
        let producer = session.create_producer(Some(nameless.clone())).unwrap();
        let err = producer.send(Message::text("to nowhere")).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidDestination, "{err}");
        let err = session.create_consumer(&nameless, &ConsumerOptions::default()).err().expect("no consumer");
        assert_eq!(err.kind(), ErrorKind::InvalidDestination, "{err}");
    }
    let err = session.create_browser(&Destination::queue(""), None).err().expect("no browser");
    assert_eq!(err.kind(), ErrorKind::InvalidDestination, "{err}");

    // ...and on the wire.
    let mut raw = Raw::connect(server.addr);
    raw.hello();
    call(&mut raw, 1, Request::CreateSession { session: 1, mode: AckMode::Auto.jms_value() }).unwrap();
    for kind in [DestinationKind::Queue, DestinationKind::Topic] {
        let send = Request::Send { session: 1, destination: wire_destination(kind, ""), message: Message::text("x") };
        let err = call(&mut raw, 2, send).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidDestination, "{err}");
        let consume = Request::CreateConsumer {
            session: 1,
            consumer: 1,
            destination: wire_destination(kind, ""),
            selector: None,
            no_local: false,
            subscription: None,
            prefetch: 1,
        };
        let err = call(&mut raw, 3, consume).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidDestination, "{err}");
    }
    // No queue or topic without a name came to be.
    let Reply::Stats(lines) = call(&mut raw, 4, Request::Stats).unwrap() else { panic!("statistics") };
    assert!(lines.iter().all(|l| !l.destination.name().is_empty()), "{lines:?}");
    // The session works on.
    let good = Request::Send { session: 1, destination: Destination::queue("named"), message: Message::text("ok") };
    call(&mut raw, 5, good).unwrap();
}

/// `herald_core::message::Value` as it is encoded, `char` and `byte[]` included.
#[derive(Serialize)]
#[allow(dead_code)]
enum WireValue {
    Bool(bool),
    Byte(i8),
    Short(i16),
    Char(char),
    Int(i32),
    Long(i64),
    Float(f32),
    Double(f64),
    String(String),
    Bytes(Vec<u8>),
}

/// `herald_core::Message` as it is encoded, with whatever priority and properties.
#[derive(Serialize)]
struct WireMessage {
    id: Option<()>,
    timestamp: i64,
    correlation_id: Option<String>,
    reply_to: Option<Destination>,
    destination: Option<Destination>,
    delivery_mode: &'static str,
    priority: u8,
    expiration: i64,
    delivery_time: i64,
    jms_type: Option<String>,
    properties: Vec<(String, WireValue)>,
    body: std::collections::BTreeMap<&'static str, Option<String>>,
}

fn message(priority: u8, properties: Vec<(&str, WireValue)>) -> Message {
    let wire = WireMessage {
        id: None,
        timestamp: 0,
        correlation_id: None,
        reply_to: None,
        destination: None,
        delivery_mode: "NonPersistent",
        priority,
        expiration: 0,
        delivery_time: 0,
        jms_type: None,
        properties: properties.into_iter().map(|(n, v)| (n.to_owned(), v)).collect(),
        body: [("Text", Some("hostile".to_owned()))].into(),
    };
    Message::decode(&rmp_serde::to_vec(&wire).unwrap()).expect("decodes as a message")
}

#[test]
fn messages_no_producer_could_build_are_refused() {
    let server = InProcess::start();
    let queue = Destination::queue("checked");
    let mut raw = Raw::connect(server.addr);
    raw.hello();
    call(&mut raw, 1, Request::CreateSession { session: 1, mode: AckMode::Auto.jms_value() }).unwrap();
    let cases = [
        (message(10, vec![]), ErrorKind::InvalidArgument, "priority 10"),
        (message(255, vec![]), ErrorKind::InvalidArgument, "priority 255"),
        (message(4, vec![("initial", WireValue::Char('x'))]), ErrorKind::MessageFormat, "char"),
        (message(4, vec![("raw", WireValue::Bytes(vec![1, 2]))]), ErrorKind::MessageFormat, "byte[]"),
        (
            message(4, vec![("color", WireValue::String("red".into())), ("color", WireValue::Int(1))]),
            ErrorKind::MessageFormat,
            "twice",
        ),
        (
            message(4, (0..20).map(|_| ("n", WireValue::Long(1))).collect()),
            ErrorKind::MessageFormat,
            "twice",
        ),
    ];
    for (id, (hostile, kind, says)) in (10..).zip(cases) {
        let err = call(&mut raw, id, Request::Send { session: 1, destination: queue.clone(), message: hostile })
            .expect_err(says);
        assert_eq!(err.kind(), kind, "{err}");
        assert!(err.message().contains(says), "{err}");
    }
    // A message of every property type goes through, on the same connection.
    let fine = message(
        9,
        vec![
            ("b", WireValue::Bool(true)),
            ("y", WireValue::Byte(1)),
            ("s", WireValue::Short(2)),
            ("i", WireValue::Int(3)),
            ("l", WireValue::Long(4)),
            ("f", WireValue::Float(5.0)),
            ("d", WireValue::Double(6.0)),
            ("t", WireValue::String("seven".into())),
        ],
    );
    call(&mut raw, 2, Request::Send { session: 1, destination: queue.clone(), message: fine }).unwrap();
    // The queue holds that one message and none of the others.
    let connection = server.connect();
    connection.start().unwrap();
    let session = connection.create_session(AckMode::Auto).unwrap();
    let consumer = session.create_consumer(&queue, &ConsumerOptions::default()).unwrap();
    let got = consumer.receive_timeout(Duration::from_secs(5)).unwrap().expect("the good message");
    assert_eq!(got.priority, 9);
    assert_eq!(got.properties().count(), 8);
    assert!(consumer.receive_timeout(Duration::from_millis(200)).unwrap().is_none(), "only the good message");
}

#[test]
fn a_browser_goes_with_its_session() {
    let server = InProcess::start();
    let mut raw = Raw::connect(server.addr);
    raw.hello();
    let queue = Destination::queue("browsed");
    call(&mut raw, 1, Request::CreateSession { session: 1, mode: AckMode::Auto.jms_value() }).unwrap();
    call(&mut raw, 2, Request::Send { session: 1, destination: queue.clone(), message: Message::text("a") }).unwrap();
    call(&mut raw, 3, Request::CreateBrowser { session: 1, browser: 7, queue, selector: None }).unwrap();
    call(&mut raw, 4, Request::CloseSession { session: 1 }).unwrap();
    // Not an empty page, as if the queue were empty: the browser is gone.
    let err = call(&mut raw, 5, Request::BrowseNext { browser: 7, max: 10 }).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::IllegalState, "{err}");
    assert!(err.message().contains("no browser 7"), "{err}");
}

#[test]
fn sessions_and_browsers_per_connection_are_bounded() {
    let limits = Limits { max_sessions_per_connection: 3, max_browsers_per_connection: 2, ..Limits::default() };
    let server = InProcess::with_limits(limits);
    let mut raw = Raw::connect(server.addr);
    raw.hello();
    let auto = AckMode::Auto.jms_value();
    for session in 1..=3 {
        call(&mut raw, session, Request::CreateSession { session, mode: auto }).unwrap();
    }
    let err = call(&mut raw, 4, Request::CreateSession { session: 4, mode: auto }).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ResourceAllocation, "{err}");
    assert!(err.message().contains("3 sessions"), "{err}");
    // Closing one makes room again.
    call(&mut raw, 5, Request::CloseSession { session: 3 }).unwrap();
    call(&mut raw, 6, Request::CreateSession { session: 4, mode: auto }).unwrap();

    let queue = Destination::queue("snapshots");
    let browse = |browser| Request::CreateBrowser { session: 1, browser, queue: queue.clone(), selector: None };
    call(&mut raw, 7, browse(1)).unwrap();
    call(&mut raw, 8, browse(2)).unwrap();
    let err = call(&mut raw, 9, browse(3)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ResourceAllocation, "{err}");
    assert!(err.message().contains("2 browsers"), "{err}");
    call(&mut raw, 10, Request::CloseBrowser { browser: 1 }).unwrap();
    call(&mut raw, 11, browse(3)).unwrap();
    // Another connection has limits of its own.
    let mut other = Raw::connect(server.addr);
    other.hello();
    call(&mut other, 1, Request::CreateSession { session: 1, mode: auto }).unwrap();
}
