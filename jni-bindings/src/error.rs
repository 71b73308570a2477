//! How a failed call reaches Java: every error and every panic becomes a thrown
//! `io.herald.jms.HeraldNativeException(int kind, String message)`, which the Java side
//! converts to the matching JMS exception in one switch.

use std::any::Any;
use std::sync::OnceLock;

use herald_core::{Error, ErrorKind};
use jni::errors::ErrorPolicy;
use jni::objects::{Global, JClass, JString, JThrowable, JValue};
use jni::sys::jint;
use jni::{jni_sig, jni_str, Env};

/// Kind number for a Rust panic caught at the boundary (outside `ErrorKind`'s range).
pub const PANIC_KIND: jint = 100;

/// Why a native call failed.
#[derive(Debug)]
pub enum BindError {
    /// The core refused the call.
    Core(Error),
    /// A JNI call failed; when it left a Java exception pending, that one propagates.
    Jni(jni::errors::Error),
}

impl From<Error> for BindError {
    fn from(e: Error) -> BindError {
        BindError::Core(e)
    }
}

impl From<jni::errors::Error> for BindError {
    fn from(e: jni::errors::Error) -> BindError {
        BindError::Jni(e)
    }
}

impl BindError {
    pub fn illegal_state(message: impl Into<String>) -> BindError {
        BindError::Core(Error::new(ErrorKind::IllegalState, message))
    }

    pub fn invalid_argument(message: impl Into<String>) -> BindError {
        BindError::Core(Error::new(ErrorKind::InvalidArgument, message))
    }

    fn kind_and_message(&self) -> (jint, String) {
        match self {
            BindError::Core(e) => (e.kind().code() as jint, e.message().to_owned()),
            BindError::Jni(jni::errors::Error::NullPtr(what)) => {
                (ErrorKind::InvalidArgument.code() as jint, format!("a required argument is null ({what})"))
            }
            BindError::Jni(e) => (ErrorKind::Internal.code() as jint, format!("JNI call failed: {e}")),
        }
    }
}

pub type BindResult<T> = Result<T, BindError>;

/// Throws `HeraldNativeException` for errors and panics; never masks a pending exception
/// and never aborts the JVM.
pub struct ThrowJms;

static EXCEPTION_CLASS: OnceLock<Global<JClass<'static>>> = OnceLock::new();

/// `HeraldNativeException`, resolved once through the loader of the class whose native
/// method first asks (`Native.init()` at load), then held for the life of the process.
pub fn exception_class(env: &mut Env<'_>) -> jni::errors::Result<&'static Global<JClass<'static>>> {
    if let Some(class) = EXCEPTION_CLASS.get() {
        return Ok(class);
    }
    let local = env.find_class(jni_str!("io/herald/jms/HeraldNativeException"))?;
    let global = env.new_global_ref(&local)?;
    Ok(EXCEPTION_CLASS.get_or_init(|| global))
}

fn throw_native(env: &mut Env<'_>, kind: jint, message: &str) {
    if env.exception_check() {
        return;
    }
    let thrown = (|| -> jni::errors::Result<()> {
        let class = exception_class(env)?;
        let text = JString::from_str(env, message)?;
        let obj = env.new_object(
            class,
            jni_sig!((kind: jint, message: java.lang.String) -> void),
            &[JValue::Int(kind), JValue::Object(&text)],
        )?;
        let throwable = env.cast_local::<JThrowable>(obj)?;
        let _ = env.throw(throwable);
        Ok(())
    })();
    if thrown.is_err() && !env.exception_check() {
        // The exception class itself could not be built: fall back to a plain Java error.
        let _ = env.throw(format!("Herald native error {kind}: {message}"));
    }
}

fn panic_text(payload: Box<dyn Any + Send>) -> String {
    match payload.downcast::<&'static str>() {
        Ok(s) => (*s).to_owned(),
        Err(payload) => match payload.downcast::<String>() {
            Ok(s) => *s,
            Err(other) => {
                // Dropping an unknown payload could panic again: leak it instead.
                std::mem::forget(other);
                "a panic with a non-string payload".to_owned()
            }
        },
    }
}

impl<T: Default> ErrorPolicy<T, BindError> for ThrowJms {
    type Captures<'unowned_env_local: 'native_method, 'native_method> = ();

    fn on_error<'unowned_env_local: 'native_method, 'native_method>(
        env: &mut Env<'unowned_env_local>,
        _cap: &mut Self::Captures<'unowned_env_local, 'native_method>,
        err: BindError,
    ) -> jni::errors::Result<T> {
        if !env.exception_check() {
            let (kind, message) = err.kind_and_message();
            throw_native(env, kind, &message);
        }
        Ok(T::default())
    }

    fn on_panic<'unowned_env_local: 'native_method, 'native_method>(
        env: &mut Env<'unowned_env_local>,
        _cap: &mut Self::Captures<'unowned_env_local, 'native_method>,
        payload: Box<dyn Any + Send + 'static>,
    ) -> jni::errors::Result<T> {
        let text = format!("internal error in the Herald native library: {}", panic_text(payload));
        throw_native(env, PANIC_KIND, &text);
        Ok(T::default())
    }
}
