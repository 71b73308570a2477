//! A MessageListener's message over tcp:// when the connection drops while the listener
//! runs (AUTO_ACKNOWLEDGE, DUPS_OK_ACKNOWLEDGE): it reached the application and was not
//! acknowledged, so the next consumer gets it redelivered (`JMSRedelivered` true,
//! `JMSXDeliveryCount` 2), while what was only prefetched comes back as never delivered.

mod common;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::thread::JoinHandle;
use std::time::Duration;

use common::ServerProcess;
use herald_core::client::{AckMode, ConnectOptions, Connection, ConsumerOptions, SendOptions};
use herald_core::{DeliveryMode, Destination, Message};

const WAIT: Duration = Duration::from_secs(5);

/// A TCP relay between one client and the server, which the test can cut as a network
/// failure or a killed client would: both sides see the stream end, no `Close` is sent.
struct Relay {
    port: u16,
    sockets: std::sync::Arc<std::sync::Mutex<Vec<TcpStream>>>,
    pumps: Vec<JoinHandle<()>>,
}

impl Relay {
    fn to(server: &ServerProcess) -> Relay {
        let upstream = server.url().trim_start_matches("tcp://").to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let sockets = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let s = sockets.clone();
        let acceptor = std::thread::spawn(move || {
            let (client, _) = listener.accept().unwrap();
            let server = TcpStream::connect(&upstream).unwrap();
            let mut held = s.lock().unwrap();
            held.push(client.try_clone().unwrap());
            held.push(server.try_clone().unwrap());
            drop(held);
            let (c2, s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
            let up = std::thread::spawn(move || pump(client, server));
            pump(s2, c2);
            up.join().unwrap();
        });
        Relay { port, sockets, pumps: vec![acceptor] }
    }

    fn url(&self) -> String {
        format!("tcp://127.0.0.1:{}", self.port)
    }

    /// Ends both streams at once.
    fn cut(mut self) {
        for s in self.sockets.lock().unwrap().iter() {
            let _ = s.shutdown(Shutdown::Both);
        }
        for p in self.pumps.drain(..) {
            p.join().unwrap();
        }
    }
}

fn pump(mut from: TcpStream, mut to: TcpStream) {
    let mut buf = [0u8; 16 * 1024];
    loop {
        match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        }
    }
    let _ = to.shutdown(Shutdown::Both);
    let _ = from.shutdown(Shutdown::Both);
}

fn send(server: &ServerProcess, queue: &Destination, bodies: &[&str], mode: DeliveryMode) {
    let conn = Connection::open(&server.url(), &ConnectOptions::default()).unwrap();
    let s = conn.create_session(AckMode::Auto).unwrap();
    let mut p = s.create_producer(Some(queue.clone())).unwrap();
    p.set_options(SendOptions { delivery_mode: mode, ..SendOptions::default() }).unwrap();
    for body in bodies {
        p.send(Message::text(*body)).unwrap();
    }
    conn.close();
}

/// `(body, redelivered, delivery count)` of everything another consumer finds on `queue`,
/// once `waiting` messages wait there (the server has carried out the dropped
/// connection's end: a consumer attached earlier could take what it returns first
/// before the rest is back).
fn taken_from(server: &ServerProcess, queue: &Destination, waiting: usize) -> Vec<(String, bool, u32)> {
    let conn = Connection::open(&server.url(), &ConnectOptions::default()).unwrap();
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let stats = conn.stats().unwrap();
        let depth = stats.iter().find(|s| s.destination == *queue).map_or(0, |s| s.depth);
        if depth >= waiting {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{queue}: {depth} messages back, not {waiting}");
        std::thread::sleep(Duration::from_millis(10));
    }
    conn.start().unwrap();
    let s = conn.create_session(AckMode::Auto).unwrap();
    let c = s.create_consumer(queue, &ConsumerOptions::default()).unwrap();
    let mut taken = Vec::new();
    while let Some(d) = c.receive_timeout(Duration::from_millis(500)).unwrap() {
        taken.push((d.text_body().unwrap().to_owned(), d.redelivered(), d.delivery_count()));
    }
    taken
}

/// A listener takes the first of two messages (the second waits in the prefetch buffer),
/// `meanwhile` runs, then the connection is cut before the listener returns.
fn cut_while_listening(server: &ServerProcess, queue: &Destination, ack: AckMode, meanwhile: impl FnOnce(&Connection)) {
    let relay = Relay::to(server);
    let conn = Connection::open(&relay.url(), &ConnectOptions::default()).unwrap();
    conn.start().unwrap();
    let s = conn.create_session(ack).unwrap();
    let c = s.create_consumer(queue, &ConsumerOptions::default()).unwrap();
    let d = c.receive_held(Some(WAIT)).unwrap().expect("a message for the listener");
    assert_eq!(d.text_body(), Some("first"));
    assert!(!d.redelivered());
    assert_eq!(d.delivery_count(), 1);
    meanwhile(&conn);
    relay.cut();
    assert!(conn.wait_for_failure(Some(WAIT)).is_some(), "the client saw its connection drop");
    // The listener returns too late: its acknowledgement has nowhere to go.
    assert!(s.acknowledge_held().is_err());
}

fn expect_first_redelivered(server: &ServerProcess, queue: &Destination, what: &str) {
    assert_eq!(
        taken_from(server, queue, 2),
        vec![("first".to_owned(), true, 2), ("second".to_owned(), false, 1)],
        "{what}: the listener's message comes back redelivered, the prefetched one as never delivered"
    );
}

#[test]
fn a_listeners_message_comes_back_redelivered_after_the_connection_drops() {
    let server = ServerProcess::start("");
    for ack in [AckMode::Auto, AckMode::DupsOk] {
        for delivery in [DeliveryMode::Persistent, DeliveryMode::NonPersistent] {
            let q = Destination::queue(format!("dropped.listener.{ack:?}.{delivery:?}"));
            send(&server, &q, &["first", "second"], delivery);
            // The listener makes a request of its own (any reply comes after everything
            // sent before it has been carried out), then its connection drops.
            cut_while_listening(&server, &q, ack, |conn| {
                conn.create_session(AckMode::Client).unwrap();
            });
            expect_first_redelivered(&server, &q, &format!("{ack:?} {delivery:?}"));
        }
    }
}

#[test]
fn a_listener_that_makes_no_request_is_reported_within_moments() {
    let server = ServerProcess::start("");
    for ack in [AckMode::Auto, AckMode::DupsOk] {
        let q = Destination::queue(format!("dropped.quiet-listener.{ack:?}"));
        send(&server, &q, &["first", "second"], DeliveryMode::Persistent);
        // The receipt travels lazily: it leaves within a millisecond with nothing else
        // to carry it. The listener works far longer than that.
        cut_while_listening(&server, &q, ack, |_| std::thread::sleep(Duration::from_millis(200)));
        expect_first_redelivered(&server, &q, &format!("{ack:?}"));
    }
}

#[test]
fn an_acknowledged_listener_message_does_not_come_back_after_the_connection_drops() {
    let server = ServerProcess::start("");
    for ack in [AckMode::Auto, AckMode::DupsOk] {
        // A quick listener's report has not left when it returns (it becomes the
        // acknowledgement); a slow one's has (then acknowledged apart).
        for work in [Duration::ZERO, Duration::from_millis(50)] {
            let q = Destination::queue(format!("dropped.acknowledged.{ack:?}.{}", work.as_millis()));
            send(&server, &q, &["first", "second"], DeliveryMode::Persistent);
            let relay = Relay::to(&server);
            let conn = Connection::open(&relay.url(), &ConnectOptions::default()).unwrap();
            conn.start().unwrap();
            let s = conn.create_session(ack).unwrap();
            let c = s.create_consumer(&q, &ConsumerOptions::default()).unwrap();
            let d = c.receive_held(Some(WAIT)).unwrap().expect("a message for the listener");
            assert_eq!(d.text_body(), Some("first"));
            std::thread::sleep(work);
            s.acknowledge_held().unwrap();
            conn.create_session(AckMode::Client).unwrap();
            relay.cut();
            assert!(conn.wait_for_failure(Some(WAIT)).is_some());
            assert_eq!(
                taken_from(&server, &q, 1),
                vec![("second".to_owned(), false, 1)],
                "{ack:?} after {work:?}: the acknowledged message is gone, the prefetched one was never delivered"
            );
        }
    }
}
