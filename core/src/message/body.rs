//! The five JMS body kinds.

use serde::{Deserialize, Serialize};

use super::value::Value;

/// A message body. `Object` bodies are opaque bytes here: serializing Java objects is the
/// Java provider's business, the core only carries them.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub enum Body {
    /// A plain `Message` without a body.
    #[default]
    Empty,
    Text(Option<String>),
    // Raw MessagePack bin, not an array of numbers: a 1 KiB body encodes as a copy.
    Bytes(#[serde(with = "serde_bytes")] Vec<u8>),
    /// Name/value pairs in insertion order; names are unique.
    Map(Vec<(String, Value)>),
    /// Values in the order they were written.
    Stream(Vec<Value>),
    Object(#[serde(with = "serde_bytes")] Option<Vec<u8>>),
}

impl Body {
    /// The JMS message type this body belongs to, for diagnostics and the command line.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Body::Empty => "Message",
            Body::Text(_) => "TextMessage",
            Body::Bytes(_) => "BytesMessage",
            Body::Map(_) => "MapMessage",
            Body::Stream(_) => "StreamMessage",
            Body::Object(_) => "ObjectMessage",
        }
    }

    /// An estimate of the heap bytes this body holds, for memory accounting.
    pub fn size_estimate(&self) -> usize {
        fn value_size(v: &Value) -> usize {
            match v {
                Value::String(s) => s.len() + 24,
                Value::Bytes(b) => b.len() + 24,
                _ => 16,
            }
        }
        match self {
            Body::Empty => 0,
            Body::Text(t) => t.as_ref().map_or(0, String::len),
            Body::Bytes(b) => b.len(),
            Body::Object(o) => o.as_ref().map_or(0, Vec::len),
            Body::Map(m) => m.iter().map(|(k, v)| k.len() + 24 + value_size(v)).sum(),
            Body::Stream(s) => s.iter().map(value_size).sum(),
        }
    }
}
