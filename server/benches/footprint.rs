//! What a server costs at rest, against a real `herald serve` with its durable journal:
//! the time from starting the process to accepting a connection, its resident memory
//! when idle, and what idle connections (each through the handshake, then silent) add.
//!
//! `cargo bench -p herald-server --bench footprint [-- CONNECTIONS]` (default 1000).
//! Ulimit permitting: each connection is one socket here and one in the server.

#[path = "../tests/common/mod.rs"]
mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{free_port, TempDir, HERALD};
use herald_core::wire::{self, Frame, Hello};

/// A line of /proc/PID/status (`VmRSS`), in KiB.
fn status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with(field)).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// Starts the server and returns it once it accepts connections, with the time that took.
fn start(addr: SocketAddr, data: &TempDir) -> (Child, Duration) {
    let began = Instant::now();
    let mut child = Command::new(HERALD)
        .args(["serve", "--listen", &addr.to_string(), "--data"])
        .arg(data.0.join("data"))
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("herald starts");
    loop {
        if TcpStream::connect(addr).is_ok() {
            return (child, began.elapsed());
        }
        assert!(child.try_wait().unwrap().is_none(), "herald exited at start");
        assert!(began.elapsed() < Duration::from_secs(20), "herald did not start");
        std::thread::sleep(Duration::from_micros(200));
    }
}

/// A connection through the handshake; it then sends nothing. Its heartbeat promise
/// keeps the server from closing it as idle while the bench runs.
fn handshake(addr: SocketAddr) -> TcpStream {
    let mut stream = TcpStream::connect(addr).unwrap();
    let hello = Hello { version: wire::PROTOCOL_VERSION, user: None, password: None, heartbeat_ms: 60_000 };
    stream.write_all(&Frame::Hello(hello).encode()).unwrap();
    let mut len = [0u8; 4];
    stream.read_exact(&mut len).unwrap();
    let mut rest = vec![0u8; u32::from_be_bytes(len) as usize];
    stream.read_exact(&mut rest).unwrap();
    stream
}

fn main() {
    let count: usize = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(1000);
    let data = TempDir::new("footprint");
    let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let (mut server, started) = start(addr, &data);
    let pid = server.id();
    std::thread::sleep(Duration::from_millis(500));
    let idle = status_kib(pid, "VmRSS:");
    println!("{:<44} {:>8.1} ms", "start to accepting a connection", started.as_secs_f64() * 1e3);
    println!("{:<44} {:>8.1} MiB", "resident, idle", idle as f64 / 1024.0);
    let connections: Vec<TcpStream> = (0..count).map(|_| handshake(addr)).collect();
    std::thread::sleep(Duration::from_millis(500));
    let busy = status_kib(pid, "VmRSS:");
    let added = busy.saturating_sub(idle) as f64;
    println!(
        "{:<44} {:>8.1} MiB ({:.1} KiB each)",
        format!("resident with {count} idle connections"),
        busy as f64 / 1024.0,
        added / count as f64
    );
    drop(connections);
    let _ = server.kill();
    let _ = server.wait();
}
