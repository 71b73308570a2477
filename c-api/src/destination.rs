//! Destinations.

use std::os::raw::c_char;

use herald_core::{Destination, DestinationKind};

use crate::error::{herald_error, herald_status};
use crate::ffi::*;

/// The four kinds of destination.
#[repr(u32)]
#[derive(Clone, Copy, Debug)]
pub enum herald_destination_kind {
    Queue = 1,
    Topic = 2,
    TemporaryQueue = 3,
    TemporaryTopic = 4,
}

/// A queue or topic name with its kind.
///
/// Under the hood: herald-core's `Destination`, an immutable value, so one handle may be
/// read from several threads at once. Functions that take a destination copy what they
/// need; the caller keeps the handle.
///
/// Owned by the caller; free it once with `herald_destination_free`.
///
/// Functions: `herald_destination_queue`, `herald_destination_topic`,
/// `herald_destination_parse`, `herald_destination_get_kind`,
/// `herald_destination_get_name`, `herald_destination_to_string`,
/// `herald_destination_equal`, `herald_destination_free`; created also by
/// `herald_connection_create_temporary_queue`, `herald_connection_create_temporary_topic`,
/// `herald_producer_get_destination`, `herald_message_get_destination`,
/// `herald_message_get_reply_to`.
pub struct herald_destination {
    _private: [u8; 0],
}

impl Castable for herald_destination {
    type RustType = Destination;
}

fn make(
    kind: DestinationKind,
    name: &str,
    out: &mut *mut herald_destination,
) -> Result<(), crate::error::Failure> {
    *out = to_boxed_ptr(Destination::new(kind, name)?);
    Ok(())
}

/// A queue named `name` (non-empty UTF-8).
#[no_mangle]
pub extern "C" fn herald_destination_queue(
    name: *const c_char,
    dest_out: *mut *mut herald_destination,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let name = try_str!(name);
        let out = try_out!(dest_out);
        make(DestinationKind::Queue, name, out)
    })
}

/// A topic named `name` (non-empty UTF-8).
#[no_mangle]
pub extern "C" fn herald_destination_topic(
    name: *const c_char,
    dest_out: *mut *mut herald_destination,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let name = try_str!(name);
        let out = try_out!(dest_out);
        make(DestinationKind::Topic, name, out)
    })
}

/// Parses `queue://NAME`, `topic://NAME`, `temp-queue://NAME` or `temp-topic://NAME`;
/// anything else is `HERALD_STATUS_INVALID_DESTINATION`.
#[no_mangle]
pub extern "C" fn herald_destination_parse(
    text: *const c_char,
    dest_out: *mut *mut herald_destination,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let text = try_str!(text);
        let out = try_out!(dest_out);
        *out = to_boxed_ptr(Destination::parse(text)?);
        Ok(())
    })
}

/// Writes the destination's `HERALD_DESTINATION_KIND_*` value to `*kind_out`.
#[no_mangle]
pub extern "C" fn herald_destination_get_kind(
    dest: *const herald_destination,
    kind_out: *mut u32,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let dest = try_ref!(dest);
        let out = try_out!(kind_out);
        *out = match dest.kind() {
            DestinationKind::Queue => herald_destination_kind::Queue,
            DestinationKind::Topic => herald_destination_kind::Topic,
            DestinationKind::TemporaryQueue => herald_destination_kind::TemporaryQueue,
            DestinationKind::TemporaryTopic => herald_destination_kind::TemporaryTopic,
        } as u32;
        Ok(())
    })
}

/// Copies the destination's name into `buf` (see the string conventions).
#[no_mangle]
pub extern "C" fn herald_destination_get_name(
    dest: *const herald_destination,
    buf: *mut c_char,
    buf_len: usize,
    len_out: *mut usize,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let dest = try_ref!(dest);
        unsafe { write_string(dest.name(), buf, buf_len, len_out) }
    })
}

/// Copies the destination as `queue://NAME` (the form `herald_destination_parse` reads)
/// into `buf` (see the string conventions).
#[no_mangle]
pub extern "C" fn herald_destination_to_string(
    dest: *const herald_destination,
    buf: *mut c_char,
    buf_len: usize,
    len_out: *mut usize,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let dest = try_ref!(dest);
        unsafe { write_string(&dest.to_string(), buf, buf_len, len_out) }
    })
}

/// Writes true to `*equal_out` when `a` and `b` name the same destination.
#[no_mangle]
pub extern "C" fn herald_destination_equal(
    a: *const herald_destination,
    b: *const herald_destination,
    equal_out: *mut bool,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let a = try_ref!(a);
        let b = try_ref!(b);
        let out = try_out!(equal_out);
        *out = a == b;
        Ok(())
    })
}

/// Frees the destination. NULL is ignored.
#[no_mangle]
pub extern "C" fn herald_destination_free(dest: *mut herald_destination) {
    ffi_boundary!({
        unsafe { free_boxed(dest) };
        Ok(())
    });
}
