//! `tcp://host:port`: the client API spoken to a `herald` server over the wire protocol.
//!
//! Blocking std I/O and two threads per connection, so callers need no async runtime:
//! a writer thread that drains an outgoing buffer (many small frames leave in one
//! write) and sends heartbeats, and a reader thread that routes replies to the waiting
//! caller and deliveries to their consumer's buffer. Each remote consumer buffers what
//! the server pushed (at most its prefetch) and tells the server which messages the
//! application took, which is when they count as received.
//!
//! Reading is leader/follower: a caller about to wait for a frame (a `receive` with
//! nothing buffered, a request waiting for its reply) reads the socket itself when
//! nobody else does, so the frame it waits for wakes it directly instead of waking the
//! reader thread, which then wakes it (on a lightly loaded machine each thread wake-up
//! costs tens of microseconds, a request/reply round trip pays several). The reader
//! thread reads only while someone waits and cannot read, while a consumer has a
//! wake-up hook (its frames must be read at once), or when nobody has read for
//! [`STANDBY`] (so heartbeats, errors and deliveries nobody waits for are still read).

use std::collections::{HashMap, VecDeque};
use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::destination::{Destination, DestinationKind};
use crate::error::{Error, ErrorKind, Result};
use crate::message::{Delivery, Message};
use crate::queue::{lock, Wakeup};
use crate::session::AckMode;
use crate::wire::{
    self, Deliver, Frame, FrameType, Hello, Reply, ReplyFrame, Request, RequestFrame, WireSubscription, NO_REPLY,
};

use super::connection::ConnectOptions;
use super::consumer::ConsumerOptions;

/// How often the client says it is alive when it has nothing else to send.
const HEARTBEAT: Duration = Duration::from_secs(10);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

fn io_error(what: &str, e: std::io::Error) -> Error {
    Error::new(ErrorKind::Io, format!("{what}: {e}"))
}

/// The error every call on a broken `tcp://` connection returns (and the one
/// `wait_for_failure` reports): what broke it, and what the application must do, since
/// Herald does not reconnect by itself. The one place this text is made.
fn connection_lost(cause: &Error) -> Error {
    Error::new(
        cause.kind(),
        format!(
            "connection to the server lost: {cause}; Herald does not reconnect: the application must create a new connection"
        ),
    )
}

/// A write to the server failed: the connection is lost.
fn write_lost(e: std::io::Error) -> Error {
    connection_lost(&Error::new(ErrorKind::Io, format!("cannot write to the server: {e}")))
}

/// A parsed `tcp://host:port?user=U&password=P` or `tcps://host:port?ca=PATH&...` URL.
struct TcpUrl {
    address: String,
    user: Option<String>,
    password: Option<String>,
    tls: bool,
    /// `tcps://` only: a PEM file of certificates to trust instead of the system's.
    ca: Option<std::path::PathBuf>,
}

fn parse_url(url: &str) -> Result<TcpUrl> {
    let (rest, tls) = match (url.strip_prefix("tcp://"), url.strip_prefix("tcps://")) {
        (Some(rest), _) => (rest, false),
        (None, Some(rest)) => (rest, true),
        (None, None) => return Err(Error::invalid_argument(format!("\"{url}\" is not a tcp:// or tcps:// URL"))),
    };
    let (address, query) = match rest.split_once('?') {
        Some((a, q)) => (a, Some(q)),
        None => (rest, None),
    };
    let address = address.trim_end_matches('/');
    if address.is_empty() || !address.contains(':') {
        return Err(Error::invalid_argument(format!("\"{url}\" needs a host and a port, as in tcp://127.0.0.1:7171")));
    }
    let mut parsed = TcpUrl { address: address.to_owned(), user: None, password: None, tls, ca: None };
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value = percent_decode(value)?;
        match key {
            "user" => parsed.user = Some(value),
            "password" => parsed.password = Some(value),
            "ca" if tls => parsed.ca = Some(value.into()),
            "ca" => {
                return Err(Error::invalid_argument(format!("\"ca\" applies to tcps:// URLs only, not to \"{url}\"")))
            }
            other => return Err(Error::invalid_argument(format!("unknown URL parameter \"{other}\" in \"{url}\""))),
        }
    }
    Ok(parsed)
}

fn percent_decode(text: &str) -> Result<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = text
                    .get(i + 1..i + 3)
                    .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                let Some(b) = hex else {
                    return Err(Error::invalid_argument(format!("bad percent-escape in \"{text}\"")));
                };
                out.push(b);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| Error::invalid_argument(format!("\"{text}\" is not UTF-8 once decoded")))
}

/// What a caller waiting for a reply holds.
#[derive(Default)]
struct ReplySlot {
    state: Mutex<SlotState>,
    cond: Condvar,
}

#[derive(Default)]
struct SlotState {
    result: Option<Result<Reply>>,
    /// The caller sleeps on `cond` and counts in [`Shared::hungry`].
    waiting: bool,
}

impl ReplySlot {
    fn fill(&self, result: Result<Reply>, hungry: &AtomicUsize) {
        let mut state = lock(&self.state);
        state.result = Some(result);
        if std::mem::take(&mut state.waiting) {
            hungry.fetch_sub(1, Ordering::SeqCst);
            drop(state);
            self.cond.notify_all();
        }
    }
}

struct Pending {
    slot: Arc<ReplySlot>,
    /// A session whose consumers' buffers are emptied when this reply arrives (recover,
    /// rollback): everything pushed before it went back to the queue.
    resets: Option<u64>,
}

/// A remote consumer's buffer of pushed messages.
pub(crate) struct ConsumerState {
    pub id: u64,
    pub session: u64,
    prefetch: u32,
    inbox: Mutex<ConsumerInbox>,
    cond: Condvar,
    wakeup: Mutex<Option<Wakeup>>,
}

#[derive(Default)]
struct ConsumerInbox {
    buf: VecDeque<Deliver>,
    closed: bool,
    /// Pull mode: a `Pull` is outstanding.
    pulled: bool,
    /// A receive sleeps on `cond` waiting for a delivery someone else must read; it
    /// counts in [`Shared::hungry`].
    waiting: bool,
}

impl ConsumerInbox {
    /// Counts a receive about to sleep for a delivery in `hungry`.
    fn start_waiting(&mut self, hungry: &AtomicUsize) {
        if !self.waiting {
            self.waiting = true;
            hungry.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// Undoes [`ConsumerInbox::start_waiting`]; true when it was waiting.
    fn stop_waiting(&mut self, hungry: &AtomicUsize) -> bool {
        let was = std::mem::take(&mut self.waiting);
        if was {
            hungry.fetch_sub(1, Ordering::SeqCst);
        }
        was
    }
}

impl ConsumerState {
    fn wake(&self) {
        self.cond.notify_all();
        self.ring();
    }

    fn ring(&self) {
        let hook = lock(&self.wakeup).clone();
        if let Some(hook) = hook {
            hook();
        }
    }
}

/// The outgoing side: frames wait in `buf` until the writer thread sends them.
#[derive(Default)]
struct Outgoing {
    buf: Vec<u8>,
    /// Something in `buf` should leave now; otherwise (only acknowledgements of
    /// received messages) the writer lets it gather for up to [`LAZY_DELAY`].
    urgent: bool,
    /// TLS output the reader left (a key update, an alert) waits for the writer.
    tls_output: bool,
    closed: bool,
    /// When a batch last left (by any thread).
    last_send: Option<Instant>,
    /// The writer thread looks at the buffer within [`LAZY_DELAY`] without being told
    /// (it is awake, or was busy lately), so queueing a lazy frame need not wake it.
    writer_watching: bool,
    /// [`Shared::frames_in`] when a batch last left.
    frames_in_at_send: u64,
    /// Counts the batches that left: a frame queued in `buf` is still there while this
    /// has not changed (see [`QueuedFrame`]).
    batches: u64,
}

/// Where a frame waits in [`Outgoing::buf`], until the batch holding it leaves.
#[derive(Clone, Copy)]
struct QueuedFrame {
    batch: u64,
    start: usize,
    end: usize,
}

/// How long acknowledgements of received messages may wait to leave together.
const LAZY_DELAY: Duration = Duration::from_millis(1);
/// A caller sends its urgent frame itself when nothing left for this long, or when a
/// reply or delivery came in since something last left (a conversation: request and
/// reply alternate, and a hand-off to the writer thread would cost each of them a
/// thread wake-up); in a burst of sends, frames gather for the writer thread instead
/// (one write for many).
const BURST_GAP: Duration = Duration::from_micros(50);
/// Lazy frames leave at once beyond this many bytes.
const LAZY_BYTES: usize = 16 * 1024;
/// While something left the connection (on any thread) within this long, the writer
/// thread looks for lazy frames every [`LAZY_DELAY`] on its own; after, it sleeps until
/// told (or until a heartbeat is due). While it looks, queueing a lazy frame costs no
/// wake-up: a receive in a request/reply loop queues one per message.
const WRITER_WATCH: Duration = Duration::from_millis(10);

/// How long the reader thread leaves the socket alone after a caller read it, so that
/// the next caller to wait (typically within microseconds, in a request/reply loop)
/// finds the socket free to read itself. Frames nobody waits for are read within this.
const STANDBY: Duration = Duration::from_millis(5);

/// The largest frame the client reads. Deliveries can be as large as the largest
/// message, which may exceed what the server accepts from us; the client's own limit
/// is generous.
const READ_MAX_FRAME: u32 = u32::MAX >> 1;

/// Who reads the socket.
struct ReadState {
    /// Someone (the reader thread or a waiting caller) holds the reading.
    leader: bool,
    /// Counts changes of hands, so the reader thread can tell one long reading caller
    /// from many short ones.
    generation: u64,
    /// When the last reader let go.
    released: Instant,
    /// The reader thread sleeps until notified (rather than until a standby timer).
    reader_asleep: bool,
}

struct Shared {
    connection_id: u64,
    max_frame: u32,
    /// The incoming frames; whoever holds the reading (see [`ReadState`]) locks it.
    frames: Mutex<FrameReader>,
    read_state: Mutex<ReadState>,
    /// The reader thread waits on this for its turn to read.
    read_cond: Condvar,
    /// Callers asleep waiting for a frame that somebody else must read.
    hungry: AtomicUsize,
    /// Replies and deliveries dispatched so far.
    frames_in: AtomicU64,
    /// Consumers with a wake-up hook: while there are any, the reader thread reads
    /// everything at once, as the hooks expect.
    listeners: AtomicUsize,
    /// Whether callers may read the socket themselves: plain TCP on Unix, where the
    /// socket's readiness says whether a read would block. Otherwise the reader thread
    /// reads everything.
    shared_reading: bool,
    out: Mutex<Outgoing>,
    out_cond: Condvar,
    pending: Mutex<HashMap<u64, Pending>>,
    consumers: Mutex<HashMap<u64, Arc<ConsumerState>>>,
    next_id: AtomicU64,
    started: AtomicBool,
    closed: AtomicBool,
    /// Set before the Close request goes out: the server hangs up after replying, and
    /// the reader may see that before `close` returns; it is a close, not a failure.
    closing: AtomicBool,
    /// Why the connection broke, once it has; `failure_cond` is notified then.
    failure: Mutex<Option<Error>>,
    failure_cond: Condvar,
    /// Failures of fire-and-forget requests, each reported by the next call of the
    /// session it belongs to that can (see [`AsyncErrors`]).
    async_errors: Mutex<AsyncErrors>,
    stream: TcpStream,
    /// The writing end. Whoever holds it writes: the writer thread, or a caller that
    /// finds it free and sends its own urgent frames at once, saving the hand-off to
    /// the writer thread (which a request/reply round trip pays on both sides).
    socket: Mutex<SocketWriter>,
}

/// Whose failure a request sent without waiting is: the connection's ([`CONNECTION`])
/// or a session's (its ID). A session's request carries it in its ID (see
/// [`wire::QUIET`]), so the server's error reply names the session.
type Owner = u64;

/// The owner of requests that belong to no session. Session IDs start at 1.
const CONNECTION: Owner = 0;

/// The ID of a request of `owner` sent without waiting.
fn quiet_id(owner: Owner) -> u64 {
    debug_assert!(owner & wire::QUIET == 0, "session IDs stay below wire::QUIET");
    if owner == CONNECTION {
        NO_REPLY
    } else {
        wire::QUIET | owner
    }
}

/// Failures of requests nobody waited for. A session's failures are its own: a
/// NON_PERSISTENT or transacted send of one session that fails is reported by that
/// session's next send, commit or acknowledge, never by another's (whose transaction it
/// would roll back). Failures of requests that belong to no session are reported by the
/// next call of any session.
#[derive(Default)]
struct AsyncErrors {
    connection: Option<Error>,
    /// Every open session, with its first unreported failure.
    sessions: HashMap<u64, Option<Error>>,
}

struct SocketWriter {
    stream: TcpStream,
    transport: Transport,
    batch: Vec<u8>,
    sealed: Vec<u8>,
}

impl SocketWriter {
    /// Writes what `out` holds, taken under its lock (the caller holds it).
    fn take_and_send(&mut self, mut out: MutexGuard<'_, Outgoing>, frames_in: u64) -> std::io::Result<()> {
        std::mem::swap(&mut self.batch, &mut out.buf);
        out.batches += 1;
        out.frames_in_at_send = frames_in;
        out.urgent = false;
        out.tls_output = false;
        out.last_send = Some(Instant::now());
        drop(out);
        let sent = self.transport.send(&mut self.stream, &self.batch, &mut self.sealed);
        self.batch.clear();
        if self.batch.capacity() > 1 << 20 {
            self.batch = Vec::new();
        }
        sent
    }
}

impl Shared {
    fn check_open(&self) -> Result<()> {
        if let Some(e) = lock(&self.failure).clone() {
            return Err(e);
        }
        if self.closed.load(Ordering::Acquire) {
            return Err(Error::closed("connection"));
        }
        Ok(())
    }

    /// Reports the first failure of `session`'s requests sent without waiting (else one
    /// of the connection's own), once.
    fn take_async_error(&self, session: u64) -> Result<()> {
        let mut errors = lock(&self.async_errors);
        let own = errors.sessions.get_mut(&session).and_then(Option::take);
        match own.or_else(|| errors.connection.take()) {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// A request of `owner` sent without waiting failed.
    fn async_failure(&self, owner: Owner, error: Error) {
        tracing::debug!(owner, cause = %error, "a request sent without waiting failed");
        let mut errors = lock(&self.async_errors);
        let slot = if owner == CONNECTION {
            &mut errors.connection
        } else {
            match errors.sessions.get_mut(&owner) {
                Some(slot) => slot,
                // The session closed meanwhile: nobody is left to tell.
                None => return,
            }
        };
        if slot.is_none() {
            *slot = Some(error);
        }
    }

    fn push_frame(&self, frame_type: FrameType, body: &RequestFrame) -> Result<()> {
        self.push(frame_type, body, true)
    }

    /// Queues a frame for the writer; a lazy one may wait a little to leave with
    /// others.
    fn push(&self, frame_type: FrameType, body: &RequestFrame, urgent: bool) -> Result<()> {
        self.push_queued(frame_type, body, urgent).map(drop)
    }

    /// [`Self::push`], telling where the frame waits when it did not leave at once.
    fn push_queued(&self, frame_type: FrameType, body: &RequestFrame, urgent: bool) -> Result<Option<QueuedFrame>> {
        let mut out = lock(&self.out);
        if out.closed {
            drop(out);
            self.check_open()?;
            return Err(Error::closed("connection"));
        }
        let start = out.buf.len();
        wire::encode_into(&mut out.buf, frame_type, body);
        let len = out.buf.len() - start - 4;
        if len > self.max_frame as usize {
            out.buf.truncate(start);
            return Err(Error::new(
                ErrorKind::ResourceAllocation,
                format!("the message needs a frame of {len} bytes; the server accepts at most {}", self.max_frame),
            ));
        }
        let queued = QueuedFrame { batch: out.batches, start, end: out.buf.len() };
        let was_urgent = out.urgent;
        out.urgent |= urgent || out.buf.len() >= LAZY_BYTES;
        let sent = self.send_or_hand_over(out, was_urgent, start == 0)?;
        Ok((!sent).then_some(queued))
    }

    /// Replaces a frame still waiting in the outgoing buffer by `body`, encoded to the
    /// same length (a flag flipped); false when it left already, or the lengths differ.
    fn rewrite_queued(&self, at: QueuedFrame, body: &RequestFrame) -> bool {
        let mut out = lock(&self.out);
        if out.closed || out.batches != at.batch || out.buf.len() < at.end {
            return false;
        }
        let mut frame = Vec::with_capacity(at.end - at.start);
        wire::encode_into(&mut frame, FrameType::Request, body);
        if frame.len() != at.end - at.start {
            return false;
        }
        out.buf[at.start..at.end].copy_from_slice(&frame);
        true
    }

    /// Lets what the outgoing buffer holds leave now, as an urgent frame would.
    fn hurry(&self) -> Result<()> {
        let mut out = lock(&self.out);
        if out.buf.is_empty() || out.closed {
            return Ok(());
        }
        let was_urgent = std::mem::replace(&mut out.urgent, true);
        self.send_or_hand_over(out, was_urgent, false).map(drop)
    }

    /// Sends what `out` holds on this thread when it is urgent and that pays (see
    /// [`BURST_GAP`]), else leaves it to the writer thread, waking it when needed.
    /// True when it was sent here.
    fn send_or_hand_over(&self, out: MutexGuard<'_, Outgoing>, was_urgent: bool, was_empty: bool) -> Result<bool> {
        let frames_in = self.frames_in.load(Ordering::Relaxed);
        let conversing = frames_in != out.frames_in_at_send;
        if out.urgent && (conversing || out.last_send.is_none_or(|t| t.elapsed() >= BURST_GAP)) {
            // Nobody is writing and nothing left just now: send now, on this thread.
            // Otherwise the writer thread takes this frame with the rest of the burst.
            let socket = match self.socket.try_lock() {
                Ok(guard) => Some(guard),
                Err(std::sync::TryLockError::Poisoned(p)) => Some(p.into_inner()),
                Err(std::sync::TryLockError::WouldBlock) => None,
            };
            if let Some(mut socket) = socket {
                if let Err(e) = socket.take_and_send(out, frames_in) {
                    drop(socket);
                    let e = write_lost(e);
                    self.fail(e.clone());
                    return Err(e);
                }
                return Ok(true);
            }
        }
        let wake = out.urgent && !was_urgent || was_empty && !out.writer_watching;
        drop(out);
        if wake {
            self.out_cond.notify_one();
        }
        Ok(false)
    }

    /// Sends lazily: for acknowledgements of received messages, which many receives in
    /// a row send together.
    fn post_lazy(&self, owner: Owner, request: Request) -> Result<()> {
        self.post_as(owner, request, false)
    }

    /// Lets lazily queued frames leave now (before waiting for messages, so the
    /// server gets its credits back): written on this thread when nobody else is
    /// writing.
    fn flush_lazy(&self) {
        let mut out = lock(&self.out);
        if out.buf.is_empty() || out.urgent || out.closed {
            return;
        }
        let socket = match self.socket.try_lock() {
            Ok(guard) => Some(guard),
            Err(std::sync::TryLockError::Poisoned(p)) => Some(p.into_inner()),
            Err(std::sync::TryLockError::WouldBlock) => None,
        };
        match socket {
            Some(mut socket) => {
                if let Err(e) = socket.take_and_send(out, self.frames_in.load(Ordering::Relaxed)) {
                    drop(socket);
                    self.fail(write_lost(e));
                }
            }
            None => {
                out.urgent = true;
                drop(out);
                self.out_cond.notify_one();
            }
        }
    }

    /// Sends a request of `owner` without waiting; a failure comes back as `owner`'s
    /// next async error.
    fn post(&self, owner: Owner, request: Request) -> Result<()> {
        self.post_as(owner, request, true)
    }

    /// [`Self::post`] (`urgent`) or [`Self::post_lazy`].
    fn post_as(&self, owner: Owner, request: Request, urgent: bool) -> Result<()> {
        self.post_queued(owner, request, urgent).map(drop)
    }

    /// [`Self::post_as`], telling where the frame waits when it did not leave at once.
    fn post_queued(&self, owner: Owner, request: Request, urgent: bool) -> Result<Option<QueuedFrame>> {
        self.check_open()?;
        self.push_queued(FrameType::Request, &RequestFrame { id: quiet_id(owner), request }, urgent)
    }

    /// Sends a request and waits for its reply.
    fn call(&self, request: Request, resets: Option<u64>) -> Result<Reply> {
        self.check_open()?;
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let slot = Arc::new(ReplySlot::default());
        lock(&self.pending).insert(id, Pending { slot: slot.clone(), resets });
        if let Err(e) = self.push_frame(FrameType::Request, &RequestFrame { id, request }) {
            lock(&self.pending).remove(&id);
            return Err(e);
        }
        let mut state = lock(&slot.state);
        loop {
            if let Some(r) = state.result.take() {
                return r;
            }
            // Count as waiting before looking for a reader: whoever lets go of the
            // reading then sees that someone needs it (see `release_reading`).
            if !state.waiting {
                state.waiting = true;
                self.hungry.fetch_add(1, Ordering::SeqCst);
            }
            if self.try_lead() {
                state.waiting = false;
                self.hungry.fetch_sub(1, Ordering::SeqCst);
                drop(state);
                self.read_until(None, || lock(&slot.state).result.is_some());
                state = lock(&slot.state);
                continue;
            }
            state = slot.cond.wait(state).unwrap_or_else(|p| p.into_inner());
        }
    }

    /// Whether the reader thread may leave the socket to waiting callers.
    fn lazy_reader(&self) -> bool {
        self.shared_reading && self.listeners.load(Ordering::SeqCst) == 0
    }

    /// Takes over the reading when nobody reads; the caller must then call
    /// [`Shared::read_until`].
    fn try_lead(&self) -> bool {
        if !self.lazy_reader() {
            return false;
        }
        let mut state = lock(&self.read_state);
        if state.leader {
            return false;
        }
        state.leader = true;
        state.generation = state.generation.wrapping_add(1);
        true
    }

    /// A caller stops reading. The reader thread takes over at once when somebody waits
    /// for a frame (or a hook needs frames read), or when it sleeps until told; otherwise
    /// after [`STANDBY`], unless another caller took over meanwhile.
    fn release_reading(&self) {
        let mut state = lock(&self.read_state);
        state.leader = false;
        state.released = Instant::now();
        let wake = state.reader_asleep || self.hungry.load(Ordering::SeqCst) > 0 || !self.lazy_reader();
        drop(state);
        if wake {
            self.read_cond.notify_all();
        }
    }

    /// Reads and dispatches frames, as the one reading, until `done()` (checked whenever
    /// no complete frame is buffered) or `deadline` passes, then lets go. Complete frames
    /// already buffered are dispatched before letting go, so none waits unseen.
    fn read_until(&self, deadline: Option<Instant>, done: impl Fn() -> bool) {
        let mut frames = lock(&self.frames);
        let result = (|| -> Result<()> {
            loop {
                while let Some(frame) = frames.buffered(READ_MAX_FRAME)? {
                    self.dispatch(frame)?;
                }
                if done() || !frames.fill(READ_MAX_FRAME, Some(deadline))? {
                    return Ok(());
                }
            }
        })();
        drop(frames);
        if let Err(e) = result {
            self.fail_read(e);
        }
        self.release_reading();
    }

    /// The connection broke while reading (or is closing: then it is no failure).
    fn fail_read(&self, e: Error) {
        let closing = self.closed.load(Ordering::Acquire) || self.closing.load(Ordering::Acquire);
        self.fail(if closing { Error::closed("connection") } else { connection_lost(&e) });
    }

    /// Marks the connection broken (or closed) and wakes everyone waiting on it.
    fn fail(&self, error: Error) {
        tracing::debug!(connection = self.connection_id, cause = %error, "connection ends");
        {
            let mut failure = lock(&self.failure);
            if failure.is_none() {
                *failure = Some(error.clone());
            }
        }
        self.failure_cond.notify_all();
        {
            let mut out = lock(&self.out);
            out.closed = true;
        }
        self.out_cond.notify_all();
        // The reader thread, waiting for its turn, ends.
        drop(lock(&self.read_state));
        self.read_cond.notify_all();
        let pending: Vec<Pending> = lock(&self.pending).drain().map(|(_, p)| p).collect();
        for p in pending {
            p.slot.fill(Err(error.clone()), &self.hungry);
        }
        let consumers: Vec<Arc<ConsumerState>> = lock(&self.consumers).values().cloned().collect();
        for c in consumers {
            lock(&c.inbox).closed = true;
            c.wake();
        }
        let _ = self.stream.shutdown(Shutdown::Both);
    }

    fn reset_session(&self, session: u64) {
        let consumers: Vec<Arc<ConsumerState>> =
            lock(&self.consumers).values().filter(|c| c.session == session).cloned().collect();
        for c in consumers {
            let mut inbox = lock(&c.inbox);
            inbox.buf.clear();
            inbox.pulled = false;
        }
    }

    fn dispatch(&self, frame: Frame) -> Result<()> {
        if matches!(frame, Frame::Reply(_) | Frame::Deliver(_)) {
            self.frames_in.fetch_add(1, Ordering::Relaxed);
        }
        match frame {
            Frame::Reply(ReplyFrame { id, result }) => {
                let result = result.map_err(Error::from);
                if id == NO_REPLY || id & wire::QUIET != 0 {
                    // (A server older than quiet IDs answers them also on success.)
                    if let Err(e) = result {
                        self.async_failure(id & !wire::QUIET, e);
                    }
                    return Ok(());
                }
                let Some(pending) = lock(&self.pending).remove(&id) else {
                    return Err(Error::new(ErrorKind::Io, format!("protocol error: reply to unknown request {id}")));
                };
                if let Some(session) = pending.resets {
                    self.reset_session(session);
                }
                pending.slot.fill(result, &self.hungry);
            }
            Frame::Deliver(d) => {
                let consumer = lock(&self.consumers).get(&d.consumer).cloned();
                // A delivery for a consumer closed meanwhile went back to the queue when
                // the server processed the close.
                if let Some(c) = consumer {
                    let mut inbox = lock(&c.inbox);
                    if inbox.closed {
                        return Ok(());
                    }
                    inbox.pulled = false;
                    inbox.buf.push_back(d);
                    let sleeping = inbox.stop_waiting(&self.hungry);
                    drop(inbox);
                    if sleeping {
                        c.cond.notify_all();
                    }
                    c.ring();
                }
            }
            Frame::Heartbeat => {}
            Frame::Error(e) => return Err(Error::from(e)),
            other => {
                return Err(Error::new(
                    ErrorKind::Io,
                    format!("protocol error: unexpected {:?} frame from the server", other.frame_type()),
                ))
            }
        }
        Ok(())
    }
}

/// How the writer's bytes reach the socket: as they are, or sealed by TLS.
#[derive(Clone)]
enum Transport {
    Plain,
    #[cfg(feature = "tls")]
    Tls(Arc<super::tls::TlsSession>),
}

impl Transport {
    /// Writes one batch of frames; an empty batch sends only pending TLS output.
    fn send(&self, stream: &mut TcpStream, batch: &[u8], sealed: &mut Vec<u8>) -> std::io::Result<()> {
        match self {
            Transport::Plain => {
                let _ = sealed;
                stream.write_all(batch)
            }
            #[cfg(feature = "tls")]
            Transport::Tls(tls) => {
                sealed.clear();
                tls.seal(batch, sealed)?;
                let written = stream.write_all(sealed);
                if sealed.capacity() > 1 << 20 {
                    *sealed = Vec::new();
                }
                written
            }
        }
    }
}

/// Frames out of the server's byte stream, read in large chunks so that one read
/// system call usually brings several frames.
struct FrameReader {
    source: Source,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// When bytes last came; the server is gone once silent for `silence`.
    last_data: Instant,
    silence: Option<Duration>,
}

/// What a [`FrameReader`] reads.
enum Source {
    /// A plain socket: its readiness tells whether a read would block, since nothing is
    /// buffered between it and the reader's `buf`.
    Plain(TcpStream),
    /// Anything else (TLS): only a blocking read.
    #[cfg_attr(not(feature = "tls"), allow(dead_code))]
    Other(Box<dyn Read + Send>),
}

impl Source {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Source::Plain(stream) => stream.read(buf),
            Source::Other(source) => source.read(buf),
        }
    }
}

const READ_CHUNK: usize = 64 * 1024;

impl FrameReader {
    #[cfg_attr(not(feature = "tls"), allow(dead_code))]
    fn new(source: Box<dyn Read + Send>) -> FrameReader {
        FrameReader::with_source(Source::Other(source))
    }

    fn with_source(source: Source) -> FrameReader {
        FrameReader { source, buf: vec![0; READ_CHUNK], start: 0, end: 0, last_data: Instant::now(), silence: None }
    }

    /// A plain socket: callers other than the reader thread may read it too.
    fn plain(stream: TcpStream) -> FrameReader {
        FrameReader::with_source(Source::Plain(stream))
    }

    /// Whether a reader whose wait has a deadline can read it (see [`FrameReader::fill`]).
    fn pollable(&self) -> bool {
        cfg!(unix) && matches!(self.source, Source::Plain(_))
    }

    /// The next frame, reading as long as it takes.
    fn next(&mut self, max_frame: u32) -> Result<Frame> {
        loop {
            if let Some(frame) = self.buffered(max_frame)? {
                return Ok(frame);
            }
            self.fill(max_frame, None)?;
        }
    }

    /// The next frame if it is buffered whole, without reading.
    fn buffered(&mut self, max_frame: u32) -> Result<Option<Frame>> {
        let Some((frame, used)) = Frame::parse(&self.buf[self.start..self.end], max_frame)? else {
            return Ok(None);
        };
        self.start += used;
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
            if self.buf.len() > 1 << 20 {
                // A large frame passed: give its memory back.
                self.buf = vec![0; READ_CHUNK];
            }
        }
        Ok(Some(frame))
    }

    /// Whether a whole frame (or a length prefix `buffered` refuses) is buffered.
    fn has_frame(&self, max_frame: u32) -> bool {
        let available = &self.buf[self.start..self.end];
        match wire::frame_len(available, max_frame) {
            Ok(Some(len)) => available.len() >= 4 + len,
            Ok(None) => false,
            Err(_) => true,
        }
    }

    /// Reads more bytes. `wait` None blocks in `read` (the socket's read timeout ends a
    /// silent connection); `Some(deadline)` waits for the socket to be readable until
    /// `deadline` (`None`: no limit but the silence one) and returns false when it
    /// passes first. Only a [`FrameReader::pollable`] reader takes `Some`.
    fn fill(&mut self, max_frame: u32, wait: Option<Option<Instant>>) -> Result<bool> {
        // The length was checked against the limit; only now make room for it.
        let available = &self.buf[self.start..self.end];
        let need = match wire::frame_len(available, max_frame)? {
            Some(len) => 4 + len,
            None => 4,
        };
        if self.start > 0 && (self.end == self.buf.len() || self.buf.len() - self.start < need) {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.buf.len() - self.start < need {
            self.buf.resize(self.start + need, 0);
        }
        if let Some(deadline) = wait {
            if !self.wait_readable(deadline)? {
                return Ok(false);
            }
        }
        let n = self.source.read(&mut self.buf[self.end..]).map_err(|e| read_error(&e))?;
        if n == 0 {
            return Err(Error::new(ErrorKind::Io, "the server closed the connection"));
        }
        self.end += n;
        self.last_data = Instant::now();
        Ok(true)
    }

    /// Waits until the socket has something to read (or an error or end to report):
    /// true; or until `deadline`: false.
    #[cfg(unix)]
    fn wait_readable(&self, deadline: Option<Instant>) -> Result<bool> {
        use rustix::event::{poll, PollFd, PollFlags, Timespec};
        let Source::Plain(stream) = &self.source else {
            return Err(Error::new(ErrorKind::Internal, "this connection's socket cannot be polled"));
        };
        loop {
            let now = Instant::now();
            let silent_until = self.silence.map(|s| self.last_data + s);
            let until = match (deadline, silent_until) {
                (Some(d), Some(s)) => Some(d.min(s)),
                (d, s) => d.or(s),
            };
            // A time beyond what a timespec holds is as good as none.
            let timeout = until.and_then(|u| Timespec::try_from(u.saturating_duration_since(now)).ok());
            let mut fds = [PollFd::new(stream, PollFlags::IN)];
            match poll(&mut fds, timeout.as_ref()) {
                Ok(n) if n > 0 => return Ok(true),
                Ok(_) => {}
                Err(rustix::io::Errno::INTR) => continue,
                Err(e) => return Err(read_error(&e.into())),
            }
            let now = Instant::now();
            if silent_until.is_some_and(|s| now >= s) {
                // Said as a blocking read's timeout says it (see `read_error`).
                return Err(read_error(&std::io::Error::from(std::io::ErrorKind::TimedOut)));
            }
            if deadline.is_some_and(|d| now >= d) {
                return Ok(false);
            }
        }
    }

    #[cfg(not(unix))]
    fn wait_readable(&self, _deadline: Option<Instant>) -> Result<bool> {
        Err(Error::new(ErrorKind::Internal, "this connection's socket cannot be polled"))
    }

    /// Whether the unread bytes begin like a TLS record (a handshake or an alert), which
    /// is how a TLS listener answers a plain client.
    fn starts_like_tls(&self) -> bool {
        let unread = &self.buf[self.start..self.end];
        unread.len() >= 2 && matches!(unread[0], 0x15 | 0x16) && unread[1] == 0x03
    }
}

/// Why reading from the server failed (the caller says what that broke).
fn read_error(e: &std::io::Error) -> Error {
    #[cfg(feature = "tls")]
    if e.get_ref().is_some_and(|inner| inner.is::<rustls::Error>()) {
        return super::tls::tls_error("cannot read from the server", e);
    }
    if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) {
        // The socket's read timeout: three of the server's heartbeat intervals.
        return Error::new(ErrorKind::Io, "the server sent nothing, not even a heartbeat, for three heartbeat intervals");
    }
    Error::new(ErrorKind::Io, format!("cannot read from the server: {e}"))
}

/// The reader thread: reads whenever no waiting caller does (see [`ReadState`]).
fn reader(shared: Arc<Shared>) {
    // The generation of the reading seen when last woken by the standby timer.
    let mut seen = None;
    loop {
        {
            let mut state = lock(&shared.read_state);
            loop {
                if lock(&shared.failure).is_some() {
                    return;
                }
                if !state.leader {
                    let idle = state.released.elapsed();
                    if !shared.lazy_reader() || shared.hungry.load(Ordering::SeqCst) > 0 || idle >= STANDBY {
                        state.leader = true;
                        state.generation = state.generation.wrapping_add(1);
                        break;
                    }
                    state = shared.read_cond.wait_timeout(state, STANDBY - idle).unwrap_or_else(|p| p.into_inner()).0;
                } else if seen == Some(state.generation) {
                    // One caller has been reading for a while (a long receive): sleep
                    // until it lets go, rather than looking again and again.
                    state.reader_asleep = true;
                    state = shared.read_cond.wait(state).unwrap_or_else(|p| p.into_inner());
                    state.reader_asleep = false;
                } else {
                    seen = Some(state.generation);
                    state = shared.read_cond.wait_timeout(state, STANDBY).unwrap_or_else(|p| p.into_inner()).0;
                }
            }
        }
        let mut frames = lock(&shared.frames);
        let result = loop {
            if let Err(e) = frames.next(READ_MAX_FRAME).and_then(|f| shared.dispatch(f)) {
                break Err(e);
            }
            // Let go before blocking again when nobody waits for what this would read:
            // the next caller to wait then reads itself.
            if shared.lazy_reader() && shared.hungry.load(Ordering::SeqCst) == 0 && !frames.has_frame(READ_MAX_FRAME) {
                break Ok(());
            }
        };
        drop(frames);
        if let Err(e) = result {
            shared.fail_read(e);
            return;
        }
        let mut state = lock(&shared.read_state);
        state.leader = false;
        state.released = Instant::now();
    }
}

fn writer(shared: Arc<Shared>) {
    loop {
        {
            let mut out = lock(&shared.out);
            // How long this thread waited for something to send.
            let mut waited = Duration::ZERO;
            while out.buf.is_empty() && !out.tls_output && !out.closed {
                let since_send = out.last_send.map_or(Duration::ZERO, |t| t.elapsed());
                if since_send >= HEARTBEAT {
                    wire::encode_into(&mut out.buf, FrameType::Heartbeat, &());
                    out.urgent = true;
                    break;
                }
                out.writer_watching = since_send < WRITER_WATCH;
                let wait = if out.writer_watching { LAZY_DELAY } else { HEARTBEAT - since_send };
                let started = Instant::now();
                out = shared.out_cond.wait_timeout(out, wait).unwrap_or_else(|p| p.into_inner()).0;
                // Awake: this thread looks at the buffer again before it sleeps long.
                out.writer_watching = true;
                waited += started.elapsed();
            }
            if !out.urgent && !out.tls_output && !out.closed && waited < LAZY_DELAY {
                // Only lazy frames, just queued: give them a moment to gather company.
                out = shared.out_cond.wait_timeout(out, LAZY_DELAY).unwrap_or_else(|p| p.into_inner()).0;
            }
            if out.buf.is_empty() && out.closed {
                return;
            }
        }
        // The socket first, then the batch: a caller may have sent it meanwhile.
        let mut socket = lock(&shared.socket);
        let out = lock(&shared.out);
        if out.buf.is_empty() && !out.tls_output {
            continue;
        }
        if let Err(e) = socket.take_and_send(out, shared.frames_in.load(Ordering::Relaxed)) {
            drop(socket);
            shared.fail(write_lost(e));
            return;
        }
    }
}

/// A connection to a server.
pub(crate) struct RemoteConnection {
    shared: Arc<Shared>,
    client_id: Mutex<Option<String>>,
    used: AtomicBool,
    prefetch: u32,
    temporaries: Mutex<Vec<Destination>>,
    closing: AtomicBool,
}

impl RemoteConnection {
    pub fn open(url: &str, options: &ConnectOptions) -> Result<RemoteConnection> {
        let parsed = parse_url(url)?;
        let user = options.user.clone().or(parsed.user);
        let password = options.password.clone().or(parsed.password);
        let addrs: Vec<_> = parsed
            .address
            .to_socket_addrs()
            .map_err(|e| io_error(&format!("cannot resolve {}", parsed.address), e))?
            .collect();
        let mut last = None;
        let mut stream = None;
        for addr in addrs {
            match TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT) {
                Ok(s) => {
                    stream = Some(s);
                    break;
                }
                Err(e) => last = Some(e),
            }
        }
        let Some(mut stream) = stream else {
            let cause = last.map(|e| e.to_string()).unwrap_or_else(|| "no address".into());
            return Err(Error::new(ErrorKind::Io, format!("cannot connect to {}: {cause}", parsed.address)));
        };
        stream.set_nodelay(true).map_err(|e| io_error("socket setup", e))?;
        stream.set_read_timeout(Some(CONNECT_TIMEOUT)).map_err(|e| io_error("socket setup", e))?;
        let read_half = stream.try_clone().map_err(|e| io_error("socket setup", e))?;
        let (mut frames, transport) = if parsed.tls {
            #[cfg(feature = "tls")]
            {
                let config = super::tls::client_config(parsed.ca.as_deref())?;
                let name = super::tls::server_name(&parsed.address)?;
                let tls = super::tls::TlsSession::connect(&mut stream, config, name)?;
                (FrameReader::new(Box::new(super::tls::TlsReader::new(tls.clone(), read_half))), Transport::Tls(tls))
            }
            #[cfg(not(feature = "tls"))]
            {
                drop(read_half);
                return Err(Error::invalid_argument(format!(
                    "\"{url}\": this build of Herald has no TLS support (herald-core's \"tls\" feature)"
                )));
            }
        } else {
            (FrameReader::plain(read_half), Transport::Plain)
        };
        let hello = Hello {
            version: wire::PROTOCOL_VERSION,
            user,
            password,
            heartbeat_ms: HEARTBEAT.as_millis() as u32,
        };
        let mut out = Vec::new();
        wire::encode_into(&mut out, FrameType::Hello, &hello);
        transport.send(&mut stream, &out, &mut Vec::new()).map_err(|e| io_error("handshake", e))?;
        let first = frames.next(wire::DEFAULT_MAX_FRAME).map_err(|e| {
            if !parsed.tls && frames.starts_like_tls() {
                Error::new(ErrorKind::Io, format!("{} answered with TLS: connect with a tcps:// URL", parsed.address))
            } else {
                Error::new(e.kind(), format!("handshake with {} failed: {e}", parsed.address))
            }
        })?;
        let welcome = match first {
            Frame::Welcome(w) => w,
            Frame::Error(e) => return Err(e.into()),
            other => {
                return Err(Error::new(
                    ErrorKind::Io,
                    format!("protocol error: the server answered the handshake with {:?}", other.frame_type()),
                ))
            }
        };
        if welcome.version != wire::PROTOCOL_VERSION {
            return Err(Error::new(
                ErrorKind::Io,
                format!("the server speaks protocol version {}, this client {}", welcome.version, wire::PROTOCOL_VERSION),
            ));
        }
        // A server silent for three of its heartbeat intervals is gone.
        let read_timeout = (welcome.heartbeat_ms > 0).then(|| Duration::from_millis(u64::from(welcome.heartbeat_ms) * 3));
        stream.set_read_timeout(read_timeout).map_err(|e| io_error("socket setup", e))?;
        frames.silence = read_timeout;
        let shared_reading = frames.pollable();
        let shared = Arc::new(Shared {
            connection_id: welcome.connection_id,
            max_frame: welcome.max_frame,
            frames: Mutex::new(frames),
            read_state: Mutex::new(ReadState {
                leader: false,
                generation: 0,
                released: Instant::now(),
                reader_asleep: false,
            }),
            read_cond: Condvar::new(),
            hungry: AtomicUsize::new(0),
            frames_in: AtomicU64::new(0),
            listeners: AtomicUsize::new(0),
            shared_reading,
            out: Mutex::new(Outgoing { last_send: Some(Instant::now()), ..Outgoing::default() }),
            out_cond: Condvar::new(),
            pending: Mutex::default(),
            consumers: Mutex::default(),
            next_id: AtomicU64::new(1),
            started: AtomicBool::new(false),
            closed: AtomicBool::new(false),
            closing: AtomicBool::new(false),
            failure: Mutex::new(None),
            failure_cond: Condvar::new(),
            async_errors: Mutex::default(),
            stream: stream.try_clone().map_err(|e| io_error("socket setup", e))?,
            socket: Mutex::new(SocketWriter { stream, transport: transport.clone(), batch: Vec::new(), sealed: Vec::new() }),
        });
        #[cfg(feature = "tls")]
        if let Transport::Tls(tls) = &transport {
            let weak = Arc::downgrade(&shared);
            tls.on_output(Box::new(move || {
                if let Some(shared) = weak.upgrade() {
                    lock(&shared.out).tls_output = true;
                    shared.out_cond.notify_one();
                }
            }));
        }
        let s = shared.clone();
        std::thread::Builder::new()
            .name("herald-tcp-read".into())
            .spawn(move || reader(s))
            .map_err(|e| io_error("cannot start the reader thread", e))?;
        let s = shared.clone();
        std::thread::Builder::new()
            .name("herald-tcp-write".into())
            .spawn(move || writer(s))
            .map_err(|e| io_error("cannot start the writer thread", e))?;
        let connection = RemoteConnection {
            shared,
            client_id: Mutex::new(None),
            used: AtomicBool::new(false),
            prefetch: options.prefetch,
            temporaries: Mutex::default(),
            closing: AtomicBool::new(false),
        };
        if let Some(id) = &options.client_id {
            connection.set_client_id(id)?;
        }
        Ok(connection)
    }

    fn touch(&self) -> Result<()> {
        self.shared.check_open()?;
        self.used.store(true, Ordering::Release);
        Ok(())
    }

    pub fn id(&self) -> u64 {
        self.shared.connection_id
    }

    pub fn client_id(&self) -> Option<String> {
        lock(&self.client_id).clone()
    }

    pub fn set_client_id(&self, id: &str) -> Result<()> {
        self.shared.check_open()?;
        let mut current = lock(&self.client_id);
        if current.is_some() {
            return Err(Error::illegal_state("the client ID is already set"));
        }
        if self.used.load(Ordering::Acquire) {
            return Err(Error::illegal_state("the client ID must be set before the connection is used"));
        }
        self.shared.call(Request::SetClientId { client_id: id.to_owned() }, None)?;
        *current = Some(id.to_owned());
        Ok(())
    }

    pub fn start(&self) -> Result<()> {
        self.touch()?;
        self.shared.call(Request::Start, None)?;
        self.shared.started.store(true, Ordering::Release);
        let consumers: Vec<Arc<ConsumerState>> = lock(&self.shared.consumers).values().cloned().collect();
        for c in consumers {
            // Through the inbox lock: a receive that saw the connection stopped is then
            // either still to look again or already asleep, never in between, where
            // the notification would be lost.
            drop(lock(&c.inbox));
            c.wake();
        }
        Ok(())
    }

    pub fn stop(&self) -> Result<()> {
        self.touch()?;
        self.shared.started.store(false, Ordering::Release);
        self.shared.call(Request::Stop, None)?;
        Ok(())
    }

    pub fn create_session(&self, mode: AckMode) -> Result<Arc<RemoteSession>> {
        self.touch()?;
        let id = self.shared.next_id.fetch_add(1, Ordering::Relaxed);
        lock(&self.shared.async_errors).sessions.insert(id, None);
        if let Err(e) = self.shared.call(Request::CreateSession { session: id, mode: mode.jms_value() }, None) {
            lock(&self.shared.async_errors).sessions.remove(&id);
            return Err(e);
        }
        Ok(Arc::new(RemoteSession {
            shared: self.shared.clone(),
            id,
            mode,
            prefetch: self.prefetch,
            closed: AtomicBool::new(false),
            held: Mutex::default(),
        }))
    }

    pub fn create_temporary(&self, kind: DestinationKind) -> Result<Destination> {
        self.touch()?;
        match self.shared.call(Request::CreateTemporary { kind }, None)? {
            Reply::Destination(d) => {
                lock(&self.temporaries).push(d.clone());
                Ok(d)
            }
            other => Err(unexpected(&other)),
        }
    }

    pub fn delete_temporary(&self, dest: &Destination) -> Result<()> {
        self.shared.check_open()?;
        if !lock(&self.temporaries).contains(dest) {
            return Err(Error::invalid_destination(format!("{dest} is not a temporary destination of this connection")));
        }
        self.shared.call(Request::DeleteTemporary { destination: dest.clone() }, None)?;
        lock(&self.temporaries).retain(|d| d != dest);
        Ok(())
    }

    /// Statistics of every destination on the server (needs the admin permission).
    pub fn stats(&self) -> Result<Vec<wire::StatLine>> {
        match self.shared.call(Request::Stats, None)? {
            Reply::Stats(s) => Ok(s),
            other => Err(unexpected(&other)),
        }
    }

    pub fn is_closed(&self) -> bool {
        self.shared.closed.load(Ordering::Acquire) || lock(&self.shared.failure).is_some()
    }

    /// Waits until the connection breaks (see `Connection::wait_for_failure`).
    pub fn wait_for_failure(&self, timeout: Option<Duration>) -> Option<Error> {
        let shared = &self.shared;
        let failure = lock(&shared.failure);
        let failure = match timeout {
            None => shared.failure_cond.wait_while(failure, |f| f.is_none()).unwrap_or_else(|p| p.into_inner()),
            Some(t) => shared.failure_cond.wait_timeout_while(failure, t, |f| f.is_none()).unwrap_or_else(|p| p.into_inner()).0,
        };
        let error = failure.clone()?;
        drop(failure);
        // The owner closing is not a failure.
        if shared.closing.load(Ordering::Acquire) || shared.closed.load(Ordering::Acquire) {
            return None;
        }
        Some(error)
    }

    pub fn close(&self) {
        if self.closing.swap(true, Ordering::AcqRel) {
            return;
        }
        self.shared.closing.store(true, Ordering::Release);
        if lock(&self.shared.failure).is_none() {
            // Everything sent before is carried out first. The server returns whatever is
            // unacknowledged and deletes the temporary destinations when the connection
            // ends, reply or not.
            let _ = self.shared.call(Request::Close, None);
        }
        self.shared.closed.store(true, Ordering::Release);
        self.shared.fail(Error::closed("connection"));
    }
}

fn unexpected(reply: &Reply) -> Error {
    Error::new(ErrorKind::Io, format!("protocol error: unexpected reply {reply:?}"))
}

pub(crate) struct RemoteSession {
    shared: Arc<Shared>,
    id: u64,
    mode: AckMode,
    prefetch: u32,
    closed: AtomicBool,
    /// AUTO and DUPS_OK: what MessageListeners received (see [`RemoteSession::hold`]).
    held: Mutex<Held>,
}

/// An AUTO or DUPS_OK session's reports of messages handed to listeners, which the
/// listeners' return acknowledges.
#[derive(Default)]
struct Held {
    /// Reports still waiting in the outgoing buffer: where, and their consumer and tag.
    queued: Vec<(QueuedFrame, u64, u64)>,
    /// Some reports left: the server holds their messages until `AcknowledgeHeld`.
    sent: bool,
}

impl RemoteSession {
    pub fn mode(&self) -> AckMode {
        self.mode
    }

    pub fn check_open(&self) -> Result<()> {
        if self.closed.load(Ordering::Acquire) {
            return Err(Error::closed("session"));
        }
        self.shared.check_open()
    }

    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire) || self.shared.check_open().is_err()
    }

    /// Sends a message whose headers are set. PERSISTENT sends outside a transaction wait
    /// for the server (the message is then stored); the others do not, and a failure is
    /// reported by the next call.
    pub fn send(&self, destination: Destination, message: Message) -> Result<()> {
        self.check_open()?;
        self.shared.take_async_error(self.id)?;
        let wait = self.mode != AckMode::Transacted && message.delivery_mode == crate::DeliveryMode::Persistent;
        let request = Request::Send { session: self.id, destination, message };
        if wait {
            self.shared.call(request, None).map(drop)
        } else {
            self.shared.post(self.id, request)
        }
    }

    pub fn create_consumer(self: &Arc<Self>, destination: &Destination, options: &ConsumerOptions) -> Result<RemoteConsumer> {
        self.check_open()?;
        let id = self.shared.next_id.fetch_add(1, Ordering::Relaxed);
        let prefetch = options.prefetch.unwrap_or(self.prefetch);
        let state = Arc::new(ConsumerState {
            id,
            session: self.id,
            prefetch,
            inbox: Mutex::default(),
            cond: Condvar::new(),
            wakeup: Mutex::new(None),
        });
        lock(&self.shared.consumers).insert(id, state.clone());
        let request = Request::CreateConsumer {
            session: self.id,
            consumer: id,
            destination: destination.clone(),
            selector: options.selector.clone(),
            no_local: options.no_local,
            subscription: options.subscription.as_ref().map(|s| WireSubscription {
                name: s.name.clone(),
                durable: s.durable,
                shared: s.shared,
            }),
            prefetch,
        };
        if let Err(e) = self.shared.call(request, None) {
            lock(&self.shared.consumers).remove(&id);
            return Err(e);
        }
        Ok(RemoteConsumer { session: self.clone(), state, closed: AtomicBool::new(false) })
    }

    pub fn create_browser(&self, queue: &Destination, selector: Option<&str>) -> Result<RemoteBrowser> {
        self.check_open()?;
        let id = self.shared.next_id.fetch_add(1, Ordering::Relaxed);
        let request =
            Request::CreateBrowser { session: self.id, browser: id, queue: queue.clone(), selector: selector.map(str::to_owned) };
        self.shared.call(request, None)?;
        Ok(RemoteBrowser { shared: self.shared.clone(), session: self.id, id, page: VecDeque::new(), done: false })
    }

    pub fn unsubscribe(&self, name: &str) -> Result<()> {
        self.check_open()?;
        self.shared.call(Request::Unsubscribe { session: self.id, name: name.to_owned() }, None).map(drop)
    }

    pub fn acknowledge(&self) -> Result<()> {
        self.check_open()?;
        self.shared.take_async_error(self.id)?;
        if self.mode != AckMode::Client {
            return Ok(());
        }
        self.shared.call(Request::Acknowledge { session: self.id }, None).map(drop)
    }

    /// AUTO and DUPS_OK: acknowledges what MessageListeners received, once they returned.
    /// Nothing waits for the server, as with the receipts of `receive`; the
    /// acknowledgement leaves at once in AUTO, lazily (with the next frame, or within
    /// [`LAZY_DELAY`]) in DUPS_OK. A listener's report that is still waiting to leave (a
    /// quick listener) becomes the acknowledgement itself: the same `Consumed` without
    /// `hold`, so such a message costs one frame, as a `receive` does. Reports that left
    /// are acknowledged by one `AcknowledgeHeld`. A failure on the server comes back as
    /// the session's async error, reported by its next send, commit or `acknowledge`.
    /// The server carries out a connection's requests in the order they were sent, so
    /// this acknowledges exactly what was reported before it, and a later `recover` or
    /// close finds it done.
    pub fn acknowledge_held(&self) -> Result<()> {
        self.check_open()?;
        if !self.mode.acknowledges_automatically() {
            return Ok(());
        }
        let (queued, mut sent) = {
            let mut held = lock(&self.held);
            (std::mem::take(&mut held.queued), std::mem::take(&mut held.sent))
        };
        let id = quiet_id(self.id);
        let mut rewritten = false;
        for (at, consumer, tag) in queued {
            let ack = RequestFrame { id, request: Request::Consumed { consumer, tag, hold: false } };
            if self.shared.rewrite_queued(at, &ack) {
                rewritten = true;
            } else {
                sent = true;
            }
        }
        let urgent = self.mode == AckMode::Auto;
        if sent {
            // (Takes the rewritten ones along.)
            self.shared.post_as(self.id, Request::AcknowledgeHeld { session: self.id }, urgent)
        } else if rewritten && urgent {
            self.shared.hurry()
        } else {
            Ok(())
        }
        // A failure of an earlier request without a reply is left for the next send,
        // commit or acknowledge() to report, not this listener's business.
    }

    /// Receive side: `tag` goes to a listener (AUTO, DUPS_OK). The server hears of it
    /// before the listener is done with it: a lazy `Consumed` with `hold`, which leaves
    /// with the next frame (the listener's first request, the consumer's next wait) or
    /// within [`LAZY_DELAY`], so nobody waits for it. Once it left, the server holds the
    /// message as delivered and unacknowledged: if the listener fails (`recover`), the
    /// session or its consumer closes, or the connection drops before
    /// [`Self::acknowledge_held`], it comes back redelivered (`JMSRedelivered`,
    /// `JMSXDeliveryCount` + 1).
    fn hold(&self, consumer: u64, tag: u64) -> Result<()> {
        let report = Request::Consumed { consumer, tag, hold: true };
        let queued = self.shared.post_queued(self.id, report, false)?;
        let mut held = lock(&self.held);
        match queued {
            Some(at) => held.queued.push((at, consumer, tag)),
            None => held.sent = true,
        }
        Ok(())
    }

    pub fn commit(&self) -> Result<()> {
        self.check_open()?;
        if self.mode != AckMode::Transacted {
            return Err(Error::illegal_state("commit() needs a transacted session"));
        }
        // A send of this transaction failed on the server: the transaction cannot commit.
        if let Err(e) = self.shared.take_async_error(self.id) {
            self.shared.call(Request::Rollback { session: self.id }, Some(self.id))?;
            return Err(Error::new(
                ErrorKind::TransactionRolledBack,
                format!("the transaction was rolled back because a send failed: {e}"),
            ));
        }
        self.shared.call(Request::Commit { session: self.id }, None).map(drop)
    }

    pub fn rollback(&self) -> Result<()> {
        self.check_open()?;
        if self.mode != AckMode::Transacted {
            return Err(Error::illegal_state("rollback() needs a transacted session"));
        }
        self.shared.call(Request::Rollback { session: self.id }, Some(self.id)).map(drop)
    }

    pub fn recover(&self) -> Result<()> {
        self.check_open()?;
        if self.mode == AckMode::Transacted {
            return Err(Error::illegal_state("recover() cannot be called on a transacted session; use rollback()"));
        }
        // What listeners got is reported held (the reports still queued leave before
        // the Recover): it comes back redelivered.
        *lock(&self.held) = Held::default();
        self.shared.call(Request::Recover { session: self.id }, Some(self.id)).map(drop)
    }

    pub fn close(&self) {
        if self.closed.swap(true, Ordering::AcqRel) {
            return;
        }
        let consumers: Vec<Arc<ConsumerState>> =
            lock(&self.shared.consumers).values().filter(|c| c.session == self.id).cloned().collect();
        for c in &consumers {
            lock(&c.inbox).closed = true;
            c.wake();
        }
        if self.shared.check_open().is_ok() {
            // What listeners got and nobody acknowledged returns as redelivered.
            let _ = self.shared.call(Request::CloseSession { session: self.id }, None);
        }
        // Every reply to this session's requests came before the one to its close.
        lock(&self.shared.async_errors).sessions.remove(&self.id);
        let mut all = lock(&self.shared.consumers);
        for c in consumers {
            all.remove(&c.id);
        }
    }
}

pub(crate) struct RemoteConsumer {
    session: Arc<RemoteSession>,
    state: Arc<ConsumerState>,
    closed: AtomicBool,
}

impl RemoteConsumer {
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    fn check_open(&self) -> Result<()> {
        if self.is_closed() {
            return Err(Error::closed("consumer"));
        }
        self.session.check_open()
    }

    pub fn set_wakeup(&self, wakeup: Option<Wakeup>) -> Result<()> {
        self.check_open()?;
        let listeners = &self.session.shared.listeners;
        let added = wakeup.is_some();
        let old = std::mem::replace(&mut *lock(&self.state.wakeup), wakeup);
        match (old.is_some(), added) {
            (false, true) => {
                listeners.fetch_add(1, Ordering::SeqCst);
                // The reader thread reads at once from now on.
                self.session.shared.read_cond.notify_all();
            }
            (true, false) => {
                listeners.fetch_sub(1, Ordering::SeqCst);
            }
            _ => {}
        }
        // Outside the lock: dropping a hook may run a finalizer.
        drop(old);
        Ok(())
    }

    /// Waits until `deadline` (`None`: forever) for the next message.
    pub fn receive(&self, deadline: Option<Instant>) -> Result<Option<Delivery>> {
        self.receive_inner(deadline, false)
    }

    /// Like `receive`, for a MessageListener: see `Consumer::receive_held`.
    pub fn receive_held(&self, deadline: Option<Instant>) -> Result<Option<Delivery>> {
        self.receive_inner(deadline, true)
    }

    fn receive_inner(&self, deadline: Option<Instant>, hold: bool) -> Result<Option<Delivery>> {
        let shared = &self.session.shared;
        let hungry = &shared.hungry;
        let mut inbox = lock(&self.state.inbox);
        // Whether lazily queued frames should go out before waiting.
        let mut flush = true;
        // Whether this receive read the socket itself (once past the deadline, it
        // returns; a receive whose deadline has passed still reads what is there).
        let mut read = false;
        loop {
            if self.is_closed() || inbox.closed {
                inbox.stop_waiting(hungry);
                drop(inbox);
                self.check_open()?;
                return Err(Error::closed("consumer"));
            }
            let started = shared.started.load(Ordering::Acquire);
            if started {
                if let Some(d) = inbox.buf.pop_front() {
                    inbox.stop_waiting(hungry);
                    drop(inbox);
                    if hold && self.session.mode.acknowledges_automatically() {
                        self.session.hold(self.state.id, d.tag)?;
                    } else {
                        // Leaves with the next urgent frame (often the reply the
                        // application is about to send), before this consumer waits, or
                        // within LAZY_DELAY.
                        shared.post_lazy(self.state.session, Request::Consumed { consumer: self.state.id, tag: d.tag, hold })?;
                    }
                    return Ok(Some(Delivery::new(Arc::new(d.message), d.delivery_count)));
                }
                if self.state.prefetch == 0 && !inbox.pulled {
                    inbox.pulled = true;
                    inbox.stop_waiting(hungry);
                    // Never write to the socket holding the inbox: the reader needs it
                    // to make progress.
                    drop(inbox);
                    shared.post(self.state.session, Request::Pull { consumer: self.state.id })?;
                    inbox = lock(&self.state.inbox);
                    continue;
                }
            }
            if flush && deadline.is_none_or(|d| d > Instant::now()) {
                // About to wait: the server must have the credits and acknowledgements
                // this consumer owes it first. Then look again, since a delivery may
                // have arrived while the inbox was unlocked.
                flush = false;
                drop(inbox);
                shared.flush_lazy();
                inbox = lock(&self.state.inbox);
                continue;
            }
            let expired = deadline.is_some_and(|d| Instant::now() >= d);
            if expired && read {
                inbox.stop_waiting(hungry);
                return Ok(None);
            }
            if started {
                // Counted as waiting before looking for a reader, so that whoever lets go
                // of the reading sees that someone needs it.
                inbox.start_waiting(hungry);
                if shared.try_lead() {
                    inbox.stop_waiting(hungry);
                    drop(inbox);
                    let state = &self.state;
                    shared.read_until(deadline, || {
                        let inbox = lock(&state.inbox);
                        !inbox.buf.is_empty() || inbox.closed
                    });
                    read = true;
                    inbox = lock(&self.state.inbox);
                    continue;
                }
            }
            inbox = match deadline {
                None => self.state.cond.wait(inbox).unwrap_or_else(|p| p.into_inner()),
                Some(deadline) => {
                    let now = Instant::now();
                    if now >= deadline {
                        inbox.stop_waiting(hungry);
                        return Ok(None);
                    }
                    self.state.cond.wait_timeout(inbox, deadline - now).unwrap_or_else(|p| p.into_inner()).0
                }
            };
            flush = true;
        }
    }

    /// `receiveNoWait`: gives the server one round trip to push a message, since
    /// "ready now" is known only there.
    pub fn receive_no_wait(&self) -> Result<Option<Delivery>> {
        {
            let inbox = lock(&self.state.inbox);
            if !inbox.buf.is_empty() || self.state.prefetch > 0 {
                drop(inbox);
                return self.receive(Some(Instant::now()));
            }
        }
        self.receive(Some(Instant::now() + Duration::from_millis(20)))
    }

    pub fn close(&self) {
        if self.closed.swap(true, Ordering::AcqRel) {
            return;
        }
        {
            let mut inbox = lock(&self.state.inbox);
            inbox.closed = true;
            inbox.buf.clear();
        }
        self.state.wake();
        let shared = &self.session.shared;
        let hook = lock(&self.state.wakeup).take();
        if hook.is_some() {
            shared.listeners.fetch_sub(1, Ordering::SeqCst);
        }
        drop(hook);
        if shared.check_open().is_ok() && !self.session.closed.load(Ordering::Acquire) {
            // A message its listener got stays the session's (held on the server since
            // it was received), to acknowledge or recover.
            let _ = shared.call(Request::CloseConsumer { consumer: self.state.id }, None);
        }
        lock(&shared.consumers).remove(&self.state.id);
    }
}

/// A remote queue browser: fetches the server's snapshot a page at a time.
pub(crate) struct RemoteBrowser {
    shared: Arc<Shared>,
    session: u64,
    id: u64,
    page: VecDeque<Delivery>,
    done: bool,
}

const BROWSE_PAGE: u32 = 256;

impl RemoteBrowser {
    pub fn next(&mut self) -> Option<Delivery> {
        if self.page.is_empty() && !self.done {
            match self.shared.call(Request::BrowseNext { browser: self.id, max: BROWSE_PAGE }, None) {
                Ok(Reply::Browsed(messages)) => {
                    // A page may be short because its messages are large: only an
                    // empty one ends the browse.
                    self.done = messages.is_empty();
                    self.page = messages.into_iter().map(|(count, m)| Delivery::new(Arc::new(m), count)).collect();
                }
                Ok(other) => {
                    tracing::warn!(reply = ?other, "unexpected reply while browsing");
                    self.done = true;
                }
                Err(e) => {
                    tracing::warn!(cause = %e, "browsing failed");
                    self.done = true;
                }
            }
        }
        self.page.pop_front()
    }
}

impl Drop for RemoteBrowser {
    fn drop(&mut self) {
        let _ = self.shared.post(self.session, Request::CloseBrowser { browser: self.id });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse() {
        let u = parse_url("tcp://127.0.0.1:7171?user=al%20ice&password=p%3Dw").unwrap();
        assert_eq!(u.address, "127.0.0.1:7171");
        assert_eq!(u.user.as_deref(), Some("al ice"));
        assert_eq!(u.password.as_deref(), Some("p=w"));
        assert!(parse_url("tcp://localhost").is_err());
        assert!(parse_url("tcp://h:1?color=red").is_err());
        assert!(parse_url("tcp://h:1?user=%zz").is_err());
        // Two hex digits, not whatever a number parser accepts: `%+1` is no escape.
        for bad in ["%+1", "%+f", "%1", "%", "a%é"] {
            let e = parse_url(&format!("tcp://h:1?password={bad}")).err().expect(bad);
            assert!(e.message().contains("percent-escape"), "{bad}: {e}");
        }
        assert!(!u.tls);
    }

    #[test]
    fn a_listeners_report_becomes_its_acknowledgement_in_place() {
        // `acknowledge_held` rewrites a queued `Consumed` with `hold` into one without,
        // which needs both to encode to the same length.
        for (consumer, tag) in [(1, 1), (7, 300), (1 << 20, u64::from(u32::MAX) + 1), (u64::MAX >> 1, u64::MAX)] {
            let frame = |hold| {
                let mut out = Vec::new();
                let request = Request::Consumed { consumer, tag, hold };
                wire::encode_into(&mut out, FrameType::Request, &RequestFrame { id: quiet_id(consumer), request });
                out
            };
            assert_eq!(frame(true).len(), frame(false).len());
            assert_ne!(frame(true), frame(false));
        }
    }

    #[test]
    fn tls_urls_parse() {
        let u = parse_url("tcps://broker.example:7172?ca=/etc/herald/ca%20file.pem&user=u").unwrap();
        assert!(u.tls);
        assert_eq!(u.address, "broker.example:7172");
        assert_eq!(u.ca.as_deref(), Some(std::path::Path::new("/etc/herald/ca file.pem")));
        assert_eq!(u.user.as_deref(), Some("u"));
        // A CA means nothing without TLS: say so rather than connect in the clear.
        let e = parse_url("tcp://h:1?ca=/x.pem").err().unwrap();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument);
        assert!(e.message().contains("tcps://"), "{e}");
        assert!(parse_url("ssl://h:1").is_err());
    }
}
