//! Sessions.

use std::os::raw::c_char;

use herald_core::client::{AckMode, ConsumerOptions, Session, SubscriptionOptions};

use crate::browser::{herald_browser, BrowserState};
use crate::consumer::herald_consumer;
use crate::destination::herald_destination;
use crate::error::{herald_error, herald_status, Failure};
use crate::ffi::*;
use crate::producer::{herald_producer, ProducerState};

/// A single-threaded context for sending and receiving, with its acknowledgement mode.
///
/// Under the hood: herald-core's `Session`. Use a session, and the producers, consumers
/// and browsers it made, from one thread at a time (JMS rules); `herald_session_close`
/// alone may come from another thread, to end a blocked receive.
///
/// Owned by the caller; free it once with `herald_session_free`, which also closes it.
/// After `herald_session_close` (or the connection's close) the handle stays valid until
/// freed and calls return `HERALD_STATUS_ILLEGAL_STATE`.
///
/// Functions: `herald_connection_create_session`, `herald_session_get_ack_mode`,
/// `herald_session_create_producer`, `herald_session_create_consumer`,
/// `herald_session_create_durable_consumer`, `herald_session_create_shared_consumer`,
/// `herald_session_create_shared_durable_consumer`, `herald_session_create_browser`,
/// `herald_session_unsubscribe`, `herald_session_acknowledge`, `herald_session_commit`,
/// `herald_session_rollback`, `herald_session_recover`, `herald_session_close`,
/// `herald_session_free`.
pub struct herald_session {
    _private: [u8; 0],
}

impl Castable for herald_session {
    type RustType = Session;
}

/// Writes the session's `HERALD_ACK_MODE_*` value to `*mode_out`.
#[no_mangle]
pub extern "C" fn herald_session_get_ack_mode(
    session: *const herald_session,
    mode_out: *mut u32,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let session = try_ref!(session);
        let out = try_out!(mode_out);
        if session.is_closed() {
            return Err(Failure::closed("session"));
        }
        *out = match session.ack_mode() {
            AckMode::Transacted => 0,
            AckMode::Auto => 1,
            AckMode::Client => 2,
            AckMode::DupsOk => 3,
        };
        Ok(())
    })
}

/// Creates a producer for `dest`, or, with `dest` NULL, one that names the destination on
/// each send (`herald_producer_send_to`). The producer copies `dest`; the caller keeps it.
#[no_mangle]
pub extern "C" fn herald_session_create_producer(
    session: *const herald_session,
    dest: *const herald_destination,
    producer_out: *mut *mut herald_producer,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let session = try_ref!(session);
        let out = try_out!(producer_out);
        let dest = unsafe { try_from(dest) }.cloned();
        let producer = session.create_producer(dest)?;
        *out = to_boxed_ptr(ProducerState::new(producer));
        Ok(())
    })
}

/// The options of a consumer on the named subscription `name`.
fn on_subscription(name: &str, selector: Option<&str>, no_local: bool, durable: bool, shared: bool) -> ConsumerOptions {
    ConsumerOptions {
        selector: selector.map(str::to_owned),
        no_local,
        subscription: Some(SubscriptionOptions { name: name.to_owned(), durable, shared }),
        ..Default::default()
    }
}

fn create_consumer(
    session: &Session,
    dest: &herald_core::Destination,
    options: ConsumerOptions,
    out: &mut *mut herald_consumer,
) -> Result<(), Failure> {
    let consumer = session.create_consumer(dest, &options)?;
    *out = to_boxed_ptr(consumer);
    Ok(())
}

/// Creates a consumer of a queue, or of a topic through a new non-durable subscription.
/// `selector` may be NULL (everything); a malformed one gives
/// `HERALD_STATUS_INVALID_SELECTOR`. `no_local` (topics) skips messages this connection
/// published.
#[no_mangle]
pub extern "C" fn herald_session_create_consumer(
    session: *const herald_session,
    dest: *const herald_destination,
    selector: *const c_char,
    no_local: bool,
    consumer_out: *mut *mut herald_consumer,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let session = try_ref!(session);
        let dest = try_ref!(dest);
        let selector = opt_str!(selector);
        let out = try_out!(consumer_out);
        let options = ConsumerOptions {
            selector: selector.map(str::to_owned),
            no_local,
            ..Default::default()
        };
        create_consumer(session, dest, options, out)
    })
}

/// Creates a consumer on the durable subscription `name` of `topic`, creating the
/// subscription if needed. The connection needs a client ID. Messages published while
/// no consumer is attached are kept until `herald_session_unsubscribe`.
#[no_mangle]
pub extern "C" fn herald_session_create_durable_consumer(
    session: *const herald_session,
    topic: *const herald_destination,
    name: *const c_char,
    selector: *const c_char,
    no_local: bool,
    consumer_out: *mut *mut herald_consumer,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let session = try_ref!(session);
        let topic = try_ref!(topic);
        let name = try_str!(name);
        let selector = opt_str!(selector);
        let out = try_out!(consumer_out);
        let options = on_subscription(name, selector, no_local, true, false);
        create_consumer(session, topic, options, out)
    })
}

/// Creates a consumer on the shared non-durable subscription `name` of `topic`:
/// consumers attached to it share (compete for) its messages (JMS 2.0).
#[no_mangle]
pub extern "C" fn herald_session_create_shared_consumer(
    session: *const herald_session,
    topic: *const herald_destination,
    name: *const c_char,
    selector: *const c_char,
    consumer_out: *mut *mut herald_consumer,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let session = try_ref!(session);
        let topic = try_ref!(topic);
        let name = try_str!(name);
        let selector = opt_str!(selector);
        let out = try_out!(consumer_out);
        let options = on_subscription(name, selector, false, false, true);
        create_consumer(session, topic, options, out)
    })
}

/// Creates a consumer on the shared durable subscription `name` of `topic` (JMS 2.0).
#[no_mangle]
pub extern "C" fn herald_session_create_shared_durable_consumer(
    session: *const herald_session,
    topic: *const herald_destination,
    name: *const c_char,
    selector: *const c_char,
    consumer_out: *mut *mut herald_consumer,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let session = try_ref!(session);
        let topic = try_ref!(topic);
        let name = try_str!(name);
        let selector = opt_str!(selector);
        let out = try_out!(consumer_out);
        let options = on_subscription(name, selector, false, true, true);
        create_consumer(session, topic, options, out)
    })
}

/// Creates a browser of the messages waiting on `queue` (optionally filtered by
/// `selector`), in delivery order. Browsing consumes nothing.
#[no_mangle]
pub extern "C" fn herald_session_create_browser(
    session: *const herald_session,
    queue: *const herald_destination,
    selector: *const c_char,
    browser_out: *mut *mut herald_browser,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let session = try_ref!(session);
        let queue = try_ref!(queue);
        let selector = opt_str!(selector);
        let out = try_out!(browser_out);
        let browser = session.create_browser(queue, selector)?;
        *out = to_boxed_ptr(BrowserState::new(browser));
        Ok(())
    })
}

/// Deletes the durable subscription `name` of this connection's client ID.
#[no_mangle]
pub extern "C" fn herald_session_unsubscribe(
    session: *const herald_session,
    name: *const c_char,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let session = try_ref!(session);
        let name = try_str!(name);
        session.unsubscribe(name)?;
        Ok(())
    })
}

/// CLIENT_ACKNOWLEDGE sessions: acknowledges every message the session has received.
#[no_mangle]
pub extern "C" fn herald_session_acknowledge(
    session: *const herald_session,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        try_ref!(session).acknowledge()?;
        Ok(())
    })
}

/// Transacted sessions: makes the transaction's sends and receives take effect.
#[no_mangle]
pub extern "C" fn herald_session_commit(
    session: *const herald_session,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        try_ref!(session).commit()?;
        Ok(())
    })
}

/// Transacted sessions: discards the transaction's sends and redelivers its receives.
#[no_mangle]
pub extern "C" fn herald_session_rollback(
    session: *const herald_session,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        try_ref!(session).rollback()?;
        Ok(())
    })
}

/// Redelivers, from the oldest, every message received and not acknowledged.
#[no_mangle]
pub extern "C" fn herald_session_recover(
    session: *const herald_session,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        try_ref!(session).recover()?;
        Ok(())
    })
}

/// Closes the session and its consumers: unacknowledged messages are redelivered,
/// uncommitted sends discarded, blocked receives end. Closing twice is harmless; the
/// handle stays valid until `herald_session_free`.
#[no_mangle]
pub extern "C" fn herald_session_close(
    session: *const herald_session,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        try_ref!(session).close();
        Ok(())
    })
}

/// Closes the session if needed and frees the handle. NULL is ignored. No other thread
/// may be using `session` during or after this call.
#[no_mangle]
pub extern "C" fn herald_session_free(session: *mut herald_session) {
    ffi_boundary!({
        unsafe { free_boxed(session) };
        Ok(())
    });
}
