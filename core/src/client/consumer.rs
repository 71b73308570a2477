use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::message::Delivery;
use crate::queue::Wakeup;
use crate::session::{ConsumerCore, SessionCore};

/// What kind of consumer to create.
#[derive(Clone, Debug, Default)]
pub struct ConsumerOptions {
    /// A JMS message selector; `None` or blank selects everything.
    pub selector: Option<String>,
    /// Topics only: skip messages published by this consumer's own connection.
    pub no_local: bool,
    /// Topics only: a named (durable and/or shared) subscription.
    pub subscription: Option<SubscriptionOptions>,
    /// Overrides the connection's prefetch.
    pub prefetch: Option<u32>,
}

/// A named topic subscription.
#[derive(Clone, Debug)]
pub struct SubscriptionOptions {
    pub name: String,
    /// Kept while no consumer is attached, until unsubscribed.
    pub durable: bool,
    /// Several consumers may attach and compete for its messages (JMS 2.0).
    pub shared: bool,
}

/// Receives messages from a queue or a topic subscription.
pub struct Consumer {
    session: Arc<SessionCore>,
    core: Arc<ConsumerCore>,
}

impl Consumer {
    pub(crate) fn new(session: Arc<SessionCore>, core: Arc<ConsumerCore>) -> Consumer {
        Consumer { session, core }
    }

    /// Waits for the next message, however long it takes. Closing the consumer or its
    /// session from another thread ends the wait with an `IllegalState` error.
    pub fn receive(&self) -> Result<Option<Delivery>> {
        self.session.receive(&self.core, None, false)
    }

    /// Waits up to `timeout` for the next message.
    pub fn receive_timeout(&self, timeout: Duration) -> Result<Option<Delivery>> {
        let deadline = Instant::now().checked_add(timeout);
        self.session.receive(&self.core, deadline, false)
    }

    /// The next message if one is ready now.
    pub fn receive_no_wait(&self) -> Result<Option<Delivery>> {
        self.session.receive(&self.core, Some(Instant::now()), false)
    }

    /// Receives for a MessageListener: like [`Consumer::receive_timeout`] (`None` waits
    /// forever), but in AUTO_ACKNOWLEDGE and DUPS_OK_ACKNOWLEDGE sessions the message
    /// stays unacknowledged until the listener returns and the caller calls
    /// [`Session::acknowledge_held`](super::Session::acknowledge_held); if the listener
    /// fails, [`Session::recover`](super::Session::recover) redelivers it.
    pub fn receive_held(&self, timeout: Option<Duration>) -> Result<Option<Delivery>> {
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        self.session.receive(&self.core, deadline, true)
    }

    /// Registers a hook called when this consumer may have a message to receive, so a
    /// caller can serve many consumers without a blocked thread each: on the hook, call
    /// [`Consumer::receive_no_wait`] until it returns `None`. The hook runs on whatever
    /// thread made the message available; it must only signal, not call into Herald.
    pub fn set_wakeup(&self, wakeup: Option<Wakeup>) -> Result<()> {
        self.check_open()?;
        self.core.link.set_wakeup(wakeup);
        Ok(())
    }

    fn check_open(&self) -> Result<()> {
        if self.core.closed.load(Ordering::Acquire) {
            return Err(Error::closed("consumer"));
        }
        self.session.check_open()
    }

    pub fn is_closed(&self) -> bool {
        self.core.closed.load(Ordering::Acquire)
    }

    /// Closes the consumer. Messages it prefetched go back to the queue; what the
    /// application received stays unacknowledged in the session.
    pub fn close(&self) {
        self.session.close_consumer(&self.core);
    }
}

impl Drop for Consumer {
    fn drop(&mut self) {
        self.close();
    }
}
