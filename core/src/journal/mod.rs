//! What the broker writes down, behind a trait.
//!
//! The broker describes every durable change as a list of [`Op`]s and hands each list to
//! [`Journal::write`] as one atomic unit: a send, a commit, an acknowledgement. A journal
//! returns only once the unit is as durable as its sync policy promises, and may merge
//! concurrent units into one storage transaction (group commit). On start the broker
//! reads everything back with [`Journal::recover`].
//!
//! [`MemoryJournal`] keeps nothing: the broker then lives in memory only.
//! [`SqliteJournal`] keeps everything in one SQLite database per data directory.

mod sqlite;

use std::sync::Arc;

pub use sqlite::{
    JournalStats, OnFull, SqliteJournal, SqliteOptions, SyncMode, DEFAULT_BLOCK_TIMEOUT, DATABASE_FILE, DELIVERY_LOG, DELIVERY_LOG_OLD, LOCK_FILE, SCHEMA_VERSION,
    WAL_CHECKPOINT_PAGES, WAL_SIZE_LIMIT,
};

use crate::message::Message;

/// A durable store of messages: a queue, or a durable subscription's queue. Journals
/// treat the key as opaque.
pub type StoreKey = Arc<str>;

/// One durable change.
#[derive(Clone, Debug)]
pub enum Op {
    /// A persistent message, stored once however many stores reference it.
    AddMessage { key: u64, message: Arc<Message> },
    /// The message `key` now sits in `store`.
    Enqueue { store: StoreKey, key: u64 },
    /// The message `key` left `store` (acknowledged, expired, moved). A message no store
    /// references any more is gone.
    Remove { store: StoreKey, key: u64 },
    /// The message `key` in `store` has been delivered `count` times.
    SetDeliveryCount { store: StoreKey, key: u64, count: u32 },
    /// A durable subscription was created (or replaced).
    AddSubscription(SubscriptionRecord),
    /// A durable subscription and every message reference it holds are gone.
    RemoveSubscription { store: StoreKey },
}

/// A durable subscription as the journal keeps it.
#[derive(Clone, Debug, PartialEq)]
pub struct SubscriptionRecord {
    pub store: StoreKey,
    pub client_id: Option<String>,
    pub name: String,
    pub topic: String,
    pub selector: Option<String>,
    pub no_local: bool,
    pub shared: bool,
}

/// A message reference as recovered at start.
#[derive(Clone, Debug)]
pub struct RecoveredEntry {
    pub store: StoreKey,
    pub key: u64,
    pub delivery_count: u32,
}

/// The part of a store left in the journal at start (see [`Journal::recover_within`]):
/// its entries with a key above `after`, read back later with [`Journal::load_tail`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecoveredTail {
    pub store: StoreKey,
    pub after: u64,
    pub count: usize,
}

/// Everything a journal holds, read back at start.
#[derive(Clone, Debug, Default)]
pub struct Recovered {
    pub subscriptions: Vec<SubscriptionRecord>,
    /// Messages by key, in key order.
    pub messages: Vec<(u64, Arc<Message>)>,
    /// References in the order they were enqueued.
    pub entries: Vec<RecoveredEntry>,
    /// Per store, the entries not read back because they are beyond the memory budget
    /// (see [`Journal::recover_within`]).
    pub tails: Vec<RecoveredTail>,
    /// The highest message key the journal holds (0: none).
    pub last_key: u64,
}

/// One entry of a store's tail, read back with its message.
#[derive(Clone, Debug)]
pub struct TailRow {
    pub key: u64,
    pub delivery_count: u32,
    pub message: Arc<Message>,
}

/// Failures of a journal; the broker maps them onto [`crate::Error`] once.
#[derive(Clone, Debug, thiserror::Error)]
pub enum Error {
    #[error("journal storage failed: {0}")]
    Storage(String),
    #[error("journal is full: {0}")]
    Full(String),
    /// The journal was closed (the broker shut down).
    #[error("the journal is closed: the broker has shut down")]
    Closed,
}

impl From<Error> for crate::Error {
    fn from(e: Error) -> crate::Error {
        let kind = match e {
            Error::Storage(_) => crate::ErrorKind::Io,
            Error::Full(_) => crate::ErrorKind::ResourceAllocation,
            Error::Closed => crate::ErrorKind::IllegalState,
        };
        crate::Error::new(kind, e.to_string())
    }
}

/// Durable storage for a broker.
pub trait Journal: Send + Sync + 'static {
    /// False for a journal that keeps nothing; the broker then skips building ops.
    fn is_durable(&self) -> bool;

    /// Applies `ops` atomically and durably. Blocks until done.
    fn write(&self, ops: Vec<Op>) -> Result<(), Error>;

    /// Like [`Journal::write`], without waiting: the returned [`Commit`] tells when the
    /// unit is durable. Units are applied in the order they are started, so a later
    /// write never lands before an earlier one. The default writes at once.
    fn write_started(&self, ops: Vec<Op>) -> Commit {
        Commit::done(self.write(ops))
    }

    /// Acknowledgements nobody waits for (the automatic modes, a remote client's
    /// receipts): `ops` are [`Op::Remove`]s. Before it returns, the journal has recorded
    /// them well enough to survive the process being killed; the returned [`Commit`]
    /// tells when they are committed, which may be without an fsync of their own: they
    /// are safe from a power loss once a later commit syncs. Units are applied in order,
    /// as with [`Journal::write_started`], which is the default.
    fn write_acknowledged(&self, ops: Vec<Op>) -> Commit {
        self.write_started(ops)
    }

    /// Applies `ops` atomically, durably enough to survive the process being killed but
    /// not necessarily a power loss: for bookkeeping whose loss is harmless, such as
    /// delivery counts. Blocks until written. The default is [`Journal::write`].
    fn write_relaxed(&self, ops: Vec<Op>) -> Result<(), Error> {
        self.write(ops)
    }

    /// Reads back what the journal holds.
    fn recover(&self) -> Result<Recovered, Error>;

    /// Like [`Journal::recover`], reading back messages in key order only while their
    /// resident size ([`crate::paging::resident_bytes`]) fits in `budget`: from the
    /// first message that does not fit on, nothing is read, and each store's entries
    /// from there are counted in [`Recovered::tails`] instead (the same key bound for
    /// every store). The default recovers everything.
    fn recover_within(&self, _budget: usize) -> Result<Recovered, Error> {
        self.recover()
    }

    /// The entries of `store` with a key in `after + 1 ..= until`, in key order, with
    /// their messages: at most `max_rows`, and no more once their resident size reaches
    /// `max_bytes` (but at least one row when there is one). A journal that
    /// keeps nothing has none.
    fn load_tail(
        &self,
        _store: &str,
        _after: u64,
        _until: u64,
        _max_rows: usize,
        _max_bytes: usize,
    ) -> Result<Vec<TailRow>, Error> {
        Ok(Vec::new())
    }

    /// The stored form of message `key`, read back on demand (for a body that was
    /// dropped from memory). `None` when the journal does not hold it; a journal that
    /// keeps nothing never does.
    fn load(&self, _key: u64) -> Result<Option<Arc<Message>>, Error> {
        Ok(None)
    }

    /// Finishes the writes under way and releases the storage (files, locks); later
    /// writes fail with [`Error::Closed`]. Closing twice is harmless.
    fn close(&self) {}
}

/// A shared journal: the broker writes through it while its owner keeps a handle (for
/// statistics, say).
impl<J: Journal> Journal for Arc<J> {
    fn is_durable(&self) -> bool {
        (**self).is_durable()
    }

    fn write(&self, ops: Vec<Op>) -> Result<(), Error> {
        (**self).write(ops)
    }

    fn write_relaxed(&self, ops: Vec<Op>) -> Result<(), Error> {
        (**self).write_relaxed(ops)
    }

    fn write_started(&self, ops: Vec<Op>) -> Commit {
        (**self).write_started(ops)
    }

    fn write_acknowledged(&self, ops: Vec<Op>) -> Commit {
        (**self).write_acknowledged(ops)
    }

    fn recover(&self) -> Result<Recovered, Error> {
        (**self).recover()
    }

    fn recover_within(&self, budget: usize) -> Result<Recovered, Error> {
        (**self).recover_within(budget)
    }

    fn load_tail(&self, store: &str, after: u64, until: u64, max_rows: usize, max_bytes: usize) -> Result<Vec<TailRow>, Error> {
        (**self).load_tail(store, after, until, max_rows, max_bytes)
    }

    fn load(&self, key: u64) -> Result<Option<Arc<Message>>, Error> {
        (**self).load(key)
    }

    fn close(&self) {
        (**self).close()
    }
}

/// A write under way (see [`Journal::write_started`]).
#[must_use = "a started write must be waited for before it counts as durable"]
pub struct Commit(CommitState);

enum CommitState {
    Done(Result<(), Error>),
    Pending(sqlite::Ticket),
}

impl Commit {
    /// A write that has already finished with `result`.
    pub fn done(result: Result<(), Error>) -> Commit {
        Commit(CommitState::Done(result))
    }

    fn pending(ticket: sqlite::Ticket) -> Commit {
        Commit(CommitState::Pending(ticket))
    }

    /// The outcome of a write that has finished, or the commit back while it is still
    /// under way.
    pub fn poll(self) -> std::result::Result<Result<(), Error>, Commit> {
        match self.0 {
            CommitState::Done(result) => Ok(result),
            CommitState::Pending(ticket) => match ticket.poll() {
                Some(result) => Ok(result),
                None => Err(Commit::pending(ticket)),
            },
        }
    }

    /// Blocks until the write is durable (or failed). The waiting thread may commit
    /// it, and the units queued with it, itself.
    pub fn wait(self) -> Result<(), Error> {
        match self.0 {
            CommitState::Done(result) => result,
            CommitState::Pending(ticket) => ticket.wait(),
        }
    }
}

/// Waiting without blocking a thread: the journal commits the write on its own thread
/// and wakes the task.
impl std::future::Future for Commit {
    type Output = Result<(), Error>;

    fn poll(self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<Self::Output> {
        match &self.0 {
            CommitState::Done(result) => std::task::Poll::Ready(result.clone()),
            CommitState::Pending(ticket) => ticket.poll_wait(cx),
        }
    }
}

impl std::fmt::Debug for Commit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self.0 {
            CommitState::Done(_) => "Commit(done)",
            CommitState::Pending(_) => "Commit(pending)",
        })
    }
}

/// A journal that keeps nothing: an in-memory broker.
#[derive(Debug, Default)]
pub struct MemoryJournal;

impl Journal for MemoryJournal {
    fn is_durable(&self) -> bool {
        false
    }

    fn write(&self, _ops: Vec<Op>) -> Result<(), Error> {
        Ok(())
    }

    fn recover(&self) -> Result<Recovered, Error> {
        Ok(Recovered::default())
    }
}
