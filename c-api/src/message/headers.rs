//! The JMS headers.

use std::os::raw::c_char;

use herald_core::Destination;

use super::*;
use crate::error::{herald_error, herald_status, Failure};
use crate::ffi::*;

// ---- headers ----

/// Copies `JMSMessageID` (`ID:` and a UUID) into `buf` (see the string conventions);
/// `HERALD_STATUS_NO_VALUE` before the message is sent or when the producer disabled IDs.
#[no_mangle]
pub extern "C" fn herald_message_get_message_id(
    msg: *const herald_message,
    buf: *mut c_char,
    buf_len: usize,
    len_out: *mut usize,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let msg = try_ref!(msg);
        let id = msg.message().id.map(|id| id.to_string());
        unsafe { write_opt_string(id.as_deref(), "the message ID", buf, buf_len, len_out) }
    })
}

/// Writes `JMSTimestamp` (milliseconds since the epoch; 0 when unset) to `*millis_out`.
#[no_mangle]
pub extern "C" fn herald_message_get_timestamp(
    msg: *const herald_message,
    millis_out: *mut i64,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let msg = try_ref!(msg);
        let out = try_out!(millis_out);
        *out = msg.message().timestamp;
        Ok(())
    })
}

/// Copies `JMSCorrelationID` into `buf` (see the string conventions);
/// `HERALD_STATUS_NO_VALUE` when unset.
#[no_mangle]
pub extern "C" fn herald_message_get_correlation_id(
    msg: *const herald_message,
    buf: *mut c_char,
    buf_len: usize,
    len_out: *mut usize,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let msg = try_ref!(msg);
        let id = msg.message().correlation_id.as_deref();
        unsafe { write_opt_string(id, "the correlation ID", buf, buf_len, len_out) }
    })
}

/// Sets `JMSCorrelationID`; NULL clears it.
#[no_mangle]
pub extern "C" fn herald_message_set_correlation_id(
    msg: *mut herald_message,
    correlation_id: *const c_char,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let msg = try_mut!(msg);
        let id = opt_str!(correlation_id);
        msg.message_mut().correlation_id = id.map(str::to_owned);
        Ok(())
    })
}

/// Writes a new handle for `JMSReplyTo` to `*dest_out`; `HERALD_STATUS_NO_VALUE` when
/// unset.
#[no_mangle]
pub extern "C" fn herald_message_get_reply_to(
    msg: *const herald_message,
    dest_out: *mut *mut herald_destination,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let msg = try_ref!(msg);
        let out = try_out!(dest_out);
        let dest = msg
            .message()
            .reply_to
            .clone()
            .ok_or_else(|| Failure::no_value("JMSReplyTo"))?;
        *out = to_boxed_ptr::<herald_destination>(dest);
        Ok(())
    })
}

/// Sets `JMSReplyTo` to a copy of `dest`; NULL clears it.
#[no_mangle]
pub extern "C" fn herald_message_set_reply_to(
    msg: *mut herald_message,
    dest: *const herald_destination,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let msg = try_mut!(msg);
        let dest: Option<Destination> = unsafe { try_from(dest) }.cloned();
        msg.message_mut().reply_to = dest;
        Ok(())
    })
}

/// Writes a new handle for `JMSDestination` (where the message was sent) to
/// `*dest_out`; `HERALD_STATUS_NO_VALUE` before it is sent.
#[no_mangle]
pub extern "C" fn herald_message_get_destination(
    msg: *const herald_message,
    dest_out: *mut *mut herald_destination,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let msg = try_ref!(msg);
        let out = try_out!(dest_out);
        let dest = msg
            .message()
            .destination
            .clone()
            .ok_or_else(|| Failure::no_value("JMSDestination"))?;
        *out = to_boxed_ptr::<herald_destination>(dest);
        Ok(())
    })
}

/// Writes `JMSDeliveryMode`, a `HERALD_DELIVERY_MODE_*` value, to `*mode_out`.
#[no_mangle]
pub extern "C" fn herald_message_get_delivery_mode(
    msg: *const herald_message,
    mode_out: *mut u32,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let msg = try_ref!(msg);
        let out = try_out!(mode_out);
        *out = msg.message().delivery_mode.jms_value() as u32;
        Ok(())
    })
}

/// Writes `JMSPriority` (0 to 9) to `*priority_out`.
#[no_mangle]
pub extern "C" fn herald_message_get_priority(
    msg: *const herald_message,
    priority_out: *mut u32,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let msg = try_ref!(msg);
        let out = try_out!(priority_out);
        *out = u32::from(msg.message().priority);
        Ok(())
    })
}

/// Writes `JMSExpiration` (milliseconds since the epoch; 0 never expires) to
/// `*millis_out`.
#[no_mangle]
pub extern "C" fn herald_message_get_expiration(
    msg: *const herald_message,
    millis_out: *mut i64,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let msg = try_ref!(msg);
        let out = try_out!(millis_out);
        *out = msg.message().expiration;
        Ok(())
    })
}

/// Writes `JMSDeliveryTime` (milliseconds since the epoch: not delivered before then) to
/// `*millis_out`.
#[no_mangle]
pub extern "C" fn herald_message_get_delivery_time(
    msg: *const herald_message,
    millis_out: *mut i64,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let msg = try_ref!(msg);
        let out = try_out!(millis_out);
        *out = msg.message().delivery_time;
        Ok(())
    })
}

/// Copies `JMSType` into `buf` (see the string conventions); `HERALD_STATUS_NO_VALUE`
/// when unset.
#[no_mangle]
pub extern "C" fn herald_message_get_type(
    msg: *const herald_message,
    buf: *mut c_char,
    buf_len: usize,
    len_out: *mut usize,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let msg = try_ref!(msg);
        let t = msg.message().jms_type.as_deref();
        unsafe { write_opt_string(t, "JMSType", buf, buf_len, len_out) }
    })
}

/// Sets `JMSType`; NULL clears it.
#[no_mangle]
pub extern "C" fn herald_message_set_type(
    msg: *mut herald_message,
    jms_type: *const c_char,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let msg = try_mut!(msg);
        let t = opt_str!(jms_type);
        msg.message_mut().jms_type = t.map(str::to_owned);
        Ok(())
    })
}

/// Writes `JMSRedelivered` to `*redelivered_out`: true when this message was delivered
/// before (false for a message this program made).
#[no_mangle]
pub extern "C" fn herald_message_get_redelivered(
    msg: *const herald_message,
    redelivered_out: *mut bool,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let msg = try_ref!(msg);
        let out = try_out!(redelivered_out);
        *out = msg.delivery_count > 1;
        Ok(())
    })
}

/// Writes `JMSXDeliveryCount` to `*count_out`: 1 on the first delivery, 0 for a message
/// this program made.
#[no_mangle]
pub extern "C" fn herald_message_get_delivery_count(
    msg: *const herald_message,
    count_out: *mut u32,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let msg = try_ref!(msg);
        let out = try_out!(count_out);
        *out = msg.delivery_count;
        Ok(())
    })
}
