//! Queue browsers.

use herald_core::client::Browser;

use crate::error::{herald_error, herald_status, Failure};
use crate::ffi::*;
use crate::message::{herald_message, MessageState};

pub(crate) struct BrowserState {
    browser: Browser,
    closed: bool,
}

impl BrowserState {
    pub fn new(browser: Browser) -> BrowserState {
        BrowserState {
            browser,
            closed: false,
        }
    }
}

/// The messages that were waiting on a queue when the browser was created, in delivery
/// order. Browsing consumes nothing.
///
/// Under the hood: a snapshot taken by herald-core's `Session::create_browser`. Use it
/// from one thread at a time.
///
/// Owned by the caller; free it once with `herald_browser_free`. After
/// `herald_browser_close` the handle stays valid until freed and
/// `herald_browser_next` returns `HERALD_STATUS_ILLEGAL_STATE`.
///
/// Functions: `herald_session_create_browser`, `herald_browser_next`,
/// `herald_browser_close`, `herald_browser_free`.
pub struct herald_browser {
    _private: [u8; 0],
}

impl Castable for herald_browser {
    type RustType = BrowserState;
}

/// Writes the next message to `*msg_out` (a new handle, freed with `herald_message_free`),
/// or returns `HERALD_STATUS_NO_MESSAGE` at the end.
#[no_mangle]
pub extern "C" fn herald_browser_next(
    browser: *mut herald_browser,
    msg_out: *mut *mut herald_message,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let browser = try_mut!(browser);
        let out = try_out!(msg_out);
        if browser.closed {
            return Err(Failure::closed("browser"));
        }
        let delivery = browser.browser.next().ok_or_else(Failure::no_message)?;
        *out = to_boxed_ptr(MessageState::received(delivery));
        Ok(())
    })
}

/// Closes the browser and drops what it had not yet returned. Closing twice is harmless.
#[no_mangle]
pub extern "C" fn herald_browser_close(
    browser: *mut herald_browser,
    err_out: *mut *mut herald_error,
) -> herald_status {
    ffi_boundary!(err_out, {
        let browser = try_mut!(browser);
        browser.closed = true;
        browser.browser.by_ref().for_each(drop);
        Ok(())
    })
}

/// Frees the browser. NULL is ignored.
#[no_mangle]
pub extern "C" fn herald_browser_free(browser: *mut herald_browser) {
    ffi_boundary!({
        unsafe { free_boxed(browser) };
        Ok(())
    });
}
