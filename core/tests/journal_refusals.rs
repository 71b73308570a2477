//! Bad conditions give clear errors and lose nothing: foreign, corrupt or newer
//! database files are refused and left untouched, a data directory has one broker at a
//! time, an unwritable directory and a full journal are reported.

mod journal_support;

use std::path::Path;

use herald_core::client::AckMode;
use herald_core::journal::{SqliteJournal, SqliteOptions, DATABASE_FILE, SCHEMA_VERSION};
use herald_core::{Broker, BrokerConfig, Destination, ErrorKind, Message};
use journal_support::*;

fn open_error(dir: &Path) -> herald_core::Error {
    SqliteJournal::open(dir, &SqliteOptions::default()).expect_err("the journal must refuse to open")
}

#[test]
fn a_file_that_is_not_sqlite_is_refused_and_left_untouched() {
    let dir = TempDir::new("refuse-garbage");
    let path = dir.path().join(DATABASE_FILE);
    let garbage: Vec<u8> = (0..8192u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(&path, &garbage).unwrap();
    let err = open_error(dir.path());
    assert_eq!(err.kind(), ErrorKind::Io);
    assert!(err.message().contains("not an SQLite database"), "{err}");
    assert!(err.message().contains("left untouched"), "{err}");
    assert!(std::fs::read(&path).unwrap() == garbage, "the file was modified");
}

#[test]
fn another_applications_database_is_refused_and_left_untouched() {
    let dir = TempDir::new("refuse-foreign");
    let path = dir.path().join(DATABASE_FILE);
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch("CREATE TABLE accounts (id INTEGER PRIMARY KEY, owner TEXT); INSERT INTO accounts VALUES (1, 'x');")
            .unwrap();
    }
    let before = std::fs::read(&path).unwrap();
    let err = open_error(dir.path());
    assert!(err.message().contains("another application"), "{err}");
    assert!(std::fs::read(&path).unwrap() == before, "the foreign file was modified");
    assert!(!dir.path().join("herald.db-wal").exists(), "the foreign file was switched to WAL");
}

#[test]
fn a_corrupt_journal_is_refused_and_left_untouched() {
    let dir = TempDir::new("refuse-corrupt");
    {
        let broker = open_broker(dir.path());
        let c = connect(&broker);
        let s = session(&c, AckMode::Auto);
        let body = "x".repeat(4000);
        send_texts(&s, &Destination::queue("q"), &[body.as_str(), body.as_str(), body.as_str()]);
        broker.shutdown();
    }
    let path = dir.path().join(DATABASE_FILE);
    let mut bytes = std::fs::read(&path).unwrap();
    assert!(bytes.len() > 8192);
    // Scribble over everything after the header page: the tables' pages are gone.
    for b in &mut bytes[4096..] {
        *b = 0xA5;
    }
    std::fs::write(&path, &bytes).unwrap();
    let result = SqliteJournal::open(dir.path(), &SqliteOptions::default()).and_then(|journal| {
        Broker::start(BrokerConfig { journal: Box::new(journal), ..BrokerConfig::default() })
    });
    let err = result.err().expect("a corrupt journal must not start a broker");
    assert!(err.message().to_lowercase().contains("corrupt") || err.message().contains("malformed"), "{err}");
    assert!(std::fs::read(&path).unwrap() == bytes, "the corrupt file was modified");
}

#[test]
fn a_journal_from_a_newer_version_is_refused() {
    let dir = TempDir::new("refuse-newer");
    SqliteJournal::open(dir.path(), &SqliteOptions::default()).unwrap();
    let path = dir.path().join(DATABASE_FILE);
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1).unwrap();
    }
    let err = open_error(dir.path());
    assert!(err.message().contains("newer Herald"), "{err}");
    assert!(err.message().contains(&format!("version {}", SCHEMA_VERSION + 1)), "{err}");
    let conn = rusqlite::Connection::open(&path).unwrap();
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
    assert_eq!(version, SCHEMA_VERSION + 1);
}

#[test]
fn a_new_journal_records_its_version_and_identity() {
    let dir = TempDir::new("schema-version");
    SqliteJournal::open(dir.path(), &SqliteOptions::default()).unwrap();
    let conn = rusqlite::Connection::open(dir.path().join(DATABASE_FILE)).unwrap();
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
    let app: i64 = conn.pragma_query_value(None, "application_id", |r| r.get(0)).unwrap();
    let mode: String = conn.pragma_query_value(None, "journal_mode", |r| r.get(0)).unwrap();
    let vacuum: i64 = conn.pragma_query_value(None, "auto_vacuum", |r| r.get(0)).unwrap();
    assert_eq!((version, app, mode.as_str(), vacuum), (SCHEMA_VERSION, 0x4852_4c44, "wal", 2));
}

#[test]
fn a_second_broker_on_the_same_data_directory_is_refused() {
    let dir = TempDir::new("refuse-locked");
    let first = open_broker(dir.path());
    let err = open_error(dir.path());
    assert_eq!(err.kind(), ErrorKind::Io);
    assert!(err.message().contains("in use by another broker"), "{err}");
    first.shutdown();
    // Released by the shutdown.
    SqliteJournal::open(dir.path(), &SqliteOptions::default()).unwrap();
}

#[test]
fn a_data_directory_that_cannot_be_created_is_an_io_error() {
    let dir = TempDir::new("refuse-uncreatable");
    let file = dir.path().join("plain-file");
    std::fs::write(&file, b"not a directory").unwrap();
    let err = open_error(&file.join("data"));
    assert_eq!(err.kind(), ErrorKind::Io);
    assert!(err.message().contains("cannot create the data directory"), "{err}");
}

#[test]
fn a_read_only_data_directory_is_an_io_error() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new("refuse-readonly");
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o555)).unwrap();
    // A privileged user (root) writes regardless of permissions; there the directory is
    // made unwritable by being a path through a file instead.
    let probe = data.join("probe");
    let privileged = std::fs::write(&probe, b"").is_ok();
    let _ = std::fs::remove_file(&probe);
    let target = if privileged {
        let blocker = dir.path().join("blocker");
        std::fs::write(&blocker, b"").unwrap();
        blocker.join("data")
    } else {
        data.clone()
    };
    let err = open_error(&target);
    assert_eq!(err.kind(), ErrorKind::Io);
    assert!(err.message().contains("not writable") || err.message().contains("cannot create"), "{err}");
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn a_full_journal_fails_the_send_and_keeps_earlier_messages() {
    let dir = TempDir::new("refuse-full");
    let queue = Destination::queue("big");
    let options = SqliteOptions { max_size: Some(512 * 1024), ..SqliteOptions::default() };
    let body = "y".repeat(16 * 1024);
    let sent;
    {
        let broker = open_broker_with(dir.path(), &options);
        let c = connect(&broker);
        let s = session(&c, AckMode::Auto);
        let p = s.create_producer(Some(queue.clone())).unwrap();
        let mut n = 0;
        let err = loop {
            match p.send(Message::text(format!("{n}:{body}"))) {
                Ok(_) => n += 1,
                Err(e) => break e,
            }
            assert!(n < 1000, "the size limit was never reached");
        };
        assert_eq!(err.kind(), ErrorKind::ResourceAllocation, "{err}");
        assert!(err.message().contains("full"), "{err}");
        sent = n;
        assert!(sent > 5);
        // Consuming frees space: sending works again.
        let consumer = consumer(&s, &queue);
        for i in 0..5 {
            let got = consumer.receive_timeout(WAIT).unwrap().unwrap();
            assert!(got.text_body().unwrap().starts_with(&format!("{i}:")));
        }
        p.send(Message::text(format!("{sent}:{body}"))).unwrap();
        c.close();
        broker.shutdown();
    }
    let broker = open_broker_with(dir.path(), &options);
    let c = connect(&broker);
    let s = session(&c, AckMode::Auto);
    let got = drain(&consumer(&s, &queue), SHORT);
    let numbers: Vec<usize> = got.iter().map(|t| t.split_once(':').unwrap().0.parse().unwrap()).collect();
    assert_eq!(numbers, (5..=sent).collect::<Vec<_>>());
}

#[test]
fn sync_mode_os_keeps_messages_across_a_restart() {
    let dir = TempDir::new("sync-os");
    let options = SqliteOptions { sync: herald_core::journal::SyncMode::Os, ..SqliteOptions::default() };
    let queue = Destination::queue("fast");
    {
        let broker = open_broker_with(dir.path(), &options);
        let c = connect(&broker);
        send_texts(&session(&c, AckMode::Auto), &queue, &["a", "b"]);
        broker.shutdown();
    }
    let broker = open_broker_with(dir.path(), &options);
    let c = connect(&broker);
    assert_eq!(drain(&consumer(&session(&c, AckMode::Auto), &queue), SHORT), ["a", "b"]);
}
