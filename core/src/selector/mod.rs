//! Message selectors: the JMS 2.0 / Jakarta Messaging 3.1 SQL-92 subset, parsed once per
//! consumer and evaluated on the delivery path.
//!
//! This module owns the whole selector language: tokenizing (`lexer`), parsing with type
//! checks of literals (`parser`), the expression tree (`expr`), `LIKE` patterns (`like`),
//! evaluation in three-valued logic (`eval`, whose doc lists the choices made where the
//! spec is loose) and a cache of parsed selectors ([`SelectorCache`]).
//!
//! The selector sees a message only through [`Filterable`], so it depends on nothing
//! else in the crate.
//!
//! Identifiers resolve when parsing: exactly `JMSDeliveryMode`, `JMSPriority`,
//! `JMSMessageID`, `JMSTimestamp`, `JMSCorrelationID` and `JMSType` are headers; every
//! other name, `JMSX...` and the other `JMS...` names included, is a property.

mod cache;
mod eval;
mod expr;
mod lexer;
mod like;
mod parser;
#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

pub use cache::SelectorCache;

/// The longest selector text accepted, in bytes (1 MiB: an `IN` list of some 25,000
/// IDs). Parsing holds tens of bytes per character for a moment, so a selector as large
/// as a frame may be (16 MiB) would cost hundreds of megabytes.
pub const MAX_SELECTOR_BYTES: usize = 1 << 20;

/// A value a selector identifier resolves to. Integer property types widen to `Long`,
/// `float` to `Double`; `char` and `byte[]` never reach a selector.
#[derive(Clone, Debug, PartialEq)]
pub enum Operand<'a> {
    Bool(bool),
    Long(i64),
    Double(f64),
    Str(Cow<'a, str>),
}

/// The header fields a selector may reference. Every other `JMS...` name is an ordinary,
/// usually missing, property.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeaderField {
    /// Resolves to the string 'PERSISTENT' or 'NON_PERSISTENT'.
    DeliveryMode,
    Priority,
    MessageId,
    Timestamp,
    CorrelationId,
    Type,
}

/// What a selector can ask of a message.
pub trait Filterable {
    /// A header field; `None` when the message does not have it (no correlation ID, ...).
    fn header(&self, field: HeaderField) -> Option<Operand<'_>>;
    /// A property (including `JMSX...` ones such as `JMSXDeliveryCount`); `None` when
    /// absent.
    fn property(&self, name: &str) -> Option<Operand<'_>>;
}

/// A selector that does not parse: where, and what was expected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid selector at position {position}: {message}")]
pub struct Error {
    /// Character offset (0-based) into the selector text.
    pub position: usize,
    pub message: String,
}

impl From<Error> for crate::Error {
    fn from(e: Error) -> crate::Error {
        crate::Error::new(crate::ErrorKind::InvalidSelector, e.to_string())
    }
}

/// A parsed selector. Cloning is cheap: clones share the parsed form.
#[derive(Clone)]
pub struct Selector {
    inner: Arc<Parsed>,
}

struct Parsed {
    text: Box<str>,
    expr: expr::Expr,
}

impl fmt::Debug for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Selector").field(&self.text()).finish()
    }
}

impl Selector {
    /// Parses a selector. An empty or whitespace-only text is not a selector at all; the
    /// caller treats it as "select everything" (see [`Selector::parse_optional`]).
    pub fn parse(text: &str) -> Result<Selector, Error> {
        if text.len() > MAX_SELECTOR_BYTES {
            return Err(Error {
                position: 0,
                message: format!(
                    "the selector has {} bytes; at most {MAX_SELECTOR_BYTES} are allowed",
                    text.len()
                ),
            });
        }
        let expr = parser::parse(text)?;
        Ok(Selector { inner: Arc::new(Parsed { text: text.into(), expr }) })
    }

    /// `None` for an absent, empty or whitespace-only selector, which selects everything.
    pub fn parse_optional(text: Option<&str>) -> Result<Option<Selector>, Error> {
        match text {
            Some(t) if !t.trim().is_empty() => Selector::parse(t).map(Some),
            _ => Ok(None),
        }
    }

    pub fn text(&self) -> &str {
        &self.inner.text
    }

    /// True only when the selector evaluates to TRUE for this message; FALSE and UNKNOWN
    /// both leave the message out.
    pub fn matches(&self, message: &dyn Filterable) -> bool {
        self.evaluate(message) == Some(true)
    }

    /// The selector's three-valued result: `Some(true)` TRUE, `Some(false)` FALSE, `None`
    /// UNKNOWN. Only [`Selector::matches`] matters for delivery; this tells the two ways of
    /// not matching apart.
    pub fn evaluate(&self, message: &dyn Filterable) -> Option<bool> {
        self.inner.expr.test(message)
    }
}
