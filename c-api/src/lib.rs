//! The Herald C API: `herald.h` over herald-core's client API.
//!
//! # Layout
//!
//! - `ffi`: the panic boundary, handle casts and argument checks every function uses.
//! - `error`: `herald_status` (one value per core error kind, same numbers) and
//!   `herald_error`, the optional detail object.
//! - `connection`, `session`, `producer`, `consumer`, `browser`: one opaque handle type
//!   each, over the client API object of the same name.
//! - `destination`, `message`: values: destinations, and messages with their headers,
//!   typed properties and five body kinds.
//!
//! The conventions C callers rely on are written at the top of `include/herald.h`
//! (`cbindgen.toml`'s `header`). Every exported function is a literal
//! `#[no_mangle] pub extern "C" fn` whose body runs inside `ffi_boundary!`, so cbindgen
//! sees it and no panic crosses into C.

#![allow(non_camel_case_types)]
// Exported functions check their pointer arguments for NULL; the caller's promise that a
// non-NULL pointer is valid is the documented contract of a C API.
#![allow(clippy::not_unsafe_ptr_arg_deref)]

mod ffi;

pub mod browser;
pub mod connection;
pub mod consumer;
pub mod destination;
pub mod error;
pub mod message;
pub mod producer;
pub mod session;

use std::os::raw::c_char;

/// The library's version, `MAJOR.MINOR.PATCH`, as a static NUL-terminated string (the
/// library actually loaded, which may differ from the `HERALD_VERSION` it was compiled
/// against).
#[no_mangle]
pub extern "C" fn herald_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}
