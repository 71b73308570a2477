//! Messages: bodies, headers and typed properties.
//!
//! The typed accessors (properties, map entries, stream elements) follow one pattern per
//! type; each is written out in full so cbindgen sees it.

use std::os::raw::c_char;

use herald_core::message::Convert;
use herald_core::{Body, Delivery, Destination, Message, Value};

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

fn map_entries(msg: &MessageState) -> Result<&[(String, Value)], Failure> {
    match &msg.message().body {
        Body::Map(entries) => Ok(entries),
        _ => Err(not_a(msg, "MapMessage")),
    }
}

fn map_get<'a>(msg: &'a MessageState, name: &str) -> Result<Option<&'a Value>, Failure> {
    Ok(map_entries(msg)?
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v))
}

fn map_set(msg: &mut MessageState, name: &str, value: Value) -> Result<(), Failure> {
    if name.is_empty() {
        return Err(Failure::invalid_argument(
            "a map entry name must not be empty",
        ));
    }
    if !matches!(msg.message().body, Body::Map(_)) {
        return Err(not_a(msg, "MapMessage"));
    }
    let Body::Map(entries) = &mut msg.message_mut().body else {
        unreachable!("checked above")
    };
    match entries.iter_mut().find(|(n, _)| n == name) {
        Some(slot) => slot.1 = value,
        None => entries.push((name.to_owned(), value)),
    }
    Ok(())
}

fn stream_write(msg: &mut MessageState, value: Value) -> Result<(), Failure> {
    if !matches!(msg.message().body, Body::Stream(_)) {
        return Err(not_a(msg, "StreamMessage"));
    }
    let Body::Stream(values) = &mut msg.message_mut().body else {
        unreachable!("checked above")
    };
    values.push(value);
    Ok(())
}

/// Reads the next stream element with `convert`; the position moves on only on success.
fn stream_read<T>(
    msg: &mut MessageState,
    convert: impl FnOnce(Option<&Value>) -> herald_core::Result<T>,
) -> Result<T, Failure> {
    let Body::Stream(values) = &msg.message().body else {
        return Err(not_a(msg, "StreamMessage"));
    };
    let value = values
        .get(msg.cursor)
        .ok_or_else(|| Failure::new(herald_status::EndOfStream, "no more stream elements"))?;
    let read = convert(Some(value))?;
    msg.cursor += 1;
    Ok(read)
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

// ---- map entries that are not numbers ----

/// Map messages: sets the entry `name` to a string (NUL-terminated UTF-8).
#[no_mangle]
pub extern "C" fn herald_message_map_set_string(
    msg: *mut herald_message,
    name: *const c_char,
    value: *const c_char,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let msg = try_mut!(msg);
        let name = try_str!(name);
        let value = try_str!(value);
        map_set(msg, name, Value::String(value.to_owned()))
    })
}

/// Map messages: copies the entry `name`, read as a string with the JMS conversion rules,
/// into `buf` (see the string conventions); `HERALD_STATUS_NO_VALUE` when there is none.
#[no_mangle]
pub extern "C" fn herald_message_map_get_string(
    msg: *const herald_message,
    name: *const c_char,
    buf: *mut c_char,
    buf_len: usize,
    len_out: *mut usize,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let msg = try_ref!(msg);
        let name = try_str!(name);
        let value = map_get(msg, name)?.to_string_value()?;
        unsafe { write_opt_string(value.as_deref(), name, buf, buf_len, len_out) }
    })
}

/// Map messages: sets the entry `name` to a copy of `len` bytes at `data`.
#[no_mangle]
pub extern "C" fn herald_message_map_set_bytes(
    msg: *mut herald_message,
    name: *const c_char,
    data: *const u8,
    len: usize,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let msg = try_mut!(msg);
        let name = try_str!(name);
        let data = unsafe { c_bytes(data, len, "data") }?;
        map_set(msg, name, Value::Bytes(data.to_vec()))
    })
}

/// Map messages: points `*data_out` at the bytes of entry `name` (borrowed, as for
/// `herald_message_get_bytes`); `HERALD_STATUS_NO_VALUE` when there is none,
/// `HERALD_STATUS_MESSAGE_FORMAT` when it is not a byte array.
#[no_mangle]
pub extern "C" fn herald_message_map_get_bytes(
    msg: *const herald_message,
    name: *const c_char,
    data_out: *mut *const u8,
    len_out: *mut usize,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let msg = try_ref!(msg);
        let name = try_str!(name);
        let data = try_out!(data_out);
        let len = try_out!(len_out);
        let bytes = match map_get(msg, name)? {
            None => return Err(Failure::no_value(name)),
            Some(Value::Bytes(b)) => b,
            Some(other) => {
                return Err(Failure::message_format(format!(
                    "a {} value cannot be read as byte[]",
                    other.type_name()
                )))
            }
        };
        *data = bytes.as_ptr();
        *len = bytes.len();
        Ok(())
    })
}

/// Map messages: writes whether the entry `name` exists to `*exists_out`.
#[no_mangle]
pub extern "C" fn herald_message_map_item_exists(
    msg: *const herald_message,
    name: *const c_char,
    exists_out: *mut bool,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let msg = try_ref!(msg);
        let name = try_str!(name);
        let out = try_out!(exists_out);
        *out = map_get(msg, name)?.is_some();
        Ok(())
    })
}

/// Map messages: writes the number of entries to `*count_out`.
#[no_mangle]
pub extern "C" fn herald_message_map_get_count(
    msg: *const herald_message,
    count_out: *mut usize,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let msg = try_ref!(msg);
        let out = try_out!(count_out);
        *out = map_entries(msg)?.len();
        Ok(())
    })
}

/// Map messages: copies the name of entry `index` (0-based, in insertion order) into
/// `buf` (see the string conventions); `HERALD_STATUS_INVALID_ARGUMENT` past the end.
#[no_mangle]
pub extern "C" fn herald_message_map_get_name(
    msg: *const herald_message,
    index: usize,
    buf: *mut c_char,
    buf_len: usize,
    len_out: *mut usize,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let msg = try_ref!(msg);
        let entries = map_entries(msg)?;
        let (name, _) = entries.get(index).ok_or_else(|| {
            Failure::invalid_argument(format!(
                "index {index}: the map has {} entries",
                entries.len()
            ))
        })?;
        unsafe { write_string(name, buf, buf_len, len_out) }
    })
}

// ---- stream elements that are not numbers ----

/// Stream messages: appends a string (NUL-terminated UTF-8).
#[no_mangle]
pub extern "C" fn herald_message_stream_write_string(
    msg: *mut herald_message,
    value: *const c_char,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let msg = try_mut!(msg);
        let value = try_str!(value);
        stream_write(msg, Value::String(value.to_owned()))
    })
}

/// Stream messages: copies the next element, read as a string with the JMS conversion
/// rules, into `buf` (see the string conventions). The read position moves on only on
/// success, so after `HERALD_STATUS_INSUFFICIENT_SIZE` the same element can be read again
/// with a bigger buffer.
#[no_mangle]
pub extern "C" fn herald_message_stream_read_string(
    msg: *mut herald_message,
    buf: *mut c_char,
    buf_len: usize,
    len_out: *mut usize,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let msg = try_mut!(msg);
        let cursor = msg.cursor;
        let value = stream_read(msg, |v| v.to_string_value())?;
        let written = unsafe {
            write_opt_string(
                value.as_deref(),
                "the stream element",
                buf,
                buf_len,
                len_out,
            )
        };
        if written.is_err() {
            msg.cursor = cursor;
        }
        written
    })
}

/// Stream messages: appends a copy of `len` bytes at `data`.
#[no_mangle]
pub extern "C" fn herald_message_stream_write_bytes(
    msg: *mut herald_message,
    data: *const u8,
    len: usize,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let msg = try_mut!(msg);
        let data = unsafe { c_bytes(data, len, "data") }?;
        stream_write(msg, Value::Bytes(data.to_vec()))
    })
}

/// Stream messages: points `*data_out` at the next element's bytes (borrowed, as for
/// `herald_message_get_bytes`); `HERALD_STATUS_MESSAGE_FORMAT` when it is not a byte
/// array.
#[no_mangle]
pub extern "C" fn herald_message_stream_read_bytes(
    msg: *mut herald_message,
    data_out: *mut *const u8,
    len_out: *mut usize,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let msg = try_mut!(msg);
        let data = try_out!(data_out);
        let len = try_out!(len_out);
        let Body::Stream(values) = &msg.message().body else {
            return Err(not_a(msg, "StreamMessage"));
        };
        let bytes = match values.get(msg.cursor) {
            None => {
                return Err(Failure::new(
                    herald_status::EndOfStream,
                    "no more stream elements",
                ))
            }
            Some(Value::Bytes(b)) => b,
            Some(other) => {
                return Err(Failure::message_format(format!(
                    "a {} value cannot be read as byte[]",
                    other.type_name()
                )))
            }
        };
        *data = bytes.as_ptr();
        *len = bytes.len();
        msg.cursor += 1;
        Ok(())
    })
}

/// Stream messages: moves the read position back to the first element.
#[no_mangle]
pub extern "C" fn herald_message_stream_reset(
    msg: *mut herald_message,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let msg = try_mut!(msg);
        if !matches!(msg.message().body, Body::Stream(_)) {
            return Err(not_a(msg, "StreamMessage"));
        }
        msg.cursor = 0;
        Ok(())
    })
}

// ---- properties that are not numbers, and the property set ----

/// Sets the string property `name` (NUL-terminated UTF-8 value).
#[no_mangle]
pub extern "C" fn herald_message_set_string_property(
    msg: *mut herald_message,
    name: *const c_char,
    value: *const c_char,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let msg = try_mut!(msg);
        let name = try_str!(name);
        let value = try_str!(value);
        msg.message_mut().set_property(name, value)?;
        Ok(())
    })
}

/// Copies the property `name`, read as a string with the JMS conversion rules, into `buf`
/// (see the string conventions); `HERALD_STATUS_NO_VALUE` when it is not set.
#[no_mangle]
pub extern "C" fn herald_message_get_string_property(
    msg: *const herald_message,
    name: *const c_char,
    buf: *mut c_char,
    buf_len: usize,
    len_out: *mut usize,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let msg = try_ref!(msg);
        let name = try_str!(name);
        let value = msg.message().string_property(name)?;
        unsafe { write_opt_string(value.as_deref(), name, buf, buf_len, len_out) }
    })
}

/// Writes whether the property `name` is set to `*exists_out`.
#[no_mangle]
pub extern "C" fn herald_message_property_exists(
    msg: *const herald_message,
    name: *const c_char,
    exists_out: *mut bool,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let msg = try_ref!(msg);
        let name = try_str!(name);
        let out = try_out!(exists_out);
        *out = msg.message().property(name).is_some();
        Ok(())
    })
}

/// Writes the number of properties to `*count_out`.
#[no_mangle]
pub extern "C" fn herald_message_get_property_count(
    msg: *const herald_message,
    count_out: *mut usize,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let msg = try_ref!(msg);
        let out = try_out!(count_out);
        *out = msg.message().properties().count();
        Ok(())
    })
}

/// Copies the name of property `index` (0-based, in the order they were set) into `buf`
/// (see the string conventions); `HERALD_STATUS_INVALID_ARGUMENT` past the end.
#[no_mangle]
pub extern "C" fn herald_message_get_property_name(
    msg: *const herald_message,
    index: usize,
    buf: *mut c_char,
    buf_len: usize,
    len_out: *mut usize,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let msg = try_ref!(msg);
        let (name, _) = msg.message().properties().nth(index).ok_or_else(|| {
            Failure::invalid_argument(format!(
                "index {index}: the message has {} properties",
                msg.message().properties().count()
            ))
        })?;
        unsafe { write_string(name, buf, buf_len, len_out) }
    })
}

/// Removes every property.
#[no_mangle]
pub extern "C" fn herald_message_clear_properties(
    msg: *mut herald_message,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        try_mut!(msg).message_mut().clear_properties();
        Ok(())
    })
}

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

// ---- properties ----

/// Sets the boolean property `name` (a Java identifier, not a reserved word), replacing
/// any property of that name.
#[no_mangle]
pub extern "C" fn herald_message_set_bool_property(
    msg: *mut herald_message,
    name: *const c_char,
    value: bool,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let msg = try_mut!(msg);
        let name = try_str!(name);
        msg.message_mut().set_property(name, Value::Bool(value))?;
        Ok(())
    })
}

/// Reads the property `name` as a boolean with the JMS conversion rules:
/// `HERALD_STATUS_MESSAGE_FORMAT` when its type does not convert,
/// `HERALD_STATUS_NUMBER_FORMAT` for a string that does not parse. A missing property reads as false.
#[no_mangle]
pub extern "C" fn herald_message_get_bool_property(
    msg: *const herald_message,
    name: *const c_char,
    value_out: *mut bool,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let msg = try_ref!(msg);
        let name = try_str!(name);
        let out = try_out!(value_out);
        *out = msg.message().property(name).to_bool()?;
        Ok(())
    })
}

/// Sets the byte property `name` (a Java identifier, not a reserved word), replacing
/// any property of that name.
#[no_mangle]
pub extern "C" fn herald_message_set_byte_property(
    msg: *mut herald_message,
    name: *const c_char,
    value: i8,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let msg = try_mut!(msg);
        let name = try_str!(name);
        msg.message_mut().set_property(name, Value::Byte(value))?;
        Ok(())
    })
}

/// Reads the property `name` as a byte with the JMS conversion rules:
/// `HERALD_STATUS_MESSAGE_FORMAT` when its type does not convert,
/// `HERALD_STATUS_NUMBER_FORMAT` for a string that does not parse or a missing property.
#[no_mangle]
pub extern "C" fn herald_message_get_byte_property(
    msg: *const herald_message,
    name: *const c_char,
    value_out: *mut i8,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let msg = try_ref!(msg);
        let name = try_str!(name);
        let out = try_out!(value_out);
        *out = msg.message().property(name).to_byte()?;
        Ok(())
    })
}

/// Sets the short property `name` (a Java identifier, not a reserved word), replacing
/// any property of that name.
#[no_mangle]
pub extern "C" fn herald_message_set_short_property(
    msg: *mut herald_message,
    name: *const c_char,
    value: i16,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let msg = try_mut!(msg);
        let name = try_str!(name);
        msg.message_mut().set_property(name, Value::Short(value))?;
        Ok(())
    })
}

/// Reads the property `name` as a short with the JMS conversion rules:
/// `HERALD_STATUS_MESSAGE_FORMAT` when its type does not convert,
/// `HERALD_STATUS_NUMBER_FORMAT` for a string that does not parse or a missing property.
#[no_mangle]
pub extern "C" fn herald_message_get_short_property(
    msg: *const herald_message,
    name: *const c_char,
    value_out: *mut i16,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let msg = try_ref!(msg);
        let name = try_str!(name);
        let out = try_out!(value_out);
        *out = msg.message().property(name).to_short()?;
        Ok(())
    })
}

/// Sets the int property `name` (a Java identifier, not a reserved word), replacing
/// any property of that name.
#[no_mangle]
pub extern "C" fn herald_message_set_int_property(
    msg: *mut herald_message,
    name: *const c_char,
    value: i32,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let msg = try_mut!(msg);
        let name = try_str!(name);
        msg.message_mut().set_property(name, Value::Int(value))?;
        Ok(())
    })
}

/// Reads the property `name` as a int with the JMS conversion rules:
/// `HERALD_STATUS_MESSAGE_FORMAT` when its type does not convert,
/// `HERALD_STATUS_NUMBER_FORMAT` for a string that does not parse or a missing property.
#[no_mangle]
pub extern "C" fn herald_message_get_int_property(
    msg: *const herald_message,
    name: *const c_char,
    value_out: *mut i32,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let msg = try_ref!(msg);
        let name = try_str!(name);
        let out = try_out!(value_out);
        *out = msg.message().property(name).to_int()?;
        Ok(())
    })
}

/// Sets the long property `name` (a Java identifier, not a reserved word), replacing
/// any property of that name.
#[no_mangle]
pub extern "C" fn herald_message_set_long_property(
    msg: *mut herald_message,
    name: *const c_char,
    value: i64,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let msg = try_mut!(msg);
        let name = try_str!(name);
        msg.message_mut().set_property(name, Value::Long(value))?;
        Ok(())
    })
}

/// Reads the property `name` as a long with the JMS conversion rules:
/// `HERALD_STATUS_MESSAGE_FORMAT` when its type does not convert,
/// `HERALD_STATUS_NUMBER_FORMAT` for a string that does not parse or a missing property.
#[no_mangle]
pub extern "C" fn herald_message_get_long_property(
    msg: *const herald_message,
    name: *const c_char,
    value_out: *mut i64,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let msg = try_ref!(msg);
        let name = try_str!(name);
        let out = try_out!(value_out);
        *out = msg.message().property(name).to_long()?;
        Ok(())
    })
}

/// Sets the float property `name` (a Java identifier, not a reserved word), replacing
/// any property of that name.
#[no_mangle]
pub extern "C" fn herald_message_set_float_property(
    msg: *mut herald_message,
    name: *const c_char,
    value: f32,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let msg = try_mut!(msg);
        let name = try_str!(name);
        msg.message_mut().set_property(name, Value::Float(value))?;
        Ok(())
    })
}

/// Reads the property `name` as a float with the JMS conversion rules:
/// `HERALD_STATUS_MESSAGE_FORMAT` when its type does not convert,
/// `HERALD_STATUS_NUMBER_FORMAT` for a string that does not parse or a missing property.
#[no_mangle]
pub extern "C" fn herald_message_get_float_property(
    msg: *const herald_message,
    name: *const c_char,
    value_out: *mut f32,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let msg = try_ref!(msg);
        let name = try_str!(name);
        let out = try_out!(value_out);
        *out = msg.message().property(name).to_float()?;
        Ok(())
    })
}

/// Sets the double property `name` (a Java identifier, not a reserved word), replacing
/// any property of that name.
#[no_mangle]
pub extern "C" fn herald_message_set_double_property(
    msg: *mut herald_message,
    name: *const c_char,
    value: f64,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let msg = try_mut!(msg);
        let name = try_str!(name);
        msg.message_mut().set_property(name, Value::Double(value))?;
        Ok(())
    })
}

/// Reads the property `name` as a double with the JMS conversion rules:
/// `HERALD_STATUS_MESSAGE_FORMAT` when its type does not convert,
/// `HERALD_STATUS_NUMBER_FORMAT` for a string that does not parse or a missing property.
#[no_mangle]
pub extern "C" fn herald_message_get_double_property(
    msg: *const herald_message,
    name: *const c_char,
    value_out: *mut f64,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let msg = try_ref!(msg);
        let name = try_str!(name);
        let out = try_out!(value_out);
        *out = msg.message().property(name).to_double()?;
        Ok(())
    })
}

// ---- map bodies ----

/// Map messages: sets the entry `name` (non-empty) to a boolean.
#[no_mangle]
pub extern "C" fn herald_message_map_set_bool(
    msg: *mut herald_message,
    name: *const c_char,
    value: bool,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let msg = try_mut!(msg);
        let name = try_str!(name);
        map_set(msg, name, Value::Bool(value))
    })
}

/// Map messages: reads the entry `name` as a boolean with the JMS conversion rules.
#[no_mangle]
pub extern "C" fn herald_message_map_get_bool(
    msg: *const herald_message,
    name: *const c_char,
    value_out: *mut bool,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let msg = try_ref!(msg);
        let name = try_str!(name);
        let out = try_out!(value_out);
        *out = map_get(msg, name)?.to_bool()?;
        Ok(())
    })
}

/// Map messages: sets the entry `name` (non-empty) to a byte.
#[no_mangle]
pub extern "C" fn herald_message_map_set_byte(
    msg: *mut herald_message,
    name: *const c_char,
    value: i8,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let msg = try_mut!(msg);
        let name = try_str!(name);
        map_set(msg, name, Value::Byte(value))
    })
}

/// Map messages: reads the entry `name` as a byte with the JMS conversion rules.
#[no_mangle]
pub extern "C" fn herald_message_map_get_byte(
    msg: *const herald_message,
    name: *const c_char,
    value_out: *mut i8,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let msg = try_ref!(msg);
        let name = try_str!(name);
        let out = try_out!(value_out);
        *out = map_get(msg, name)?.to_byte()?;
        Ok(())
    })
}

/// Map messages: sets the entry `name` (non-empty) to a short.
#[no_mangle]
pub extern "C" fn herald_message_map_set_short(
    msg: *mut herald_message,
    name: *const c_char,
    value: i16,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let msg = try_mut!(msg);
        let name = try_str!(name);
        map_set(msg, name, Value::Short(value))
    })
}

/// Map messages: reads the entry `name` as a short with the JMS conversion rules.
#[no_mangle]
pub extern "C" fn herald_message_map_get_short(
    msg: *const herald_message,
    name: *const c_char,
    value_out: *mut i16,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let msg = try_ref!(msg);
        let name = try_str!(name);
        let out = try_out!(value_out);
        *out = map_get(msg, name)?.to_short()?;
        Ok(())
    })
}

/// Map messages: sets the entry `name` (non-empty) to a char (a Unicode code point).
#[no_mangle]
pub extern "C" fn herald_message_map_set_char(
    msg: *mut herald_message,
    name: *const c_char,
    value: u32,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let msg = try_mut!(msg);
        let name = try_str!(name);
        map_set(msg, name, Value::Char(char_value(value)?))
    })
}

/// Map messages: reads the entry `name` as a char (a Unicode code point) with the JMS conversion rules.
#[no_mangle]
pub extern "C" fn herald_message_map_get_char(
    msg: *const herald_message,
    name: *const c_char,
    value_out: *mut u32,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let msg = try_ref!(msg);
        let name = try_str!(name);
        let out = try_out!(value_out);
        *out = map_get(msg, name)?.to_char()?.into();
        Ok(())
    })
}

/// Map messages: sets the entry `name` (non-empty) to a int.
#[no_mangle]
pub extern "C" fn herald_message_map_set_int(
    msg: *mut herald_message,
    name: *const c_char,
    value: i32,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let msg = try_mut!(msg);
        let name = try_str!(name);
        map_set(msg, name, Value::Int(value))
    })
}

/// Map messages: reads the entry `name` as a int with the JMS conversion rules.
#[no_mangle]
pub extern "C" fn herald_message_map_get_int(
    msg: *const herald_message,
    name: *const c_char,
    value_out: *mut i32,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let msg = try_ref!(msg);
        let name = try_str!(name);
        let out = try_out!(value_out);
        *out = map_get(msg, name)?.to_int()?;
        Ok(())
    })
}

/// Map messages: sets the entry `name` (non-empty) to a long.
#[no_mangle]
pub extern "C" fn herald_message_map_set_long(
    msg: *mut herald_message,
    name: *const c_char,
    value: i64,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let msg = try_mut!(msg);
        let name = try_str!(name);
        map_set(msg, name, Value::Long(value))
    })
}

/// Map messages: reads the entry `name` as a long with the JMS conversion rules.
#[no_mangle]
pub extern "C" fn herald_message_map_get_long(
    msg: *const herald_message,
    name: *const c_char,
    value_out: *mut i64,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let msg = try_ref!(msg);
        let name = try_str!(name);
        let out = try_out!(value_out);
        *out = map_get(msg, name)?.to_long()?;
        Ok(())
    })
}

/// Map messages: sets the entry `name` (non-empty) to a float.
#[no_mangle]
pub extern "C" fn herald_message_map_set_float(
    msg: *mut herald_message,
    name: *const c_char,
    value: f32,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let msg = try_mut!(msg);
        let name = try_str!(name);
        map_set(msg, name, Value::Float(value))
    })
}

/// Map messages: reads the entry `name` as a float with the JMS conversion rules.
#[no_mangle]
pub extern "C" fn herald_message_map_get_float(
    msg: *const herald_message,
    name: *const c_char,
    value_out: *mut f32,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let msg = try_ref!(msg);
        let name = try_str!(name);
        let out = try_out!(value_out);
        *out = map_get(msg, name)?.to_float()?;
        Ok(())
    })
}

/// Map messages: sets the entry `name` (non-empty) to a double.
#[no_mangle]
pub extern "C" fn herald_message_map_set_double(
    msg: *mut herald_message,
    name: *const c_char,
    value: f64,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let msg = try_mut!(msg);
        let name = try_str!(name);
        map_set(msg, name, Value::Double(value))
    })
}

/// Map messages: reads the entry `name` as a double with the JMS conversion rules.
#[no_mangle]
pub extern "C" fn herald_message_map_get_double(
    msg: *const herald_message,
    name: *const c_char,
    value_out: *mut f64,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let msg = try_ref!(msg);
        let name = try_str!(name);
        let out = try_out!(value_out);
        *out = map_get(msg, name)?.to_double()?;
        Ok(())
    })
}

// ---- stream bodies ----

/// Stream messages: appends a boolean.
#[no_mangle]
pub extern "C" fn herald_message_stream_write_bool(
    msg: *mut herald_message,
    value: bool,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let msg = try_mut!(msg);
        stream_write(msg, Value::Bool(value))
    })
}

/// Stream messages: reads the next element as a boolean with the JMS conversion
/// rules. The read position moves on only on success; `HERALD_STATUS_END_OF_STREAM`
/// after the last element.
#[no_mangle]
pub extern "C" fn herald_message_stream_read_bool(
    msg: *mut herald_message,
    value_out: *mut bool,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let msg = try_mut!(msg);
        let out = try_out!(value_out);
        *out = stream_read(msg, |v| v.to_bool())?;
        Ok(())
    })
}

/// Stream messages: appends a byte.
#[no_mangle]
pub extern "C" fn herald_message_stream_write_byte(
    msg: *mut herald_message,
    value: i8,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let msg = try_mut!(msg);
        stream_write(msg, Value::Byte(value))
    })
}

/// Stream messages: reads the next element as a byte with the JMS conversion
/// rules. The read position moves on only on success; `HERALD_STATUS_END_OF_STREAM`
/// after the last element.
#[no_mangle]
pub extern "C" fn herald_message_stream_read_byte(
    msg: *mut herald_message,
    value_out: *mut i8,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let msg = try_mut!(msg);
        let out = try_out!(value_out);
        *out = stream_read(msg, |v| v.to_byte())?;
        Ok(())
    })
}

/// Stream messages: appends a short.
#[no_mangle]
pub extern "C" fn herald_message_stream_write_short(
    msg: *mut herald_message,
    value: i16,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let msg = try_mut!(msg);
        stream_write(msg, Value::Short(value))
    })
}

/// Stream messages: reads the next element as a short with the JMS conversion
/// rules. The read position moves on only on success; `HERALD_STATUS_END_OF_STREAM`
/// after the last element.
#[no_mangle]
pub extern "C" fn herald_message_stream_read_short(
    msg: *mut herald_message,
    value_out: *mut i16,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let msg = try_mut!(msg);
        let out = try_out!(value_out);
        *out = stream_read(msg, |v| v.to_short())?;
        Ok(())
    })
}

/// Stream messages: appends a char (a Unicode code point).
#[no_mangle]
pub extern "C" fn herald_message_stream_write_char(
    msg: *mut herald_message,
    value: u32,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let msg = try_mut!(msg);
        stream_write(msg, Value::Char(char_value(value)?))
    })
}

/// Stream messages: reads the next element as a char (a Unicode code point) with the JMS conversion
/// rules. The read position moves on only on success; `HERALD_STATUS_END_OF_STREAM`
/// after the last element.
#[no_mangle]
pub extern "C" fn herald_message_stream_read_char(
    msg: *mut herald_message,
    value_out: *mut u32,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let msg = try_mut!(msg);
        let out = try_out!(value_out);
        *out = stream_read(msg, |v| v.to_char())?.into();
        Ok(())
    })
}

/// Stream messages: appends a int.
#[no_mangle]
pub extern "C" fn herald_message_stream_write_int(
    msg: *mut herald_message,
    value: i32,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let msg = try_mut!(msg);
        stream_write(msg, Value::Int(value))
    })
}

/// Stream messages: reads the next element as a int with the JMS conversion
/// rules. The read position moves on only on success; `HERALD_STATUS_END_OF_STREAM`
/// after the last element.
#[no_mangle]
pub extern "C" fn herald_message_stream_read_int(
    msg: *mut herald_message,
    value_out: *mut i32,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let msg = try_mut!(msg);
        let out = try_out!(value_out);
        *out = stream_read(msg, |v| v.to_int())?;
        Ok(())
    })
}

/// Stream messages: appends a long.
#[no_mangle]
pub extern "C" fn herald_message_stream_write_long(
    msg: *mut herald_message,
    value: i64,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let msg = try_mut!(msg);
        stream_write(msg, Value::Long(value))
    })
}

/// Stream messages: reads the next element as a long with the JMS conversion
/// rules. The read position moves on only on success; `HERALD_STATUS_END_OF_STREAM`
/// after the last element.
#[no_mangle]
pub extern "C" fn herald_message_stream_read_long(
    msg: *mut herald_message,
    value_out: *mut i64,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let msg = try_mut!(msg);
        let out = try_out!(value_out);
        *out = stream_read(msg, |v| v.to_long())?;
        Ok(())
    })
}

/// Stream messages: appends a float.
#[no_mangle]
pub extern "C" fn herald_message_stream_write_float(
    msg: *mut herald_message,
    value: f32,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let msg = try_mut!(msg);
        stream_write(msg, Value::Float(value))
    })
}

/// Stream messages: reads the next element as a float with the JMS conversion
/// rules. The read position moves on only on success; `HERALD_STATUS_END_OF_STREAM`
/// after the last element.
#[no_mangle]
pub extern "C" fn herald_message_stream_read_float(
    msg: *mut herald_message,
    value_out: *mut f32,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let msg = try_mut!(msg);
        let out = try_out!(value_out);
        *out = stream_read(msg, |v| v.to_float())?;
        Ok(())
    })
}

/// Stream messages: appends a double.
#[no_mangle]
pub extern "C" fn herald_message_stream_write_double(
    msg: *mut herald_message,
    value: f64,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let msg = try_mut!(msg);
        stream_write(msg, Value::Double(value))
    })
}

/// Stream messages: reads the next element as a double with the JMS conversion
/// rules. The read position moves on only on success; `HERALD_STATUS_END_OF_STREAM`
/// after the last element.
#[no_mangle]
pub extern "C" fn herald_message_stream_read_double(
    msg: *mut herald_message,
    value_out: *mut f64,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let msg = try_mut!(msg);
        let out = try_out!(value_out);
        *out = stream_read(msg, |v| v.to_double())?;
        Ok(())
    })
}
