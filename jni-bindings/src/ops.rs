//! The logic behind each native method: plain Rust over the client API, no `unsafe`.
//! Each function converts its Java arguments, calls the core and converts the result.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use herald_core::client::{
    AckMode, ConnectOptions, Connection, ConsumerOptions, SendOptions, SubscriptionOptions,
};
use herald_core::{DeliveryMode, Destination, Message};
use jni::objects::{JByteArray, JLongArray, JString};
use jni::sys::{jboolean, jint, jlong};
use jni::Env;

use crate::error::{BindError, BindResult};
use crate::handle::{self, Doorbell, Handle, Object, SessionEntry};

fn opt_string(env: &Env<'_>, s: &JString<'_>) -> BindResult<Option<String>> {
    if s.is_null() {
        return Ok(None);
    }
    Ok(Some(s.try_to_string(env)?))
}

fn string(env: &Env<'_>, s: &JString<'_>, what: &str) -> BindResult<String> {
    opt_string(env, s)?.ok_or_else(|| BindError::invalid_argument(format!("{what} must not be null")))
}

fn destination(env: &Env<'_>, s: &JString<'_>) -> BindResult<Option<Destination>> {
    opt_string(env, s)?.map(|text| Destination::parse(&text)).transpose().map_err(BindError::from)
}

// ---- connection ----

pub fn connection_open(
    env: &mut Env<'_>,
    url: JString<'_>,
    user: JString<'_>,
    password: JString<'_>,
    client_id: JString<'_>,
) -> BindResult<jlong> {
    let url = string(env, &url, "the URL")?;
    let options = ConnectOptions {
        user: opt_string(env, &user)?,
        password: opt_string(env, &password)?,
        client_id: opt_string(env, &client_id)?,
        ..ConnectOptions::default()
    };
    let connection = Connection::open(&url, &options)?;
    Ok(handle::insert(Object::Connection(Arc::new(connection))).0)
}

pub fn connection_set_client_id(env: &mut Env<'_>, h: Handle, id: JString<'_>) -> BindResult<()> {
    let id = string(env, &id, "the client ID")?;
    Ok(handle::connection(h)?.set_client_id(&id)?)
}

pub fn connection_start(h: Handle) -> BindResult<()> {
    Ok(handle::connection(h)?.start()?)
}

pub fn connection_stop(h: Handle) -> BindResult<()> {
    Ok(handle::connection(h)?.stop()?)
}

/// Blocks until the connection fails (then the failure is the error thrown), is closed,
/// or `timeout_ms` passes (< 0: no limit); returns normally in the last two cases. Java's
/// ExceptionListener thread sits here; releasing the handle closes the connection, which
/// ends the wait.
pub fn connection_await_failure(h: Handle, timeout_ms: jlong) -> BindResult<()> {
    let connection = handle::connection(h)?;
    let timeout = (timeout_ms >= 0).then(|| Duration::from_millis(timeout_ms as u64));
    match connection.wait_for_failure(timeout) {
        Some(failure) => Err(failure.into()),
        None => Ok(()),
    }
}

pub fn connection_create_session(h: Handle, mode: jint) -> BindResult<jlong> {
    let session = handle::connection(h)?.create_session(AckMode::from_jms(mode)?)?;
    let entry = SessionEntry { session, doorbell: Arc::new(Doorbell::default()) };
    Ok(handle::insert(Object::Session(Arc::new(entry))).0)
}

pub fn connection_create_temporary<'local>(
    env: &mut Env<'local>,
    h: Handle,
    topic: jboolean,
) -> BindResult<JString<'local>> {
    let c = handle::connection(h)?;
    let dest = if topic { c.create_temporary_topic()? } else { c.create_temporary_queue()? };
    Ok(JString::from_str(env, dest.to_string())?)
}

pub fn connection_delete_temporary(env: &mut Env<'_>, h: Handle, dest: JString<'_>) -> BindResult<()> {
    let dest = destination(env, &dest)?.ok_or_else(|| BindError::invalid_argument("destination is null"))?;
    Ok(handle::connection(h)?.delete_temporary(&dest)?)
}

// ---- session ----

pub fn session_create_producer(env: &mut Env<'_>, h: Handle, dest: JString<'_>) -> BindResult<jlong> {
    let dest = destination(env, &dest)?;
    let producer = handle::session(h)?.session.create_producer(dest)?;
    Ok(handle::insert(Object::Producer(Arc::new(producer))).0)
}

#[allow(clippy::too_many_arguments)]
pub fn session_create_consumer(
    env: &mut Env<'_>,
    h: Handle,
    dest: JString<'_>,
    selector: JString<'_>,
    no_local: jboolean,
    subscription: JString<'_>,
    durable: jboolean,
    shared: jboolean,
) -> BindResult<jlong> {
    let dest = destination(env, &dest)?.ok_or_else(|| BindError::invalid_argument("destination is null"))?;
    let options = ConsumerOptions {
        selector: opt_string(env, &selector)?,
        no_local,
        subscription: opt_string(env, &subscription)?.map(|name| SubscriptionOptions { name, durable, shared }),
        prefetch: None,
    };
    let consumer = handle::session(h)?.session.create_consumer(&dest, &options)?;
    Ok(handle::insert(Object::Consumer(Arc::new(consumer))).0)
}

pub fn session_create_browser(env: &mut Env<'_>, h: Handle, dest: JString<'_>, selector: JString<'_>) -> BindResult<jlong> {
    let dest = destination(env, &dest)?.ok_or_else(|| BindError::invalid_argument("destination is null"))?;
    let selector = opt_string(env, &selector)?;
    let browser = handle::session(h)?.session.create_browser(&dest, selector.as_deref())?;
    Ok(handle::insert(Object::Browser(Arc::new(Mutex::new(browser)))).0)
}

pub fn session_unsubscribe(env: &mut Env<'_>, h: Handle, name: JString<'_>) -> BindResult<()> {
    let name = string(env, &name, "the subscription name")?;
    Ok(handle::session(h)?.session.unsubscribe(&name)?)
}

/// 0 acknowledge, 1 commit, 2 rollback, 3 recover, 4 acknowledge what a listener
/// received with `hold` (AUTO/DUPS_OK).
pub fn session_complete(h: Handle, what: jint) -> BindResult<()> {
    let entry = handle::session(h)?;
    let s = &entry.session;
    match what {
        0 => s.acknowledge()?,
        1 => s.commit()?,
        2 => s.rollback()?,
        3 => s.recover()?,
        4 => s.acknowledge_held()?,
        other => return Err(BindError::invalid_argument(format!("unknown session operation {other}"))),
    }
    Ok(())
}

/// Blocks the session's delivery thread until a listening consumer may have a message,
/// or `timeout_ms` passes. True when woken.
/// Whether the session acknowledges a listener's message once onMessage returns
/// (`AckMode::acknowledges_automatically`).
pub fn session_acknowledges_automatically(h: Handle) -> BindResult<jboolean> {
    Ok(handle::session(h)?.session.ack_mode().acknowledges_automatically())
}

pub fn session_wait(h: Handle, timeout_ms: jlong) -> BindResult<jboolean> {
    let doorbell = handle::session(h)?.doorbell.clone();
    Ok(doorbell.wait(Duration::from_millis(timeout_ms.max(0) as u64)))
}

pub fn session_ring(h: Handle) -> BindResult<()> {
    handle::session(h)?.doorbell.ring();
    Ok(())
}

// ---- producer ----

/// Sends the message encoded in the first `length` bytes of `message` (the Java encoder's
/// own buffer, so it crosses without a trimmed copy) and writes what the send set into
/// `sent`: {timestamp, expiration, deliveryTime, hasId, idHigh, idLow}.
#[allow(clippy::too_many_arguments)]
pub fn producer_send(
    env: &mut Env<'_>,
    h: Handle,
    dest: JString<'_>,
    message: JByteArray<'_>,
    length: jint,
    delivery_mode: jint,
    priority: jint,
    time_to_live: jlong,
    delivery_delay: jlong,
    disable_message_id: jboolean,
    disable_timestamp: jboolean,
    sent: JLongArray<'_>,
) -> BindResult<()> {
    let producer = handle::producer(h)?;
    let dest = destination(env, &dest)?;
    if message.is_null() {
        return Err(BindError::invalid_argument("the message is null"));
    }
    if sent.is_null() || sent.len(env)? < 6 {
        return Err(BindError::invalid_argument("the result array must hold 6 longs"));
    }
    // The encoder's buffer is larger than the message: copy only its first `length` bytes.
    let capacity = message.len(env)?;
    let used = usize::try_from(length)
        .ok()
        .filter(|&n| n <= capacity)
        .ok_or_else(|| BindError::invalid_argument(format!("length {length} is outside the message array ({capacity} bytes)")))?;
    let mut encoded = vec![0i8; used];
    message.get_region(env, 0, &mut encoded)?;
    // Same size and alignment: the collect reuses the allocation.
    let encoded: Vec<u8> = encoded.into_iter().map(|b| b as u8).collect();
    let message = Message::decode(&encoded)?;
    if !(0..=9).contains(&priority) {
        return Err(BindError::invalid_argument(format!("priority {priority} is not between 0 and 9")));
    }
    let options = SendOptions {
        delivery_mode: DeliveryMode::from_jms_value(delivery_mode)?,
        priority: priority as u8,
        time_to_live,
        delivery_delay,
        disable_message_id,
        disable_timestamp,
    };
    let sent_now = producer.send_with(dest.as_ref(), message, &options)?;
    let (hi, lo, has_id) = match sent_now.message_id {
        Some(id) => {
            let (hi, lo) = id.0.as_u64_pair();
            (hi as i64, lo as i64, 1)
        }
        None => (0, 0, 0),
    };
    let result = [sent_now.timestamp, sent_now.expiration, sent_now.delivery_time, has_id, hi, lo];
    sent.set_region(env, 0, &result)?;
    Ok(())
}

// ---- consumer and browser ----

/// `timeout_ms` < 0 waits forever, 0 does not wait. Returns the encoded delivery or null.
/// With `hold` (a MessageListener's delivery), AUTO/DUPS_OK sessions keep the message
/// unacknowledged until `session_complete(4)`, or redeliver it on recover.
pub fn consumer_receive<'local>(
    env: &mut Env<'local>,
    h: Handle,
    timeout_ms: jlong,
    hold: jboolean,
) -> BindResult<JByteArray<'local>> {
    let consumer = handle::consumer(h)?;
    let delivery = match timeout_ms {
        t if hold => consumer.receive_held((t >= 0).then(|| Duration::from_millis(t as u64)))?,
        t if t < 0 => consumer.receive()?,
        0 => consumer.receive_no_wait()?,
        t => consumer.receive_timeout(Duration::from_millis(t as u64))?,
    };
    match delivery {
        Some(d) => crate::encoded::to_java(env, &d),
        None => Ok(JByteArray::default()),
    }
}

/// Makes the consumer ring its session's doorbell when it may have a message (a
/// MessageListener was set), or stops that (`session` 0).
pub fn consumer_set_wakeup(h: Handle, session: Handle) -> BindResult<()> {
    let consumer = handle::consumer(h)?;
    if session.0 == 0 {
        return Ok(consumer.set_wakeup(None)?);
    }
    let doorbell = handle::session(session)?.doorbell.clone();
    Ok(consumer.set_wakeup(Some(Arc::new(move || doorbell.ring())))?)
}

pub fn browser_next<'local>(env: &mut Env<'local>, h: Handle) -> BindResult<JByteArray<'local>> {
    let browser = handle::browser(h)?;
    let next = browser.lock().unwrap_or_else(|p| p.into_inner()).next();
    match next {
        Some(d) => Ok(env.byte_array_from_slice(&d.encode())?),
        None => Ok(JByteArray::default()),
    }
}

// ---- every kind ----

/// Closes and forgets the object; a second close of the same handle does nothing.
pub fn release(h: Handle) -> BindResult<()> {
    match handle::remove(h) {
        Some(Object::Connection(c)) => c.close(),
        Some(Object::Session(s)) => {
            s.session.close();
            s.doorbell.ring();
        }
        Some(Object::Consumer(c)) => c.close(),
        Some(Object::Producer(_)) | Some(Object::Browser(_)) | None => {}
    }
    Ok(())
}

pub fn live_count() -> BindResult<jint> {
    Ok(handle::live_count() as jint)
}
