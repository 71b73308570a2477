//! Consumers.

use std::ffi::c_void;
use std::sync::Arc;
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
/// `herald_consumer_receive_no_wait`, `herald_consumer_set_wakeup`, `herald_consumer_close`,
/// `herald_consumer_free`.
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

/// A wakeup callback: called with the `user_data` it was registered with.
pub type herald_wakeup_callback = Option<extern "C" fn(user_data: *mut c_void)>;

/// Runs `callback(user_data)` on wakeups and `finalizer(user_data)` once, when Herald
/// drops the hook.
struct WakeupHook {
    callback: extern "C" fn(*mut c_void),
    finalizer: herald_wakeup_callback,
    user_data: *mut c_void,
}

// The caller promises (herald_consumer_set_wakeup's contract) that the callback and the
// finalizer may be called from any thread with this user_data.
unsafe impl Send for WakeupHook {}
unsafe impl Sync for WakeupHook {}

impl Drop for WakeupHook {
    fn drop(&mut self) {
        if let Some(finalizer) = self.finalizer {
            finalizer(self.user_data);
        }
    }
}

/// Registers a callback that tells when this consumer may have a message, so one thread
/// can serve many consumers without blocking in a receive on each: on the callback,
/// signal your event loop (write to a pipe or an eventfd, post to a condition variable),
/// and there call `herald_consumer_receive_no_wait` until it returns
/// `HERALD_STATUS_NO_MESSAGE`. Wakeups may be spurious and may come in bursts.
///
/// `callback(user_data)` runs on whatever thread made a message available (often a
/// producer's thread), so it must be quick, must not call into Herald, and must be safe
/// to run on any thread. `finalizer(user_data)` (may be NULL) runs exactly once, when
/// Herald no longer needs `user_data`: when another hook replaces this one, when a NULL
/// `callback` clears it, or at the latest when the consumer is closed or freed. It may
/// run on another thread, after a callback in progress there returns. It runs even when
/// this call fails. A NULL `callback` clears the hook (running the old hook's finalizer);
/// `user_data` and `finalizer` are then ignored.
#[no_mangle]
pub extern "C" fn herald_consumer_set_wakeup(
    consumer: *const herald_consumer,
    callback: herald_wakeup_callback,
    user_data: *mut c_void,
    finalizer: herald_wakeup_callback,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        // Built first, so that a refused call (a NULL or closed consumer) still finalizes.
        let hook = callback.map(|callback| WakeupHook {
            callback,
            finalizer,
            user_data,
        });
        let consumer = try_ref!(consumer);
        let wakeup: Option<herald_core::client::Wakeup> = hook.map(|hook| {
            let hook = Arc::new(hook);
            Arc::new(move || (hook.callback)(hook.user_data)) as herald_core::client::Wakeup
        });
        consumer.set_wakeup(wakeup)?;
        Ok(())
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
        let consumer = try_ref!(consumer);
        // Drops a wakeup hook now, so its finalizer runs before this returns.
        let _ = consumer.set_wakeup(None);
        consumer.close();
        Ok(())
    })
}

/// Closes the consumer if needed and frees the handle. NULL is ignored. No other thread
/// may be using `consumer` during or after this call.
#[no_mangle]
pub extern "C" fn herald_consumer_free(consumer: *mut herald_consumer) {
    ffi_boundary!({
        if let Some(c) = unsafe { try_from(consumer) } {
            let _ = c.set_wakeup(None);
        }
        unsafe { free_boxed(consumer) };
        Ok(())
    });
}
