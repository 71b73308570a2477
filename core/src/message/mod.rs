//! The message model: headers, typed properties and bodies.
//!
//! A [`Message`] is what a producer sends: the JMS headers, the properties and the body.
//! What changes from one delivery to the next (JMSRedelivered, JMSXDeliveryCount) is not
//! part of it; a consumer receives a [`Delivery`] that pairs the shared message with
//! those values, so a topic's copies share one body.

mod body;
#[cfg(test)]
mod conversion_tests;
mod filterable;
mod java_float;
mod value;

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

pub use body::Body;
pub(crate) use filterable::Candidate;
pub use value::{Convert, Value};

use crate::destination::Destination;
use crate::error::{Error, Result};

/// Property a message moved to a dead-letter or expiry queue carries: the destination it
/// was taken from, as `queue://NAME` or `topic://NAME`.
pub const ORIGINAL_DESTINATION_PROPERTY: &str = "JMS_Herald_OriginalDestination";
/// Property a message moved to a dead-letter or expiry queue carries: why it was moved
/// (`expired` or `max-deliveries`).
pub const MOVE_REASON_PROPERTY: &str = "JMS_Herald_MoveReason";

/// `JMSDeliveryMode`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DeliveryMode {
    NonPersistent,
    /// The JMS default.
    #[default]
    Persistent,
}

impl DeliveryMode {
    /// The values `javax.jms.DeliveryMode` uses (1 and 2).
    pub fn jms_value(self) -> i32 {
        match self {
            DeliveryMode::NonPersistent => 1,
            DeliveryMode::Persistent => 2,
        }
    }

    pub fn from_jms_value(value: i32) -> Result<DeliveryMode> {
        match value {
            1 => Ok(DeliveryMode::NonPersistent),
            2 => Ok(DeliveryMode::Persistent),
            other => Err(Error::invalid_argument(format!(
                "delivery mode {other} is neither NON_PERSISTENT (1) nor PERSISTENT (2)"
            ))),
        }
    }
}

/// `JMSMessageID`: a UUID, written `ID:` followed by the UUID.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct MessageId(pub uuid::Uuid);

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ID:{}", self.0.hyphenated())
    }
}

impl MessageId {
    /// Parses `ID:<uuid>`.
    pub fn parse(text: &str) -> Option<MessageId> {
        let uuid = text.strip_prefix("ID:")?;
        uuid::Uuid::parse_str(uuid).ok().map(MessageId)
    }
}

/// The lowest, default and highest `JMSPriority`.
pub const MIN_PRIORITY: u8 = 0;
pub const DEFAULT_PRIORITY: u8 = 4;
pub const MAX_PRIORITY: u8 = 9;

/// Refuses a `JMSPriority` above [`MAX_PRIORITY`].
pub(crate) fn check_priority(priority: u8) -> Result<()> {
    if priority > MAX_PRIORITY {
        return Err(Error::invalid_argument(format!("priority {priority} is not between 0 and 9")));
    }
    Ok(())
}

/// A JMS message: headers, properties and body.
///
/// Producers fill in what JMS lets applications set (correlation ID, reply-to, type,
/// properties, body); `send` sets the rest (ID, timestamp, destination, delivery mode,
/// priority, expiration, delivery time).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// `JMSMessageID`; `None` when the producer disabled message IDs.
    pub id: Option<MessageId>,
    /// `JMSTimestamp`, milliseconds since the epoch; 0 when disabled.
    pub timestamp: i64,
    pub correlation_id: Option<String>,
    pub reply_to: Option<Destination>,
    pub destination: Option<Destination>,
    pub delivery_mode: DeliveryMode,
    pub priority: u8,
    /// `JMSExpiration`, milliseconds since the epoch; 0 means never.
    pub expiration: i64,
    /// `JMSDeliveryTime`, milliseconds since the epoch: not delivered before then.
    pub delivery_time: i64,
    pub jms_type: Option<String>,
    properties: Vec<(String, Value)>,
    pub body: Body,
}

impl Message {
    pub fn new(body: Body) -> Message {
        Message { priority: DEFAULT_PRIORITY, body, ..Message::default() }
    }

    pub fn text(text: impl Into<String>) -> Message {
        Message::new(Body::Text(Some(text.into())))
    }

    pub fn bytes(bytes: impl Into<Vec<u8>>) -> Message {
        Message::new(Body::Bytes(bytes.into()))
    }

    /// The body as text, when this is a TextMessage with a body.
    pub fn text_body(&self) -> Option<&str> {
        match &self.body {
            Body::Text(t) => t.as_deref(),
            _ => None,
        }
    }

    /// Sets a property, replacing one of the same name. The name must be a valid Java
    /// identifier and the value one of the property types.
    pub fn set_property(&mut self, name: impl Into<String>, value: impl Into<Value>) -> Result<()> {
        let name = name.into();
        let value = value.into();
        check_property_name(&name)?;
        if !value.is_property_type() {
            return Err(Error::message_format(format!(
                "property {name}: a {} is not a valid property type",
                value.type_name()
            )));
        }
        match self.properties.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = value,
            None => self.properties.push((name, value)),
        }
        Ok(())
    }

    /// The property of this name, or `None` when it is not set.
    pub fn property(&self, name: &str) -> Option<&Value> {
        self.properties.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    pub fn properties(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.properties.iter().map(|(n, v)| (n.as_str(), v))
    }

    pub fn remove_property(&mut self, name: &str) -> Option<Value> {
        let at = self.properties.iter().position(|(n, _)| n == name)?;
        Some(self.properties.remove(at).1)
    }

    pub fn clear_properties(&mut self) {
        self.properties.clear();
    }

    pub fn bool_property(&self, name: &str) -> Result<bool> {
        self.property(name).to_bool()
    }
    pub fn byte_property(&self, name: &str) -> Result<i8> {
        self.property(name).to_byte()
    }
    pub fn short_property(&self, name: &str) -> Result<i16> {
        self.property(name).to_short()
    }
    pub fn int_property(&self, name: &str) -> Result<i32> {
        self.property(name).to_int()
    }
    pub fn long_property(&self, name: &str) -> Result<i64> {
        self.property(name).to_long()
    }
    pub fn float_property(&self, name: &str) -> Result<f32> {
        self.property(name).to_float()
    }
    pub fn double_property(&self, name: &str) -> Result<f64> {
        self.property(name).to_double()
    }
    pub fn string_property(&self, name: &str) -> Result<Option<String>> {
        self.property(name).to_string_value()
    }

    /// Checks what [`Message::set_property`] and a producer's options would have refused,
    /// for a message that arrives already built (decoded from a client's request): a
    /// priority above 9, a property of a type properties cannot hold (`char`, `byte[]`),
    /// or one name twice. (Names are left alone: Java's identifier rules, which the Java
    /// provider applies, admit more than [`Message::set_property`] does.)
    pub fn validate(&self) -> Result<()> {
        check_priority(self.priority)?;
        // A set only for many properties: a frame may carry a great many.
        let mut seen = (self.properties.len() > 8)
            .then(|| std::collections::HashSet::with_capacity(self.properties.len()));
        for (i, (name, value)) in self.properties.iter().enumerate() {
            if !value.is_property_type() {
                return Err(Error::message_format(format!(
                    "property {name}: a {} is not a valid property type",
                    value.type_name()
                )));
            }
            let twice = match seen.as_mut() {
                Some(seen) => !seen.insert(name.as_str()),
                None => self.properties[..i].iter().any(|(earlier, _)| earlier == name),
            };
            if twice {
                return Err(Error::message_format(format!("property {name} is set twice")));
            }
        }
        Ok(())
    }

    /// True when the message has expired at `now` (milliseconds since the epoch).
    pub fn is_expired_at(&self, now: i64) -> bool {
        self.expiration != 0 && self.expiration <= now
    }

    /// An estimate of the heap bytes this message holds, for memory accounting.
    pub fn size_estimate(&self) -> usize {
        let props: usize = self.properties.iter().map(|(n, _)| n.len() + 48).sum();
        std::mem::size_of::<Message>() + props + self.body.size_estimate()
    }

    /// Encodes the message as MessagePack, the form it has on the wire and in the journal.
    pub fn encode(&self) -> Vec<u8> {
        rmp_serde::to_vec(self).expect("a Message always serializes")
    }

    pub fn decode(bytes: &[u8]) -> Result<Message> {
        rmp_serde::from_slice(bytes)
            .map_err(|e| Error::message_format(format!("not an encoded message: {e}")))
    }
}

/// Property names follow Java identifier rules, and JMS reserves some words.
fn check_property_name(name: &str) -> Result<()> {
    let mut chars = name.chars();
    let valid = match chars.next() {
        Some(c) if c.is_alphabetic() || c == '_' || c == '$' => {
            chars.all(|c| c.is_alphanumeric() || c == '_' || c == '$')
        }
        _ => false,
    };
    const RESERVED: [&str; 11] =
        ["NULL", "TRUE", "FALSE", "NOT", "AND", "OR", "BETWEEN", "LIKE", "IN", "IS", "ESCAPE"];
    if !valid || RESERVED.iter().any(|r| r.eq_ignore_ascii_case(name)) {
        return Err(Error::invalid_argument(format!("\"{name}\" is not a valid property name")));
    }
    Ok(())
}

/// A message as one consumer receives it: the shared message plus this delivery's
/// `JMSRedelivered` and `JMSXDeliveryCount`.
#[derive(Clone, Debug)]
pub struct Delivery {
    message: Arc<Message>,
    delivery_count: u32,
}

impl Delivery {
    pub(crate) fn new(message: Arc<Message>, delivery_count: u32) -> Delivery {
        Delivery { message, delivery_count }
    }

    pub fn message(&self) -> &Message {
        &self.message
    }

    /// `JMSXDeliveryCount`: 1 on the first delivery.
    pub fn delivery_count(&self) -> u32 {
        self.delivery_count
    }

    /// `JMSRedelivered`.
    pub fn redelivered(&self) -> bool {
        self.delivery_count > 1
    }

    /// The message as its other holders share it (a topic's other subscriptions): what
    /// a binding keys a cache of work derived from the message by. Nobody changes a
    /// message in place while it is shared, and not at all while a `Weak` to it lives.
    pub fn shared_message(&self) -> &Arc<Message> {
        &self.message
    }

    /// Encodes the message and this delivery's count as MessagePack: how a delivery
    /// crosses the wire and the language bindings, in one piece.
    pub fn encode(&self) -> Vec<u8> {
        #[derive(Serialize)]
        struct Wire<'a> {
            message: &'a Message,
            delivery_count: u32,
        }
        // Sized up front: growing the buffer as the body goes in would copy it again.
        let mut buf = Vec::with_capacity(self.message.size_estimate() + 16);
        rmp_serde::encode::write(&mut buf, &Wire { message: &self.message, delivery_count: self.delivery_count })
            .expect("a Delivery always serializes");
        buf
    }

    pub fn decode(bytes: &[u8]) -> Result<Delivery> {
        #[derive(Deserialize)]
        struct Wire {
            message: Message,
            delivery_count: u32,
        }
        let wire: Wire = rmp_serde::from_slice(bytes)
            .map_err(|e| Error::message_format(format!("not an encoded delivery: {e}")))?;
        Ok(Delivery::new(Arc::new(wire.message), wire.delivery_count))
    }

    /// The message, copied only when another holder still shares it.
    pub fn into_message(self) -> Message {
        Arc::try_unwrap(self.message).unwrap_or_else(|shared| (*shared).clone())
    }
}

impl std::ops::Deref for Delivery {
    type Target = Message;
    fn deref(&self) -> &Message {
        &self.message
    }
}
