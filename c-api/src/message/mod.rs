//! Messages: bodies, headers and typed properties.
//!
//! This module holds the message handle, its lifecycle and the text, bytes and object
//! bodies; the submodules hold the rest. The typed accessors (properties, map entries,
//! stream elements) follow one pattern per type; each is written out in full so cbindgen
//! sees it.

mod headers;
mod map;
mod properties;
mod stream;

use std::os::raw::c_char;

use herald_core::{Body, Delivery, Message};

use crate::destination::herald_destination;
use crate::error::{herald_error, herald_status, Failure};
use crate::ffi::*;

/// The JMS message types, by their body.
#[repr(u32)]
#[derive(Clone, Copy, Debug)]
pub enum herald_body_kind {
    /// A plain `Message`: headers and properties only.
    Empty = 0,
    /// `TextMessage`: a UTF-8 string, or null.
    Text = 1,
    /// `BytesMessage`: bytes.
    Bytes = 2,
    /// `MapMessage`: typed values by name.
    Map = 3,
    /// `StreamMessage`: typed values in order.
    Stream = 4,
    /// `ObjectMessage`: opaque bytes (a serialized Java object, for Java peers), or null.
    Object = 5,
}

enum Inner {
    /// Made by this program.
    Local(Message),
    /// Received or browsed: shares the broker's copy until first changed.
    Received(Delivery),
}

pub(crate) struct MessageState {
    inner: Inner,
    delivery_count: u32,
    /// The next stream element to read.
    cursor: usize,
}

impl MessageState {
    pub fn received(delivery: Delivery) -> MessageState {
        let delivery_count = delivery.delivery_count();
        MessageState {
            inner: Inner::Received(delivery),
            delivery_count,
            cursor: 0,
        }
    }

    pub fn message(&self) -> &Message {
        match &self.inner {
            Inner::Local(m) => m,
            Inner::Received(d) => d.message(),
        }
    }

    /// The message, copied first if the broker still shares it.
    pub fn message_mut(&mut self) -> &mut Message {
        if let Inner::Received(d) = &self.inner {
            let copy = d.clone().into_message();
            self.inner = Inner::Local(copy);
        }
        match &mut self.inner {
            Inner::Local(m) => m,
            Inner::Received(_) => unreachable!("replaced above"),
        }
    }
}

/// A JMS message: headers, typed properties and one of five kinds of body.
///
/// Under the hood: herald-core's `Message`, plus this delivery's redelivered flag and
/// delivery count and a stream read position. Use it from one thread at a time; a
/// message may be passed between threads.
///
/// Owned by the caller; free it once with `herald_message_free`. Sending copies it, so
/// the caller keeps the message, which the send updates with the headers it assigned.
/// Received messages may be changed (the change is local) and sent on.
///
/// Functions: `herald_message_new`, `herald_message_free`, `herald_message_get_body_kind`,
/// `herald_message_clear_body`, `herald_message_set_text`, `herald_message_get_text`,
/// `herald_message_set_bytes`, `herald_message_get_bytes`, `herald_message_set_object`,
/// `herald_message_get_object`, `herald_message_map_set_*`, `herald_message_map_get_*`
/// (bool, byte, short, char, int, long, float, double, string, bytes),
/// `herald_message_map_item_exists`, `herald_message_map_get_count`,
/// `herald_message_map_get_name`, `herald_message_stream_write_*`,
/// `herald_message_stream_read_*` (same types), `herald_message_stream_reset`,
/// `herald_message_set_*_property`, `herald_message_get_*_property` (bool, byte, short,
/// int, long, float, double, string), `herald_message_property_exists`,
/// `herald_message_get_property_count`, `herald_message_get_property_name`,
/// `herald_message_clear_properties`, and the headers: `herald_message_get_message_id`,
/// `herald_message_get_timestamp`, `herald_message_get_correlation_id`,
/// `herald_message_set_correlation_id`, `herald_message_get_reply_to`,
/// `herald_message_set_reply_to`, `herald_message_get_destination`,
/// `herald_message_get_delivery_mode`, `herald_message_get_priority`,
/// `herald_message_get_expiration`, `herald_message_get_delivery_time`,
/// `herald_message_get_type`, `herald_message_set_type`, `herald_message_get_redelivered`,
/// `herald_message_get_delivery_count`.
pub struct herald_message {
    _private: [u8; 0],
}

impl Castable for herald_message {
    type RustType = MessageState;
}

fn not_a(msg: &MessageState, wanted: &str) -> Failure {
    Failure::message_format(format!(
        "this is a {}, not a {wanted}",
        msg.message().body.kind_name()
    ))
}

fn char_value(value: u32) -> Result<char, Failure> {
    char::from_u32(value)
        .ok_or_else(|| Failure::invalid_argument(format!("{value:#x} is not a Unicode code point")))
}

/// # Safety
/// As for `write_string`; the pointers are the caller's output arguments.
unsafe fn write_opt_string(
    value: Option<&str>,
    what: &str,
    buf: *mut c_char,
    buf_len: usize,
    len_out: *mut usize,
) -> Result<(), Failure> {
    let value = value.ok_or_else(|| Failure::no_value(what))?;
    unsafe { write_string(value, buf, buf_len, len_out) }
}

// ---- lifecycle and body ----

/// Creates an empty message of a `HERALD_BODY_KIND_*` kind: a null text or object, no
/// bytes, an empty map or stream.
#[no_mangle]
pub extern "C" fn herald_message_new(
    body_kind: u32,
    msg_out: *mut *mut herald_message,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let out = try_out!(msg_out);
        let body = empty_body(body_kind)?;
        *out = to_boxed_ptr(MessageState {
            inner: Inner::Local(Message::new(body)),
            delivery_count: 0,
            cursor: 0,
        });
        Ok(())
    })
}

fn empty_body(kind: u32) -> Result<Body, Failure> {
    Ok(match kind {
        0 => Body::Empty,
        1 => Body::Text(None),
        2 => Body::Bytes(Vec::new()),
        3 => Body::Map(Vec::new()),
        4 => Body::Stream(Vec::new()),
        5 => Body::Object(None),
        other => {
            return Err(Failure::invalid_argument(format!(
                "{other} is not a HERALD_BODY_KIND_* value"
            )))
        }
    })
}

/// Frees the message. NULL is ignored.
#[no_mangle]
pub extern "C" fn herald_message_free(msg: *mut herald_message) {
    ffi_boundary!({
        unsafe { free_boxed(msg) };
        Ok(())
    });
}

/// Writes the message's `HERALD_BODY_KIND_*` value to `*kind_out`.
#[no_mangle]
pub extern "C" fn herald_message_get_body_kind(
    msg: *const herald_message,
    kind_out: *mut u32,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let msg = try_ref!(msg);
        let out = try_out!(kind_out);
        *out = match msg.message().body {
            Body::Empty => herald_body_kind::Empty,
            Body::Text(_) => herald_body_kind::Text,
            Body::Bytes(_) => herald_body_kind::Bytes,
            Body::Map(_) => herald_body_kind::Map,
            Body::Stream(_) => herald_body_kind::Stream,
            Body::Object(_) => herald_body_kind::Object,
        } as u32;
        Ok(())
    })
}

/// Empties the body, keeping its kind; a stream's read position goes back to the start.
#[no_mangle]
pub extern "C" fn herald_message_clear_body(
    msg: *mut herald_message,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let msg = try_mut!(msg);
        let m = msg.message_mut();
        m.body = match m.body {
            Body::Empty => Body::Empty,
            Body::Text(_) => Body::Text(None),
            Body::Bytes(_) => Body::Bytes(Vec::new()),
            Body::Map(_) => Body::Map(Vec::new()),
            Body::Stream(_) => Body::Stream(Vec::new()),
            Body::Object(_) => Body::Object(None),
        };
        msg.cursor = 0;
        Ok(())
    })
}

/// Text messages: sets the text (NUL-terminated UTF-8), or a null body for NULL.
#[no_mangle]
pub extern "C" fn herald_message_set_text(
    msg: *mut herald_message,
    text: *const c_char,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let msg = try_mut!(msg);
        let text = opt_str!(text);
        if !matches!(msg.message().body, Body::Text(_)) {
            return Err(not_a(msg, "TextMessage"));
        }
        msg.message_mut().body = Body::Text(text.map(str::to_owned));
        Ok(())
    })
}

/// Text messages: copies the text into `buf` (see the string conventions);
/// `HERALD_STATUS_NO_VALUE` for a null body.
#[no_mangle]
pub extern "C" fn herald_message_get_text(
    msg: *const herald_message,
    buf: *mut c_char,
    buf_len: usize,
    len_out: *mut usize,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let msg = try_ref!(msg);
        let Body::Text(text) = &msg.message().body else {
            return Err(not_a(msg, "TextMessage"));
        };
        unsafe { write_opt_string(text.as_deref(), "the text", buf, buf_len, len_out) }
    })
}

/// Bytes messages: sets the body to a copy of `len` bytes at `data` (`data` may be NULL
/// when `len` is 0).
#[no_mangle]
pub extern "C" fn herald_message_set_bytes(
    msg: *mut herald_message,
    data: *const u8,
    len: usize,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let msg = try_mut!(msg);
        let data = unsafe { c_bytes(data, len, "data") }?;
        if !matches!(msg.message().body, Body::Bytes(_)) {
            return Err(not_a(msg, "BytesMessage"));
        }
        msg.message_mut().body = Body::Bytes(data.to_vec());
        Ok(())
    })
}

/// Bytes messages: points `*data_out` at the body and writes its length to `*len_out`.
/// The bytes are borrowed from the message: valid until it is next changed or freed.
#[no_mangle]
pub extern "C" fn herald_message_get_bytes(
    msg: *const herald_message,
    data_out: *mut *const u8,
    len_out: *mut usize,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let msg = try_ref!(msg);
        let data = try_out!(data_out);
        let len = try_out!(len_out);
        let Body::Bytes(bytes) = &msg.message().body else {
            return Err(not_a(msg, "BytesMessage"));
        };
        *data = bytes.as_ptr();
        *len = bytes.len();
        Ok(())
    })
}

/// Object messages: sets the body to a copy of `len` bytes at `data` (a serialized
/// object, opaque to Herald), or a null body when `data` is NULL.
#[no_mangle]
pub extern "C" fn herald_message_set_object(
    msg: *mut herald_message,
    data: *const u8,
    len: usize,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let msg = try_mut!(msg);
        let object = if data.is_null() {
            None
        } else {
            Some(unsafe { c_bytes(data, len, "data") }?.to_vec())
        };
        if !matches!(msg.message().body, Body::Object(_)) {
            return Err(not_a(msg, "ObjectMessage"));
        }
        msg.message_mut().body = Body::Object(object);
        Ok(())
    })
}

/// Object messages: points `*data_out` at the object's bytes (borrowed, as for
/// `herald_message_get_bytes`); `HERALD_STATUS_NO_VALUE` for a null body.
#[no_mangle]
pub extern "C" fn herald_message_get_object(
    msg: *const herald_message,
    data_out: *mut *const u8,
    len_out: *mut usize,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let msg = try_ref!(msg);
        let data = try_out!(data_out);
        let len = try_out!(len_out);
        let Body::Object(object) = &msg.message().body else {
            return Err(not_a(msg, "ObjectMessage"));
        };
        let bytes = object
            .as_ref()
            .ok_or_else(|| Failure::no_value("the object"))?;
        *data = bytes.as_ptr();
        *len = bytes.len();
        Ok(())
    })
}
