//! Bad input on the wire gets an error frame and a closed connection, never a crash,
//! while a healthy connection to the same `herald` process keeps working.

mod common;

use std::time::Duration;

use common::{raw_frame, Raw, ServerProcess, REQUEST};
use herald_core::client::{AckMode, ConnectOptions, Connection, ConsumerOptions};
use herald_core::wire::{self, Frame, Hello, Request, RequestFrame};
use herald_core::{Destination, ErrorKind, Message};

/// A healthy client, connected before the abuse starts and checked after each case.
struct Healthy {
    connection: Connection,
    producer: herald_core::client::Producer,
    consumer: herald_core::client::Consumer,
    _session: herald_core::client::Session,
    n: u32,
}

impl Healthy {
    fn new(server: &ServerProcess) -> Healthy {
        let connection = Connection::open(&server.url(), &ConnectOptions::default()).unwrap();
        connection.start().unwrap();
        let session = connection.create_session(AckMode::Auto).unwrap();
        let q = Destination::queue("healthy");
        let producer = session.create_producer(Some(q.clone())).unwrap();
        let consumer = session.create_consumer(&q, &ConsumerOptions::default()).unwrap();
        Healthy { connection, producer, consumer, _session: session, n: 0 }
    }

    fn round_trip(&mut self) {
        self.n += 1;
        let body = format!("still here {}", self.n);
        self.producer.send(Message::text(body.as_str())).unwrap();
        let got = self.consumer.receive_timeout(Duration::from_secs(5)).unwrap().expect("the healthy client works");
        assert_eq!(got.text_body(), Some(body.as_str()));
        assert!(!self.connection.is_closed());
    }
}

fn hello(version: u32) -> Frame {
    Frame::Hello(Hello { version, user: None, password: None, heartbeat_ms: 0 })
}

#[test]
fn bad_input_closes_only_the_offending_connection() {
    let server = ServerProcess::start("");
    let mut healthy = Healthy::new(&server);
    healthy.round_trip();

    // Garbage bytes: read as a length prefix far over the limit.
    let mut raw = Raw::connect(server.addr);
    raw.send_bytes(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    let err = raw.expect_error_and_close();
    assert_eq!(err.kind(), ErrorKind::ResourceAllocation, "{err}");
    healthy.round_trip();

    // A 4 GiB length prefix: refused before anything is allocated.
    let mut raw = Raw::connect(server.addr);
    raw.send_bytes(&[0xff, 0xff, 0xff, 0xff, 1]);
    let err = raw.expect_error_and_close();
    assert!(err.message().contains("exceeds the limit"), "{err}");
    healthy.round_trip();

    // Garbage after a good handshake.
    let mut raw = Raw::connect(server.addr);
    raw.hello();
    raw.send_bytes(&raw_frame(REQUEST, &[0xc1, 0xc1, 0xc1]));
    let err = raw.expect_error_and_close();
    assert!(err.message().contains("malformed"), "{err}");
    healthy.round_trip();

    // A truncated frame: the stream ends in the middle of it.
    let mut raw = Raw::connect(server.addr);
    raw.hello();
    let frame = Frame::Request(RequestFrame { id: 1, request: Request::Start }).encode();
    raw.send_bytes(&frame[..frame.len() - 1]);
    raw.stream.shutdown(std::net::Shutdown::Write).unwrap();
    let err = raw.expect_error_and_close();
    assert!(err.message().contains("middle of a frame"), "{err}");
    healthy.round_trip();

    // An unknown frame type.
    let mut raw = Raw::connect(server.addr);
    raw.hello();
    raw.send_bytes(&raw_frame(99, &[0xc0]));
    let err = raw.expect_error_and_close();
    assert!(err.message().contains("unknown frame type 99"), "{err}");
    healthy.round_trip();

    // A zero length.
    let mut raw = Raw::connect(server.addr);
    raw.send_bytes(&[0, 0, 0, 0]);
    raw.expect_error_and_close();
    healthy.round_trip();

    // A request before the handshake.
    let mut raw = Raw::connect(server.addr);
    raw.send(&Frame::Request(RequestFrame { id: 1, request: Request::Start }));
    let err = raw.expect_error_and_close();
    assert!(err.message().contains("expected a Hello"), "{err}");
    healthy.round_trip();

    // A frame only the server may send.
    let mut raw = Raw::connect(server.addr);
    raw.hello();
    raw.send(&Frame::Welcome(wire::Welcome { version: 1, connection_id: 1, heartbeat_ms: 0, max_frame: 1 }));
    let err = raw.expect_error_and_close();
    assert!(err.message().contains("may not send"), "{err}");
    healthy.round_trip();

    // A second Hello.
    let mut raw = Raw::connect(server.addr);
    raw.hello();
    raw.send(&hello(wire::PROTOCOL_VERSION));
    raw.expect_error_and_close();
    healthy.round_trip();

    // The wrong protocol version.
    let mut raw = Raw::connect(server.addr);
    raw.send(&hello(wire::PROTOCOL_VERSION + 1));
    let err = raw.expect_error_and_close();
    assert!(err.message().contains("protocol version"), "{err}");
    healthy.round_trip();

    // Requests naming things that do not exist get an error reply; the connection stays.
    let mut raw = Raw::connect(server.addr);
    raw.hello();
    raw.send(&Frame::Request(RequestFrame { id: 5, request: Request::Commit { session: 42 } }));
    match raw.next() {
        Some(Frame::Reply(r)) => {
            assert_eq!(r.id, 5);
            let e = herald_core::Error::from(r.result.unwrap_err());
            assert_eq!(e.kind(), ErrorKind::IllegalState);
        }
        other => panic!("expected an error reply, got {other:?}"),
    }
    raw.send(&Frame::Request(RequestFrame { id: 6, request: Request::Start }));
    assert!(matches!(raw.next(), Some(Frame::Reply(r)) if r.id == 6 && r.result.is_ok()));
    healthy.round_trip();

    // Many abrupt disconnects in a row.
    for _ in 0..50 {
        let mut raw = Raw::connect(server.addr);
        raw.send_bytes(&[0, 0, 0]);
    }
    healthy.round_trip();
}
