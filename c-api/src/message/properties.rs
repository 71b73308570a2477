//! Typed message properties, with the JMS conversion rules.

use std::os::raw::c_char;

use herald_core::message::Convert;
use herald_core::Value;

use super::*;
use crate::error::{herald_error, herald_status, Failure};
use crate::ffi::*;

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
