//! Selector text to tokens.
//!
//! Every token carries the character offset it starts at (not the byte offset), because
//! the position ends up in an `InvalidSelectorException` shown to a Java programmer, who
//! counts characters. Tokenizing the whole text up front keeps the parser free of
//! lookahead bookkeeping; selectors are short and parsed once per consumer.

use std::borrow::Cow;

use super::Error;

/// Most characters of a token an error message quotes: a selector may be megabytes
/// long, and its errors end up in logs and replies.
const EXCERPT_CHARS: usize = 40;

/// `text`, or its first [`EXCERPT_CHARS`] characters and how long it really is.
pub(super) fn excerpt(text: &str) -> Cow<'_, str> {
    match text.char_indices().nth(EXCERPT_CHARS) {
        None => Cow::Borrowed(text),
        Some((end, _)) => {
            Cow::Owned(format!("{}... ({} characters)", &text[..end], text.chars().count()))
        }
    }
}

/// The words the grammar reserves. They are matched case-insensitively and can never be
/// identifiers, so `null`, `And` or `escape` are not property names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Keyword {
    Null,
    True,
    False,
    Not,
    And,
    Or,
    Between,
    Like,
    In,
    Is,
    Escape,
}

impl Keyword {
    const ALL: [(Keyword, &'static str); 11] = [
        (Keyword::Null, "NULL"),
        (Keyword::True, "TRUE"),
        (Keyword::False, "FALSE"),
        (Keyword::Not, "NOT"),
        (Keyword::And, "AND"),
        (Keyword::Or, "OR"),
        (Keyword::Between, "BETWEEN"),
        (Keyword::Like, "LIKE"),
        (Keyword::In, "IN"),
        (Keyword::Is, "IS"),
        (Keyword::Escape, "ESCAPE"),
    ];

    fn lookup(word: &str) -> Option<Keyword> {
        Keyword::ALL.iter().find(|(_, name)| name.eq_ignore_ascii_case(word)).map(|&(kw, _)| kw)
    }

    pub(super) fn name(self) -> &'static str {
        Keyword::ALL.iter().find(|(kw, _)| *kw == self).map_or("?", |&(_, name)| name)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub(super) enum Tok<'s> {
    Ident(&'s str),
    Kw(Keyword),
    /// A string literal with its `''` escapes already undone.
    Str(String),
    /// An exact numeric literal without its sign. Kept unsigned so that
    /// `-9223372036854775808` can be folded by the parser: the magnitude alone does not
    /// fit an `i64`.
    Int(u64),
    Float(f64),
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Plus,
    Minus,
    Star,
    Slash,
    LParen,
    RParen,
    Comma,
    Eof,
}

impl Tok<'_> {
    /// How the token is named in "expected ... but found ..." messages.
    pub(super) fn describe(&self) -> String {
        match self {
            Tok::Ident(name) => format!("identifier '{}'", excerpt(name)),
            Tok::Kw(kw) => format!("'{}'", kw.name()),
            Tok::Str(s) => format!("string literal '{}'", excerpt(&s.replace('\'', "''"))),
            Tok::Int(v) => format!("number {v}"),
            Tok::Float(v) => format!("number {v:?}"),
            Tok::Eof => "end of input".to_string(),
            other => format!("'{}'", other.symbol()),
        }
    }

    fn symbol(&self) -> &'static str {
        match self {
            Tok::Eq => "=",
            Tok::Ne => "<>",
            Tok::Lt => "<",
            Tok::Le => "<=",
            Tok::Gt => ">",
            Tok::Ge => ">=",
            Tok::Plus => "+",
            Tok::Minus => "-",
            Tok::Star => "*",
            Tok::Slash => "/",
            Tok::LParen => "(",
            Tok::RParen => ")",
            Tok::Comma => ",",
            _ => "?",
        }
    }
}

#[derive(Clone, Debug)]
pub(super) struct Token<'s> {
    pub(super) tok: Tok<'s>,
    /// Character offset of the token's first character.
    pub(super) pos: usize,
}

/// Splits `text` into tokens, ending with [`Tok::Eof`] positioned after the last
/// character.
pub(super) fn tokenize(text: &str) -> Result<Vec<Token<'_>>, Error> {
    Lexer { text, chars: text.char_indices().collect(), i: 0 }.run()
}

struct Lexer<'s> {
    text: &'s str,
    /// (byte offset, char) for every character: index = character offset.
    chars: Vec<(usize, char)>,
    i: usize,
}

fn error(position: usize, message: impl Into<String>) -> Error {
    Error { position, message: message.into() }
}

/// Java's `Character.isJavaIdentifierStart`, close enough: letters of any script, `_`
/// and `$`.
fn ident_start(c: char) -> bool {
    c.is_alphabetic() || c == '_' || c == '$'
}

fn ident_part(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '$'
}

impl<'s> Lexer<'s> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.i).map(|&(_, c)| c)
    }

    fn peek_at(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.i + ahead).map(|&(_, c)| c)
    }

    fn byte(&self, i: usize) -> usize {
        self.chars.get(i).map_or(self.text.len(), |&(b, _)| b)
    }

    fn slice(&self, from: usize, to: usize) -> &'s str {
        let (from, to) = (self.byte(from), self.byte(to));
        self.text.get(from..to).unwrap_or("")
    }

    fn run(mut self) -> Result<Vec<Token<'s>>, Error> {
        let mut tokens = Vec::new();
        loop {
            while self.peek().is_some_and(char::is_whitespace) {
                self.i += 1;
            }
            let pos = self.i;
            let Some(c) = self.peek() else {
                tokens.push(Token { tok: Tok::Eof, pos });
                return Ok(tokens);
            };
            let tok = match c {
                '\'' => self.string()?,
                '0'..='9' => self.number()?,
                '.' if self.peek_at(1).is_some_and(|d| d.is_ascii_digit()) => self.number()?,
                c if ident_start(c) => self.word(),
                _ => self.symbol(c)?,
            };
            tokens.push(Token { tok, pos });
        }
    }

    fn string(&mut self) -> Result<Tok<'s>, Error> {
        let start = self.i;
        self.i += 1;
        let mut value = String::new();
        loop {
            match self.peek() {
                None => return Err(error(start, "unterminated string literal")),
                Some('\'') if self.peek_at(1) == Some('\'') => {
                    value.push('\'');
                    self.i += 2;
                }
                Some('\'') => {
                    self.i += 1;
                    return Ok(Tok::Str(value));
                }
                Some(c) => {
                    value.push(c);
                    self.i += 1;
                }
            }
        }
    }

    fn digits(&mut self) -> usize {
        let from = self.i;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
        }
        self.i - from
    }

    fn number(&mut self) -> Result<Tok<'s>, Error> {
        let start = self.i;
        let mut approximate = false;
        self.digits();
        if self.peek() == Some('.') {
            approximate = true;
            self.i += 1;
            self.digits();
        }
        if matches!(self.peek(), Some('e' | 'E')) {
            approximate = true;
            let exponent = self.i;
            self.i += 1;
            if matches!(self.peek(), Some('+' | '-')) {
                self.i += 1;
            }
            if self.digits() == 0 {
                return Err(error(
                    exponent,
                    "expected digits in the exponent of a numeric literal",
                ));
            }
        }
        if let Some(c) = self.peek().filter(|&c| ident_part(c) || c == '.') {
            return Err(error(self.i, format!("unexpected '{c}' in numeric literal")));
        }
        let literal = self.slice(start, self.i);
        if approximate {
            match literal.parse::<f64>() {
                Ok(v) if v.is_finite() => Ok(Tok::Float(v)),
                _ => Err(error(
                    start,
                    format!("approximate numeric literal {} is out of range", excerpt(literal)),
                )),
            }
        } else {
            literal.parse::<u64>().map(Tok::Int).map_err(|_| {
                error(start, format!("exact numeric literal {} is out of range", excerpt(literal)))
            })
        }
    }

    fn word(&mut self) -> Tok<'s> {
        let start = self.i;
        self.i += 1;
        while self.peek().is_some_and(ident_part) {
            self.i += 1;
        }
        let word = self.slice(start, self.i);
        Keyword::lookup(word).map_or(Tok::Ident(word), Tok::Kw)
    }

    fn symbol(&mut self, c: char) -> Result<Tok<'s>, Error> {
        let pos = self.i;
        let next = self.peek_at(1);
        let (tok, len) = match (c, next) {
            ('<', Some('>')) => (Tok::Ne, 2),
            ('<', Some('=')) => (Tok::Le, 2),
            ('>', Some('=')) => (Tok::Ge, 2),
            ('=', _) => (Tok::Eq, 1),
            ('<', _) => (Tok::Lt, 1),
            ('>', _) => (Tok::Gt, 1),
            ('+', _) => (Tok::Plus, 1),
            ('-', _) => (Tok::Minus, 1),
            ('*', _) => (Tok::Star, 1),
            ('/', _) => (Tok::Slash, 1),
            ('(', _) => (Tok::LParen, 1),
            (')', _) => (Tok::RParen, 1),
            (',', _) => (Tok::Comma, 1),
            ('!', Some('=')) => {
                return Err(error(pos, "unexpected '!='; the not-equal operator is '<>'"))
            }
            ('"', _) => {
                return Err(error(pos, "unexpected '\"'; string literals are in single quotes"))
            }
            _ => return Err(error(pos, format!("unexpected character '{c}'"))),
        };
        self.i += len;
        Ok(tok)
    }
}
