//! Starting servers for the tests: the real `herald` binary on a free loopback port, or
//! the server in this process.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use herald_core::client::{ConnectOptions, Connection};
use herald_core::wire::{self, Frame, FrameType, Hello};
use herald_core::{Broker, Destination, DestinationKind};
use herald_server::config::Limits;
use herald_server::Settings;

pub const HERALD: &str = env!("CARGO_BIN_EXE_herald");

/// A fresh directory under the target directory, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        let path = std::env::temp_dir().join(format!("herald-test-{tag}-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The path of a file in `tests/data`.
pub fn test_data(name: &str) -> String {
    format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// A port nothing listens on now, never handed out before in this process (tests run
/// in parallel, and the system may offer the same free port twice).
pub fn free_port() -> u16 {
    static GIVEN: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());
    let mut given = GIVEN.lock().unwrap_or_else(|p| p.into_inner());
    loop {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        if !given.contains(&port) {
            given.push(port);
            return port;
        }
    }
}

/// Waits until the server `child` listens on `addr`; false when it exited instead (its
/// port was taken). Something answering on the port is not proof: the server must
/// still run a moment later, having bound it.
fn wait_ready(child: &mut Child, addr: SocketAddr) -> bool {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        if TcpStream::connect(addr).is_ok() {
            std::thread::sleep(Duration::from_millis(100));
            return child.try_wait().unwrap().is_none();
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("herald did not start listening on {addr}");
}

/// A `herald serve` child process, killed on drop.
pub struct ServerProcess {
    pub child: Child,
    pub addr: SocketAddr,
    pub data: TempDir,
}

impl ServerProcess {
    /// Starts `herald serve` with `config` (TOML, may be empty) on a free port.
    pub fn start(config: &str) -> ServerProcess {
        let data = TempDir::new("server");
        Self::start_in(config, data)
    }

    pub fn start_in(config: &str, data: TempDir) -> ServerProcess {
        let config_path = data.0.join("herald.toml");
        std::fs::write(&config_path, config).unwrap();
        Self::spawn(data, |addr, data| {
            let mut command = Command::new(HERALD);
            command
                .args(["serve", "--listen", &addr.to_string(), "--data"])
                .arg(data.join("data"))
                .arg("--config")
                .arg(data.join("herald.toml"));
            command
        })
    }

    /// Starts the server `command` makes for a free address, again on another port when
    /// the first was taken meanwhile (by a server of another test run, say).
    fn spawn(data: TempDir, command: impl Fn(SocketAddr, &std::path::Path) -> Command) -> ServerProcess {
        for _ in 0..5 {
            let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
            let mut child = command(addr, &data.0)
                .env("RUST_LOG", std::env::var("HERALD_TEST_LOG").unwrap_or_else(|_| "warn".into()))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::inherit())
                .spawn()
                .expect("herald starts");
            if wait_ready(&mut child, addr) {
                return ServerProcess { child, addr, data };
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("herald did not start: no free port");
    }

    /// Starts `herald serve` with a TLS listener on a free port serving the test
    /// certificate (`tests/data/cert.pem`, for localhost and 127.0.0.1, signed by
    /// `tests/data/ca.pem`).
    pub fn start_tls() -> ServerProcess {
        let data = TempDir::new("tls-server");
        Self::spawn(data, |addr, data| {
            let config = format!(
                "[[listener]]\naddress = \"{addr}\"\ntls_cert = \"{}\"\ntls_key = \"{}\"\n",
                test_data("cert.pem"),
                test_data("key.pem")
            );
            std::fs::write(data.join("herald.toml"), config).unwrap();
            let mut command = Command::new(HERALD);
            command.args(["serve", "--data"]).arg(data.join("data")).arg("--config").arg(data.join("herald.toml"));
            command
        })
    }

    pub fn url(&self) -> String {
        format!("tcp://{}", self.addr)
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A server running in this process on 127.0.0.1:0; stops on drop.
pub struct InProcess {
    pub addr: SocketAddr,
    pub broker: Broker,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl InProcess {
    pub fn start() -> InProcess {
        Self::with(Settings::default())
    }

    pub fn with_limits(limits: Limits) -> InProcess {
        Self::with(Settings { limits, ..Settings::default() })
    }

    pub fn with(settings: Settings) -> InProcess {
        Self::serving(Broker::in_memory(), settings)
    }

    /// Serves `broker` (with `settings.durable` true when its journal is).
    pub fn serving(broker: Broker, settings: Settings) -> InProcess {
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let b = broker.clone();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                addr_tx.send(listener.local_addr().unwrap()).unwrap();
                herald_server::run_with(vec![(listener, None)], b, settings, async move {
                    let _ = stop_rx.await;
                })
                .await;
            });
        });
        let addr = addr_rx.recv().unwrap();
        InProcess { addr, broker, stop: Some(stop_tx), thread: Some(thread) }
    }

    pub fn url(&self) -> String {
        format!("tcp://{}", self.addr)
    }

    pub fn connect(&self) -> Connection {
        Connection::open(&self.url(), &ConnectOptions::default()).unwrap()
    }
}

impl Drop for InProcess {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A raw socket speaking frames, for tests that misbehave on purpose.
pub struct Raw {
    pub stream: TcpStream,
    buf: Vec<u8>,
}

impl Raw {
    pub fn connect(addr: SocketAddr) -> Raw {
        let stream = TcpStream::connect(addr).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        Raw { stream, buf: Vec::new() }
    }

    pub fn send_bytes(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).unwrap();
    }

    pub fn send(&mut self, frame: &Frame) {
        self.send_bytes(&frame.encode());
    }

    pub fn hello(&mut self) -> wire::Welcome {
        self.send(&Frame::Hello(Hello { version: wire::PROTOCOL_VERSION, user: None, password: None, heartbeat_ms: 0 }));
        match self.next() {
            Some(Frame::Welcome(w)) => w,
            other => panic!("expected a Welcome, got {other:?}"),
        }
    }

    /// The next frame, or `None` once the server closed the connection.
    pub fn next(&mut self) -> Option<Frame> {
        loop {
            if let Some((frame, used)) = Frame::parse(&self.buf, u32::MAX).expect("the server sends valid frames") {
                self.buf.drain(..used);
                return Some(frame);
            }
            let mut chunk = [0u8; 64 * 1024];
            match self.stream.read(&mut chunk) {
                Ok(0) => return None,
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return None,
                Err(e) => panic!("read failed: {e}"),
            }
        }
    }

    /// Expects a fatal error frame and then the end of the stream; returns the error.
    pub fn expect_error_and_close(&mut self) -> herald_core::Error {
        let error = loop {
            match self.next() {
                Some(Frame::Error(e)) => break herald_core::Error::from(e),
                Some(Frame::Heartbeat) => continue,
                other => panic!("expected an Error frame, got {other:?}"),
            }
        };
        assert_eq!(self.next(), None, "the server closes the connection after an error frame");
        error
    }
}

/// Frame type byte values for hand-made frames.
pub fn raw_frame(frame_type: u8, body: &[u8]) -> Vec<u8> {
    let mut out = ((body.len() + 1) as u32).to_be_bytes().to_vec();
    out.push(frame_type);
    out.extend_from_slice(body);
    out
}

pub const REQUEST: u8 = FrameType::Request as u8;

/// A destination as a request may carry it: any kind, any name, the empty one included
/// (which the client API's constructors would not build).
pub fn wire_destination(kind: DestinationKind, name: &str) -> Destination {
    rmp_serde::from_slice(&rmp_serde::to_vec(&(kind, name)).unwrap()).unwrap()
}

/// xorshift64*: enough randomness to pick test steps, and repeatable from its seed.
pub struct Rng(u64);

impl Rng {
    /// Distinct seeds give distinct, well-mixed (and nonzero) states.
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}
