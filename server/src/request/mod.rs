//! What one client connection may ask, carried out on its broker-side connection.
//!
//! Each client connection owns a local [`herald_core::client::Connection`] to the
//! broker; its sessions, consumers and browsers mirror the client's under the IDs the
//! client chose. Dropping the handler closes that connection, which returns everything
//! unacknowledged and deletes the temporary destinations.

mod consume;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use herald_core::client::{AckMode, Browser, ConnectOptions, Connection, PendingSend, Session};
use herald_core::wire::{Frame, Reply, Request, RequestFrame, StatLine};
use herald_core::{Broker, DeliveryMode, Destination, Error, ErrorKind, Message, Result};
use tokio::sync::Notify;

use crate::auth::{Access, Permission};
use crate::config::Limits;

pub use consume::RemoteConsumer;

/// Consumers with something to push, as their wake-up hooks report them.
#[derive(Default)]
pub struct Signal {
    pub dirty: Mutex<Vec<u64>>,
    pub notify: Notify,
}

impl Signal {
    pub fn mark(&self, consumer: u64) {
        let mut dirty = self.dirty.lock().unwrap_or_else(|p| p.into_inner());
        let was_empty = dirty.is_empty();
        dirty.push(consumer);
        drop(dirty);
        // A permit is already stored or being consumed when the list was not empty.
        if was_empty {
            self.notify.notify_one();
        }
    }

    /// The consumers marked since the last call, each once.
    pub fn take(&self) -> Vec<u64> {
        let mut dirty = std::mem::take(&mut *self.dirty.lock().unwrap_or_else(|p| p.into_inner()));
        dirty.sort_unstable();
        dirty.dedup();
        dirty
    }
}

/// The broker side of one client connection.
pub struct Handler {
    pub connection: Connection,
    broker: Broker,
    access: Access,
    limits: Limits,
    sessions: HashMap<u64, Session>,
    pub consumers: HashMap<u64, RemoteConsumer>,
    /// Each browser with the session it belongs to.
    browsers: HashMap<u64, (u64, Browser)>,
    pub signal: Arc<Signal>,
}

/// Refuses one more of `what` when a connection has `max` already; `setting` is the
/// `[limits]` entry of the server's configuration that sets it.
fn limit(open: usize, max: usize, what: &str, setting: &str) -> Result<()> {
    if open >= max {
        return Err(Error::new(
            ErrorKind::ResourceAllocation,
            format!(
                "this connection already has {open} {what}, the server's limit: close some first, \
                 or raise {setting} in the server's [limits]"
            ),
        ));
    }
    Ok(())
}

fn unknown(what: &str, id: u64) -> Error {
    Error::new(ErrorKind::IllegalState, format!("there is no {what} {id} on this connection"))
}

impl Handler {
    pub fn new(broker: &Broker, access: Access, limits: Limits) -> Result<Handler> {
        let connection = Connection::to_broker(broker, &ConnectOptions::default())?;
        Ok(Handler {
            connection,
            broker: broker.clone(),
            access,
            limits,
            sessions: HashMap::new(),
            consumers: HashMap::new(),
            browsers: HashMap::new(),
            signal: Arc::default(),
        })
    }

    pub fn user(&self) -> Option<&str> {
        self.access.user()
    }

    fn session(&self, id: u64) -> Result<&Session> {
        self.sessions.get(&id).ok_or_else(|| unknown("session", id))
    }

    /// Carries out one request. Consumers that may now push are marked in `signal`.
    pub fn handle(&mut self, request: Request) -> Result<Reply> {
        match request {
            Request::Start => {
                self.connection.start()?;
                for id in self.consumers.keys() {
                    self.signal.mark(*id);
                }
            }
            Request::Stop => self.connection.stop()?,
            Request::SetClientId { client_id } => self.connection.set_client_id(&client_id)?,
            Request::CreateSession { session, mode } => {
                if self.sessions.contains_key(&session) {
                    return Err(Error::new(ErrorKind::IllegalState, format!("session {session} already exists")));
                }
                limit(self.sessions.len(), self.limits.max_sessions_per_connection, "sessions", "max_sessions_per_connection")?;
                let s = self.connection.create_session(AckMode::from_jms(mode)?)?;
                self.sessions.insert(session, s);
            }
            Request::CloseSession { session } => {
                let s = self.sessions.remove(&session).ok_or_else(|| unknown("session", session))?;
                self.consumers.retain(|_, c| c.session != session);
                self.browsers.retain(|_, (owner, _)| *owner != session);
                s.close();
            }
            Request::CreateConsumer { session, consumer, destination, selector, no_local, subscription, prefetch } => {
                if self.consumers.contains_key(&consumer) {
                    return Err(Error::new(ErrorKind::IllegalState, format!("consumer {consumer} already exists")));
                }
                limit(self.consumers.len(), self.limits.max_consumers_per_connection, "consumers", "max_consumers_per_connection")?;
                self.access.check(Permission::Consume, Some(&destination))?;
                if let Some(sub) = subscription.as_ref().filter(|s| s.durable) {
                    // Creating a durable subscription, or replacing one with another
                    // topic, selector or noLocal, needs `create`; attaching to one as it
                    // is, only `consume`.
                    let existing = self.broker.durable_subscription(self.connection.client_id().as_deref(), &sub.name);
                    let unchanged = existing.as_ref().is_some_and(|(topic, sel, nl)| {
                        *topic == destination && *sel == selector && *nl == no_local
                    });
                    if !unchanged {
                        self.access.check(Permission::Create, Some(&destination))?;
                    }
                    if let Some((topic, _, _)) = existing.filter(|(topic, _, _)| *topic != destination) {
                        // Replacing deletes the old one.
                        self.access.check(Permission::Create, Some(&topic))?;
                    }
                }
                let s = self.session(session)?;
                let c = RemoteConsumer::create(
                    s,
                    session,
                    consumer,
                    &destination,
                    selector,
                    no_local,
                    subscription,
                    prefetch,
                    &self.signal,
                )?;
                self.consumers.insert(consumer, c);
                self.signal.mark(consumer);
            }
            Request::CloseConsumer { consumer } => {
                let c = self.consumers.remove(&consumer).ok_or_else(|| unknown("consumer", consumer))?;
                c.consumer.close();
            }
            Request::Pull { consumer } => {
                let c = self.consumers.get_mut(&consumer).ok_or_else(|| unknown("consumer", consumer))?;
                c.credit = 1;
                self.signal.mark(consumer);
            }
            Request::Consumed { consumer, tag, hold } => {
                let c = self.consumers.get_mut(&consumer).ok_or_else(|| unknown("consumer", consumer))?;
                if c.prefetch > 0 {
                    c.credit = c.credit.saturating_add(1).min(c.prefetch);
                    self.signal.mark(consumer);
                }
                c.consumer.consumed(tag, hold)?;
            }
            // (A PERSISTENT send to a durable journal is awaited by the caller instead:
            // see `listener::handle_chunk`.)
            Request::Send { session, destination, message } => self.send_started(session, destination, message)?.wait()?,
            Request::CreateBrowser { session, browser, queue, selector } => {
                if self.browsers.contains_key(&browser) {
                    return Err(Error::new(ErrorKind::IllegalState, format!("browser {browser} already exists")));
                }
                limit(self.browsers.len(), self.limits.max_browsers_per_connection, "browsers", "max_browsers_per_connection")?;
                self.access.check(Permission::Browse, Some(&queue))?;
                let b = self.session(session)?.create_browser(&queue, selector.as_deref())?;
                self.browsers.insert(browser, (session, b));
            }
            Request::BrowseNext { browser, max } => {
                let (_, b) = self.browsers.get_mut(&browser).ok_or_else(|| unknown("browser", browser))?;
                // A page ends at `max` messages or once it holds a frame's worth of them
                // (after the message that crosses it): large messages make short pages,
                // so a reply never needs the memory of thousands of them.
                let budget = self.limits.max_frame_bytes as usize;
                let mut bytes = 0;
                let mut page = Vec::new();
                for d in b.by_ref() {
                    bytes += d.message().size_estimate();
                    page.push((d.delivery_count(), d.into_message()));
                    if page.len() >= max.clamp(1, 4096) as usize || bytes >= budget {
                        break;
                    }
                }
                return Ok(Reply::Browsed(page));
            }
            Request::CloseBrowser { browser } => {
                self.browsers.remove(&browser);
            }
            Request::Acknowledge { session } => self.session(session)?.acknowledge()?,
            Request::AcknowledgeHeld { session } => self.session(session)?.acknowledge_held()?,
            Request::Commit { session } => self.session(session)?.commit()?,
            Request::Rollback { session } => {
                self.session(session)?.rollback()?;
                self.refill(session);
            }
            Request::Recover { session } => {
                self.session(session)?.recover()?;
                self.refill(session);
            }
            Request::Unsubscribe { session, name } => {
                // Deleting a durable subscription needs `create` on its topic; naming
                // one that does not exist, `create` somewhere.
                let topic = self
                    .broker
                    .durable_subscription(self.connection.client_id().as_deref(), &name)
                    .map(|(topic, _, _)| topic);
                self.access.check(Permission::Create, topic.as_ref())?;
                self.session(session)?.unsubscribe(&name)?;
            }
            Request::CreateTemporary { kind } => {
                let dest = match kind {
                    herald_core::DestinationKind::TemporaryQueue => self.connection.create_temporary_queue()?,
                    herald_core::DestinationKind::TemporaryTopic => self.connection.create_temporary_topic()?,
                    other => {
                        return Err(Error::new(
                            ErrorKind::InvalidArgument,
                            format!("{other:?} is not a temporary destination kind"),
                        ))
                    }
                };
                return Ok(Reply::Destination(dest));
            }
            Request::DeleteTemporary { destination } => self.connection.delete_temporary(&destination)?,
            Request::Stats => {
                self.access.check(Permission::Admin, None)?;
                let lines = self
                    .connection
                    .stats()?
                    .into_iter()
                    .map(|s| StatLine {
                        store: s.store,
                        destination: s.destination,
                        depth: s.depth as u64,
                        consumers: s.consumers as u64,
                        enqueued: s.enqueued,
                        acknowledged: s.acknowledged,
                    })
                    .collect();
                return Ok(Reply::Stats(lines));
            }
            Request::Close => {
                // Before the reply: once the client hears back, its temporaries are gone
                // and what it left unacknowledged is back on its queues.
                self.consumers.clear();
                self.browsers.clear();
                self.sessions.clear();
                self.connection.close();
            }
        }
        Ok(Reply::Done)
    }

    /// A send whose journal write is started and not waited for: the caller awaits it
    /// (see `listener::turn`), then answers it.
    pub fn send_started(&mut self, session: u64, destination: Destination, message: Message) -> Result<PendingSend> {
        self.access.check(Permission::Send, Some(&destination))?;
        // What a producer and `set_property` refuse, a request must not slip past.
        message.validate()?;
        self.session(session)?.send_started(destination, message)
    }

    /// Whether carrying out `frame` may wait for a durable journal (see
    /// `listener::turn`): what concerns PERSISTENT messages, and everything but the
    /// frequent calls that cannot. (NON_PERSISTENT messages reach the journal only when
    /// paged beyond the memory budget, in short unsynced writes.)
    pub fn may_block(&self, frame: &Frame) -> bool {
        match frame {
            Frame::Heartbeat => false,
            Frame::Request(RequestFrame { request, .. }) => match request {
                Request::Send { message, .. } => message.delivery_mode == DeliveryMode::Persistent,
                // An acknowledgement in the automatic modes is appended to the delivery
                // log and committed without anyone waiting (`Journal::write_acknowledged`);
                // in the other modes the message is only held.
                Request::Consumed { .. } => false,
                // Likewise for what listeners received (`Consumed` with `hold`).
                Request::AcknowledgeHeld { .. } => false,
                Request::Pull { .. } | Request::Start | Request::Stop | Request::CloseBrowser { .. } => false,
                _ => true,
            },
            _ => false,
        }
    }

    /// After recover or rollback the client emptied its buffers: its consumers get their
    /// full credit back.
    fn refill(&mut self, session: u64) {
        for (id, c) in self.consumers.iter_mut().filter(|(_, c)| c.session == session) {
            c.credit = c.prefetch;
            self.signal.mark(*id);
        }
    }
}

/// Where a destination name in a request came from, for logs.
pub fn describe(request: &Request) -> Option<&Destination> {
    match request {
        Request::CreateConsumer { destination, .. } | Request::Send { destination, .. } => Some(destination),
        Request::CreateBrowser { queue, .. } => Some(queue),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use herald_core::client::{AckMode, ConnectOptions, Connection};
    use herald_core::wire::{Reply, Request};
    use herald_core::{Broker, Destination, Message};

    use super::Handler;
    use crate::auth::Auth;
    use crate::config::Limits;

    #[test]
    fn browse_pages_hold_about_one_frame_of_large_messages() {
        let broker = Broker::in_memory();
        let queue = Destination::queue("large");
        let sender = Connection::to_broker(&broker, &ConnectOptions::default()).unwrap();
        let session = sender.create_session(AckMode::Auto).unwrap();
        let producer = session.create_producer(Some(queue.clone())).unwrap();
        for i in 0..20 {
            producer.send(Message::text(format!("{i:02}{}", "x".repeat(4000)))).unwrap();
        }
        let access = Arc::new(Auth::anonymous()).authenticate(None, None, "127.0.0.1:1".parse().unwrap()).unwrap();
        let limits = Limits { max_frame_bytes: 10_000, ..Limits::default() };
        let mut handler = Handler::new(&broker, access, limits).unwrap();
        handler.handle(Request::CreateSession { session: 1, mode: AckMode::Auto.jms_value() }).unwrap();
        handler.handle(Request::CreateBrowser { session: 1, browser: 2, queue, selector: None }).unwrap();
        let mut seen = Vec::new();
        loop {
            let Reply::Browsed(page) = handler.handle(Request::BrowseNext { browser: 2, max: 100 }).unwrap() else {
                panic!("a browse gets a page");
            };
            if page.is_empty() {
                break;
            }
            assert!(page.len() <= 3, "a page of {} messages of 4 KB with a 10 KB frame limit", page.len());
            seen.extend(page.into_iter().map(|(_, m)| m.text_body().unwrap()[..2].to_owned()));
        }
        assert_eq!(seen, (0..20).map(|i| format!("{i:02}")).collect::<Vec<_>>(), "every message, in order");
    }
}
