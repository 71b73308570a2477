//! Deliveries encoded once for every consumer that receives the same message.
//!
//! A message published to a topic is shared by all its subscriptions, and a first
//! delivery's bytes depend on the message alone, so every subscriber would hand Java the
//! same bytes. The first subscriber to receive it encodes it and leaves the bytes here;
//! the others copy them into their Java array without encoding again. Java decodes each
//! copy into its own message object, so what one subscriber does to its message never
//! reaches another's.
//!
//! The cache is small and direct-mapped: [`SLOTS`] slots chosen by the message's address,
//! each holding one message's bytes (at most [`MAX_CACHED`] of them) and a `Weak` to the
//! message. The `Weak` keeps the address from being reused by another message and the
//! message from being changed in place (`Arc::get_mut` refuses while it lives), so a
//! slot whose `Weak` points at the delivered message holds exactly its bytes. Only
//! messages someone else still holds (`Arc::strong_count` above one) are cached: a queue
//! message received in an automatic acknowledgement mode is held by nobody else and takes
//! no slot; one a session keeps until it is acknowledged (CLIENT_ACKNOWLEDGE, transacted,
//! or a listener's until it returns) does take one, which costs a copy and is never
//! shared. A later message landing on the same slot evicts the earlier one, which
//! bounds what the cache keeps.

use std::sync::{Arc, Mutex, Weak};

use herald_core::{Delivery, Message};
use jni::objects::JByteArray;
use jni::Env;

use crate::error::BindResult;

/// Slots in the cache: enough for subscribers a few dozen messages apart to share.
const SLOTS: usize = 64;

/// Larger encodings are not cached, so the cache holds at most `SLOTS * MAX_CACHED` bytes.
const MAX_CACHED: usize = 64 * 1024;

struct Cached {
    message: Weak<Message>,
    bytes: Encoded,
}

/// A delivery's bytes, as Java's byte arrays take them. A `Vec` behind the `Arc` (not an
/// `Arc<[i8]>`) so that caching the encoder's buffer does not copy it.
pub type Encoded = Arc<Vec<i8>>;

/// The cache the native methods use.
static SHARED: Cache = Cache::new();

pub struct Cache {
    slots: [Mutex<Option<Cached>>; SLOTS],
}

fn slot_of(message: *const Message) -> usize {
    // Fibonacci hashing: messages allocated one after another land on different slots.
    let h = (message as usize as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (h >> (64 - SLOTS.trailing_zeros())) as usize
}

fn to_signed(bytes: Vec<u8>) -> Vec<i8> {
    // Same size and alignment: the collect reuses the allocation.
    bytes.into_iter().map(|b| b as i8).collect()
}

impl Cache {
    pub const fn new() -> Cache {
        Cache { slots: [const { Mutex::new(None) }; SLOTS] }
    }

    /// The bytes Java receives for `delivery` ([`Delivery::encode`]), shared with the
    /// other receivers of the same message when it is a first delivery.
    pub fn encoded(&self, delivery: &Delivery) -> Encoded {
        if delivery.delivery_count() != 1 {
            // A redelivery's bytes carry its own count: nobody else receives them.
            return Arc::new(to_signed(delivery.encode()));
        }
        let message = delivery.shared_message();
        let slot = &self.slots[slot_of(Arc::as_ptr(message))];
        if let Some(hit) = slot.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
            if std::ptr::eq(hit.message.as_ptr(), Arc::as_ptr(message)) {
                return hit.bytes.clone();
            }
        }
        let bytes = Arc::new(to_signed(delivery.encode()));
        if Arc::strong_count(message) > 1 && bytes.len() <= MAX_CACHED {
            let cached = Cached { message: Arc::downgrade(message), bytes: bytes.clone() };
            // The evicted entry drops outside the lock.
            let evicted = slot.lock().unwrap_or_else(|p| p.into_inner()).replace(cached);
            drop(evicted);
        }
        bytes
    }
}

impl Default for Cache {
    fn default() -> Cache {
        Cache::new()
    }
}

/// `delivery` as a new Java byte array.
pub fn to_java<'local>(env: &mut Env<'local>, delivery: &Delivery) -> BindResult<JByteArray<'local>> {
    // Looked up even when nobody else holds the message any more: the last subscriber to
    // receive it finds what the first one left.
    let bytes = SHARED.encoded(delivery);
    let array = JByteArray::new(env, bytes.len())?;
    array.set_region(env, 0, &bytes)?;
    Ok(array)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use herald_core::client::{AckMode, ConnectOptions, Connection};
    use herald_core::{Destination, Message};

    use super::*;

    // Each test has its own cache: tests running at the same time must not evict
    // each other's entries.

    /// Four subscribers of a topic receive each message as the bytes `Delivery::encode`
    /// gives, the later ones from the bytes the first one encoded.
    #[test]
    fn subscribers_share_one_encoding_of_each_message() {
        let cache = Cache::new();
        let c = Connection::open("vm://jni-encoded-share", &ConnectOptions::default()).unwrap();
        c.start().unwrap();
        let topic = Destination::topic("prices");
        let sessions: Vec<_> = (0..4).map(|_| c.create_session(AckMode::Auto).unwrap()).collect();
        let subscribers: Vec<_> =
            sessions.iter().map(|s| s.create_consumer(&topic, &Default::default()).unwrap()).collect();
        let producer = sessions[0].create_producer(Some(topic.clone())).unwrap();
        for n in 0..200 {
            producer.send(Message::text(format!("price {n}"))).unwrap();
        }
        for n in 0..200 {
            let mut first: Option<Encoded> = None;
            for (i, s) in subscribers.iter().enumerate() {
                let d = s.receive_timeout(Duration::from_secs(5)).unwrap().expect("a message");
                assert_eq!(d.text_body(), Some(format!("price {n}").as_str()));
                let bytes = cache.encoded(&d);
                assert_eq!(&bytes[..], &to_signed(d.encode())[..], "subscriber {i}, message {n}");
                match &first {
                    None => first = Some(bytes),
                    Some(f) => assert!(Arc::ptr_eq(f, &bytes), "subscriber {i} encoded message {n} again"),
                }
            }
        }
        c.close();
    }

    /// A redelivery carries its own delivery count, never a first delivery's bytes.
    #[test]
    fn a_redelivery_is_encoded_with_its_count() {
        let cache = Cache::new();
        let c = Connection::open("vm://jni-encoded-redeliver", &ConnectOptions::default()).unwrap();
        c.start().unwrap();
        let topic = Destination::topic("orders");
        let a = c.create_session(AckMode::Client).unwrap();
        let b = c.create_session(AckMode::Client).unwrap();
        let sa = a.create_consumer(&topic, &Default::default()).unwrap();
        let sb = b.create_consumer(&topic, &Default::default()).unwrap();
        a.create_producer(Some(topic)).unwrap().send(Message::text("once")).unwrap();
        let first = sa.receive_timeout(Duration::from_secs(5)).unwrap().unwrap();
        let first_bytes = cache.encoded(&first);
        a.recover().unwrap();
        let again = sa.receive_timeout(Duration::from_secs(5)).unwrap().unwrap();
        assert_eq!(again.delivery_count(), 2);
        let again_bytes = cache.encoded(&again);
        assert_eq!(&again_bytes[..], &to_signed(again.encode())[..]);
        assert_ne!(&again_bytes[..], &first_bytes[..]);
        let other = sb.receive_timeout(Duration::from_secs(5)).unwrap().unwrap();
        assert_eq!(&cache.encoded(&other)[..], &first_bytes[..], "the other subscriber's first delivery");
        c.close();
    }

    /// Messages that land on the same slot, alive or gone, never get each other's bytes.
    #[test]
    fn a_slot_never_answers_for_another_message() {
        let cache = Cache::new();
        let c = Connection::open("vm://jni-encoded-slots", &ConnectOptions::default()).unwrap();
        c.start().unwrap();
        let topic = Destination::topic("many");
        let s1 = c.create_session(AckMode::Auto).unwrap();
        let s2 = c.create_session(AckMode::Auto).unwrap();
        let one = s1.create_consumer(&topic, &Default::default()).unwrap();
        let two = s2.create_consumer(&topic, &Default::default()).unwrap();
        let producer = s1.create_producer(Some(topic)).unwrap();
        // Far more messages than slots, received by one subscriber well ahead of the
        // other, so slots are reused and freed messages' addresses come back.
        for round in 0..20 {
            for n in 0..100 {
                producer.send(Message::text(format!("{round}/{n}"))).unwrap();
            }
            for consumer in [&one, &two] {
                for n in 0..100 {
                    let d = consumer.receive_timeout(Duration::from_secs(5)).unwrap().unwrap();
                    assert_eq!(d.text_body(), Some(format!("{round}/{n}").as_str()));
                    assert_eq!(&cache.encoded(&d)[..], &to_signed(d.encode())[..], "{round}/{n}");
                }
            }
        }
        c.close();
    }

    #[test]
    fn large_messages_are_not_kept() {
        let cache = Cache::new();
        let c = Connection::open("vm://jni-encoded-large", &ConnectOptions::default()).unwrap();
        c.start().unwrap();
        let topic = Destination::topic("big");
        let s1 = c.create_session(AckMode::Auto).unwrap();
        let s2 = c.create_session(AckMode::Auto).unwrap();
        let one = s1.create_consumer(&topic, &Default::default()).unwrap();
        let two = s2.create_consumer(&topic, &Default::default()).unwrap();
        s1.create_producer(Some(topic)).unwrap().send(Message::bytes(vec![7u8; MAX_CACHED + 1])).unwrap();
        let a = one.receive_timeout(Duration::from_secs(5)).unwrap().unwrap();
        let b = two.receive_timeout(Duration::from_secs(5)).unwrap().unwrap();
        let (ea, eb) = (cache.encoded(&a), cache.encoded(&b));
        assert_eq!(ea, eb);
        assert!(!Arc::ptr_eq(&ea, &eb), "a message larger than MAX_CACHED is encoded by each receiver");
        c.close();
    }
}
