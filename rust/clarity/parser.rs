//! Lexer and parser: Clarity source text to expressions with line:column positions.

use std::fmt;

use super::ops::{self, Op};

use super::types::{
    is_clarity_ascii, valid_contract_name, Name, Principal, StandardPrincipal, TraitId, Value,
    MAX_VALUE_SIZE,
};

/// Largest accepted source text (bytes).
pub const MAX_SOURCE_LEN: usize = 1 << 20;
/// Deepest nesting of parentheses and braces.
pub const MAX_NESTING: u32 = 64;
/// Longest identifier.
pub const MAX_IDENT_LEN: usize = 128;

/// A 1-based line and column in the source text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, PartialOrd, Ord)]
pub struct Span {
    pub line: u32,
    pub col: u32,
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.col)
    }
}

/// An error with its position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub span: Span,
    pub message: String,
}

impl Diagnostic {
    pub fn new(span: Span, message: impl Into<String>) -> Self {
        Diagnostic {
            span,
            message: message.into(),
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.span, self.message)
    }
}

/// A parsed expression.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
    /// The builtin or keyword an atom names ([`ops::PLAIN`] otherwise), resolved here once
    /// so the evaluator dispatches on it.
    pub op: Op,
    /// In a function body, the position among the call's locals of the binding this atom
    /// names ([`super::slots`]); [`Expr::NO_SLOT`] otherwise.
    pub slot: u16,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    /// An identifier or keyword.
    Atom(Name),
    /// A literal value (numbers, strings, buffers, principals).
    Literal(Value),
    /// `( … )`; a tuple literal `{a: 1}` becomes `(tuple (a 1))`.
    List(Vec<Expr>),
    /// `<name>` in a type position.
    TraitRef(Name),
    /// `'SP….contract.trait` or `.contract.trait`.
    TraitLiteral(TraitId),
}

impl Expr {
    /// No local slot: the name is looked up.
    pub const NO_SLOT: u16 = u16::MAX;

    pub fn new(kind: ExprKind, span: Span) -> Self {
        let op = match &kind {
            ExprKind::Atom(n) => ops::op_of(n),
            _ => ops::PLAIN,
        };
        Expr {
            kind,
            span,
            op,
            slot: Expr::NO_SLOT,
        }
    }
    pub fn atom(&self) -> Option<&Name> {
        match &self.kind {
            ExprKind::Atom(n) => Some(n),
            _ => None,
        }
    }
    pub fn list(&self) -> Option<&[Expr]> {
        match &self.kind {
            ExprKind::List(l) => Some(l),
            _ => None,
        }
    }
}

struct Parser<'a> {
    src: &'a [u8],
    pos: usize,
    line: u32,
    col: u32,
    deployer: &'a StandardPrincipal,
}

type PResult<T> = Result<T, Diagnostic>;

fn is_ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic()
}

fn is_ident_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"-_!?+<>=/*".contains(&c)
}

fn is_operator_start(c: u8) -> bool {
    b"+-*/<>=".contains(&c)
}

fn is_delim(c: u8) -> bool {
    c.is_ascii_whitespace() || b"()[]{},;:\"".contains(&c)
}

/// Parses a whole program. `.name` literals resolve against `deployer`.
pub fn parse(source: &str, deployer: &StandardPrincipal) -> Result<Vec<Expr>, Diagnostic> {
    if source.len() > MAX_SOURCE_LEN {
        return Err(Diagnostic::new(
            Span { line: 1, col: 1 },
            format!(
                "source is {} bytes, more than the limit of {MAX_SOURCE_LEN}",
                source.len()
            ),
        ));
    }
    let mut p = Parser {
        src: source.as_bytes(),
        pos: 0,
        line: 1,
        col: 1,
        deployer,
    };
    let mut out = Vec::new();
    loop {
        p.skip_ws();
        if p.pos >= p.src.len() {
            return Ok(out);
        }
        out.push(p.expr(0)?);
    }
}

impl<'a> Parser<'a> {
    fn span(&self) -> Span {
        Span {
            line: self.line,
            col: self.col,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.src.get(self.pos).copied()
    }

    fn peek_at(&self, k: usize) -> Option<u8> {
        self.src.get(self.pos + k).copied()
    }

    fn bump(&mut self) -> Option<u8> {
        let c = self.peek()?;
        self.pos += 1;
        if c == b'\n' {
            self.line += 1;
            self.col = 1;
        } else if c & 0xC0 != 0x80 {
            self.col += 1;
        }
        Some(c)
    }

    fn skip_ws(&mut self) {
        while let Some(c) = self.peek() {
            if c.is_ascii_whitespace() {
                self.bump();
            } else if c == b';' {
                while let Some(c) = self.peek() {
                    if c == b'\n' {
                        break;
                    }
                    self.bump();
                }
            } else {
                break;
            }
        }
    }

    fn err<T>(&self, span: Span, msg: impl Into<String>) -> PResult<T> {
        Err(Diagnostic::new(span, msg))
    }

    fn word(&mut self) -> &'a str {
        let start = self.pos;
        while let Some(c) = self.peek() {
            if is_delim(c) {
                break;
            }
            self.bump();
        }
        std::str::from_utf8(&self.src[start..self.pos]).unwrap_or("")
    }

    fn expr(&mut self, depth: u32) -> PResult<Expr> {
        let span = self.span();
        let Some(c) = self.peek() else {
            return self.err(span, "unexpected end of input");
        };
        match c {
            b'(' | b'{' => {
                if depth >= MAX_NESTING {
                    return self.err(
                        span,
                        format!("expressions nested deeper than {MAX_NESTING}"),
                    );
                }
                self.bump();
                if c == b'(' {
                    self.list(span, depth)
                } else {
                    self.tuple(span, depth)
                }
            }
            b')' | b'}' => self.err(span, format!("unexpected '{}'", c as char)),
            b'"' => {
                let v = self.ascii_string(span)?;
                Ok(Expr::new(ExprKind::Literal(v), span))
            }
            b'u' if self.peek_at(1) == Some(b'"') => {
                self.bump();
                let v = self.utf8_string(span)?;
                Ok(Expr::new(ExprKind::Literal(v), span))
            }
            b'\'' => {
                self.bump();
                let w = self.word();
                self.principal_literal(span, w, true)
            }
            b'.' => {
                self.bump();
                let w = self.word();
                self.principal_literal(span, w, false)
            }
            b'<' if self.peek_at(1).is_some_and(is_ident_start) => {
                self.bump();
                let start = self.pos;
                while self.peek().is_some_and(|c| c != b'>' && !is_delim(c)) {
                    self.bump();
                }
                let name = std::str::from_utf8(&self.src[start..self.pos]).unwrap_or("");
                if self.peek() != Some(b'>') {
                    return self.err(span, "unterminated trait reference '<…>'");
                }
                self.bump();
                check_ident(span, name)?;
                Ok(Expr::new(ExprKind::TraitRef(name.into()), span))
            }
            _ => {
                let w = self.word();
                if w.is_empty() {
                    let c = self.bump().unwrap_or(b'?');
                    return self.err(span, format!("unexpected character '{}'", c as char));
                }
                Ok(Expr::new(word_kind(span, w)?, span))
            }
        }
    }

    fn list(&mut self, span: Span, depth: u32) -> PResult<Expr> {
        let mut items = Vec::new();
        loop {
            self.skip_ws();
            match self.peek() {
                None => return self.err(span, "unclosed '('"),
                Some(b')') => {
                    self.bump();
                    return Ok(Expr::new(ExprKind::List(items), span));
                }
                Some(b',') => return self.err(self.span(), "unexpected ','"),
                Some(_) => items.push(self.expr(depth + 1)?),
            }
        }
    }

    fn tuple(&mut self, span: Span, depth: u32) -> PResult<Expr> {
        let mut items = vec![Expr::new(ExprKind::Atom("tuple".into()), span)];
        loop {
            self.skip_ws();
            match self.peek() {
                None => return self.err(span, "unclosed '{'"),
                Some(b'}') => {
                    self.bump();
                    return Ok(Expr::new(ExprKind::List(items), span));
                }
                Some(_) => {}
            }
            let kspan = self.span();
            let key = self.word();
            check_ident(kspan, key)?;
            self.skip_ws();
            if self.peek() != Some(b':') {
                return self.err(self.span(), "expected ':' after tuple key");
            }
            self.bump();
            self.skip_ws();
            let value = self.expr(depth + 1)?;
            items.push(Expr::new(
                ExprKind::List(vec![Expr::new(ExprKind::Atom(key.into()), kspan), value]),
                kspan,
            ));
            self.skip_ws();
            match self.peek() {
                Some(b',') => {
                    self.bump();
                }
                Some(b'}') => {}
                _ => return self.err(self.span(), "expected ',' or '}' in tuple literal"),
            }
        }
    }

    fn ascii_string(&mut self, span: Span) -> PResult<Value> {
        self.bump();
        let mut out = Vec::new();
        loop {
            let Some(c) = self.bump() else {
                return self.err(span, "unterminated string");
            };
            match c {
                b'"' => break,
                b'\\' => out.push(self.escape(span)?),
                c if is_clarity_ascii(c) => out.push(c),
                _ => return self.err(span, "string-ascii literal contains a non-ASCII character"),
            }
            if out.len() as u64 > MAX_VALUE_SIZE {
                return self.err(span, "string literal too long");
            }
        }
        Ok(Value::Ascii(out))
    }

    fn escape(&mut self, span: Span) -> PResult<u8> {
        match self.bump() {
            Some(b'"') => Ok(b'"'),
            Some(b'\\') => Ok(b'\\'),
            Some(b'n') => Ok(b'\n'),
            Some(b't') => Ok(b'\t'),
            Some(b'r') => Ok(b'\r'),
            Some(b'0') => Ok(0),
            _ => self.err(span, "invalid escape in string"),
        }
    }

    fn utf8_string(&mut self, span: Span) -> PResult<Value> {
        self.bump();
        let mut out: Vec<char> = Vec::new();
        loop {
            let start = self.pos;
            let Some(c) = self.bump() else {
                return self.err(span, "unterminated string");
            };
            match c {
                b'"' => break,
                b'\\' if self.peek() == Some(b'u') => {
                    self.bump();
                    if self.bump() != Some(b'{') {
                        return self.err(span, "expected '{' after \\u");
                    }
                    let hs = self.pos;
                    while self.peek().is_some_and(|c| c.is_ascii_hexdigit()) && self.pos - hs < 8 {
                        self.bump();
                    }
                    let hex = std::str::from_utf8(&self.src[hs..self.pos]).unwrap_or("");
                    if self.bump() != Some(b'}') {
                        return self.err(span, "bad \\u{…} escape");
                    }
                    let ch = u32::from_str_radix(hex, 16).ok().and_then(char::from_u32);
                    match ch {
                        Some(ch) => out.push(ch),
                        None => return self.err(span, "bad \\u{…} escape"),
                    }
                }
                b'\\' => out.push(self.escape(span)? as char),
                c if c < 0x80 => out.push(c as char),
                _ => {
                    while self.peek().is_some_and(|c| c & 0xC0 == 0x80) {
                        self.bump();
                    }
                    let s = std::str::from_utf8(&self.src[start..self.pos]).unwrap_or("\u{fffd}");
                    out.extend(s.chars());
                }
            }
            if out.len() as u64 > MAX_VALUE_SIZE / 4 {
                return self.err(span, "string literal too long");
            }
        }
        Ok(Value::Utf8(out))
    }

    fn principal_literal(&mut self, span: Span, w: &str, quoted: bool) -> PResult<Expr> {
        let parts: Vec<&str> = w.split('.').collect();
        let (issuer, rest) = if quoted {
            match StandardPrincipal::parse(parts[0]) {
                Ok(p) => (p, &parts[1..]),
                Err(e) => return self.err(span, e),
            }
        } else {
            (self.deployer.clone(), &parts[..])
        };
        for name in rest.iter().take(1) {
            if !valid_contract_name(name) {
                return self.err(span, format!("invalid contract name {name:?}"));
            }
        }
        let kind = match rest {
            [] => ExprKind::Literal(Value::Principal(Principal::Standard(issuer))),
            [c] => ExprKind::Literal(Value::Principal(Principal::Contract(issuer, (*c).into()))),
            [c, t] => {
                check_ident(span, t)?;
                ExprKind::TraitLiteral(TraitId {
                    contract: Principal::Contract(issuer, (*c).into()),
                    name: (*t).into(),
                })
            }
            _ => return self.err(span, format!("invalid principal literal {w:?}")),
        };
        Ok(Expr::new(kind, span))
    }
}

fn check_ident(span: Span, name: &str) -> PResult<()> {
    let b = name.as_bytes();
    let ok = !b.is_empty()
        && b.len() <= MAX_IDENT_LEN
        && (is_ident_start(b[0]) || (is_operator_start(b[0]) && b.len() <= 2))
        && b.iter().all(|&c| is_ident_char(c));
    if ok {
        Ok(())
    } else {
        Err(Diagnostic::new(
            span,
            format!("invalid identifier {name:?}"),
        ))
    }
}

fn word_kind(span: Span, w: &str) -> PResult<ExprKind> {
    let b = w.as_bytes();
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit());
    if digits(w) || (b[0] == b'-' && digits(&w[1..])) {
        return w
            .parse::<i128>()
            .map(|i| ExprKind::Literal(Value::Int(i)))
            .map_err(|_| Diagnostic::new(span, format!("integer literal {w} out of range")));
    }
    if b[0] == b'u' && digits(&w[1..]) {
        return w[1..]
            .parse::<u128>()
            .map(|i| ExprKind::Literal(Value::UInt(i)))
            .map_err(|_| Diagnostic::new(span, format!("integer literal {w} out of range")));
    }
    if let Some(digits) = w.strip_prefix("0x") {
        if w.len() as u64 > 2 * MAX_VALUE_SIZE {
            return Err(Diagnostic::new(span, "buffer literal too long"));
        }
        return hex::decode(digits)
            .map(|b| ExprKind::Literal(Value::Buff(b)))
            .map_err(|_| Diagnostic::new(span, format!("invalid buffer literal {w}")));
    }
    check_ident(span, w)?;
    Ok(ExprKind::Atom(w.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dep() -> StandardPrincipal {
        StandardPrincipal {
            version: 26,
            hash: [0; 20],
        }
    }

    #[test]
    fn parses_with_positions() {
        let src = "(define-constant x u10)\n  (+ 1 -2 {a: 0x01, b: \"hi\"} .tok 'ST000000000000000000002AMW42H)";
        let e = parse(src, &dep()).unwrap();
        assert_eq!(e.len(), 2);
        assert_eq!(e[1].span, Span { line: 2, col: 3 });
        let l = e[1].list().unwrap();
        assert_eq!(l[2].kind, ExprKind::Literal(Value::Int(-2)));
        assert_eq!(l[3].list().unwrap().len(), 3);
    }

    #[test]
    fn errors() {
        for bad in [
            "(",
            ")",
            "(+ 1 2",
            "\"abc",
            "u999999999999999999999999999999999999999999",
            "0x1",
            "'SPXX",
            "(a #b)",
            "{a 1}",
            "\"é\"",
        ] {
            assert!(parse(bad, &dep()).is_err(), "{bad}");
        }
        let deep = "(".repeat(100) + &")".repeat(100);
        let e = parse(&deep, &dep()).unwrap_err();
        assert!(e.message.contains("nested"));
    }
}
