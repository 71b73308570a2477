//! Helpers for the journal tests: scratch data directories and brokers over them.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use herald_core::client::{AckMode, ConnectOptions, Connection, Consumer, ConsumerOptions, Session};
use herald_core::journal::{SqliteJournal, SqliteOptions};
use herald_core::{Broker, BrokerConfig, Destination, Message};

pub const WAIT: Duration = Duration::from_secs(5);
pub const SHORT: Duration = Duration::from_millis(200);

/// A scratch directory, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(label: &str) -> TempDir {
        static N: AtomicU32 = AtomicU32::new(0);
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
        let path = std::env::temp_dir().join(format!(
            "herald-{label}-{}-{}-{nanos}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A broker journaling into `dir`.
pub fn open_broker(dir: &Path) -> Broker {
    open_broker_with(dir, &SqliteOptions::default())
}

pub fn open_broker_with(dir: &Path, options: &SqliteOptions) -> Broker {
    let journal = SqliteJournal::open(dir, options).unwrap();
    Broker::start(BrokerConfig { journal: Box::new(journal), ..BrokerConfig::default() }).unwrap()
}

pub fn connect(broker: &Broker) -> Connection {
    connect_as(broker, None)
}

pub fn connect_as(broker: &Broker, client_id: Option<&str>) -> Connection {
    let options = ConnectOptions { client_id: client_id.map(str::to_owned), ..ConnectOptions::default() };
    let c = Connection::to_broker(broker, &options).unwrap();
    c.start().unwrap();
    c
}

pub fn session(c: &Connection, mode: AckMode) -> Session {
    c.create_session(mode).unwrap()
}

pub fn consumer(session: &Session, dest: &Destination) -> Consumer {
    session.create_consumer(dest, &ConsumerOptions::default()).unwrap()
}

pub fn send_texts(session: &Session, dest: &Destination, texts: &[&str]) {
    let p = session.create_producer(Some(dest.clone())).unwrap();
    for t in texts {
        p.send(Message::text(*t)).unwrap();
    }
}

/// Receives text bodies until `timeout` passes with nothing new.
pub fn drain(consumer: &Consumer, timeout: Duration) -> Vec<String> {
    let mut out = Vec::new();
    while let Some(d) = consumer.receive_timeout(timeout).unwrap() {
        out.push(d.text_body().unwrap_or_default().to_owned());
    }
    out
}

/// A child process running one ignored test of the current test binary (the crash
/// tests' workload), with its stdout delivered line by line.
pub struct Child {
    pub process: std::process::Child,
    /// Complete lines only: a line cut short by a kill has no newline and never
    /// happened.
    pub lines: std::sync::mpsc::Receiver<String>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Child {
    pub fn spawn(test: &str, env: &[(&str, &str)]) -> Child {
        use std::io::BufRead;
        let mut process = std::process::Command::new(std::env::current_exe().unwrap())
            .args([test, "--exact", "--ignored", "--nocapture", "--test-threads=1"])
            .envs(env.iter().copied())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = process.stdout.take().unwrap();
        let (tx, lines) = std::sync::mpsc::channel();
        let reader = std::thread::spawn(move || {
            let mut reader = std::io::BufReader::new(stdout);
            let mut line = String::new();
            loop {
                line.clear();
                match reader.read_line(&mut line) {
                    Ok(_) if line.ends_with('\n') => {
                        if tx.send(line.trim_end().to_owned()).is_err() {
                            break;
                        }
                    }
                    _ => break,
                }
            }
        });
        Child { process, lines, reader: Some(reader) }
    }

    /// Kills the child (if it still runs) and returns the lines not yet taken.
    pub fn kill(mut self) -> Vec<String> {
        let _ = self.process.kill();
        let _ = self.process.wait();
        if let Some(reader) = self.reader.take() {
            reader.join().unwrap();
        }
        self.lines.try_iter().collect()
    }
}
