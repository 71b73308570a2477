//! Topics: every subscription gets its own copy of each matching message.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use crate::queue::{Entry, MessageQueue};
use crate::selector::Selector;

/// How a subscription is identified and how long it lives.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum SubscriptionKind {
    /// One consumer's private subscription, gone when the consumer closes.
    NonDurable,
    /// A shared non-durable subscription, gone when its last consumer closes.
    Shared { client_id: Option<String>, name: String },
    /// Kept until unsubscribed; `shared` lets several consumers compete on it.
    Durable { client_id: Option<String>, name: String, shared: bool },
}

/// A topic subscription: a selector and noLocal applied at fan-out (a message the
/// subscription does not want is never stored for it), and a queue of what it kept.
pub(crate) struct Subscription {
    pub kind: SubscriptionKind,
    pub topic: Arc<str>,
    pub queue: Arc<MessageQueue>,
    pub selector: Option<Selector>,
    pub no_local: bool,
    /// The connection whose messages noLocal drops: the one of the latest consumer.
    pub owner: AtomicU64,
}

impl Subscription {
    fn wants(&self, entry: &Entry) -> bool {
        if self.no_local && entry.origin == self.owner.load(Ordering::Relaxed) {
            return false;
        }
        match &self.selector {
            None => true,
            Some(s) => s.matches(&crate::message::Candidate::new(&entry.message, 1)),
        }
    }
}

pub(crate) struct Topic {
    pub name: Arc<str>,
    subscriptions: RwLock<Vec<Arc<Subscription>>>,
}

impl Topic {
    pub fn new(name: Arc<str>) -> Topic {
        Topic { name, subscriptions: RwLock::new(Vec::new()) }
    }

    /// The subscriptions that want this message.
    pub fn targets(&self, entry: &Entry) -> Vec<Arc<MessageQueue>> {
        let subs = self.subscriptions.read().unwrap_or_else(|p| p.into_inner());
        subs.iter().filter(|s| s.wants(entry)).map(|s| s.queue.clone()).collect()
    }

    pub fn attach(&self, sub: Arc<Subscription>) {
        self.subscriptions.write().unwrap_or_else(|p| p.into_inner()).push(sub);
    }

    pub fn detach(&self, sub: &Arc<Subscription>) {
        self.subscriptions
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|s| !Arc::ptr_eq(s, sub));
    }

    pub fn subscriptions(&self) -> Vec<Arc<Subscription>> {
        self.subscriptions.read().unwrap_or_else(|p| p.into_inner()).clone()
    }
}
