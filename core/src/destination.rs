//! Destinations: queues, topics and their temporary variants.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The four kinds of JMS destination.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DestinationKind {
    Queue,
    Topic,
    TemporaryQueue,
    TemporaryTopic,
}

/// A named queue or topic. Temporary destinations carry broker-generated names and live
/// as long as the connection that created them.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Destination {
    kind: DestinationKind,
    name: Arc<str>,
}

impl Destination {
    pub fn queue(name: impl AsRef<str>) -> Destination {
        Destination { kind: DestinationKind::Queue, name: name.as_ref().into() }
    }

    pub fn topic(name: impl AsRef<str>) -> Destination {
        Destination { kind: DestinationKind::Topic, name: name.as_ref().into() }
    }

    pub(crate) fn temporary(kind: DestinationKind, name: String) -> Destination {
        Destination { kind, name: name.into() }
    }

    /// Builds a destination of any kind, as a binding decodes it. Names must be non-empty.
    pub fn new(kind: DestinationKind, name: impl AsRef<str>) -> Result<Destination> {
        let destination = Destination { kind, name: name.as_ref().into() };
        destination.check_named()?;
        Ok(destination)
    }

    /// Refuses a destination with an empty name, which names nothing: [`Destination::queue`]
    /// and [`Destination::topic`] build one as asked, and so does a decoded request.
    pub(crate) fn check_named(&self) -> Result<()> {
        if self.name.is_empty() {
            return Err(Error::invalid_destination(format!("{self} has no name; a destination needs one")));
        }
        Ok(())
    }

    pub fn kind(&self) -> DestinationKind {
        self.kind
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Queues and temporary queues: each message goes to one consumer.
    pub fn is_queue(&self) -> bool {
        matches!(self.kind, DestinationKind::Queue | DestinationKind::TemporaryQueue)
    }

    pub fn is_topic(&self) -> bool {
        !self.is_queue()
    }

    pub fn is_temporary(&self) -> bool {
        matches!(self.kind, DestinationKind::TemporaryQueue | DestinationKind::TemporaryTopic)
    }

    /// Parses `queue://NAME`, `topic://NAME`, `temp-queue://NAME` or `temp-topic://NAME`.
    pub fn parse(text: &str) -> Result<Destination> {
        let (scheme, name) = text.split_once("://").ok_or_else(|| {
            Error::invalid_destination(format!("\"{text}\" is not of the form queue://NAME or topic://NAME"))
        })?;
        let kind = match scheme {
            "queue" => DestinationKind::Queue,
            "topic" => DestinationKind::Topic,
            "temp-queue" => DestinationKind::TemporaryQueue,
            "temp-topic" => DestinationKind::TemporaryTopic,
            other => return Err(Error::invalid_destination(format!("unknown destination scheme \"{other}\""))),
        };
        Destination::new(kind, name)
    }
}

impl fmt::Display for Destination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = match self.kind {
            DestinationKind::Queue => "queue",
            DestinationKind::Topic => "topic",
            DestinationKind::TemporaryQueue => "temp-queue",
            DestinationKind::TemporaryTopic => "temp-topic",
        };
        write!(f, "{scheme}://{}", self.name)
    }
}
