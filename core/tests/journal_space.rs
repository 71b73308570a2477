//! The journal's file does not grow forever: consumed messages' space is reused under
//! steady traffic, and a drained backlog is given back to the file system.

mod journal_support;

use std::path::Path;
use std::time::{Duration, Instant};

use herald_core::client::AckMode;
use herald_core::journal::DATABASE_FILE;
use herald_core::{Destination, Message};
use journal_support::*;

/// The database's size in pages, as a reader sees it (WAL included).
fn pages(dir: &Path) -> i64 {
    let conn = rusqlite::Connection::open_with_flags(dir.join(DATABASE_FILE), rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .unwrap();
    conn.pragma_query_value(None, "page_count", |r| r.get(0)).unwrap()
}

#[test]
fn steady_traffic_reuses_the_space_of_consumed_messages() {
    let dir = TempDir::new("space-steady");
    let broker = open_broker(dir.path());
    let c = connect(&broker);
    let tx = session(&c, AckMode::Transacted);
    let queue = Destination::queue("steady");
    let producer = tx.create_producer(Some(queue.clone())).unwrap();
    let consumer = consumer(&tx, &queue);
    let body = "s".repeat(2048);
    let mut sizes = Vec::new();
    for _round in 0..12 {
        for _ in 0..500 {
            producer.send(Message::text(body.clone())).unwrap();
        }
        tx.commit().unwrap();
        for _ in 0..500 {
            consumer.receive_timeout(WAIT).unwrap().expect("a message");
        }
        tx.commit().unwrap();
        sizes.push(pages(dir.path()));
    }
    // 12 rounds of 1 MB each went through; the file stays at about one round's size.
    let settled = sizes[2];
    assert!(sizes[11] <= settled + settled / 4 + 64, "the file keeps growing: {sizes:?} pages");
    let wal = std::fs::metadata(dir.path().join("herald.db-wal")).map(|m| m.len()).unwrap_or(0);
    let bound = herald_core::journal::WAL_SIZE_LIMIT.max(herald_core::journal::WAL_CHECKPOINT_PAGES as u64 * 4096) + (4 << 20);
    assert!(wal <= bound, "the WAL grew to {wal} bytes");
}

#[test]
fn a_drained_backlog_is_given_back_to_the_file_system() {
    let dir = TempDir::new("space-shrink");
    let broker = open_broker(dir.path());
    let c = connect(&broker);
    let tx = session(&c, AckMode::Transacted);
    let queue = Destination::queue("backlog");
    let producer = tx.create_producer(Some(queue.clone())).unwrap();
    let body = "b".repeat(4096);
    for i in 0..3000 {
        producer.send(Message::text(body.clone())).unwrap();
        if i % 500 == 499 {
            tx.commit().unwrap();
        }
    }
    tx.commit().unwrap();
    let full = pages(dir.path());
    assert!(full > 3000, "a backlog of 12 MB takes {full} pages");
    let consumer = consumer(&tx, &queue);
    for _ in 0..3000 {
        consumer.receive_timeout(WAIT).unwrap().expect("a message");
    }
    tx.commit().unwrap();
    // The writer gives free pages back once it has been idle for a while.
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut now = pages(dir.path());
    while now * 4 > full && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
        now = pages(dir.path());
    }
    assert!(now * 4 <= full, "the drained journal still takes {now} of {full} pages");
    // And it still works.
    producer.send(Message::text("after")).unwrap();
    tx.commit().unwrap();
    assert_eq!(consumer.receive_timeout(WAIT).unwrap().unwrap().text_body(), Some("after"));
}
