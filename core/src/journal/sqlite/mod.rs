//! The SQLite journal: one database file, `herald.db`, per data directory.
//!
//! # Opening
//!
//! [`SqliteJournal::open`] takes an exclusive lock on `herald.lock` in the data
//! directory (a second broker on the same directory is refused), then looks at the
//! database before changing anything: a file that is not SQLite, is corrupt, belongs to
//! another application or comes from a newer Herald is refused with an error naming it,
//! and is never modified or deleted. Only then does it set the connection up (WAL
//! journal, the `synchronous` level of the [`SyncMode`]) and, inside one
//! `BEGIN IMMEDIATE` transaction, create the schema (`core/sql/schema.sql`) or upgrade
//! it one `user_version` at a time.
//!
//! # Group commit
//!
//! [`Journal::write`] queues a unit (the message bodies already encoded by the calling
//! thread) and waits for it. A waiting thread that finds nobody committing becomes the
//! leader: it takes every unit queued, applies them all in one SQLite transaction,
//! commits once (one fsync) and wakes the other waiters; a unit that came too late has
//! its writer lead the next batch. So a lone producer commits on its own thread, with
//! no hand-off to another thread and back, and concurrent producers share fsyncs:
//! whatever gathers while one batch syncs goes into the next. When a commit fails (a
//! full disk, the configured size limit), every unit of that batch fails with the error
//! and nothing of it is kept; earlier commits are untouched. `group.rs` holds the queue
//! and the rules of leading; the journal's own thread commits units nobody waits for.
//!
//! # Delivery counts and automatic acknowledgements
//!
//! A delivery count recorded through [`Journal::write_relaxed`] (a message handed to an
//! application and not yet acknowledged) is appended to the delivery log,
//! `herald.deliveries`, with one `write` call and no fsync (see `deliveries.rs`): it
//! survives a killed process and costs no transaction. The log is folded into the
//! `entry` table when it grows large and at every start. After a power loss the last
//! counts may be lost, and such a message comes back as a first delivery.
//!
//! An acknowledgement through [`Journal::write_acknowledged`] is appended to the same
//! log, then committed as a relaxed unit: nobody waits for it, and a batch of only such
//! units commits without an fsync (the next strict commit or checkpoint syncs it). So
//! a consumer in an automatic mode runs at the speed of appends, not of fsyncs; a
//! killed process loses none of its acknowledgements, and a power loss at most those
//! since the last sync, which come back as duplicates.
//!
//! # Gathering
//!
//! Each writer waits for its own unit, so the writers of one batch come back with their
//! next units while the disk is idle. When the last batch carried (or missed, arriving
//! while it committed) more waiting units than are queued now, the next batch waits for
//! them, at most the last commit's time and never over 1 ms: the writers that come back
//! first park, and the one whose unit completes the count leads at once, with no thread
//! woken to start the commit. Without the wait they would take turns instead of sharing
//! one fsync. The journal's own thread, committing for async tasks (the server's
//! connections), does not wait: their next units come after a round trip to the client,
//! and committing at once lets that round trip overlap the fsync (about 5-9% more with
//! 8 producers over TCP).
//!
//! # Space
//!
//! Deleted rows free their pages, which later inserts reuse, so steady traffic does not
//! grow the file. The database uses `auto_vacuum=INCREMENTAL`: when a drained backlog
//! leaves many free pages, the writer gives them back to the file system, a slice at a
//! time while busy and all at once when idle. The WAL is checkpointed automatically and truncated to
//! [`WAL_SIZE_LIMIT`] bytes.

mod deliveries;
mod group;

use std::collections::VecDeque;
use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rusqlite::{params, CachedStatement, Connection, ErrorCode, OpenFlags, TransactionBehavior};

use super::{Commit, Error, Journal, Op, Recovered, RecoveredEntry, RecoveredTail, StoreKey, SubscriptionRecord, TailRow};
use crate::error::{Error as HeraldError, ErrorKind};
use crate::message::Message;
use deliveries::{Appended, Counts, DeliveryLog, ACKNOWLEDGED};
use group::{Group, Outcome};
pub(crate) use group::Ticket;
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

/// Parses a setting that is one of two names (ignoring case), as written in a
/// configuration file or a URL.
fn parse_named<T: Copy>(text: &str, setting: &str, names: &[(&'static str, T); 2]) -> Result<T, HeraldError> {
    names.iter().find(|(name, _)| name.eq_ignore_ascii_case(text)).map(|&(_, value)| value).ok_or_else(|| {
        HeraldError::new(
            ErrorKind::InvalidArgument,
            format!("{setting} \"{text}\" is neither \"{}\" nor \"{}\"", names[0].0, names[1].0),
        )
    })
}

fn name_of<T: Copy + PartialEq>(value: T, names: &[(&'static str, T); 2]) -> &'static str {
    names.iter().find(|(_, v)| *v == value).map_or("", |(name, _)| name)
}

impl SyncMode {
    const NAMES: [(&'static str, SyncMode); 2] = [("full", SyncMode::Full), ("os", SyncMode::Os)];

    /// Parses `full` or `os`, as written in a configuration file or a URL.
    pub fn parse(text: &str) -> Result<SyncMode, HeraldError> {
        parse_named(text, "sync mode", &Self::NAMES)
    }

    pub fn as_str(self) -> &'static str {
        name_of(self, &Self::NAMES)
    }
}

/// What a send does when the journal has no room for it (see [`SqliteOptions::max_size`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OnFull {
    /// The send (or transaction commit) fails at once with a `ResourceAllocation` error.
    #[default]
    Fail,
    /// The send waits until acknowledgements free space, then is written (flow
    /// control); after [`SqliteOptions::block_timeout`] it fails with a
    /// `ResourceAllocation` error instead.
    Block,
}

impl OnFull {
    const NAMES: [(&'static str, OnFull); 2] = [("fail", OnFull::Fail), ("block", OnFull::Block)];

    /// Parses `fail` or `block`, as written in a configuration file or a URL.
    pub fn parse(text: &str) -> Result<OnFull, HeraldError> {
        parse_named(text, "on-full policy", &Self::NAMES)
    }

    pub fn as_str(self) -> &'static str {
        name_of(self, &Self::NAMES)
    }
}

/// How long a blocked send waits for space by default.
pub const DEFAULT_BLOCK_TIMEOUT: Duration = Duration::from_secs(30);

/// Settings of a [`SqliteJournal`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SqliteOptions {
    pub sync: SyncMode,
    /// The most bytes the database may take. A send that does not fit is refused or
    /// waits, as [`SqliteOptions::on_full`] says; acknowledgements always fit (a small
    /// share of the size is kept for them). `None`: as much as the disk has.
    pub max_size: Option<u64>,
    /// What a send that does not fit does.
    pub on_full: OnFull,
    /// With [`OnFull::Block`], how long a send waits for space before it fails.
    pub block_timeout: Duration,
}

impl Default for SqliteOptions {
    fn default() -> SqliteOptions {
        SqliteOptions {
            sync: SyncMode::Full,
            max_size: None,
            on_full: OnFull::Fail,
            block_timeout: DEFAULT_BLOCK_TIMEOUT,
        }
    }
}

/// A unit as the writer applies it: bodies already encoded.
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
            Op::AddMessage { key, message } => Row::AddMessage { key, data: encode(&message) },
            Op::Enqueue { store, key } => Row::Enqueue { store, key },
            Op::Remove { store, key } => Row::Remove { store, key },
            Op::SetDeliveryCount { store, key, count } => Row::SetDeliveryCount { store, key, count },
            Op::AddSubscription(record) => Row::AddSubscription(record),
            Op::RemoveSubscription { store } => Row::RemoveSubscription { store },
        }
    }
}

/// `Message::encode`, into a buffer sized up front: growing one from empty cost more than
/// the encoding itself.
fn encode(message: &Message) -> Vec<u8> {
    let mut data = Vec::with_capacity(message.body.size_estimate() + 512);
    rmp_serde::encode::write(&mut data, message).expect("a Message always serializes");
    data
}

struct Unit {
    rows: Vec<Row>,
    relaxed: bool,
    /// Stores a message: subject to the size limit's flow control.
    grows: bool,
    /// Removes a message reference: may free space for units waiting.
    frees: bool,
    /// When a unit waiting for space gives up.
    deadline: Option<Instant>,
    done: Arc<Outcome>,
}

/// A unit dropped without an outcome (its batch lost to a panic, the journal closed
/// while it waited for space) tells its owner so: nobody waits forever.
impl Drop for Unit {
    fn drop(&mut self) {
        let _ = self.done.set(Err(Error::Closed));
    }
}

/// How many pages the database may use, from [`SqliteOptions::max_size`].
#[derive(Clone, Copy, Debug)]
struct PageLimits {
    /// Units that store messages stop here.
    sends: i64,
    /// Everything else may go up to here: the pages between the two are kept so that
    /// an acknowledgement always fits, however full the journal is.
    all: i64,
}

impl PageLimits {
    fn new(max_size: u64, page_size: i64) -> PageLimits {
        let all = (max_size.min(i64::MAX as u64) as i64 / page_size.max(512)).max(16);
        let reserve = (all / 32).clamp(8, 1024);
        PageLimits { sends: all - reserve, all }
    }
}

enum Request {
    Write(Unit),
    /// The delivery log was rotated: fold the old one into the database.
    FoldDeliveries,
}

/// Counts of what the writer has done, for statistics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct JournalStats {
    /// SQLite transactions committed (successful or not) for writes.
    pub commits: u64,
    /// Units (sends, acknowledgements, transaction commits) they carried.
    pub units: u64,
    /// Time spent in those commits, from the transaction's start to its fsync's end.
    pub commit_time: Duration,
}

#[derive(Default)]
struct Counters {
    commits: AtomicU64,
    units: AtomicU64,
    commit_nanos: AtomicU64,
}

/// A journal in one SQLite database, committed in groups (see `group.rs`).
pub struct SqliteJournal {
    dir: PathBuf,
    deliveries: Arc<DeliveryLog>,
    counters: Arc<Counters>,
    group: Arc<Group>,
    /// The journal's own thread (see [`Group::run`]).
    thread: Mutex<Option<JoinHandle<()>>>,
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
        let (conn, limits) = open_database(&db_path, options)?;
        let deliveries = Arc::new(
            DeliveryLog::open(&dir)
                .map_err(|e| io_error(format!("cannot open the delivery log in {}: {e}", dir.display())))?,
        );
        let reader = Connection::open_with_flags(
            &db_path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| io_error(format!("cannot open {} for reading: {e}", db_path.display())))?;
        let settings = WriterSettings {
            full: options.sync == SyncMode::Full,
            limits,
            on_full: options.on_full,
            block_timeout: options.block_timeout,
        };
        let log = deliveries.clone();
        let counters = Arc::new(Counters::default());
        let writer_counters = counters.clone();
        let group = Arc::new(Group::new(Writer::new(conn, settings, log, writer_counters)));
        let runner = group.clone();
        let thread = std::thread::Builder::new()
            .name("herald-journal".into())
            .spawn(move || runner.run())
            .map_err(|e| io_error(format!("cannot start the journal thread: {e}")))?;
        Ok(SqliteJournal {
            dir,
            deliveries,
            counters,
            group,
            thread: Mutex::new(Some(thread)),
            lock_file: Mutex::new(Some(lock_file)),
            reader: Mutex::new(Some(reader)),
        })
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// How many commits the writer made, how many units they carried (their ratio is how
    /// well group commit shares fsyncs) and how long they took (what remains of a
    /// producer's time is its own work and its turn waiting).
    pub fn stats(&self) -> JournalStats {
        JournalStats {
            commits: self.counters.commits.load(Ordering::Relaxed),
            units: self.counters.units.load(Ordering::Relaxed),
            commit_time: Duration::from_nanos(self.counters.commit_nanos.load(Ordering::Relaxed)),
        }
    }

    fn submit(&self, ops: Vec<Op>, relaxed: bool) -> Result<(), Error> {
        self.start(ops, relaxed).wait()
    }

    /// Queues a unit without waiting for it.
    fn start(&self, ops: Vec<Op>, relaxed: bool) -> Commit {
        if ops.is_empty() {
            return Commit::done(Ok(()));
        }
        let grows = ops.iter().any(|op| matches!(op, Op::AddMessage { .. }));
        let frees = ops.iter().any(|op| matches!(op, Op::Remove { .. } | Op::RemoveSubscription { .. }));
        let rows = ops.into_iter().map(Row::from_op).collect();
        let done = Arc::new(Outcome::new());
        let unit = Unit { rows, relaxed, grows, frees, deadline: None, done: done.clone() };
        if let Err(e) = self.group.submit(Request::Write(unit)) {
            return Commit::done(Err(e));
        }
        Commit::pending(Ticket::new(self.group.clone(), done))
    }
}

impl Journal for SqliteJournal {
    fn is_durable(&self) -> bool {
        true
    }

    fn write(&self, ops: Vec<Op>) -> Result<(), Error> {
        self.submit(ops, false)
    }

    fn write_started(&self, ops: Vec<Op>) -> Commit {
        self.start(ops, false)
    }

    fn write_acknowledged(&self, ops: Vec<Op>) -> Commit {
        let records: Vec<(StoreKey, u64, u32)> = ops
            .iter()
            .filter_map(|op| match op {
                Op::Remove { store, key } => Some((store.clone(), *key, ACKNOWLEDGED)),
                _ => None,
            })
            .collect();
        if records.len() != ops.len() {
            return self.start(ops, false);
        }
        if self.group.is_closed() {
            return Commit::done(Err(Error::Closed));
        }
        // Recorded first, so a killed process keeps it; the unit then commits with the
        // next batch, without an fsync of its own.
        match self.deliveries.append(&records) {
            Ok(Appended::Done) => {}
            Ok(Appended::FoldOld) => {
                if let Err(e) = self.group.submit(Request::FoldDeliveries) {
                    return Commit::done(Err(e));
                }
            }
            Err(e) => return Commit::done(Err(e)),
        }
        self.start(ops, true)
    }

    fn write_relaxed(&self, ops: Vec<Op>) -> Result<(), Error> {
        if !ops.iter().all(|op| matches!(op, Op::SetDeliveryCount { .. })) {
            return self.submit(ops, true);
        }
        if self.group.is_closed() {
            return Err(Error::Closed);
        }
        let records: Vec<(StoreKey, u64, u32)> = ops
            .into_iter()
            .filter_map(|op| match op {
                Op::SetDeliveryCount { store, key, count } => Some((store, key, count)),
                _ => None,
            })
            .collect();
        if let Appended::FoldOld = self.deliveries.append(&records)? {
            self.group.submit(Request::FoldDeliveries)?;
        }
        Ok(())
    }

    fn recover(&self) -> Result<Recovered, Error> {
        self.recover_within(usize::MAX)
    }

    fn recover_within(&self, budget: usize) -> Result<Recovered, Error> {
        self.group.with_writer(|w| w.recover(budget)).unwrap_or(Err(Error::Closed))
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
        // What is queued is committed and the database closed before the lock is
        // released.
        self.reader.lock().unwrap_or_else(|p| p.into_inner()).take();
        self.group.close();
        let thread = self.thread.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(thread) = thread {
            if thread.join().is_err() {
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
            Error::Full(
                "the disk, or the journal's configured size limit, is full: consume messages to free space, \
                 raise the limit (maxBytes= in a vm:// URL, max_bytes in the server's [journal] section) \
                 or make senders wait for space (onFull=block, on_full = \"block\")"
                    .into(),
            )
        }
        _ => Error::Storage(e.to_string()),
    }
}

fn open_database(path: &Path, options: &SqliteOptions) -> Result<(Connection, Option<PageLimits>), HeraldError> {
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
    let setup = |conn: &Connection| -> rusqlite::Result<(String, Option<PageLimits>)> {
        if fresh {
            // Must precede the first table.
            conn.pragma_update(None, "auto_vacuum", "INCREMENTAL")?;
        }
        let mode: String = conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
        conn.pragma_update(None, "synchronous", sync_level(options.sync == SyncMode::Full))?;
        // The writer keeps every entry's message (a message goes only when its last
        // entry does); enforcing the declared foreign key as well doubled the lookups of
        // every acknowledgement and cost a fifth of the writer's time.
        conn.pragma_update(None, "foreign_keys", "OFF")?;
        conn.pragma_update(None, "journal_size_limit", WAL_SIZE_LIMIT as i64)?;
        conn.pragma_update(None, "wal_autocheckpoint", WAL_CHECKPOINT_PAGES)?;
        let mut limits = None;
        if let Some(max) = options.max_size {
            let page_size: i64 = conn.pragma_query_value(None, "page_size", |r| r.get(0))?;
            let l = PageLimits::new(max, page_size);
            conn.pragma_update(None, "max_page_count", l.all)?;
            limits = Some(l);
        }
        Ok((mode, limits))
    };
    let (mode, limits) = setup(&conn).map_err(|e| unreadable(path, &e))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(io_error(format!(
            "{} cannot use write-ahead logging (journal_mode is {mode}); the file system may not support it",
            path.display()
        )));
    }

    // Create or upgrade the schema, all or nothing. A current database is not written
    // to at all here.
    if version == SCHEMA_VERSION {
        return Ok((conn, limits));
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
    Ok((conn, limits))
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

// ---- the writer: the connection, used by one leader at a time ----

/// What the writer is told at open.
struct WriterSettings {
    /// Strict units commit with synchronous=FULL.
    full: bool,
    limits: Option<PageLimits>,
    on_full: OnFull,
    block_timeout: Duration,
}

struct Writer {
    conn: Connection,
    /// Strict units commit with synchronous=FULL.
    full: bool,
    /// The connection's current `synchronous` setting (true: FULL).
    current_full: bool,
    limits: Option<PageLimits>,
    /// The connection's current `max_page_count`, when known.
    current_limit: Option<i64>,
    on_full: OnFull,
    block_timeout: Duration,
    /// Units waiting for space ([`OnFull::Block`]), oldest first.
    parked: VecDeque<Unit>,
    /// Space may have been freed since the parked units last tried.
    retry_parked: bool,
    deliveries: Arc<DeliveryLog>,
    counters: Arc<Counters>,
    last_vacuum_check: Instant,
    last_commit: Duration,
}

/// `now + timeout`, or an instant about as far as the clock can hold when that is too
/// far: a `Duration::MAX` timeout means waiting for good, not a panic.
fn deadline_after(now: Instant, timeout: Duration) -> Instant {
    let mut timeout = timeout;
    loop {
        if let Some(deadline) = now.checked_add(timeout) {
            return deadline;
        }
        timeout /= 2;
    }
}

impl Writer {
    fn new(
        conn: Connection,
        settings: WriterSettings,
        deliveries: Arc<DeliveryLog>,
        counters: Arc<Counters>,
    ) -> Writer {
        Writer {
            conn,
            full: settings.full,
            current_full: settings.full,
            limits: settings.limits,
            current_limit: settings.limits.map(|l| l.all),
            on_full: settings.on_full,
            block_timeout: settings.block_timeout,
            parked: VecDeque::new(),
            retry_parked: false,
            deliveries,
            counters,
            last_vacuum_check: Instant::now(),
            last_commit: Duration::ZERO,
        }
    }

    /// Carries out a batch taken from the queue, in order: its units as one commit (one
    /// before each fold of the delivery log), then a retry of units blocked for space
    /// when the last commit freed some.
    fn process(&mut self, batch: Vec<Request>) {
        self.expire_parked();
        let mut units = Vec::with_capacity(batch.len());
        for request in batch {
            match request {
                Request::Write(unit) => units.push(unit),
                Request::FoldDeliveries => {
                    if !units.is_empty() {
                        self.commit(std::mem::take(&mut units));
                    }
                    self.fold_deliveries();
                }
            }
        }
        if !units.is_empty() || self.retry_parked {
            self.commit(units);
        }
        if self.last_vacuum_check.elapsed() >= VACUUM_EVERY {
            self.maintain(Some(VACUUM_STEP));
        }
    }

    fn fold_deliveries(&mut self) {
        let folded = self.deliveries.read_old().map_err(|e| Error::Storage(e.to_string())).and_then(|counts| {
            // Relaxed, like the log itself.
            self.apply_counts(&counts, false)
        });
        match folded {
            Ok(()) => self.deliveries.old_folded(),
            Err(e) => tracing::warn!(cause = %e, "could not fold the delivery log into the journal"),
        }
    }

    /// When the first unit waiting for space gives up.
    fn parked_deadline(&self) -> Option<Instant> {
        self.parked.iter().filter_map(|u| u.deadline).min()
    }

    /// The last act before the connection closes: units waiting for space fail, and the
    /// WAL is checkpointed into the database.
    fn close(&mut self) {
        for unit in self.parked.drain(..) {
            let _ = unit.done.set(Err(Error::Closed));
        }
        if let Err(e) = self.conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)") {
            tracing::warn!(cause = %e, "could not checkpoint the journal on close");
        }
    }

    fn set_sync(&mut self, full: bool) -> Result<(), Error> {
        if full != self.current_full {
            self.conn.pragma_update(None, "synchronous", sync_level(full)).map_err(storage)?;
            self.current_full = full;
        }
        Ok(())
    }

    /// Sets the page limit for units that store messages (`grows`) or for the others.
    fn set_limit(&mut self, grows: bool) -> Result<(), Error> {
        let Some(limits) = self.limits else { return Ok(()) };
        let target = if grows { limits.sends } else { limits.all };
        if self.current_limit != Some(target) {
            // SQLite never sets the limit below the current size: then it is unknown
            // and set again next time.
            let set: i64 =
                self.conn.pragma_update_and_check(None, "max_page_count", target, |r| r.get(0)).map_err(storage)?;
            self.current_limit = (set == target).then_some(target);
        }
        Ok(())
    }

    /// Raises stored delivery counts to those of the delivery log, and removes the
    /// entries it records as acknowledged.
    fn apply_counts(&mut self, counts: &Counts, full: bool) -> Result<(), Error> {
        if counts.is_empty() {
            return Ok(());
        }
        self.set_sync(full)?;
        self.set_limit(false)?;
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(storage)?;
        {
            let mut raise = tx
                .prepare_cached(
                    "UPDATE entry SET delivery_count = max(delivery_count, ?3) WHERE key = ?1 AND store = ?2",
                )
                .map_err(storage)?;
            let mut statements = Statements::new(&tx);
            for ((store, key), count) in counts {
                if *count == ACKNOWLEDGED {
                    statements.apply(&Row::Remove { store: store.as_str().into(), key: *key }).map_err(storage)?;
                } else {
                    raise.execute(params![*key as i64, store, *count]).map_err(storage)?;
                }
            }
        }
        tx.commit().map_err(storage)
    }

    /// Puts a unit that found no space at the back of those waiting.
    fn park(&mut self, mut unit: Unit) {
        let timeout = self.block_timeout;
        unit.deadline.get_or_insert_with(|| deadline_after(Instant::now(), timeout));
        self.parked.push_back(unit);
    }

    /// Fails the waiting units whose time is up.
    fn expire_parked(&mut self) {
        if self.parked.is_empty() {
            return;
        }
        let now = Instant::now();
        let timeout = self.block_timeout;
        let (expired, waiting): (VecDeque<Unit>, VecDeque<Unit>) =
            self.parked.drain(..).partition(|u| u.deadline.is_some_and(|d| d <= now));
        self.parked = waiting;
        for unit in expired {
            let _ = unit.done.set(Err(Error::Full(format!(
                "no space was freed within the block timeout of {} ms, so the message was not written: consume \
                 messages, raise the size limit (maxBytes= in a vm:// URL, max_bytes in the server's [journal] \
                 section) or the timeout (blockTimeoutMs=, block_timeout_ms)",
                timeout.as_millis()
            ))));
        }
    }

    /// Commits a batch of units as one transaction and tells each writer the outcome.
    /// With [`OnFull::Block`], a unit storing a message that does not fit waits (parked)
    /// instead, behind any unit already waiting, until a later commit frees space.
    fn commit(&mut self, mut units: Vec<Unit>) {
        let mut retrying = false;
        let retry = std::mem::take(&mut self.retry_parked);
        if !self.parked.is_empty() {
            let (grow, rest): (Vec<Unit>, Vec<Unit>) = units.into_iter().partition(|u| u.grows);
            for unit in grow {
                self.park(unit);
            }
            units = rest;
            if retry {
                let mut retry: Vec<Unit> = self.parked.drain(..).collect();
                retry.append(&mut units);
                units = retry;
                retrying = true;
            }
        }
        if units.is_empty() {
            return;
        }
        let strict = units.iter().any(|u| !u.relaxed);
        let full = self.full && strict;
        let began = Instant::now();
        // All units in one transaction; should that fail, each unit on its own, so
        // that only the units at fault fail (or wait).
        let outcomes = match retrying {
            false => match self.apply(&units, full) {
                Ok(()) => Ok(None),
                Err(_) => self.apply_each(&units, full).map(Some),
            },
            true => self.apply_each(&units, full).map(Some),
        };
        self.last_commit = began.elapsed();
        self.counters.commits.fetch_add(1, Ordering::Relaxed);
        self.counters.commit_nanos.fetch_add(self.last_commit.as_nanos() as u64, Ordering::Relaxed);
        let finished: Vec<(Unit, Result<(), Error>)> = match outcomes {
            Ok(None) => {
                if units.iter().any(|u| u.frees) && !self.parked.is_empty() {
                    self.retry_parked = true;
                }
                units.into_iter().map(|u| (u, Ok(()))).collect()
            }
            Ok(Some(outcomes)) => {
                let mut finished = Vec::with_capacity(units.len());
                for (unit, outcome) in units.into_iter().zip(outcomes) {
                    match outcome {
                        Err(Error::Full(_)) if unit.grows && self.on_full == OnFull::Block => self.park(unit),
                        Err(e @ Error::Full(_)) => {
                            // Refused for want of space: the sender is told; not a fault.
                            tracing::debug!(cause = %e, "a journal write did not fit");
                            finished.push((unit, Err(e)));
                        }
                        Err(e) => {
                            tracing::warn!(cause = %e, "a journal write failed");
                            finished.push((unit, Err(e)));
                        }
                        Ok(()) => finished.push((unit, Ok(()))),
                    }
                }
                finished
            }
            Err(e) => {
                tracing::warn!(units = units.len(), cause = %e, "a journal commit failed");
                units.into_iter().map(|u| (u, Err(e.clone()))).collect()
            }
        };
        // Counted before the writers hear of it; a unit waiting again counts once written.
        self.counters.units.fetch_add(finished.len() as u64, Ordering::Relaxed);
        for (unit, outcome) in finished {
            let _ = unit.done.set(outcome);
        }
    }

    fn apply(&mut self, units: &[Unit], full: bool) -> Result<(), Error> {
        self.set_sync(full)?;
        self.set_limit(units.iter().any(|u| u.grows))?;
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(storage)?;
        {
            let mut statements = Statements::new(&tx);
            for unit in units {
                for row in &unit.rows {
                    statements.apply(row).map_err(storage)?;
                }
            }
        }
        tx.commit().map_err(storage)
    }

    /// Applies each unit in a savepoint of one transaction: the units that free space
    /// first, then those that store messages, in order. A unit that fails is rolled
    /// back alone and gets its error; with [`OnFull::Block`], once a unit finds no
    /// space the later ones storing messages are not tried (they queue behind it).
    /// `Err` when the transaction itself cannot be committed: then nothing is kept.
    fn apply_each(&mut self, units: &[Unit], full: bool) -> Result<Vec<Result<(), Error>>, Error> {
        let order: Vec<usize> =
            (0..units.len()).filter(|&i| !units[i].grows).chain((0..units.len()).filter(|&i| units[i].grows)).collect();
        let mut failed: Vec<Option<Error>> = vec![None; units.len()];
        'attempt: loop {
            self.set_sync(full)?;
            self.conn.execute_batch("BEGIN IMMEDIATE").map_err(storage)?;
            let mut blocked = false;
            for &i in &order {
                if failed[i].is_some() {
                    continue;
                }
                let unit = &units[i];
                if unit.grows && blocked {
                    failed[i] = Some(Error::Full("waiting behind an earlier message".into()));
                    continue;
                }
                let result = self.set_limit(unit.grows).and_then(|()| {
                    self.conn.execute_batch("SAVEPOINT unit").map_err(storage)?;
                    let mut statements = Statements::new(&self.conn);
                    unit.rows.iter().try_for_each(|row| statements.apply(row)).map_err(storage)
                });
                match result {
                    Ok(()) => self.conn.execute_batch("RELEASE unit").map_err(storage)?,
                    Err(e) => {
                        if self.conn.is_autocommit() {
                            // SQLite rolled the whole transaction back: start again
                            // without this unit.
                            failed[i] = Some(e);
                            continue 'attempt;
                        }
                        self.conn.execute_batch("ROLLBACK TO unit; RELEASE unit").map_err(storage)?;
                        blocked |= matches!(e, Error::Full(_)) && unit.grows && self.on_full == OnFull::Block;
                        failed[i] = Some(e);
                    }
                }
            }
            if let Err(e) = self.conn.execute_batch("COMMIT") {
                if !self.conn.is_autocommit() {
                    let _ = self.conn.execute_batch("ROLLBACK");
                }
                return Err(storage(e));
            }
            return Ok(failed.into_iter().map(|f| f.map_or(Ok(()), Err)).collect());
        }
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

/// The statements a batch runs, prepared once per batch rather than looked up per row.
struct Statements<'c> {
    conn: &'c Connection,
    insert_message: Option<CachedStatement<'c>>,
    insert_entry: Option<CachedStatement<'c>>,
    delete_entry: Option<CachedStatement<'c>>,
    delete_message: Option<CachedStatement<'c>>,
}

const DELETE_UNREFERENCED: &str =
    "DELETE FROM message WHERE key = ?1 AND NOT EXISTS (SELECT 1 FROM entry WHERE key = ?1)";

impl<'c> Statements<'c> {
    fn new(conn: &'c Connection) -> Statements<'c> {
        Statements { conn, insert_message: None, insert_entry: None, delete_entry: None, delete_message: None }
    }

    fn get<'s>(
        conn: &'c Connection,
        slot: &'s mut Option<CachedStatement<'c>>,
        sql: &str,
    ) -> rusqlite::Result<&'s mut CachedStatement<'c>> {
        if slot.is_none() {
            *slot = Some(conn.prepare_cached(sql)?);
        }
        Ok(slot.as_mut().expect("just prepared"))
    }

    fn apply(&mut self, row: &Row) -> rusqlite::Result<()> {
        let conn = self.conn;
        match row {
            Row::AddMessage { key, data } => {
                Self::get(conn, &mut self.insert_message, "INSERT INTO message (key, data) VALUES (?1, ?2)")?
                    .execute(params![*key as i64, data])?;
            }
            Row::Enqueue { store, key } => {
                Self::get(conn, &mut self.insert_entry, "INSERT INTO entry (key, store) VALUES (?1, ?2)")?
                    .execute(params![*key as i64, &**store])?;
            }
            Row::Remove { store, key } => {
                Self::get(conn, &mut self.delete_entry, "DELETE FROM entry WHERE key = ?1 AND store = ?2")?
                    .execute(params![*key as i64, &**store])?;
                Self::get(conn, &mut self.delete_message, DELETE_UNREFERENCED)?.execute(params![*key as i64])?;
            }
            Row::SetDeliveryCount { store, key, count } => {
                conn.prepare_cached("UPDATE entry SET delivery_count = ?3 WHERE key = ?1 AND store = ?2")?
                    .execute(params![*key as i64, &**store, *count])?;
            }
            Row::AddSubscription(r) => {
                conn.prepare_cached(
                    "INSERT OR REPLACE INTO subscription (store, client_id, name, topic, selector, no_local, shared) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )?
                .execute(params![&*r.store, r.client_id, r.name, r.topic, r.selector, r.no_local, r.shared])?;
            }
            Row::RemoveSubscription { store } => {
                let keys: Vec<i64> = {
                    let mut stmt = conn.prepare_cached("SELECT key FROM entry WHERE store = ?1")?;
                    let rows = stmt.query_map(params![&**store], |r| r.get(0))?;
                    rows.collect::<rusqlite::Result<_>>()?
                };
                conn.prepare_cached("DELETE FROM entry WHERE store = ?1")?.execute(params![&**store])?;
                let delete = Self::get(conn, &mut self.delete_message, DELETE_UNREFERENCED)?;
                for key in keys {
                    delete.execute(params![key])?;
                }
                conn.prepare_cached("DELETE FROM subscription WHERE store = ?1")?.execute(params![&**store])?;
            }
        }
        Ok(())
    }
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
    fn messages_are_stored_in_their_wire_encoding() {
        let mut message = Message::text("y".repeat(3000));
        message.set_property("p", 7i32).unwrap();
        assert_eq!(encode(&message), message.encode());
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
    fn settings_parse_by_name_in_any_case_and_name_an_unknown_value() {
        for mode in [SyncMode::Full, SyncMode::Os] {
            assert_eq!(SyncMode::parse(&mode.as_str().to_uppercase()).unwrap(), mode);
        }
        for policy in [OnFull::Fail, OnFull::Block] {
            assert_eq!(OnFull::parse(policy.as_str()).unwrap(), policy);
        }
        let e = SyncMode::parse("fast").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument);
        assert_eq!(e.message(), "sync mode \"fast\" is neither \"full\" nor \"os\"");
        assert!(OnFull::parse("drop").unwrap_err().message().contains("\"fail\" nor \"block\""));
    }

    #[test]
    fn an_acknowledgement_nobody_waits_for_is_committed_without_another_write() {
        let dir = scratch("relaxed");
        let journal = SqliteJournal::open(&dir, &SqliteOptions::default()).unwrap();
        journal.write(send_ops(1)).unwrap();
        let commits = journal.stats().commits;
        let mut commit = journal.write_acknowledged(vec![Op::Remove { store: "queue:q".into(), key: 1 }]);
        // Only polled, never waited for: the journal's thread commits it.
        let deadline = Instant::now() + Duration::from_secs(10);
        let outcome = loop {
            match commit.poll() {
                Ok(outcome) => break outcome,
                Err(pending) if Instant::now() < deadline => {
                    commit = pending;
                    std::thread::sleep(Duration::from_millis(1));
                }
                Err(_) => panic!("the acknowledgement was never committed"),
            }
        };
        outcome.unwrap();
        assert_eq!(journal.stats().commits, commits + 1);
        assert!(journal.recover().unwrap().entries.is_empty());
        journal.close();
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn units_queued_before_close_are_committed_and_later_ones_refused() {
        let dir = scratch("close");
        let journal = SqliteJournal::open(&dir, &SqliteOptions::default()).unwrap();
        // Started, not waited for: closing commits them.
        let started: Vec<Commit> = (1..=5).map(|key| journal.write_started(send_ops(key))).collect();
        journal.close();
        for commit in started {
            commit.wait().unwrap();
        }
        assert!(matches!(journal.write_started(send_ops(6)).wait(), Err(Error::Closed)));
        let journal = SqliteJournal::open(&dir, &SqliteOptions::default()).unwrap();
        assert_eq!(journal.recover().unwrap().messages.len(), 5);
        journal.close();
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn an_acknowledgement_only_in_the_delivery_log_is_applied_at_start() {
        let dir = scratch("acklog");
        let journal = SqliteJournal::open(&dir, &SqliteOptions::default()).unwrap();
        for key in 1..=3 {
            journal.write(send_ops(key)).unwrap();
        }
        journal.write_acknowledged(vec![Op::Remove { store: "queue:q".into(), key: 1 }]).wait().unwrap();
        journal.close();
        // As a process killed after recording an acknowledgement and before committing
        // it leaves things: the record is in the log, the entry still in the database.
        DeliveryLog::open(&dir)
            .unwrap()
            .append(&[("queue:q".into(), 2, ACKNOWLEDGED), ("queue:q".into(), 3, 4)])
            .map(|_| ())
            .unwrap();
        let journal = SqliteJournal::open(&dir, &SqliteOptions::default()).unwrap();
        let recovered = journal.recover().unwrap();
        let keys: Vec<u64> = recovered.entries.iter().map(|e| e.key).collect();
        assert_eq!(keys, vec![3], "acknowledged messages do not come back");
        assert_eq!(recovered.entries[0].delivery_count, 4);
        assert_eq!(recovered.messages.len(), 1, "a message no store holds is deleted");
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

    /// A writer over a fresh database in `dir`, driven directly so that a test decides
    /// which units share a batch.
    fn writer(dir: &Path, options: &SqliteOptions) -> Writer {
        std::fs::create_dir_all(dir).unwrap();
        let (conn, limits) = open_database(&dir.join(DATABASE_FILE), options).unwrap();
        let settings = WriterSettings {
            full: options.sync == SyncMode::Full,
            limits,
            on_full: options.on_full,
            block_timeout: options.block_timeout,
        };
        Writer::new(conn, settings, Arc::new(DeliveryLog::open(dir).unwrap()), Arc::default())
    }

    fn unit(ops: Vec<Op>) -> (Unit, Arc<Outcome>) {
        let grows = ops.iter().any(|op| matches!(op, Op::AddMessage { .. }));
        let frees = ops.iter().any(|op| matches!(op, Op::Remove { .. }));
        let done = Arc::new(Outcome::new());
        let rows = ops.into_iter().map(Row::from_op).collect();
        (Unit { rows, relaxed: false, grows, frees, deadline: None, done: done.clone() }, done)
    }

    fn sized(key: u64, bytes: usize) -> Vec<Op> {
        vec![
            Op::AddMessage { key, message: Arc::new(Message::text("m".repeat(bytes))) },
            Op::Enqueue { store: "queue:q".into(), key },
        ]
    }

    fn remove(key: u64) -> Vec<Op> {
        vec![Op::Remove { store: "queue:q".into(), key }]
    }

    /// Fills the journal with 8 KiB messages from key 1 until one does not fit (it
    /// fails, or waits); returns the last key stored.
    fn fill(writer: &mut Writer) -> u64 {
        for key in 1..1000 {
            let (u, wait) = unit(sized(key, 8192));
            writer.commit(vec![u]);
            match wait.get() {
                Some(Ok(())) => {}
                Some(Err(Error::Full(_))) | None => return key - 1,
                other => panic!("unexpected outcome {other:?}"),
            }
        }
        panic!("the size limit was never reached");
    }

    #[test]
    fn in_a_batch_only_the_unit_that_does_not_fit_fails() {
        let dir = scratch("batch-full");
        let options = SqliteOptions { max_size: Some(256 * 1024), ..SqliteOptions::default() };
        let mut writer = writer(&dir, &options);
        let stored = fill(&mut writer);
        assert!(stored >= 10, "only {stored} fitted");
        // One batch: an acknowledgement, a message that cannot fit, one that fits in the
        // space the acknowledgement frees.
        let (ack, ack_done) = unit(remove(1));
        let (big, big_done) = unit(sized(5000, 200 * 1024));
        let (small, small_done) = unit(sized(5001, 100));
        writer.commit(vec![big, ack, small]);
        assert!(matches!(ack_done.get(), Some(Ok(()))));
        assert!(matches!(big_done.get(), Some(Err(Error::Full(_)))));
        assert!(matches!(small_done.get(), Some(Ok(()))));
        let recovered = writer.recover(usize::MAX).unwrap();
        let keys: Vec<u64> = recovered.messages.iter().map(|(k, _)| *k).collect();
        assert_eq!(keys, (2..=stored).chain([5001]).collect::<Vec<_>>());
        // However full, acknowledgements go through: the journal drains completely.
        let (acks, waits): (Vec<Unit>, Vec<_>) = keys.iter().map(|&k| unit(remove(k))).unzip();
        writer.commit(acks);
        assert!(waits.iter().all(|w| matches!(w.get(), Some(Ok(())))));
        assert!(writer.recover(usize::MAX).unwrap().messages.is_empty());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn with_block_units_that_do_not_fit_wait_in_order_until_space_is_freed() {
        let dir = scratch("batch-block");
        let options = SqliteOptions {
            max_size: Some(256 * 1024),
            on_full: OnFull::Block,
            block_timeout: Duration::from_secs(60),
            ..SqliteOptions::default()
        };
        let mut writer = writer(&dir, &options);
        let stored = fill(&mut writer);
        // The unit that did not fit (key stored + 1) waits.
        assert_eq!(writer.parked.len(), 1);
        // A send behind it waits too, although it would fit; an acknowledgement does not.
        let (small, small_done) = unit(sized(5000, 100));
        let (ack, ack_done) = unit(remove(1));
        writer.commit(vec![small, ack]);
        assert!(matches!(ack_done.get(), Some(Ok(()))));
        assert!(small_done.get().is_none(), "a send overtook the one waiting");
        assert_eq!(writer.parked.len(), 2);
        // The acknowledgement freed space: the waiting units try again with the next
        // commit, after its acknowledgements, and both go through, oldest first.
        assert!(writer.retry_parked);
        let (acks, _waits): (Vec<Unit>, Vec<_>) = (2..=stored).map(|k| unit(remove(k))).unzip();
        writer.commit(acks);
        assert!(writer.parked.is_empty());
        assert!(matches!(small_done.get(), Some(Ok(()))));
        let recovered = writer.recover(usize::MAX).unwrap();
        let keys: Vec<u64> = recovered.messages.iter().map(|(k, _)| *k).collect();
        assert_eq!(keys, [stored + 1, 5000]);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_block_timeout_too_long_for_the_clock_waits_instead_of_panicking() {
        // `SqliteOptions::block_timeout` is public: `Duration::MAX` reads as "wait for
        // good", and adding it to the clock overflows.
        let dir = scratch("block-forever");
        let options = SqliteOptions {
            max_size: Some(256 * 1024),
            on_full: OnFull::Block,
            block_timeout: Duration::MAX,
            ..SqliteOptions::default()
        };
        let mut writer = writer(&dir, &options);
        let stored = fill(&mut writer);
        assert_eq!(writer.parked.len(), 1, "the unit that did not fit waits");
        writer.expire_parked();
        assert_eq!(writer.parked.len(), 1, "and keeps waiting");
        // Freeing space lets it in with the commit after.
        let (ack, _wait) = unit(remove(1));
        writer.commit(vec![ack]);
        let (acks, _waits): (Vec<Unit>, Vec<_>) = (2..=stored).map(|k| unit(remove(k))).unzip();
        writer.commit(acks);
        assert!(writer.parked.is_empty(), "the waiting unit went in once space was freed");
        let recovered = writer.recover(usize::MAX).unwrap();
        assert_eq!(recovered.messages.iter().map(|(k, _)| *k).collect::<Vec<_>>(), [stored + 1]);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
