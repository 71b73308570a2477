//! Status codes and error objects.

use std::ffi::CString;
use std::os::raw::c_char;

use herald_core::{Error, ErrorKind};

use crate::ffi::{free_boxed, try_from, Castable};

/// What a call did. Every fallible function returns one.
///
/// `HERALD_STATUS_OK` is 0. Values 1 to 99 mirror herald-core's error kinds one to one,
/// with the same numbers (and the same JMS exception classes in Java). Values from 100
/// are the C API's own: argument checks, panics, buffers, and the three "nothing there"
/// results (`NO_MESSAGE`, `NO_VALUE`, `END_OF_STREAM`), which are outcomes rather than
/// errors and never fill an `err_out`. Numbers are never reused or renumbered.
///
/// Functions take and return it as a `uint32_t`; compare it with these constants.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum herald_status {
    Ok = 0,
    /// A selector does not parse (JMS InvalidSelectorException).
    InvalidSelector = 1,
    /// A destination is unknown, of the wrong kind or not usable here.
    InvalidDestination = 2,
    /// Not allowed in the object's current state: a closed handle, commit on a session
    /// that is not transacted, ...
    IllegalState = 3,
    /// A commit failed and the transaction was rolled back instead.
    TransactionRolledBack = 4,
    /// A property, map entry or stream element read as a type it cannot convert to, or a
    /// body call on a message of another kind.
    MessageFormat = 5,
    /// A string that does not parse as the requested number, or a missing value read as
    /// a number.
    NumberFormat = 6,
    /// Authentication or authorization failed.
    Security = 7,
    /// A limit was reached: memory, disk, connections, message size.
    ResourceAllocation = 8,
    /// The client ID is taken or malformed.
    InvalidClientId = 9,
    /// An argument is out of range or malformed (priority 10, an unknown constant, a
    /// string that is not UTF-8, ...).
    InvalidArgument = 10,
    /// Storage or network failure.
    Io = 11,
    /// A bug in Herald, reported instead of crashing.
    Internal = 12,
    /// A required pointer argument was NULL.
    NullArgument = 100,
    /// Herald panicked; the call did not complete. Treat the objects involved as broken.
    Panic = 101,
    /// The caller's buffer is NULL or too small; the length output holds the size needed.
    InsufficientSize = 102,
    /// A receive timed out, a `receive_no_wait` found nothing, or a browser is at its end.
    NoMessage = 103,
    /// The header, property or map entry is not set (or null).
    NoValue = 104,
    /// A stream message has no more elements to read.
    EndOfStream = 105,
}

impl herald_status {
    pub(crate) fn from_kind(kind: ErrorKind) -> herald_status {
        use herald_status as S;
        match kind {
            ErrorKind::InvalidSelector => S::InvalidSelector,
            ErrorKind::InvalidDestination => S::InvalidDestination,
            ErrorKind::IllegalState => S::IllegalState,
            ErrorKind::TransactionRolledBack => S::TransactionRolledBack,
            ErrorKind::MessageFormat => S::MessageFormat,
            ErrorKind::NumberFormat => S::NumberFormat,
            ErrorKind::Security => S::Security,
            ErrorKind::ResourceAllocation => S::ResourceAllocation,
            ErrorKind::InvalidClientId => S::InvalidClientId,
            ErrorKind::InvalidArgument => S::InvalidArgument,
            ErrorKind::Io => S::Io,
            ErrorKind::Internal => S::Internal,
            // ErrorKind is non_exhaustive: a kind added later is still an error.
            _ => S::Internal,
        }
    }

    fn from_u32(code: u32) -> Option<herald_status> {
        use herald_status as S;
        Some(match code {
            0 => S::Ok,
            1 => S::InvalidSelector,
            2 => S::InvalidDestination,
            3 => S::IllegalState,
            4 => S::TransactionRolledBack,
            5 => S::MessageFormat,
            6 => S::NumberFormat,
            7 => S::Security,
            8 => S::ResourceAllocation,
            9 => S::InvalidClientId,
            10 => S::InvalidArgument,
            11 => S::Io,
            12 => S::Internal,
            100 => S::NullArgument,
            101 => S::Panic,
            102 => S::InsufficientSize,
            103 => S::NoMessage,
            104 => S::NoValue,
            105 => S::EndOfStream,
            _ => return None,
        })
    }

    /// The constant's name and a short description; static text.
    fn describe(self) -> &'static std::ffi::CStr {
        use herald_status as S;
        match self {
            S::Ok => c"HERALD_STATUS_OK: success",
            S::InvalidSelector => c"HERALD_STATUS_INVALID_SELECTOR: the selector does not parse",
            S::InvalidDestination => {
                c"HERALD_STATUS_INVALID_DESTINATION: the destination is unknown or not usable here"
            }
            S::IllegalState => {
                c"HERALD_STATUS_ILLEGAL_STATE: not allowed in the object's current state (closed?)"
            }
            S::TransactionRolledBack => {
                c"HERALD_STATUS_TRANSACTION_ROLLED_BACK: the commit failed and was rolled back"
            }
            S::MessageFormat => {
                c"HERALD_STATUS_MESSAGE_FORMAT: the value cannot be read or written as that type"
            }
            S::NumberFormat => {
                c"HERALD_STATUS_NUMBER_FORMAT: the value is not a number of that type"
            }
            S::Security => c"HERALD_STATUS_SECURITY: authentication or authorization failed",
            S::ResourceAllocation => c"HERALD_STATUS_RESOURCE_ALLOCATION: a limit was reached",
            S::InvalidClientId => {
                c"HERALD_STATUS_INVALID_CLIENT_ID: the client ID is taken or malformed"
            }
            S::InvalidArgument => {
                c"HERALD_STATUS_INVALID_ARGUMENT: an argument is out of range or malformed"
            }
            S::Io => c"HERALD_STATUS_IO: storage or network failure",
            S::Internal => c"HERALD_STATUS_INTERNAL: a bug in Herald",
            S::NullArgument => c"HERALD_STATUS_NULL_ARGUMENT: a required pointer argument was NULL",
            S::Panic => c"HERALD_STATUS_PANIC: Herald panicked; the call did not complete",
            S::InsufficientSize => c"HERALD_STATUS_INSUFFICIENT_SIZE: the buffer is too small",
            S::NoMessage => c"HERALD_STATUS_NO_MESSAGE: no message arrived in time",
            S::NoValue => c"HERALD_STATUS_NO_VALUE: the value is not set",
            S::EndOfStream => c"HERALD_STATUS_END_OF_STREAM: no more stream elements",
        }
    }
}

/// Why a call did not return `OK`, inside the crate.
#[derive(Debug)]
pub(crate) struct Failure {
    pub status: herald_status,
    pub message: String,
}

impl Failure {
    pub fn new(status: herald_status, message: impl Into<String>) -> Failure {
        Failure {
            status,
            message: message.into(),
        }
    }

    pub fn null(what: &str) -> Failure {
        Failure::new(
            herald_status::NullArgument,
            format!("the argument {what} is NULL"),
        )
    }

    pub fn invalid_argument(message: impl Into<String>) -> Failure {
        Failure::new(herald_status::InvalidArgument, message)
    }

    pub fn closed(what: &str) -> Failure {
        Failure::new(herald_status::IllegalState, format!("the {what} is closed"))
    }

    pub fn no_message() -> Failure {
        Failure::new(herald_status::NoMessage, "no message")
    }

    pub fn no_value(what: &str) -> Failure {
        Failure::new(herald_status::NoValue, format!("{what} is not set"))
    }

    pub fn message_format(message: impl Into<String>) -> Failure {
        Failure::new(herald_status::MessageFormat, message)
    }

    /// Outcomes like "no message" are not errors and get no error object.
    pub fn is_error(&self) -> bool {
        !matches!(
            self.status,
            herald_status::Ok
                | herald_status::NoMessage
                | herald_status::NoValue
                | herald_status::EndOfStream
        )
    }

    pub fn into_error(self) -> ErrorObject {
        let message = CString::new(self.message.replace('\0', "\\0")).unwrap_or_default();
        ErrorObject {
            status: self.status,
            message,
        }
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Failure {
        Failure::new(herald_status::from_kind(e.kind()), e.message())
    }
}

/// What a `herald_error` holds.
pub(crate) struct ErrorObject {
    status: herald_status,
    message: CString,
}

/// The details of a failed call: its status and a message for humans.
///
/// Under the hood: a status and a NUL-terminated string. Immutable, so it may be read
/// from any thread; free it once with `herald_error_free`.
///
/// Functions: `herald_error_status`, `herald_error_message`, `herald_error_free`.
pub struct herald_error {
    _private: [u8; 0],
}

impl Castable for herald_error {
    type RustType = ErrorObject;
}

/// The error's status, one of the `HERALD_STATUS_*` values; `HERALD_STATUS_NULL_ARGUMENT`
/// when `err` is NULL.
#[no_mangle]
pub extern "C" fn herald_error_status(err: *const herald_error) -> herald_status {
    let mut status = herald_status::NullArgument;
    crate::ffi::ffi_boundary!({
        if let Some(e) = unsafe { try_from(err) } {
            status = e.status;
        }
        Ok(())
    });
    status
}

/// The error's message, NUL-terminated UTF-8, valid until `herald_error_free(err)`.
/// Never NULL: a NULL `err` gives an empty string.
#[no_mangle]
pub extern "C" fn herald_error_message(err: *const herald_error) -> *const c_char {
    let mut text = c"".as_ptr();
    crate::ffi::ffi_boundary!({
        if let Some(e) = unsafe { try_from(err) } {
            text = e.message.as_ptr();
        }
        Ok(())
    });
    text
}

/// Frees an error object. NULL is ignored.
#[no_mangle]
pub extern "C" fn herald_error_free(err: *mut herald_error) {
    crate::ffi::ffi_boundary!({
        unsafe { free_boxed(err) };
        Ok(())
    });
}

/// A static description of a status value: the constant's name and what it means.
/// Unknown values give a description saying so. Never NULL; do not free.
#[no_mangle]
pub extern "C" fn herald_status_string(status: u32) -> *const c_char {
    match herald_status::from_u32(status) {
        Some(s) => s.describe().as_ptr(),
        None => c"unknown herald_status value".as_ptr(),
    }
}
