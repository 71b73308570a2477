use std::sync::atomic::{AtomicU64, Ordering};

use crate::broker::{now_millis, Route};
use crate::destination::Destination;
use crate::error::{Error, Result};
use crate::message::{check_priority, DeliveryMode, Message, MessageId, DEFAULT_PRIORITY};
use super::session::SessionImp;

/// The per-send settings a JMS producer carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SendOptions {
    pub delivery_mode: DeliveryMode,
    /// 0 (lowest) to 9 (highest); 4 by default.
    pub priority: u8,
    /// Milliseconds until the message expires; 0 never.
    pub time_to_live: i64,
    /// Milliseconds before the message may be delivered.
    pub delivery_delay: i64,
    pub disable_message_id: bool,
    pub disable_timestamp: bool,
}

impl Default for SendOptions {
    fn default() -> SendOptions {
        SendOptions {
            delivery_mode: DeliveryMode::Persistent,
            priority: DEFAULT_PRIORITY,
            time_to_live: 0,
            delivery_delay: 0,
            disable_message_id: false,
            disable_timestamp: false,
        }
    }
}

impl SendOptions {
    fn check(&self) -> Result<()> {
        check_priority(self.priority)?;
        if self.time_to_live < 0 {
            return Err(Error::invalid_argument("the time to live must not be negative"));
        }
        if self.delivery_delay < 0 {
            return Err(Error::invalid_argument("the delivery delay must not be negative"));
        }
        Ok(())
    }
}

/// The headers `send` assigned, for bindings that keep their own copy of the message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sent {
    pub message_id: Option<MessageId>,
    pub timestamp: i64,
    pub expiration: i64,
    pub delivery_time: i64,
}

/// Sends messages to its destination, or to the one named on each send.
pub struct Producer {
    session: SessionImp,
    destination: Option<Destination>,
    options: SendOptions,
    /// Message IDs are this random UUID plus a counter: unique without a random draw per
    /// message.
    id_base: u128,
    id_seq: AtomicU64,
    /// The queue `destination` names, once sent to (a queue that is not temporary).
    route: Option<Route>,
}

impl Producer {
    pub(crate) fn new(session: SessionImp, destination: Option<Destination>) -> Producer {
        Producer {
            session,
            options: SendOptions::default(),
            id_base: uuid::Uuid::new_v4().as_u128(),
            id_seq: AtomicU64::new(0),
            route: destination.as_ref().filter(|d| d.is_queue() && !d.is_temporary()).map(|_| Route::new()),
            destination,
        }
    }

    pub fn destination(&self) -> Option<&Destination> {
        self.destination.as_ref()
    }

    pub fn options(&self) -> &SendOptions {
        &self.options
    }

    /// Changes the defaults for later sends.
    pub fn set_options(&mut self, options: SendOptions) -> Result<()> {
        options.check()?;
        self.options = options;
        Ok(())
    }

    /// Sends to the producer's destination with its default options.
    pub fn send(&self, message: Message) -> Result<Sent> {
        self.send_with(None, message, &self.options)
    }

    /// Sends to `destination` (only for a producer created without one) or to the
    /// producer's own, with these options.
    pub fn send_with(&self, destination: Option<&Destination>, mut message: Message, options: &SendOptions) -> Result<Sent> {
        options.check()?;
        let (destination, route) = match (&self.destination, destination) {
            (Some(own), None) => (own.clone(), self.route.as_ref()),
            (None, Some(given)) => (given.clone(), None),
            (Some(own), Some(given)) if own == given => (own.clone(), self.route.as_ref()),
            (Some(own), Some(_)) => {
                return Err(Error::illegal_state(format!("this producer sends to {own}; it cannot name another destination")))
            }
            (None, None) => {
                return Err(Error::invalid_destination("this producer has no destination; name one on send"))
            }
        };
        let now = now_millis();
        message.id = (!options.disable_message_id).then(|| self.next_id());
        message.timestamp = if options.disable_timestamp { 0 } else { now };
        message.destination = Some(destination.clone());
        message.delivery_mode = options.delivery_mode;
        message.priority = options.priority;
        message.expiration = if options.time_to_live > 0 { now.saturating_add(options.time_to_live) } else { 0 };
        message.delivery_time = now.saturating_add(options.delivery_delay);
        let sent = Sent {
            message_id: message.id,
            timestamp: message.timestamp,
            expiration: message.expiration,
            delivery_time: message.delivery_time,
        };
        self.session.send_routed(destination, message, route)?;
        Ok(sent)
    }

    fn next_id(&self) -> MessageId {
        let seq = self.id_seq.fetch_add(1, Ordering::Relaxed);
        let bits = self.id_base.wrapping_add(u128::from(seq));
        MessageId(uuid::Builder::from_random_bytes(bits.to_be_bytes()).into_uuid())
    }
}
