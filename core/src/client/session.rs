use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use super::browser::Browser;
use super::consumer::{Consumer, ConsumerOptions};
use super::producer::Producer;
use crate::broker::{now_millis, SubscriptionRequest};
use crate::destination::Destination;
use crate::error::{Error, Result};
use crate::queue::ConsumerLink;
use crate::selector::Selector;
use crate::session::{AckMode, ConsumerCore, SessionCore};
use crate::topic::SubscriptionKind;

/// A single-threaded context for sending and receiving, with its acknowledgement mode.
pub struct Session {
    core: Arc<SessionCore>,
}

impl Session {
    pub(crate) fn new(core: Arc<SessionCore>) -> Session {
        Session { core }
    }

    pub fn ack_mode(&self) -> AckMode {
        self.core.mode
    }

    pub fn is_transacted(&self) -> bool {
        self.core.mode == AckMode::Transacted
    }

    /// A producer for `destination`, or an unidentified one (`None`) that names the
    /// destination on each send.
    pub fn create_producer(&self, destination: Option<Destination>) -> Result<Producer> {
        self.core.check_open()?;
        Ok(Producer::new(self.core.clone(), destination))
    }

    /// A consumer of a queue, or of a topic through the subscription `options` describe.
    pub fn create_consumer(&self, destination: &Destination, options: &ConsumerOptions) -> Result<Consumer> {
        self.core.check_open()?;
        let selector = Selector::parse_optional(options.selector.as_deref())?;
        let broker = self.core.broker();
        let connection = &self.core.connection;
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
        let core = Arc::new(ConsumerCore { link, queue, subscription, prefetch, closed: AtomicBool::new(false) });
        self.core.add_consumer(core.clone())?;
        Ok(Consumer::new(self.core.clone(), core))
    }

    /// A browser of the messages waiting on a queue, optionally filtered.
    pub fn create_browser(&self, queue: &Destination, selector: Option<&str>) -> Result<Browser> {
        self.core.check_open()?;
        if !queue.is_queue() {
            return Err(Error::invalid_destination(format!("{queue} is not a queue; only queues can be browsed")));
        }
        let selector = Selector::parse_optional(selector)?;
        let q = self.core.broker().queue_for_consumer(queue, self.core.connection.id)?;
        Ok(Browser::new(self.core.broker().clone(), q.snapshot(selector.as_ref(), now_millis())))
    }

    /// Deletes the durable subscription `name` of this connection's client ID.
    pub fn unsubscribe(&self, name: &str) -> Result<()> {
        self.core.check_open()?;
        let client_id = self.core.connection.client_id.lock().unwrap_or_else(|p| p.into_inner()).clone();
        self.core.broker().unsubscribe(client_id.as_deref(), name)
    }

    /// CLIENT_ACKNOWLEDGE: acknowledges everything this session has received.
    pub fn acknowledge(&self) -> Result<()> {
        self.core.acknowledge()
    }

    /// AUTO/DUPS_OK: acknowledges what [`Consumer::receive_held`] handed out, once the
    /// listener has processed it.
    pub fn acknowledge_held(&self) -> Result<()> {
        self.core.acknowledge_held()
    }

    pub fn commit(&self) -> Result<()> {
        self.core.commit()
    }

    pub fn rollback(&self) -> Result<()> {
        self.core.rollback()
    }

    /// Redelivers, from the oldest, every message received and not acknowledged.
    pub fn recover(&self) -> Result<()> {
        self.core.recover()
    }

    pub fn is_closed(&self) -> bool {
        self.core.is_closed()
    }

    /// Closes the session and its consumers; unacknowledged messages are redelivered and
    /// uncommitted sends discarded.
    pub fn close(&self) {
        self.core.close();
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.core.close();
    }
}
