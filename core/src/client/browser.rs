use std::collections::VecDeque;

use crate::broker::Broker;
use crate::message::Delivery;
use crate::queue::Entry;

/// The messages waiting on a queue when the browser was created, in delivery order.
/// Browsing consumes nothing. A body that was paged out of memory is read back from the
/// journal only when the browser reaches its message; a message consumed meanwhile is
/// skipped.
pub struct Browser {
    broker: Broker,
    entries: VecDeque<Entry>,
}

impl Browser {
    pub(crate) fn new(broker: Broker, entries: Vec<Entry>) -> Browser {
        Browser { broker, entries: entries.into() }
    }
}

impl Iterator for Browser {
    type Item = Delivery;

    fn next(&mut self) -> Option<Delivery> {
        loop {
            let entry = self.entries.pop_front()?;
            match self.broker.load_message(&entry) {
                Ok(Some(message)) => return Some(Delivery::new(message, entry.deliveries + 1)),
                Ok(None) => continue,
                Err(e) => {
                    tracing::warn!(key = entry.key, cause = %e, "a browsed message could not be read back");
                    continue;
                }
            }
        }
    }
}
