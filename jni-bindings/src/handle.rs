//! Handles: the `long`s Java holds for native objects.
//!
//! A handle is a registry key with a type tag in its low bits, so a stale handle or a
//! session handle passed where a consumer is expected is an `IllegalState` error, never
//! undefined behaviour. A call borrows the object by cloning its `Arc` out of the
//! registry (the registry lock is never held while the call runs, so a blocking
//! `receive` does not block other calls), and `release` removes it: one owner each.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock, RwLock};

use herald_core::client::{Browser, Connection, Consumer, Producer, Session};
use jni::sys::jlong;

use crate::error::{BindError, BindResult};

/// A Java `long` naming a native object.
#[repr(transparent)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Handle(pub jlong);

const TAG_BITS: u32 = 4;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(i64)]
pub enum Tag {
    Connection = 1,
    Session = 2,
    Producer = 3,
    Consumer = 4,
    Browser = 5,
}

/// Wakes a session's delivery thread when one of its listening consumers may have a
/// message: set from whatever thread stored the message, waited on by Java's thread.
#[derive(Default)]
pub struct Doorbell {
    rung: Mutex<bool>,
    cond: Condvar,
}

impl Doorbell {
    pub fn ring(&self) {
        *self.rung.lock().unwrap_or_else(|p| p.into_inner()) = true;
        self.cond.notify_all();
    }

    /// Waits until rung or `timeout` passes; true when rung. Clears the bell.
    pub fn wait(&self, timeout: std::time::Duration) -> bool {
        let rung = self.rung.lock().unwrap_or_else(|p| p.into_inner());
        let (mut rung, _) = self
            .cond
            .wait_timeout_while(rung, timeout, |r| !*r)
            .unwrap_or_else(|p| p.into_inner());
        std::mem::replace(&mut *rung, false)
    }
}

pub struct SessionEntry {
    pub session: Session,
    pub doorbell: Arc<Doorbell>,
}

/// One registered native object.
#[derive(Clone)]
pub enum Object {
    Connection(Arc<Connection>),
    Session(Arc<SessionEntry>),
    Producer(Arc<Producer>),
    Consumer(Arc<Consumer>),
    Browser(Arc<Mutex<Browser>>),
}

impl Object {
    fn tag(&self) -> Tag {
        match self {
            Object::Connection(_) => Tag::Connection,
            Object::Session(_) => Tag::Session,
            Object::Producer(_) => Tag::Producer,
            Object::Consumer(_) => Tag::Consumer,
            Object::Browser(_) => Tag::Browser,
        }
    }
}

/// Handles are numbered in sequence: their own bits, spread by one multiplication, make a
/// good hash without SipHash's cost on every call.
#[derive(Default)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 << 8 | u64::from(*b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_i64(&mut self, key: i64) {
        self.0 = (key as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

type Shard = RwLock<HashMap<jlong, Object, BuildHasherDefault<KeyHasher>>>;

/// Shards of the registry, by handle number: consecutive handles (a producer's and its
/// consumers') land in different shards.
const SHARDS: usize = 16;

/// Read-locked by every call (a producer's and a consumer's threads look up their handles
/// at the same time without waiting for each other), write-locked to add or remove. In
/// shards, so that threads calling through different handles do not even share the lock's
/// cache line.
fn shard(key: jlong) -> &'static Shard {
    static REGISTRY: OnceLock<[Shard; SHARDS]> = OnceLock::new();
    let shards = REGISTRY.get_or_init(|| std::array::from_fn(|_| RwLock::default()));
    &shards[((key >> TAG_BITS) as u64 % SHARDS as u64) as usize]
}

static NEXT: AtomicI64 = AtomicI64::new(1);

/// Registers `object`; the returned handle is its one owner.
pub fn insert(object: Object) -> Handle {
    let key = (NEXT.fetch_add(1, Ordering::Relaxed) << TAG_BITS) | object.tag() as i64;
    shard(key).write().unwrap_or_else(|p| p.into_inner()).insert(key, object);
    Handle(key)
}

fn get(handle: Handle, tag: Tag) -> BindResult<Object> {
    if handle.0 & ((1 << TAG_BITS) - 1) != tag as i64 {
        return Err(BindError::illegal_state(format!("handle {:#x} is not a {tag:?} handle", handle.0)));
    }
    shard(handle.0)
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .get(&handle.0)
        .cloned()
        .ok_or_else(|| BindError::illegal_state(format!("the {tag:?} handle {:#x} is closed", handle.0)))
}

/// Removes the object from the registry; the caller closes it.
pub fn remove(handle: Handle) -> Option<Object> {
    shard(handle.0).write().unwrap_or_else(|p| p.into_inner()).remove(&handle.0)
}

/// How many objects are registered (for leak tests).
pub fn live_count() -> usize {
    (0..SHARDS as jlong).map(|i| shard(i << TAG_BITS).read().unwrap_or_else(|p| p.into_inner()).len()).sum()
}

pub fn connection(h: Handle) -> BindResult<Arc<Connection>> {
    match get(h, Tag::Connection)? {
        Object::Connection(c) => Ok(c),
        _ => unreachable!("the tag matched"),
    }
}

pub fn session(h: Handle) -> BindResult<Arc<SessionEntry>> {
    match get(h, Tag::Session)? {
        Object::Session(s) => Ok(s),
        _ => unreachable!("the tag matched"),
    }
}

pub fn producer(h: Handle) -> BindResult<Arc<Producer>> {
    match get(h, Tag::Producer)? {
        Object::Producer(p) => Ok(p),
        _ => unreachable!("the tag matched"),
    }
}

pub fn consumer(h: Handle) -> BindResult<Arc<Consumer>> {
    match get(h, Tag::Consumer)? {
        Object::Consumer(c) => Ok(c),
        _ => unreachable!("the tag matched"),
    }
}

pub fn browser(h: Handle) -> BindResult<Arc<Mutex<Browser>>> {
    match get(h, Tag::Browser)? {
        Object::Browser(b) => Ok(b),
        _ => unreachable!("the tag matched"),
    }
}
