//! The one error type every public call returns.
//!
//! [`ErrorKind`] is a closed list that the C status codes and the Java exception classes
//! mirror one to one, so each kind carries a fixed number that is never reused or
//! renumbered. Internal errors (journal, selector, codec) are converted into an
//! [`Error`] exactly once, where they leave their module.

use std::fmt;

/// What went wrong, as every language binding sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A selector does not parse (`InvalidSelectorException`).
    InvalidSelector = 1,
    /// A destination is unknown, of the wrong kind or not usable here
    /// (`InvalidDestinationException`).
    InvalidDestination = 2,
    /// A call that is not allowed in the object's current state: closed handle, commit on a
    /// non-transacted session, ... (`IllegalStateException`).
    IllegalState = 3,
    /// A commit failed and the transaction was rolled back instead
    /// (`TransactionRolledBackException`).
    TransactionRolledBack = 4,
    /// A property or body value read as a type it cannot convert to
    /// (`MessageFormatException`).
    MessageFormat = 5,
    /// A string value that does not parse as the requested number, or a missing value read
    /// as a number (`NumberFormatException` in Java).
    NumberFormat = 6,
    /// Authentication or authorization failed (`JMSSecurityException`).
    Security = 7,
    /// A limit was reached: memory, disk, connections, message size
    /// (`ResourceAllocationException`).
    ResourceAllocation = 8,
    /// The client ID is taken or malformed (`InvalidClientIDException`).
    InvalidClientId = 9,
    /// An argument is out of range (priority 10, negative time to live, ...).
    InvalidArgument = 10,
    /// Storage or network failure (`JMSException`).
    Io = 11,
    /// A bug in Herald, reported instead of crashing (`JMSException`).
    Internal = 12,
}

impl ErrorKind {
    /// The fixed number of this kind, shared with C (`herald_status`) and Java.
    pub fn code(self) -> u32 {
        self as u32
    }

    /// The kind with this number, if there is one.
    pub fn from_code(code: u32) -> Option<ErrorKind> {
        use ErrorKind::*;
        Some(match code {
            1 => InvalidSelector,
            2 => InvalidDestination,
            3 => IllegalState,
            4 => TransactionRolledBack,
            5 => MessageFormat,
            6 => NumberFormat,
            7 => Security,
            8 => ResourceAllocation,
            9 => InvalidClientId,
            10 => InvalidArgument,
            11 => Io,
            12 => Internal,
            _ => return None,
        })
    }
}

/// A failed operation: its [`ErrorKind`] and a message for humans.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    message: String,
}

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error { kind, message: message.into() }
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    pub(crate) fn illegal_state(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::IllegalState, message)
    }

    pub(crate) fn closed(what: &str) -> Error {
        Error::new(ErrorKind::IllegalState, format!("the {what} is closed"))
    }

    pub(crate) fn invalid_destination(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::InvalidDestination, message)
    }

    pub(crate) fn message_format(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::MessageFormat, message)
    }

    pub(crate) fn invalid_argument(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::InvalidArgument, message)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

pub type Result<T, E = Error> = std::result::Result<T, E>;
