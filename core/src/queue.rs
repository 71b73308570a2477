//! One message store with competing consumers.
//!
//! A [`MessageQueue`] backs both a JMS queue and each topic subscription. It keeps ready
//! messages in ten FIFO levels, one per priority, and delayed messages in a heap until
//! their delivery time.
//!
//! Dispatch is credit based. A consumer's [`ConsumerLink`] holds an inbox and a credit
//! (how many more messages it may be given). A message that arrives while some consumer
//! has credit and accepts it goes straight into that consumer's inbox, round robin; only
//! otherwise does it wait in the ready levels, from where a consumer pulls (`fill`) when
//! it has credit again. A consumer with a selector remembers, per level, the last
//! message it examined and rejected, so a backlog it does not want is scanned once, not
//! on every pull.
//!
//! A durable store with a durable journal can page (see [`crate::paging`]): beyond the
//! memory budget its newest messages stay in the journal only, as its tail, which is
//! read back in arrival order as consumers drain the resident part. Priority orders the
//! resident messages only. A consumer whose selector matches nothing resident looks
//! for a match in the tail itself and takes it from there.
//!
//! Locking: the queue's state lock is taken before a consumer's inbox lock, never the
//! other way round. Both are std mutexes held only for in-memory work; nothing blocks or
//! calls out while holding them (journal reads happen with the lock released). Several
//! queue locks are held together only by [`MessageQueue::reserve`], in address order.

use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::time::Duration;

use crate::destination::Destination;
use crate::journal::{Op, StoreKey, TailRow};
use crate::message::{Candidate, Delivery, DeliveryMode, Message};
use crate::paging::{PagerHost, BATCH, LOW_WATER, SCAN_BATCH};
use crate::selector::Selector;

const LEVELS: usize = 10;

/// A message's place in one queue.
#[derive(Clone, Debug)]
pub(crate) struct Entry {
    /// Order within this queue; assigned on enqueue.
    pub seq: u64,
    /// The broker-wide key of the message (the journal's).
    pub key: u64,
    pub message: Arc<Message>,
    /// How many times an application has been handed this message from this queue.
    pub deliveries: u32,
    /// The connection that sent it, for noLocal.
    pub origin: u64,
    /// Paging: a NON_PERSISTENT message the journal holds because it was paged (it
    /// went through the tail), so acknowledging it removes it from the journal.
    pub paged: bool,
    /// Paging: the resident-memory charge of the message, shared by the entry's copies
    /// and released with the last of them.
    pub charge: Option<Arc<crate::paging::Charge>>,
}

impl Entry {
    pub fn new(key: u64, message: Arc<Message>, origin: u64) -> Entry {
        Entry { seq: 0, key, message, deliveries: 0, origin, paged: false, charge: None }
    }

    /// Whether the journal holds this message: persistent, or written out by paging.
    pub fn is_journaled(&self) -> bool {
        self.is_persistent() || self.paged
    }

    fn level(&self) -> usize {
        usize::from(self.message.priority.min(9))
    }

    pub fn is_persistent(&self) -> bool {
        self.message.delivery_mode == DeliveryMode::Persistent
    }
}

/// A hook a consumer's owner sets to learn that the consumer has something to receive,
/// instead of blocking a thread in `receive`. It runs on the thread that made the
/// message available and must only signal (post to a channel, wake a task): it must not
/// call back into Herald.
pub type Wakeup = Arc<dyn Fn() + Send + Sync>;

/// The part of a consumer that a queue dispatches to.
pub(crate) struct ConsumerLink {
    pub id: u64,
    selector: Option<Selector>,
    pub inbox: Mutex<Inbox>,
    cond: Condvar,
    /// Threads blocked on `cond`; changed only under the inbox lock, so a thread that
    /// filled the inbox and then finds zero knows nobody needs a (costly) futex wake.
    waiters: AtomicU32,
    /// Set by the first wake after a receiver went to sleep: until the receiver sleeps
    /// again, messages arriving meanwhile (it has not run yet) need no futex wake of
    /// their own, as it takes them all before it sleeps.
    wake_sent: AtomicBool,
    wakeup: Mutex<Option<Wakeup>>,
    has_wakeup: AtomicBool,
    /// How many times in a row the receiver slept since looking at the empty inbox
    /// last found a message (see `SessionCore::next_entry`). Touched only by the
    /// receiving thread.
    pub spin_misses: AtomicU32,
}

#[derive(Default)]
pub(crate) struct Inbox {
    pub buf: VecDeque<Entry>,
    /// How many more messages the queue may push.
    pub credit: u32,
    pub closed: bool,
    /// Set by [`ConsumerLink::poke`]: something outside the inbox changed (messages
    /// went back to the queue, the connection started), so a waiter should look again.
    pub poked: bool,
}

impl ConsumerLink {
    pub fn new(id: u64, selector: Option<Selector>, credit: u32) -> ConsumerLink {
        ConsumerLink {
            id,
            selector,
            inbox: Mutex::new(Inbox { credit, ..Inbox::default() }),
            cond: Condvar::new(),
            waiters: AtomicU32::new(0),
            wake_sent: AtomicBool::new(false),
            wakeup: Mutex::new(None),
            has_wakeup: AtomicBool::new(false),
            spin_misses: AtomicU32::new(0),
        }
    }

    pub fn inbox(&self) -> MutexGuard<'_, Inbox> {
        lock(&self.inbox)
    }

    fn accepts(&self, entry: &Entry) -> bool {
        match &self.selector {
            None => true,
            Some(s) => s.matches(&Candidate::new(&entry.message, entry.deliveries + 1)),
        }
    }

    pub fn set_wakeup(&self, wakeup: Option<Wakeup>) {
        let mut slot = lock(&self.wakeup);
        self.has_wakeup.store(wakeup.is_some(), Ordering::Release);
        let old = std::mem::replace(&mut *slot, wakeup);
        drop(slot);
        // The old hook's drop (a C finalizer, say) runs outside the lock, so it may call
        // back into Herald.
        drop(old);
    }

    /// Tells whoever waits on this consumer that something outside its inbox changed.
    pub fn poke(&self) {
        self.inbox().poked = true;
        self.wake();
    }

    /// Blocks a receiver until [`Self::wake`] or `timeout` (`None`: no limit), with the
    /// inbox lock released meanwhile; the caller has seen nothing to take in `inbox`.
    pub fn sleep<'a>(&'a self, inbox: MutexGuard<'a, Inbox>, timeout: Option<Duration>) -> MutexGuard<'a, Inbox> {
        self.waiters.fetch_add(1, Ordering::AcqRel);
        // Under the inbox lock, before anything can arrive: the next wake signals.
        self.wake_sent.store(false, Ordering::Release);
        let inbox = match timeout {
            None => self.cond.wait(inbox).unwrap_or_else(|p| p.into_inner()),
            Some(t) => self.cond.wait_timeout(inbox, t).unwrap_or_else(|p| p.into_inner()).0,
        };
        self.waiters.fetch_sub(1, Ordering::AcqRel);
        inbox
    }

    /// Tells whoever waits on this consumer that its inbox has something.
    pub fn wake(&self) {
        if self.waiters.load(Ordering::Acquire) > 0 && !self.wake_sent.swap(true, Ordering::AcqRel) {
            self.cond.notify_all();
        }
        if self.has_wakeup.load(Ordering::Acquire) {
            let hook = lock(&self.wakeup).clone();
            if let Some(hook) = hook {
                hook();
            }
        }
    }
}

struct Slot {
    link: Arc<ConsumerLink>,
    /// Per level, the highest seq this consumer's selector has rejected, valid while
    /// `epoch` matches the queue's.
    epoch: u64,
    rejected: [u64; LEVELS],
    /// The highest tail key this consumer's selector has rejected.
    tail_rejected: u64,
}

struct Scheduled {
    at: i64,
    entry: Entry,
}

impl PartialEq for Scheduled {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.entry.seq) == (other.at, other.entry.seq)
    }
}
impl Eq for Scheduled {}
impl PartialOrd for Scheduled {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Scheduled {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.entry.seq).cmp(&(other.at, other.entry.seq))
    }
}

/// The part of a store that lives only in the journal: its entries with a key above
/// `after`, beyond what is resident.
#[derive(Default)]
struct Tail {
    /// Entries in the tail, not yet read back.
    count: usize,
    /// Every tail entry has a key above this one, every resident entry one at or below.
    after: u64,
    /// Keys given to the tail whose journal write is still under way, ascending.
    pending: VecDeque<u64>,
    /// A batch is being read back.
    loading: bool,
    /// Tail keys a selector consumer took out of order: skipped when read back.
    plucked: BTreeSet<u64>,
}

impl Tail {
    /// Whether new messages must join the tail.
    fn active(&self) -> bool {
        self.count > 0 || !self.pending.is_empty() || self.loading
    }

    /// The highest key that may be read back: every tail write below the oldest pending
    /// one has finished.
    fn until(&self) -> u64 {
        self.pending.front().map_or(u64::MAX, |k| k - 1)
    }
}

#[derive(Default)]
struct State {
    tail: Tail,
    levels: [VecDeque<Entry>; LEVELS],
    ready: usize,
    scheduled: BinaryHeap<Reverse<Scheduled>>,
    consumers: Vec<Slot>,
    next_consumer: usize,
    next_seq: u64,
    /// Bumped whenever messages go back into the levels out of arrival order, which
    /// invalidates every consumer's scan position.
    epoch: u64,
    /// Whether a message with an expiration may be waiting, so the periodic expiry scan
    /// can skip queues where nothing expires.
    may_expire: bool,
    deleted: bool,
}

/// Counters for `herald stat`.
#[derive(Default)]
pub(crate) struct Counters {
    pub enqueued: AtomicU64,
    pub acknowledged: AtomicU64,
}

/// A queue or a subscription's store of messages.
pub(crate) struct MessageQueue {
    /// The journal's name for this store.
    pub key: StoreKey,
    /// The destination applications know it by (the topic, for a subscription).
    pub destination: Destination,
    /// Whether persistent messages in it are journaled.
    pub durable: bool,
    state: Mutex<State>,
    /// Ready messages (the tail included), readable without the lock; only a hint.
    ready_hint: AtomicUsize,
    /// Whether the store is in tail mode, readable without the lock; only a hint.
    tail_hint: AtomicBool,
    pub counters: Counters,
    /// Set for a store that pages: its broker, and itself for the timers.
    pager: Option<Pager>,
}

struct Pager {
    host: Weak<dyn PagerHost>,
    me: Weak<MessageQueue>,
}

/// Where a browser is in a queue, in delivery order: the resident messages level by
/// level from the highest priority, each level by arrival, then the tail in the journal.
/// Only the place is kept, nothing is copied ahead: each step takes the next few
/// messages under the queue's lock (see [`MessageQueue::browse`]), so an idle browser
/// holds on to no message, and one opened on a deep queue costs no more than a busy one.
pub(crate) enum Walk {
    /// In the resident level `level`, past the message with seq `after`.
    Levels { level: usize, after: u64 },
    Tail(TailScan),
    Done,
}

impl Walk {
    pub fn new() -> Walk {
        Walk::Levels { level: LEVELS - 1, after: 0 }
    }
}

/// The most resident messages one browsing step looks at, so that a selector matching
/// little does not keep the queue's lock from its producers and consumers for long.
const BROWSE_SCAN: usize = 1024;

/// A browser's walk over a tail: keys in `after + 1 ..= until` of `store`.
pub(crate) struct TailScan {
    pub store: StoreKey,
    pub after: u64,
    pub until: u64,
    pub selector: Option<Selector>,
    pub now: i64,
}

/// What to do after a tail write: see [`MessageQueue::tail_written`].
pub(crate) struct TailWritten {
    pub refill: bool,
    pub poke: Vec<Arc<ConsumerLink>>,
}

/// Consumers to wake and expired entries to dispose of, after a tail was read back.
#[derive(Default)]
pub(crate) struct Refilled {
    pub wake: Vec<Arc<ConsumerLink>>,
    pub expired: Vec<Entry>,
}

/// What a queue did with a message given to it.
pub(crate) enum Placed {
    /// Handed to a consumer, which should be woken.
    Dispatched(Arc<ConsumerLink>),
    /// Waiting in the queue.
    Stored,
    /// Held until its delivery time; the broker should wake the queue then.
    Scheduled(i64),
    /// Not taken: the queue is deleted or the message already expired.
    Rejected(Entry),
    /// Stored behind others; these consumers were given messages from the head, and
    /// these expired messages were found there.
    Fed { wake: Vec<Arc<ConsumerLink>>, expired: Vec<Entry> },
}

impl MessageQueue {
    pub fn new(key: StoreKey, destination: Destination, durable: bool) -> MessageQueue {
        MessageQueue {
            key,
            destination,
            durable,
            state: Mutex::new(State { next_seq: 1, ..State::default() }),
            ready_hint: AtomicUsize::new(0),
            tail_hint: AtomicBool::new(false),
            counters: Counters::default(),
            pager: None,
        }
    }

    /// A durable store that pages through `host`'s journal.
    pub fn paging(key: StoreKey, destination: Destination, host: Weak<dyn PagerHost>) -> Arc<MessageQueue> {
        Arc::new_cyclic(|me| MessageQueue {
            pager: Some(Pager { host, me: me.clone() }),
            ..MessageQueue::new(key, destination, true)
        })
    }

    fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    fn update_hints(&self, state: &State) {
        self.ready_hint.store(state.ready + state.tail.count, Ordering::Relaxed);
        self.tail_hint.store(state.tail.active(), Ordering::Relaxed);
    }

    /// Whether new messages for this store go to its tail (a hint).
    pub fn has_tail(&self) -> bool {
        self.tail_hint.load(Ordering::Relaxed)
    }

    /// Whether taking from this store may wait for the journal: a durable store that
    /// reads a paged tail back, or removes expired messages (a synced write).
    pub fn taking_may_wait(&self) -> bool {
        self.durable && (self.has_tail() || self.state().may_expire)
    }

    /// Takes the key of a message bound for the durable stores `queues` from `next_key`
    /// while holding all their locks, so that in each store keys grow in admission
    /// order, and decides per store whether the message joins its tail: it does when
    /// the store is in tail mode, or when the message does not `fit` the memory budget
    /// and the store pages. A tail decision is pending until [`Self::tail_written`].
    pub fn reserve(queues: &[Arc<MessageQueue>], next_key: &AtomicU64, fits: bool) -> (u64, Vec<bool>) {
        let mut order: Vec<usize> = (0..queues.len()).collect();
        order.sort_by_key(|&i| Arc::as_ptr(&queues[i]) as usize);
        order.dedup_by_key(|i| Arc::as_ptr(&queues[*i]) as usize);
        let mut guards: Vec<(usize, MutexGuard<'_, State>)> =
            order.iter().map(|&i| (Arc::as_ptr(&queues[i]) as usize, queues[i].state())).collect();
        let key = next_key.fetch_add(1, Ordering::Relaxed);
        let mut tails = vec![false; queues.len()];
        for (i, queue) in queues.iter().enumerate() {
            if queue.pager.is_none() {
                continue;
            }
            let ptr = Arc::as_ptr(queue) as usize;
            let Some((_, state)) = guards.iter_mut().find(|(p, _)| *p == ptr) else { continue };
            if state.deleted || !(state.tail.active() || !fits) {
                continue;
            }
            if state.tail.pending.back() == Some(&key) {
                // The same store twice (two bindings): one entry.
                continue;
            }
            if !state.tail.active() {
                state.tail.after = key - 1;
                state.tail.plucked.clear();
            }
            state.tail.pending.push_back(key);
            tails[i] = true;
            queue.tail_hint.store(true, Ordering::Relaxed);
        }
        drop(guards);
        (key, tails)
    }

    /// The journal write of tail message `key` finished (`ok`) or failed. Says whether
    /// the caller should [`Self::refill`] the store (consumers wait and little is
    /// resident), and which idle consumers with a selector to poke, so that they look
    /// for a match in the tail.
    pub fn tail_written(&self, key: u64, ok: bool) -> TailWritten {
        let mut state = self.state();
        if let Some(at) = state.tail.pending.iter().position(|k| *k == key) {
            state.tail.pending.remove(at);
        }
        if ok && !state.deleted {
            state.tail.count += 1;
            self.counters.enqueued.fetch_add(1, Ordering::Relaxed);
        }
        self.update_hints(&state);
        let live = ok && !state.deleted && !state.consumers.is_empty();
        let refill = live && !state.tail.loading && state.ready < LOW_WATER;
        let mut poke = Vec::new();
        if live && !refill {
            for slot in state.consumers.iter().filter(|s| s.link.selector.is_some()) {
                let inbox = slot.link.inbox();
                if inbox.buf.is_empty() && inbox.credit > 0 && !inbox.closed {
                    poke.push(slot.link.clone());
                }
            }
        }
        TailWritten { refill, poke }
    }

    /// At start: the store's entries with a key above `after`, `count` of them, stay in
    /// the journal as its tail.
    pub fn set_tail(&self, after: u64, count: usize) {
        if self.pager.is_none() || count == 0 {
            return;
        }
        let mut state = self.state();
        state.tail.after = after;
        state.tail.count = count;
        self.update_hints(&state);
    }

    /// Reads the next batch of the tail back into memory when the resident part is
    /// below the low-water mark, as far as the memory budget allows, then gives
    /// consumers with credit what they can take. With the budget used up, a `starving`
    /// caller (a consumer with nothing to receive) still gets one message when nothing
    /// is resident, so a store never starves behind others.
    pub fn refill(&self, now: i64, starving: bool) -> Refilled {
        let mut out = Refilled::default();
        let Some(pager) = &self.pager else { return out };
        let Some(host) = pager.host.upgrade() else { return out };
        // A batch of only expired or stale messages gives nothing: read on.
        while self.refill_once(&*host, pager, now, starving, &mut out) && out.expired.len() < BATCH {}
        out
    }

    /// One step of [`Self::refill`]. Returns whether it read messages and none of them
    /// became available.
    fn refill_once(&self, host: &dyn PagerHost, pager: &Pager, now: i64, starving: bool, out: &mut Refilled) -> bool {
        let (after, until, max_bytes) = {
            let mut state = self.state();
            let t = &state.tail;
            if t.loading || t.count == 0 || state.deleted || state.ready >= LOW_WATER || t.until() <= t.after {
                return false;
            }
            let room = host.budget().room();
            if room == 0 && (state.ready > 0 || !starving) {
                return false;
            }
            state.tail.loading = true;
            (state.tail.after, state.tail.until(), room)
        };
        let rows = host.journal().load_tail(&self.key, after, until, BATCH, max_bytes);
        let mut stale = Vec::new();
        let mut scheduled = Vec::new();
        let mut state = self.state();
        state.tail.loading = false;
        let rows = match rows {
            Ok(rows) => rows,
            Err(e) => {
                self.update_hints(&state);
                tracing::warn!(queue = %self.key, cause = %e, "could not read messages back from the journal");
                return false;
            }
        };
        if rows.is_empty() {
            // Nothing below the readable bound although some are counted: the count
            // is wrong (its entries went away); trust the journal.
            if state.tail.pending.is_empty() && until == u64::MAX {
                tracing::warn!(queue = %self.key, count = state.tail.count, "the tail is empty in the journal");
                state.tail.count = 0;
                state.tail.plucked.clear();
            }
            self.update_hints(&state);
            return false;
        }
        let first_key = host.first_key();
        let mut available = false;
        for row in rows {
            state.tail.after = state.tail.after.max(row.key);
            if state.tail.plucked.remove(&row.key) {
                continue;
            }
            state.tail.count = state.tail.count.saturating_sub(1);
            if state.deleted {
                continue;
            }
            let persistent = row.message.delivery_mode == DeliveryMode::Persistent;
            if !persistent && row.key < first_key {
                // Paged by an earlier run: a NON_PERSISTENT message does not survive it.
                stale.push(Op::Remove { store: self.key.clone(), key: row.key });
                continue;
            }
            let entry = self.entry_from_row(host, row);
            if entry.message.is_expired_at(now) {
                out.expired.push(entry);
                continue;
            }
            let mut entry = entry;
            entry.seq = state.next_seq;
            state.next_seq += 1;
            let at = entry.message.delivery_time;
            available = true;
            if at > now {
                state.scheduled.push(Reverse(Scheduled { at, entry }));
                scheduled.push(at);
            } else {
                state.may_expire |= entry.message.expiration != 0;
                state.levels[entry.level()].push_back(entry);
                state.ready += 1;
            }
        }
        if state.tail.count == 0 && state.tail.pending.is_empty() {
            state.tail.plucked.clear();
        }
        for at in 0..state.consumers.len() {
            if state.ready == 0 {
                break;
            }
            if self.fill_slot(&mut state, at, now, &mut out.expired) {
                out.wake.push(state.consumers[at].link.clone());
            }
        }
        self.update_hints(&state);
        drop(state);
        for at in scheduled {
            host.schedule(pager.me.clone(), at);
        }
        if !stale.is_empty() {
            if let Err(e) = host.journal().write_relaxed(stale) {
                tracing::warn!(queue = %self.key, cause = %e, "could not remove stale paged messages");
            }
        }
        !available
    }

    fn entry_from_row(&self, host: &dyn PagerHost, row: TailRow) -> Entry {
        let mut entry = Entry::new(row.key, row.message, 0);
        entry.deliveries = row.delivery_count;
        entry.paged = entry.message.delivery_mode != DeliveryMode::Persistent;
        entry.charge = Some(host.budget().charge(&entry.message));
        entry
    }

    /// For a consumer with a selector that found nothing resident: looks through the
    /// tail in the journal, from where it last looked, for messages it accepts, and
    /// takes them from there, up to its credit. Returns whether it was given any.
    fn pluck(&self, link: &ConsumerLink, now: i64, expired: &mut Vec<Entry>) -> bool {
        let Some(selector) = &link.selector else { return false };
        let Some(pager) = &self.pager else { return false };
        let Some(host) = pager.host.upgrade() else { return false };
        let room = host.budget().room();
        let (mut from, until, credit) = {
            let state = self.state();
            let Some(slot) = state.consumers.iter().find(|s| s.link.id == link.id) else { return false };
            let credit = link.inbox().credit as usize;
            if state.tail.count == 0 || credit == 0 || state.deleted {
                return false;
            }
            (slot.tail_rejected.max(state.tail.after), state.tail.until(), credit)
        };
        let mut found: Vec<TailRow> = Vec::new();
        // What the found messages will cost: past the budget's room, stop (one at least).
        let mut bytes = 0usize;
        let full = |found: &Vec<TailRow>, bytes: usize| found.len() >= credit || (!found.is_empty() && bytes >= room);
        let mut scanned_to = from;
        while from < until && !full(&found, bytes) {
            let rows = match host.journal().load_tail(&self.key, from, until, SCAN_BATCH, usize::MAX) {
                Ok(rows) => rows,
                Err(e) => {
                    tracing::warn!(queue = %self.key, cause = %e, "could not look through the tail");
                    break;
                }
            };
            let Some(last) = rows.last().map(|r| r.key) else { break };
            let short = rows.len() < SCAN_BATCH;
            for row in rows {
                scanned_to = row.key;
                let due = row.message.delivery_time <= now;
                let stale = row.message.delivery_mode != DeliveryMode::Persistent && row.key < host.first_key();
                if due && !stale && selector.matches(&Candidate::new(&row.message, row.delivery_count + 1)) {
                    bytes += crate::paging::resident_bytes(&row.message);
                    found.push(row);
                    if full(&found, bytes) {
                        break;
                    }
                }
            }
            from = last;
            if short {
                break;
            }
        }
        let mut state = self.state();
        let state = &mut *state;
        let Some(slot) = state.consumers.iter_mut().find(|s| s.link.id == link.id) else { return false };
        slot.tail_rejected = slot.tail_rejected.max(scanned_to);
        let mut inbox = link.inbox();
        let mut given = false;
        for row in found {
            let t = &mut state.tail;
            if row.key <= t.after || t.plucked.contains(&row.key) || t.count == 0 || state.deleted {
                // Read back meanwhile: it is resident now, where fill finds it.
                continue;
            }
            if inbox.credit == 0 || inbox.closed {
                slot.tail_rejected = slot.tail_rejected.min(row.key - 1);
                break;
            }
            t.plucked.insert(row.key);
            t.count -= 1;
            let mut entry = self.entry_from_row(&*host, row);
            entry.seq = state.next_seq;
            state.next_seq += 1;
            if entry.message.is_expired_at(now) {
                expired.push(entry);
                continue;
            }
            inbox.credit -= 1;
            inbox.buf.push_back(entry);
            given = true;
        }
        drop(inbox);
        self.update_hints(state);
        given
    }

    /// Adds a message. Expired messages are rejected; delayed ones are scheduled.
    pub fn enqueue(&self, mut entry: Entry, now: i64) -> Placed {
        if entry.message.is_expired_at(now) {
            return Placed::Rejected(entry);
        }
        let mut state = self.state();
        if state.deleted {
            return Placed::Rejected(entry);
        }
        entry.seq = state.next_seq;
        state.next_seq += 1;
        self.counters.enqueued.fetch_add(1, Ordering::Relaxed);
        let at = entry.message.delivery_time;
        if at > now {
            state.scheduled.push(Reverse(Scheduled { at, entry }));
            return Placed::Scheduled(at);
        }
        self.place(&mut state, entry, now)
    }

    /// Hands a due message to a consumer, or stores it. A message may skip the levels
    /// only when they are empty; otherwise older messages would be overtaken, so it is
    /// stored and the consumers with credit take from the head.
    fn place(&self, state: &mut State, entry: Entry, now: i64) -> Placed {
        if state.ready == 0 {
            return match Self::dispatch(state, entry) {
                Ok(link) => Placed::Dispatched(link),
                Err(entry) => {
                    self.store(state, entry);
                    Placed::Stored
                }
            };
        }
        self.store(state, entry);
        let mut expired = Vec::new();
        let mut wake = Vec::new();
        for at in 0..state.consumers.len() {
            if state.ready == 0 {
                break;
            }
            if self.fill_slot(state, at, now, &mut expired) {
                wake.push(state.consumers[at].link.clone());
            }
        }
        if wake.is_empty() && expired.is_empty() {
            Placed::Stored
        } else {
            Placed::Fed { wake, expired }
        }
    }

    /// Restores a recovered message at start, before any consumer exists.
    pub fn restore(&self, mut entry: Entry, now: i64) -> Option<i64> {
        let mut state = self.state();
        entry.seq = state.next_seq;
        state.next_seq += 1;
        let at = entry.message.delivery_time;
        if at > now {
            state.scheduled.push(Reverse(Scheduled { at, entry }));
            return Some(at);
        }
        self.store(&mut state, entry);
        None
    }

    /// Offers a message to the consumers with credit, round robin.
    fn dispatch(state: &mut State, entry: Entry) -> Result<Arc<ConsumerLink>, Entry> {
        let n = state.consumers.len();
        for i in 0..n {
            let at = (state.next_consumer + i) % n;
            let link = &state.consumers[at].link;
            let mut inbox = link.inbox();
            if inbox.credit == 0 || inbox.closed || !link.accepts(&entry) {
                continue;
            }
            inbox.credit -= 1;
            inbox.buf.push_back(entry);
            drop(inbox);
            state.next_consumer = at + 1;
            return Ok(link.clone());
        }
        Err(entry)
    }

    fn store(&self, state: &mut State, entry: Entry) {
        state.may_expire |= entry.message.expiration != 0;
        state.levels[entry.level()].push_back(entry);
        state.ready += 1;
        self.update_hints(state);
    }

    /// True when messages may be waiting in the levels.
    pub fn has_ready(&self) -> bool {
        self.ready_hint.load(Ordering::Relaxed) > 0
    }

    // Never inlined: the C tests' valgrind suppressions recognise the memory of a live
    // vm:// broker's queues by this module's frames.
    #[inline(never)]
    pub fn add_consumer(&self, link: Arc<ConsumerLink>) {
        let mut state = self.state();
        let epoch = state.epoch;
        state.consumers.push(Slot { link, epoch, rejected: [0; LEVELS], tail_rejected: 0 });
    }

    pub fn consumer_count(&self) -> usize {
        self.state().consumers.len()
    }

    /// Detaches a consumer and takes back what sat undelivered in its inbox.
    pub fn remove_consumer(&self, link: &ConsumerLink) {
        let mut state = self.state();
        state.consumers.retain(|slot| slot.link.id != link.id);
        let mut inbox = link.inbox();
        inbox.closed = true;
        let undelivered: Vec<Entry> = inbox.buf.drain(..).collect();
        drop(inbox);
        let wake = self.put_back(&mut state, undelivered);
        drop(state);
        poke_all(&wake);
    }

    /// Takes back entries that left the queue without being acknowledged. They return to
    /// their original place, ahead of anything that arrived after them.
    pub fn give_back(&self, entries: Vec<Entry>) {
        let mut state = self.state();
        let wake = self.put_back(&mut state, entries);
        drop(state);
        poke_all(&wake);
    }

    /// Returns the links to wake: every consumer, since any may want what came back.
    fn put_back(&self, state: &mut State, entries: Vec<Entry>) -> Vec<Arc<ConsumerLink>> {
        if entries.is_empty() || state.deleted {
            return Vec::new();
        }
        for entry in entries {
            state.may_expire |= entry.message.expiration != 0;
            let level = &mut state.levels[entry.level()];
            let at = level.partition_point(|e| e.seq < entry.seq);
            level.insert(at, entry);
            state.ready += 1;
        }
        state.epoch += 1;
        self.update_hints(state);
        state.consumers.iter().map(|slot| slot.link.clone()).collect()
    }

    /// Moves waiting messages into `link`'s inbox, up to its credit, reading the tail
    /// back first when little is resident. Returns the expired messages it came across,
    /// which the caller disposes of.
    pub fn fill(&self, link: &ConsumerLink, now: i64) -> Vec<Entry> {
        let mut expired = Vec::new();
        let mut state = self.state();
        let Some(at) = state.consumers.iter().position(|s| s.link.id == link.id) else { return expired };
        let mut given = state.ready > 0 && self.fill_slot(&mut state, at, now, &mut expired);
        if self.pager.is_none() || state.tail.count == 0 {
            return expired;
        }
        let low = state.ready < LOW_WATER && !state.tail.loading;
        drop(state);
        let starving = link.inbox().buf.is_empty();
        if low {
            let refilled = self.refill(now, starving);
            given |= refilled.wake.iter().any(|l| l.id == link.id);
            expired.extend(refilled.expired);
            wake_all(refilled.wake.iter().filter(|l| l.id != link.id).cloned().collect::<Vec<_>>().as_slice());
        }
        if !given && starving && link.selector.is_some() {
            self.pluck(link, now, &mut expired);
        }
        expired
    }

    /// Fills the consumer at `at` from the head of the levels. Returns whether it was
    /// given anything.
    fn fill_slot(&self, state: &mut State, at: usize, now: i64, expired: &mut Vec<Entry>) -> bool {
        let state = &mut *state;
        let slot = &mut state.consumers[at];
        let link = &slot.link;
        let mut inbox = link.inbox();
        if inbox.closed || inbox.credit == 0 {
            return false;
        }
        if slot.epoch != state.epoch {
            slot.epoch = state.epoch;
            slot.rejected = [0; LEVELS];
        }
        let mut taken = 0usize;
        let mut given = false;
        for (level_no, level) in state.levels.iter_mut().enumerate().rev() {
            if inbox.credit == 0 {
                break;
            }
            if link.selector.is_none() {
                while inbox.credit > 0 {
                    let Some(entry) = level.pop_front() else { break };
                    taken += 1;
                    if entry.message.is_expired_at(now) {
                        expired.push(entry);
                    } else {
                        inbox.credit -= 1;
                        inbox.buf.push_back(entry);
                        given = true;
                    }
                }
                continue;
            }
            let seen = slot.rejected[level_no];
            let mut i = level.partition_point(|e| e.seq <= seen);
            while inbox.credit > 0 && i < level.len() {
                if level[i].message.is_expired_at(now) {
                    expired.extend(level.remove(i));
                    taken += 1;
                } else if link.accepts(&level[i]) {
                    inbox.buf.extend(level.remove(i));
                    inbox.credit -= 1;
                    taken += 1;
                    given = true;
                } else {
                    i += 1;
                }
            }
            if i > 0 {
                slot.rejected[level_no] = slot.rejected[level_no].max(level[i - 1].seq);
            }
        }
        drop(inbox);
        state.ready -= taken;
        self.update_hints(state);
        given
    }

    /// Moves delayed messages whose time has come into the queue. Returns the consumers
    /// to wake and the expired messages found.
    pub fn promote_due(&self, now: i64) -> (Vec<Arc<ConsumerLink>>, Vec<Entry>) {
        let mut wake = Vec::new();
        let mut expired = Vec::new();
        let mut state = self.state();
        while state.scheduled.peek().is_some_and(|s| s.0.at <= now) {
            let Some(Reverse(due)) = state.scheduled.pop() else { break };
            if due.entry.message.is_expired_at(now) {
                expired.push(due.entry);
                continue;
            }
            match self.place(&mut state, due.entry, now) {
                Placed::Dispatched(link) => wake.push(link),
                Placed::Fed { wake: w, expired: e } => {
                    wake.extend(w);
                    expired.extend(e);
                }
                Placed::Stored | Placed::Scheduled(_) | Placed::Rejected(_) => {}
            }
        }
        (wake, expired)
    }

    /// Removes every expired message waiting in the queue.
    pub fn take_expired(&self, now: i64) -> Vec<Entry> {
        let mut expired = Vec::new();
        let mut state = self.state();
        if !state.may_expire {
            return expired;
        }
        let mut removed = 0;
        let mut remaining_expire = false;
        for level in state.levels.iter_mut() {
            level.retain(|e| {
                let keep = !e.message.is_expired_at(now);
                if !keep {
                    expired.push(e.clone());
                    removed += 1;
                } else {
                    remaining_expire |= e.message.expiration != 0;
                }
                keep
            });
        }
        state.may_expire = remaining_expire;
        state.ready -= removed;
        self.update_hints(&state);
        expired
    }

    /// A browsing step: appends to `page` up to `max` of the resident messages after
    /// `walk`'s place that are unexpired at `now` and match `selector`, and moves the
    /// place past what it looked at. Past the lowest level, the walk goes on into the
    /// tail as it is then (messages read back from it meanwhile joined the levels). A
    /// message that arrives in a level the walk has passed is not seen, as JMS allows.
    pub fn browse(&self, walk: &mut Walk, selector: Option<&Selector>, max: usize, now: i64, page: &mut VecDeque<Delivery>) {
        let state = self.state();
        if state.deleted {
            *walk = Walk::Done;
            return;
        }
        let mut looked = 0;
        let mut taken = 0;
        while let Walk::Levels { level, after } = walk {
            let entries = &state.levels[*level];
            let from = entries.partition_point(|e| e.seq <= *after);
            for e in entries.range(from..) {
                *after = e.seq;
                looked += 1;
                let deliveries = e.deliveries + 1;
                if !e.message.is_expired_at(now) && selector.is_none_or(|s| s.matches(&Candidate::new(&e.message, deliveries))) {
                    page.push_back(Delivery::new(e.message.clone(), deliveries));
                    taken += 1;
                }
                if taken >= max || looked >= BROWSE_SCAN {
                    return;
                }
            }
            *walk = match level.checked_sub(1) {
                Some(lower) => Walk::Levels { level: lower, after: 0 },
                None if state.tail.count > 0 => Walk::Tail(TailScan {
                    store: self.key.clone(),
                    after: state.tail.after,
                    until: state.tail.until(),
                    selector: selector.cloned(),
                    now,
                }),
                None => Walk::Done,
            };
        }
    }

    /// Messages waiting or scheduled, the tail included (not counting those handed to
    /// consumers).
    pub fn depth(&self) -> usize {
        let state = self.state();
        state.ready + state.scheduled.len() + state.tail.count
    }


    /// Marks the queue deleted and takes every message it held, for the caller to
    /// remove from the journal. Consumers still attached see nothing more.
    pub fn delete(&self) -> Vec<Entry> {
        let mut state = self.state();
        state.deleted = true;
        let mut all: Vec<Entry> = Vec::with_capacity(state.ready);
        for level in state.levels.iter_mut() {
            all.extend(level.drain(..));
        }
        all.extend(state.scheduled.drain().map(|s| s.0.entry));
        state.ready = 0;
        state.tail = Tail::default();
        self.update_hints(&state);
        for slot in &state.consumers {
            let mut inbox = slot.link.inbox();
            all.extend(inbox.buf.drain(..));
        }
        all
    }

    pub fn is_deleted(&self) -> bool {
        self.state().deleted
    }
}

pub(crate) fn wake_all(links: &[Arc<ConsumerLink>]) {
    for link in links {
        link.wake();
    }
}

pub(crate) fn poke_all(links: &[Arc<ConsumerLink>]) {
    for link in links {
        link.poke();
    }
}

/// Locks a mutex, ignoring poisoning: every critical section in this crate leaves its
/// data consistent before anything that could panic, so a poisoned lock's data is sound.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
