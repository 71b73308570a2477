//! The SQLite journal: one database file, `herald.db`, per data directory.
//!
//! # Opening
//!
//! [`SqliteJournal::open`] takes an exclusive lock on `herald.lock` in the data
//! directory (a second broker on the same directory is refused), then looks at the
//! database before changing anything: a file that is not SQLite, is corrupt, belongs to
//! another application or comes from a newer Herald is refused with an error naming it,
//! and is never modified or deleted. Only then does it set the connection up (WAL
//! journal, the `synchronous` level of the [`SyncMode`], foreign keys) and, inside one
//! `BEGIN IMMEDIATE` transaction, create the schema (`core/sql/schema.sql`) or upgrade
//! it one `user_version` at a time.
//!
//! # Group commit
//!
//! One writer thread owns the connection. [`Journal::write`] hands it a unit (the
//! message bodies already encoded by the calling thread) and blocks until the unit is
//! committed. The writer takes every unit waiting, applies them all in one SQLite
//! transaction and commits once (one fsync), then wakes their writers: while one commit
//! syncs, the next batch gathers, so throughput grows with the number of producers. When
//! a commit fails (a full disk, the configured size limit), every unit of that batch
//! fails with the error and nothing of it is kept; earlier commits are untouched.
//!
//! # Delivery counts
//!
//! A delivery count recorded through [`Journal::write_relaxed`] (a message handed to an
//! application and not yet acknowledged) is appended to the delivery log,
//! `herald.deliveries`, with one `write` call and no fsync (see `deliveries.rs`): it
//! survives a killed process and costs no transaction. The log is folded into the
//! `entry` table when it grows large and at every start. After a power loss the last
//! counts may be lost, and such a message comes back as a first delivery.
//!
//! # Gathering
//!
//! A unit that arrives while a commit is in progress shows that several writers are
//! active. The next batch then waits briefly (a fraction of the last commit's time, at
//! most [`MAX_GATHER`]) for as many units as the previous batch had, so a producer and a
//! consumer acknowledging alternately share one fsync instead of taking turns.
//!
//! # Space
//!
//! Deleted rows free their pages, which later inserts reuse, so steady traffic does not
//! grow the file. The database uses `auto_vacuum=INCREMENTAL`: when a drained backlog
//! leaves many free pages, the writer gives them back to the file system, a slice at a
//! time while busy and all at once when idle. The WAL is checkpointed automatically and truncated to
//! [`WAL_SIZE_LIMIT`] bytes.

mod deliveries;

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, SyncSender, TryRecvError};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rusqlite::{params, Connection, ErrorCode, OpenFlags, TransactionBehavior};

use super::{Error, Journal, Op, Recovered, RecoveredEntry, RecoveredTail, StoreKey, SubscriptionRecord, TailRow};
use crate::error::{Error as HeraldError, ErrorKind};
use crate::message::Message;
use deliveries::{Appended, Counts, DeliveryLog};
pub use deliveries::{DELIVERY_LOG, DELIVERY_LOG_OLD};

/// The database's file name inside a data directory.
pub const DATABASE_FILE: &str = "herald.db";
/// The lock file's name inside a data directory; a broker holds an exclusive lock on it.
pub const LOCK_FILE: &str = "herald.lock";
/// The schema version this build writes (`PRAGMA user_version`).
pub const SCHEMA_VERSION: i64 = 1;
/// `PRAGMA application_id` of a Herald journal: the ASCII bytes "HRLD".
const APPLICATION_ID: i64 = 0x4852_4c44;
const SCHEMA: &str = include_str!("../../../sql/schema.sql");
/// `MIGRATIONS[i]` upgrades schema version `i + 1` to `i + 2`.
const MIGRATIONS: &[&str] = &[];
/// The WAL file is truncated back to this size after a checkpoint.
pub const WAL_SIZE_LIMIT: u64 = 64 << 20;
/// Pages the WAL collects before a checkpoint copies them into the database. Messages
/// are short-lived: a page written, rewritten and emptied between two checkpoints is
/// copied once, so a larger WAL saves database writes.
pub const WAL_CHECKPOINT_PAGES: i64 = 8192;
/// The most units one commit takes.
const MAX_BATCH: usize = 4096;
/// How often the writer looks for free pages to give back.
const VACUUM_EVERY: Duration = Duration::from_secs(2);
/// Pages given back per incremental vacuum step.
const VACUUM_STEP: i64 = 2048;
/// The longest a batch waits for more units.
pub const MAX_GATHER: Duration = Duration::from_millis(1);

/// How hard a commit works to be durable.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SyncMode {
    /// `synchronous=FULL`: a commit returns after the data is on stable storage (fsync).
    /// Survives a process crash and a power loss or OS crash.
    #[default]
    Full,
    /// `synchronous=NORMAL`: a commit returns once the OS has the data. Survives a
    /// process crash (kill -9), not a power loss or OS crash, which may lose the last
    /// commits (never corrupting the database). Much faster on slow disks.
    Os,
}

impl SyncMode {
    /// Parses `full` or `os`, as written in a configuration file or a URL.
    pub fn parse(text: &str) -> Result<SyncMode, HeraldError> {
        match text.to_ascii_lowercase().as_str() {
            "full" => Ok(SyncMode::Full),
            "os" => Ok(SyncMode::Os),
            _ => Err(HeraldError::new(
                ErrorKind::InvalidArgument,
                format!("sync mode \"{text}\" is neither \"full\" nor \"os\""),
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SyncMode::Full => "full",
            SyncMode::Os => "os",
        }
    }
}

/// Settings of a [`SqliteJournal`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SqliteOptions {
    pub sync: SyncMode,
    /// The most bytes the database may take; beyond it a write fails with a
    /// `ResourceAllocation` error. `None`: as much as the disk has.
    pub max_size: Option<u64>,
}

/// A unit as the writer thread applies it: bodies already encoded.
enum Row {
    AddMessage { key: u64, data: Vec<u8> },
    Enqueue { store: StoreKey, key: u64 },
    Remove { store: StoreKey, key: u64 },
    SetDeliveryCount { store: StoreKey, key: u64, count: u32 },
    AddSubscription(SubscriptionRecord),
    RemoveSubscription { store: StoreKey },
}

impl Row {
    fn from_op(op: Op) -> Row {
        match op {
            Op::AddMessage { key, message } => Row::AddMessage { key, data: message.encode() },
            Op::Enqueue { store, key } => Row::Enqueue { store, key },
            Op::Remove { store, key } => Row::Remove { store, key },
            Op::SetDeliveryCount { store, key, count } => Row::SetDeliveryCount { store, key, count },
            Op::AddSubscription(record) => Row::AddSubscription(record),
            Op::RemoveSubscription { store } => Row::RemoveSubscription { store },
        }
    }
}

struct Unit {
    rows: Vec<Row>,
    relaxed: bool,
    done: SyncSender<Result<(), Error>>,
}

enum Request {
    Write(Unit),
    /// Recover, reading back at most this many bytes of resident messages.
    Recover(usize, SyncSender<Result<Recovered, Error>>),
    /// The delivery log was rotated: fold the old one into the database.
    FoldDeliveries,
}

/// Counts of what the writer thread has done, for statistics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct JournalStats {
    /// SQLite transactions committed (successful or not) for writes.
    pub commits: u64,
    /// Units (sends, acknowledgements, transaction commits) they carried.
    pub units: u64,
}

#[derive(Default)]
struct Counters {
    commits: AtomicU64,
    units: AtomicU64,
}

/// A journal in one SQLite database, written by one group-committing thread.
pub struct SqliteJournal {
    dir: PathBuf,
    deliveries: Arc<DeliveryLog>,
    counters: Arc<Counters>,
    sender: RwLock<Option<Sender<Request>>>,
    writer: Mutex<Option<JoinHandle<()>>>,
    /// Held (locked) from open to close.
    lock_file: Mutex<Option<File>>,
    /// A read-only connection for [`Journal::load`]: in WAL mode it reads committed data
    /// while the writer writes.
    reader: Mutex<Option<Connection>>,
}

impl std::fmt::Debug for SqliteJournal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteJournal").field("dir", &self.dir).finish()
    }
}

fn io_error(message: String) -> HeraldError {
    HeraldError::new(ErrorKind::Io, message)
}

impl SqliteJournal {
    /// Opens (creating if needed) the journal in the data directory `dir`.
    ///
    /// Fails with an `Io` error when the directory cannot be created or written, when
    /// another broker has it open, or when `herald.db` is not a Herald journal this
    /// build can read (not SQLite, corrupt, another application's, a newer schema); the
    /// file is then left exactly as it was.
    pub fn open(dir: impl AsRef<Path>, options: &SqliteOptions) -> Result<SqliteJournal, HeraldError> {
        let dir = dir.as_ref().to_path_buf();
        std::fs::create_dir_all(&dir)
            .map_err(|e| io_error(format!("cannot create the data directory {}: {e}", dir.display())))?;
        let lock_path = dir.join(LOCK_FILE);
        let lock_file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&lock_path)
            .map_err(|e| io_error(format!("the data directory {} is not writable: {e}", dir.display())))?;
        match lock_file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err(io_error(format!(
                    "the data directory {} is in use by another broker (its {LOCK_FILE} is locked)",
                    dir.display()
                )))
            }
            Err(TryLockError::Error(e)) => {
                return Err(io_error(format!("cannot lock {}: {e}", lock_path.display())));
            }
        }
        let db_path = dir.join(DATABASE_FILE);
        let conn = open_database(&db_path, options)?;
        let deliveries = Arc::new(
            DeliveryLog::open(&dir)
                .map_err(|e| io_error(format!("cannot open the delivery log in {}: {e}", dir.display())))?,
        );
        let reader = Connection::open_with_flags(
            &db_path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| io_error(format!("cannot open {} for reading: {e}", db_path.display())))?;
        let (sender, receiver) = mpsc::channel();
        let sync = options.sync;
        let log = deliveries.clone();
        let counters = Arc::new(Counters::default());
        let writer_counters = counters.clone();
        let writer = std::thread::Builder::new()
            .name("herald-journal".into())
            .spawn(move || Writer::new(conn, sync, log, writer_counters).run(receiver))
            .map_err(|e| io_error(format!("cannot start the journal thread: {e}")))?;
        Ok(SqliteJournal {
            dir,
            deliveries,
            counters,
            sender: RwLock::new(Some(sender)),
            writer: Mutex::new(Some(writer)),
            lock_file: Mutex::new(Some(lock_file)),
            reader: Mutex::new(Some(reader)),
        })
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// How many commits the writer made and how many units they carried: their ratio is
    /// how well group commit is sharing fsyncs.
    pub fn stats(&self) -> JournalStats {
        JournalStats {
            commits: self.counters.commits.load(Ordering::Relaxed),
            units: self.counters.units.load(Ordering::Relaxed),
        }
    }

    fn send(&self, request: Request) -> Result<(), Error> {
        let sender = self.sender.read().unwrap_or_else(|p| p.into_inner());
        match &*sender {
            Some(s) => s.send(request).map_err(|_| Error::Closed),
            None => Err(Error::Closed),
        }
    }

    fn submit(&self, ops: Vec<Op>, relaxed: bool) -> Result<(), Error> {
        if ops.is_empty() {
            return Ok(());
        }
        let rows = ops.into_iter().map(Row::from_op).collect();
        let (done, wait) = mpsc::sync_channel(1);
        self.send(Request::Write(Unit { rows, relaxed, done }))?;
        wait.recv().unwrap_or(Err(Error::Closed))
    }
}

impl Journal for SqliteJournal {
    fn is_durable(&self) -> bool {
        true
    }

    fn write(&self, ops: Vec<Op>) -> Result<(), Error> {
        self.submit(ops, false)
    }

    fn write_relaxed(&self, ops: Vec<Op>) -> Result<(), Error> {
        if !ops.iter().all(|op| matches!(op, Op::SetDeliveryCount { .. })) {
            return self.submit(ops, true);
        }
        if self.sender.read().unwrap_or_else(|p| p.into_inner()).is_none() {
            return Err(Error::Closed);
        }
        let records: Vec<(StoreKey, u64, u32)> = ops
            .into_iter()
            .filter_map(|op| match op {
                Op::SetDeliveryCount { store, key, count } => Some((store, key, count)),
                _ => None,
            })
            .collect();
        if let Appended::Rotated = self.deliveries.append(&records)? {
            self.send(Request::FoldDeliveries)?;
        }
        Ok(())
    }

    fn recover(&self) -> Result<Recovered, Error> {
        self.recover_within(usize::MAX)
    }

    fn recover_within(&self, budget: usize) -> Result<Recovered, Error> {
        let (done, wait) = mpsc::sync_channel(1);
        self.send(Request::Recover(budget, done))?;
        wait.recv().unwrap_or(Err(Error::Closed))
    }

    fn load_tail(&self, store: &str, after: u64, until: u64, max_rows: usize, max_bytes: usize) -> Result<Vec<TailRow>, Error> {
        let mut out = Vec::new();
        if until <= after || max_rows == 0 {
            return Ok(out);
        }
        let reader = self.reader.lock().unwrap_or_else(|p| p.into_inner());
        let Some(conn) = &*reader else { return Err(Error::Closed) };
        let mut stmt = conn
            .prepare_cached(
                "SELECT e.key, e.delivery_count, m.data FROM entry e JOIN message m ON m.key = e.key \
                 WHERE e.store = ?1 AND e.key > ?2 AND e.key <= ?3 ORDER BY e.key LIMIT ?4",
            )
            .map_err(storage)?;
        let until = until.min(i64::MAX as u64) as i64;
        let limit = max_rows.min(i64::MAX as usize) as i64;
        let mut rows = stmt.query(params![store, after as i64, until, limit]).map_err(storage)?;
        let mut bytes = 0usize;
        while let Some(row) = rows.next().map_err(storage)? {
            let key: i64 = row.get(0).map_err(storage)?;
            let delivery_count: i64 = row.get(1).map_err(storage)?;
            let data = row.get_ref(2).map_err(storage)?.as_blob().map_err(|e| storage(e.into()))?;
            let message = Message::decode(data)
                .map_err(|e| Error::Storage(format!("message {key} in the journal cannot be read: {e}")))?;
            bytes += crate::paging::resident_bytes(&message);
            out.push(TailRow {
                key: key as u64,
                delivery_count: delivery_count.clamp(0, u32::MAX as i64) as u32,
                message: Arc::new(message),
            });
            if bytes >= max_bytes {
                break;
            }
        }
        Ok(out)
    }

    fn load(&self, key: u64) -> Result<Option<Arc<Message>>, Error> {
        let reader = self.reader.lock().unwrap_or_else(|p| p.into_inner());
        let Some(conn) = &*reader else { return Err(Error::Closed) };
        let mut stmt = conn.prepare_cached("SELECT data FROM message WHERE key = ?1").map_err(storage)?;
        let mut rows = stmt.query(params![key as i64]).map_err(storage)?;
        let Some(row) = rows.next().map_err(storage)? else { return Ok(None) };
        let data = row.get_ref(0).map_err(storage)?.as_blob().map_err(|e| storage(e.into()))?;
        let message = Message::decode(data)
            .map_err(|e| Error::Storage(format!("message {key} in the journal cannot be read: {e}")))?;
        Ok(Some(Arc::new(message)))
    }

    fn close(&self) {
        // Dropping the sender lets the writer finish what is queued and stop; the lock
        // is released only once the database is closed.
        self.reader.lock().unwrap_or_else(|p| p.into_inner()).take();
        self.sender.write().unwrap_or_else(|p| p.into_inner()).take();
        let writer = self.writer.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(writer) = writer {
            if writer.join().is_err() {
                tracing::error!(dir = %self.dir.display(), "the journal thread panicked");
            }
        }
        if let Some(file) = self.lock_file.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = file.unlock();
        }
    }
}

impl Drop for SqliteJournal {
    fn drop(&mut self) {
        self.close();
    }
}

// ---- opening ----

/// Explains a failure to read an existing database file.
fn unreadable(path: &Path, e: &rusqlite::Error) -> HeraldError {
    let why = match e.sqlite_error_code() {
        Some(ErrorCode::NotADatabase) => "it is not an SQLite database".to_owned(),
        Some(ErrorCode::DatabaseCorrupt) => "the database is corrupt".to_owned(),
        _ => e.to_string(),
    };
    io_error(format!(
        "{} is not a usable Herald journal: {why}. The file was left untouched; move it away or restore it from a backup",
        path.display()
    ))
}

fn storage(e: rusqlite::Error) -> Error {
    match e.sqlite_error_code() {
        Some(ErrorCode::DiskFull) => {
            Error::Full("the disk, or the journal's configured size limit, is full".into())
        }
        _ => Error::Storage(e.to_string()),
    }
}

fn open_database(path: &Path, options: &SqliteOptions) -> Result<Connection, HeraldError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let mut conn = Connection::open_with_flags(path, flags)
        .map_err(|e| io_error(format!("cannot open {}: {e}", path.display())))?;
    conn.busy_timeout(Duration::from_secs(5))
        .map_err(|e| io_error(format!("cannot open {}: {e}", path.display())))?;

    // Look before touching anything: these reads change nothing in the file.
    let application_id: i64 =
        conn.pragma_query_value(None, "application_id", |r| r.get(0)).map_err(|e| unreadable(path, &e))?;
    let version: i64 =
        conn.pragma_query_value(None, "user_version", |r| r.get(0)).map_err(|e| unreadable(path, &e))?;
    let objects: i64 = conn
        .query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))
        .map_err(|e| unreadable(path, &e))?;
    let fresh = application_id == 0 && version == 0 && objects == 0;
    if !fresh && application_id != APPLICATION_ID {
        return Err(io_error(format!(
            "{} is an SQLite database of another application (application_id {application_id}), not a Herald journal. \
             The file was left untouched",
            path.display()
        )));
    }
    check_version(path, version)?;

    // Set the connection up, outside any transaction.
    let setup = |conn: &Connection| -> rusqlite::Result<String> {
        if fresh {
            // Must precede the first table.
            conn.pragma_update(None, "auto_vacuum", "INCREMENTAL")?;
        }
        let mode: String = conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
        conn.pragma_update(None, "synchronous", sync_level(options.sync == SyncMode::Full))?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.pragma_update(None, "journal_size_limit", WAL_SIZE_LIMIT as i64)?;
        conn.pragma_update(None, "wal_autocheckpoint", WAL_CHECKPOINT_PAGES)?;
        if let Some(max) = options.max_size {
            let page_size: i64 = conn.pragma_query_value(None, "page_size", |r| r.get(0))?;
            let pages = (max as i64 / page_size.max(512)).max(16);
            conn.pragma_update(None, "max_page_count", pages)?;
        }
        Ok(mode)
    };
    let mode = setup(&conn).map_err(|e| unreadable(path, &e))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(io_error(format!(
            "{} cannot use write-ahead logging (journal_mode is {mode}); the file system may not support it",
            path.display()
        )));
    }

    // Create or upgrade the schema, all or nothing. A current database is not written
    // to at all here.
    if version == SCHEMA_VERSION {
        return Ok(conn);
    }
    let migrate = |conn: &mut Connection| -> Result<(), HeraldError> {
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| unreadable(path, &e))?;
        let mut version: i64 = tx.pragma_query_value(None, "user_version", |r| r.get(0)).map_err(|e| unreadable(path, &e))?;
        check_version(path, version)?;
        let fail = |what: &str, e: rusqlite::Error| {
            io_error(format!("cannot {what} the journal schema in {}: {e}", path.display()))
        };
        if version == 0 {
            tx.execute_batch(SCHEMA).map_err(|e| fail("create", e))?;
            tx.pragma_update(None, "application_id", APPLICATION_ID).map_err(|e| fail("create", e))?;
            version = SCHEMA_VERSION;
        }
        while version < SCHEMA_VERSION {
            let step = MIGRATIONS[(version - 1) as usize];
            tx.execute_batch(step).map_err(|e| fail(&format!("upgrade from version {version}"), e))?;
            version += 1;
        }
        tx.pragma_update(None, "user_version", version).map_err(|e| fail("record the version of", e))?;
        tx.commit().map_err(|e| fail("commit", e))
    };
    migrate(&mut conn)?;
    Ok(conn)
}

fn check_version(path: &Path, version: i64) -> Result<(), HeraldError> {
    if version > SCHEMA_VERSION {
        return Err(io_error(format!(
            "{} was written by a newer Herald (journal schema version {version}; this build reads up to {SCHEMA_VERSION}). \
             Upgrade Herald; the file was left untouched",
            path.display()
        )));
    }
    if version < 0 {
        return Err(io_error(format!("{} has an invalid journal schema version {version}", path.display())));
    }
    Ok(())
}

fn sync_level(full: bool) -> &'static str {
    if full {
        "FULL"
    } else {
        "NORMAL"
    }
}

// ---- the writer thread ----

struct Writer {
    conn: Connection,
    /// Strict units commit with synchronous=FULL.
    full: bool,
    /// The connection's current `synchronous` setting (true: FULL).
    current_full: bool,
    deliveries: Arc<DeliveryLog>,
    counters: Arc<Counters>,
    last_vacuum_check: Instant,
    last_commit: Duration,
}

impl Writer {
    fn new(conn: Connection, sync: SyncMode, deliveries: Arc<DeliveryLog>, counters: Arc<Counters>) -> Writer {
        let full = sync == SyncMode::Full;
        Writer {
            conn,
            full,
            current_full: full,
            deliveries,
            counters,
            last_vacuum_check: Instant::now(),
            last_commit: Duration::ZERO,
        }
    }

    fn run(mut self, requests: Receiver<Request>) {
        let mut batch: Vec<Unit> = Vec::new();
        // Units the previous batch carried: how many writers seem to be active.
        let mut expected = 1;
        loop {
            // A request already waiting arrived during the last commit.
            let (first, backlog) = match requests.try_recv() {
                Ok(r) => (r, true),
                Err(TryRecvError::Empty) => match requests.recv_timeout(VACUUM_EVERY) {
                    Ok(r) => (r, false),
                    Err(RecvTimeoutError::Timeout) => {
                        // Idle: a good moment to give every free page back.
                        self.maintain(None);
                        continue;
                    }
                    Err(RecvTimeoutError::Disconnected) => break,
                },
                Err(TryRecvError::Disconnected) => break,
            };
            self.take(first, &mut batch);
            while batch.len() < MAX_BATCH {
                match requests.try_recv() {
                    Ok(r) => self.take(r, &mut batch),
                    Err(_) => break,
                }
            }
            let target = if backlog { expected.max(2) } else { expected };
            if !batch.is_empty() && batch.len() < target {
                let window = (self.last_commit / 4).clamp(Duration::from_micros(20), MAX_GATHER);
                let deadline = Instant::now() + window;
                while batch.len() < target {
                    let now = Instant::now();
                    if now >= deadline {
                        break;
                    }
                    match requests.recv_timeout(deadline - now) {
                        Ok(r) => self.take(r, &mut batch),
                        Err(RecvTimeoutError::Timeout) | Err(RecvTimeoutError::Disconnected) => break,
                    }
                }
            }
            if !batch.is_empty() {
                expected = batch.len();
            }
            self.commit(std::mem::take(&mut batch));
            if self.last_vacuum_check.elapsed() >= VACUUM_EVERY {
                self.maintain(Some(VACUUM_STEP));
            }
        }
        if let Err(e) = self.conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)") {
            tracing::warn!(cause = %e, "could not checkpoint the journal on close");
        }
    }

    /// Adds a write to the batch; anything else runs now, after the batch so far.
    fn take(&mut self, request: Request, batch: &mut Vec<Unit>) {
        match request {
            Request::Write(unit) => batch.push(unit),
            Request::Recover(budget, done) => {
                self.commit(std::mem::take(batch));
                let _ = done.send(self.recover(budget));
            }
            Request::FoldDeliveries => {
                self.commit(std::mem::take(batch));
                let folded = self.deliveries.read_old().map_err(|e| Error::Storage(e.to_string())).and_then(|counts| {
                    // Relaxed, like the log itself.
                    self.apply_counts(&counts, false)
                });
                match folded {
                    Ok(()) => self.deliveries.old_folded(),
                    Err(e) => tracing::warn!(cause = %e, "could not fold the delivery log into the journal"),
                }
            }
        }
    }

    fn set_sync(&mut self, full: bool) -> Result<(), Error> {
        if full != self.current_full {
            self.conn.pragma_update(None, "synchronous", sync_level(full)).map_err(storage)?;
            self.current_full = full;
        }
        Ok(())
    }

    /// Raises stored delivery counts to those of the delivery log.
    fn apply_counts(&mut self, counts: &Counts, full: bool) -> Result<(), Error> {
        if counts.is_empty() {
            return Ok(());
        }
        self.set_sync(full)?;
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(storage)?;
        {
            let mut stmt = tx
                .prepare_cached(
                    "UPDATE entry SET delivery_count = max(delivery_count, ?3) WHERE key = ?1 AND store = ?2",
                )
                .map_err(storage)?;
            for ((store, key), count) in counts {
                stmt.execute(params![*key as i64, store, *count]).map_err(storage)?;
            }
        }
        tx.commit().map_err(storage)
    }

    /// Commits a batch of units as one transaction and tells each writer the outcome.
    fn commit(&mut self, units: Vec<Unit>) {
        if units.is_empty() {
            return;
        }
        let strict = units.iter().any(|u| !u.relaxed);
        let began = Instant::now();
        let result = self.apply(&units, self.full && strict);
        self.last_commit = began.elapsed();
        self.counters.commits.fetch_add(1, Ordering::Relaxed);
        self.counters.units.fetch_add(units.len() as u64, Ordering::Relaxed);
        if let Err(e) = &result {
            tracing::warn!(units = units.len(), cause = %e, "a journal commit failed");
        }
        for unit in units {
            let _ = unit.done.send(result.clone());
        }
    }

    fn apply(&mut self, units: &[Unit], full: bool) -> Result<(), Error> {
        self.set_sync(full)?;
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(storage)?;
        for unit in units {
            for row in &unit.rows {
                apply_row(&tx, row).map_err(storage)?;
            }
        }
        tx.commit().map_err(storage)
    }

    fn recover(&mut self, budget: usize) -> Result<Recovered, Error> {
        // Fold the delivery log in first, durably, then start it afresh.
        let counts = self
            .deliveries
            .read_all()
            .map_err(|e| Error::Storage(format!("cannot read the delivery log: {e}")))?;
        self.apply_counts(&counts, self.full)?;
        self.deliveries.clear().map_err(|e| Error::Storage(format!("cannot clear the delivery log: {e}")))?;
        let conn = &self.conn;
        let mut recovered = Recovered::default();
        let mut stmt = conn
            .prepare("SELECT store, client_id, name, topic, selector, no_local, shared FROM subscription ORDER BY store")
            .map_err(storage)?;
        let rows = stmt
            .query_map([], |r| {
                Ok(SubscriptionRecord {
                    store: r.get::<_, String>(0)?.into(),
                    client_id: r.get(1)?,
                    name: r.get(2)?,
                    topic: r.get(3)?,
                    selector: r.get(4)?,
                    no_local: r.get(5)?,
                    shared: r.get(6)?,
                })
            })
            .map_err(storage)?;
        for row in rows {
            recovered.subscriptions.push(row.map_err(storage)?);
        }
        let last_key: i64 = conn.query_row("SELECT coalesce(max(key), 0) FROM message", [], |r| r.get(0)).map_err(storage)?;
        recovered.last_key = last_key.max(0) as u64;
        // Messages in key order while they fit the budget; from the first that does not,
        // everything stays in the journal as the stores' tails.
        let mut resident = 0usize;
        let mut cutoff: Option<u64> = None;
        let mut stmt = conn.prepare("SELECT key, data FROM message ORDER BY key").map_err(storage)?;
        let mut rows = stmt.query([]).map_err(storage)?;
        while let Some(row) = rows.next().map_err(storage)? {
            let key: i64 = row.get(0).map_err(storage)?;
            let data = row.get_ref(1).map_err(storage)?.as_blob().map_err(|e| storage(e.into()))?;
            let message = Message::decode(data)
                .map_err(|e| Error::Storage(format!("message {key} in the journal cannot be read: {e}")))?;
            let bytes = crate::paging::resident_bytes(&message);
            if bytes > budget.saturating_sub(resident) {
                cutoff = Some(key as u64);
                break;
            }
            resident += bytes;
            recovered.messages.push((key as u64, Arc::new(message)));
        }
        drop(rows);
        drop(stmt);
        let bound = cutoff.unwrap_or(i64::MAX as u64) as i64;
        // Stores are interned so a million entries of one queue share one name.
        let mut stores: Vec<StoreKey> = Vec::new();
        let mut intern = |name: &str| -> StoreKey {
            match stores.iter().find(|s| ***s == *name) {
                Some(s) => s.clone(),
                None => {
                    let s: StoreKey = name.into();
                    stores.push(s.clone());
                    s
                }
            }
        };
        let mut stmt = conn
            .prepare("SELECT key, store, delivery_count FROM entry WHERE key < ?1 ORDER BY key")
            .map_err(storage)?;
        let mut rows = stmt.query(params![bound]).map_err(storage)?;
        while let Some(row) = rows.next().map_err(storage)? {
            let key: i64 = row.get(0).map_err(storage)?;
            let name = row.get_ref(1).map_err(storage)?.as_str().map_err(|e| storage(e.into()))?;
            let store = intern(name);
            let delivery_count: i64 = row.get(2).map_err(storage)?;
            recovered.entries.push(RecoveredEntry {
                store,
                key: key as u64,
                delivery_count: delivery_count.clamp(0, u32::MAX as i64) as u32,
            });
        }
        drop(rows);
        drop(stmt);
        if let Some(cutoff) = cutoff {
            let mut stmt = conn
                .prepare("SELECT store, count(*) FROM entry WHERE key >= ?1 GROUP BY store ORDER BY store")
                .map_err(storage)?;
            let mut rows = stmt.query(params![cutoff as i64]).map_err(storage)?;
            while let Some(row) = rows.next().map_err(storage)? {
                let name = row.get_ref(0).map_err(storage)?.as_str().map_err(|e| storage(e.into()))?;
                let store = intern(name);
                let count: i64 = row.get(1).map_err(storage)?;
                recovered.tails.push(RecoveredTail { store, after: cutoff - 1, count: count.max(0) as usize });
            }
        }
        Ok(recovered)
    }

    fn maintain(&mut self, step: Option<i64>) {
        self.last_vacuum_check = Instant::now();
        if let Err(e) = self.give_back_free_pages(step) {
            tracing::warn!(cause = %e, "could not give free journal pages back");
        }
    }

    /// Returns free pages to the file system when they are a large share of the file:
    /// up to `step` pages, or all of them.
    fn give_back_free_pages(&mut self, step: Option<i64>) -> Result<(), Error> {
        let free: i64 = self.conn.pragma_query_value(None, "freelist_count", |r| r.get(0)).map_err(storage)?;
        let total: i64 = self.conn.pragma_query_value(None, "page_count", |r| r.get(0)).map_err(storage)?;
        if free >= 256 && free * 4 >= total {
            // Like a commit: durable as configured.
            self.set_sync(self.full)?;
            // Each step of the statement frees one page: step it to the end.
            let mut stmt =
                self.conn.prepare(&format!("PRAGMA incremental_vacuum({})", step.unwrap_or(0))).map_err(storage)?;
            let mut rows = stmt.query([]).map_err(storage)?;
            while rows.next().map_err(storage)?.is_some() {}
        }
        Ok(())
    }
}

fn apply_row(tx: &rusqlite::Transaction<'_>, row: &Row) -> rusqlite::Result<()> {
    match row {
        Row::AddMessage { key, data } => {
            tx.prepare_cached("INSERT INTO message (key, data) VALUES (?1, ?2)")?.execute(params![*key as i64, data])?;
        }
        Row::Enqueue { store, key } => {
            tx.prepare_cached("INSERT INTO entry (key, store) VALUES (?1, ?2)")?
                .execute(params![*key as i64, &**store])?;
        }
        Row::Remove { store, key } => {
            tx.prepare_cached("DELETE FROM entry WHERE key = ?1 AND store = ?2")?
                .execute(params![*key as i64, &**store])?;
            tx.prepare_cached("DELETE FROM message WHERE key = ?1 AND NOT EXISTS (SELECT 1 FROM entry WHERE key = ?1)")?
                .execute(params![*key as i64])?;
        }
        Row::SetDeliveryCount { store, key, count } => {
            tx.prepare_cached("UPDATE entry SET delivery_count = ?3 WHERE key = ?1 AND store = ?2")?
                .execute(params![*key as i64, &**store, *count])?;
        }
        Row::AddSubscription(r) => {
            tx.prepare_cached(
                "INSERT OR REPLACE INTO subscription (store, client_id, name, topic, selector, no_local, shared) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![&*r.store, r.client_id, r.name, r.topic, r.selector, r.no_local, r.shared])?;
        }
        Row::RemoveSubscription { store } => {
            let keys: Vec<i64> = {
                let mut stmt = tx.prepare_cached("SELECT key FROM entry WHERE store = ?1")?;
                let rows = stmt.query_map(params![&**store], |r| r.get(0))?;
                rows.collect::<rusqlite::Result<_>>()?
            };
            tx.prepare_cached("DELETE FROM entry WHERE store = ?1")?.execute(params![&**store])?;
            for key in keys {
                tx.prepare_cached("DELETE FROM message WHERE key = ?1 AND NOT EXISTS (SELECT 1 FROM entry WHERE key = ?1)")?
                    .execute(params![key])?;
            }
            tx.prepare_cached("DELETE FROM subscription WHERE store = ?1")?.execute(params![&**store])?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::Message;

    fn scratch(label: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("herald-sqlite-{label}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    fn send_ops(key: u64) -> Vec<Op> {
        vec![
            Op::AddMessage { key, message: Arc::new(Message::text(format!("m{key}"))) },
            Op::Enqueue { store: "queue:q".into(), key },
        ]
    }

    #[test]
    fn concurrent_writers_share_commits_and_every_unit_lands() {
        const WRITERS: u64 = 8;
        const EACH: u64 = 40;
        let dir = scratch("group");
        let journal = Arc::new(SqliteJournal::open(&dir, &SqliteOptions::default()).unwrap());
        let threads: Vec<_> = (0..WRITERS)
            .map(|w| {
                let journal = journal.clone();
                std::thread::spawn(move || {
                    for i in 0..EACH {
                        journal.write(send_ops(w * 1000 + i + 1)).unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let stats = journal.stats();
        assert_eq!(stats.units, WRITERS * EACH);
        // Writers that wait while a commit syncs go into the next one together.
        assert!(stats.commits * 2 <= stats.units, "no group commit: {stats:?}");
        let recovered = journal.recover().unwrap();
        assert_eq!(recovered.messages.len() as u64, WRITERS * EACH);
        assert_eq!(recovered.entries.len() as u64, WRITERS * EACH);
        journal.close();
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_failing_batch_fails_its_units_and_keeps_earlier_ones() {
        let dir = scratch("failing");
        let journal = SqliteJournal::open(&dir, &SqliteOptions::default()).unwrap();
        journal.write(send_ops(1)).unwrap();
        // The same key again violates the primary key: the whole unit is rolled back.
        let mut bad = send_ops(2);
        bad.extend(send_ops(1));
        assert!(matches!(journal.write(bad), Err(Error::Storage(_))));
        journal.write(send_ops(3)).unwrap();
        let recovered = journal.recover().unwrap();
        let keys: Vec<u64> = recovered.messages.iter().map(|(k, _)| *k).collect();
        assert_eq!(keys, [1, 3]);
        journal.close();
        assert!(matches!(journal.write(send_ops(4)), Err(Error::Closed)));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn load_reads_a_stored_message_while_the_writer_writes() {
        let dir = scratch("load");
        let journal = Arc::new(SqliteJournal::open(&dir, &SqliteOptions::default()).unwrap());
        let mut message = Message::text("x".repeat(10_000));
        message.priority = 7;
        journal
            .write(vec![
                Op::AddMessage { key: 42, message: Arc::new(message.clone()) },
                Op::Enqueue { store: "queue:q".into(), key: 42 },
            ])
            .unwrap();
        let writer = {
            let journal = journal.clone();
            std::thread::spawn(move || {
                for key in 100..300 {
                    journal.write(send_ops(key)).unwrap();
                }
            })
        };
        for _ in 0..200 {
            assert_eq!(*journal.load(42).unwrap().unwrap(), message);
        }
        writer.join().unwrap();
        assert!(journal.load(7).unwrap().is_none());
        assert_eq!(journal.load(299).unwrap().unwrap().text_body(), Some("m299"));
        journal.close();
        assert!(matches!(journal.load(42), Err(Error::Closed)));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_rotated_delivery_log_is_folded_into_the_database() {
        let dir = scratch("fold");
        let journal = SqliteJournal::open(&dir, &SqliteOptions::default()).unwrap();
        journal.write(send_ops(1)).unwrap();
        // Enough delivery records to pass the rotation size; the last count for key 1
        // is the highest.
        let record = |count| Op::SetDeliveryCount { store: "queue:q".into(), key: 1, count };
        let per_batch = 1000;
        let batches = deliveries::ROTATE_AT as usize / (per_batch * 20) + 2;
        for b in 0..batches {
            let ops = (0..per_batch).map(|i| record((b * per_batch + i) as u32 % 5 + 1)).collect();
            journal.write_relaxed(ops).unwrap();
        }
        journal.write_relaxed(vec![record(9)]).unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while dir.join(DELIVERY_LOG_OLD).exists() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(!dir.join(DELIVERY_LOG_OLD).exists(), "the rotated log was not folded");
        let stored: i64 = Connection::open(dir.join(DATABASE_FILE))
            .unwrap()
            .query_row("SELECT delivery_count FROM entry WHERE key = 1", [], |r| r.get(0))
            .unwrap();
        assert_eq!(stored, 5, "the folded count is the highest in the rotated log");
        // The newest record is still in the current log; recovery applies it.
        let recovered = journal.recover().unwrap();
        assert_eq!(recovered.entries[0].delivery_count, 9);
        assert_eq!(std::fs::metadata(dir.join(DELIVERY_LOG)).unwrap().len(), 0);
        journal.close();
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn recovery_within_a_budget_leaves_each_store_its_tail() {
        let dir = scratch("tails");
        let journal = SqliteJournal::open(&dir, &SqliteOptions::default()).unwrap();
        for key in 1..=10u64 {
            let mut ops = send_ops(key);
            if key % 2 == 0 {
                ops.push(Op::Enqueue { store: "sub:0::s".into(), key });
            }
            journal.write(ops).unwrap();
        }
        let one = crate::paging::resident_bytes(&Message::text("m1"));
        // Room for four messages: keys 1 to 4 come back, 5 to 10 stay.
        let recovered = journal.recover_within(one * 4 + one / 2).unwrap();
        assert_eq!(recovered.messages.iter().map(|m| m.0).collect::<Vec<_>>(), [1, 2, 3, 4]);
        assert_eq!(recovered.entries.len(), 6);
        assert_eq!(recovered.last_key, 10);
        let mut tails = recovered.tails.clone();
        tails.sort_by(|a, b| a.store.cmp(&b.store));
        assert_eq!(
            tails,
            [
                RecoveredTail { store: "queue:q".into(), after: 4, count: 6 },
                RecoveredTail { store: "sub:0::s".into(), after: 4, count: 3 },
            ]
        );
        // Reading a tail back: in key order, bounded by rows and by the key limit.
        let keys = |rows: Vec<TailRow>| rows.into_iter().map(|r| r.key).collect::<Vec<_>>();
        assert_eq!(keys(journal.load_tail("sub:0::s", 4, u64::MAX, 10, usize::MAX).unwrap()), [6, 8, 10]);
        assert_eq!(keys(journal.load_tail("queue:q", 4, 8, 10, usize::MAX).unwrap()), [5, 6, 7, 8]);
        assert_eq!(keys(journal.load_tail("queue:q", 4, u64::MAX, 2, usize::MAX).unwrap()), [5, 6]);
        assert_eq!(keys(journal.load_tail("queue:q", 4, u64::MAX, 10, 0).unwrap()), [5], "at least one row");
        journal.close();
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn removing_the_last_reference_deletes_the_message() {
        let dir = scratch("refs");
        let journal = SqliteJournal::open(&dir, &SqliteOptions::default()).unwrap();
        let mut ops = send_ops(1);
        ops.push(Op::Enqueue { store: "sub:0::s".into(), key: 1 });
        journal.write(ops).unwrap();
        journal.write(vec![Op::Remove { store: "queue:q".into(), key: 1 }]).unwrap();
        assert_eq!(journal.recover().unwrap().messages.len(), 1);
        journal.write(vec![Op::Remove { store: "sub:0::s".into(), key: 1 }]).unwrap();
        let recovered = journal.recover().unwrap();
        assert!(recovered.messages.is_empty() && recovered.entries.is_empty());
        journal.close();
        let _ = std::fs::remove_dir_all(&dir);
    }
}
