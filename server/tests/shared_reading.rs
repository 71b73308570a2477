//! Over tcp://, a thread waiting in `receive` (or for a reply) reads the socket itself
//! when nobody else does. Whoever reads must hand every other thread its frames, give
//! the reading back when done, and still see timeouts, closes and a silent server.

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use common::InProcess;
use herald_core::client::{AckMode, ConnectOptions, Connection, ConsumerOptions};
use herald_core::wire::{self, Frame, FrameType, Reply, ReplyFrame, Request, RequestFrame, Welcome};
use herald_core::{Destination, ErrorKind, Message};

const WAIT: Duration = Duration::from_secs(10);

/// Several threads of one connection each wait on their own consumer, forever or with a
/// timeout; one of them reads for all. Each gets exactly its own messages, in order,
/// whichever thread happened to read them.
#[test]
fn threads_waiting_on_one_connection_each_get_their_own_messages() {
    let server = InProcess::start();
    let receiving = Arc::new(server.connect());
    receiving.start().unwrap();
    const THREADS: usize = 4;
    const EACH: usize = 300;
    let mut handles = Vec::new();
    let (ready_tx, ready_rx) = mpsc::channel();
    for t in 0..THREADS {
        let conn = receiving.clone();
        let ready = ready_tx.clone();
        handles.push(std::thread::spawn(move || {
            let session = conn.create_session(AckMode::Auto).unwrap();
            let consumer = session.create_consumer(&Destination::queue(format!("own.{t}")), &ConsumerOptions::default()).unwrap();
            ready.send(()).unwrap();
            let mut got = Vec::new();
            for _ in 0..EACH {
                // Half the threads wait forever, half with a deadline.
                let d = if t % 2 == 0 { consumer.receive().unwrap() } else { consumer.receive_timeout(WAIT).unwrap() };
                got.push(d.expect("a message").text_body().unwrap().to_owned());
            }
            got
        }));
    }
    for _ in 0..THREADS {
        ready_rx.recv().unwrap();
    }
    let sending = server.connect();
    let session = sending.create_session(AckMode::Auto).unwrap();
    let producer = session.create_producer(None).unwrap();
    let options = producer.options().clone();
    for i in 0..EACH {
        for t in 0..THREADS {
            let queue = Destination::queue(format!("own.{t}"));
            producer.send_with(Some(&queue), Message::text(format!("{t}:{i}")), &options).unwrap();
        }
        if i % 50 == 0 {
            // Let the receivers drain and wait again, so the reading changes hands.
            std::thread::sleep(Duration::from_millis(7));
        }
    }
    for (t, h) in handles.into_iter().enumerate() {
        let got = h.join().unwrap();
        let expected: Vec<String> = (0..EACH).map(|i| format!("{t}:{i}")).collect();
        assert_eq!(got, expected, "thread {t}");
    }
}

/// A receive that reads the socket itself still ends at its deadline, gives the
/// reading back, and the next receive gets what arrives later.
#[test]
fn a_receive_that_reads_the_socket_ends_at_its_deadline() {
    let server = InProcess::start();
    let conn = server.connect();
    conn.start().unwrap();
    let session = conn.create_session(AckMode::Auto).unwrap();
    let queue = Destination::queue("deadline");
    let consumer = session.create_consumer(&queue, &ConsumerOptions::default()).unwrap();
    for _ in 0..3 {
        let started = Instant::now();
        assert!(consumer.receive_timeout(Duration::from_millis(150)).unwrap().is_none());
        let took = started.elapsed();
        assert!(took >= Duration::from_millis(150) && took < Duration::from_secs(3), "took {took:?}");
    }
    let other = server.connect();
    let s = other.create_session(AckMode::Auto).unwrap();
    s.create_producer(Some(queue)).unwrap().send(Message::text("late")).unwrap();
    assert_eq!(consumer.receive_timeout(WAIT).unwrap().unwrap().text_body(), Some("late"));
}

/// receiveNoWait returns a message the server pushed earlier, whoever was reading.
#[test]
fn receive_no_wait_returns_what_was_pushed_meanwhile() {
    let server = InProcess::start();
    let conn = server.connect();
    conn.start().unwrap();
    let session = conn.create_session(AckMode::Auto).unwrap();
    let queue = Destination::queue("nowait");
    let consumer = session.create_consumer(&queue, &ConsumerOptions::default()).unwrap();
    let other = server.connect();
    let s = other.create_session(AckMode::Auto).unwrap();
    let producer = s.create_producer(Some(queue)).unwrap();
    assert!(consumer.receive_no_wait().unwrap().is_none());
    for i in 0..20 {
        producer.send(Message::text(format!("m{i}"))).unwrap();
        std::thread::sleep(Duration::from_millis(if i % 2 == 0 { 30 } else { 60 }));
        let d = consumer.receive_no_wait().unwrap().unwrap_or_else(|| panic!("message {i} was pushed but not seen"));
        assert_eq!(d.text_body(), Some(format!("m{i}").as_str()));
        assert!(consumer.receive_no_wait().unwrap().is_none());
    }
}

/// Closing the consumer, or the connection, from another thread ends a receive that is
/// reading the socket.
#[test]
fn closing_from_another_thread_ends_a_receive_that_reads() {
    let server = InProcess::start();
    let conn = Arc::new(server.connect());
    conn.start().unwrap();
    let session = conn.create_session(AckMode::Auto).unwrap();
    let consumer = Arc::new(session.create_consumer(&Destination::queue("closing"), &ConsumerOptions::default()).unwrap());
    let c = consumer.clone();
    let waiting = std::thread::spawn(move || {
        let started = Instant::now();
        let result = c.receive().map(|d| d.is_some());
        (result, started.elapsed())
    });
    std::thread::sleep(Duration::from_millis(100));
    consumer.close();
    let (result, took) = waiting.join().unwrap();
    assert!(!matches!(result, Ok(true)), "no message was sent: {result:?}");
    assert!(took < Duration::from_secs(5), "the receive outlived the close by {took:?}");

    let session = conn.create_session(AckMode::Auto).unwrap();
    let consumer = session.create_consumer(&Destination::queue("closing.2"), &ConsumerOptions::default()).unwrap();
    let waiting = std::thread::spawn(move || {
        let started = Instant::now();
        let result = consumer.receive().map(|d| d.is_some());
        (result, started.elapsed())
    });
    std::thread::sleep(Duration::from_millis(100));
    conn.close();
    let (result, took) = waiting.join().unwrap();
    assert!(!matches!(result, Ok(true)), "no message was sent: {result:?}");
    assert!(took < Duration::from_secs(5), "the receive outlived the close by {took:?}");
}

/// A wake-up hook (a MessageListener) is called for each message as it arrives, with
/// nobody waiting in a receive.
#[test]
fn wakeup_hooks_hear_of_every_message_without_a_waiting_receive() {
    let server = InProcess::start();
    let conn = server.connect();
    conn.start().unwrap();
    let session = conn.create_session(AckMode::Auto).unwrap();
    let queue = Destination::queue("hooked");
    let consumer = session.create_consumer(&queue, &ConsumerOptions::default()).unwrap();
    let rung = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = mpsc::channel();
    let tx = std::sync::Mutex::new(tx);
    let r = rung.clone();
    consumer
        .set_wakeup(Some(Arc::new(move || {
            r.fetch_add(1, Ordering::SeqCst);
            let _ = tx.lock().unwrap().send(());
        })))
        .unwrap();
    let other = server.connect();
    let s = other.create_session(AckMode::Auto).unwrap();
    let producer = s.create_producer(Some(queue)).unwrap();
    for i in 0..30 {
        producer.send(Message::text(format!("h{i}"))).unwrap();
        let mut got = None;
        let deadline = Instant::now() + WAIT;
        while got.is_none() {
            let left = deadline.saturating_duration_since(Instant::now());
            rx.recv_timeout(left).unwrap_or_else(|_| panic!("no wake-up for message {i}"));
            got = consumer.receive_no_wait().unwrap();
        }
        assert_eq!(got.unwrap().text_body(), Some(format!("h{i}").as_str()));
    }
    assert!(rung.load(Ordering::SeqCst) >= 30);
}

/// A server that stops sending anything, heartbeats included, is given up on after
/// three heartbeat intervals, also when the one reading is a waiting receive.
#[test]
fn a_silent_server_fails_a_receive_that_reads() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let fake = std::thread::spawn(move || {
        let (mut socket, _) = listener.accept().unwrap();
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        let mut silent = false;
        loop {
            while let Some((frame, used)) = Frame::parse(&buf, wire::DEFAULT_MAX_FRAME).unwrap() {
                buf.drain(..used);
                let mut out = Vec::new();
                match frame {
                    Frame::Hello(_) => {
                        let welcome = Welcome {
                            version: wire::PROTOCOL_VERSION,
                            connection_id: 1,
                            heartbeat_ms: 100,
                            max_frame: wire::DEFAULT_MAX_FRAME,
                        };
                        wire::encode_into(&mut out, FrameType::Welcome, &welcome);
                    }
                    Frame::Request(RequestFrame { id, request }) if !silent && id != wire::NO_REPLY => {
                        // Answers until the connection starts, then says nothing more.
                        silent = matches!(request, Request::Start);
                        wire::encode_into(&mut out, FrameType::Reply, &ReplyFrame { id, result: Ok(Reply::Done) });
                    }
                    _ => {}
                }
                socket.write_all(&out).unwrap();
            }
            match socket.read(&mut chunk) {
                Ok(0) | Err(_) => break,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        let _ = done_rx.recv_timeout(WAIT);
    });
    let conn = Connection::open(&format!("tcp://{addr}"), &ConnectOptions::default()).unwrap();
    let session = conn.create_session(AckMode::Auto).unwrap();
    let consumer = session.create_consumer(&Destination::queue("silence"), &ConsumerOptions::default()).unwrap();
    conn.start().unwrap();
    let started = Instant::now();
    let e = consumer.receive_timeout(WAIT).unwrap_err();
    let took = started.elapsed();
    assert_eq!(e.kind(), ErrorKind::Io, "{e}");
    assert!(took >= Duration::from_millis(200) && took < Duration::from_secs(5), "gave up after {took:?}: {e}");
    assert!(conn.is_closed());
    conn.close();
    drop(done_tx);
    fake.join().unwrap();
}
