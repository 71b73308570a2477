//! `tcps://`: the client API and the commands over TLS against the real `herald serve`
//! with a TLS listener, and the errors a client gets when it cannot trust the server.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{test_data, ServerProcess, HERALD};
use herald_core::client::{AckMode, ConnectOptions, Connection, ConsumerOptions, SendOptions};
use herald_core::{Destination, ErrorKind, Message};

const WAIT: Duration = Duration::from_secs(10);

fn tls_url(server: &ServerProcess, host: &str, ca: &str) -> String {
    format!("tcps://{host}:{}?ca={}", server.addr.port(), test_data(ca))
}

#[test]
fn the_client_sends_and_receives_over_tls() {
    let server = ServerProcess::start_tls();
    let url = tls_url(&server, "localhost", "ca.pem");
    let conn = Connection::open(&url, &ConnectOptions::default()).expect("a client trusting the CA connects");
    conn.start().unwrap();
    let session = conn.create_session(AckMode::Auto).unwrap();
    let queue = Destination::queue("tls.orders");
    let producer = session.create_producer(Some(queue.clone())).unwrap();
    // Many small messages (several frames per TLS record) and a large one (a frame over
    // many records).
    for i in 0..500 {
        producer.send(Message::text(format!("order {i}"))).unwrap();
    }
    let big = "x".repeat(300 * 1024);
    producer.send(Message::text(big.clone())).unwrap();
    let consumer = session.create_consumer(&queue, &ConsumerOptions::default()).unwrap();
    for i in 0..500 {
        let got = consumer.receive_timeout(WAIT).unwrap().expect("a message over TLS");
        assert_eq!(got.text_body(), Some(format!("order {i}").as_str()));
    }
    let got = consumer.receive_timeout(WAIT).unwrap().expect("the large message");
    assert_eq!(got.text_body().map(str::len), Some(big.len()));
    assert_eq!(got.text_body(), Some(big.as_str()));

    // Request/reply through a temporary queue, by IP address (the certificate names
    // 127.0.0.1 too).
    let other = Connection::open(&tls_url(&server, "127.0.0.1", "ca.pem"), &ConnectOptions::default()).unwrap();
    other.start().unwrap();
    let replies = conn.create_temporary_queue().unwrap();
    let requests = Destination::queue("tls.requests");
    let responder_session = other.create_session(AckMode::Auto).unwrap();
    let responder = responder_session.create_consumer(&requests, &ConsumerOptions::default()).unwrap();
    let reply_producer = responder_session.create_producer(None).unwrap();
    let mut request = Message::text("ping");
    request.reply_to = Some(replies.clone());
    session.create_producer(Some(requests.clone())).unwrap().send(request).unwrap();
    let got = responder.receive_timeout(WAIT).unwrap().expect("the request");
    reply_producer
        .send_with(got.message().reply_to.as_ref(), Message::text("pong"), &SendOptions::default())
        .unwrap();
    let reply_consumer = session.create_consumer(&replies, &ConsumerOptions::default()).unwrap();
    let reply = reply_consumer.receive_timeout(WAIT).unwrap().expect("the reply");
    assert_eq!(reply.text_body(), Some("pong"));
    other.close();
    conn.close();
}

#[test]
fn a_client_that_does_not_trust_the_server_gets_a_security_error() {
    let server = ServerProcess::start_tls();
    let started = Instant::now();
    let e = Connection::open(&tls_url(&server, "localhost", "other-ca.pem"), &ConnectOptions::default())
        .err()
        .expect("a client trusting another CA refuses the server");
    assert_eq!(e.kind(), ErrorKind::Security, "{e}");
    assert!(e.message().contains("TLS") && e.message().contains("certificate"), "says why: {e}");
    assert!(started.elapsed() < WAIT, "fails at once, not by a timeout");

    // A name the certificate does not carry is refused too, even with the right CA.
    let port = server.addr.port();
    let wrong_name = format!("tcps://localhost.localdomain:{port}?ca={}", test_data("ca.pem"));
    let alias_resolves_here = std::net::ToSocketAddrs::to_socket_addrs(&format!("localhost.localdomain:{port}"))
        .is_ok_and(|mut addrs| addrs.any(|a| a == server.addr));
    if alias_resolves_here {
        let e = Connection::open(&wrong_name, &ConnectOptions::default()).err().expect("the name must match");
        assert_eq!(e.kind(), ErrorKind::Security, "{e}");
    }

    // The server is unharmed: a client that trusts it still gets in.
    let conn = Connection::open(&tls_url(&server, "localhost", "ca.pem"), &ConnectOptions::default()).unwrap();
    conn.create_session(AckMode::Auto).unwrap();
    conn.close();
}

#[test]
fn tls_to_a_plain_listener_and_plain_to_a_tls_listener_fail_cleanly() {
    let plain = ServerProcess::start("");
    let url = format!("tcps://127.0.0.1:{}?ca={}", plain.addr.port(), test_data("ca.pem"));
    let e = Connection::open(&url, &ConnectOptions::default()).err().expect("no TLS there");
    assert_eq!(e.kind(), ErrorKind::Io, "{e}");
    assert!(e.message().contains("TLS"), "{e}");

    let tls = ServerProcess::start_tls();
    let e = Connection::open(&format!("tcp://{}", tls.addr), &ConnectOptions::default()).err().expect("TLS only");
    assert_eq!(e.kind(), ErrorKind::Io, "{e}");
    assert!(e.message().contains("tcps://"), "says what to do: {e}");
}

#[test]
fn the_commands_take_a_tcps_url() {
    let server = ServerProcess::start_tls();
    let url = tls_url(&server, "localhost", "ca.pem");
    let sent = Command::new(HERALD)
        .args(["send", "--queue", "tls.cli", "--url", &url, "over tls"])
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert!(sent.status.success(), "{}", String::from_utf8_lossy(&sent.stderr));
    let received = Command::new(HERALD)
        .args(["receive", "--queue", "tls.cli", "--timeout", "10000", "--url", &url])
        .output()
        .unwrap();
    assert!(received.status.success(), "{}", String::from_utf8_lossy(&received.stderr));
    assert_eq!(String::from_utf8(received.stdout).unwrap(), "over tls\n");

    let refused = Command::new(HERALD)
        .args(["send", "--queue", "tls.cli", "--url", &tls_url(&server, "localhost", "other-ca.pem"), "x"])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let stderr = String::from_utf8(refused.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(stderr.contains("certificate"), "{stderr}");
}
