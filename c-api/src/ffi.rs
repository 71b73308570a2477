//! The handful of helpers every exported function uses: the panic boundary, typed casts
//! between opaque handles and their Rust values, and argument checks.
//!
//! Every exported function is a literal `#[no_mangle] pub extern "C" fn` (so cbindgen
//! sees it) whose body is one `ffi_boundary!` call. Inside, the body is a closure that
//! returns `Result<(), Failure>`; the `try_*!` macros return a `Failure` early, so a NULL
//! argument is a status, never a dereference.

use std::ffi::CStr;
use std::os::raw::c_char;

use crate::error::{herald_error, herald_status, Failure};

/// Ties an opaque C handle type to the Rust value behind it. Every handle is a `Box` of
/// its `RustType`, created by [`to_boxed_ptr`] and released by [`free_boxed`] in the
/// type's one `_free` function.
pub(crate) trait Castable {
    type RustType;
}

/// Moves `value` to the heap and hands C the pointer.
pub(crate) fn to_boxed_ptr<T: Castable>(value: T::RustType) -> *mut T {
    Box::into_raw(Box::new(value)).cast()
}

/// The Rust value behind a handle, or `None` for NULL.
///
/// # Safety
/// `ptr` is NULL or came from [`to_boxed_ptr`] for this `T` and has not been freed.
pub(crate) unsafe fn try_from<'a, T: Castable>(ptr: *const T) -> Option<&'a T::RustType> {
    unsafe { ptr.cast::<T::RustType>().as_ref() }
}

/// # Safety
/// As [`try_from`], and no other reference to the value is alive.
pub(crate) unsafe fn try_from_mut<'a, T: Castable>(ptr: *mut T) -> Option<&'a mut T::RustType> {
    unsafe { ptr.cast::<T::RustType>().as_mut() }
}

/// Releases a handle; NULL is ignored.
///
/// # Safety
/// `ptr` is NULL or came from [`to_boxed_ptr`] for this `T` and is freed only once.
pub(crate) unsafe fn free_boxed<T: Castable>(ptr: *mut T) {
    if !ptr.is_null() {
        drop(unsafe { Box::from_raw(ptr.cast::<T::RustType>()) });
    }
}

/// Reads a NUL-terminated UTF-8 argument. `None` for NULL.
///
/// # Safety
/// `ptr` is NULL or points to a NUL-terminated string.
pub(crate) unsafe fn c_str<'a>(ptr: *const c_char, what: &str) -> Result<Option<&'a str>, Failure> {
    if ptr.is_null() {
        return Ok(None);
    }
    let s = unsafe { CStr::from_ptr(ptr) };
    s.to_str()
        .map(Some)
        .map_err(|_| Failure::invalid_argument(format!("{what} is not valid UTF-8")))
}

/// Reads `len` bytes at `ptr`; `(NULL, 0)` is the empty slice.
///
/// # Safety
/// `ptr` points to `len` readable bytes, or `len` is 0.
pub(crate) unsafe fn c_bytes<'a>(
    ptr: *const u8,
    len: usize,
    what: &str,
) -> Result<&'a [u8], Failure> {
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(Failure::null(what));
    }
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// Copies `s` into the caller's buffer with a terminating NUL, and its length (without
/// the NUL) into `len_out`. A buffer that is NULL or too small gets nothing; `len_out`
/// still receives the needed length and the status is `INSUFFICIENT_SIZE`.
///
/// # Safety
/// `buf` is NULL or points to `buf_len` writable bytes; `len_out` is NULL or writable.
pub(crate) unsafe fn write_string(
    s: &str,
    buf: *mut c_char,
    buf_len: usize,
    len_out: *mut usize,
) -> Result<(), Failure> {
    if !len_out.is_null() {
        unsafe { *len_out = s.len() };
    }
    if buf.is_null() || buf_len <= s.len() {
        return Err(Failure::new(
            herald_status::InsufficientSize,
            format!(
                "the string needs {} bytes plus a NUL; the buffer holds {buf_len}",
                s.len()
            ),
        ));
    }
    unsafe {
        std::ptr::copy_nonoverlapping(s.as_ptr(), buf.cast::<u8>(), s.len());
        *buf.add(s.len()) = 0;
    }
    Ok(())
}

/// Runs an exported function's body: catches any panic, turns the outcome into a
/// status, and hands the caller an error object when it asked for one.
pub(crate) fn boundary(
    err_out: *mut *mut herald_error,
    body: impl FnOnce() -> Result<(), Failure>,
) -> herald_status {
    let failure = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(body)) {
        Ok(Ok(())) => return herald_status::Ok,
        Ok(Err(failure)) => failure,
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown cause".to_owned());
            Failure::new(
                herald_status::Panic,
                format!("a bug in Herald (panic: {what})"),
            )
        }
    };
    let status = failure.status;
    if !err_out.is_null() && failure.is_error() {
        // Writing the error must not panic either; allocation failure aborts anyway.
        unsafe { *err_out = to_boxed_ptr::<herald_error>(failure.into_error()) };
    }
    status
}

/// `ffi_boundary!(err_out, { body })`: see [`boundary`]. `ffi_boundary!({ body })` for
/// functions without an `err_out`.
macro_rules! ffi_boundary {
    ($err_out:expr, $body:block) => {
        $crate::ffi::boundary($err_out, || -> Result<(), $crate::error::Failure> { $body })
    };
    ($body:block) => {
        $crate::ffi::boundary(
            std::ptr::null_mut(),
            || -> Result<(), $crate::error::Failure> { $body },
        )
    };
}

/// The value behind a handle argument, or `NULL_ARGUMENT`.
macro_rules! try_ref {
    ($ptr:ident) => {
        match unsafe { $crate::ffi::try_from($ptr) } {
            Some(r) => r,
            None => return Err($crate::error::Failure::null(stringify!($ptr))),
        }
    };
}

macro_rules! try_mut {
    ($ptr:ident) => {
        match unsafe { $crate::ffi::try_from_mut($ptr) } {
            Some(r) => r,
            None => return Err($crate::error::Failure::null(stringify!($ptr))),
        }
    };
}

/// A required NUL-terminated UTF-8 string argument.
macro_rules! try_str {
    ($ptr:ident) => {
        match unsafe { $crate::ffi::c_str($ptr, stringify!($ptr)) }? {
            Some(s) => s,
            None => return Err($crate::error::Failure::null(stringify!($ptr))),
        }
    };
}

/// An optional (NULL allowed) NUL-terminated UTF-8 string argument.
macro_rules! opt_str {
    ($ptr:ident) => {
        unsafe { $crate::ffi::c_str($ptr, stringify!($ptr)) }?
    };
}

/// A required output pointer; the result is written through it only on success.
macro_rules! try_out {
    ($ptr:ident) => {
        match unsafe { $ptr.as_mut() } {
            Some(r) => r,
            None => return Err($crate::error::Failure::null(stringify!($ptr))),
        }
    };
}

pub(crate) use {ffi_boundary, opt_str, try_mut, try_out, try_ref, try_str};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{herald_error_free, herald_error_message, herald_error_status};

    #[test]
    fn a_panic_becomes_a_status_and_an_error_object() {
        let mut err: *mut herald_error = std::ptr::null_mut();
        let status = boundary(&mut err, || panic!("broken invariant"));
        assert_eq!(status, herald_status::Panic);
        assert_eq!(herald_error_status(err), herald_status::Panic);
        let text = unsafe { CStr::from_ptr(herald_error_message(err)) }
            .to_str()
            .unwrap();
        assert!(text.contains("broken invariant"), "{text}");
        herald_error_free(err);
    }

    #[test]
    fn outcomes_that_are_not_errors_leave_err_out_alone() {
        let mut err: *mut herald_error = std::ptr::null_mut();
        let status = boundary(&mut err, || Err(Failure::no_message()));
        assert_eq!(status, herald_status::NoMessage);
        assert!(err.is_null());
        let status = boundary(&mut err, || Err(Failure::closed("session")));
        assert_eq!(status, herald_status::IllegalState);
        assert!(!err.is_null());
        herald_error_free(err);
    }

    #[test]
    fn strings_are_copied_with_a_nul_or_not_at_all() {
        let mut buf = [b'x' as c_char; 4];
        let mut len = 0usize;
        let r = unsafe { write_string("abcd", buf.as_mut_ptr(), buf.len(), &mut len) };
        assert_eq!(r.unwrap_err().status, herald_status::InsufficientSize);
        assert_eq!(len, 4);
        assert_eq!(buf[0], b'x' as c_char);
        unsafe { write_string("abc", buf.as_mut_ptr(), buf.len(), &mut len) }.unwrap();
        assert_eq!(
            unsafe { CStr::from_ptr(buf.as_ptr()) }.to_str().unwrap(),
            "abc"
        );
    }
}
