//! Sessions: acknowledgement modes, local transactions, and what a session holds
//! unacknowledged.
//!
//! A session's state sits behind its own mutex, which is uncontended in a well-behaved
//! JMS application (a session belongs to one thread) and keeps a misbehaving one safe.
//! A blocked `receive` waits on its consumer's inbox, never on the session lock.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::broker::{now_millis, Applying, Broker, Route};
use crate::destination::Destination;
use crate::error::{Error, ErrorKind, Result};
use crate::journal::Commit;
use crate::message::{Delivery, Message};
use crate::queue::{lock, ConsumerLink, Entry, MessageQueue};
use crate::topic::Subscription;

/// How a session acknowledges what it receives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AckMode {
    /// Each message is acknowledged as `receive` returns it.
    Auto,
    /// `acknowledge()` acknowledges everything the session has received.
    Client,
    /// Like `Auto`; duplicates after a failure are allowed.
    DupsOk,
    /// Sends and receives take effect on `commit()`, are undone on `rollback()`.
    Transacted,
}

impl AckMode {
    /// The `javax.jms.Session` constants: 0 transacted, 1 auto, 2 client, 3 dups-ok.
    pub fn from_jms(value: i32) -> Result<AckMode> {
        match value {
            0 => Ok(AckMode::Transacted),
            1 => Ok(AckMode::Auto),
            2 => Ok(AckMode::Client),
            3 => Ok(AckMode::DupsOk),
            other => Err(Error::invalid_argument(format!("{other} is not a JMS acknowledgement mode"))),
        }
    }

    /// Whether the session acknowledges a message itself once the application has it
    /// (AUTO_ACKNOWLEDGE, DUPS_OK_ACKNOWLEDGE): as `receive` returns it, or as the
    /// MessageListener that got it returns. In the other modes `acknowledge()` or
    /// `commit()` does. The one statement of this rule; the bindings ask it too.
    pub fn acknowledges_automatically(self) -> bool {
        matches!(self, AckMode::Auto | AckMode::DupsOk)
    }

    pub fn jms_value(self) -> i32 {
        match self {
            AckMode::Transacted => 0,
            AckMode::Auto => 1,
            AckMode::Client => 2,
            AckMode::DupsOk => 3,
        }
    }
}

/// How long a receive may wait. A timeout turns into a deadline only once the receive
/// has to wait: reading the clock costs more than taking a message that is ready.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Wait {
    Forever,
    For(Duration),
    Until(Instant),
}

impl Wait {
    /// receiveNoWait: look once, never sleep.
    pub const NO_WAIT: Wait = Wait::For(Duration::ZERO);

    /// Whether this is receiveNoWait's: never sleep.
    fn is_no_wait(&self) -> bool {
        matches!(self, Wait::For(d) if d.is_zero())
    }

    /// `None` waits forever.
    pub fn from_timeout(timeout: Option<Duration>) -> Wait {
        timeout.map_or(Wait::Forever, Wait::For)
    }

    /// The deadline, fixed on first use; `None` is forever (so is a timeout too large
    /// for the clock).
    fn deadline(&mut self) -> Option<Instant> {
        if let Wait::For(timeout) = *self {
            *self = Instant::now().checked_add(timeout).map_or(Wait::Forever, Wait::Until);
        }
        match *self {
            Wait::Until(deadline) => Some(deadline),
            Wait::Forever | Wait::For(_) => None,
        }
    }
}

/// The state a connection shares with its sessions.
pub(crate) struct ConnectionCore {
    pub id: u64,
    pub broker: Broker,
    pub started: AtomicBool,
    pub closed: AtomicBool,
    pub client_id: Mutex<Option<String>>,
    pub prefetch: u32,
}

pub(crate) struct ConsumerCore {
    pub link: Arc<ConsumerLink>,
    pub queue: Arc<MessageQueue>,
    pub subscription: Option<Arc<Subscription>>,
    pub prefetch: u32,
    pub closed: AtomicBool,
}

pub(crate) struct SessionCore {
    pub mode: AckMode,
    pub connection: Arc<ConnectionCore>,
    /// Mirrors `SessionState::closed` for the lock-free check on every call.
    closed: AtomicBool,
    state: Mutex<SessionState>,
}

#[derive(Default)]
struct SessionState {
    closed: bool,
    /// Delivered to the application and not yet acknowledged (CLIENT and transacted).
    unacked: Vec<(Arc<MessageQueue>, Entry)>,
    /// Sends held until commit (transacted).
    pending: Vec<(Destination, Arc<Message>)>,
    /// Pushed to a remote client and not yet handed to its application, by tag.
    in_flight: VecDeque<InFlight>,
    consumers: Vec<Arc<ConsumerCore>>,
    /// Journal commits of automatic acknowledgements (AUTO_ACKNOWLEDGE, DUPS_OK batches,
    /// a remote consumer's receipts) under way, oldest first. Nobody waits for them: the
    /// journal has recorded each before it was started (a killed process keeps it), and
    /// they are kept until known to be finished, so that none's failure goes
    /// unreported, at most [`MAX_ACKS_UNDER_WAY`] of them.
    ack_commits: VecDeque<Commit>,
    /// DUPS_OK_ACKNOWLEDGE: messages handed out whose acknowledgements wait to be
    /// journaled together (at most [`DUPS_OK_BATCH`]).
    lazy_acks: Vec<(Arc<MessageQueue>, Entry)>,
}

/// How many times a receive looks at an empty inbox, yielding in between, before it
/// sleeps.
const SPIN_LOOKS: u32 = 8;

/// After looking failed, a receive sleeps at once until this many sleeps have passed,
/// then tries looking again.
const SPIN_PROBE_EVERY: u32 = 16;

/// DUPS_OK_ACKNOWLEDGE records acknowledgements in batches of this many messages, and
/// whenever the session's consumer finds no message ready, and on recover and close. So
/// after a crash at most this many messages per session come back as duplicates, which
/// that mode allows.
pub const DUPS_OK_BATCH: usize = 100;

/// A session that has this many acknowledgement commits under way waits for the oldest
/// before it goes on: what it holds stays bounded, and so does what a power loss can
/// return.
const MAX_ACKS_UNDER_WAY: usize = 1024;

/// A message a server pushed to a remote consumer's buffer.
struct InFlight {
    tag: u64,
    consumer: u64,
    queue: Arc<MessageQueue>,
    entry: Entry,
}

impl SessionCore {
    pub fn new(connection: Arc<ConnectionCore>, mode: AckMode) -> SessionCore {
        SessionCore { mode, connection, closed: AtomicBool::new(false), state: Mutex::default() }
    }

    pub fn broker(&self) -> &Broker {
        &self.connection.broker
    }

    pub fn check_open(&self) -> Result<()> {
        if self.closed.load(Ordering::Acquire) || self.connection.closed.load(Ordering::Acquire) {
            return Err(Error::closed("session"));
        }
        Ok(())
    }

    pub fn add_consumer(&self, consumer: Arc<ConsumerCore>) -> Result<()> {
        let mut state = lock(&self.state);
        if state.closed {
            drop(state);
            self.detach(&consumer);
            return Err(Error::closed("session"));
        }
        state.consumers.push(consumer);
        Ok(())
    }

    pub fn consumers(&self) -> Vec<Arc<ConsumerCore>> {
        lock(&self.state).consumers.clone()
    }

    // ---- sending ----

    pub fn send(&self, destination: Destination, message: Arc<Message>, route: Option<&Route>) -> Result<()> {
        if self.mode == AckMode::Transacted {
            let mut state = lock(&self.state);
            if state.closed {
                return Err(Error::closed("session"));
            }
            state.pending.push((destination, message));
            return Ok(());
        }
        self.check_open()?;
        self.broker().send(&destination, message, self.connection.id, route)
    }

    /// [`SessionCore::send`], with the journal write of a PERSISTENT message started and
    /// not waited for (`Some`); everything else is done at once (`None`).
    pub fn send_started(
        &self,
        destination: Destination,
        message: Arc<Message>,
        route: Option<&Route>,
    ) -> Result<Option<Applying>> {
        if self.mode == AckMode::Transacted {
            return self.send(destination, message, route).map(|()| None);
        }
        self.check_open()?;
        self.broker().send_started(&destination, message, self.connection.id, route)
    }

    // ---- receiving ----

    /// Waits for the consumer's next message as long as `wait` says; `Wait::For` a zero
    /// duration is receiveNoWait. With `hold`, the automatic modes keep the message
    /// unacknowledged until [`SessionCore::acknowledge_held`] (or redeliver it on
    /// `recover`), as a MessageListener's delivery needs.
    pub fn receive(&self, consumer: &ConsumerCore, wait: Wait, hold: bool) -> Result<Option<Delivery>> {
        let mut next = None;
        if self.mode == AckMode::DupsOk && !lock(&self.state).lazy_acks.is_empty() {
            // Acknowledgements gathered for a batch leave before the consumer waits.
            next = self.next_entry(consumer, Wait::NO_WAIT)?;
            if next.is_none() {
                self.flush_lazy_acks()?;
            }
        }
        if next.is_none() {
            next = self.next_entry(consumer, wait)?;
        }
        match next {
            Some(entry) => self.deliver(consumer, entry, hold).map(Some),
            None => Ok(None),
        }
    }

    /// The server's side of a remote consumer: the next message ready now, pushed to the
    /// client's buffer and held in flight under the returned tag until [`Self::consumed`]
    /// says the application received it. Nothing is acknowledged here.
    pub fn take_for_remote(&self, consumer: &ConsumerCore) -> Result<Option<(u64, Delivery)>> {
        let next = if consumer.prefetch == 0 {
            self.pull_for_remote(consumer)?
        } else {
            self.next_entry(consumer, Wait::NO_WAIT)?
        };
        let Some(mut entry) = next else { return Ok(None) };
        let message = entry.message.clone();
        entry.deliveries += 1;
        // Recorded as it leaves for the client, not when the client reports it consumed:
        // that report travels lazily, and a server killed meanwhile must still flag the
        // message redelivered. A message pushed but never handed to the application is
        // flagged too after a crash, which JMSRedelivered's "likely, not guaranteed"
        // allows.
        self.broker().record_delivery(&consumer.queue, &entry);
        let delivery = Delivery::new(message, entry.deliveries);
        let tag = self.broker().next_id();
        let mut state = lock(&self.state);
        if state.closed {
            drop(state);
            entry.deliveries -= 1;
            consumer.queue.give_back(vec![entry]);
            return Err(Error::closed("session"));
        }
        state.in_flight.push_back(InFlight { tag, consumer: consumer.link.id, queue: consumer.queue.clone(), entry });
        Ok(Some((tag, delivery)))
    }

    /// The remote application received the in-flight message `tag`: it is acknowledged
    /// now (AUTO, DUPS_OK) or held unacknowledged (CLIENT, transacted, or `hold` for a
    /// listener), as `receive` would have done.
    pub fn consumed(&self, tag: u64, hold: bool) -> Result<()> {
        let taken = {
            let mut state = lock(&self.state);
            // Usually the oldest: the application takes messages in order.
            let at = state.in_flight.iter().position(|f| f.tag == tag);
            at.and_then(|at| state.in_flight.remove(at))
        };
        let Some(f) = taken else {
            // Returned meanwhile by recover, rollback or close: nothing left to do.
            return Ok(());
        };
        match self.mode {
            mode if mode.acknowledges_automatically() && !hold => {
                // The client handed the message out without waiting for the server, so
                // nothing waits here either (see `Broker::acknowledge_started`). The
                // journal applies units in order, so whatever this connection is
                // answered later (a send, a commit, a close) is durable only once this
                // acknowledgement is. Close and recover wait for the last one.
                self.start_acks(vec![(f.queue, f.entry)]);
                self.reap_acks()
            }
            _ => {
                lock(&self.state).unacked.push((f.queue, f.entry));
                Ok(())
            }
        }
    }

    /// A remote pull consumer asked for one message: it gets the next one ready, or a
    /// credit of one that stays granted (so the queue dispatches the next arrival to
    /// it and wakes it) until a message comes.
    fn pull_for_remote(&self, consumer: &ConsumerCore) -> Result<Option<Entry>> {
        if consumer.closed.load(Ordering::Acquire) {
            return Err(Error::closed("consumer"));
        }
        self.check_open()?;
        if !self.connection.started.load(Ordering::Acquire) {
            return Ok(None);
        }
        let link = &consumer.link;
        loop {
            let now = now_millis();
            {
                let mut inbox = link.inbox();
                if inbox.buf.is_empty() && inbox.credit == 0 {
                    inbox.credit = 1;
                }
            }
            self.fill(consumer, now);
            let entry = link.inbox().buf.pop_front();
            match entry {
                None => return Ok(None),
                Some(entry) if entry.message.is_expired_at(now) => self.broker().expire(&consumer.queue, vec![entry]),
                Some(entry) => return Ok(Some(entry)),
            }
        }
    }

    /// Returns in-flight messages (all, or one consumer's) to their queues as never
    /// delivered.
    fn return_in_flight(&self, consumer: Option<u64>) {
        let taken: VecDeque<InFlight> = {
            let mut state = lock(&self.state);
            let (back, keep): (VecDeque<InFlight>, VecDeque<InFlight>) =
                std::mem::take(&mut state.in_flight).into_iter().partition(|f| consumer.is_none_or(|c| c == f.consumer));
            state.in_flight = keep;
            back
        };
        for mut f in taken {
            f.entry.deliveries = f.entry.deliveries.saturating_sub(1);
            f.queue.give_back(vec![f.entry]);
        }
    }

    /// Waits for the consumer's next entry until `deadline`, without handing it out.
    fn next_entry(&self, consumer: &ConsumerCore, mut wait: Wait) -> Result<Option<Entry>> {
        let link = &consumer.link;
        let pull = consumer.prefetch == 0;
        let refill_at = (consumer.prefetch / 4).max(1);
        let may_sleep = !wait.is_no_wait();
        let mut filled = false;
        loop {
            if consumer.closed.load(Ordering::Acquire) {
                return Err(Error::closed("consumer"));
            }
            self.check_open()?;
            let started = self.connection.started.load(Ordering::Acquire);
            // Reading the clock costs more than the rest of a receive; only messages
            // that can expire need it.
            let mut clock = None;
            let mut now = || *clock.get_or_insert_with(now_millis);
            let mut expired = Vec::new();
            let mut got = None;
            let mut refill = false;
            {
                let mut inbox = link.inbox();
                if started {
                    while let Some(entry) = inbox.buf.pop_front() {
                        if !pull {
                            inbox.credit += 1;
                        }
                        if entry.message.expiration != 0 && entry.message.is_expired_at(now()) {
                            expired.push(entry);
                        } else {
                            got = Some(entry);
                            break;
                        }
                    }
                    refill = inbox.credit >= refill_at;
                }
                if got.is_none() && pull && started && inbox.credit == 0 {
                    inbox.credit = 1;
                }
            }
            self.broker().expire(&consumer.queue, expired);
            if let Some(entry) = got {
                if refill && consumer.queue.has_ready() {
                    self.fill(consumer, now());
                }
                return Ok(Some(entry));
            }
            if started && !filled {
                // Always look in the queue itself before sleeping: a message may have
                // been stored there while this consumer had no credit.
                filled = true;
                self.fill(consumer, now());
                continue;
            }
            // A producer on another thread often delivers within a few microseconds:
            // look a few times, giving the processor away between looks, before paying
            // for sleeping and being woken. Not when messages come slower than that
            // (persistent ones wait for a disk sync): then each look is a wasted
            // context switch taken from the threads doing the work.
            let misses = link.spin_misses.load(Ordering::Relaxed);
            let spun = started && may_sleep && misses.is_multiple_of(SPIN_PROBE_EVERY);
            if spun {
                let mut looks = 0;
                while looks < SPIN_LOOKS && link.inbox().buf.is_empty() {
                    std::thread::yield_now();
                    looks += 1;
                }
            }
            let mut inbox = link.inbox();
            if inbox.closed {
                return Err(Error::closed("consumer"));
            }
            if (!inbox.buf.is_empty() && self.connection.started.load(Ordering::Acquire)) || inbox.poked {
                if spun && !inbox.buf.is_empty() {
                    link.spin_misses.store(0, Ordering::Relaxed);
                }
                inbox.poked = false;
                filled = false;
                continue;
            }
            if started && may_sleep {
                // Looking did not pay (or was skipped): sleep, and count the miss.
                link.spin_misses.store(misses.wrapping_add(1), Ordering::Relaxed);
            }
            let timed_out = match wait.deadline() {
                None => {
                    drop(link.sleep(inbox, None));
                    false
                }
                Some(deadline) => {
                    let now = Instant::now();
                    if now >= deadline {
                        drop(inbox);
                        true
                    } else {
                        drop(link.sleep(inbox, Some(deadline - now)));
                        false
                    }
                }
            };
            if timed_out {
                if pull {
                    // Withdraw the credit; a message that slipped in meanwhile is still ours.
                    let mut inbox = link.inbox();
                    match inbox.buf.pop_front() {
                        Some(entry) if started => {
                            drop(inbox);
                            return Ok(Some(entry));
                        }
                        Some(entry) => inbox.buf.push_front(entry),
                        None => {}
                    }
                    inbox.credit = 0;
                }
                return Ok(None);
            }
            filled = false;
        }
    }

    fn fill(&self, consumer: &ConsumerCore, now: i64) {
        let expired = consumer.queue.fill(&consumer.link, now);
        self.broker().expire(&consumer.queue, expired);
    }

    /// Hands an entry to the application, acknowledging it at once in the automatic
    /// modes unless asked to hold it.
    fn deliver(&self, consumer: &ConsumerCore, mut entry: Entry, hold: bool) -> Result<Delivery> {
        let message = entry.message.clone();
        if self.mode.acknowledges_automatically() {
            // An earlier acknowledgement that failed to commit is reported before more
            // messages go out.
            if let Err(e) = self.reap_acks() {
                consumer.queue.give_back(vec![entry]);
                return Err(e);
            }
        }
        entry.deliveries += 1;
        let delivery = Delivery::new(message, entry.deliveries);
        match self.mode {
            // Nothing to journal: acknowledging is counting it.
            AckMode::Auto if !hold && !entry.is_journaled() => self.broker().acknowledged_unjournaled(&consumer.queue),
            AckMode::Auto if !hold => self.start_acks(vec![(consumer.queue.clone(), entry)]),
            AckMode::DupsOk if !hold => self.add_lazy_acks(vec![(consumer.queue.clone(), entry)])?,
            _ => {
                self.broker().record_delivery(&consumer.queue, &entry);
                lock(&self.state).unacked.push((consumer.queue.clone(), entry));
            }
        }
        Ok(delivery)
    }

    // ---- automatic acknowledgement ----

    /// Waits for the acknowledgement commits under way, if any; reports the first failure.
    fn settle_acks(&self) -> Result<()> {
        let commits = std::mem::take(&mut lock(&self.state).ack_commits);
        let mut outcome = Ok(());
        for commit in commits {
            if let Err(e) = commit.wait() {
                outcome = outcome.and(Err(Error::from(e)));
            }
        }
        outcome
    }

    /// Reports the acknowledgement commits finished meanwhile (the first failure), and
    /// waits for the oldest while more than [`MAX_ACKS_UNDER_WAY`] are under way.
    fn reap_acks(&self) -> Result<()> {
        let mut state = lock(&self.state);
        while let Some(commit) = state.ack_commits.pop_front() {
            if state.ack_commits.len() >= MAX_ACKS_UNDER_WAY {
                drop(state);
                commit.wait()?;
                state = lock(&self.state);
                continue;
            }
            match commit.poll() {
                Ok(result) => result?,
                Err(pending) => {
                    state.ack_commits.push_front(pending);
                    break;
                }
            }
        }
        Ok(())
    }

    /// Starts journaling `acks` (see [`Broker::acknowledge_started`]).
    fn start_acks(&self, acks: Vec<(Arc<MessageQueue>, Entry)>) {
        if let Some(commit) = self.broker().acknowledge_started(acks) {
            lock(&self.state).ack_commits.push_back(commit);
        }
    }

    /// DUPS_OK: gathers acknowledgements, starting a batch once [`DUPS_OK_BATCH`] wait.
    fn add_lazy_acks(&self, acks: Vec<(Arc<MessageQueue>, Entry)>) -> Result<()> {
        let full = {
            let mut state = lock(&self.state);
            state.lazy_acks.extend(acks);
            state.lazy_acks.len() >= DUPS_OK_BATCH
        };
        if full {
            self.flush_lazy_acks()?;
        }
        Ok(())
    }

    /// DUPS_OK: starts journaling the gathered acknowledgements.
    fn flush_lazy_acks(&self) -> Result<()> {
        self.reap_acks()?;
        let acks = std::mem::take(&mut lock(&self.state).lazy_acks);
        if !acks.is_empty() {
            self.start_acks(acks);
        }
        Ok(())
    }

    /// Makes every acknowledgement of the automatic modes durable: before recover, close
    /// and a consumer's close.
    fn finish_acks(&self) -> Result<()> {
        self.flush_lazy_acks()?;
        self.settle_acks()
    }

    // ---- acknowledging and transactions ----

    /// CLIENT_ACKNOWLEDGE: acknowledges every message the session has received. In the
    /// other modes there is nothing to do.
    pub fn acknowledge(&self) -> Result<()> {
        self.check_open()?;
        if self.mode != AckMode::Client {
            return Ok(());
        }
        let acks = std::mem::take(&mut lock(&self.state).unacked);
        if acks.is_empty() {
            return Ok(());
        }
        self.broker().apply(Vec::new(), acks, self.connection.id)
    }

    /// AUTO and DUPS_OK: acknowledges the messages received with `hold`, once the
    /// listener that got them has returned.
    pub fn acknowledge_held(&self) -> Result<()> {
        self.check_open()?;
        if !self.mode.acknowledges_automatically() {
            return Ok(());
        }
        let acks = std::mem::take(&mut lock(&self.state).unacked);
        if acks.is_empty() {
            return Ok(());
        }
        if self.mode == AckMode::DupsOk {
            return self.add_lazy_acks(acks);
        }
        if let Err(e) = self.reap_acks() {
            self.return_to_queues(acks);
            return Err(e);
        }
        self.start_acks(acks);
        Ok(())
    }

    pub fn commit(&self) -> Result<()> {
        self.check_open()?;
        if self.mode != AckMode::Transacted {
            return Err(Error::illegal_state("commit() needs a transacted session"));
        }
        let (sends, acks) = {
            let mut state = lock(&self.state);
            (std::mem::take(&mut state.pending), std::mem::take(&mut state.unacked))
        };
        let redeliver: Vec<(Arc<MessageQueue>, Entry)> = acks.clone();
        if let Err(e) = self.broker().apply(sends, acks, self.connection.id) {
            self.return_to_queues(redeliver);
            return Err(Error::new(
                ErrorKind::TransactionRolledBack,
                format!("the transaction was rolled back because the commit failed: {e}"),
            ));
        }
        Ok(())
    }

    pub fn rollback(&self) -> Result<()> {
        self.check_open()?;
        if self.mode != AckMode::Transacted {
            return Err(Error::illegal_state("rollback() needs a transacted session"));
        }
        lock(&self.state).pending.clear();
        self.redeliver_all();
        Ok(())
    }

    /// Stops delivery and starts again with the oldest unacknowledged message.
    pub fn recover(&self) -> Result<()> {
        self.check_open()?;
        if self.mode == AckMode::Transacted {
            return Err(Error::illegal_state("recover() cannot be called on a transacted session; use rollback()"));
        }
        self.finish_acks()?;
        self.redeliver_all();
        Ok(())
    }

    /// Returns what the session's consumers hold undelivered and what the application
    /// holds unacknowledged, so delivery restarts in order from the oldest.
    fn redeliver_all(&self) {
        // Oldest first, so a consumer taking from the queue meanwhile cannot get a later
        // message before an earlier one is back.
        let (consumers, unacked) = {
            let mut state = lock(&self.state);
            (state.consumers.clone(), std::mem::take(&mut state.unacked))
        };
        self.return_to_queues(unacked);
        self.return_in_flight(None);
        for consumer in &consumers {
            let undelivered: Vec<Entry> = {
                let mut inbox = consumer.link.inbox();
                let taken: Vec<Entry> = inbox.buf.drain(..).collect();
                if consumer.prefetch > 0 {
                    inbox.credit += taken.len() as u32;
                }
                taken
            };
            consumer.queue.give_back(undelivered);
        }
    }

    fn return_to_queues(&self, entries: Vec<(Arc<MessageQueue>, Entry)>) {
        let mut by_queue: HashMap<*const MessageQueue, (Arc<MessageQueue>, Vec<Entry>)> = HashMap::new();
        for (queue, entry) in entries {
            by_queue.entry(Arc::as_ptr(&queue)).or_insert_with(|| (queue, Vec::new())).1.push(entry);
        }
        for (_, (queue, entries)) in by_queue {
            self.broker().redeliver(&queue, entries);
        }
    }

    // ---- closing ----

    pub fn close_consumer(&self, consumer: &Arc<ConsumerCore>) {
        if let Err(e) = self.finish_acks() {
            tracing::warn!(cause = %e, "acknowledgements could not be journaled when a consumer closed");
        }
        lock(&self.state).consumers.retain(|c| !Arc::ptr_eq(c, consumer));
        self.detach(consumer);
        self.return_in_flight(Some(consumer.link.id));
    }

    fn detach(&self, consumer: &ConsumerCore) {
        if consumer.closed.swap(true, Ordering::AcqRel) {
            return;
        }
        consumer.queue.remove_consumer(&consumer.link);
        consumer.link.wake();
        if let Some(sub) = &consumer.subscription {
            self.broker().consumer_left(sub);
        }
    }

    /// Closes the session: pending sends are discarded and everything unacknowledged goes
    /// back for redelivery.
    pub fn close(&self) {
        if !self.is_closed() {
            // What the application received in the automatic modes stays received.
            if let Err(e) = self.finish_acks() {
                tracing::warn!(cause = %e, "acknowledgements could not be journaled when a session closed");
            }
        }
        let (consumers, unacked) = {
            let mut state = lock(&self.state);
            if state.closed {
                return;
            }
            state.closed = true;
            self.closed.store(true, Ordering::Release);
            state.pending.clear();
            (std::mem::take(&mut state.consumers), std::mem::take(&mut state.unacked))
        };
        // Oldest first (see `redeliver_all`): what each consumer had prefetched goes
        // back as it detaches.
        self.return_to_queues(unacked);
        self.return_in_flight(None);
        for consumer in &consumers {
            self.detach(consumer);
        }
    }

    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }
}
