//! `herald-jni`: the JNI entry points of the Herald JMS provider, and nothing else.
//!
//! Every native method of `io.herald.jms.Native` has the same shell: convert the `long`
//! handle, run the logic from [`ops`] inside `with_env` (which catches panics) and
//! resolve the outcome with [`ThrowJms`], which throws `HeraldNativeException` for any
//! error or panic. Rust never calls into Java from its own threads: `receive` blocks on
//! the caller's thread, and MessageListener delivery is a Java loop that calls it.
//!
//! # Layout
//! - [`handle`]: the handle registry (`long` → native object, with a type tag).
//! - [`ops`]: one function per native method, over the core client API.
//! - [`encoded`]: a topic message's delivery bytes, encoded once for all its subscribers.
//! - [`error`]: `BindError` and the `ThrowJms` error policy.

pub mod encoded;
pub mod error;
pub mod handle;
pub mod ops;

use jni::objects::{JByteArray, JClass, JLongArray, JString};
use jni::sys::{jboolean, jint, jlong};
use jni::EnvUnowned;

use error::{BindError, ThrowJms};
use handle::Handle;

/// The library's own allocations (messages, queue entries, encodings; never memory Java
/// or the JVM frees) come from mimalloc. A message is allocated on the sending thread and
/// freed on a receiving one, all the time: glibc's allocator serializes that on arena
/// locks, which the JVM's many threads contend for; mimalloc frees across threads without
/// them (as `herald serve` does).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[unsafe(no_mangle)]
pub extern "system" fn Java_io_herald_jms_Native_connectionOpen<'l>(mut env: EnvUnowned<'l>, _class: JClass<'l>, url: JString<'l>, user: JString<'l>, password: JString<'l>, client_id: JString<'l>) -> jlong {
    env.with_env(|env| -> Result<jlong, BindError> { ops::connection_open(env, url, user, password, client_id) }).resolve::<ThrowJms>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_io_herald_jms_Native_connectionSetClientId<'l>(mut env: EnvUnowned<'l>, _class: JClass<'l>, h: jlong, id: JString<'l>) {
    env.with_env(|env| -> Result<(), BindError> { ops::connection_set_client_id(env, Handle(h), id) }).resolve::<ThrowJms>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_io_herald_jms_Native_connectionStart<'l>(mut env: EnvUnowned<'l>, _class: JClass<'l>, h: jlong) {
    env.with_env(|_env| -> Result<(), BindError> { ops::connection_start(Handle(h)) }).resolve::<ThrowJms>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_io_herald_jms_Native_connectionStop<'l>(mut env: EnvUnowned<'l>, _class: JClass<'l>, h: jlong) {
    env.with_env(|_env| -> Result<(), BindError> { ops::connection_stop(Handle(h)) }).resolve::<ThrowJms>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_io_herald_jms_Native_connectionAwaitFailure<'l>(mut env: EnvUnowned<'l>, _class: JClass<'l>, h: jlong, timeout_ms: jlong) {
    env.with_env(|_env| -> Result<(), BindError> { ops::connection_await_failure(Handle(h), timeout_ms) }).resolve::<ThrowJms>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_io_herald_jms_Native_connectionCreateSession<'l>(mut env: EnvUnowned<'l>, _class: JClass<'l>, h: jlong, mode: jint) -> jlong {
    env.with_env(|_env| -> Result<jlong, BindError> { ops::connection_create_session(Handle(h), mode) }).resolve::<ThrowJms>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_io_herald_jms_Native_connectionCreateTemporary<'l>(mut env: EnvUnowned<'l>, _class: JClass<'l>, h: jlong, topic: jboolean) -> JString<'l> {
    env.with_env(|env| -> Result<JString<'l>, BindError> { ops::connection_create_temporary(env, Handle(h), topic) }).resolve::<ThrowJms>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_io_herald_jms_Native_connectionDeleteTemporary<'l>(mut env: EnvUnowned<'l>, _class: JClass<'l>, h: jlong, dest: JString<'l>) {
    env.with_env(|env| -> Result<(), BindError> { ops::connection_delete_temporary(env, Handle(h), dest) }).resolve::<ThrowJms>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_io_herald_jms_Native_sessionCreateProducer<'l>(mut env: EnvUnowned<'l>, _class: JClass<'l>, h: jlong, dest: JString<'l>) -> jlong {
    env.with_env(|env| -> Result<jlong, BindError> { ops::session_create_producer(env, Handle(h), dest) }).resolve::<ThrowJms>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_io_herald_jms_Native_sessionCreateConsumer<'l>(mut env: EnvUnowned<'l>, _class: JClass<'l>, h: jlong, dest: JString<'l>, selector: JString<'l>, no_local: jboolean, subscription: JString<'l>, durable: jboolean, shared: jboolean) -> jlong {
    env.with_env(|env| -> Result<jlong, BindError> { ops::session_create_consumer(env, Handle(h), dest, selector, no_local, subscription, durable, shared) }).resolve::<ThrowJms>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_io_herald_jms_Native_sessionCreateBrowser<'l>(mut env: EnvUnowned<'l>, _class: JClass<'l>, h: jlong, dest: JString<'l>, selector: JString<'l>) -> jlong {
    env.with_env(|env| -> Result<jlong, BindError> { ops::session_create_browser(env, Handle(h), dest, selector) }).resolve::<ThrowJms>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_io_herald_jms_Native_sessionUnsubscribe<'l>(mut env: EnvUnowned<'l>, _class: JClass<'l>, h: jlong, name: JString<'l>) {
    env.with_env(|env| -> Result<(), BindError> { ops::session_unsubscribe(env, Handle(h), name) }).resolve::<ThrowJms>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_io_herald_jms_Native_sessionComplete<'l>(mut env: EnvUnowned<'l>, _class: JClass<'l>, h: jlong, what: jint) {
    env.with_env(|_env| -> Result<(), BindError> { ops::session_complete(Handle(h), what) }).resolve::<ThrowJms>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_io_herald_jms_Native_sessionAcknowledgesAutomatically<'l>(mut env: EnvUnowned<'l>, _class: JClass<'l>, h: jlong) -> jboolean {
    env.with_env(|_env| -> Result<jboolean, BindError> { ops::session_acknowledges_automatically(Handle(h)) }).resolve::<ThrowJms>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_io_herald_jms_Native_sessionWait<'l>(mut env: EnvUnowned<'l>, _class: JClass<'l>, h: jlong, timeout_ms: jlong) -> jboolean {
    env.with_env(|_env| -> Result<jboolean, BindError> { ops::session_wait(Handle(h), timeout_ms) }).resolve::<ThrowJms>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_io_herald_jms_Native_sessionRing<'l>(mut env: EnvUnowned<'l>, _class: JClass<'l>, h: jlong) {
    env.with_env(|_env| -> Result<(), BindError> { ops::session_ring(Handle(h)) }).resolve::<ThrowJms>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_io_herald_jms_Native_producerSend<'l>(mut env: EnvUnowned<'l>, _class: JClass<'l>, h: jlong, dest: JString<'l>, message: JByteArray<'l>, length: jint, mode: jint, priority: jint, ttl: jlong, delay: jlong, no_id: jboolean, no_timestamp: jboolean, sent: JLongArray<'l>) {
    env.with_env(|env| -> Result<(), BindError> { ops::producer_send(env, Handle(h), dest, message, length, mode, priority, ttl, delay, no_id, no_timestamp, sent) }).resolve::<ThrowJms>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_io_herald_jms_Native_consumerReceive<'l>(mut env: EnvUnowned<'l>, _class: JClass<'l>, h: jlong, timeout_ms: jlong, hold: jboolean) -> JByteArray<'l> {
    env.with_env(|env| -> Result<JByteArray<'l>, BindError> { ops::consumer_receive(env, Handle(h), timeout_ms, hold) }).resolve::<ThrowJms>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_io_herald_jms_Native_consumerSetWakeup<'l>(mut env: EnvUnowned<'l>, _class: JClass<'l>, h: jlong, session: jlong) {
    env.with_env(|_env| -> Result<(), BindError> { ops::consumer_set_wakeup(Handle(h), Handle(session)) }).resolve::<ThrowJms>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_io_herald_jms_Native_browserNext<'l>(mut env: EnvUnowned<'l>, _class: JClass<'l>, h: jlong) -> JByteArray<'l> {
    env.with_env(|env| -> Result<JByteArray<'l>, BindError> { ops::browser_next(env, Handle(h)) }).resolve::<ThrowJms>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_io_herald_jms_Native_release<'l>(mut env: EnvUnowned<'l>, _class: JClass<'l>, h: jlong) {
    env.with_env(|_env| -> Result<(), BindError> { ops::release(Handle(h)) }).resolve::<ThrowJms>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_io_herald_jms_Native_liveCount<'l>(mut env: EnvUnowned<'l>, _class: JClass<'l>) -> jint {
    env.with_env(|_env| -> Result<jint, BindError> { ops::live_count() }).resolve::<ThrowJms>()
}

/// Called once from `Native`'s static initializer: resolves the classes the library uses
/// (through the loader that loaded `Native`), so later calls never look them up.
#[unsafe(no_mangle)]
pub extern "system" fn Java_io_herald_jms_Native_init<'l>(mut env: EnvUnowned<'l>, _class: JClass<'l>) {
    env.with_env(|env| -> Result<(), BindError> {
        error::exception_class(env)?;
        Ok(())
    })
    .resolve::<ThrowJms>()
}

#[cfg(test)]
mod tests {
    use herald_core::client::{AckMode, ConnectOptions, Connection};
    use herald_core::{Body, Destination, Message, MessageId, Value};

    use crate::handle::{self, Handle, Object};
    use crate::ops;

    /// The exact bytes the Java codec (java/.../MessageCodec.java) writes and reads. If the
    /// core's encoding changes, this fails and the Java codec must change with it.
    #[test]
    fn message_layout_is_what_the_java_codec_speaks() {
        let mut m = Message::text("hi");
        m.set_property("a", 1i32).unwrap();
        m.reply_to = Some(Destination::queue("q"));
        m.id = Some(MessageId(uuid::Uuid::nil()));
        let mut expected = vec![0x9c, 0xc4, 0x10];
        expected.extend([0u8; 16]);
        expected.extend([0x00, 0xc0, 0x92, 0xa5]);
        expected.extend(b"Queue");
        expected.extend([0xa1, b'q', 0xc0, 0xaa]);
        expected.extend(b"Persistent");
        expected.extend([0x04, 0x00, 0x00, 0xc0, 0x91, 0x92, 0xa1, b'a', 0x81, 0xa3]);
        expected.extend(b"Int");
        expected.extend([0x01, 0x81, 0xa4]);
        expected.extend(b"Text");
        expected.extend([0xa2, b'h', b'i']);
        assert_eq!(m.encode(), expected);

        let map = Message::new(Body::Map(vec![
            ("k".into(), Value::Bytes(vec![1, 200])),
            ("c".into(), Value::Char('x')),
            ("f".into(), Value::Float(1.5)),
        ]));
        let bytes = map.encode();
        // Body: {"Map": [["k", {"Bytes": bin [1, 200]}], ["c", {"Char": "x"}], ["f", {"Float": f32}]]}
        let tail: &[u8] = &[
            0x81, 0xa3, b'M', b'a', b'p', 0x93, 0x92, 0xa1, b'k', 0x81, 0xa5, b'B', b'y', b't', b'e', b's', 0xc4,
            0x02, 0x01, 0xc8, 0x92, 0xa1, b'c', 0x81, 0xa4, b'C', b'h', b'a', b'r', 0xa1, b'x', 0x92, 0xa1, b'f',
            0x81, 0xa5, b'F', b'l', b'o', b'a', b't', 0xca, 0x3f, 0xc0, 0x00, 0x00,
        ];
        assert!(bytes.ends_with(tail), "{bytes:02x?}");
        assert_eq!(Message::new(Body::Empty).encode().last(), Some(&b'y'), "unit variant as a string");
    }

    #[test]
    fn handles_are_typed_and_released_once() {
        let c = Connection::open("vm://jni-unit", &ConnectOptions::default()).unwrap();
        let session = c.create_session(AckMode::Auto).unwrap();
        let conn = handle::insert(Object::Connection(std::sync::Arc::new(c)));
        let entry = handle::SessionEntry { session, doorbell: Default::default() };
        let sess = handle::insert(Object::Session(std::sync::Arc::new(entry)));
        assert!(handle::connection(conn).is_ok());
        assert!(handle::session(conn).is_err(), "a connection handle is not a session handle");
        assert!(handle::consumer(Handle(sess.0)).is_err());
        assert!(handle::connection(Handle(12345)).is_err(), "an unknown handle is an error");
        ops::release(sess).unwrap();
        ops::release(sess).unwrap();
        assert!(handle::session(sess).is_err(), "a released handle is gone");
        ops::release(conn).unwrap();
        assert!(handle::connection(conn).is_err());
    }

    #[test]
    fn the_core_says_which_sessions_acknowledge_after_a_listener() {
        let c = Connection::open("vm://jni-unit-modes", &ConnectOptions::default()).unwrap();
        let conn = handle::insert(Object::Connection(std::sync::Arc::new(c)));
        // The javax.jms.Session constants Java passes: 0 transacted, 1 auto, 2 client, 3 dups-ok.
        for (mode, automatic) in [(0, false), (1, true), (2, false), (3, true)] {
            let sess = Handle(ops::connection_create_session(conn, mode).unwrap());
            assert_eq!(ops::session_acknowledges_automatically(sess).unwrap(), automatic, "mode {mode}");
            ops::release(sess).unwrap();
            assert!(ops::session_acknowledges_automatically(sess).is_err(), "a released session is refused");
        }
        ops::release(conn).unwrap();
    }

    #[test]
    fn doorbell_wakes_and_times_out() {
        let bell = std::sync::Arc::new(handle::Doorbell::default());
        assert!(!bell.wait(std::time::Duration::from_millis(10)));
        let b = bell.clone();
        let t = std::thread::spawn(move || b.ring());
        assert!(bell.wait(std::time::Duration::from_secs(5)));
        t.join().unwrap();
    }
}
