//! Who commits, and when: group commit by the waiting threads themselves.
//!
//! Units wait in one queue. A thread that waits for its unit and finds nobody
//! committing becomes the leader: it takes everything queued, commits it as one batch
//! through the [`Writer`], and wakes the other waiters, one of whom leads the next batch
//! if its unit came too late for this one. So a lone producer commits on its own thread,
//! with no hand-off to a writer thread and back (each a wake-up costing tens of
//! microseconds), and concurrent producers still share fsyncs: whatever gathers while one
//! batch syncs goes into the next, and a batch waits briefly for the writers of the last
//! one ([`Queue::gathering`]).
//!
//! Units that nobody waits for (relaxed acknowledgements) ride along with the next
//! batch. The journal's own thread commits them when no batch comes within a tick, and
//! looks after what has no waiter at all: units blocked for space whose time is up, and
//! giving free pages back when idle.

use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::task::{Context, Poll, Waker};
use std::thread::Thread;
use std::time::{Duration, Instant};

use super::{Request, Writer, MAX_BATCH, VACUUM_EVERY};
use crate::journal::Error;

/// How long a unit nobody waits for may wait for a batch before the journal's thread
/// commits it.
const TICK: Duration = Duration::from_millis(1);

/// The longest a batch waits for more units after the last one ended (see
/// [`Queue::gathering`]).
const MAX_GATHER: Duration = Duration::from_millis(1);

/// Where a unit's outcome is left for its owner.
pub(super) type Outcome = OnceLock<Result<(), Error>>;

/// The queue and the one connection: the writer is used only by the leader.
pub(super) struct Group {
    queue: Mutex<Queue>,
    /// Signalled when a batch ends, for [`Group::with_writer`].
    finished: Condvar,
    /// Wakes the journal's thread.
    tick: Condvar,
    /// `None` once closed. Locked only by the leader, so never contended.
    writer: Mutex<Option<Writer>>,
}

#[derive(Default)]
struct Queue {
    requests: VecDeque<Request>,
    /// A leader is committing (it holds the writer).
    committing: bool,
    closed: bool,
    /// Requests ever queued and ever taken: the journal's thread tells by them whether a
    /// request has waited a whole tick.
    queued: u64,
    taken: u64,
    /// Units blocked for space may go through now (the writer's `retry_parked`).
    retry: bool,
    /// When the first unit blocked for space gives up.
    deadline: Option<Instant>,
    /// The journal's thread sleeps with nothing queued: the next request wakes it.
    asleep: bool,
    /// Units queued that someone waits for (not relaxed).
    strict: usize,
    /// How many writers seem active: the strict units of the last batch and those
    /// queued while it committed.
    expected: usize,
    /// Until when the next batch waits for them: the last batch's end plus its commit
    /// time, at most [`MAX_GATHER`].
    gather_until: Option<Instant>,
    /// Threads waiting for their unit, each parked until it is done or it should lead.
    /// Waking only those (not every waiter at each batch's end) spares the others a
    /// wake-up, and the queue's lock its contention.
    waiters: Vec<Waiter>,
    /// Threads in [`Group::with_writer`] waiting for a batch to end.
    exclusive: usize,
}

struct Waiter {
    outcome: Arc<Outcome>,
    wake: Wake,
}

/// How a waiter is woken.
#[derive(Clone)]
enum Wake {
    /// A blocked thread ([`Group::wait`]): it may lead a batch itself.
    Thread(Thread),
    /// A task polling ([`Group::poll_wait`]): it cannot lead, so the journal's thread
    /// leads for it.
    Task(Waker),
}

impl Wake {
    fn wake(&self) {
        match self {
            Wake::Thread(thread) => thread.unpark(),
            Wake::Task(waker) => waker.wake_by_ref(),
        }
    }
}

impl Queue {
    fn has_work(&self) -> bool {
        !self.requests.is_empty() || self.retry
    }

    /// Until when the next batch should wait for more units, if it should: when the
    /// last batch carried more waiting units than are queued now, the writers of that
    /// batch are busy queueing their next ones, and a batch without them would leave
    /// them for a commit of their own. The writer whose unit completes the count leads.
    fn gathering(&self, now: Instant) -> Option<Instant> {
        let until = self.gather_until?;
        (self.strict > 0 && self.strict < self.expected && now < until).then_some(until)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

impl Group {
    pub(super) fn new(writer: Writer) -> Group {
        Group {
            queue: Mutex::new(Queue::default()),
            finished: Condvar::new(),
            tick: Condvar::new(),
            writer: Mutex::new(Some(writer)),
        }
    }

    pub(super) fn is_closed(&self) -> bool {
        lock(&self.queue).closed
    }

    /// Queues a request behind those already queued.
    pub(super) fn submit(&self, request: Request) -> Result<(), Error> {
        let mut q = lock(&self.queue);
        if q.closed {
            return Err(Error::Closed);
        }
        if matches!(&request, Request::Write(unit) if !unit.relaxed) {
            q.strict += 1;
        }
        q.requests.push_back(request);
        q.queued += 1;
        if q.asleep {
            q.asleep = false;
            self.tick.notify_one();
        }
        Ok(())
    }

    /// Blocks until the unit's outcome is known, leading batches while nobody else does.
    pub(super) fn wait(&self, outcome: &Arc<Outcome>) -> Result<(), Error> {
        let mut registered = false;
        loop {
            // Without the lock: the leader that set the outcome takes this waiter off
            // the list itself (`finish`), so a thread woken with its unit done need not
            // contend for the queue with the other writers it woke.
            if let Some(result) = outcome.get() {
                return result.clone();
            }
            let mut q = lock(&self.queue);
            if let Some(result) = outcome.get() {
                return result.clone();
            }
            let mut until = None;
            if !q.committing && q.has_work() {
                match q.gathering(Instant::now()) {
                    Some(deadline) => until = Some(deadline),
                    None => {
                        self.lead(q);
                        continue;
                    }
                }
            }
            if q.closed && !q.committing {
                // Closing fails the units it does not commit; this one was lost.
                if registered {
                    q.waiters.retain(|w| !Arc::ptr_eq(&w.outcome, outcome));
                }
                return Err(Error::Closed);
            }
            if !registered {
                q.waiters.push(Waiter { outcome: outcome.clone(), wake: Wake::Thread(std::thread::current()) });
                registered = true;
            }
            drop(q);
            // Unparked by the leader whose batch carried the unit, or to lead the next
            // one; while the next batch gathers, until its time is up (the writer whose
            // unit completes it leads at once, without waking anyone). A wake-up for
            // nothing just looks again.
            match until {
                Some(deadline) => std::thread::park_timeout(deadline.saturating_duration_since(Instant::now())),
                None => std::thread::park(),
            }
        }
    }

    /// The unit's outcome if it is known; else the task is woken when it is. A task
    /// cannot lead, so the journal's thread commits for it without waiting a tick.
    pub(super) fn poll_wait(&self, outcome: &Arc<Outcome>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        if let Some(result) = outcome.get() {
            return Poll::Ready(result.clone());
        }
        let mut q = lock(&self.queue);
        let at = q.waiters.iter().position(|w| Arc::ptr_eq(&w.outcome, outcome));
        if let Some(result) = outcome.get() {
            if let Some(at) = at {
                q.waiters.swap_remove(at);
            }
            return Poll::Ready(result.clone());
        }
        if q.closed && !q.committing && !q.has_work() {
            if let Some(at) = at {
                q.waiters.swap_remove(at);
            }
            return Poll::Ready(Err(Error::Closed));
        }
        match at {
            Some(at) => match &mut q.waiters[at].wake {
                Wake::Task(waker) => waker.clone_from(cx.waker()),
                wake => *wake = Wake::Task(cx.waker().clone()),
            },
            None => q.waiters.push(Waiter { outcome: outcome.clone(), wake: Wake::Task(cx.waker().clone()) }),
        }
        if !q.committing {
            self.tick.notify_one();
        }
        Poll::Pending
    }

    /// Commits one batch of what is queued, as the leader, then wakes the waiters it
    /// finished and, if more work is queued, one to lead the next batch. Called with
    /// nobody committing; returns without the lock, with nobody committing.
    fn lead(&self, mut q: MutexGuard<'_, Queue>) {
        q.committing = true;
        let n = q.requests.len().min(MAX_BATCH);
        let batch: Vec<Request> = q.requests.drain(..n).collect();
        let strict = batch.iter().filter(|r| matches!(r, Request::Write(unit) if !unit.relaxed)).count();
        q.taken += n as u64;
        q.strict -= strict;
        drop(q);
        let mut writer = lock(&self.writer);
        let (retry, deadline, took) = match &mut *writer {
            Some(w) => match catch_unwind(AssertUnwindSafe(|| w.process(batch))) {
                Ok(()) => (w.retry_parked, w.parked_deadline(), w.last_commit),
                Err(_) => {
                    self.break_down(&mut writer);
                    (false, None, Duration::ZERO)
                }
            },
            None => {
                // Each unit dropped tells its owner `Closed`.
                drop(batch);
                (false, None, Duration::ZERO)
            }
        };
        drop(writer);
        let mut q = lock(&self.queue);
        q.committing = false;
        q.retry = retry;
        q.deadline = deadline;
        if strict > 0 {
            // The writers this batch carried, and those whose units came while it
            // committed: each writer waits for its unit, so that many are active. A
            // batch that missed some then waits for them next time.
            q.expected = strict + q.strict;
            q.gather_until = Some(Instant::now() + took.min(MAX_GATHER));
        }
        let woken = self.finish(&mut q);
        drop(q);
        // Outside the lock, so the woken threads do not find it taken.
        for wake in woken {
            wake.wake();
        }
    }

    /// After a panic in the writer, a bug rather than a storage failure: the journal
    /// closes, so nothing more is written, and every unit not yet committed (queued,
    /// blocked for space, or in the batch that panicked) fails with `Closed`.
    fn break_down(&self, writer: &mut Option<Writer>) {
        tracing::error!("the journal writer panicked; the journal is closed");
        // Dropping the writer drops its parked units, which fail as they go.
        *writer = None;
        let queued = {
            let mut q = lock(&self.queue);
            q.closed = true;
            q.strict = 0;
            std::mem::take(&mut q.requests)
        };
        // Each unit dropped tells its owner `Closed`.
        drop(queued);
        self.tick.notify_all();
    }

    /// At the end of a batch: takes the waiters whose units are done off the list and
    /// returns them to be woken, with one more to lead the next batch if there is work;
    /// nobody is committing now.
    fn finish(&self, q: &mut Queue) -> Vec<Wake> {
        let mut successor = q.has_work() || q.closed;
        let mut tasks = false;
        let mut woken = Vec::new();
        q.waiters.retain(|w| {
            if w.outcome.get().is_some() {
                woken.push(w.wake.clone());
                return false;
            }
            match &w.wake {
                Wake::Thread(thread) if successor => {
                    woken.push(Wake::Thread(thread.clone()));
                    successor = false;
                }
                Wake::Thread(_) => {}
                Wake::Task(_) => tasks = true,
            }
            true
        });
        if successor && tasks {
            self.tick.notify_one();
        }
        if q.closed {
            // Units lost with a closed journal: their tasks look again and see it.
            woken.extend(q.waiters.iter().map(|w| w.wake.clone()));
        }
        if q.exclusive > 0 {
            self.finished.notify_all();
        }
        woken
    }

    /// Whether a task waits for a unit: the journal's thread then leads at once.
    fn tasks_waiting(q: &Queue) -> bool {
        q.waiters.iter().any(|w| matches!(w.wake, Wake::Task(_)))
    }

    /// Runs `f` on the writer once everything queued before is committed, with nobody
    /// else committing meanwhile. `None` once closed.
    pub(super) fn with_writer<R>(&self, f: impl FnOnce(&mut Writer) -> R) -> Option<R> {
        let mut q = lock(&self.queue);
        loop {
            if q.committing {
                q.exclusive += 1;
                q = self.finished.wait(q).unwrap_or_else(|p| p.into_inner());
                q.exclusive -= 1;
            } else if !q.requests.is_empty() {
                self.lead(q);
                q = lock(&self.queue);
            } else {
                break;
            }
        }
        q.committing = true;
        drop(q);
        let mut writer = lock(&self.writer);
        let result = match writer.as_mut().map(|w| catch_unwind(AssertUnwindSafe(|| f(w)))) {
            Some(Ok(result)) => Some(result),
            Some(Err(_)) => {
                self.break_down(&mut writer);
                None
            }
            None => None,
        };
        drop(writer);
        let mut q = lock(&self.queue);
        q.committing = false;
        let woken = self.finish(&mut q);
        drop(q);
        for wake in woken {
            wake.wake();
        }
        result
    }

    /// The journal's thread: commits what nobody leads, expires units blocked for space,
    /// and gives free pages back when idle. Returns once closed.
    pub(super) fn run(&self) {
        let mut q = lock(&self.queue);
        // Requests queued up to the last look: one still untaken has waited a tick.
        let mut seen = q.queued;
        let mut last_maintained = Instant::now();
        loop {
            if q.closed {
                return;
            }
            let now = Instant::now();
            let overdue = q.taken < seen && !q.requests.is_empty();
            let expiring = q.deadline.is_some_and(|d| d <= now);
            let urgent = !q.requests.is_empty() && Self::tasks_waiting(&q);
            if !q.committing && (overdue || expiring || urgent || q.retry) {
                // No gathering here: the tasks this thread commits for turn their next
                // units around on the async threads, which are busy replying meanwhile,
                // so waiting for them leaves the disk idle, while committing at once
                // lets their turnaround overlap this fsync.
                self.lead(q);
                q = lock(&self.queue);
                // `seen` stays as it was: units queued while this batch committed have
                // not waited a tick yet, and the next batch should carry them.
                continue;
            }
            let quiet = seen == q.queued && !q.has_work() && !q.committing;
            seen = q.queued;
            let mut timeout = TICK;
            if quiet {
                if now - last_maintained >= VACUUM_EVERY {
                    // Idle: a good moment to give every free page back.
                    drop(q);
                    self.with_writer(|w| w.maintain(None));
                    last_maintained = Instant::now();
                    q = lock(&self.queue);
                    continue;
                }
                // Asleep until a request comes or it is time to look again.
                q.asleep = true;
                timeout = VACUUM_EVERY - (now - last_maintained);
            }
            if let Some(d) = q.deadline {
                timeout = timeout.min(d.saturating_duration_since(now));
            }
            q = self.tick.wait_timeout(q, timeout).unwrap_or_else(|p| p.into_inner()).0;
            q.asleep = false;
        }
    }

    /// Refuses new requests, commits those queued, and closes the writer: units blocked
    /// for space fail, the WAL is checkpointed. The journal's thread stops.
    pub(super) fn close(&self) {
        {
            let mut q = lock(&self.queue);
            q.closed = true;
            self.tick.notify_all();
            // Waiters whose units were lost look again and see it closed.
            for w in &q.waiters {
                w.wake.wake();
            }
        }
        self.with_writer(|w| w.close());
        let writer = lock(&self.writer).take();
        drop(writer);
    }
}

/// A unit's handle for its owner: see [`crate::journal::Commit`].
pub(crate) struct Ticket {
    group: Arc<Group>,
    outcome: Arc<Outcome>,
}

impl Ticket {
    pub(super) fn new(group: Arc<Group>, outcome: Arc<Outcome>) -> Ticket {
        Ticket { group, outcome }
    }

    /// The outcome, if the unit has been committed (or failed).
    pub(crate) fn poll(&self) -> Option<Result<(), Error>> {
        self.outcome.get().cloned()
    }

    pub(crate) fn wait(&self) -> Result<(), Error> {
        self.group.wait(&self.outcome)
    }

    pub(crate) fn poll_wait(&self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.group.poll_wait(&self.outcome, cx)
    }
}
