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
//! Locking: the queue's state lock is taken before a consumer's inbox lock, never the
//! other way round. Both are std mutexes held only for in-memory work; nothing blocks or
//! calls out while holding them.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use crate::destination::Destination;
use crate::journal::StoreKey;
use crate::message::{Candidate, DeliveryMode, Message};
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
    /// Paging: the body was dropped from memory. `message` then holds the headers and
    /// properties only, and the whole message is read back from the journal under `key`
    /// (see `Broker::load_message`).
    pub paged: bool,
    /// Paging: the resident-memory charge of the body, shared by the entry's copies and
    /// released with the last of them.
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
    pub cond: Condvar,
    /// Threads blocked on `cond`; changed only under the inbox lock, so a thread that
    /// filled the inbox and then finds zero knows nobody needs a (costly) futex wake.
    pub waiters: AtomicU32,
    wakeup: Mutex<Option<Wakeup>>,
    has_wakeup: AtomicBool,
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
            wakeup: Mutex::new(None),
            has_wakeup: AtomicBool::new(false),
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
        *slot = wakeup;
    }

    /// Tells whoever waits on this consumer that something outside its inbox changed.
    pub fn poke(&self) {
        self.inbox().poked = true;
        self.wake();
    }

    /// Tells whoever waits on this consumer that its inbox has something.
    pub fn wake(&self) {
        if self.waiters.load(Ordering::Acquire) > 0 {
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

#[derive(Default)]
struct State {
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
    /// Ready messages, readable without the lock; only a hint.
    ready_hint: AtomicUsize,
    pub counters: Counters,
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
            counters: Counters::default(),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
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
        self.ready_hint.store(state.ready, Ordering::Relaxed);
    }

    /// True when messages may be waiting in the levels.
    pub fn has_ready(&self) -> bool {
        self.ready_hint.load(Ordering::Relaxed) > 0
    }

    pub fn add_consumer(&self, link: Arc<ConsumerLink>) {
        let mut state = self.state();
        let epoch = state.epoch;
        state.consumers.push(Slot { link, epoch, rejected: [0; LEVELS] });
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
        self.ready_hint.store(state.ready, Ordering::Relaxed);
        state.consumers.iter().map(|slot| slot.link.clone()).collect()
    }

    /// Moves waiting messages into `link`'s inbox, up to its credit. Returns the expired
    /// messages it came across, which the caller disposes of.
    pub fn fill(&self, link: &ConsumerLink, now: i64) -> Vec<Entry> {
        let mut expired = Vec::new();
        let mut state = self.state();
        if state.ready == 0 {
            return expired;
        }
        if let Some(at) = state.consumers.iter().position(|s| s.link.id == link.id) {
            self.fill_slot(&mut state, at, now, &mut expired);
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
        self.ready_hint.store(state.ready, Ordering::Relaxed);
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
        self.ready_hint.store(state.ready, Ordering::Relaxed);
        expired
    }

    /// The messages a browser sees: waiting, unexpired, in delivery order. Paged
    /// entries come without their body; the browser loads it.
    pub fn snapshot(&self, selector: Option<&Selector>, now: i64) -> Vec<Entry> {
        let state = self.state();
        state
            .levels
            .iter()
            .rev()
            .flatten()
            .filter(|e| !e.message.is_expired_at(now))
            .filter(|e| selector.is_none_or(|s| s.matches(&Candidate::new(&e.message, e.deliveries + 1))))
            .cloned()
            .collect()
    }

    /// Messages waiting or scheduled (not counting those handed to consumers).
    pub fn depth(&self) -> usize {
        let state = self.state();
        state.ready + state.scheduled.len()
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
        self.ready_hint.store(0, Ordering::Relaxed);
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

fn poke_all(links: &[Arc<ConsumerLink>]) {
    for link in links {
        link.poke();
    }
}

/// Locks a mutex, ignoring poisoning: every critical section in this crate leaves its
/// data consistent before anything that could panic, so a poisoned lock's data is sound.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
