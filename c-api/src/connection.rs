//! Connections.

use std::os::raw::c_char;
use std::time::Duration;

use herald_core::client::{AckMode, ConnectOptions, Connection};

use crate::destination::herald_destination;
use crate::error::{herald_error, herald_status, Failure};
use crate::ffi::*;
use crate::session::herald_session;

/// The JMS acknowledgement modes, with the `javax.jms.Session` numbers. Functions take
/// them as a `uint32_t`.
#[repr(u32)]
#[derive(Clone, Copy, Debug)]
pub enum herald_ack_mode {
    /// Sends and receives take effect on commit, are undone on rollback.
    Transacted = 0,
    /// Each message is acknowledged as the receive call returns it.
    Auto = 1,
    /// `herald_session_acknowledge` acknowledges everything the session has received.
    Client = 2,
    /// Like AUTO; duplicates after a failure are allowed.
    DupsOk = 3,
}

/// A connection to a broker: `vm://NAME` (a broker inside this process, created on first
/// use) or `tcp://HOST:PORT` (a `herald serve` server).
///
/// Under the hood: herald-core's `Connection`. It may be used from several threads at
/// once; in particular `herald_connection_close` may be called from another thread to
/// end blocked receives. Delivery to consumers starts with `herald_connection_start`.
///
/// Owned by the caller; free it once with `herald_connection_free`, which also closes it.
/// After `herald_connection_close` the handle stays valid until freed, and every call on
/// it (and on the sessions, producers and consumers it made) returns
/// `HERALD_STATUS_ILLEGAL_STATE`.
///
/// Functions: `herald_connection_open`, `herald_connection_set_client_id`,
/// `herald_connection_get_client_id`, `herald_connection_start`, `herald_connection_stop`,
/// `herald_connection_create_session`, `herald_connection_create_temporary_queue`,
/// `herald_connection_create_temporary_topic`, `herald_connection_delete_temporary`,
/// `herald_connection_wait_for_failure`, `herald_connection_close`,
/// `herald_connection_free`.
pub struct herald_connection {
    _private: [u8; 0],
}

impl Castable for herald_connection {
    type RustType = Connection;
}

/// Connects to `url` (`vm://NAME` or `tcp://HOST:PORT`). `user`, `password` and
/// `client_id` may be NULL. On success `*conn_out` receives a new connection, stopped.
#[no_mangle]
pub extern "C" fn herald_connection_open(
    url: *const c_char,
    user: *const c_char,
    password: *const c_char,
    client_id: *const c_char,
    conn_out: *mut *mut herald_connection,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let url = try_str!(url);
        let user = opt_str!(user);
        let password = opt_str!(password);
        let client_id = opt_str!(client_id);
        let out = try_out!(conn_out);
        let options = ConnectOptions {
            user: user.map(str::to_owned),
            password: password.map(str::to_owned),
            client_id: client_id.map(str::to_owned),
            ..ConnectOptions::default()
        };
        let connection = Connection::open(url, &options)?;
        *out = to_boxed_ptr(connection);
        Ok(())
    })
}

/// Sets the client ID (needed for unshared durable subscriptions). Allowed once, before
/// the connection is otherwise used; client IDs are unique per broker
/// (`HERALD_STATUS_INVALID_CLIENT_ID` when taken).
#[no_mangle]
pub extern "C" fn herald_connection_set_client_id(
    conn: *const herald_connection,
    client_id: *const c_char,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let conn = try_ref!(conn);
        let client_id = try_str!(client_id);
        conn.set_client_id(client_id)?;
        Ok(())
    })
}

/// Copies the client ID into `buf` (see the string conventions); `HERALD_STATUS_NO_VALUE`
/// when none is set.
#[no_mangle]
pub extern "C" fn herald_connection_get_client_id(
    conn: *const herald_connection,
    buf: *mut c_char,
    buf_len: usize,
    len_out: *mut usize,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let conn = try_ref!(conn);
        if conn.is_closed() {
            return Err(Failure::closed("connection"));
        }
        let id = conn
            .client_id()
            .ok_or_else(|| Failure::no_value("the client ID"))?;
        unsafe { write_string(&id, buf, buf_len, len_out) }
    })
}

/// Starts (or resumes) delivery to this connection's consumers.
#[no_mangle]
pub extern "C" fn herald_connection_start(
    conn: *const herald_connection,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        try_ref!(conn).start()?;
        Ok(())
    })
}

/// Pauses delivery; receives wait until the connection is started again.
#[no_mangle]
pub extern "C" fn herald_connection_stop(
    conn: *const herald_connection,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        try_ref!(conn).stop()?;
        Ok(())
    })
}

/// Creates a session. `ack_mode` is one of the `HERALD_ACK_MODE_*` values
/// (`HERALD_ACK_MODE_TRANSACTED` for a transacted session).
#[no_mangle]
pub extern "C" fn herald_connection_create_session(
    conn: *const herald_connection,
    ack_mode: u32,
    session_out: *mut *mut herald_session,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let conn = try_ref!(conn);
        let out = try_out!(session_out);
        let mode = i32::try_from(ack_mode)
            .ok()
            .and_then(|m| AckMode::from_jms(m).ok())
            .ok_or_else(|| {
                Failure::invalid_argument(format!("{ack_mode} is not a HERALD_ACK_MODE_* value"))
            })?;
        let session = conn.create_session(mode)?;
        *out = to_boxed_ptr(session);
        Ok(())
    })
}

/// Creates a temporary queue that lives as long as this connection; only this
/// connection may consume from it. `*dest_out` receives a new destination handle.
#[no_mangle]
pub extern "C" fn herald_connection_create_temporary_queue(
    conn: *const herald_connection,
    dest_out: *mut *mut herald_destination,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let conn = try_ref!(conn);
        let out = try_out!(dest_out);
        *out = to_boxed_ptr(conn.create_temporary_queue()?);
        Ok(())
    })
}

/// Creates a temporary topic that lives as long as this connection.
#[no_mangle]
pub extern "C" fn herald_connection_create_temporary_topic(
    conn: *const herald_connection,
    dest_out: *mut *mut herald_destination,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let conn = try_ref!(conn);
        let out = try_out!(dest_out);
        *out = to_boxed_ptr(conn.create_temporary_topic()?);
        Ok(())
    })
}

/// Deletes a temporary destination this connection created; refused
/// (`HERALD_STATUS_ILLEGAL_STATE`) while it has consumers. The destination handle itself
/// stays owned by the caller.
#[no_mangle]
pub extern "C" fn herald_connection_delete_temporary(
    conn: *const herald_connection,
    dest: *const herald_destination,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let conn = try_ref!(conn);
        let dest = try_ref!(dest);
        conn.delete_temporary(dest)?;
        Ok(())
    })
}

/// Waits up to `timeout_ms` milliseconds (`UINT64_MAX`: without limit) for the connection
/// to fail, and tells why: a `tcp://` connection whose server went away or stopped
/// answering. This is how a program learns of a failure that no call of its own
/// reported (JMS's ExceptionListener): one thread of the program's sits in this call;
/// Herald never calls back. On a failure it returns `HERALD_STATUS_OK` and writes a new
/// herald_error describing it to `*failure_out` (free it with `herald_error_free`).
/// Returns `HERALD_STATUS_NO_VALUE` when the time passes, or when the connection is (or
/// gets) closed by its owner, which is not a failure; a `vm://` connection never fails.
/// `herald_connection_close` from another thread ends the wait.
#[no_mangle]
pub extern "C" fn herald_connection_wait_for_failure(
    conn: *const herald_connection,
    timeout_ms: u64,
    failure_out: *mut *mut herald_error,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let conn = try_ref!(conn);
        let out = try_out!(failure_out);
        let timeout = (timeout_ms != u64::MAX).then(|| Duration::from_millis(timeout_ms));
        let failure = conn
            .wait_for_failure(timeout)
            .ok_or_else(|| Failure::no_value("a connection failure"))?;
        *out = to_boxed_ptr(Failure::from(failure).into_error());
        Ok(())
    })
}

/// Closes the connection: closes its sessions (unacknowledged messages are redelivered
/// later), deletes its temporary destinations, frees its client ID and ends blocked
/// receives. Closing twice is harmless. The handle stays valid until
/// `herald_connection_free`.
#[no_mangle]
pub extern "C" fn herald_connection_close(
    conn: *const herald_connection,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        try_ref!(conn).close();
        Ok(())
    })
}

/// Closes the connection if needed and frees the handle. NULL is ignored. Sessions,
/// producers and consumers made from it stay owned by the caller (calls on them return
/// `HERALD_STATUS_ILLEGAL_STATE`) and must still be freed. No other thread may be using
/// `conn` during or after this call.
#[no_mangle]
pub extern "C" fn herald_connection_free(conn: *mut herald_connection) {
    ffi_boundary!({
        unsafe { free_boxed(conn) };
        Ok(())
    });
}
