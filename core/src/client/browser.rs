use std::collections::VecDeque;

use super::remote::RemoteBrowser;
use crate::broker::Broker;
use crate::message::Delivery;
use crate::queue::Entry;

/// The messages waiting on a queue when the browser was created, in delivery order.
/// Browsing consumes nothing. A body that was paged out of memory is read back from the
/// journal only when the browser reaches its message; a message consumed meanwhile is
/// skipped.
pub struct Browser {
    imp: Imp,
}

enum Imp {
    Local { broker: Broker, entries: VecDeque<Entry> },
    /// Fetched from the server a page at a time; a failure ends the iteration (and is
    /// logged).
    Remote(RemoteBrowser),
}

impl Browser {
    pub(crate) fn new(broker: Broker, entries: Vec<Entry>) -> Browser {
        Browser { imp: Imp::Local { broker, entries: entries.into() } }
    }

    pub(crate) fn remote(browser: RemoteBrowser) -> Browser {
        Browser { imp: Imp::Remote(browser) }
    }
}

impl Iterator for Browser {
    type Item = Delivery;

    fn next(&mut self) -> Option<Delivery> {
        match &mut self.imp {
            Imp::Local { broker, entries } => loop {
                let entry = entries.pop_front()?;
                match broker.load_message(&entry) {
                    Ok(Some(message)) => return Some(Delivery::new(message, entry.deliveries + 1)),
                    Ok(None) => continue,
                    Err(e) => {
                        tracing::warn!(key = entry.key, cause = %e, "a browsed message could not be read back");
                        continue;
                    }
                }
            },
            Imp::Remote(browser) => browser.next(),
        }
    }
}
