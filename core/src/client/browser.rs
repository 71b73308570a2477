use std::collections::VecDeque;

use super::remote::RemoteBrowser;
use crate::message::Delivery;

/// The messages waiting on a queue when the browser was created, in delivery order.
/// Browsing consumes nothing.
pub struct Browser {
    imp: Imp,
}

enum Imp {
    Local(VecDeque<Delivery>),
    /// Fetched from the server a page at a time; a failure ends the iteration (and is
    /// logged).
    Remote(RemoteBrowser),
}

impl Browser {
    pub(crate) fn new(messages: Vec<Delivery>) -> Browser {
        Browser { imp: Imp::Local(messages.into()) }
    }

    pub(crate) fn remote(browser: RemoteBrowser) -> Browser {
        Browser { imp: Imp::Remote(browser) }
    }
}

impl Iterator for Browser {
    type Item = Delivery;

    fn next(&mut self) -> Option<Delivery> {
        match &mut self.imp {
            Imp::Local(messages) => messages.pop_front(),
            Imp::Remote(browser) => browser.next(),
        }
    }
}
