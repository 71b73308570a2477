use std::collections::VecDeque;

use crate::message::Delivery;

/// The messages waiting on a queue when the browser was created, in delivery order.
/// Browsing consumes nothing.
pub struct Browser {
    messages: VecDeque<Delivery>,
}

impl Browser {
    pub(crate) fn new(messages: Vec<Delivery>) -> Browser {
        Browser { messages: messages.into() }
    }
}

impl Iterator for Browser {
    type Item = Delivery;

    fn next(&mut self) -> Option<Delivery> {
        self.messages.pop_front()
    }
}
