//! Evaluation against one message, in SQL's three-valued logic: `Some(true)` is TRUE,
//! `Some(false)` FALSE and `None` UNKNOWN.
//!
//! This runs for every message offered to every consumer with a selector, so it never
//! allocates: identifiers are resolved when parsing, literal strings are lent out as
//! `Cow::Borrowed`, and values the message lends stay borrowed.
//!
//! Where the spec leaves room, these choices hold:
//! - A missing property or header is NULL; any comparison or arithmetic with NULL is
//!   UNKNOWN.
//! - Comparing unlike types (a string with a number, a boolean with a number, ...) is
//!   FALSE, as the spec says, and so is ordering (`<`, `>`, ...) two strings or two
//!   booleans. A `'5'` property is never equal to `5`.
//! - Arithmetic on a value that is not a number is UNKNOWN. Long arithmetic that
//!   overflows is UNKNOWN rather than wrapping: a wrapped result would be a wrong number
//!   that might match. Long division by zero is UNKNOWN; double arithmetic follows IEEE
//!   (`1.0 / 0` is infinity, `0.0 / 0` is NaN, and NaN compares unequal to everything).
//! - LIKE and IN on a value that is not a string are UNKNOWN, so neither the plain nor
//!   the `NOT` form selects it.
//! - An identifier used as a condition is its boolean value; holding anything else, it is
//!   UNKNOWN.

use std::cmp::Ordering;

use super::expr::{ArithOp, CmpOp, Expr, Ident};
use super::{Filterable, Operand};

/// SQL's three-valued truth: `None` is UNKNOWN.
pub(crate) type Truth = Option<bool>;

impl Ident {
    #[inline]
    fn lookup<'a>(&self, message: &'a dyn Filterable) -> Option<Operand<'a>> {
        match self {
            Ident::Header(field) => message.header(*field),
            Ident::Property(name) => message.property(name),
        }
    }
}

impl Expr {
    /// The truth of a condition.
    pub(crate) fn test(&self, m: &dyn Filterable) -> Truth {
        match self {
            // AND: FALSE wins, then UNKNOWN; OR: TRUE wins, then UNKNOWN.
            Expr::And(items) => {
                let mut result = Some(true);
                for item in items.iter() {
                    match item.test(m) {
                        Some(false) => return Some(false),
                        None => result = None,
                        Some(true) => {}
                    }
                }
                result
            }
            Expr::Or(items) => {
                let mut result = Some(false);
                for item in items.iter() {
                    match item.test(m) {
                        Some(true) => return Some(true),
                        None => result = None,
                        Some(false) => {}
                    }
                }
                result
            }
            Expr::Not(inner) => inner.test(m).map(|b| !b),
            Expr::Compare { op, left, right } => {
                let left = left.value(m)?;
                let right = right.value(m)?;
                Some(compare(*op, &left, &right))
            }
            Expr::CompareLiteral { op, ident, literal } => {
                Some(compare(*op, &ident.lookup(m)?, &literal.operand()))
            }
            Expr::Between { value, low, high, negated } => {
                // `v BETWEEN a AND b` is `a <= v AND v <= b`, with UNKNOWN flowing through
                // both the AND and the NOT of `NOT BETWEEN`.
                let value = value.value(m);
                let above_low = compare_nullable(CmpOp::Ge, value.as_ref(), low.value(m).as_ref());
                let within = if above_low == Some(false) {
                    Some(false)
                } else {
                    let below_high =
                        compare_nullable(CmpOp::Le, value.as_ref(), high.value(m).as_ref());
                    match (above_low, below_high) {
                        (_, Some(false)) => Some(false),
                        (Some(true), Some(true)) => Some(true),
                        _ => None,
                    }
                };
                within.map(|b| b != *negated)
            }
            Expr::In { ident, set, negated } => match ident.lookup(m)? {
                Operand::Str(s) => Some(set.contains(&s) != *negated),
                _ => None,
            },
            Expr::Like { ident, pattern, negated } => match ident.lookup(m)? {
                Operand::Str(s) => Some(pattern.matches(&s) != *negated),
                _ => None,
            },
            Expr::IsNull { ident, negated } => Some(ident.lookup(m).is_none() != *negated),
            Expr::Ident(ident) => match ident.lookup(m)? {
                Operand::Bool(b) => Some(b),
                _ => None,
            },
            Expr::Lit(lit) => match lit.operand() {
                Operand::Bool(b) => Some(b),
                _ => None,
            },
            // The parser never puts arithmetic where a condition goes.
            Expr::Arith { .. } | Expr::Neg(_) | Expr::Pos(_) => None,
        }
    }

    /// The value of an operand; `None` is NULL (which is also how an UNKNOWN condition
    /// reads when compared, as in `(a = 1) = TRUE`).
    fn value<'a>(&'a self, m: &'a dyn Filterable) -> Option<Operand<'a>> {
        match self {
            Expr::Ident(ident) => ident.lookup(m),
            Expr::Lit(lit) => Some(lit.operand()),
            Expr::Arith { op, left, right } => {
                let left = left.value(m)?;
                let right = right.value(m)?;
                arithmetic(*op, &left, &right)
            }
            Expr::Neg(inner) => match inner.value(m)? {
                Operand::Long(v) => v.checked_neg().map(Operand::Long),
                Operand::Double(v) => Some(Operand::Double(-v)),
                _ => None,
            },
            Expr::Pos(inner) => match inner.value(m)? {
                v @ (Operand::Long(_) | Operand::Double(_)) => Some(v),
                _ => None,
            },
            condition => condition.test(m).map(Operand::Bool),
        }
    }
}

fn compare_nullable(op: CmpOp, left: Option<&Operand<'_>>, right: Option<&Operand<'_>>) -> Truth {
    Some(compare(op, left?, right?))
}

/// Compares two present values. Unlike types are FALSE whatever the operator, `<>`
/// included: the spec makes the comparison false, not its negation true.
#[inline]
fn compare(op: CmpOp, left: &Operand<'_>, right: &Operand<'_>) -> bool {
    match (left, right) {
        (Operand::Long(a), Operand::Long(b)) => ordered(op, a.cmp(b)),
        (Operand::Long(a), Operand::Double(b)) => compare_doubles(op, *a as f64, *b),
        (Operand::Double(a), Operand::Long(b)) => compare_doubles(op, *a, *b as f64),
        (Operand::Double(a), Operand::Double(b)) => compare_doubles(op, *a, *b),
        (Operand::Str(a), Operand::Str(b)) => equality(op, a == b),
        (Operand::Bool(a), Operand::Bool(b)) => equality(op, a == b),
        _ => false,
    }
}

fn ordered(op: CmpOp, ordering: Ordering) -> bool {
    match op {
        CmpOp::Eq => ordering == Ordering::Equal,
        CmpOp::Ne => ordering != Ordering::Equal,
        CmpOp::Lt => ordering == Ordering::Less,
        CmpOp::Le => ordering != Ordering::Greater,
        CmpOp::Gt => ordering == Ordering::Greater,
        CmpOp::Ge => ordering != Ordering::Less,
    }
}

/// IEEE comparison, as Java's: NaN is unequal to everything, itself included.
fn compare_doubles(op: CmpOp, a: f64, b: f64) -> bool {
    match op {
        CmpOp::Eq => a == b,
        CmpOp::Ne => a != b,
        CmpOp::Lt => a < b,
        CmpOp::Le => a <= b,
        CmpOp::Gt => a > b,
        CmpOp::Ge => a >= b,
    }
}

/// Strings and booleans have no order; ordering them is FALSE.
fn equality(op: CmpOp, equal: bool) -> bool {
    match op {
        CmpOp::Eq => equal,
        CmpOp::Ne => !equal,
        _ => false,
    }
}

fn arithmetic<'a>(op: ArithOp, left: &Operand<'_>, right: &Operand<'_>) -> Option<Operand<'a>> {
    match (left, right) {
        (Operand::Long(a), Operand::Long(b)) => {
            let (a, b) = (*a, *b);
            match op {
                ArithOp::Add => a.checked_add(b),
                ArithOp::Sub => a.checked_sub(b),
                ArithOp::Mul => a.checked_mul(b),
                // None for a zero divisor and for i64::MIN / -1.
                ArithOp::Div => a.checked_div(b),
            }
            .map(Operand::Long)
        }
        (Operand::Long(a), Operand::Double(b)) => Some(double_arithmetic(op, *a as f64, *b)),
        (Operand::Double(a), Operand::Long(b)) => Some(double_arithmetic(op, *a, *b as f64)),
        (Operand::Double(a), Operand::Double(b)) => Some(double_arithmetic(op, *a, *b)),
        _ => None,
    }
}

fn double_arithmetic<'a>(op: ArithOp, a: f64, b: f64) -> Operand<'a> {
    Operand::Double(match op {
        ArithOp::Add => a + b,
        ArithOp::Sub => a - b,
        ArithOp::Mul => a * b,
        ArithOp::Div => a / b,
    })
}
