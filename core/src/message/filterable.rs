//! How a selector sees a message.

use std::borrow::Cow;

use super::{DeliveryMode, Message, Value};
use crate::selector::{Filterable, HeaderField, Operand};

/// A message about to be delivered for the `delivery_count`-th time, as a selector
/// evaluates it.
pub(crate) struct Candidate<'a> {
    message: &'a Message,
    delivery_count: u32,
}

impl<'a> Candidate<'a> {
    pub fn new(message: &'a Message, delivery_count: u32) -> Candidate<'a> {
        Candidate { message, delivery_count }
    }
}

impl Filterable for Candidate<'_> {
    fn header(&self, field: HeaderField) -> Option<Operand<'_>> {
        let m = self.message;
        match field {
            HeaderField::DeliveryMode => Some(Operand::Str(Cow::Borrowed(match m.delivery_mode {
                DeliveryMode::Persistent => "PERSISTENT",
                DeliveryMode::NonPersistent => "NON_PERSISTENT",
            }))),
            HeaderField::Priority => Some(Operand::Long(i64::from(m.priority))),
            HeaderField::MessageId => m.id.map(|id| Operand::Str(Cow::Owned(id.to_string()))),
            HeaderField::Timestamp => Some(Operand::Long(m.timestamp)),
            HeaderField::CorrelationId => m.correlation_id.as_deref().map(|c| Operand::Str(Cow::Borrowed(c))),
            HeaderField::Type => m.jms_type.as_deref().map(|t| Operand::Str(Cow::Borrowed(t))),
        }
    }

    fn property(&self, name: &str) -> Option<Operand<'_>> {
        if name == "JMSXDeliveryCount" {
            return Some(Operand::Long(i64::from(self.delivery_count)));
        }
        Some(match self.message.property(name)? {
            Value::Bool(b) => Operand::Bool(*b),
            Value::Byte(v) => Operand::Long(i64::from(*v)),
            Value::Short(v) => Operand::Long(i64::from(*v)),
            Value::Int(v) => Operand::Long(i64::from(*v)),
            Value::Long(v) => Operand::Long(*v),
            Value::Float(v) => Operand::Double(f64::from(*v)),
            Value::Double(v) => Operand::Double(*v),
            Value::String(s) => Operand::Str(Cow::Borrowed(s)),
            Value::Char(_) | Value::Bytes(_) => return None,
        })
    }
}
