//! Bounded memory: what the broker keeps resident, and the part of a store that lives
//! only in the journal (its tail).
//!
//! With a durable journal every message a queue or subscription holds in memory is
//! charged to a [`MemoryBudget`] at its resident size ([`resident_bytes`]: headers,
//! properties, body and the queue entry). Once a durable store (a queue or a durable
//! subscription) receives a message that does not fit, the message stays in the journal
//! only (a NON_PERSISTENT one is written there for the purpose) and the store enters
//! tail mode: from then on every new message for it joins the tail, which in memory is
//! just a count and a key cursor, so the tail always lies behind the resident part and
//! per-producer order holds. As consumers drain the resident part below
//! [`LOW_WATER`], the next batch is read back from the journal in key (arrival) order;
//! when the tail is empty the store leaves tail mode.
//!
//! Keys are taken while holding the locks of every durable store a message goes to
//! (see `MessageQueue::reserve`), so within a store keys grow in the order messages
//! are admitted, and a tail key is never below a resident one. A tail write still in
//! progress is "pending": reading back stops below the oldest pending key, so a
//! message committed by a slower writer is never skipped.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Weak};

use crate::journal::Journal;
use crate::message::Message;
use crate::queue::MessageQueue;

/// Reading a tail back starts when a store's resident ready messages fall below this.
pub(crate) const LOW_WATER: usize = 1024;
/// The most messages read back from a tail at once.
pub(crate) const BATCH: usize = 1024;
/// Rows a selector consumer examines per journal read when it looks for a match in the
/// tail.
pub(crate) const SCAN_BATCH: usize = 1024;
/// What an entry costs besides its message: the queue entry, its slot, the reference
/// counts of the message and of its charge.
const ENTRY_OVERHEAD: usize = 160;

/// Resident bytes against a limit, shared by everything a broker holds.
#[derive(Clone, Debug)]
pub(crate) struct MemoryBudget {
    limit: usize,
    used: Arc<AtomicUsize>,
}

impl MemoryBudget {
    pub fn new(limit: usize) -> MemoryBudget {
        MemoryBudget { limit, used: Arc::new(AtomicUsize::new(0)) }
    }

    /// Bytes currently resident.
    pub fn used(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }

    /// Bytes that still fit.
    pub fn room(&self) -> usize {
        self.limit.saturating_sub(self.used())
    }

    /// Whether `bytes` more fit. Racy by design: concurrent senders may overshoot the
    /// budget by at most one message each.
    pub fn fits(&self, bytes: usize) -> bool {
        self.used().saturating_add(bytes) <= self.limit
    }

    /// Charges `message`; the charge lasts as long as the returned handle.
    pub fn charge(&self, message: &Message) -> Arc<Charge> {
        let bytes = resident_bytes(message);
        self.used.fetch_add(bytes, Ordering::Relaxed);
        Arc::new(Charge { bytes, used: self.used.clone() })
    }
}

/// Resident bytes of one message, released on drop. Entries holding the same message
/// (a topic's copies) share one charge.
#[derive(Debug)]
pub(crate) struct Charge {
    bytes: usize,
    used: Arc<AtomicUsize>,
}

impl Drop for Charge {
    fn drop(&mut self) {
        self.used.fetch_sub(self.bytes, Ordering::Relaxed);
    }
}

/// The bytes a queued message keeps in memory, as the budget counts them: an estimate
/// of the message (headers, properties, body) plus its queue entry.
pub fn resident_bytes(message: &Message) -> usize {
    message.size_estimate() + ENTRY_OVERHEAD
}

/// What a store with a tail needs from its broker.
pub(crate) trait PagerHost: Send + Sync {
    fn journal(&self) -> &dyn Journal;
    fn budget(&self) -> &MemoryBudget;
    /// Wakes `queue` at `at` to release a delayed message read back from its tail.
    fn schedule(&self, queue: Weak<MessageQueue>, at: i64);
    /// The first message key of this run: a NON_PERSISTENT message below it was paged
    /// by an earlier run and does not survive the restart.
    fn first_key(&self) -> u64;
}
