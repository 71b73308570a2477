//! Typed values and the JMS conversion table.
//!
//! One [`Value`] type serves message properties and the entries of Map and Stream bodies.
//! Properties may hold every variant but [`Value::Char`] and [`Value::Bytes`]. A value is
//! read as another type only where the JMS table allows it; anything else is a
//! `MessageFormat` error, and a string that does not parse as the requested number is a
//! `NumberFormat` error, as `Integer.valueOf` would throw in Java.

use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorKind, Result};

/// A typed value of a property, a map entry or a stream element.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Value {
    Bool(bool),
    Byte(i8),
    Short(i16),
    Char(char),
    Int(i32),
    Long(i64),
    Float(f32),
    Double(f64),
    String(String),
    Bytes(#[serde(with = "serde_bytes")] Vec<u8>),
}

impl Value {
    /// The Java name of this value's type, for error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Bool(_) => "boolean",
            Value::Byte(_) => "byte",
            Value::Short(_) => "short",
            Value::Char(_) => "char",
            Value::Int(_) => "int",
            Value::Long(_) => "long",
            Value::Float(_) => "float",
            Value::Double(_) => "double",
            Value::String(_) => "String",
            Value::Bytes(_) => "byte[]",
        }
    }

    /// True for the types a message property may hold.
    pub fn is_property_type(&self) -> bool {
        !matches!(self, Value::Char(_) | Value::Bytes(_))
    }
}

macro_rules! impl_from {
    ($($t:ty => $variant:ident),* $(,)?) => {
        $(impl From<$t> for Value {
            fn from(v: $t) -> Value { Value::$variant(v.into()) }
        })*
    };
}

impl_from!(bool => Bool, i8 => Byte, i16 => Short, char => Char, i32 => Int, i64 => Long,
    f32 => Float, f64 => Double, String => String, &str => String, Vec<u8> => Bytes);

fn cannot(value: &Value, target: &str) -> Error {
    Error::new(
        ErrorKind::MessageFormat,
        format!("a {} value cannot be read as {target}", value.type_name()),
    )
}

fn missing(target: &str) -> Error {
    Error::new(ErrorKind::NumberFormat, format!("a missing or null value cannot be read as {target}"))
}

fn unparsable(s: &str, target: &str) -> Error {
    Error::new(ErrorKind::NumberFormat, format!("\"{s}\" is not a valid {target}"))
}

fn parse<T: std::str::FromStr>(s: &str, target: &str) -> Result<T> {
    s.parse().map_err(|_| unparsable(s, target))
}

/// Reads an optional value (a missing property or a null map entry is `None`) with the JMS
/// conversion rules. Missing values read as `false` and as a null string; as a number they
/// are a `NumberFormat` error.
pub trait Convert {
    fn to_bool(self) -> Result<bool>;
    fn to_byte(self) -> Result<i8>;
    fn to_short(self) -> Result<i16>;
    fn to_char(self) -> Result<char>;
    fn to_int(self) -> Result<i32>;
    fn to_long(self) -> Result<i64>;
    fn to_float(self) -> Result<f32>;
    fn to_double(self) -> Result<f64>;
    fn to_string_value(self) -> Result<Option<String>>;
    fn to_bytes(self) -> Result<Option<Vec<u8>>>;
}

impl Convert for Option<&Value> {
    fn to_bool(self) -> Result<bool> {
        match self {
            None => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            // Boolean.valueOf: "true" in any case is true, every other string false.
            Some(Value::String(s)) => Ok(s.eq_ignore_ascii_case("true")),
            Some(v) => Err(cannot(v, "boolean")),
        }
    }

    fn to_byte(self) -> Result<i8> {
        match self {
            None => Err(missing("byte")),
            Some(Value::Byte(b)) => Ok(*b),
            Some(Value::String(s)) => parse(s, "byte"),
            Some(v) => Err(cannot(v, "byte")),
        }
    }

    fn to_short(self) -> Result<i16> {
        match self {
            None => Err(missing("short")),
            Some(Value::Byte(b)) => Ok(i16::from(*b)),
            Some(Value::Short(s)) => Ok(*s),
            Some(Value::String(s)) => parse(s, "short"),
            Some(v) => Err(cannot(v, "short")),
        }
    }

    fn to_char(self) -> Result<char> {
        match self {
            // Character has no valueOf(String); Java throws NullPointerException here.
            None => Err(missing("char")),
            Some(Value::Char(c)) => Ok(*c),
            Some(v) => Err(cannot(v, "char")),
        }
    }

    fn to_int(self) -> Result<i32> {
        match self {
            None => Err(missing("int")),
            Some(Value::Byte(b)) => Ok(i32::from(*b)),
            Some(Value::Short(s)) => Ok(i32::from(*s)),
            Some(Value::Int(i)) => Ok(*i),
            Some(Value::String(s)) => parse(s, "int"),
            Some(v) => Err(cannot(v, "int")),
        }
    }

    fn to_long(self) -> Result<i64> {
        match self {
            None => Err(missing("long")),
            Some(Value::Byte(b)) => Ok(i64::from(*b)),
            Some(Value::Short(s)) => Ok(i64::from(*s)),
            Some(Value::Int(i)) => Ok(i64::from(*i)),
            Some(Value::Long(l)) => Ok(*l),
            Some(Value::String(s)) => parse(s, "long"),
            Some(v) => Err(cannot(v, "long")),
        }
    }

    fn to_float(self) -> Result<f32> {
        match self {
            None => Err(missing("float")),
            Some(Value::Float(f)) => Ok(*f),
            Some(Value::String(s)) => super::java_float::parse_float(s).ok_or_else(|| unparsable(s, "float")),
            Some(v) => Err(cannot(v, "float")),
        }
    }

    fn to_double(self) -> Result<f64> {
        match self {
            None => Err(missing("double")),
            Some(Value::Float(f)) => Ok(f64::from(*f)),
            Some(Value::Double(d)) => Ok(*d),
            Some(Value::String(s)) => super::java_float::parse_double(s).ok_or_else(|| unparsable(s, "double")),
            Some(v) => Err(cannot(v, "double")),
        }
    }

    fn to_string_value(self) -> Result<Option<String>> {
        Ok(Some(match self {
            None => return Ok(None),
            Some(Value::Bool(b)) => b.to_string(),
            Some(Value::Byte(b)) => b.to_string(),
            Some(Value::Short(s)) => s.to_string(),
            Some(Value::Char(c)) => c.to_string(),
            Some(Value::Int(i)) => i.to_string(),
            Some(Value::Long(l)) => l.to_string(),
            Some(Value::Float(f)) => java_float_string(f64::from(*f), true),
            Some(Value::Double(d)) => java_float_string(*d, false),
            Some(Value::String(s)) => s.clone(),
            Some(v @ Value::Bytes(_)) => return Err(cannot(v, "String")),
        }))
    }

    fn to_bytes(self) -> Result<Option<Vec<u8>>> {
        match self {
            None => Ok(None),
            Some(Value::Bytes(b)) => Ok(Some(b.clone())),
            Some(v) => Err(cannot(v, "byte[]")),
        }
    }
}

/// Formats a float as `String.valueOf(double)` (or `(float)`, when `single`) does: the
/// shortest digits that read back to the same value, as a plain decimal from 10^-3 up to
/// 10^7 and as `d.dddE±n` outside that, always with a digit after the point; the
/// special values spelled as in Java.
fn java_float_string(v: f64, single: bool) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "Infinity".into() } else { "-Infinity".into() };
    }
    let magnitude = v.abs();
    if magnitude == 0.0 || (1e-3..1e7).contains(&magnitude) {
        let text = if single { format!("{}", v as f32) } else { format!("{v}") };
        if text.contains('.') { text } else { format!("{text}.0") }
    } else {
        let text = if single { format!("{:e}", v as f32) } else { format!("{v:e}") };
        let (mantissa, exponent) = text.split_once('e').unwrap_or((&text, "0"));
        let point = if mantissa.contains('.') { "" } else { ".0" };
        format!("{mantissa}{point}E{exponent}")
    }
}
