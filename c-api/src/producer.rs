//! Producers.

use std::sync::atomic::{AtomicBool, Ordering};

use herald_core::client::{Producer, SendOptions};
use herald_core::{DeliveryMode, Destination};

use crate::destination::herald_destination;
use crate::error::{herald_error, herald_status, Failure};
use crate::ffi::*;
use crate::message::{herald_message, MessageState};

/// The JMS delivery modes, with the `javax.jms.DeliveryMode` numbers.
#[repr(u32)]
#[derive(Clone, Copy, Debug)]
pub enum herald_delivery_mode {
    /// May be lost if the broker stops.
    NonPersistent = 1,
    /// Stored before the send returns; the default.
    Persistent = 2,
}

pub(crate) struct ProducerState {
    producer: Producer,
    closed: AtomicBool,
}

impl ProducerState {
    pub fn new(producer: Producer) -> ProducerState {
        ProducerState {
            producer,
            closed: AtomicBool::new(false),
        }
    }

    fn open(&self) -> Result<&Producer, Failure> {
        if self.closed.load(Ordering::Acquire) {
            return Err(Failure::closed("producer"));
        }
        Ok(&self.producer)
    }

    fn update(&mut self, change: impl FnOnce(&mut SendOptions)) -> Result<(), Failure> {
        self.open()?;
        let mut options = self.producer.options().clone();
        change(&mut options);
        self.producer.set_options(options)?;
        Ok(())
    }

    fn send(&self, dest: Option<&Destination>, msg: &mut MessageState) -> Result<(), Failure> {
        let producer = self.open()?;
        let options = producer.options();
        let target = dest.or(producer.destination()).cloned();
        let sent = producer.send_with(dest, msg.message().clone(), options)?;
        let m = msg.message_mut();
        m.id = sent.message_id;
        m.timestamp = sent.timestamp;
        m.expiration = sent.expiration;
        m.delivery_time = sent.delivery_time;
        m.destination = target;
        m.delivery_mode = options.delivery_mode;
        m.priority = options.priority;
        Ok(())
    }
}

/// Sends messages to its destination, or to the one named on each send.
///
/// Under the hood: herald-core's `Producer` and its send options (delivery mode,
/// priority, time to live, delivery delay), which apply to every later send. Use it from
/// one thread at a time, like its session.
///
/// Owned by the caller; free it once with `herald_producer_free`. After
/// `herald_producer_close` (or the session's close) sends return
/// `HERALD_STATUS_ILLEGAL_STATE`.
///
/// Functions: `herald_session_create_producer`, `herald_producer_set_delivery_mode`,
/// `herald_producer_get_delivery_mode`, `herald_producer_set_priority`,
/// `herald_producer_get_priority`, `herald_producer_set_time_to_live`,
/// `herald_producer_get_time_to_live`, `herald_producer_set_delivery_delay`,
/// `herald_producer_get_delivery_delay`, `herald_producer_set_disable_message_id`,
/// `herald_producer_set_disable_timestamp`, `herald_producer_get_destination`,
/// `herald_producer_send`, `herald_producer_send_to`, `herald_producer_close`,
/// `herald_producer_free`.
pub struct herald_producer {
    _private: [u8; 0],
}

impl Castable for herald_producer {
    type RustType = ProducerState;
}

/// Sets the delivery mode of later sends: a `HERALD_DELIVERY_MODE_*` value.
#[no_mangle]
pub extern "C" fn herald_producer_set_delivery_mode(
    producer: *mut herald_producer,
    delivery_mode: u32,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let producer = try_mut!(producer);
        let mode = i32::try_from(delivery_mode)
            .ok()
            .and_then(|m| DeliveryMode::from_jms_value(m).ok())
            .ok_or_else(|| {
                Failure::invalid_argument(format!(
                    "{delivery_mode} is not a HERALD_DELIVERY_MODE_* value"
                ))
            })?;
        producer.update(|o| o.delivery_mode = mode)
    })
}

/// Writes the delivery mode of later sends, a `HERALD_DELIVERY_MODE_*` value, to
/// `*delivery_mode_out`.
#[no_mangle]
pub extern "C" fn herald_producer_get_delivery_mode(
    producer: *const herald_producer,
    delivery_mode_out: *mut u32,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let producer = try_ref!(producer).open()?;
        let out = try_out!(delivery_mode_out);
        *out = producer.options().delivery_mode.jms_value() as u32;
        Ok(())
    })
}

/// Sets the priority of later sends: 0 (lowest) to 9 (highest), 4 by default; anything
/// else is `HERALD_STATUS_INVALID_ARGUMENT`.
#[no_mangle]
pub extern "C" fn herald_producer_set_priority(
    producer: *mut herald_producer,
    priority: u32,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let producer = try_mut!(producer);
        let priority = u8::try_from(priority).map_err(|_| {
            Failure::invalid_argument(format!("priority {priority} is not between 0 and 9"))
        })?;
        producer.update(|o| o.priority = priority)
    })
}

/// Writes the priority of later sends (0 to 9) to `*priority_out`.
#[no_mangle]
pub extern "C" fn herald_producer_get_priority(
    producer: *const herald_producer,
    priority_out: *mut u32,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let producer = try_ref!(producer).open()?;
        let out = try_out!(priority_out);
        *out = u32::from(producer.options().priority);
        Ok(())
    })
}

/// Sets the time to live of later sends in milliseconds; 0 (the default) never expires.
#[no_mangle]
pub extern "C" fn herald_producer_set_time_to_live(
    producer: *mut herald_producer,
    millis: i64,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        try_mut!(producer).update(|o| o.time_to_live = millis)
    })
}

/// Writes the time to live of later sends, in milliseconds (0: never expires), to
/// `*millis_out`.
#[no_mangle]
pub extern "C" fn herald_producer_get_time_to_live(
    producer: *const herald_producer,
    millis_out: *mut i64,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let producer = try_ref!(producer).open()?;
        let out = try_out!(millis_out);
        *out = producer.options().time_to_live;
        Ok(())
    })
}

/// Sets the delivery delay of later sends in milliseconds: a message is not delivered
/// before its send time plus the delay.
#[no_mangle]
pub extern "C" fn herald_producer_set_delivery_delay(
    producer: *mut herald_producer,
    millis: i64,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        try_mut!(producer).update(|o| o.delivery_delay = millis)
    })
}

/// Writes the delivery delay of later sends, in milliseconds, to `*millis_out`.
#[no_mangle]
pub extern "C" fn herald_producer_get_delivery_delay(
    producer: *const herald_producer,
    millis_out: *mut i64,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let producer = try_ref!(producer).open()?;
        let out = try_out!(millis_out);
        *out = producer.options().delivery_delay;
        Ok(())
    })
}

/// When true, later sends carry no message ID.
#[no_mangle]
pub extern "C" fn herald_producer_set_disable_message_id(
    producer: *mut herald_producer,
    disable: bool,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        try_mut!(producer).update(|o| o.disable_message_id = disable)
    })
}

/// When true, later sends carry timestamp 0.
#[no_mangle]
pub extern "C" fn herald_producer_set_disable_timestamp(
    producer: *mut herald_producer,
    disable: bool,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        try_mut!(producer).update(|o| o.disable_timestamp = disable)
    })
}

/// Writes a new handle for the producer's destination to `*dest_out`;
/// `HERALD_STATUS_NO_VALUE` for a producer created without one.
#[no_mangle]
pub extern "C" fn herald_producer_get_destination(
    producer: *const herald_producer,
    dest_out: *mut *mut herald_destination,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let producer = try_ref!(producer).open()?;
        let out = try_out!(dest_out);
        let dest = producer
            .destination()
            .ok_or_else(|| Failure::no_value("the producer's destination"))?;
        *out = to_boxed_ptr(dest.clone());
        Ok(())
    })
}

/// Sends a copy of `msg` to the producer's destination with its current options, and on
/// success sets the headers the send assigned on `msg` (message ID, timestamp,
/// destination, delivery mode, priority, expiration, delivery time). The caller keeps
/// `msg` and may change and send it again.
#[no_mangle]
pub extern "C" fn herald_producer_send(
    producer: *const herald_producer,
    msg: *mut herald_message,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let producer = try_ref!(producer);
        let msg = try_mut!(msg);
        producer.send(None, msg)
    })
}

/// Like `herald_producer_send`, to `dest`: for a producer created without a destination
/// (a producer with one accepts only that one).
#[no_mangle]
pub extern "C" fn herald_producer_send_to(
    producer: *const herald_producer,
    dest: *const herald_destination,
    msg: *mut herald_message,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let producer = try_ref!(producer);
        let dest = try_ref!(dest);
        let msg = try_mut!(msg);
        producer.send(Some(dest), msg)
    })
}

/// Closes the producer; later sends return `HERALD_STATUS_ILLEGAL_STATE`. Closing twice is
/// harmless; the handle stays valid until `herald_producer_free`.
#[no_mangle]
pub extern "C" fn herald_producer_close(
    producer: *const herald_producer,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        try_ref!(producer).closed.store(true, Ordering::Release);
        Ok(())
    })
}

/// Frees the producer. NULL is ignored.
#[no_mangle]
pub extern "C" fn herald_producer_free(producer: *mut herald_producer) {
    ffi_boundary!({
        unsafe { free_boxed(producer) };
        Ok(())
    });
}
