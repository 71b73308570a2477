use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use super::remote::RemoteConnection;
use super::session::{Session, SessionImp};
use super::vm::VmUrl;
use crate::broker::{Broker, DestinationStats};
use crate::destination::{Destination, DestinationKind};
use crate::error::{Error, Result};
use crate::queue::lock;
use crate::session::{AckMode, ConnectionCore, SessionCore};

/// How to connect.
#[derive(Clone, Debug)]
pub struct ConnectOptions {
    pub user: Option<String>,
    pub password: Option<String>,
    /// Set the client ID at connect time (it can also be set once, before first use).
    pub client_id: Option<String>,
    /// How many messages a consumer may hold ahead of `receive`; 0 fetches one at a time.
    pub prefetch: u32,
}

impl Default for ConnectOptions {
    fn default() -> ConnectOptions {
        ConnectOptions { user: None, password: None, client_id: None, prefetch: 1000 }
    }
}

/// A connection to a broker: one in this process (`vm://NAME`) or a server
/// (`tcp://host:port`). Delivery starts with [`Connection::start`].
pub struct Connection {
    imp: Imp,
}

enum Imp {
    Local(LocalConnection),
    Remote(RemoteConnection),
}

/// A connection to a broker in this process.
struct LocalConnection {
    core: Arc<ConnectionCore>,
    sessions: Mutex<Vec<Arc<SessionCore>>>,
    temporaries: Mutex<Vec<Destination>>,
    /// Once the connection has been used, its client ID can no longer be set.
    used: AtomicBool,
    /// Set (and `ended_cond` notified) when the connection closes.
    ended: Mutex<bool>,
    ended_cond: Condvar,
}

impl Connection {
    /// Connects to `vm://NAME` (a broker in this process, created on first use) or to a
    /// server at `tcp://host:port` (credentials as `?user=U&password=P` or in `options`),
    /// or over TLS at `tcps://host:port` (`&ca=PATH` names a PEM file of certificates to
    /// trust; without it the system's trusted roots; needs herald-core's `tls` feature).
    /// `vm://NAME?dataDir=PATH` keeps persistent messages in a SQLite journal in `PATH`
    /// (`&sync=os` trades power-loss durability for speed; `&maxBytes=N&onFull=block`
    /// bounds it and holds producers back when full: see `docs/journal.md`); without
    /// `dataDir` the broker lives in memory.
    pub fn open(url: &str, options: &ConnectOptions) -> Result<Connection> {
        if url.starts_with("tcp://") || url.starts_with("tcps://") {
            return Ok(Connection { imp: Imp::Remote(RemoteConnection::open(url, options)?) });
        }
        if !url.starts_with("vm://") {
            return Err(Error::invalid_argument(format!(
                "unsupported URL \"{url}\": expected vm://NAME, tcp://host:port or tcps://host:port"
            )));
        }
        let broker = VmUrl::parse(url)?.broker()?;
        Connection::to_broker(&broker, options)
    }

    /// Connects to a broker this program holds (the server, an embedding application).
    pub fn to_broker(broker: &Broker, options: &ConnectOptions) -> Result<Connection> {
        Ok(Connection { imp: Imp::Local(LocalConnection::to_broker(broker, options)?) })
    }

    pub fn client_id(&self) -> Option<String> {
        match &self.imp {
            Imp::Local(c) => c.client_id(),
            Imp::Remote(c) => c.client_id(),
        }
    }

    /// Sets the client ID; allowed once, before the connection is used. Client IDs are
    /// unique per broker.
    pub fn set_client_id(&self, id: &str) -> Result<()> {
        match &self.imp {
            Imp::Local(c) => c.set_client_id(id),
            Imp::Remote(c) => c.set_client_id(id),
        }
    }

    /// Starts (or resumes) delivery to this connection's consumers.
    pub fn start(&self) -> Result<()> {
        match &self.imp {
            Imp::Local(c) => c.start(),
            Imp::Remote(c) => c.start(),
        }
    }

    /// Pauses delivery; `receive` waits until `start`.
    pub fn stop(&self) -> Result<()> {
        match &self.imp {
            Imp::Local(c) => c.stop(),
            Imp::Remote(c) => c.stop(),
        }
    }

    pub fn create_session(&self, mode: AckMode) -> Result<Session> {
        match &self.imp {
            Imp::Local(c) => c.create_session(mode),
            Imp::Remote(c) => Ok(Session::new(SessionImp::Remote(c.create_session(mode)?))),
        }
    }

    /// A temporary queue that lives as long as this connection; only this connection may
    /// consume from it.
    pub fn create_temporary_queue(&self) -> Result<Destination> {
        self.create_temporary(DestinationKind::TemporaryQueue)
    }

    pub fn create_temporary_topic(&self) -> Result<Destination> {
        self.create_temporary(DestinationKind::TemporaryTopic)
    }

    fn create_temporary(&self, kind: DestinationKind) -> Result<Destination> {
        match &self.imp {
            Imp::Local(c) => c.create_temporary(kind),
            Imp::Remote(c) => c.create_temporary(kind),
        }
    }

    /// Deletes a temporary destination this connection created. Refused while it has
    /// consumers.
    pub fn delete_temporary(&self, dest: &Destination) -> Result<()> {
        match &self.imp {
            Imp::Local(c) => c.delete_temporary(dest),
            Imp::Remote(c) => c.delete_temporary(dest),
        }
    }

    pub fn is_closed(&self) -> bool {
        match &self.imp {
            Imp::Local(c) => c.core.closed.load(Ordering::Acquire),
            Imp::Remote(c) => c.is_closed(),
        }
    }

    /// The broker-wide identity of this connection (what noLocal compares).
    pub fn id(&self) -> u64 {
        match &self.imp {
            Imp::Local(c) => c.core.id,
            Imp::Remote(c) => c.id(),
        }
    }

    /// Statistics of every destination of the broker, for `herald stat`. Over tcp://
    /// this needs the admin permission.
    pub fn stats(&self) -> Result<Vec<DestinationStats>> {
        match &self.imp {
            Imp::Local(c) => {
                c.check_open()?;
                Ok(c.core.broker.stats())
            }
            Imp::Remote(c) => Ok(c
                .stats()?
                .into_iter()
                .map(|l| DestinationStats {
                    store: l.store,
                    destination: l.destination,
                    depth: l.depth as usize,
                    consumers: l.consumers as usize,
                    enqueued: l.enqueued,
                    acknowledged: l.acknowledged,
                })
                .collect()),
        }
    }

    /// Waits until the connection fails, for at most `timeout` (`None`: without limit),
    /// and returns why it failed: a `tcp://` connection whose server went away or stopped
    /// answering. Returns `None` when the timeout passes or the connection is (or gets)
    /// closed by its owner, which is not a failure; a `vm://` connection never fails.
    ///
    /// This is how a binding learns of a failure no call reported (the JMS
    /// ExceptionListener): one thread of the binding's own sits in this call, so no
    /// thread of Herald's ever calls into foreign code, and closing the connection
    /// releases it.
    pub fn wait_for_failure(&self, timeout: Option<Duration>) -> Option<Error> {
        match &self.imp {
            Imp::Local(c) => {
                c.wait_closed(timeout);
                None
            }
            Imp::Remote(c) => c.wait_for_failure(timeout),
        }
    }

    /// Closes every session (returning what they held unacknowledged), deletes the
    /// temporary destinations and frees the client ID. Closing twice is harmless.
    pub fn close(&self) {
        match &self.imp {
            Imp::Local(c) => c.close(),
            Imp::Remote(c) => c.close(),
        }
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.close();
    }
}

impl LocalConnection {
    fn to_broker(broker: &Broker, options: &ConnectOptions) -> Result<LocalConnection> {
        let core = Arc::new(ConnectionCore {
            id: broker.next_id(),
            broker: broker.clone(),
            started: AtomicBool::new(false),
            closed: AtomicBool::new(false),
            client_id: Mutex::new(None),
            prefetch: options.prefetch,
        });
        let connection = LocalConnection {
            core,
            sessions: Mutex::default(),
            temporaries: Mutex::default(),
            used: AtomicBool::new(false),
            ended: Mutex::new(false),
            ended_cond: Condvar::new(),
        };
        if let Some(id) = &options.client_id {
            connection.set_client_id(id)?;
        }
        Ok(connection)
    }

    fn check_open(&self) -> Result<()> {
        if self.core.closed.load(Ordering::Acquire) {
            return Err(Error::closed("connection"));
        }
        Ok(())
    }

    /// Marks the connection used, which fixes its client ID.
    fn touch(&self) -> Result<()> {
        self.check_open()?;
        self.used.store(true, Ordering::Release);
        Ok(())
    }

    fn client_id(&self) -> Option<String> {
        lock(&self.core.client_id).clone()
    }

    /// Sets the client ID; allowed once, before the connection is used. Client IDs are
    /// unique per broker.
    fn set_client_id(&self, id: &str) -> Result<()> {
        self.check_open()?;
        let mut current = lock(&self.core.client_id);
        if current.is_some() {
            return Err(Error::illegal_state("the client ID is already set"));
        }
        if self.used.load(Ordering::Acquire) {
            return Err(Error::illegal_state("the client ID must be set before the connection is used"));
        }
        self.core.broker.claim_client_id(id)?;
        *current = Some(id.to_owned());
        Ok(())
    }

    /// Starts (or resumes) delivery to this connection's consumers.
    fn start(&self) -> Result<()> {
        self.touch()?;
        if !self.core.started.swap(true, Ordering::AcqRel) {
            self.poke_consumers();
        }
        Ok(())
    }

    /// Pauses delivery; `receive` waits until `start`.
    fn stop(&self) -> Result<()> {
        self.touch()?;
        self.core.started.store(false, Ordering::Release);
        Ok(())
    }

    fn poke_consumers(&self) {
        let sessions = lock(&self.sessions).clone();
        for s in sessions {
            for c in s.consumers() {
                c.link.poke();
            }
        }
    }

    fn create_session(&self, mode: AckMode) -> Result<Session> {
        self.touch()?;
        let core = Arc::new(SessionCore::new(self.core.clone(), mode));
        let mut sessions = lock(&self.sessions);
        sessions.retain(|s| !s.is_closed());
        sessions.push(core.clone());
        Ok(Session::new(SessionImp::Local(core)))
    }

    fn create_temporary(&self, kind: DestinationKind) -> Result<Destination> {
        self.touch()?;
        let dest = self.core.broker.create_temporary(kind, self.core.id);
        lock(&self.temporaries).push(dest.clone());
        Ok(dest)
    }

    /// Deletes a temporary destination this connection created. Refused while it has
    /// consumers.
    fn delete_temporary(&self, dest: &Destination) -> Result<()> {
        self.check_open()?;
        let mut temporaries = lock(&self.temporaries);
        if !temporaries.contains(dest) {
            return Err(Error::invalid_destination(format!("{dest} is not a temporary destination of this connection")));
        }
        if self.core.broker.temporary_in_use(dest) {
            return Err(Error::illegal_state(format!("{dest} still has consumers")));
        }
        self.core.broker.delete_temporary(dest)?;
        temporaries.retain(|d| d != dest);
        Ok(())
    }

    /// Closes every session (returning what they held unacknowledged), deletes the
    /// temporary destinations and frees the client ID. Closing twice is harmless.
    fn close(&self) {
        if self.core.closed.swap(true, Ordering::AcqRel) {
            return;
        }
        let sessions = std::mem::take(&mut *lock(&self.sessions));
        for s in sessions {
            s.close();
        }
        for dest in std::mem::take(&mut *lock(&self.temporaries)) {
            let _ = self.core.broker.delete_temporary(&dest);
        }
        if let Some(id) = lock(&self.core.client_id).take() {
            self.core.broker.release_client_id(&id);
        }
        *lock(&self.ended) = true;
        self.ended_cond.notify_all();
    }

    /// Waits until the connection is closed or `timeout` passes.
    fn wait_closed(&self, timeout: Option<Duration>) {
        let ended = lock(&self.ended);
        match timeout {
            None => drop(self.ended_cond.wait_while(ended, |e| !*e).unwrap_or_else(|p| p.into_inner())),
            Some(t) => drop(self.ended_cond.wait_timeout_while(ended, t, |e| !*e).unwrap_or_else(|p| p.into_inner())),
        }
    }
}

