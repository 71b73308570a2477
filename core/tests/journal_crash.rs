//! Crash recovery: a child process sends, commits and acknowledges persistent messages
//! on a journaled broker while the parent kills it with SIGKILL at random moments, over
//! and over. The child prints each step before and after it happens; the parent then
//! checks what the broker recovers against what the child was told:
//!
//! - every message whose send (or transaction commit) returned is there, unless its
//!   acknowledgement may have happened;
//! - no message whose acknowledgement returned ever comes back;
//! - a rolled-back or uncommitted transaction leaves nothing, a committed one all;
//! - a message delivered and not acknowledged when the child died comes back with
//!   JMSRedelivered set.
//!
//! The child is this test binary itself, run with the `crash_child` filter and the
//! `HERALD_CRASH_CHILD` variable naming the data directory.

mod journal_support;

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use herald_core::client::{AckMode, ConnectOptions, Connection, ConsumerOptions};
use herald_core::{Destination, Message};
use journal_support::*;

const CHILD_ENV: &str = "HERALD_CRASH_CHILD";
const ROUND_ENV: &str = "HERALD_CRASH_ROUND";
const KILLS: usize = 40;
const QUEUE: &str = "crash.work";

/// A small xorshift generator: the test needs varied timing, not good randomness.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// The child's side: runs until killed. Not a test on its own (hence ignored): the crash
/// test starts it in a child process with `--ignored`.
#[test]
#[ignore = "the child process of kill_9_at_random_moments_loses_nothing_confirmed"]
fn crash_child() {
    // Run with --include-ignored outside the crash test, it has nothing to do.
    let Ok(dir) = std::env::var(CHILD_ENV) else { return };
    let round: u64 = std::env::var(ROUND_ENV).unwrap().parse().unwrap();
    let url = format!("vm://crash-child?dataDir={dir}");
    let connection = Connection::open(&url, &ConnectOptions::default()).unwrap();
    connection.start().unwrap();
    let queue = Destination::queue(QUEUE);
    let plain = connection.create_session(AckMode::Auto).unwrap();
    let producer = plain.create_producer(Some(queue.clone())).unwrap();
    let tx = connection.create_session(AckMode::Transacted).unwrap();
    let tx_producer = tx.create_producer(Some(queue.clone())).unwrap();
    let client = connection.create_session(AckMode::Client).unwrap();
    let consumer =
        client.create_consumer(&queue, &ConsumerOptions { prefetch: Some(0), ..ConsumerOptions::default() }).unwrap();
    let mut rng = Rng::new(round.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ std::process::id() as u64);
    let mut n = 0u64;
    let mut unacked: Vec<String> = Vec::new();
    println!("READY");
    loop {
        n += 1;
        let id = |k: u64| format!("r{round}-{n}-{k}");
        match rng.below(10) {
            0..=3 => {
                let m = id(0);
                println!("SENDING {m}");
                producer.send(Message::text(m.clone())).unwrap();
                println!("SENT {m}");
            }
            4 => {
                let ids: Vec<String> = (0..3).map(id).collect();
                for m in &ids {
                    tx_producer.send(Message::text(m.clone())).unwrap();
                }
                println!("COMMITTING {}", ids.join(" "));
                tx.commit().unwrap();
                println!("COMMITTED {}", ids.join(" "));
            }
            5 => {
                let ids: Vec<String> = (0..2).map(id).collect();
                for m in &ids {
                    tx_producer.send(Message::text(m.clone())).unwrap();
                }
                tx.rollback().unwrap();
                println!("ROLLEDBACK {}", ids.join(" "));
            }
            _ => {
                if let Some(d) = consumer.receive_timeout(Duration::from_millis(5)).unwrap() {
                    let m = d.text_body().unwrap().to_owned();
                    println!("DELIVERED {m} {}", u8::from(d.redelivered()));
                    unacked.push(m);
                    if rng.below(3) == 0 {
                        println!("ACKING {}", unacked.join(" "));
                        client.acknowledge().unwrap();
                        println!("ACKED {}", unacked.join(" "));
                        unacked.clear();
                    }
                }
            }
        }
    }
}

/// What the parent learned from the child's lines.
#[derive(Default)]
struct Ledger {
    sent: HashSet<String>,
    maybe_sent: HashSet<String>,
    acked: HashSet<String>,
    maybe_acked: HashSet<String>,
    rolled_back: HashSet<String>,
    /// Transactions whose commit started: their ids, and whether the commit returned.
    groups: Vec<(Vec<String>, bool)>,
    /// Delivered at some point (so not lost even if later acknowledged).
    seen: HashSet<String>,
    /// Delivered and not acknowledged when a child died: the next delivery must be
    /// marked redelivered.
    must_redeliver: HashSet<String>,
    redelivery_checks: usize,
    violations: Vec<String>,
}

impl Ledger {
    fn delivered(&mut self, id: &str, redelivered: bool) {
        if self.acked.contains(id) {
            self.violations.push(format!("{id} came back after its acknowledgement returned"));
        }
        if self.rolled_back.contains(id) {
            self.violations.push(format!("{id} was rolled back and still delivered"));
        }
        if !self.sent.contains(id) && !self.maybe_sent.contains(id) {
            self.violations.push(format!("{id} was delivered but never sent"));
        }
        if self.must_redeliver.remove(id) {
            self.redelivery_checks += 1;
            if !redelivered {
                self.violations.push(format!("{id} was delivered before the crash but came back without JMSRedelivered"));
            }
        }
        self.seen.insert(id.to_owned());
    }

    /// Reads one child's lines, from start to kill.
    fn round(&mut self, lines: &[String]) {
        let mut held: Vec<String> = Vec::new();
        let mut acking: Vec<String> = Vec::new();
        for line in lines {
            let mut words = line.split(' ');
            let verb = words.next().unwrap_or_default();
            let ids: Vec<String> = words.map(str::to_owned).collect();
            match verb {
                "SENDING" => self.maybe_sent.extend(ids),
                "SENT" => {
                    for id in ids {
                        self.maybe_sent.remove(&id);
                        self.sent.insert(id);
                    }
                }
                "COMMITTING" => {
                    self.maybe_sent.extend(ids.iter().cloned());
                    self.groups.push((ids, false));
                }
                "COMMITTED" => {
                    let group = self.groups.last_mut().expect("COMMITTED after COMMITTING");
                    assert_eq!(group.0, ids);
                    group.1 = true;
                    for id in ids {
                        self.maybe_sent.remove(&id);
                        self.sent.insert(id);
                    }
                }
                "ROLLEDBACK" => self.rolled_back.extend(ids),
                "DELIVERED" => {
                    self.delivered(&ids[0], ids[1] == "1");
                    held.push(ids[0].clone());
                }
                "ACKING" => {
                    self.maybe_acked.extend(ids.iter().cloned());
                    acking = ids;
                    held.clear();
                }
                "ACKED" => {
                    for id in ids {
                        self.maybe_acked.remove(&id);
                        self.acked.insert(id);
                    }
                    acking.clear();
                }
                _ => {}
            }
        }
        // Killed: what it held unacknowledged (or was acknowledging) must come back
        // marked redelivered, if it comes back at all.
        self.must_redeliver.extend(held);
        self.must_redeliver.extend(acking);
    }
}

/// Runs one child until it has worked for `run_for`, then kills it. Returns its complete
/// output lines.
fn run_child(dir: &str, round: usize, run_for: Duration) -> Vec<String> {
    let round_text = round.to_string();
    let mut child = Child::spawn("crash_child", &[(CHILD_ENV, dir), (ROUND_ENV, &round_text)]);
    let rx = &child.lines;
    let mut lines = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(line) => {
                let ready = line.ends_with("READY");
                lines.push(line);
                if ready {
                    break;
                }
            }
            Err(_) if Instant::now() > deadline => {
                child.kill();
                panic!("the child did not start in time; its last lines: {:?}", lines.iter().rev().take(5).collect::<Vec<_>>());
            }
            Err(_) => {
                if let Ok(Some(status)) = child.process.try_wait() {
                    panic!("the child exited before starting ({status}); its last lines: {:?}", lines.iter().rev().take(5).collect::<Vec<_>>());
                }
            }
        }
    }
    std::thread::sleep(run_for);
    if let Ok(Some(status)) = child.process.try_wait() {
        lines.extend(child.kill());
        panic!("the child stopped by itself ({status}) instead of being killed; its last lines: {:?}", lines.iter().rev().take(5).collect::<Vec<_>>());
    }
    lines.extend(child.kill());
    lines
}

#[test]
fn kill_9_at_random_moments_loses_nothing_confirmed() {
    let dir = TempDir::new("crash");
    let dir_text = dir.path().to_str().unwrap().to_owned();
    let seed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64;
    let mut rng = Rng::new(seed);
    let mut ledger = Ledger::default();
    let started = Instant::now();
    let mut kills = 0;
    for round in 0..KILLS {
        let run_for = Duration::from_millis(30 + rng.below(300));
        let lines = run_child(&dir_text, round, run_for);
        ledger.round(&lines);
        kills += 1;
        // Keep the whole test bounded on a slow machine.
        if started.elapsed() > Duration::from_secs(60) && kills >= 20 {
            break;
        }
    }

    // Recover once more, in this process, and take everything that is left.
    let broker = open_broker(dir.path());
    let c = connect(&broker);
    let s = session(&c, AckMode::Client);
    let consumer = consumer(&s, &Destination::queue(QUEUE));
    let mut present: HashMap<String, usize> = HashMap::new();
    while let Some(d) = consumer.receive_timeout(SHORT).unwrap() {
        let id = d.text_body().unwrap().to_owned();
        ledger.delivered(&id, d.redelivered());
        *present.entry(id).or_default() += 1;
    }
    c.close();
    broker.shutdown();

    for (id, n) in &present {
        if *n > 1 {
            ledger.violations.push(format!("{id} was delivered {n} times by one recovery"));
        }
    }
    for id in &ledger.sent {
        let may_be_gone = ledger.acked.contains(id) || ledger.maybe_acked.contains(id);
        if !may_be_gone && !present.contains_key(id) {
            ledger.violations.push(format!("{id} was sent (confirmed) and never acknowledged, but is gone"));
        }
    }
    for (ids, committed) in &ledger.groups {
        let found = ids.iter().filter(|id| ledger.seen.contains(*id)).count();
        if *committed && found != ids.len() || found != 0 && found != ids.len() {
            ledger.violations.push(format!("transaction {ids:?} (commit returned: {committed}) is partly there: {found}"));
        }
    }
    let summary = format!(
        "seed {seed}: {kills} kills in {:?}; {} sends confirmed, {} acks confirmed, {} transactions, {} redelivery checks, {} left at the end",
        started.elapsed(),
        ledger.sent.len(),
        ledger.acked.len(),
        ledger.groups.len(),
        ledger.redelivery_checks,
        present.len()
    );
    println!("{summary}");
    assert!(ledger.violations.is_empty(), "{summary}\n{}", ledger.violations.join("\n"));
    assert!(kills >= 20, "{summary}");
    // The run must have exercised what it checks.
    assert!(ledger.sent.len() > 50 && !ledger.acked.is_empty() && ledger.redelivery_checks > 0, "{summary}");
}
