use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::task::{Context, Poll};

use super::browser::Browser;
use super::consumer::{Consumer, ConsumerOptions};
use super::producer::Producer;
use super::remote::RemoteSession;
use crate::broker::{Applying, Route, SubscriptionRequest};
use crate::destination::Destination;
use crate::error::{Error, Result};
use crate::message::Message;
use crate::queue::ConsumerLink;
use crate::selector::Selector;
use crate::session::{AckMode, ConsumerCore, SessionCore};
use crate::topic::SubscriptionKind;

/// A send under way (see [`Session::send_started`]): wait for it, or await it.
///
/// Dropped before it finished, it finishes on the dropping thread, blocking until the
/// journal has the message: an abandoned send still lands once, as a send that returned
/// would.
#[must_use = "a send under way must be waited for before it counts as sent"]
pub struct PendingSend {
    applying: Option<Applying>,
}

impl PendingSend {
    fn done() -> PendingSend {
        PendingSend { applying: None }
    }

    /// Blocks until the message is stored and visible to consumers, or the send failed.
    pub fn wait(mut self) -> Result<()> {
        self.applying.take().map_or(Ok(()), Applying::wait)
    }
}

/// Waiting without blocking the task's thread: the journal commits on its own thread.
impl Future for PendingSend {
    type Output = Result<()>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        let Some(applying) = self.applying.as_mut() else { return Poll::Ready(Ok(())) };
        let written = match applying.commit.as_mut() {
            Some(commit) => match Pin::new(commit).poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(written) => written,
            },
            None => Ok(()),
        };
        let applying = self.applying.take().expect("checked above");
        Poll::Ready(applying.finish(written))
    }
}

impl Drop for PendingSend {
    fn drop(&mut self) {
        if let Some(Err(e)) = self.applying.take().map(Applying::wait) {
            tracing::debug!(cause = %e, "an abandoned send failed");
        }
    }
}

/// A single-threaded context for sending and receiving, with its acknowledgement mode.
pub struct Session {
    imp: SessionImp,
}

/// A session of a local or a remote connection; producers share it.
#[derive(Clone)]
pub(crate) enum SessionImp {
    Local(Arc<SessionCore>),
    Remote(Arc<RemoteSession>),
}

impl SessionImp {
    pub fn check_open(&self) -> Result<()> {
        match self {
            SessionImp::Local(core) => core.check_open(),
            SessionImp::Remote(remote) => remote.check_open(),
        }
    }

    /// Sends a message whose headers are set, with `route` caching the queue `destination` names (see [`Route`]).
    pub fn send_routed(&self, destination: Destination, message: Message, route: Option<&Route>) -> Result<()> {
        match self {
            SessionImp::Local(core) => {
                destination.check_named()?;
                core.send(destination, Arc::new(message), route)
            }
            SessionImp::Remote(remote) => remote.send(destination, message),
        }
    }
}

impl Session {
    pub(crate) fn new(imp: SessionImp) -> Session {
        Session { imp }
    }

    pub fn ack_mode(&self) -> AckMode {
        match &self.imp {
            SessionImp::Local(core) => core.mode,
            SessionImp::Remote(remote) => remote.mode(),
        }
    }

    pub fn is_transacted(&self) -> bool {
        self.ack_mode() == AckMode::Transacted
    }

    /// A producer for `destination`, or an unidentified one (`None`) that names the
    /// destination on each send.
    pub fn create_producer(&self, destination: Option<Destination>) -> Result<Producer> {
        self.imp.check_open()?;
        Ok(Producer::new(self.imp.clone(), destination))
    }

    /// Sends a message whose headers are already set, as a remote client's producer set
    /// them: the server's way in (applications use a [`Producer`]). The journal write of
    /// a PERSISTENT message to an in-process broker with a durable journal is only
    /// started: the caller does something else meanwhile (a server serves other
    /// clients), and the message counts as sent once the returned [`PendingSend`]
    /// finishes. Any other send is done when this returns.
    #[doc(hidden)]
    pub fn send_started(&self, destination: Destination, message: Message) -> Result<PendingSend> {
        self.imp.check_open()?;
        match &self.imp {
            SessionImp::Local(core) => {
                destination.check_named()?;
                Ok(PendingSend { applying: core.send_started(destination, Arc::new(message), None)? })
            }
            SessionImp::Remote(remote) => remote.send(destination, message).map(|()| PendingSend::done()),
        }
    }

    /// A consumer of a queue, or of a topic through the subscription `options` describe.
    pub fn create_consumer(&self, destination: &Destination, options: &ConsumerOptions) -> Result<Consumer> {
        let core = match &self.imp {
            SessionImp::Local(core) => core,
            SessionImp::Remote(remote) => return Ok(Consumer::remote(remote.create_consumer(destination, options)?)),
        };
        core.check_open()?;
        destination.check_named()?;
        let selector = Selector::parse_optional(options.selector.as_deref())?;
        let broker = core.broker();
        let connection = &core.connection;
        let (queue, subscription, link_selector) = if destination.is_queue() {
            if options.subscription.is_some() {
                return Err(Error::invalid_destination(format!(
                    "{destination} is a queue; subscriptions exist only on topics"
                )));
            }
            (broker.queue_for_consumer(destination, connection.id)?, None, selector)
        } else {
            let client_id = connection.client_id.lock().unwrap_or_else(|p| p.into_inner()).clone();
            let kind = match &options.subscription {
                None => SubscriptionKind::NonDurable,
                Some(sub) if sub.name.is_empty() => {
                    return Err(Error::invalid_argument("a subscription name must not be empty"))
                }
                Some(sub) if sub.durable => {
                    if !sub.shared && client_id.is_none() {
                        return Err(Error::illegal_state(
                            "an unshared durable subscription needs a connection with a client ID",
                        ));
                    }
                    SubscriptionKind::Durable { client_id, name: sub.name.clone(), shared: sub.shared }
                }
                Some(sub) => SubscriptionKind::Shared { client_id, name: sub.name.clone() },
            };
            let sub = broker.subscribe(SubscriptionRequest {
                topic: destination,
                kind,
                selector,
                no_local: options.no_local,
                connection: connection.id,
            })?;
            // The subscription applies the selector before storing, so its consumers
            // take everything it holds.
            (sub.queue.clone(), Some(sub), None)
        };
        let prefetch = options.prefetch.unwrap_or(connection.prefetch);
        let link = Arc::new(ConsumerLink::new(broker.next_id(), link_selector, prefetch));
        queue.add_consumer(link.clone());
        let consumer = Arc::new(ConsumerCore { link, queue, subscription, prefetch, closed: AtomicBool::new(false) });
        core.add_consumer(consumer.clone())?;
        Ok(Consumer::new(core.clone(), consumer))
    }

    /// A browser of the messages waiting on a queue, optionally filtered.
    pub fn create_browser(&self, queue: &Destination, selector: Option<&str>) -> Result<Browser> {
        self.imp.check_open()?;
        if !queue.is_queue() {
            return Err(Error::invalid_destination(format!("{queue} is not a queue; only queues can be browsed")));
        }
        match &self.imp {
            SessionImp::Local(core) => {
                queue.check_named()?;
                let selector = Selector::parse_optional(selector)?;
                let q = core.broker().queue_for_consumer(queue, core.connection.id)?;
                Ok(Browser::new(core.broker().clone(), q, selector))
            }
            SessionImp::Remote(remote) => Ok(Browser::remote(remote.create_browser(queue, selector)?)),
        }
    }

    /// Deletes the durable subscription `name` of this connection's client ID.
    pub fn unsubscribe(&self, name: &str) -> Result<()> {
        match &self.imp {
            SessionImp::Local(core) => {
                core.check_open()?;
                let client_id = core.connection.client_id.lock().unwrap_or_else(|p| p.into_inner()).clone();
                core.broker().unsubscribe(client_id.as_deref(), name)
            }
            SessionImp::Remote(remote) => remote.unsubscribe(name),
        }
    }

    /// CLIENT_ACKNOWLEDGE: acknowledges everything this session has received.
    pub fn acknowledge(&self) -> Result<()> {
        match &self.imp {
            SessionImp::Local(core) => core.acknowledge(),
            SessionImp::Remote(remote) => remote.acknowledge(),
        }
    }

    /// AUTO/DUPS_OK: acknowledges what [`Consumer::receive_held`] handed out, once the
    /// listener has processed it.
    pub fn acknowledge_held(&self) -> Result<()> {
        match &self.imp {
            SessionImp::Local(core) => core.acknowledge_held(),
            SessionImp::Remote(remote) => remote.acknowledge_held(),
        }
    }

    pub fn commit(&self) -> Result<()> {
        match &self.imp {
            SessionImp::Local(core) => core.commit(),
            SessionImp::Remote(remote) => remote.commit(),
        }
    }

    pub fn rollback(&self) -> Result<()> {
        match &self.imp {
            SessionImp::Local(core) => core.rollback(),
            SessionImp::Remote(remote) => remote.rollback(),
        }
    }

    /// Redelivers, from the oldest, every message received and not acknowledged.
    pub fn recover(&self) -> Result<()> {
        match &self.imp {
            SessionImp::Local(core) => core.recover(),
            SessionImp::Remote(remote) => remote.recover(),
        }
    }

    pub fn is_closed(&self) -> bool {
        match &self.imp {
            SessionImp::Local(core) => core.is_closed(),
            SessionImp::Remote(remote) => remote.is_closed(),
        }
    }

    /// Closes the session and its consumers; unacknowledged messages are redelivered and
    /// uncommitted sends discarded.
    pub fn close(&self) {
        match &self.imp {
            SessionImp::Local(core) => core.close(),
            SessionImp::Remote(remote) => remote.close(),
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.close();
    }
}
