//! StreamMessage bodies: typed values in order, read back with a cursor.

use std::os::raw::c_char;

use herald_core::message::Convert;
use herald_core::{Body, Value};

use super::*;
use crate::error::{herald_error, herald_status, Failure};
use crate::ffi::*;

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
