//! MapMessage bodies: typed values by name.

use std::os::raw::c_char;

use herald_core::message::Convert;
use herald_core::{Body, Value};

use super::*;
use crate::error::{herald_error, herald_status, Failure};
use crate::ffi::*;

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
