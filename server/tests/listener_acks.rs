//! A MessageListener's acknowledgements over tcp:// (AUTO_ACKNOWLEDGE, DUPS_OK_ACKNOWLEDGE):
//! the loop every binding runs for a listener, `receive_held`, the application's work,
//! then `acknowledge_held`, or `recover` when the listener failed. The acknowledgement
//! leaves without waiting for the server; these tests show that it still arrives, in
//! order with what follows it, and that failures are still reported.

mod common;

use std::time::Duration;

use common::ServerProcess;
use herald_core::client::{AckMode, ConnectOptions, Connection, ConsumerOptions, SendOptions};
use herald_core::{DeliveryMode, Destination, ErrorKind, Message};

const WAIT: Duration = Duration::from_secs(5);
const MODES: [AckMode; 2] = [AckMode::Auto, AckMode::DupsOk];

fn connect(server: &ServerProcess) -> Connection {
    let conn = Connection::open(&server.url(), &ConnectOptions::default()).unwrap();
    conn.start().unwrap();
    conn
}

fn send(conn: &Connection, queue: &Destination, bodies: impl IntoIterator<Item = String>, mode: DeliveryMode) {
    let s = conn.create_session(AckMode::Auto).unwrap();
    let mut p = s.create_producer(Some(queue.clone())).unwrap();
    p.set_options(SendOptions { delivery_mode: mode, ..SendOptions::default() }).unwrap();
    for body in bodies {
        p.send(Message::text(body)).unwrap();
    }
    s.close();
}

/// What another connection finds on `queue` (taken and acknowledged).
fn left_on(server: &ServerProcess, queue: &Destination) -> Vec<String> {
    let conn = connect(server);
    let s = conn.create_session(AckMode::Auto).unwrap();
    let c = s.create_consumer(queue, &ConsumerOptions::default()).unwrap();
    let mut left = Vec::new();
    while let Some(d) = c.receive_timeout(Duration::from_millis(300)).unwrap() {
        left.push(d.text_body().unwrap().to_owned());
    }
    left
}

#[test]
fn every_acknowledgement_reaches_the_server_before_what_follows_it() {
    let server = ServerProcess::start("");
    for mode in MODES {
        for delivery in [DeliveryMode::Persistent, DeliveryMode::NonPersistent] {
            let q = Destination::queue(format!("held.{mode:?}.{delivery:?}"));
            let conn = connect(&server);
            send(&conn, &q, (0..300).map(|k| k.to_string()), delivery);
            let s = conn.create_session(mode).unwrap();
            let c = s.create_consumer(&q, &ConsumerOptions::default()).unwrap();
            for k in 0..300 {
                let d = c.receive_held(Some(WAIT)).unwrap().expect("a message");
                assert_eq!(d.text_body(), Some(k.to_string().as_str()));
                assert!(!d.redelivered());
                s.acknowledge_held().unwrap();
            }
            // Any answered request comes after the acknowledgements on the wire (DUPS_OK
            // ones travel lazily, with it): the server has carried them out. The session
            // stays open, so nothing is returned by a close.
            let _answered = conn.create_session(AckMode::Client).unwrap();
            assert_eq!(left_on(&server, &q), Vec::<String>::new(), "{mode:?} {delivery:?}: every message was acknowledged");
            drop((c, s, conn));
        }
    }
}

#[test]
fn a_recover_right_after_an_acknowledgement_redelivers_only_the_failed_message() {
    let server = ServerProcess::start("");
    for mode in MODES {
        let q = Destination::queue(format!("recover-race.{mode:?}"));
        let conn = connect(&server);
        let rounds = 50;
        send(&conn, &q, (0..2 * rounds).map(|k| k.to_string()), DeliveryMode::Persistent);
        let s = conn.create_session(mode).unwrap();
        let c = s.create_consumer(&q, &ConsumerOptions::default()).unwrap();
        for round in 0..rounds {
            // The listener takes one message and returns...
            let ok = c.receive_held(Some(WAIT)).unwrap().expect("a message");
            assert_eq!(ok.text_body(), Some((2 * round).to_string().as_str()), "{mode:?}");
            s.acknowledge_held().unwrap();
            // ...then fails on the next, and the session recovers at once, while the
            // acknowledgement may still be on its way.
            let failed = c.receive_held(Some(WAIT)).unwrap().expect("a message");
            let body = (2 * round + 1).to_string();
            assert_eq!(failed.text_body(), Some(body.as_str()), "{mode:?}");
            s.recover().unwrap();
            let again = c.receive_held(Some(WAIT)).unwrap().expect("the failed message again");
            assert_eq!(again.text_body(), Some(body.as_str()), "{mode:?}: the acknowledged one never comes back");
            assert!(again.redelivered(), "{mode:?}: a listener's message counts as delivered");
            assert_eq!(again.delivery_count(), 2);
            s.acknowledge_held().unwrap();
        }
        s.close();
        assert_eq!(left_on(&server, &q), Vec::<String>::new(), "{mode:?}");
    }
}

#[test]
fn an_unacknowledged_listener_message_returns_redelivered_when_the_session_closes() {
    let server = ServerProcess::start("");
    for mode in MODES {
        let q = Destination::queue(format!("held-close.{mode:?}"));
        let conn = connect(&server);
        send(&conn, &q, ["a".to_owned(), "b".to_owned()], DeliveryMode::Persistent);
        let s = conn.create_session(mode).unwrap();
        let c = s.create_consumer(&q, &ConsumerOptions::default()).unwrap();
        assert_eq!(c.receive_held(Some(WAIT)).unwrap().unwrap().text_body(), Some("a"));
        s.close();

        let s = conn.create_session(AckMode::Auto).unwrap();
        let c = s.create_consumer(&q, &ConsumerOptions::default()).unwrap();
        let a = c.receive_timeout(WAIT).unwrap().unwrap();
        assert_eq!((a.text_body(), a.redelivered()), (Some("a"), true), "{mode:?}: handed to a listener, so delivered");
        // "b" was only buffered by the client: it comes back as a first delivery.
        let b = c.receive_timeout(WAIT).unwrap().unwrap();
        assert_eq!((b.text_body(), b.redelivered()), (Some("b"), false), "{mode:?}");
    }
}

#[test]
fn a_consumer_closed_by_its_own_listener_leaves_the_message_to_the_session() {
    let server = ServerProcess::start("");
    for mode in MODES {
        // The listener closes its consumer, then returns: its message is acknowledged.
        let q = Destination::queue(format!("listener-closes.{mode:?}"));
        let conn = connect(&server);
        send(&conn, &q, ["a".to_owned(), "b".to_owned()], DeliveryMode::Persistent);
        let s = conn.create_session(mode).unwrap();
        let c = s.create_consumer(&q, &ConsumerOptions::default()).unwrap();
        assert_eq!(c.receive_held(Some(WAIT)).unwrap().unwrap().text_body(), Some("a"));
        c.close();
        s.acknowledge_held().unwrap();
        let _answered = conn.create_session(AckMode::Client).unwrap();
        assert_eq!(left_on(&server, &q), vec!["b".to_owned()], "{mode:?}: \"a\" was acknowledged");

        // The listener closes its consumer, then fails: the session recovers it.
        let q = Destination::queue(format!("listener-closes-fails.{mode:?}"));
        send(&conn, &q, ["c".to_owned()], DeliveryMode::Persistent);
        let c = s.create_consumer(&q, &ConsumerOptions::default()).unwrap();
        assert_eq!(c.receive_held(Some(WAIT)).unwrap().unwrap().text_body(), Some("c"));
        c.close();
        s.recover().unwrap();
        let c = s.create_consumer(&q, &ConsumerOptions::default()).unwrap();
        let again = c.receive_held(Some(WAIT)).unwrap().unwrap();
        assert_eq!((again.text_body(), again.redelivered()), (Some("c"), true), "{mode:?}");
        s.acknowledge_held().unwrap();
        s.close();
        assert_eq!(left_on(&server, &q), Vec::<String>::new(), "{mode:?}");
    }
}

#[test]
fn a_failure_that_nobody_waited_for_is_left_for_the_next_send_not_the_acknowledgement() {
    let server = ServerProcess::start("");
    for mode in MODES {
        let conn = connect(&server);
        let q = Destination::queue(format!("ack-reports.{mode:?}"));
        send(&conn, &q, ["a".to_owned(), "b".to_owned()], DeliveryMode::Persistent);
        let s = conn.create_session(mode).unwrap();
        let c = s.create_consumer(&q, &ConsumerOptions::default()).unwrap();
        // A NON_PERSISTENT send leaves without waiting; the server refuses it (the
        // temporary queue is gone).
        let gone = conn.create_temporary_queue().unwrap();
        conn.delete_temporary(&gone).unwrap();
        let mut p = s.create_producer(Some(gone)).unwrap();
        p.set_options(SendOptions { delivery_mode: DeliveryMode::NonPersistent, ..SendOptions::default() }).unwrap();
        p.send(Message::text("to nowhere")).unwrap();
        assert_eq!(c.receive_held(Some(WAIT)).unwrap().unwrap().text_body(), Some("a"));
        // The refusal has arrived once an answered request is back.
        let _answered = conn.create_session(AckMode::Client).unwrap();
        // The acknowledgement does not take the failure: a transacted session on this
        // connection must still find its failed send at commit.
        s.acknowledge_held().unwrap();
        let e = p.send(Message::text("again")).expect_err("the next send reports the failed send");
        assert_eq!(e.kind(), ErrorKind::InvalidDestination, "{mode:?}: {e}");
        // Reported once.
        assert_eq!(c.receive_held(Some(WAIT)).unwrap().unwrap().text_body(), Some("b"));
        s.acknowledge_held().unwrap();
        let _answered = conn.create_session(AckMode::Client).unwrap();
        assert_eq!(left_on(&server, &q), Vec::<String>::new(), "{mode:?}");
    }
}
