use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::remote::RemoteConsumer;
use crate::error::{Error, Result};
use crate::message::Delivery;
use crate::queue::Wakeup;
use crate::session::{ConsumerCore, SessionCore, Wait};

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
    imp: Imp,
}

enum Imp {
    Local(LocalConsumer),
    Remote(RemoteConsumer),
}

struct LocalConsumer {
    session: Arc<SessionCore>,
    core: Arc<ConsumerCore>,
}

impl Consumer {
    pub(crate) fn new(session: Arc<SessionCore>, core: Arc<ConsumerCore>) -> Consumer {
        Consumer { imp: Imp::Local(LocalConsumer { session, core }) }
    }

    pub(crate) fn remote(consumer: RemoteConsumer) -> Consumer {
        Consumer { imp: Imp::Remote(consumer) }
    }

    fn receive_within(&self, timeout: Option<Duration>) -> Result<Option<Delivery>> {
        match &self.imp {
            Imp::Local(c) => c.session.receive(&c.core, Wait::from_timeout(timeout), false),
            Imp::Remote(c) => c.receive(timeout.and_then(|t| Instant::now().checked_add(t))),
        }
    }

    /// Waits for the next message, however long it takes. Closing the consumer or its
    /// session from another thread ends the wait with an `IllegalState` error.
    pub fn receive(&self) -> Result<Option<Delivery>> {
        self.receive_within(None)
    }

    /// Waits up to `timeout` for the next message.
    pub fn receive_timeout(&self, timeout: Duration) -> Result<Option<Delivery>> {
        self.receive_within(Some(timeout))
    }

    /// The next message if one is ready now. Over tcp:// a consumer without prefetch
    /// gives the server one short round trip to answer.
    pub fn receive_no_wait(&self) -> Result<Option<Delivery>> {
        match &self.imp {
            Imp::Local(c) => c.session.receive(&c.core, Wait::NO_WAIT, false),
            Imp::Remote(c) => c.receive_no_wait(),
        }
    }

    /// Receives for a MessageListener: like [`Consumer::receive_timeout`] (`None` waits
    /// forever), but in AUTO_ACKNOWLEDGE and DUPS_OK_ACKNOWLEDGE sessions the message
    /// stays unacknowledged until the listener returns and the caller calls
    /// [`Session::acknowledge_held`](super::Session::acknowledge_held); if the listener
    /// fails, [`Session::recover`](super::Session::recover) redelivers it.
    pub fn receive_held(&self, timeout: Option<Duration>) -> Result<Option<Delivery>> {
        match &self.imp {
            Imp::Local(c) => c.session.receive(&c.core, Wait::from_timeout(timeout), true),
            Imp::Remote(c) => c.receive_held(timeout.and_then(|t| Instant::now().checked_add(t))),
        }
    }

    /// The server's side of a remote consumer: the next message ready now, held in
    /// flight under the returned tag (not acknowledged, not yet received) until
    /// [`Consumer::consumed`]. Closing, recovering or rolling back returns in-flight
    /// messages to the queue as never delivered.
    #[doc(hidden)]
    pub fn take_for_remote(&self) -> Result<Option<(u64, Delivery)>> {
        match &self.imp {
            Imp::Local(c) => {
                if c.core.closed.load(Ordering::Acquire) {
                    return Err(Error::closed("consumer"));
                }
                c.session.take_for_remote(&c.core)
            }
            Imp::Remote(_) => Err(Error::illegal_state("only a consumer of a broker in this process can serve a remote one")),
        }
    }

    /// Whether [`Consumer::take_for_remote`] may wait for the journal (see
    /// `MessageQueue::taking_may_wait`), so a server calls it off its async threads.
    #[doc(hidden)]
    pub fn taking_may_wait(&self) -> bool {
        match &self.imp {
            Imp::Local(c) => c.core.queue.taking_may_wait(),
            Imp::Remote(_) => false,
        }
    }

    /// The remote application received the in-flight message `tag`; it is now
    /// acknowledged or held for acknowledgement as the session's mode says.
    #[doc(hidden)]
    pub fn consumed(&self, tag: u64, hold: bool) -> Result<()> {
        match &self.imp {
            Imp::Local(c) => c.session.consumed(tag, hold),
            Imp::Remote(_) => Err(Error::illegal_state("only a consumer of a broker in this process can serve a remote one")),
        }
    }

    /// Registers a hook called when this consumer may have a message to receive, so a
    /// caller can serve many consumers without a blocked thread each: on the hook, call
    /// [`Consumer::receive_no_wait`] until it returns `None`. The hook runs on whatever
    /// thread made the message available; it must only signal, not call into Herald.
    pub fn set_wakeup(&self, wakeup: Option<Wakeup>) -> Result<()> {
        match &self.imp {
            Imp::Local(c) => {
                if c.core.closed.load(Ordering::Acquire) {
                    return Err(Error::closed("consumer"));
                }
                c.session.check_open()?;
                c.core.link.set_wakeup(wakeup);
                Ok(())
            }
            Imp::Remote(c) => c.set_wakeup(wakeup),
        }
    }

    pub fn is_closed(&self) -> bool {
        match &self.imp {
            Imp::Local(c) => c.core.closed.load(Ordering::Acquire),
            Imp::Remote(c) => c.is_closed(),
        }
    }

    /// Closes the consumer. Messages it prefetched go back to the queue; what the
    /// application received stays unacknowledged in the session.
    pub fn close(&self) {
        match &self.imp {
            Imp::Local(c) => c.session.close_consumer(&c.core),
            Imp::Remote(c) => c.close(),
        }
    }
}

impl Drop for Consumer {
    fn drop(&mut self) {
        self.close();
    }
}
