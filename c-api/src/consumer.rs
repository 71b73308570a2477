//! Consumers.

use std::time::Duration;

use herald_core::client::Consumer;
use herald_core::Delivery;

use crate::error::{herald_error, herald_status, Failure};
use crate::ffi::*;
use crate::message::{herald_message, MessageState};

/// Receives messages from a queue or a topic subscription.
///
/// Under the hood: herald-core's `Consumer`. Use it from one thread at a time, like its
/// session; `herald_consumer_close` may come from another thread to end a blocked
/// receive (which then returns `HERALD_STATUS_ILLEGAL_STATE`).
///
/// Owned by the caller; free it once with `herald_consumer_free`, which also closes it.
/// After `herald_consumer_close` (or the session's or connection's close) the handle stays
/// valid until freed and receives return `HERALD_STATUS_ILLEGAL_STATE`.
///
/// Functions: `herald_session_create_consumer`, `herald_session_create_durable_consumer`,
/// `herald_session_create_shared_consumer`, `herald_session_create_shared_durable_consumer`,
/// `herald_consumer_receive`, `herald_consumer_receive_timeout`,
/// `herald_consumer_receive_no_wait`, `herald_consumer_close`, `herald_consumer_free`.
pub struct herald_consumer {
    _private: [u8; 0],
}

impl Castable for herald_consumer {
    type RustType = Consumer;
}

fn deliver(
    received: herald_core::Result<Option<Delivery>>,
    out: &mut *mut herald_message,
) -> Result<(), Failure> {
    let delivery = received?.ok_or_else(Failure::no_message)?;
    *out = to_boxed_ptr(MessageState::received(delivery));
    Ok(())
}

/// Waits for the next message, however long it takes. On success `*msg_out` receives a
/// new message handle (free it with `herald_message_free`).
#[no_mangle]
pub extern "C" fn herald_consumer_receive(
    consumer: *const herald_consumer,
    msg_out: *mut *mut herald_message,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let consumer = try_ref!(consumer);
        let out = try_out!(msg_out);
        deliver(consumer.receive(), out)
    })
}

/// Waits up to `timeout_ms` milliseconds for the next message. Returns
/// `HERALD_STATUS_NO_MESSAGE` (and leaves `*msg_out` alone) when none arrived in time.
#[no_mangle]
pub extern "C" fn herald_consumer_receive_timeout(
    consumer: *const herald_consumer,
    timeout_ms: u64,
    msg_out: *mut *mut herald_message,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let consumer = try_ref!(consumer);
        let out = try_out!(msg_out);
        deliver(
            consumer.receive_timeout(Duration::from_millis(timeout_ms)),
            out,
        )
    })
}

/// The next message if one is ready now, else `HERALD_STATUS_NO_MESSAGE`.
#[no_mangle]
pub extern "C" fn herald_consumer_receive_no_wait(
    consumer: *const herald_consumer,
    msg_out: *mut *mut herald_message,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let consumer = try_ref!(consumer);
        let out = try_out!(msg_out);
        deliver(consumer.receive_no_wait(), out)
    })
}

/// Closes the consumer: prefetched messages go back to the queue; what was received
/// stays unacknowledged in the session. Closing twice is harmless; the handle stays valid
/// until `herald_consumer_free`.
#[no_mangle]
pub extern "C" fn herald_consumer_close(
    consumer: *const herald_consumer,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        try_ref!(consumer).close();
        Ok(())
    })
}

/// Closes the consumer if needed and frees the handle. NULL is ignored. No other thread
/// may be using `consumer` during or after this call.
#[no_mangle]
pub extern "C" fn herald_consumer_free(consumer: *mut herald_consumer) {
    ffi_boundary!({
        unsafe { free_boxed(consumer) };
        Ok(())
    });
}
