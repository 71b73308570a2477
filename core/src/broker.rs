//! The broker: destinations by name, subscriptions, client IDs, routing, and the sweeper
//! thread that releases delayed messages and expires old ones.
//!
//! [`Broker`] is a cheap-clone handle. Its state is split per destination: the maps from
//! names to queues and topics sit behind read-write locks taken briefly to look a name
//! up, and each queue has its own lock, so sends and receives on different destinations
//! never contend. All locks are std mutexes; none is held across a journal write.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, RwLock, Weak};
use std::time::Duration;

use crate::destination::{Destination, DestinationKind};
use crate::error::{Error, ErrorKind, Result};
use crate::journal::{Commit, Journal, MemoryJournal, Op, StoreKey, SubscriptionRecord, TailRow};
use crate::message::{DeliveryMode, Message, MOVE_REASON_PROPERTY, ORIGINAL_DESTINATION_PROPERTY};
use crate::paging::{resident_bytes, Charge, MemoryBudget, PagerHost};
use crate::queue::{lock, poke_all, wake_all, Entry, MessageQueue, Placed};
use crate::selector::Selector;
use crate::topic::{Subscription, SubscriptionKind, Topic};

/// Broker settings. `Default` gives an in-memory broker with JMS-conventional policies.
pub struct BrokerConfig {
    /// After this many deliveries without an acknowledgement a message goes to the
    /// dead-letter queue.
    pub max_deliveries: u32,
    pub dead_letter_queue: String,
    /// Where expired messages go; `None` drops them.
    pub expiry_queue: Option<String>,
    /// How often waiting messages are checked for expiry.
    pub expiry_scan_interval: Duration,
    pub journal: Box<dyn Journal>,
    /// Bytes queued messages may keep in memory (headers, properties, bodies and queue
    /// entries, estimated). Beyond it, messages headed for queues and durable
    /// subscriptions stay in the journal only (NON_PERSISTENT ones are written there
    /// too) and are read back in arrival order as consumers drain what is resident.
    /// Needs a durable journal: with [`MemoryJournal`] there is nowhere to page to, and
    /// an in-memory broker is bounded only by RAM. Non-durable subscriptions and
    /// temporary queues always keep their messages in memory.
    pub memory_budget: usize,
}

/// The default [`BrokerConfig::memory_budget`]: 256 MiB.
pub const DEFAULT_MEMORY_BUDGET: usize = 256 << 20;

impl Default for BrokerConfig {
    fn default() -> BrokerConfig {
        BrokerConfig {
            max_deliveries: 10,
            dead_letter_queue: "DLQ".into(),
            expiry_queue: None,
            expiry_scan_interval: Duration::from_secs(1),
            journal: Box::new(MemoryJournal),
            memory_budget: DEFAULT_MEMORY_BUDGET,
        }
    }
}

/// A unit of [`Broker::apply_started`] whose journal write is under way. Its messages
/// become visible, and its acknowledgements count, only once [`Applying::finish`] hears
/// the write succeeded.
#[must_use = "a unit started must be finished"]
pub(crate) struct Applying {
    broker: Broker,
    /// The journal write, when there is one; taken by whoever waits for it.
    pub(crate) commit: Option<Commit>,
    acks: Vec<(Arc<MessageQueue>, Entry)>,
    /// Per message: the queues it is resident in, those holding it in their journal
    /// tail, and its entry.
    placements: Vec<(Vec<Arc<MessageQueue>>, Vec<Arc<MessageQueue>>, Entry)>,
}

impl Applying {
    /// Waits for the journal write, then finishes the unit.
    pub(crate) fn wait(mut self) -> Result<()> {
        let written = self.commit.take().map_or(Ok(()), Commit::wait);
        self.finish(written)
    }

    /// Makes the unit visible once `written` (the journal write's outcome) says it is
    /// stored; a failed write fails the unit and leaves nothing of it.
    pub(crate) fn finish(self, written: std::result::Result<(), crate::journal::Error>) -> Result<()> {
        let Applying { broker, commit: _, acks, placements } = self;
        if let Err(e) = written {
            for (_, tail_stores, entry) in &placements {
                for q in tail_stores {
                    q.tail_written(entry.key, false);
                }
            }
            return Err(e.into());
        }
        for (queue, _) in &acks {
            queue.counters.acknowledged.fetch_add(1, Ordering::Relaxed);
        }
        let now = now_millis();
        for (resident, tail_stores, entry) in placements {
            for q in &tail_stores {
                let written = q.tail_written(entry.key, true);
                if written.refill {
                    broker.refill(q, now);
                }
                poke_all(&written.poke);
            }
            broker.place_in_all(&resident, entry, now);
        }
        Ok(())
    }
}

/// A handle to a running broker; clones share it. The sweeper thread stops when the
/// last handle is dropped.
#[derive(Clone)]
pub struct Broker {
    pub(crate) shared: Arc<Shared>,
}

pub(crate) struct Shared {
    config: BrokerConfig,
    queues: RwLock<HashMap<Arc<str>, Arc<MessageQueue>>>,
    topics: RwLock<HashMap<Arc<str>, Arc<Topic>>>,
    /// Durable and shared subscriptions by (client ID, name); non-durable ones live only
    /// in their topic.
    named_subscriptions: Mutex<HashMap<(Option<String>, String), Arc<Subscription>>>,
    /// Temporary destinations and the connection that owns each.
    temporary: Mutex<HashMap<Destination, u64>>,
    client_ids: Mutex<HashSet<String>>,
    next_key: AtomicU64,
    next_id: AtomicU64,
    timers: Arc<Timers>,
    /// Resident message bytes, with a durable journal (see [`crate::paging`]).
    budget: MemoryBudget,
    /// The first message key of this run (see [`PagerHost::first_key`]).
    first_key: AtomicU64,
}

impl Shared {
    fn schedule(&self, queue: Weak<MessageQueue>, at: i64) {
        let timers = &self.timers;
        let mut state = lock(&timers.state);
        let token = state.next_token;
        state.next_token += 1;
        state.queues.insert(token, queue);
        state.due.push(Reverse((at, token)));
        drop(state);
        timers.cond.notify_all();
    }
}

impl PagerHost for Shared {
    fn journal(&self) -> &dyn Journal {
        &*self.config.journal
    }

    fn budget(&self) -> &MemoryBudget {
        &self.budget
    }

    fn schedule(&self, queue: Weak<MessageQueue>, at: i64) {
        Shared::schedule(self, queue, at)
    }

    fn first_key(&self) -> u64 {
        self.first_key.load(Ordering::Relaxed)
    }
}

/// Wake-up times for queues holding delayed messages, served by the sweeper thread.
#[derive(Default)]
struct Timers {
    state: Mutex<TimerState>,
    cond: Condvar,
}

#[derive(Default)]
struct TimerState {
    due: BinaryHeap<Reverse<(i64, u64)>>,
    queues: HashMap<u64, Weak<MessageQueue>>,
    next_token: u64,
    stopped: bool,
}

impl Drop for Shared {
    fn drop(&mut self) {
        lock(&self.timers.state).stopped = true;
        self.timers.cond.notify_all();
    }
}

/// A producer's cache of the queue it sends to, filled on its first send: it saves
/// looking the queue up by name (a hash and a shared lock) on every send.
pub(crate) type Route = std::sync::OnceLock<Arc<MessageQueue>>;

/// Milliseconds since the epoch, the unit of every JMS time header.
pub(crate) fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn queue_store_key(name: &str) -> StoreKey {
    format!("queue:{name}").into()
}

fn subscription_store_key(client_id: Option<&str>, name: &str) -> StoreKey {
    let client_id = client_id.unwrap_or("");
    format!("sub:{}:{client_id}:{name}", client_id.len()).into()
}

/// What a consumer asks of a topic subscription.
pub(crate) struct SubscriptionRequest<'a> {
    pub topic: &'a Destination,
    pub kind: SubscriptionKind,
    pub selector: Option<Selector>,
    pub no_local: bool,
    pub connection: u64,
}

impl Broker {
    /// Starts a broker, recovering whatever its journal holds.
    pub fn start(config: BrokerConfig) -> Result<Broker> {
        let timers = Arc::new(Timers::default());
        let budget = MemoryBudget::new(config.memory_budget);
        let shared = Arc::new(Shared {
            config,
            queues: RwLock::default(),
            topics: RwLock::default(),
            named_subscriptions: Mutex::default(),
            temporary: Mutex::default(),
            client_ids: Mutex::default(),
            next_key: AtomicU64::new(1),
            next_id: AtomicU64::new(1),
            timers: timers.clone(),
            budget,
            first_key: AtomicU64::new(1),
        });
        let broker = Broker { shared };
        broker.recover()?;
        let weak = Arc::downgrade(&broker.shared);
        let interval = broker.shared.config.expiry_scan_interval;
        std::thread::Builder::new()
            .name("herald-sweeper".into())
            .spawn(move || sweep(weak, timers, interval))
            .map_err(|e| Error::new(ErrorKind::Io, format!("cannot start the sweeper thread: {e}")))?;
        Ok(broker)
    }

    /// An in-memory broker with default settings.
    pub fn in_memory() -> Broker {
        Broker::start(BrokerConfig::default()).expect("an in-memory broker always starts")
    }

    pub(crate) fn next_id(&self) -> u64 {
        self.shared.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Shuts the broker down: the journal finishes the writes under way, closes its
    /// database and releases the data directory, and the sweeper stops. Later durable
    /// writes (persistent sends, their acknowledgements) fail with an IllegalState
    /// error. Dropping the last handle does the same.
    pub fn shutdown(&self) {
        self.journal().close();
        lock(&self.shared.timers.state).stopped = true;
        self.shared.timers.cond.notify_all();
    }

    fn journal(&self) -> &dyn Journal {
        &*self.shared.config.journal
    }

    fn recover(&self) -> Result<()> {
        let recovered = self.journal().recover_within(self.shared.config.memory_budget)?;
        let now = now_millis();
        for record in recovered.subscriptions {
            let selector = Selector::parse_optional(record.selector.as_deref())?;
            let topic = self.topic(&record.topic);
            let kind = SubscriptionKind::Durable {
                client_id: record.client_id.clone(),
                name: record.name.clone(),
                shared: record.shared,
            };
            let sub = Arc::new(Subscription {
                kind,
                topic: topic.name.clone(),
                queue: self.durable_store(record.store, Destination::topic(&*topic.name)),
                selector,
                no_local: record.no_local,
                owner: AtomicU64::new(0),
            });
            topic.attach(sub.clone());
            lock(&self.shared.named_subscriptions).insert((record.client_id, record.name), sub);
        }
        // Messages by key, found by binary search. A message is charged once however
        // many stores hold it. The journal read back only what fits the budget; the
        // rest stays there as the stores' tails.
        let mut recovered_messages = recovered.messages;
        if !recovered_messages.is_sorted_by_key(|m| m.0) {
            recovered_messages.sort_unstable_by_key(|m| m.0);
        }
        // The messages of one destination share its name instead of each holding a copy.
        let mut names: HashSet<Destination> = HashSet::new();
        // Charges by position in `messages`, beside it rather than in a copy of it, to
        // keep the peak of a large recovery down.
        let mut charges: Vec<Option<Arc<Charge>>> = Vec::with_capacity(recovered_messages.len());
        for (_, message) in recovered_messages.iter_mut() {
            if let Some(dest) = &message.destination {
                match names.get(dest) {
                    Some(shared) if shared.name().as_ptr() != dest.name().as_ptr() => {
                        let shared = shared.clone();
                        Arc::make_mut(message).destination = Some(shared);
                    }
                    Some(_) => {}
                    None => {
                        names.insert(dest.clone());
                    }
                }
            }
            charges.push(Some(self.shared.budget.charge(message)));
        }
        let messages = recovered_messages;
        // NON_PERSISTENT messages are in the journal only because they were paged out:
        // they do not survive a restart.
        let mut transient = Vec::new();
        let mut stores: HashMap<StoreKey, Arc<MessageQueue>> = HashMap::new();
        for sub in lock(&self.shared.named_subscriptions).values() {
            stores.insert(sub.queue.key.clone(), sub.queue.clone());
        }
        let mut store_of = |store: &StoreKey| -> Option<Arc<MessageQueue>> {
            match stores.get(store) {
                Some(q) => Some(q.clone()),
                None => {
                    let name = store.strip_prefix("queue:")?;
                    let q = self.queue(name);
                    stores.insert(store.clone(), q.clone());
                    Some(q)
                }
            }
        };
        for entry in recovered.entries {
            let Ok(at) = messages.binary_search_by_key(&entry.key, |m| m.0) else { continue };
            let (_, message) = &messages[at];
            if message.delivery_mode == DeliveryMode::NonPersistent {
                transient.push(Op::Remove { store: entry.store, key: entry.key });
                continue;
            }
            let Some(queue) = store_of(&entry.store) else { continue };
            let mut e = Entry::new(entry.key, message.clone(), 0);
            e.deliveries = entry.delivery_count;
            e.charge = charges[at].clone();
            if let Some(at) = queue.restore(e, now) {
                self.schedule(&queue, at);
            }
        }
        drop(charges);
        for tail in recovered.tails {
            if let Some(queue) = store_of(&tail.store) {
                queue.set_tail(tail.after, tail.count);
            }
        }
        let next = recovered.last_key + 1;
        self.shared.next_key.store(next, Ordering::Relaxed);
        self.shared.first_key.store(next, Ordering::Relaxed);
        if !transient.is_empty() {
            self.journal().write_relaxed(transient)?;
        }
        Ok(())
    }

    /// A durable store: it pages when the journal is durable.
    fn durable_store(&self, key: StoreKey, destination: Destination) -> Arc<MessageQueue> {
        if self.journal().is_durable() {
            let host: Weak<dyn PagerHost> = Arc::downgrade(&self.shared) as Weak<Shared>;
            MessageQueue::paging(key, destination, host)
        } else {
            Arc::new(MessageQueue::new(key, destination, true))
        }
    }

    /// Entries of `store`'s tail from the journal, for a browser.
    pub(crate) fn load_tail(&self, store: &str, after: u64, until: u64, max_rows: usize) -> Result<Vec<TailRow>> {
        Ok(self.journal().load_tail(store, after, until, max_rows, usize::MAX)?)
    }

    /// Bytes the queued messages keep in memory (as [`crate::paging`] estimates them),
    /// counted with a durable journal only: at most about
    /// [`BrokerConfig::memory_budget`] (concurrent senders may overshoot it by a message
    /// each, and a store with nothing resident reads a few messages of its tail back
    /// regardless) plus the messages of non-durable subscriptions and temporary
    /// queues, which are never paged.
    pub fn memory_used(&self) -> usize {
        self.shared.budget.used()
    }

    /// An entry for a message the broker keeps whole, its body charged to the budget
    /// when a durable journal makes paging possible.
    fn resident_entry(&self, key: u64, message: Arc<Message>, origin: u64) -> Entry {
        let mut entry = Entry::new(key, message, origin);
        if self.journal().is_durable() {
            entry.charge = Some(self.shared.budget.charge(&entry.message));
        }
        entry
    }

    /// The queue of this name, created on first use.
    pub(crate) fn queue(&self, name: &str) -> Arc<MessageQueue> {
        if let Some(q) = self.shared.queues.read().unwrap_or_else(|p| p.into_inner()).get(name) {
            return q.clone();
        }
        let mut queues = self.shared.queues.write().unwrap_or_else(|p| p.into_inner());
        queues
            .entry(name.into())
            .or_insert_with(|| self.durable_store(queue_store_key(name), Destination::queue(name)))
            .clone()
    }

    /// The topic of this name, created on first use.
    fn topic(&self, name: &str) -> Arc<Topic> {
        if let Some(t) = self.shared.topics.read().unwrap_or_else(|p| p.into_inner()).get(name) {
            return t.clone();
        }
        let mut topics = self.shared.topics.write().unwrap_or_else(|p| p.into_inner());
        topics.entry(name.into()).or_insert_with(|| Arc::new(Topic::new(name.into()))).clone()
    }

    /// The error for a temporary destination that does not exist (any more).
    fn no_temporary(dest: &Destination) -> Error {
        Error::invalid_destination(format!(
            "{dest} does not exist: it was deleted, or the connection that created it closed"
        ))
    }

    /// Checks that a temporary destination exists and, when `consumer` is given, that
    /// this connection owns it.
    fn check_temporary(&self, dest: &Destination, consumer: Option<u64>) -> Result<()> {
        if !dest.is_temporary() {
            return Ok(());
        }
        match lock(&self.shared.temporary).get(dest) {
            None => Err(Self::no_temporary(dest)),
            Some(owner) if consumer.is_some_and(|c| c != *owner) => Err(Error::invalid_destination(format!(
                "{dest} belongs to another connection; only its own connection may consume from it"
            ))),
            Some(_) => Ok(()),
        }
    }

    // ---- client IDs and temporary destinations ----

    pub(crate) fn claim_client_id(&self, id: &str) -> Result<()> {
        if id.is_empty() {
            return Err(Error::new(ErrorKind::InvalidClientId, "a client ID must not be empty"));
        }
        if !lock(&self.shared.client_ids).insert(id.to_owned()) {
            return Err(Error::new(ErrorKind::InvalidClientId, format!("client ID \"{id}\" is already in use")));
        }
        Ok(())
    }

    pub(crate) fn release_client_id(&self, id: &str) {
        lock(&self.shared.client_ids).remove(id);
    }

    pub(crate) fn create_temporary(&self, kind: DestinationKind, connection: u64) -> Destination {
        let n = self.next_id();
        let dest = Destination::temporary(kind, format!("herald.tmp.{connection}.{n}"));
        match kind {
            DestinationKind::TemporaryQueue => {
                let name: Arc<str> = dest.name().into();
                let q = Arc::new(MessageQueue::new(queue_store_key(&name), dest.clone(), false));
                self.shared.queues.write().unwrap_or_else(|p| p.into_inner()).insert(name, q);
            }
            _ => {
                self.topic(dest.name());
            }
        }
        lock(&self.shared.temporary).insert(dest.clone(), connection);
        dest
    }

    /// Deletes a temporary destination. Refused while consumers use it.
    pub(crate) fn delete_temporary(&self, dest: &Destination) -> Result<()> {
        if !dest.is_temporary() {
            return Err(Error::invalid_destination(format!("{dest} is not a temporary destination")));
        }
        if lock(&self.shared.temporary).remove(dest).is_none() {
            return Ok(());
        }
        if dest.is_queue() {
            let removed = self.shared.queues.write().unwrap_or_else(|p| p.into_inner()).remove(dest.name());
            if let Some(q) = removed {
                q.delete();
            }
        } else {
            let removed = self.shared.topics.write().unwrap_or_else(|p| p.into_inner()).remove(dest.name());
            if let Some(t) = removed {
                for sub in t.subscriptions() {
                    sub.queue.delete();
                }
            }
        }
        Ok(())
    }

    /// True while consumers are attached to a temporary destination.
    pub(crate) fn temporary_in_use(&self, dest: &Destination) -> bool {
        if dest.is_queue() {
            let queues = self.shared.queues.read().unwrap_or_else(|p| p.into_inner());
            queues.get(dest.name()).is_some_and(|q| q.consumer_count() > 0)
        } else {
            let topics = self.shared.topics.read().unwrap_or_else(|p| p.into_inner());
            topics.get(dest.name()).is_some_and(|t| !t.subscriptions().is_empty())
        }
    }

    // ---- consumers ----

    /// The queue a queue consumer or browser reads from.
    pub(crate) fn queue_for_consumer(&self, dest: &Destination, connection: u64) -> Result<Arc<MessageQueue>> {
        self.check_temporary(dest, Some(connection))?;
        if dest.is_temporary() {
            let queues = self.shared.queues.read().unwrap_or_else(|p| p.into_inner());
            return queues
                .get(dest.name())
                .cloned()
                .ok_or_else(|| Self::no_temporary(dest));
        }
        Ok(self.queue(dest.name()))
    }

    /// Finds or creates the subscription a topic consumer reads from.
    pub(crate) fn subscribe(&self, req: SubscriptionRequest<'_>) -> Result<Arc<Subscription>> {
        self.check_temporary(req.topic, Some(req.connection))?;
        let topic = self.topic(req.topic.name());
        let (client_id, name, durable, shared) = match &req.kind {
            SubscriptionKind::NonDurable => {
                let key: StoreKey = format!("nondurable:{}", self.next_id()).into();
                let sub = Arc::new(Subscription {
                    kind: SubscriptionKind::NonDurable,
                    topic: topic.name.clone(),
                    queue: Arc::new(MessageQueue::new(key, req.topic.clone(), false)),
                    selector: req.selector,
                    no_local: req.no_local,
                    owner: AtomicU64::new(req.connection),
                });
                topic.attach(sub.clone());
                return Ok(sub);
            }
            SubscriptionKind::Shared { client_id, name } => (client_id.clone(), name.clone(), false, true),
            SubscriptionKind::Durable { client_id, name, shared } => (client_id.clone(), name.clone(), true, *shared),
        };
        let mut named = lock(&self.shared.named_subscriptions);
        let id = (client_id.clone(), name.clone());
        if let Some(existing) = named.get(&id).cloned() {
            let existing_durable = matches!(existing.kind, SubscriptionKind::Durable { .. });
            let existing_shared = matches!(existing.kind, SubscriptionKind::Shared { .. } | SubscriptionKind::Durable { shared: true, .. });
            if existing_durable != durable || existing_shared != shared {
                return Err(Error::illegal_state(format!(
                    "subscription \"{name}\" already exists as a {} subscription",
                    describe(&existing.kind)
                )));
            }
            let active = existing.queue.consumer_count() > 0;
            let same = *existing.topic == *topic.name
                && existing.selector.as_ref().map(Selector::text) == req.selector.as_ref().map(Selector::text)
                && existing.no_local == req.no_local;
            if same {
                if active && !shared {
                    return Err(Error::illegal_state(format!(
                        "durable subscription \"{name}\" already has an active consumer"
                    )));
                }
                existing.owner.store(req.connection, Ordering::Relaxed);
                return Ok(existing);
            }
            if active {
                return Err(Error::illegal_state(format!(
                    "subscription \"{name}\" is in use with another topic, selector or noLocal; close its consumers first"
                )));
            }
            // JMS: a durable subscription re-created with another topic or selector
            // replaces the old one, whose messages are discarded.
            named.remove(&id);
            self.drop_subscription(&existing)?;
        }
        let key = if durable {
            subscription_store_key(client_id.as_deref(), &name)
        } else {
            format!("shared:{}", self.next_id()).into()
        };
        let sub = Arc::new(Subscription {
            kind: req.kind.clone(),
            topic: topic.name.clone(),
            queue: if durable {
                self.durable_store(key.clone(), req.topic.clone())
            } else {
                Arc::new(MessageQueue::new(key.clone(), req.topic.clone(), false))
            },
            selector: req.selector,
            no_local: req.no_local,
            owner: AtomicU64::new(req.connection),
        });
        if durable && self.journal().is_durable() {
            self.journal().write(vec![Op::AddSubscription(SubscriptionRecord {
                store: key,
                client_id,
                name,
                topic: topic.name.to_string(),
                selector: sub.selector.as_ref().map(|s| s.text().to_owned()),
                no_local: sub.no_local,
                shared,
            })])?;
        }
        topic.attach(sub.clone());
        named.insert(id, sub.clone());
        Ok(sub)
    }

    /// Called when a consumer of `sub` closes: non-durable subscriptions end with their
    /// last consumer.
    pub(crate) fn consumer_left(&self, sub: &Arc<Subscription>) {
        match &sub.kind {
            SubscriptionKind::Durable { .. } => {}
            SubscriptionKind::NonDurable => {
                self.topic(&sub.topic).detach(sub);
                sub.queue.delete();
            }
            SubscriptionKind::Shared { client_id, name } => {
                let mut named = lock(&self.shared.named_subscriptions);
                if sub.queue.consumer_count() == 0 {
                    let id = (client_id.clone(), name.clone());
                    if named.get(&id).is_some_and(|s| Arc::ptr_eq(s, sub)) {
                        named.remove(&id);
                    }
                    self.topic(&sub.topic).detach(sub);
                    sub.queue.delete();
                }
            }
        }
    }

    /// The topic, selector and noLocal of the durable subscription `name` of
    /// `client_id`, if it exists (the server checks permissions against its topic).
    pub fn durable_subscription(&self, client_id: Option<&str>, name: &str) -> Option<(Destination, Option<String>, bool)> {
        let named = lock(&self.shared.named_subscriptions);
        let sub = named.get(&(client_id.map(str::to_owned), name.to_owned()))?;
        if !matches!(sub.kind, SubscriptionKind::Durable { .. }) {
            return None;
        }
        Some((Destination::topic(&*sub.topic), sub.selector.as_ref().map(|s| s.text().to_owned()), sub.no_local))
    }

    /// Deletes a durable subscription. Refused while it has consumers.
    pub(crate) fn unsubscribe(&self, client_id: Option<&str>, name: &str) -> Result<()> {
        let mut named = lock(&self.shared.named_subscriptions);
        let id = (client_id.map(str::to_owned), name.to_owned());
        let sub = match named.get(&id) {
            Some(sub) if matches!(sub.kind, SubscriptionKind::Durable { .. }) => sub.clone(),
            _ => return Err(Error::invalid_destination(format!("there is no durable subscription \"{name}\""))),
        };
        if sub.queue.consumer_count() > 0 {
            return Err(Error::illegal_state(format!(
                "durable subscription \"{name}\" has an active consumer; close it before unsubscribing"
            )));
        }
        named.remove(&id);
        self.drop_subscription(&sub)
    }

    fn drop_subscription(&self, sub: &Arc<Subscription>) -> Result<()> {
        self.topic(&sub.topic).detach(sub);
        sub.queue.delete();
        if sub.queue.durable && self.journal().is_durable() {
            self.journal().write(vec![Op::RemoveSubscription { store: sub.queue.key.clone() }])?;
        }
        Ok(())
    }

    /// Binds the queue `queue` to the topic `topic`: from now on the queue receives a
    /// copy of every message published to the topic that `selector` accepts, like a
    /// durable subscription whose store is the queue itself. Bindings are configuration
    /// (the server sets them at every start), so they are not journaled; the messages
    /// they route are, as the queue's.
    pub fn bind_queue(&self, topic: &str, queue: &str, selector: Option<&str>) -> Result<()> {
        if topic.is_empty() || queue.is_empty() {
            return Err(Error::invalid_destination("a binding needs a topic and a queue name"));
        }
        let selector = Selector::parse_optional(selector)?;
        let target = self.queue(queue);
        let topic = self.topic(topic);
        let sub = Arc::new(Subscription {
            kind: SubscriptionKind::Durable { client_id: None, name: format!("binding:{queue}"), shared: true },
            topic: topic.name.clone(),
            queue: target,
            selector,
            no_local: false,
            owner: AtomicU64::new(0),
        });
        topic.attach(sub);
        Ok(())
    }

    // ---- routing ----

    /// Sends messages and acknowledges entries as one unit: journaled together, then
    /// made visible. A transaction commit, a single send and a single ack all come here.
    pub(crate) fn apply(
        &self,
        sends: Vec<(Destination, Arc<Message>)>,
        acks: Vec<(Arc<MessageQueue>, Entry)>,
        origin: u64,
    ) -> Result<()> {
        self.apply_started(sends, acks, origin)?.wait()
    }

    /// [`Broker::apply`] up to the journal write, which is started and not waited for:
    /// the returned [`Applying`] finishes the unit once it is written.
    pub(crate) fn apply_started(
        &self,
        sends: Vec<(Destination, Arc<Message>)>,
        acks: Vec<(Arc<MessageQueue>, Entry)>,
        origin: u64,
    ) -> Result<Applying> {
        let durable_journal = self.journal().is_durable();
        // Where each message goes, before any key is taken: a refused destination fails
        // the whole unit.
        let mut routed = Vec::with_capacity(sends.len());
        for (dest, message) in sends {
            let probe = Entry::new(0, message, origin);
            let targets = self.targets(&dest, &probe)?;
            routed.push((targets, probe.message));
        }
        let mut ops = Vec::new();
        // Whether any op concerns a PERSISTENT message: only then must the write be
        // synced; paged NON_PERSISTENT messages need to survive no crash.
        let mut sync = false;
        let mut placements = Vec::with_capacity(routed.len());
        for (targets, message) in routed {
            let persistent = message.delivery_mode == DeliveryMode::Persistent;
            let durable: Vec<Arc<MessageQueue>> =
                if durable_journal { targets.iter().filter(|q| q.durable).cloned().collect() } else { Vec::new() };
            // Paging: a durable store in tail mode, or any when the message does not fit
            // the budget, keeps it in the journal only.
            let (key, tails) = if durable.is_empty() {
                (self.shared.next_key.fetch_add(1, Ordering::Relaxed), Vec::new())
            } else {
                let fits = self.shared.budget.fits(resident_bytes(&message));
                MessageQueue::reserve(&durable, &self.shared.next_key, fits)
            };
            let tail_stores: Vec<Arc<MessageQueue>> =
                durable.iter().zip(&tails).filter(|(_, t)| **t).map(|(q, _)| q.clone()).collect();
            if !durable.is_empty() && (persistent || !tail_stores.is_empty()) {
                sync |= persistent;
                ops.push(Op::AddMessage { key, message: message.clone() });
                for (q, tail) in durable.iter().zip(&tails) {
                    if persistent || *tail {
                        ops.push(Op::Enqueue { store: q.key.clone(), key });
                    }
                }
            }
            let resident: Vec<Arc<MessageQueue>> =
                targets.into_iter().filter(|q| !tail_stores.iter().any(|t| Arc::ptr_eq(t, q))).collect();
            let mut entry = Entry::new(key, message, origin);
            if durable_journal && !resident.is_empty() {
                entry.charge = Some(self.shared.budget.charge(&entry.message));
            }
            placements.push((resident, tail_stores, entry));
        }
        if durable_journal {
            for (queue, entry) in &acks {
                if queue.durable && entry.is_journaled() {
                    sync |= entry.is_persistent();
                    ops.push(Op::Remove { store: queue.key.clone(), key: entry.key });
                }
            }
        }
        let commit = match ops.is_empty() {
            true => None,
            false if sync => Some(self.journal().write_started(ops)),
            false => Some(Commit::done(self.journal().write_relaxed(ops))),
        };
        Ok(Applying { broker: self.clone(), commit, acks, placements })
    }

    /// [`Broker::send`], for a PERSISTENT message to a durable journal started and not
    /// waited for (`Some`); any other send is carried out at once (`None`).
    pub(crate) fn send_started(
        &self,
        dest: &Destination,
        message: Arc<Message>,
        origin: u64,
        route: Option<&Route>,
    ) -> Result<Option<Applying>> {
        if self.journal().is_durable() && message.delivery_mode == DeliveryMode::Persistent {
            return self.apply_started(vec![(dest.clone(), message)], Vec::new(), origin).map(Some);
        }
        self.send(dest, message, origin, route).map(|()| None)
    }

    /// Reads `queue`'s tail back and hands it to waiting consumers.
    fn refill(&self, queue: &Arc<MessageQueue>, now: i64) {
        let refilled = queue.refill(now, false);
        wake_all(&refilled.wake);
        self.expire(queue, refilled.expired);
    }

    /// Sends one message outside a transaction. `route`, when given, caches the queue
    /// `dest` names.
    pub(crate) fn send(&self, dest: &Destination, message: Arc<Message>, origin: u64, route: Option<&Route>) -> Result<()> {
        let durable = self.journal().is_durable();
        let journaled = durable && message.delivery_mode == DeliveryMode::Persistent;
        let over_budget = durable && !self.shared.budget.fits(resident_bytes(&message));
        if journaled || over_budget || dest.is_temporary() {
            return self.apply(vec![(dest.clone(), message)], Vec::new(), origin);
        }
        if !dest.is_queue() {
            return self.publish(dest, message, origin);
        }
        let looked_up;
        let queue = match route.map(|r| r.get_or_init(|| self.queue(dest.name()))) {
            Some(q) if !q.is_deleted() => q,
            _ => {
                looked_up = self.queue(dest.name());
                &looked_up
            }
        };
        if queue.has_tail() {
            // Behind the tail, in the journal too.
            return self.apply(vec![(dest.clone(), message)], Vec::new(), origin);
        }
        // The common case, a non-persistent message to a queue, without the batch
        // machinery.
        let key = self.shared.next_key.fetch_add(1, Ordering::Relaxed);
        // The broker's clock, not the message's timestamp: over tcp:// that is the
        // client's, and expiry and delivery delay must not follow another machine's clock.
        let now = now_millis();
        self.place(queue, self.resident_entry(key, message, origin), now);
        Ok(())
    }

    /// Publishes a message that needs no journal (as [`Self::send`] decides) to a topic:
    /// when no subscription that wants it is durable, straight into the subscriptions'
    /// stores, without the batch machinery of [`Self::apply`] (which a durable
    /// subscription needs, for paging).
    fn publish(&self, dest: &Destination, message: Arc<Message>, origin: u64) -> Result<()> {
        let mut entry = Entry::new(0, message, origin);
        let targets = self.targets(dest, &entry)?;
        if targets.iter().any(|q| q.durable) {
            return self.apply(vec![(dest.clone(), entry.message)], Vec::new(), origin);
        }
        if targets.is_empty() {
            return Ok(());
        }
        entry.key = self.shared.next_key.fetch_add(1, Ordering::Relaxed);
        if self.journal().is_durable() {
            entry.charge = Some(self.shared.budget.charge(&entry.message));
        }
        self.place_in_all(&targets, entry, now_millis());
        Ok(())
    }

    /// Acknowledges entries in an automatic mode (AUTO_ACKNOWLEDGE, DUPS_OK, a remote
    /// client's receipts) without waiting for a commit: when this returns the
    /// acknowledgement survives the process being killed (see
    /// [`Journal::write_acknowledged`]); the returned commit tells when it is committed,
    /// and reports a failure. `None` when nothing is journaled.
    pub(crate) fn acknowledge_started(&self, acks: Vec<(Arc<MessageQueue>, Entry)>) -> Option<Commit> {
        let durable_journal = self.journal().is_durable();
        let mut ops = Vec::new();
        for (queue, entry) in &acks {
            if durable_journal && queue.durable && entry.is_journaled() {
                ops.push(Op::Remove { store: queue.key.clone(), key: entry.key });
            }
            queue.counters.acknowledged.fetch_add(1, Ordering::Relaxed);
        }
        (!ops.is_empty()).then(|| self.journal().write_acknowledged(ops))
    }

    /// Acknowledges in an automatic mode an entry the journal does not hold: what
    /// [`Self::acknowledge_started`] does for it, without a batch.
    pub(crate) fn acknowledged_unjournaled(&self, queue: &MessageQueue) {
        queue.counters.acknowledged.fetch_add(1, Ordering::Relaxed);
    }

    /// The queues a message sent to `dest` lands in.
    fn targets(&self, dest: &Destination, entry: &Entry) -> Result<Vec<Arc<MessageQueue>>> {
        self.check_temporary(dest, None)?;
        if dest.is_queue() {
            if dest.is_temporary() {
                let queues = self.shared.queues.read().unwrap_or_else(|p| p.into_inner());
                return Ok(queues.get(dest.name()).cloned().into_iter().collect());
            }
            return Ok(vec![self.queue(dest.name())]);
        }
        let topics = self.shared.topics.read().unwrap_or_else(|p| p.into_inner());
        Ok(topics.get(dest.name()).map(|t| t.targets(entry)).unwrap_or_default())
    }

    /// Places `entry` in every one of `queues`: copies in all but the last.
    fn place_in_all(&self, queues: &[Arc<MessageQueue>], entry: Entry, now: i64) {
        if let Some((last, others)) = queues.split_last() {
            for queue in others {
                self.place(queue, entry.clone(), now);
            }
            self.place(last, entry, now);
        }
    }

    fn place(&self, queue: &Arc<MessageQueue>, entry: Entry, now: i64) {
        match queue.enqueue(entry, now) {
            Placed::Dispatched(link) => link.wake(),
            Placed::Stored => {}
            Placed::Scheduled(at) => self.schedule(queue, at),
            Placed::Rejected(entry) => {
                if !queue.is_deleted() {
                    self.expire(queue, vec![entry]);
                }
            }
            Placed::Fed { wake, expired } => {
                wake_all(&wake);
                self.expire(queue, expired);
            }
        }
    }

    /// Takes back unacknowledged entries for redelivery; those delivered too often go to
    /// the dead-letter queue instead.
    pub(crate) fn redeliver(&self, queue: &Arc<MessageQueue>, entries: Vec<Entry>) {
        let max = self.shared.config.max_deliveries.max(1);
        let (dead, back): (Vec<Entry>, Vec<Entry>) = entries.into_iter().partition(|e| e.deliveries >= max);
        if self.journal().is_durable() && queue.durable {
            let ops: Vec<Op> = back
                .iter()
                .filter(|e| e.is_persistent() && e.deliveries > 0)
                .map(|e| Op::SetDeliveryCount { store: queue.key.clone(), key: e.key, count: e.deliveries })
                .collect();
            if !ops.is_empty() {
                if let Err(e) = self.journal().write_relaxed(ops) {
                    tracing::warn!(queue = %queue.key, cause = %e, "could not record delivery counts");
                }
            }
        }
        queue.give_back(back);
        if !dead.is_empty() {
            let target = self.shared.config.dead_letter_queue.clone();
            self.move_to(queue, dead, &target, "max-deliveries", false);
        }
    }

    /// Records that `entry` has been handed to an application and not yet acknowledged,
    /// so that after a crash it comes back with JMSRedelivered set. Written relaxed (no
    /// fsync): it survives a killed process, and losing it to a power cut only costs
    /// the flag.
    pub(crate) fn record_delivery(&self, queue: &Arc<MessageQueue>, entry: &Entry) {
        if !(self.journal().is_durable() && queue.durable && entry.is_persistent()) {
            return;
        }
        let op = Op::SetDeliveryCount { store: queue.key.clone(), key: entry.key, count: entry.deliveries };
        if let Err(e) = self.journal().write_relaxed(vec![op]) {
            tracing::warn!(queue = %queue.key, cause = %e, "could not record a delivery");
        }
    }

    /// Disposes of expired entries: into the expiry queue when one is configured.
    pub(crate) fn expire(&self, queue: &Arc<MessageQueue>, entries: Vec<Entry>) {
        if entries.is_empty() {
            return;
        }
        match self.shared.config.expiry_queue.clone() {
            Some(target) if *queue.destination.name() != *target || queue.destination.is_topic() => {
                self.move_to(queue, entries, &target, "expired", true)
            }
            _ => {
                if let Err(e) = self.apply(Vec::new(), entries.into_iter().map(|e| (queue.clone(), e)).collect(), 0) {
                    tracing::warn!(queue = %queue.key, cause = %e, "could not remove expired messages");
                }
            }
        }
    }

    /// Moves entries out of `queue` into the queue `target`, marking where they came
    /// from and why.
    fn move_to(&self, queue: &Arc<MessageQueue>, entries: Vec<Entry>, target: &str, reason: &str, clear_expiry: bool) {
        let dest = Destination::queue(target);
        let mut sends = Vec::with_capacity(entries.len());
        for entry in &entries {
            let mut copy = (*entry.message).clone();
            let _ = copy.set_property(ORIGINAL_DESTINATION_PROPERTY, queue.destination.to_string());
            let _ = copy.set_property(MOVE_REASON_PROPERTY, reason);
            if clear_expiry {
                copy.expiration = 0;
            }
            copy.delivery_time = 0;
            copy.destination = Some(dest.clone());
            sends.push((dest.clone(), Arc::new(copy)));
        }
        let acks = entries.into_iter().map(|e| (queue.clone(), e)).collect();
        if let Err(e) = self.apply(sends, acks, 0) {
            tracing::warn!(queue = %queue.key, target, cause = %e, "could not move messages");
        }
    }

    fn schedule(&self, queue: &Arc<MessageQueue>, at: i64) {
        self.shared.schedule(Arc::downgrade(queue), at);
    }

    /// Every queue and subscription store, for the expiry scan and statistics.
    fn all_queues(&self) -> Vec<Arc<MessageQueue>> {
        let mut all: Vec<Arc<MessageQueue>> =
            self.shared.queues.read().unwrap_or_else(|p| p.into_inner()).values().cloned().collect();
        let topics: Vec<Arc<Topic>> =
            self.shared.topics.read().unwrap_or_else(|p| p.into_inner()).values().cloned().collect();
        for t in topics {
            all.extend(t.subscriptions().into_iter().map(|s| s.queue.clone()));
        }
        // A queue bound to a topic is also one of its subscriptions' stores.
        let mut seen = HashSet::new();
        all.retain(|q| seen.insert(Arc::as_ptr(q)));
        all
    }

    /// Statistics of every queue and subscription, for `herald stat`.
    pub fn stats(&self) -> Vec<DestinationStats> {
        let mut out: Vec<DestinationStats> = self
            .all_queues()
            .iter()
            .map(|q| DestinationStats {
                store: q.key.to_string(),
                destination: q.destination.clone(),
                depth: q.depth(),
                consumers: q.consumer_count(),
                enqueued: q.counters.enqueued.load(Ordering::Relaxed),
                acknowledged: q.counters.acknowledged.load(Ordering::Relaxed),
            })
            .collect();
        out.sort_by(|a, b| a.store.cmp(&b.store));
        out
    }
}

/// One line of `herald stat`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DestinationStats {
    /// The store's name: `queue:NAME` or a subscription's.
    pub store: String,
    pub destination: Destination,
    /// Messages waiting or scheduled.
    pub depth: usize,
    pub consumers: usize,
    pub enqueued: u64,
    pub acknowledged: u64,
}

fn describe(kind: &SubscriptionKind) -> &'static str {
    match kind {
        SubscriptionKind::NonDurable => "non-durable",
        SubscriptionKind::Shared { .. } => "shared non-durable",
        SubscriptionKind::Durable { shared: false, .. } => "unshared durable",
        SubscriptionKind::Durable { shared: true, .. } => "shared durable",
    }
}

/// The sweeper thread: releases delayed messages on time and scans for expired ones.
fn sweep(broker: Weak<Shared>, timers: Arc<Timers>, interval: Duration) {
    let mut next_scan = now_millis() + interval.as_millis() as i64;
    loop {
        let mut due = Vec::new();
        {
            let mut state = lock(&timers.state);
            loop {
                if state.stopped {
                    return;
                }
                let now = now_millis();
                let wake_at = state.due.peek().map_or(next_scan, |d| d.0 .0.min(next_scan));
                if wake_at <= now {
                    while state.due.peek().is_some_and(|d| d.0 .0 <= now) {
                        let Some(Reverse((_, token))) = state.due.pop() else { break };
                        if let Some(q) = state.queues.remove(&token).and_then(|w| w.upgrade()) {
                            due.push(q);
                        }
                    }
                    break;
                }
                let wait = Duration::from_millis((wake_at - now) as u64);
                state = timers.cond.wait_timeout(state, wait).unwrap_or_else(|p| p.into_inner()).0;
            }
        }
        // Only a weak reference is kept between rounds, so dropping the last handle
        // stops the thread.
        let Some(shared) = broker.upgrade() else { return };
        let handle = Broker { shared };
        let now = now_millis();
        for queue in due {
            let (wake, expired) = queue.promote_due(now);
            wake_all(&wake);
            handle.expire(&queue, expired);
        }
        if now >= next_scan {
            for queue in handle.all_queues() {
                let expired = queue.take_expired(now);
                handle.expire(&queue, expired);
            }
            next_scan = now + interval.as_millis() as i64;
        }
    }
}
