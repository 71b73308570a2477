//! Bounded memory: how many message-body bytes the broker keeps resident, and the
//! header-only form of a message whose body was dropped from memory (paged).
//!
//! With a durable journal every body held by a queue or subscription is charged to a
//! [`MemoryBudget`]. A message that would take the broker over its budget is written to
//! the journal (a NON_PERSISTENT one too) and queued in its header-only form: the
//! headers and properties stay in memory, because routing, ordering, expiry and
//! selectors need them, and the body is read back from the journal when the message is
//! delivered, browsed or moved. The charge of a resident body is released when the last
//! copy of its entry goes (acknowledged, expired, moved, deleted).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use crate::message::Message;

/// Resident body bytes against a limit, shared by everything a broker holds.
#[derive(Debug)]
pub(crate) struct MemoryBudget {
    limit: usize,
    used: Arc<AtomicUsize>,
}

impl MemoryBudget {
    pub fn new(limit: usize) -> MemoryBudget {
        MemoryBudget { limit, used: Arc::new(AtomicUsize::new(0)) }
    }

    /// Body bytes currently resident.
    pub fn used(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }

    /// Whether `bytes` more fit. Racy by design: concurrent senders may overshoot the
    /// budget by at most one message each.
    pub fn fits(&self, bytes: usize) -> bool {
        self.used().saturating_add(bytes) <= self.limit
    }

    /// Charges the body of `message`; the charge lasts as long as the returned handle.
    pub fn charge(&self, message: &Message) -> Arc<Charge> {
        let bytes = body_bytes(message);
        self.used.fetch_add(bytes, Ordering::Relaxed);
        Arc::new(Charge { bytes, used: self.used.clone() })
    }
}

/// Resident bytes of one body, released on drop. Entries holding the same message
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

/// The bytes a body holds, as the budget counts them.
pub(crate) fn body_bytes(message: &Message) -> usize {
    message.body.size_estimate()
}

/// The message without its body: what a paged entry keeps in memory.
pub(crate) fn headers_only(message: &Message) -> Arc<Message> {
    Arc::new(message.without_body())
}

