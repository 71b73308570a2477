//! Persistent throughput against raw baselines, side by side in one run, 1 KiB messages:
//!
//! - raw: 1 KiB append + fdatasync per message; SQLite WAL `synchronous=FULL` inserts,
//!   one per transaction, 8 per transaction (the most that 8 synchronous producers, each
//!   waiting for its own send, can share: the ceiling of the 8-producer case) and 100
//!   per transaction;
//! - Herald (SQLite journal, sync=full): 1 producer / 1 consumer with synchronous sends
//!   and AUTO_ACKNOWLEDGE; 8 producers / 8 consumers likewise; a transacted producer
//!   committing every 100 messages with an AUTO_ACKNOWLEDGE consumer, and with a
//!   transacted consumer committing every 100.
//!
//! - a backlog of BACKLOG messages (default 200,000): the resident memory holding it,
//!   then, in a fresh process, the time to recover it at start and accept a connection
//!   and the resident memory it takes, then the time to drain it. The broker's memory
//!   budget is the default unless `HERALD_BENCH_MEMORY_BUDGET` gives one in MiB.
//!
//! `cargo bench -p herald-core --bench journal [-- SECONDS_PER_CASE [BACKLOG]] [CASE...]`
//! where CASE is `raw`, `1p1c`, `1p`, `8p`, `8p8c`, `tx` or `backlog` (default: all).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use herald_core::client::{AckMode, ConnectOptions, Connection};
use herald_core::journal::{SqliteJournal, SqliteOptions};
use herald_core::{Broker, BrokerConfig, Destination, Message};

const SIZE: usize = 1024;

struct Scratch(PathBuf);

impl Scratch {
    fn new(label: &str) -> Scratch {
        let path = std::env::temp_dir().join(format!("herald-bench-{label}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        Scratch(path)
    }
    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn payload() -> String {
    "x".repeat(SIZE)
}

/// Runs `step` (which handles `per_step` messages) until `budget` is spent.
fn rate(budget: Duration, per_step: usize, mut step: impl FnMut()) -> f64 {
    let start = Instant::now();
    let mut n = 0;
    while start.elapsed() < budget {
        step();
        n += per_step;
    }
    n as f64 / start.elapsed().as_secs_f64()
}

fn raw_append_fsync(budget: Duration) -> f64 {
    let dir = Scratch::new("append");
    let mut file = std::fs::File::create(dir.path().join("log")).unwrap();
    let data = vec![0x5a_u8; SIZE];
    rate(budget, 1, || {
        file.write_all(&data).unwrap();
        file.sync_data().unwrap();
    })
}

fn raw_sqlite(budget: Duration, per_txn: usize) -> f64 {
    let dir = Scratch::new("sqlite");
    let mut conn = rusqlite::Connection::open(dir.path().join("raw.db")).unwrap();
    conn.pragma_update(None, "journal_mode", "WAL").unwrap();
    conn.pragma_update(None, "synchronous", "FULL").unwrap();
    conn.execute_batch("CREATE TABLE m (id INTEGER PRIMARY KEY, data BLOB NOT NULL)").unwrap();
    let data = vec![0x5a_u8; SIZE];
    let mut id = 0i64;
    rate(budget, per_txn, || {
        let tx = conn.transaction().unwrap();
        {
            let mut stmt = tx.prepare_cached("INSERT INTO m (id, data) VALUES (?1, ?2)").unwrap();
            for _ in 0..per_txn {
                id += 1;
                stmt.execute(rusqlite::params![id, data]).unwrap();
            }
        }
        tx.commit().unwrap();
    })
}

fn broker_and_journal(dir: &Path) -> (Broker, Arc<SqliteJournal>) {
    let journal = Arc::new(SqliteJournal::open(dir, &SqliteOptions::default()).unwrap());
    let broker = Broker::start(BrokerConfig { journal: Box::new(journal.clone()), ..BrokerConfig::default() }).unwrap();
    (broker, journal)
}

fn connect(broker: &Broker) -> Connection {
    let c = Connection::to_broker(broker, &ConnectOptions::default()).unwrap();
    c.start().unwrap();
    c
}

/// `producers` and `consumers` threads on one queue for `budget`; a `batch` > 1 makes
/// that side transacted, committing every `batch` messages, else producers send
/// synchronously and consumers use AUTO_ACKNOWLEDGE. Returns messages consumed per
/// second and sent per second, and prints how many units each commit carried.
fn herald(budget: Duration, producers: usize, consumers: usize, (send_batch, receive_batch): (usize, usize)) -> (f64, f64) {
    let dir = Scratch::new("herald");
    let (broker, journal) = broker_and_journal(dir.path());
    let queue = Destination::queue("bench");
    let stop = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicUsize::new(0));
    let received = Arc::new(AtomicUsize::new(0));
    let start = Arc::new(Barrier::new(producers + consumers + 1));
    let mode = |batch: usize| if batch > 1 { AckMode::Transacted } else { AckMode::Auto };
    let mut threads = Vec::new();
    for _ in 0..producers {
        let (broker, queue, stop, sent, start) = (broker.clone(), queue.clone(), stop.clone(), sent.clone(), start.clone());
        threads.push(thread::spawn(move || {
            let c = connect(&broker);
            let batch = send_batch;
            let s = c.create_session(mode(batch)).unwrap();
            let p = s.create_producer(Some(queue)).unwrap();
            let body = payload();
            start.wait();
            while !stop.load(Ordering::Relaxed) {
                for _ in 0..batch {
                    p.send(Message::text(body.clone())).unwrap();
                }
                if batch > 1 {
                    s.commit().unwrap();
                }
                sent.fetch_add(batch, Ordering::Relaxed);
            }
        }));
    }
    for _ in 0..consumers {
        let (broker, queue, stop, received, start) =
            (broker.clone(), queue.clone(), stop.clone(), received.clone(), start.clone());
        threads.push(thread::spawn(move || {
            let c = connect(&broker);
            let batch = receive_batch;
            let s = c.create_session(mode(batch)).unwrap();
            let consumer = s.create_consumer(&queue, &Default::default()).unwrap();
            start.wait();
            let mut pending = 0;
            while !stop.load(Ordering::Relaxed) {
                if consumer.receive_timeout(Duration::from_millis(20)).unwrap().is_some() {
                    pending += 1;
                    if pending == batch {
                        if batch > 1 {
                            s.commit().unwrap();
                        }
                        received.fetch_add(pending, Ordering::Relaxed);
                        pending = 0;
                    }
                }
            }
        }));
    }
    start.wait();
    let began = Instant::now();
    let before = journal.stats();
    thread::sleep(budget);
    let (got, put) = (received.load(Ordering::Relaxed), sent.load(Ordering::Relaxed));
    let after = journal.stats();
    let elapsed = began.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        t.join().unwrap();
    }
    broker.shutdown();
    // Per commit: the units it carried, its own time, and the whole cycle from one
    // commit's start to the next (the rest is the producers' turnaround).
    let commits = (after.commits - before.commits).max(1) as f64;
    print!(
        "  [{:.1} units per commit, commit {:.0} µs of a {:.0} µs cycle] ",
        (after.units - before.units) as f64 / commits,
        (after.commit_time - before.commit_time).as_secs_f64() * 1e6 / commits,
        elapsed * 1e6 / commits
    );
    (got as f64 / elapsed, put as f64 / elapsed)
}

/// " (N% of raw 1/txn)", or nothing when the raw case did not run.
fn share_of(rate: f64, raw: f64) -> String {
    if raw.is_finite() { format!(" ({:.0}% of raw 1/txn)", 100.0 * rate / raw) } else { String::new() }
}

/// A line of /proc/self/status (`VmRSS`, `VmHWM`), in MiB.
fn status_mib(field: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib: f64 = status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(f64::NAN);
    kib / 1024.0
}

/// The memory budget the backlog case gives the broker: `HERALD_BENCH_MEMORY_BUDGET`
/// MiB, or the default.
fn backlog_broker(dir: &Path) -> Broker {
    let mut config = BrokerConfig::default();
    if let Some(mib) = std::env::var("HERALD_BENCH_MEMORY_BUDGET").ok().and_then(|v| v.parse::<usize>().ok()) {
        config.memory_budget = mib << 20;
    }
    config.journal = Box::new(SqliteJournal::open(dir, &SqliteOptions::default()).unwrap());
    Broker::start(config).unwrap()
}

/// Set in the child process that restarts the broker over the backlog, so that its
/// resident memory is the recovered broker's alone.
const RECOVER_ENV: &str = "HERALD_BENCH_RECOVER";

/// Fills a queue with `count` messages, then restarts the broker over it in a fresh
/// process and reports the recovery.
fn backlog(count: usize) {
    let dir = Scratch::new("backlog");
    let queue = Destination::queue("backlog");
    let filled = Instant::now();
    let budget;
    {
        let broker = backlog_broker(dir.path());
        let c = connect(&broker);
        let s = c.create_session(AckMode::Transacted).unwrap();
        let p = s.create_producer(Some(queue.clone())).unwrap();
        let body = payload();
        for i in 0..count {
            p.send(Message::text(body.clone())).unwrap();
            if i % 1000 == 999 {
                s.commit().unwrap();
            }
        }
        s.commit().unwrap();
        budget = broker.memory_used();
        println!(
            "{:<58} {:>10.1} s; {:.0} MiB resident holding it ({:.0} MiB counted by the budget, peak {:.0} MiB)",
            format!("herald: filling a backlog of {count}, commit every 1000"),
            filled.elapsed().as_secs_f64(),
            status_mib("VmRSS:"),
            budget as f64 / (1024.0 * 1024.0),
            status_mib("VmHWM:"),
        );
        c.close();
        broker.shutdown();
    }
    let db = std::fs::metadata(dir.path().join("herald.db")).map(|m| m.len()).unwrap_or(0);
    println!("{:<58} {:>10.0} MiB", "herald: database size", db as f64 / (1024.0 * 1024.0));
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .env(RECOVER_ENV, dir.path())
        .arg(count.to_string())
        .status()
        .unwrap();
    assert!(status.success(), "the recovering process failed");
}

/// In the child: restarts the broker over the backlog in `dir`, reports the time to
/// accept a connection and the resident memory, then drains it.
fn recover_backlog(dir: &Path, count: usize) {
    let queue = Destination::queue("backlog");
    let baseline = status_mib("VmRSS:");
    let started = Instant::now();
    let broker = backlog_broker(dir);
    let c = connect(&broker);
    let recovery = started.elapsed();
    println!(
        "{:<58} {:>10.2} s to recover and accept a connection; {:.0} MiB resident ({:.0} MiB before start, peak {:.0} MiB, {:.0} MiB counted by the budget)",
        format!("herald: restart over the backlog of {count}"),
        recovery.as_secs_f64(),
        status_mib("VmRSS:"),
        baseline,
        status_mib("VmHWM:"),
        broker.memory_used() as f64 / (1024.0 * 1024.0),
    );
    let s = c.create_session(AckMode::Transacted).unwrap();
    let consumer = s.create_consumer(&queue, &Default::default()).unwrap();
    let drained = Instant::now();
    let mut n = 0;
    while consumer.receive_timeout(Duration::from_millis(500)).unwrap().is_some() {
        n += 1;
        if n % 1000 == 0 {
            s.commit().unwrap();
        }
    }
    s.commit().unwrap();
    assert_eq!(n, count, "the backlog did not drain completely");
    println!(
        "{:<58} {:>10.0} /s (peak {:.0} MiB resident)",
        "herald: draining it, transacted, commit every 1000",
        n as f64 / drained.elapsed().as_secs_f64(),
        status_mib("VmHWM:")
    );
    c.close();
    broker.shutdown();
}

fn main() {
    let numbers: Vec<f64> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    if let Some(dir) = std::env::var_os(RECOVER_ENV) {
        recover_backlog(Path::new(&dir), numbers.first().map(|n| *n as usize).unwrap_or(0));
        return;
    }
    let seconds = numbers.first().copied().unwrap_or(3.0);
    let backlog_size = numbers.get(1).map(|n| *n as usize).unwrap_or(200_000);
    let cases: Vec<String> = std::env::args().skip(1).filter(|a| a.parse::<f64>().is_err() && !a.starts_with('-')).collect();
    let run = |case: &str| cases.is_empty() || cases.iter().any(|c| c == case);
    let budget = Duration::from_secs_f64(seconds);
    println!("1 KiB messages, {seconds} s per case, temp dir {}", std::env::temp_dir().display());
    let (mut one, mut p1, mut p1only) = (f64::NAN, f64::NAN, f64::NAN);
    if run("raw") {
        let append = raw_append_fsync(budget);
        println!("{:<58} {:>10.0} /s", "raw: append + fdatasync", append);
        one = raw_sqlite(budget, 1);
        println!("{:<58} {:>10.0} /s", "raw: SQLite WAL synchronous=FULL, 1 insert per txn", one);
        let eight = raw_sqlite(budget, 8);
        println!("{:<58} {:>10.0} /s ({:.1}x 1 per txn)", "raw: SQLite WAL synchronous=FULL, 8 inserts per txn", eight, eight / one);
        let hundred = raw_sqlite(budget, 100);
        println!("{:<58} {:>10.0} /s", "raw: SQLite WAL synchronous=FULL, 100 inserts per txn", hundred);
    }
    if run("1p1c") {
        let c1;
        (c1, p1) = herald(budget, 1, 1, (1, 1));
        println!(
            "{:<58} {:>10.0} /s consumed, {:.0} sent{}",
            "herald: 1 producer / 1 consumer, sync sends, auto ack",
            c1,
            p1,
            share_of(p1, one)
        );
    }
    if run("1p") {
        (_, p1only) = herald(budget, 1, 0, (1, 1));
        println!("{:<58} {:>10.0} /s sent{}", "herald: 1 producer, sync sends", p1only, share_of(p1only, one));
    }
    if run("8p") {
        let (_, p8) = herald(budget, 8, 0, (1, 1));
        // Against the 1-producer case without a consumer, like this one, and against
        // 1P/1C: whichever of them ran.
        let ratios: Vec<String> = [(p1only, "1 producer"), (p1, "1P/1C")]
            .iter()
            .filter(|(base, _)| base.is_finite())
            .map(|(base, label)| format!("{:.1}x {label}", p8 / base))
            .collect();
        let ratios = if ratios.is_empty() { String::new() } else { format!(" ({})", ratios.join(", ")) };
        println!("{:<58} {:>10.0} /s sent{ratios}", "herald: 8 producers, sync sends", p8);
    }
    if run("8p8c") {
        let (c88, p88) = herald(budget, 8, 8, (1, 1));
        println!("{:<58} {:>10.0} /s consumed, {:.0} sent", "herald: 8 producers / 8 consumers, sync, auto ack", c88, p88);
    }
    if run("tx") {
        let (ct, pt) = herald(budget, 1, 1, (100, 1));
        println!("{:<58} {:>10.0} /s consumed, {:.0} sent", "herald: transacted producer, commit every 100, auto ack", ct, pt);
        let (ct, pt) = herald(budget, 1, 1, (100, 100));
        println!("{:<58} {:>10.0} /s consumed, {:.0} sent", "herald: transacted, commit every 100, both sides", ct, pt);
    }
    if run("backlog") {
        backlog(backlog_size);
    }
}
