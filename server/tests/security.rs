//! Authentication and per-destination authorization against the real `herald` binary,
//! and TLS.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use common::{ServerProcess, HERALD};
use herald_core::client::{AckMode, ConnectOptions, Connection, ConsumerOptions, SubscriptionOptions};
use herald_core::wire::{self, Frame, FrameType, Hello};
use herald_core::{Destination, ErrorKind, Message};

/// `herald passwd` reads a password on stdin and prints its hash.
fn passwd(password: &str) -> String {
    let mut child = Command::new(HERALD).arg("passwd").stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(format!("{password}\n").as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let hash = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    hash
}

fn config() -> String {
    let hash = passwd("pw");
    let mut config = String::new();
    for user in ["sender", "consumer", "browser", "creator", "ops", "admin"] {
        config += &format!("[[user]]\nname = \"{user}\"\npassword_hash = \"{hash}\"\n\n");
    }
    config += r#"
[[permission]]
users = ["sender"]
destinations = ["queue://orders.*", "topic://news"]
allow = ["send"]

[[permission]]
users = ["consumer"]
destinations = ["orders.*", "news"]
allow = ["consume"]

[[permission]]
users = ["browser"]
destinations = ["queue://orders.*"]
allow = ["browse"]

[[permission]]
users = ["creator"]
destinations = ["news"]
allow = ["consume", "create"]

[[permission]]
users = ["ops"]
destinations = ["topic://alerts"]
allow = ["consume", "create"]

[[permission]]
users = ["admin"]
destinations = ["*"]
allow = ["admin"]
"#;
    config
}

fn open(server: &ServerProcess, user: &str, password: &str) -> herald_core::Result<Connection> {
    let options = ConnectOptions { user: Some(user.into()), password: Some(password.into()), ..ConnectOptions::default() };
    Connection::open(&server.url(), &options)
}

#[test]
fn authentication_and_each_permission() {
    let server = ServerProcess::start(&config());
    let orders = Destination::queue("orders.eu");
    let other = Destination::queue("invoices");
    let news = Destination::topic("news");

    // Authentication.
    assert_eq!(open(&server, "sender", "wrong").err().unwrap().kind(), ErrorKind::Security);
    assert_eq!(open(&server, "nobody", "pw").err().unwrap().kind(), ErrorKind::Security);
    let anonymous = Connection::open(&server.url(), &ConnectOptions::default()).err().unwrap();
    assert_eq!(anonymous.kind(), ErrorKind::Security);
    // Credentials in the URL work too.
    Connection::open(&format!("{}?user=sender&password=pw", server.url()), &ConnectOptions::default()).unwrap();

    // send
    let sender = open(&server, "sender", "pw").unwrap();
    let s = sender.create_session(AckMode::Auto).unwrap();
    let p = s.create_producer(None).unwrap();
    let opts = herald_core::client::SendOptions::default();
    p.send_with(Some(&orders), Message::text("allowed"), &opts).unwrap();
    p.send_with(Some(&news), Message::text("news"), &opts).unwrap();
    assert_eq!(p.send_with(Some(&other), Message::text("denied"), &opts).unwrap_err().kind(), ErrorKind::Security);
    assert_eq!(s.create_consumer(&orders, &ConsumerOptions::default()).err().unwrap().kind(), ErrorKind::Security);

    // browse
    let browser = open(&server, "browser", "pw").unwrap();
    let bs = browser.create_session(AckMode::Auto).unwrap();
    let seen: Vec<_> = bs.create_browser(&orders, None).unwrap().map(|d| d.text_body().unwrap().to_owned()).collect();
    assert_eq!(seen, ["allowed"]);
    assert_eq!(bs.create_browser(&other, None).err().unwrap().kind(), ErrorKind::Security);
    assert_eq!(bs.create_consumer(&orders, &ConsumerOptions::default()).err().unwrap().kind(), ErrorKind::Security);

    // consume
    let consumer = open(&server, "consumer", "pw").unwrap();
    consumer.start().unwrap();
    let cs = consumer.create_session(AckMode::Auto).unwrap();
    let c = cs.create_consumer(&orders, &ConsumerOptions::default()).unwrap();
    assert_eq!(c.receive_timeout(Duration::from_secs(5)).unwrap().unwrap().text_body(), Some("allowed"));
    assert_eq!(cs.create_consumer(&other, &ConsumerOptions::default()).err().unwrap().kind(), ErrorKind::Security);
    let cp = cs.create_producer(Some(orders.clone())).unwrap();
    assert_eq!(cp.send(Message::text("no")).unwrap_err().kind(), ErrorKind::Security);
    // Temporary destinations need no permission.
    let tmp = consumer.create_temporary_queue().unwrap();
    cs.create_consumer(&tmp, &ConsumerOptions::default()).unwrap();

    // create: durable subscriptions and unsubscribing
    let durable = ConsumerOptions {
        subscription: Some(SubscriptionOptions { name: "keep".into(), durable: true, shared: true }),
        ..ConsumerOptions::default()
    };
    assert_eq!(cs.create_consumer(&news, &durable).err().unwrap().kind(), ErrorKind::Security);
    assert_eq!(cs.unsubscribe("keep").unwrap_err().kind(), ErrorKind::Security);
    let creator = open(&server, "creator", "pw").unwrap();
    let crs = creator.create_session(AckMode::Auto).unwrap();
    let dc = crs.create_consumer(&news, &durable).unwrap();
    dc.close();
    // Attaching to the durable subscription as it is needs only consume; changing it
    // (which replaces it) needs create.
    cs.create_consumer(&news, &durable).unwrap().close();
    let changed = ConsumerOptions { selector: Some("urgent = TRUE".into()), ..durable.clone() };
    let e = cs.create_consumer(&news, &changed).err().unwrap();
    assert_eq!(e.kind(), ErrorKind::Security);
    assert!(e.message().contains("lacks the create permission on topic://news"), "{e}");
    assert_eq!(cs.unsubscribe("keep").unwrap_err().kind(), ErrorKind::Security);
    crs.unsubscribe("keep").unwrap();
    // Unsubscribing is checked against the subscription's topic: create on news does
    // not delete a subscription to alerts.
    let alerts = Destination::topic("alerts");
    let watch = ConsumerOptions {
        subscription: Some(SubscriptionOptions { name: "watch".into(), durable: true, shared: true }),
        ..ConsumerOptions::default()
    };
    let ops = open(&server, "ops", "pw").unwrap();
    let os = ops.create_session(AckMode::Auto).unwrap();
    os.create_consumer(&alerts, &watch).unwrap().close();
    let e = crs.unsubscribe("watch").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Security);
    assert!(e.message().contains("topic://alerts"), "{e}");
    // Nor does it move the subscription to its own topic (which would delete it).
    assert_eq!(crs.create_consumer(&news, &watch).err().unwrap().kind(), ErrorKind::Security);
    os.unsubscribe("watch").unwrap();
    // A subscription that does not exist: InvalidDestination for whoever may create.
    assert_eq!(os.unsubscribe("watch").unwrap_err().kind(), ErrorKind::InvalidDestination);

    // admin
    assert_eq!(sender.stats().unwrap_err().kind(), ErrorKind::Security);
    let admin = open(&server, "admin", "pw").unwrap();
    assert!(admin.stats().unwrap().iter().any(|s| s.store == "queue:orders.eu"));
    let ads = admin.create_session(AckMode::Auto).unwrap();
    assert_eq!(
        ads.create_producer(Some(orders.clone())).unwrap().send(Message::text("x")).unwrap_err().kind(),
        ErrorKind::Security
    );

    // The command line reports the same as a one-line error and a failure status.
    let out = Command::new(HERALD)
        .args(["send", "--url", &server.url(), "--user", "sender", "--password", "pw", "--queue", "invoices", "x"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("lacks the send permission"), "{stderr}");
}

#[test]
fn tls_handshake_then_the_protocol() {
    let data = common::TempDir::new("tls");
    let cert = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/cert.pem");
    let key = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/key.pem");
    let ca = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/ca.pem");
    let port = common::free_port();
    let config = format!("[[listener]]\naddress = \"127.0.0.1:{port}\"\ntls_cert = \"{cert}\"\ntls_key = \"{key}\"\n");
    std::fs::write(data.0.join("herald.toml"), &config).unwrap();
    let child = Command::new(HERALD)
        .args(["serve", "--config"])
        .arg(data.0.join("herald.toml"))
        .arg("--data")
        .arg(data.0.join("data"))
        .env("RUST_LOG", "warn")
        .spawn()
        .unwrap();
    let mut child = KillOnDrop(child);
    let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(addr).is_err() {
        assert!(std::time::Instant::now() < deadline, "herald did not start");
        std::thread::sleep(Duration::from_millis(20));
    }

    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let welcome = runtime.block_on(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        use tokio_rustls::rustls;
        let mut roots = rustls::RootCertStore::empty();
        let pem = std::fs::read(ca).unwrap();
        for c in rustls_pemfile::certs(&mut &pem[..]) {
            roots.add(c.unwrap()).unwrap();
        }
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
        let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
        let mut tls = connector.connect(name, tcp).await.expect("the TLS handshake succeeds");
        let mut hello = Vec::new();
        wire::encode_into(
            &mut hello,
            FrameType::Hello,
            &Hello { version: wire::PROTOCOL_VERSION, user: None, password: None, heartbeat_ms: 0 },
        );
        tls.write_all(&hello).await.unwrap();
        let mut buf = Vec::new();
        loop {
            if let Some((frame, _)) = Frame::parse(&buf, wire::DEFAULT_MAX_FRAME).unwrap() {
                break frame;
            }
            let mut chunk = [0u8; 4096];
            let n = tls.read(&mut chunk).await.unwrap();
            assert!(n > 0, "the server closed the TLS connection");
            buf.extend_from_slice(&chunk[..n]);
        }
    });
    assert!(matches!(welcome, Frame::Welcome(w) if w.version == wire::PROTOCOL_VERSION));

    // Bytes that are not TLS fail the handshake and close the connection; the server
    // stays up.
    let mut plain = std::net::TcpStream::connect(addr).unwrap();
    plain.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    plain.write_all(&[0u8; 64]).unwrap();
    let mut buf = [0u8; 64];
    let n = std::io::Read::read(&mut plain, &mut buf).unwrap_or(0);
    assert!(n == 0 || buf[0] == 0x15, "the server ends the connection (possibly with a TLS alert)");
    assert!(child.0.try_wait().unwrap().is_none(), "the server still runs");
}

struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
