//! The parsed form of a selector.
//!
//! One tree holds both conditions (three-valued) and values (operands). The parser has
//! already rejected every combination whose types are known to be wrong, so evaluation
//! only has to cope with what property values turn out to be at run time.

use super::like::LikePattern;
use super::{HeaderField, Operand};

#[derive(Clone, Debug)]
pub(crate) enum Expr {
    /// Chained ORs, flattened so `a OR b OR c` is one node and evaluation is a loop.
    Or(Box<[Expr]>),
    /// Chained ANDs, flattened like [`Expr::Or`].
    And(Box<[Expr]>),
    Not(Box<Expr>),
    Compare {
        op: CmpOp,
        left: Box<Expr>,
        right: Box<Expr>,
    },
    /// `identifier op literal` (or the mirror image), by far the most common comparison,
    /// kept apart so evaluation skips the generic operand path.
    CompareLiteral {
        op: CmpOp,
        ident: Ident,
        literal: Literal,
    },
    /// `value [NOT] BETWEEN low AND high`, kept whole so `value` is looked up once.
    Between {
        value: Box<Expr>,
        low: Box<Expr>,
        high: Box<Expr>,
        negated: bool,
    },
    In {
        ident: Ident,
        set: StrSet,
        negated: bool,
    },
    Like {
        ident: Ident,
        pattern: LikePattern,
        negated: bool,
    },
    IsNull {
        ident: Ident,
        negated: bool,
    },
    Arith {
        op: ArithOp,
        left: Box<Expr>,
        right: Box<Expr>,
    },
    Neg(Box<Expr>),
    /// Unary `+`: keeps the "must be a number" check for an identifier operand.
    Pos(Box<Expr>),
    Ident(Ident),
    Lit(Literal),
}

/// An identifier, resolved when parsing so evaluation never compares names to decide
/// whether something is a header.
#[derive(Clone, Debug)]
pub(crate) enum Ident {
    Header(HeaderField),
    Property(Box<str>),
}

impl Ident {
    pub(crate) fn new(name: &str) -> Ident {
        let header = match name {
            "JMSDeliveryMode" => HeaderField::DeliveryMode,
            "JMSPriority" => HeaderField::Priority,
            "JMSMessageID" => HeaderField::MessageId,
            "JMSTimestamp" => HeaderField::Timestamp,
            "JMSCorrelationID" => HeaderField::CorrelationId,
            "JMSType" => HeaderField::Type,
            _ => return Ident::Property(name.into()),
        };
        Ident::Header(header)
    }
}

#[derive(Clone, Debug)]
pub(crate) enum Literal {
    Bool(bool),
    Long(i64),
    Double(f64),
    Str(Box<str>),
}

impl Literal {
    pub(crate) fn operand(&self) -> Operand<'_> {
        match self {
            Literal::Bool(b) => Operand::Bool(*b),
            Literal::Long(v) => Operand::Long(*v),
            Literal::Double(v) => Operand::Double(*v),
            Literal::Str(s) => Operand::Str(std::borrow::Cow::Borrowed(s)),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    /// Whether the operator orders its operands, which strings and booleans do not allow.
    pub(crate) fn is_ordering(self) -> bool {
        !matches!(self, CmpOp::Eq | CmpOp::Ne)
    }

    /// The operator with its operands swapped: `a < b` is `b > a`.
    pub(crate) fn mirrored(self) -> CmpOp {
        match self {
            CmpOp::Lt => CmpOp::Gt,
            CmpOp::Le => CmpOp::Ge,
            CmpOp::Gt => CmpOp::Lt,
            CmpOp::Ge => CmpOp::Le,
            same => same,
        }
    }

    pub(crate) fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "=",
            CmpOp::Ne => "<>",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ArithOp {
    Add,
    Sub,
    Mul,
    Div,
}

/// The string literals of an `IN` list. Short lists (the usual two or three entries)
/// are scanned, since that beats hashing a borrowed string; long ones are sorted once
/// and binary-searched.
#[derive(Clone, Debug)]
pub(crate) struct StrSet {
    items: Box<[Box<str>]>,
}

impl StrSet {
    const SCAN_LIMIT: usize = 8;

    pub(crate) fn new(mut items: Vec<Box<str>>) -> StrSet {
        items.sort_unstable();
        items.dedup();
        StrSet { items: items.into_boxed_slice() }
    }

    pub(crate) fn contains(&self, value: &str) -> bool {
        if self.items.len() <= StrSet::SCAN_LIMIT {
            self.items.iter().any(|item| **item == *value)
        } else {
            self.items.binary_search_by(|item| (**item).cmp(value)).is_ok()
        }
    }
}
