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
//! - [`error`]: `BindError` and the `ThrowJms` error policy.

pub mod error;
pub mod handle;
pub mod ops;

use jni::objects::{JByteArray, JClass, JLongArray, JString};
use jni::sys::{jboolean, jint, jlong};
use jni::EnvUnowned;

use error::{BindError, ThrowJms};
use handle::Handle;

#[unsafe(no_mangle)]
pub extern "system" fn Java_io_herald_jms_Native_connectionOpen<'l>(mut env: EnvUnowned<'l>, _class: JClass<'l>, url: JString<'l>, user: JString<'l>, password: JString<'l>, client_id: JString<'l>) -> jlong {
    env.with_env(|env| -> Result<jlong, BindError> { ops::connection_open(env, url, user, password, client_id) }).resolve::<ThrowJms>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_io_herald_jms_Native_connectionSetClientId<'l>(mut env: EnvUnowned<'l>, _class: JClass<'l>, h: jlong, id: JString<'l>) -> () {
    env.with_env(|env| -> Result<(), BindError> { ops::connection_set_client_id(env, Handle(h), id) }).resolve::<ThrowJms>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_io_herald_jms_Native_connectionStart<'l>(mut env: EnvUnowned<'l>, _class: JClass<'l>, h: jlong) -> () {
    env.with_env(|_env| -> Result<(), BindError> { ops::connection_start(Handle(h)) }).resolve::<ThrowJms>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_io_herald_jms_Native_connectionStop<'l>(mut env: EnvUnowned<'l>, _class: JClass<'l>, h: jlong) -> () {
    env.with_env(|_env| -> Result<(), BindError> { ops::connection_stop(Handle(h)) }).resolve::<ThrowJms>()
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
pub extern "system" fn Java_io_herald_jms_Native_connectionDeleteTemporary<'l>(mut env: EnvUnowned<'l>, _class: JClass<'l>, h: jlong, dest: JString<'l>) -> () {
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
pub extern "system" fn Java_io_herald_jms_Native_sessionUnsubscribe<'l>(mut env: EnvUnowned<'l>, _class: JClass<'l>, h: jlong, name: JString<'l>) -> () {
    env.with_env(|env| -> Result<(), BindError> { ops::session_unsubscribe(env, Handle(h), name) }).resolve::<ThrowJms>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_io_herald_jms_Native_sessionComplete<'l>(mut env: EnvUnowned<'l>, _class: JClass<'l>, h: jlong, what: jint) -> () {
    env.with_env(|_env| -> Result<(), BindError> { ops::session_complete(Handle(h), what) }).resolve::<ThrowJms>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_io_herald_jms_Native_sessionWait<'l>(mut env: EnvUnowned<'l>, _class: JClass<'l>, h: jlong, timeout_ms: jlong) -> jboolean {
    env.with_env(|_env| -> Result<jboolean, BindError> { ops::session_wait(Handle(h), timeout_ms) }).resolve::<ThrowJms>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_io_herald_jms_Native_sessionRing<'l>(mut env: EnvUnowned<'l>, _class: JClass<'l>, h: jlong) -> () {
    env.with_env(|_env| -> Result<(), BindError> { ops::session_ring(Handle(h)) }).resolve::<ThrowJms>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_io_herald_jms_Native_producerSend<'l>(mut env: EnvUnowned<'l>, _class: JClass<'l>, h: jlong, dest: JString<'l>, message: JByteArray<'l>, mode: jint, priority: jint, ttl: jlong, delay: jlong, no_id: jboolean, no_timestamp: jboolean) -> JLongArray<'l> {
    env.with_env(|env| -> Result<JLongArray<'l>, BindError> { ops::producer_send(env, Handle(h), dest, message, mode, priority, ttl, delay, no_id, no_timestamp) }).resolve::<ThrowJms>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_io_herald_jms_Native_consumerReceive<'l>(mut env: EnvUnowned<'l>, _class: JClass<'l>, h: jlong, timeout_ms: jlong) -> JByteArray<'l> {
    env.with_env(|env| -> Result<JByteArray<'l>, BindError> { ops::consumer_receive(env, Handle(h), timeout_ms) }).resolve::<ThrowJms>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_io_herald_jms_Native_consumerSetWakeup<'l>(mut env: EnvUnowned<'l>, _class: JClass<'l>, h: jlong, session: jlong) -> () {
    env.with_env(|_env| -> Result<(), BindError> { ops::consumer_set_wakeup(Handle(h), Handle(session)) }).resolve::<ThrowJms>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_io_herald_jms_Native_browserNext<'l>(mut env: EnvUnowned<'l>, _class: JClass<'l>, h: jlong) -> JByteArray<'l> {
    env.with_env(|env| -> Result<JByteArray<'l>, BindError> { ops::browser_next(env, Handle(h)) }).resolve::<ThrowJms>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_io_herald_jms_Native_release<'l>(mut env: EnvUnowned<'l>, _class: JClass<'l>, h: jlong) -> () {
    env.with_env(|_env| -> Result<(), BindError> { ops::release(Handle(h)) }).resolve::<ThrowJms>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_io_herald_jms_Native_liveCount<'l>(mut env: EnvUnowned<'l>, _class: JClass<'l>) -> jint {
    env.with_env(|_env| -> Result<jint, BindError> { ops::live_count() }).resolve::<ThrowJms>()
}
