//! `herald bench`: throughput and latency through any URL (tcp:// or vm://).

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use clap::Args;
use herald_core::client::{AckMode, ConsumerOptions, SendOptions};
use herald_core::{DeliveryMode, Destination, Message};

use super::client::connect;
use super::relay;
use super::ClientArgs;

#[derive(Debug, Args)]
pub struct BenchArgs {
    #[command(flatten)]
    pub client: ClientArgs,
    /// Producer threads, each with its own connection.
    #[arg(long, default_value_t = 1)]
    pub producers: usize,
    /// Consumer threads, each with its own connection.
    #[arg(long, default_value_t = 1)]
    pub consumers: usize,
    /// Body size in bytes.
    #[arg(long, default_value_t = 1024)]
    pub size: usize,
    /// Messages in total (round trips with --request-reply).
    #[arg(long, default_value_t = 100_000)]
    pub count: u64,
    /// PERSISTENT messages (the default here is NON_PERSISTENT).
    #[arg(long)]
    pub persistent: bool,
    /// Consumer prefetch.
    #[arg(long, default_value_t = 1000)]
    pub prefetch: u32,
    /// The queue to use (default: a fresh one per run).
    #[arg(long)]
    pub queue: Option<String>,
    /// Measure request/reply round trips through a temporary queue instead.
    #[arg(long)]
    pub request_reply: bool,
    /// Also run the reference the result is measured against, on this machine, and
    /// print the ratio: the same scenario in-process (vm://, with a journal in a
    /// temporary directory); with --request-reply, the same round trips through a plain
    /// TCP relay on loopback (no broker), the floor the machine sets for them.
    #[arg(long)]
    pub baseline: bool,
}

const STAMP: &str = "HeraldBenchSentNanos";

fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

fn now_nanos() -> i64 {
    epoch().elapsed().as_nanos() as i64
}

fn percentile(sorted: &[u64], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let at = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    Duration::from_nanos(sorted[at.min(sorted.len() - 1)])
}

/// Prints a line of the report on stdout; a closed stdout (`herald bench | head`) is an
/// error to return, not a panic.
macro_rules! say {
    ($($arg:tt)*) => {
        writeln!(std::io::stdout(), $($arg)*).map_err(|e| format!("cannot write: {e}"))?
    };
}

/// Prints the percentiles of `samples` (nanoseconds); returns the median.
fn print_latency(label: &str, mut samples: Vec<u64>) -> Result<Duration, String> {
    samples.sort_unstable();
    say!(
        "{label}: p50 {:?}  p90 {:?}  p99 {:?}  p99.9 {:?}  max {:?}",
        percentile(&samples, 0.50),
        percentile(&samples, 0.90),
        percentile(&samples, 0.99),
        percentile(&samples, 0.999),
        percentile(&samples, 1.0)
    );
    Ok(percentile(&samples, 0.5))
}

/// Prints progress on a terminal until `done`.
fn progress(total: u64, sent: Arc<AtomicU64>, received: Arc<AtomicU64>, done: Arc<AtomicBool>) -> Option<std::thread::JoinHandle<()>> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    Some(std::thread::spawn(move || {
        while !done.load(Ordering::Acquire) {
            let r = received.load(Ordering::Relaxed);
            let width = 30;
            let filled = (r * width / total.max(1)) as usize;
            eprint!(
                "\r[{}{}] sent {} received {} of {}",
                "#".repeat(filled),
                " ".repeat(width as usize - filled.min(width as usize)),
                sent.load(Ordering::Relaxed),
                r,
                total
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        eprint!("\r{}\r", " ".repeat(80));
    }))
}

pub fn bench(args: BenchArgs) -> Result<(), String> {
    if args.producers == 0 || args.consumers == 0 || args.count == 0 {
        return Err("--producers, --consumers and --count must be at least 1".into());
    }
    epoch();
    if args.request_reply {
        return request_reply(&args);
    }
    let rate = throughput(&args, &args.client)?;
    if args.baseline {
        let dir = std::env::temp_dir().join(format!("herald-bench-{}", uuid::Uuid::new_v4().simple()));
        let in_process = ClientArgs { url: format!("vm://bench-baseline?dataDir={}", dir.display()), user: None, password: None };
        say!();
        let reference = throughput(&args, &in_process);
        let _ = std::fs::remove_dir_all(&dir);
        say!("ratio: {:.2}x the same run in-process", rate / reference?.max(f64::MIN_POSITIVE));
    }
    Ok(())
}

/// Runs the producers and consumers through `client`'s URL; prints and returns messages
/// per second.
fn throughput(args: &BenchArgs, client: &ClientArgs) -> Result<f64, String> {
    let queue = Destination::queue(args.queue.clone().unwrap_or_else(|| format!("bench.{}", uuid::Uuid::new_v4().simple())));
    let mode = if args.persistent { DeliveryMode::Persistent } else { DeliveryMode::NonPersistent };
    let body = "x".repeat(args.size);
    let sent = Arc::new(AtomicU64::new(0));
    let received = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(false));

    // Consumers first, so nothing piles up before they attach.
    let mut consumers = Vec::new();
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    for i in 0..args.consumers {
        let share = args.count / args.consumers as u64 + u64::from((i as u64) < args.count % args.consumers as u64);
        let client = client.clone();
        let queue = queue.clone();
        let received = received.clone();
        let prefetch = args.prefetch;
        let ready = ready_tx.clone();
        consumers.push(std::thread::spawn(move || -> Result<Vec<u64>, String> {
            let connection = connect(&client, None)?;
            let session = connection.create_session(AckMode::DupsOk).map_err(|e| e.to_string())?;
            let options = ConsumerOptions { prefetch: Some(prefetch), ..ConsumerOptions::default() };
            let consumer = session.create_consumer(&queue, &options).map_err(|e| e.to_string())?;
            connection.start().map_err(|e| e.to_string())?;
            let _ = ready.send(());
            let mut latencies = Vec::with_capacity(share as usize);
            for _ in 0..share {
                let d = consumer
                    .receive_timeout(Duration::from_secs(30))
                    .map_err(|e| e.to_string())?
                    .ok_or("a consumer received nothing for 30 s")?;
                if let Ok(at) = d.long_property(STAMP) {
                    latencies.push((now_nanos() - at).max(0) as u64);
                }
                received.fetch_add(1, Ordering::Relaxed);
            }
            connection.close();
            Ok(latencies)
        }));
    }
    drop(ready_tx);
    for _ in 0..args.consumers {
        ready_rx.recv().map_err(|_| "a consumer failed to start".to_string())?;
    }
    let bar = progress(args.count, sent.clone(), received.clone(), done.clone());
    let start = Instant::now();
    let mut producers = Vec::new();
    for i in 0..args.producers {
        let share = args.count / args.producers as u64 + u64::from((i as u64) < args.count % args.producers as u64);
        let client = client.clone();
        let queue = queue.clone();
        let body = body.clone();
        let sent = sent.clone();
        producers.push(std::thread::spawn(move || -> Result<(), String> {
            let connection = connect(&client, None)?;
            let session = connection.create_session(AckMode::Auto).map_err(|e| e.to_string())?;
            let mut producer = session.create_producer(Some(queue)).map_err(|e| e.to_string())?;
            producer
                .set_options(SendOptions { delivery_mode: mode, disable_timestamp: false, ..SendOptions::default() })
                .map_err(|e| e.to_string())?;
            for _ in 0..share {
                let mut m = Message::text(body.as_str());
                m.set_property(STAMP, now_nanos()).map_err(|e| e.to_string())?;
                producer.send(m).map_err(|e| e.to_string())?;
                sent.fetch_add(1, Ordering::Relaxed);
            }
            connection.close();
            Ok(())
        }));
    }
    let mut failure = None;
    for p in producers {
        if let Err(e) = p.join().unwrap_or_else(|_| Err("a producer panicked".into())) {
            failure.get_or_insert(e);
        }
    }
    let produced_in = start.elapsed();
    let mut latencies = Vec::new();
    for c in consumers {
        match c.join().unwrap_or_else(|_| Err("a consumer panicked".into())) {
            Ok(l) => latencies.extend(l),
            Err(e) => {
                failure.get_or_insert(e);
            }
        }
    }
    let elapsed = start.elapsed();
    done.store(true, Ordering::Release);
    if let Some(bar) = bar {
        let _ = bar.join();
    }
    if let Some(e) = failure {
        return Err(format!("bench failed: {e}"));
    }
    let rate = args.count as f64 / elapsed.as_secs_f64();
    say!(
        "{} messages of {} bytes, {}, {}P/{}C via {}",
        args.count,
        args.size,
        if args.persistent { "PERSISTENT" } else { "NON_PERSISTENT" },
        args.producers,
        args.consumers,
        client.url
    );
    say!(
        "throughput: {rate:.0} msgs/s ({:.1} MiB/s); sending took {:.2} s, all received after {:.2} s",
        rate * args.size as f64 / (1024.0 * 1024.0),
        produced_in.as_secs_f64(),
        elapsed.as_secs_f64()
    );
    print_latency("latency (send to receive)", latencies)?;
    Ok(rate)
}

fn request_reply(args: &BenchArgs) -> Result<(), String> {
    let service = Destination::queue(args.queue.clone().unwrap_or_else(|| format!("bench.rr.{}", uuid::Uuid::new_v4().simple())));
    let mode = if args.persistent { DeliveryMode::Persistent } else { DeliveryMode::NonPersistent };
    let stop = Arc::new(AtomicBool::new(false));
    // The responder echoes every request to its reply-to destination.
    let responder = {
        let client = args.client.clone();
        let service = service.clone();
        let stop = stop.clone();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let handle = std::thread::spawn(move || -> Result<(), String> {
            let connection = connect(&client, None)?;
            let session = connection.create_session(AckMode::DupsOk).map_err(|e| e.to_string())?;
            let consumer = session.create_consumer(&service, &ConsumerOptions::default()).map_err(|e| e.to_string())?;
            let mut producer = session.create_producer(None).map_err(|e| e.to_string())?;
            producer.set_options(SendOptions { delivery_mode: mode, ..SendOptions::default() }).map_err(|e| e.to_string())?;
            connection.start().map_err(|e| e.to_string())?;
            let _ = ready_tx.send(());
            while !stop.load(Ordering::Acquire) {
                let Some(request) = consumer.receive_timeout(Duration::from_millis(100)).map_err(|e| e.to_string())? else {
                    continue;
                };
                if let Some(reply_to) = request.reply_to.clone() {
                    let mut reply = request.into_message();
                    reply.reply_to = None;
                    producer.send_with(Some(&reply_to), reply, &producer.options().clone()).map_err(|e| e.to_string())?;
                }
            }
            connection.close();
            Ok(())
        });
        ready_rx.recv().map_err(|_| "the responder failed to start".to_string())?;
        handle
    };
    let result = (|| -> Result<Vec<u64>, String> {
        let connection = connect(&args.client, None)?;
        let session = connection.create_session(AckMode::DupsOk).map_err(|e| e.to_string())?;
        let replies = connection.create_temporary_queue().map_err(|e| e.to_string())?;
        let consumer = session.create_consumer(&replies, &ConsumerOptions::default()).map_err(|e| e.to_string())?;
        let mut producer = session.create_producer(Some(service.clone())).map_err(|e| e.to_string())?;
        producer.set_options(SendOptions { delivery_mode: mode, ..SendOptions::default() }).map_err(|e| e.to_string())?;
        connection.start().map_err(|e| e.to_string())?;
        let body = "x".repeat(args.size);
        let mut rtts = Vec::with_capacity(args.count as usize);
        for _ in 0..args.count {
            let mut m = Message::text(body.as_str());
            m.reply_to = Some(replies.clone());
            let start = Instant::now();
            producer.send(m).map_err(|e| e.to_string())?;
            consumer
                .receive_timeout(Duration::from_secs(10))
                .map_err(|e| e.to_string())?
                .ok_or("no reply within 10 s")?;
            rtts.push(start.elapsed().as_nanos() as u64);
        }
        connection.close();
        Ok(rtts)
    })();
    stop.store(true, Ordering::Release);
    let responded = responder.join().unwrap_or_else(|_| Err("the responder panicked".into()));
    let rtts = result.map_err(|e| format!("bench failed: {e}"))?;
    responded.map_err(|e| format!("bench failed: {e}"))?;
    let total: u64 = rtts.iter().sum();
    say!(
        "{} request/reply round trips of {} bytes, {} via {}",
        args.count,
        args.size,
        if args.persistent { "PERSISTENT" } else { "NON_PERSISTENT" },
        args.client.url
    );
    say!("throughput: {:.0} round trips/s", args.count as f64 / (total as f64 / 1e9));
    let p50 = print_latency("round trip", rtts)?;
    if args.baseline {
        say!();
        let floor = relay::round_trips(args.size, args.count)?;
        let floor_p50 = print_latency("raw TCP relay, same path without a broker", floor)?;
        say!("p50 ratio: {:.2}x the raw relay", p50.as_secs_f64() / floor_p50.as_secs_f64().max(1e-9));
    }
    Ok(())
}
