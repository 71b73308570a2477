//! The everyday commands against the real `herald serve`, and a consumer process killed
//! mid-stream.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use common::{ServerProcess, HERALD};
use herald_core::client::{AckMode, ConnectOptions, Connection, ConsumerOptions};
use herald_core::{Destination, Value};

fn herald(server: &ServerProcess, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(HERALD)
        .args(args)
        .args(["--url", &server.url()])
        .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    }
    child.wait_with_output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

#[test]
fn send_receive_browse_and_stat() {
    let server = ServerProcess::start("");
    let sent = herald(&server, &["send", "--queue", "cli", "--property", "n=7", "--property", "s:string=7", "hello"], None);
    assert!(sent.status.success(), "{}", stderr(&sent));
    let sent = herald(&server, &["send", "--queue", "cli", "--non-persistent"], Some("line one\nline two\n"));
    assert!(sent.status.success(), "{}", stderr(&sent));
    let sent = herald(&server, &["send", "--queue", "cli", "--count", "2", "--size", "5"], None);
    assert!(sent.status.success(), "{}", stderr(&sent));

    let browsed = herald(&server, &["browse", "--queue", "cli"], None);
    assert_eq!(stdout(&browsed), "hello\nline one\nline two\nxxxxx\nxxxxx\n");

    let stat = herald(&server, &["stat"], None);
    assert!(stat.status.success());
    let line = stdout(&stat).lines().find(|l| l.starts_with("queue://cli")).unwrap().to_owned();
    let fields: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(fields, ["queue://cli", "5", "0", "5", "0"]);

    // The property types as sent: inferred int, forced string.
    let conn = Connection::open(&server.url(), &ConnectOptions::default()).unwrap();
    let s = conn.create_session(AckMode::Auto).unwrap();
    let first = s.create_browser(&Destination::queue("cli"), None).unwrap().next().unwrap();
    assert_eq!(first.property("n"), Some(&Value::Int(7)));
    assert_eq!(first.property("s"), Some(&Value::String("7".into())));
    drop(s);
    drop(conn);

    let received = herald(&server, &["receive", "--queue", "cli", "--count", "3"], None);
    assert!(received.status.success(), "{}", stderr(&received));
    assert_eq!(stdout(&received), "hello\nline one\nline two\n");

    let verbose = herald(&server, &["receive", "--queue", "cli", "--verbose"], None);
    let text = stdout(&verbose);
    assert!(text.contains("# JMSDeliveryMode: PERSISTENT"), "{text}");
    assert!(text.ends_with("xxxxx\n"), "{text}");

    let selected = herald(&server, &["receive", "--queue", "cli", "--selector", "n = 1", "--timeout", "300"], None);
    assert_eq!(selected.status.code(), Some(3));
    assert_eq!(stdout(&selected), "");
    assert_eq!(stderr(&selected).lines().count(), 1, "{}", stderr(&selected));
    assert!(stderr(&selected).contains("timed out"));

    let last = herald(&server, &["receive", "--queue", "cli", "--timeout", "5000"], None);
    assert!(last.status.success());
    assert_eq!(stdout(&last), "xxxxx\n");
}

#[test]
fn bench_reports_throughput_and_round_trips_next_to_their_baselines() {
    let server = ServerProcess::start("");
    let run = herald(&server, &["bench", "--count", "200", "--producers", "2", "--persistent", "--baseline"], None);
    assert!(run.status.success(), "{}", stderr(&run));
    let out = stdout(&run);
    for line in ["200 messages of 1024 bytes, PERSISTENT, 2P/1C via tcp://", "2P/1C via vm://", "ratio: "] {
        assert!(out.contains(line), "no \"{line}\" in:\n{out}");
    }
    assert_eq!(out.matches("throughput: ").count(), 2, "{out}");
    let rr = herald(&server, &["bench", "--request-reply", "--baseline", "--count", "100"], None);
    assert!(rr.status.success(), "{}", stderr(&rr));
    let out = stdout(&rr);
    for line in ["100 request/reply round trips", "round trip: p50", "raw TCP relay, same path without a broker: p50", "p50 ratio:"] {
        assert!(out.contains(line), "no \"{line}\" in:\n{out}");
    }
}

/// Runs `herald args` with its stdout a pipe whose reading end is already closed, as in
/// `herald ... | head -0`.
fn herald_into_closed_pipe(server: &ServerProcess, args: &[&str]) -> Output {
    let mut child = Command::new(HERALD)
        .args(args)
        .args(["--url", &server.url()])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    child.wait_with_output().unwrap()
}

#[test]
fn a_closed_stdout_is_a_one_line_error_and_loses_no_message() {
    let server = ServerProcess::start("");
    let bench = herald_into_closed_pipe(&server, &["bench", "--count", "100"]);
    assert_eq!(bench.status.code(), Some(1), "{}", stderr(&bench));
    assert_eq!(stderr(&bench).trim(), "herald: cannot write: Broken pipe (os error 32)");

    assert!(herald(&server, &["send", "--queue", "piped", "kept"], None).status.success());
    let receive = herald_into_closed_pipe(&server, &["receive", "--queue", "piped"]);
    assert_eq!(receive.status.code(), Some(1), "{}", stderr(&receive));
    assert_eq!(stderr(&receive).lines().count(), 1, "{}", stderr(&receive));
    // The message was not printed, so it was not acknowledged: it is still there.
    let again = herald(&server, &["receive", "--queue", "piped", "--timeout", "5000"], None);
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(stdout(&again), "kept\n");
}

#[test]
fn durable_receive_keeps_messages_between_runs() {
    let server = ServerProcess::start("");
    let args = ["receive", "--topic", "alerts", "--durable", "me", "--client-id", "cli-test", "--timeout", "200"];
    let first = herald(&server, &args, None);
    assert_eq!(first.status.code(), Some(3), "{}", stderr(&first));
    let sent = herald(&server, &["send", "--topic", "alerts", "fire"], None);
    assert!(sent.status.success());
    let second = herald(&server, &args, None);
    assert!(second.status.success(), "{}", stderr(&second));
    assert_eq!(stdout(&second), "fire\n");
}

#[test]
fn errors_are_one_line_and_a_failure_status() {
    let server = ServerProcess::start("");
    let bad_selector = herald(&server, &["receive", "--queue", "q", "--selector", "a >"], None);
    assert!(!bad_selector.status.success());
    assert_ne!(bad_selector.status.code(), Some(3));
    assert_eq!(stderr(&bad_selector).lines().count(), 1, "{}", stderr(&bad_selector));

    let bad_property = herald(&server, &["send", "--queue", "q", "--property", "a:int=x", "b"], None);
    assert!(!bad_property.status.success());
    assert_eq!(stderr(&bad_property).lines().count(), 1);

    let port = common::free_port();
    let nobody = Command::new(HERALD)
        .args(["send", "--queue", "q", "--url", &format!("tcp://127.0.0.1:{port}"), "x"])
        .output()
        .unwrap();
    assert!(!nobody.status.success());
    assert_eq!(String::from_utf8(nobody.stderr).unwrap().lines().count(), 1);
}

#[test]
fn a_second_server_on_the_same_port_or_data_directory_refuses_to_start() {
    let server = ServerProcess::start("");
    let same_port = Command::new(HERALD)
        .args(["serve", "--listen", &server.addr.to_string(), "--data"])
        .arg(server.data.0.join("other"))
        .output()
        .unwrap();
    assert!(!same_port.status.success());
    assert!(String::from_utf8(same_port.stderr).unwrap().contains("in use"));

    let other_port = common::free_port();
    let same_data = Command::new(HERALD)
        .args(["serve", "--listen", &format!("127.0.0.1:{other_port}"), "--data"])
        .arg(server.data.0.join("data"))
        .output()
        .unwrap();
    assert!(!same_data.status.success());
    assert!(String::from_utf8(same_data.stderr).unwrap().contains("in use by another broker"));
}

#[test]
fn sigterm_stops_the_server_cleanly() {
    let mut server = ServerProcess::start("");
    let conn = Connection::open(&server.url(), &ConnectOptions::default()).unwrap();
    let status = Command::new("kill").args(["-TERM", &server.child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    let exit = loop {
        if let Some(s) = server.child.try_wait().unwrap() {
            break s;
        }
        assert!(std::time::Instant::now() < deadline, "the server did not stop");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(exit.success(), "{exit:?}");
    // The client learns that the server went away.
    let s = conn.create_session(AckMode::Auto);
    assert!(s.is_err() || conn.is_closed());
}

/// Run as a child process by `a_killed_consumer_s_messages_go_to_another`: takes two
/// messages without acknowledging them, says so, and waits to be killed.
#[test]
#[ignore = "a helper process, run by another test"]
fn child_consumer() {
    let Ok(url) = std::env::var("HERALD_CHILD_URL") else { return };
    let conn = Connection::open(&url, &ConnectOptions::default()).unwrap();
    conn.start().unwrap();
    let s = conn.create_session(AckMode::Client).unwrap();
    let c = s.create_consumer(&Destination::queue("work"), &ConsumerOptions::default()).unwrap();
    for _ in 0..2 {
        let d = c.receive_timeout(Duration::from_secs(10)).unwrap().unwrap();
        println!("got {}", d.text_body().unwrap());
    }
    // A round trip: the server has now seen that the application received both (a
    // receive reports that without waiting).
    conn.start().unwrap();
    println!("ready");
    std::io::stdout().flush().unwrap();
    std::thread::sleep(Duration::from_secs(60));
}

#[test]
fn a_killed_consumer_s_messages_go_to_another() {
    let server = ServerProcess::start("");
    let sent = herald(&server, &["send", "--queue", "work"], Some("w1\nw2\nw3\n"));
    assert!(sent.status.success(), "{}", stderr(&sent));
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_consumer", "--ignored", "--nocapture", "--test-threads", "1"])
        .env("HERALD_CHILD_URL", server.url())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut got = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        // The test harness may print its own prefix on the same line.
        if line.ends_with("ready") {
            break;
        }
        if let Some((_, body)) = line.rsplit_once("got ") {
            got.push(body.to_owned());
        }
    }
    assert_eq!(got, ["w1", "w2"]);
    child.kill().unwrap(); // SIGKILL: no goodbye
    child.wait().unwrap();

    let conn = Connection::open(&server.url(), &ConnectOptions::default()).unwrap();
    conn.start().unwrap();
    let s = conn.create_session(AckMode::Auto).unwrap();
    let c = s.create_consumer(&Destination::queue("work"), &ConsumerOptions::default()).unwrap();
    let mut again = Vec::new();
    for _ in 0..3 {
        let d = c.receive_timeout(Duration::from_secs(10)).unwrap().expect("redelivered after the kill");
        again.push((d.text_body().unwrap().to_owned(), d.redelivered()));
    }
    assert_eq!(again, [("w1".into(), true), ("w2".into(), true), ("w3".into(), false)]);
}

#[test]
fn persistent_messages_survive_kill_9() {
    let mut first = ServerProcess::start("");
    let sent = herald(&first, &["send", "--queue", "durable"], Some("p1\np2\np3\n"));
    assert!(sent.status.success(), "{}", stderr(&sent));
    let sent = herald(&first, &["send", "--queue", "durable", "--non-persistent", "gone"], None);
    assert!(sent.status.success());
    let got = herald(&first, &["receive", "--queue", "durable"], None);
    assert_eq!(stdout(&got), "p1\n");
    // p2 is delivered and not acknowledged when the server dies.
    let conn = Connection::open(&first.url(), &ConnectOptions::default()).unwrap();
    conn.start().unwrap();
    let s = conn.create_session(AckMode::Client).unwrap();
    let options = ConsumerOptions { prefetch: Some(0), ..ConsumerOptions::default() };
    let c = s.create_consumer(&Destination::queue("durable"), &options).unwrap();
    assert_eq!(c.receive_timeout(Duration::from_secs(5)).unwrap().unwrap().text_body(), Some("p2"));
    conn.start().unwrap(); // a round trip: the server has seen the receive

    first.kill(); // SIGKILL
    let data = std::mem::replace(&mut first.data, common::TempDir::new("unused"));
    drop(first);
    drop(c);
    drop(s);
    drop(conn);
    let second = ServerProcess::start_in("", data);
    let conn = Connection::open(&second.url(), &ConnectOptions::default()).unwrap();
    conn.start().unwrap();
    let s = conn.create_session(AckMode::Auto).unwrap();
    let c = s.create_consumer(&Destination::queue("durable"), &ConsumerOptions::default()).unwrap();
    let mut after = Vec::new();
    while let Some(d) = c.receive_timeout(Duration::from_millis(500)).unwrap() {
        after.push((d.text_body().unwrap().to_owned(), d.redelivered()));
    }
    assert_eq!(after, [("p2".into(), true), ("p3".into(), false)]);
}
