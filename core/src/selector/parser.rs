//! Recursive descent over the selector grammar, one function per precedence level:
//! OR, AND, NOT, comparison, additive, multiplicative, unary, primary.
//!
//! Besides building the [`Expr`], the parser tracks the static type of every
//! sub-expression. Identifiers have no type until a message supplies a value, but
//! literals and operators do, so misuse the spec's grammar does not allow (`'a' + 1`,
//! `TRUE > 3`, `'a' = 1`, `'x' BETWEEN 1 AND 2`, a bare `5` as the whole selector) is
//! rejected here with a position instead of quietly never matching. Where an identifier
//! is involved the same misuse can only be seen at evaluation, which makes it FALSE or
//! UNKNOWN (see `eval`).

use std::mem;

use super::expr::{ArithOp, CmpOp, Expr, Ident, Literal, StrSet};
use super::lexer::{excerpt, tokenize, Keyword, Tok, Token};
use super::like::LikePattern;
use super::Error;

/// How deep parentheses, `NOT`s, unary signs and operator chains may nest. Parsing and
/// evaluation recurse, so without a bound a hostile selector such as ten thousand `(`
/// would overflow the stack; no selector written by a person comes close.
pub(crate) const MAX_DEPTH: usize = 64;

/// What an expression is known to produce before any message is seen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ty {
    /// A condition or boolean literal: TRUE, FALSE or UNKNOWN.
    Bool,
    Num,
    Str,
    /// An identifier: anything, or nothing (NULL), depending on the message.
    Any,
}

impl Ty {
    fn name(self) -> &'static str {
        match self {
            Ty::Bool => "a boolean",
            Ty::Num => "a number",
            Ty::Str => "a string",
            Ty::Any => "a value",
        }
    }
}

/// An expression with what the parser knows about it.
struct Node {
    expr: Expr,
    ty: Ty,
    /// Character offset where the expression starts, for errors about it as a whole.
    pos: usize,
    /// Height of the expression tree, bounded by [`MAX_DEPTH`].
    depth: usize,
}

pub(crate) fn parse(text: &str) -> Result<Expr, Error> {
    let mut parser = Parser { tokens: tokenize(text)?, i: 0, nesting: 0 };
    let condition = parser.or()?;
    if *parser.peek() != Tok::Eof {
        return Err(parser.unexpected("an operator or end of input"));
    }
    require_condition(&condition)?;
    Ok(condition.expr)
}

fn error(position: usize, message: impl Into<String>) -> Error {
    Error { position, message: message.into() }
}

fn node(expr: Expr, ty: Ty, pos: usize, depth: usize) -> Result<Node, Error> {
    if depth > MAX_DEPTH {
        return Err(error(pos, format!("selector is nested more than {MAX_DEPTH} levels deep")));
    }
    Ok(Node { expr, ty, pos, depth })
}

/// Conditions are what AND, OR, NOT and the selector as a whole combine. An identifier
/// qualifies because it may hold a boolean; a number or string never does.
fn require_condition(n: &Node) -> Result<(), Error> {
    match n.ty {
        Ty::Bool | Ty::Any => Ok(()),
        ty => Err(error(n.pos, format!("expected a condition but found {}", ty.name()))),
    }
}

fn require_number(n: &Node, operator: &str) -> Result<(), Error> {
    match n.ty {
        Ty::Num | Ty::Any => Ok(()),
        ty => Err(error(n.pos, format!("{operator} needs a number but found {}", ty.name()))),
    }
}

/// The spec allows IN, LIKE and IS NULL only on an identifier.
fn require_ident(n: Node, operator: &str) -> Result<Ident, Error> {
    match n.expr {
        Expr::Ident(ident) => Ok(ident),
        _ => Err(error(n.pos, format!("{operator} needs an identifier on its left"))),
    }
}

/// Only like types compare (numbers with numbers, long or double), and strings and
/// booleans only for (in)equality. When one side is an identifier the answer waits for
/// the message.
fn check_comparison(op: CmpOp, left: &Node, right: &Node, op_pos: usize) -> Result<(), Error> {
    let (l, r) = (left.ty, right.ty);
    if l == Ty::Any || r == Ty::Any {
        return Ok(());
    }
    if l != r {
        return Err(error(op_pos, format!("cannot compare {} with {}", l.name(), r.name())));
    }
    if l != Ty::Num && op.is_ordering() {
        return Err(error(
            op_pos,
            format!("{} can only be compared with '=' or '<>', not '{}'", l.name(), op.symbol()),
        ));
    }
    Ok(())
}

fn cmp_op(tok: &Tok<'_>) -> Option<CmpOp> {
    Some(match tok {
        Tok::Eq => CmpOp::Eq,
        Tok::Ne => CmpOp::Ne,
        Tok::Lt => CmpOp::Lt,
        Tok::Le => CmpOp::Le,
        Tok::Gt => CmpOp::Gt,
        Tok::Ge => CmpOp::Ge,
        _ => return None,
    })
}

/// Appends a condition to an AND/OR list, splicing in a parenthesized list of the same
/// kind so `(a AND b) AND c` evaluates as one flat loop too.
fn push_flat(items: &mut Vec<Expr>, expr: Expr, is_or: bool) {
    match expr {
        Expr::Or(inner) if is_or => items.extend(inner.into_vec()),
        Expr::And(inner) if !is_or => items.extend(inner.into_vec()),
        other => items.push(other),
    }
}

struct Parser<'s> {
    /// Always ends with [`Tok::Eof`].
    tokens: Vec<Token<'s>>,
    i: usize,
    /// Current recursion through parentheses, NOT and unary signs.
    nesting: usize,
}

impl<'s> Parser<'s> {
    fn current(&self) -> Option<&Token<'s>> {
        self.tokens.get(self.i).or_else(|| self.tokens.last())
    }

    fn peek(&self) -> &Tok<'s> {
        self.current().map_or(&Tok::Eof, |t| &t.tok)
    }

    fn peek_kw(&self, kw: Keyword) -> bool {
        *self.peek() == Tok::Kw(kw)
    }

    fn pos(&self) -> usize {
        self.current().map_or(0, |t| t.pos)
    }

    /// Takes the current token and moves past it; at the end it keeps returning EOF.
    fn bump(&mut self) -> Tok<'s> {
        if self.i + 1 >= self.tokens.len() {
            return Tok::Eof;
        }
        let tok =
            self.tokens.get_mut(self.i).map_or(Tok::Eof, |t| mem::replace(&mut t.tok, Tok::Eof));
        self.i += 1;
        tok
    }

    fn unexpected(&self, expected: &str) -> Error {
        error(self.pos(), format!("expected {expected} but found {}", self.peek().describe()))
    }

    fn expect(&mut self, tok: Tok<'static>, expected: &str) -> Result<(), Error> {
        if *self.peek() == tok {
            self.bump();
            Ok(())
        } else {
            Err(self.unexpected(expected))
        }
    }

    fn enter(&mut self, pos: usize) -> Result<(), Error> {
        self.nesting += 1;
        if self.nesting > MAX_DEPTH {
            return Err(error(
                pos,
                format!("selector is nested more than {MAX_DEPTH} levels deep"),
            ));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.nesting = self.nesting.saturating_sub(1);
    }

    fn or(&mut self) -> Result<Node, Error> {
        self.logical(Keyword::Or)
    }

    fn and(&mut self) -> Result<Node, Error> {
        self.logical(Keyword::And)
    }

    /// OR and AND differ only in their operand level and the node they build.
    fn logical(&mut self, kw: Keyword) -> Result<Node, Error> {
        let is_or = kw == Keyword::Or;
        let operand = |p: &mut Parser<'s>| if is_or { p.and() } else { p.not() };
        let first = operand(self)?;
        if !self.peek_kw(kw) {
            return Ok(first);
        }
        require_condition(&first)?;
        let (pos, mut depth) = (first.pos, first.depth);
        let mut items = Vec::new();
        push_flat(&mut items, first.expr, is_or);
        while self.peek_kw(kw) {
            self.bump();
            let next = operand(self)?;
            require_condition(&next)?;
            depth = depth.max(next.depth);
            push_flat(&mut items, next.expr, is_or);
        }
        let items = items.into_boxed_slice();
        let expr = if is_or { Expr::Or(items) } else { Expr::And(items) };
        node(expr, Ty::Bool, pos, depth + 1)
    }

    fn not(&mut self) -> Result<Node, Error> {
        if !self.peek_kw(Keyword::Not) {
            return self.comparison();
        }
        let pos = self.pos();
        self.bump();
        self.enter(pos)?;
        let operand = self.not()?;
        self.leave();
        require_condition(&operand)?;
        node(Expr::Not(Box::new(operand.expr)), Ty::Bool, pos, operand.depth + 1)
    }

    fn comparison(&mut self) -> Result<Node, Error> {
        let left = self.additive()?;
        let op_pos = self.pos();
        let result = if let Some(op) = cmp_op(self.peek()) {
            self.bump();
            let right = self.additive()?;
            check_comparison(op, &left, &right, op_pos)?;
            let depth = left.depth.max(right.depth) + 1;
            let expr = match (left.expr, right.expr) {
                (Expr::Ident(ident), Expr::Lit(literal)) => {
                    Expr::CompareLiteral { op, ident, literal }
                }
                (Expr::Lit(literal), Expr::Ident(ident)) => {
                    Expr::CompareLiteral { op: op.mirrored(), ident, literal }
                }
                (l, r) => Expr::Compare { op, left: Box::new(l), right: Box::new(r) },
            };
            node(expr, Ty::Bool, left.pos, depth)?
        } else {
            let negated = self.peek_kw(Keyword::Not);
            if negated {
                self.bump();
                if !matches!(self.peek(), Tok::Kw(Keyword::Between | Keyword::Like | Keyword::In)) {
                    return Err(self.unexpected("BETWEEN, LIKE or IN after NOT"));
                }
            }
            match self.peek() {
                Tok::Kw(Keyword::Between) => self.between(left, negated)?,
                Tok::Kw(Keyword::Like) => self.like(left, negated)?,
                Tok::Kw(Keyword::In) => self.in_list(left, negated)?,
                Tok::Kw(Keyword::Is) => self.is_null(left)?,
                _ => return Ok(left),
            }
        };
        if cmp_op(self.peek()).is_some()
            || matches!(
                self.peek(),
                Tok::Kw(Keyword::Between | Keyword::Like | Keyword::In | Keyword::Is)
            )
        {
            return Err(error(
                self.pos(),
                format!(
                    "unexpected {} after a comparison; comparisons do not chain, use parentheses",
                    self.peek().describe()
                ),
            ));
        }
        Ok(result)
    }

    fn between(&mut self, value: Node, negated: bool) -> Result<Node, Error> {
        self.bump();
        require_number(&value, "BETWEEN")?;
        let low = self.additive()?;
        require_number(&low, "BETWEEN")?;
        self.expect(Tok::Kw(Keyword::And), "AND between the bounds of BETWEEN")?;
        let high = self.additive()?;
        require_number(&high, "BETWEEN")?;
        let depth = value.depth.max(low.depth).max(high.depth) + 1;
        let expr = Expr::Between {
            value: Box::new(value.expr),
            low: Box::new(low.expr),
            high: Box::new(high.expr),
            negated,
        };
        node(expr, Ty::Bool, value.pos, depth)
    }

    fn string_literal(&mut self, expected: &str) -> Result<(String, usize), Error> {
        let pos = self.pos();
        match self.peek() {
            Tok::Str(_) => match self.bump() {
                Tok::Str(s) => Ok((s, pos)),
                _ => Err(self.unexpected(expected)),
            },
            _ => Err(self.unexpected(expected)),
        }
    }

    fn like(&mut self, value: Node, negated: bool) -> Result<Node, Error> {
        self.bump();
        let pos = value.pos;
        let ident = require_ident(value, "LIKE")?;
        let (pattern, pattern_pos) = self.string_literal("a string literal pattern after LIKE")?;
        let escape = if self.peek_kw(Keyword::Escape) {
            self.bump();
            let (escape, escape_pos) = self.string_literal("a string literal after ESCAPE")?;
            let mut chars = escape.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) => Some(c),
                _ => {
                    return Err(error(
                        escape_pos,
                        format!("ESCAPE needs exactly one character but found '{}'", excerpt(&escape)),
                    ))
                }
            }
        } else {
            None
        };
        let pattern = LikePattern::compile(&pattern, escape).map_err(|m| error(pattern_pos, m))?;
        node(Expr::Like { ident, pattern, negated }, Ty::Bool, pos, 1)
    }

    fn in_list(&mut self, value: Node, negated: bool) -> Result<Node, Error> {
        self.bump();
        let pos = value.pos;
        let ident = require_ident(value, "IN")?;
        self.expect(Tok::LParen, "'(' after IN")?;
        let mut items = Vec::new();
        loop {
            let (item, _) = self.string_literal("a string literal in the IN list")?;
            items.push(item.into_boxed_str());
            match self.peek() {
                Tok::Comma => {
                    self.bump();
                }
                Tok::RParen => {
                    self.bump();
                    break;
                }
                _ => return Err(self.unexpected("',' or ')' in the IN list")),
            }
        }
        node(Expr::In { ident, set: StrSet::new(items), negated }, Ty::Bool, pos, 1)
    }

    fn is_null(&mut self, value: Node) -> Result<Node, Error> {
        self.bump();
        let pos = value.pos;
        let ident = require_ident(value, "IS NULL")?;
        let negated = self.peek_kw(Keyword::Not);
        if negated {
            self.bump();
        }
        self.expect(
            Tok::Kw(Keyword::Null),
            if negated { "NULL after IS NOT" } else { "NULL or NOT after IS" },
        )?;
        node(Expr::IsNull { ident, negated }, Ty::Bool, pos, 1)
    }

    fn additive(&mut self) -> Result<Node, Error> {
        let mut left = self.multiplicative()?;
        loop {
            let op = match self.peek() {
                Tok::Plus => ArithOp::Add,
                Tok::Minus => ArithOp::Sub,
                _ => return Ok(left),
            };
            left = self.arith(left, op, Parser::multiplicative)?;
        }
    }

    fn multiplicative(&mut self) -> Result<Node, Error> {
        let mut left = self.unary()?;
        loop {
            let op = match self.peek() {
                Tok::Star => ArithOp::Mul,
                Tok::Slash => ArithOp::Div,
                _ => return Ok(left),
            };
            left = self.arith(left, op, Parser::unary)?;
        }
    }

    fn arith(
        &mut self,
        left: Node,
        op: ArithOp,
        operand: fn(&mut Parser<'s>) -> Result<Node, Error>,
    ) -> Result<Node, Error> {
        let name = match op {
            ArithOp::Add => "'+'",
            ArithOp::Sub => "'-'",
            ArithOp::Mul => "'*'",
            ArithOp::Div => "'/'",
        };
        require_number(&left, name)?;
        self.bump();
        let right = operand(self)?;
        require_number(&right, name)?;
        let depth = left.depth.max(right.depth) + 1;
        let expr = Expr::Arith { op, left: Box::new(left.expr), right: Box::new(right.expr) };
        node(expr, Ty::Num, left.pos, depth)
    }

    fn unary(&mut self) -> Result<Node, Error> {
        let pos = self.pos();
        let negate = match self.peek() {
            Tok::Minus => true,
            Tok::Plus => false,
            _ => return self.primary(),
        };
        self.bump();
        // A sign directly on an exact literal belongs to the literal: the magnitude of
        // -9223372036854775808 does not fit an i64 on its own.
        if let Tok::Int(magnitude) = *self.peek() {
            let value = if negate {
                0i64.checked_sub_unsigned(magnitude)
            } else {
                i64::try_from(magnitude).ok()
            };
            let Some(value) = value else {
                return Err(error(pos, "exact numeric literal is out of range"));
            };
            self.bump();
            return node(Expr::Lit(Literal::Long(value)), Ty::Num, pos, 0);
        }
        self.enter(pos)?;
        let operand = self.unary()?;
        self.leave();
        require_number(&operand, if negate { "unary '-'" } else { "unary '+'" })?;
        let expr = match (negate, operand.expr) {
            (true, Expr::Lit(Literal::Double(v))) => Expr::Lit(Literal::Double(-v)),
            (false, lit @ Expr::Lit(Literal::Double(_) | Literal::Long(_))) => lit,
            (true, Expr::Lit(Literal::Long(v))) if v != i64::MIN => Expr::Lit(Literal::Long(-v)),
            (true, other) => Expr::Neg(Box::new(other)),
            (false, other) => Expr::Pos(Box::new(other)),
        };
        let depth = if matches!(expr, Expr::Lit(_)) { 0 } else { operand.depth + 1 };
        node(expr, Ty::Num, pos, depth)
    }

    fn primary(&mut self) -> Result<Node, Error> {
        let pos = self.pos();
        let (expr, ty) = match self.peek() {
            Tok::Ident(name) => (Expr::Ident(Ident::new(name)), Ty::Any),
            Tok::Kw(Keyword::True) => (Expr::Lit(Literal::Bool(true)), Ty::Bool),
            Tok::Kw(Keyword::False) => (Expr::Lit(Literal::Bool(false)), Ty::Bool),
            Tok::Int(v) => match i64::try_from(*v) {
                Ok(v) => (Expr::Lit(Literal::Long(v)), Ty::Num),
                Err(_) => {
                    return Err(error(pos, format!("exact numeric literal {v} is out of range")))
                }
            },
            Tok::Float(v) => (Expr::Lit(Literal::Double(*v)), Ty::Num),
            Tok::Str(_) => match self.bump() {
                Tok::Str(s) => return node(Expr::Lit(Literal::Str(s.into())), Ty::Str, pos, 0),
                _ => return Err(self.unexpected("a string literal")),
            },
            Tok::LParen => {
                self.bump();
                self.enter(pos)?;
                let inner = self.or()?;
                self.expect(Tok::RParen, "')'")?;
                self.leave();
                // Errors about a parenthesized operand point at its '('.
                return Ok(Node { pos, ..inner });
            }
            Tok::Kw(Keyword::Null) => {
                return Err(error(pos, "NULL is only allowed in IS NULL and IS NOT NULL"));
            }
            _ => return Err(self.unexpected("an identifier, a literal or '('")),
        };
        self.bump();
        node(expr, ty, pos, 0)
    }
}
