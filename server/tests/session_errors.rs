//! Requests a `tcp://` session sends without waiting (NON_PERSISTENT sends, sends in a
//! transaction) fail on the server after the call returned. Each failure belongs to the
//! session that sent the request: that session's next send, commit or acknowledge
//! reports it, and another session of the same connection never sees it (its
//! transaction commits).

mod common;

use common::InProcess;
use herald_core::client::{AckMode, ConnectOptions, Connection, SendOptions, Session};
use herald_server::auth::Auth;
use herald_server::config::Config;
use herald_server::Settings;
use herald_core::{DeliveryMode, Destination, ErrorKind, Message};

/// A temporary queue that no longer exists: sending to it fails on the server.
fn deleted_temporary_queue(server: &InProcess) -> Destination {
    let other = server.connect();
    let gone = other.create_temporary_queue().unwrap();
    other.delete_temporary(&gone).unwrap();
    gone
}

fn send_non_persistent(session: &Session, to: &Destination, body: &str) -> herald_core::Result<()> {
    let mut p = session.create_producer(Some(to.clone()))?;
    p.set_options(SendOptions { delivery_mode: DeliveryMode::NonPersistent, ..SendOptions::default() })?;
    p.send(Message::text(body)).map(drop)
}

/// Any request answered after `conn`'s earlier ones were carried out: their error
/// replies, if any, have arrived.
fn settle(conn: &Connection) {
    conn.create_session(AckMode::Client).unwrap().close();
}

#[test]
fn a_failed_send_is_reported_by_its_own_session_not_by_another() {
    let server = InProcess::start();
    let gone = deleted_temporary_queue(&server);
    let good = Destination::queue("session-errors.good");
    let conn = server.connect();
    let a = conn.create_session(AckMode::Auto).unwrap();
    let b = conn.create_session(AckMode::Transacted).unwrap();
    let c = conn.create_session(AckMode::Client).unwrap();

    // Accepted locally: it fails on the server.
    send_non_persistent(&a, &gone, "lost").unwrap();
    settle(&conn);

    // Another session's sends, commit and acknowledge know nothing of it.
    send_non_persistent(&b, &good, "b1").unwrap();
    b.commit().expect("another session's failure does not roll this transaction back");
    send_non_persistent(&c, &good, "c1").unwrap();
    c.acknowledge().unwrap();

    // The session that sent it reports it, once.
    let e = send_non_persistent(&a, &good, "a1").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidDestination, "{e}");
    send_non_persistent(&a, &good, "a2").unwrap();

    settle(&conn);
    let r = server.connect();
    r.start().unwrap();
    let s = r.create_session(AckMode::Auto).unwrap();
    let consumer = s.create_consumer(&good, &Default::default()).unwrap();
    let mut got = Vec::new();
    while let Some(d) = consumer.receive_timeout(std::time::Duration::from_millis(300)).unwrap() {
        got.push(d.text_body().unwrap().to_owned());
    }
    assert_eq!(got, ["b1", "c1", "a2"], "the good sends arrived; the one that reported the failure was not sent");
}

/// A server where "app" may send to `allowed.*` only, consume anywhere.
fn server_with_permissions() -> (InProcess, String) {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let salt = SaltString::from_b64("c2Vzc2lvbi1lcnJvcnM").unwrap();
    let hash = argon2::Argon2::default().hash_password(b"pw", &salt).unwrap().to_string();
    let config = Config::parse(&format!(
        r#"
[[user]]
name = "app"
password_hash = "{hash}"

[[permission]]
users = ["app"]
destinations = ["queue://allowed.*"]
allow = ["send", "consume"]
"#
    ))
    .unwrap();
    let server = InProcess::with(Settings { auth: Auth::from_config(&config), ..Settings::default() });
    let url = format!("{}?user=app&password=pw", server.url());
    (server, url)
}

#[test]
fn a_failed_transacted_send_rolls_back_its_own_transaction_only() {
    let (server, url) = server_with_permissions();
    let good = Destination::queue("allowed.transactions");
    let denied = Destination::queue("denied.transactions");
    let conn = Connection::open(&url, &ConnectOptions::default()).unwrap();
    let a = conn.create_session(AckMode::Transacted).unwrap();
    let b = conn.create_session(AckMode::Transacted).unwrap();

    // Transacted sends do not wait: the denial comes back later, to session `a`.
    a.create_producer(Some(good.clone())).unwrap().send(Message::text("a-kept-back")).unwrap();
    a.create_producer(Some(denied)).unwrap().send(Message::text("a-denied")).unwrap();
    b.create_producer(Some(good.clone())).unwrap().send(Message::text("b")).unwrap();
    settle(&conn);

    b.commit().expect("another session's failed send does not roll this transaction back");
    let e = a.commit().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::TransactionRolledBack, "{e}");
    assert!(e.message().contains("send"), "the cause is named: {e}");
    // A new transaction starts clean.
    a.create_producer(Some(good.clone())).unwrap().send(Message::text("a-again")).unwrap();
    a.commit().unwrap();

    let r = Connection::open(&url, &ConnectOptions::default()).unwrap();
    r.start().unwrap();
    let s = r.create_session(AckMode::Auto).unwrap();
    let consumer = s.create_consumer(&good, &Default::default()).unwrap();
    let mut got = Vec::new();
    while let Some(d) = consumer.receive_timeout(std::time::Duration::from_millis(300)).unwrap() {
        got.push(d.text_body().unwrap().to_owned());
    }
    assert_eq!(got, ["b", "a-again"], "the rolled back transaction sent nothing");
    drop(server);
}
