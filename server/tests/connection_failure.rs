//! `Connection::wait_for_failure`: how a binding learns that a `tcp://` connection broke
//! without any call of its own failing (the JMS ExceptionListener sits on it).

mod common;

use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::ServerProcess;
use herald_core::client::{AckMode, ConnectOptions, Connection};
use herald_core::{Destination, ErrorKind, Message};

#[test]
fn a_killed_server_wakes_the_failure_waiter_at_once_with_the_cause() {
    let mut server = ServerProcess::start("");
    let conn = std::sync::Arc::new(Connection::open(&server.url(), &ConnectOptions::default()).unwrap());
    conn.start().unwrap();
    let session = conn.create_session(AckMode::Auto).unwrap();
    let q = Destination::queue("failure-waiter");
    session.create_producer(Some(q.clone())).unwrap().send(Message::text("before")).unwrap();

    // Nothing has failed: the wait times out.
    assert!(conn.wait_for_failure(Some(Duration::from_millis(50))).is_none());

    let (tx, rx) = mpsc::channel();
    let c = conn.clone();
    let waiter = std::thread::spawn(move || {
        let failure = c.wait_for_failure(None);
        tx.send((failure, Instant::now())).unwrap();
    });
    std::thread::sleep(Duration::from_millis(100));
    assert!(rx.try_recv().is_err(), "the waiter returned while the server was up");

    let killed_at = Instant::now();
    server.kill();
    let (failure, woke_at) = rx.recv_timeout(Duration::from_secs(10)).expect("the waiter woke after the kill");
    let error = failure.expect("a killed server is a failure");
    assert_eq!(error.kind(), ErrorKind::Io, "{error}");
    assert!(error.message().contains("lost"), "the cause names the lost connection: {error}");
    assert!(
        error.message().contains("Herald does not reconnect") && error.message().contains("create a new connection"),
        "the error says what the application must do: {error}"
    );
    // Promptly: the reader sees the socket close; no heartbeat interval or polling period.
    assert!(woke_at.duration_since(killed_at) < Duration::from_secs(2), "woke {:?} after the kill", woke_at - killed_at);
    waiter.join().unwrap();

    // Once failed, it stays failed, and calls report the same failure.
    assert!(conn.wait_for_failure(Some(Duration::ZERO)).is_some());
    assert!(conn.is_closed());
    let after = session.create_producer(Some(q)).and_then(|p| p.send(Message::text("after"))).unwrap_err();
    assert_eq!(after.message(), error.message(), "every later call reports the same failure");
}

#[test]
fn closing_the_connection_releases_the_waiter_without_a_failure() {
    let server = ServerProcess::start("");
    let conn = std::sync::Arc::new(Connection::open(&server.url(), &ConnectOptions::default()).unwrap());
    let c = conn.clone();
    let waiter = std::thread::spawn(move || c.wait_for_failure(None));
    std::thread::sleep(Duration::from_millis(100));
    conn.close();
    let failure = waiter.join().unwrap();
    assert!(failure.is_none(), "an orderly close is not a failure: {failure:?}");
    assert!(conn.wait_for_failure(None).is_none(), "a closed connection does not block the waiter");
}

#[test]
fn a_vm_connection_never_fails_and_its_close_releases_the_waiter() {
    let conn = std::sync::Arc::new(Connection::open("vm://failure-waiter", &ConnectOptions::default()).unwrap());
    assert!(conn.wait_for_failure(Some(Duration::from_millis(20))).is_none());
    let c = conn.clone();
    let waiter = std::thread::spawn(move || c.wait_for_failure(None));
    std::thread::sleep(Duration::from_millis(50));
    conn.close();
    assert!(waiter.join().unwrap().is_none());
}
