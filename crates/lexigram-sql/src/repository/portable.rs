//! [`Portable`]: raw SQL written once with `?` or `:name` placeholders and run on every
//! backend, rewritten to the backend's native form (`$1` on PostgreSQL, `?` elsewhere).
//!
//! Raw SQL given to [`Database::execute`](crate::Database::execute) and friends keeps using
//! the backend's native placeholders; `Portable` is the opt-in, backend-neutral form.
//!
//! # What is a placeholder
//!
//! A `?`, or a `:` followed by a name (`[A-Za-z_][A-Za-z0-9_]*`), outside:
//! - string literals (`'…'` with `''`; on MySQL also `\'`; PostgreSQL `E'…'` with `\'`),
//! - quoted identifiers (`"…"`, `` `…` ``; `[…]` on SQLite),
//! - comments (`-- …`, `/* … */` — nested on PostgreSQL —, and `# …` on MySQL),
//! - PostgreSQL dollar-quoted strings (`$tag$ … $tag$`).
//!
//! `::` (a PostgreSQL cast) is never a named placeholder; `??` is a literal `?` (PostgreSQL's
//! JSON operators `?`, `?|`, `?&` are written `??`, `??|`, `??&`). One statement uses either
//! `?` or `:name`, not both.

use std::collections::HashMap;

use crate::backend::Dialect;
use crate::database::Executor;
use crate::error::{Error, Result};
use crate::value::{Row, Value};

/// One piece of a statement: text copied as it is, or a placeholder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Piece {
    /// SQL text, copied unchanged.
    Text(String),
    /// `?`.
    Positional,
    /// `:name`.
    Named(String),
}

/// Raw SQL with portable placeholders and its bound values.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> lexigram_sql::Result<()> {
/// use lexigram_sql::Database;
/// use lexigram_sql::repository::Portable;
///
/// let db = Database::connect_url("sqlite://").await?;
/// db.execute_batch("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)").await?;
/// Portable::new("INSERT INTO notes (body) VALUES (:body) -- not a :placeholder")
///     .bind_named("body", "what? it's 10:30")
///     .execute(&db)
///     .await?;
/// let rows = Portable::new("SELECT body FROM notes WHERE body LIKE ? AND body <> '?'")
///     .bind("what%")
///     .fetch_all(&db)
///     .await?;
/// assert_eq!(rows[0].get::<String>("body")?, "what? it's 10:30");
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Portable {
    sql: String,
    positional: Vec<Value>,
    named: HashMap<String, Value>,
}

impl Portable {
    /// A statement; placeholders are found when it is run, by the backend's lexical rules.
    pub fn new(sql: impl Into<String>) -> Portable {
        Portable {
            sql: sql.into(),
            ..Portable::default()
        }
    }

    /// Binds the next `?`.
    pub fn bind(mut self, value: impl Into<Value>) -> Portable {
        self.positional.push(value.into());
        self
    }

    /// Binds every `:name` with this name.
    pub fn bind_named(mut self, name: impl Into<String>, value: impl Into<Value>) -> Portable {
        self.named.insert(name.into(), value.into());
        self
    }

    /// The statement in `dialect`'s native form and its parameters in order;
    /// [`Error::InvalidRequest`] when placeholders and bound values do not match.
    ///
    /// ```
    /// use lexigram_sql::backend::{MySql, Postgres};
    /// use lexigram_sql::repository::Portable;
    /// let p = Portable::new("SELECT a::text FROM t WHERE b = :b AND c = ':b' AND d = :b").bind_named("b", 1);
    /// let (sql, params) = p.to_native(&Postgres)?;
    /// assert_eq!(sql, "SELECT a::text FROM t WHERE b = $1 AND c = ':b' AND d = $2");
    /// assert_eq!(params.len(), 2);
    /// let (sql, _) = Portable::new("SELECT ?, '?' # ?").bind(1).to_native(&MySql)?;
    /// assert_eq!(sql, "SELECT ?, '?' # ?");
    /// # Ok::<(), lexigram_sql::Error>(())
    /// ```
    pub fn to_native(&self, dialect: &dyn Dialect) -> Result<(String, Vec<Value>)> {
        let pieces = split(&self.sql, dialect.name());
        let mut sql = String::with_capacity(self.sql.len() + 8);
        let mut params = Vec::new();
        let (mut positional, mut named) = (0usize, false);
        for piece in pieces {
            match piece {
                Piece::Text(t) => sql.push_str(&t),
                Piece::Positional => {
                    let v = self.positional.get(positional).ok_or_else(|| {
                        mismatch(format!(
                            "the statement has more `?` placeholders than the {} values bound. Fix: bind one value per `?`",
                            self.positional.len()
                        ))
                    })?;
                    positional += 1;
                    params.push(v.clone());
                    dialect.push_placeholder(&mut sql, params.len());
                }
                Piece::Named(name) => {
                    named = true;
                    let v = self.named.get(&name).ok_or_else(|| {
                        mismatch(format!(
                            "no value is bound for `:{name}`. Fix: call bind_named(\"{name}\", value)"
                        ))
                    })?;
                    params.push(v.clone());
                    dialect.push_placeholder(&mut sql, params.len());
                }
            }
        }
        if named && positional > 0 {
            return Err(mismatch(
                "the statement mixes `?` and `:name` placeholders. Fix: use one style".into(),
            ));
        }
        if positional != self.positional.len() {
            return Err(mismatch(format!(
                "{} values are bound but the statement has {positional} `?` placeholders. Fix: bind one value per `?`",
                self.positional.len()
            )));
        }
        Ok((sql, params))
    }

    /// Runs the statement; returns rows affected.
    pub async fn execute(&self, on: impl Into<Executor>) -> Result<u64> {
        let ex = on.into();
        let (sql, params) = self.to_native(ex.dialect())?;
        ex.execute(&sql, &params).await
    }

    /// Runs the query; returns every row.
    pub async fn fetch_all(&self, on: impl Into<Executor>) -> Result<Vec<Row>> {
        let ex = on.into();
        let (sql, params) = self.to_native(ex.dialect())?;
        ex.fetch_all(&sql, &params).await
    }

    /// Runs the query; returns its one row, or [`Error::NotFound`] if there is none.
    pub async fn fetch_one(&self, on: impl Into<Executor>) -> Result<Row> {
        let ex = on.into();
        let (sql, params) = self.to_native(ex.dialect())?;
        ex.fetch_one(&sql, &params).await
    }

    /// Runs the query; returns its first row, if any.
    pub async fn fetch_optional(&self, on: impl Into<Executor>) -> Result<Option<Row>> {
        let ex = on.into();
        let (sql, params) = self.to_native(ex.dialect())?;
        ex.fetch_optional(&sql, &params).await
    }
}

fn mismatch(detail: String) -> Error {
    Error::InvalidRequest {
        entity: "portable SQL".into(),
        detail,
    }
}

/// Splits a statement into text and placeholders by the lexical rules of `backend`
/// (`sqlite`, `postgresql` or `mysql`).
pub(crate) fn split(sql: &str, backend: &str) -> Vec<Piece> {
    let (pg, my, lite) = (
        backend == "postgresql",
        backend == "mysql",
        backend == "sqlite",
    );
    let b = sql.as_bytes();
    let mut out = Vec::new();
    let mut text_start = 0;
    let mut i = 0;
    let flush = |out: &mut Vec<Piece>, from: usize, to: usize| {
        if to > from {
            match out.last_mut() {
                Some(Piece::Text(t)) => t.push_str(&sql[from..to]),
                _ => out.push(Piece::Text(sql[from..to].to_string())),
            }
        }
    };
    while i < b.len() {
        let c = b[i];
        let next = b.get(i + 1).copied();
        match c {
            b'\'' => {
                let escapes = my
                    || (pg
                        && i > 0
                        && matches!(b[i - 1], b'E' | b'e')
                        && !ident_byte(b.get(i.wrapping_sub(2)).copied()));
                i = skip_quoted(b, i, b'\'', escapes);
            }
            b'"' => i = skip_quoted(b, i, b'"', my),
            b'`' => i = skip_quoted(b, i, b'`', false),
            b'[' if lite => {
                i = b[i..]
                    .iter()
                    .position(|&x| x == b']')
                    .map_or(b.len(), |p| i + p + 1)
            }
            b'-' if next == Some(b'-') => i = line_end(b, i),
            b'#' if my => i = line_end(b, i),
            b'/' if next == Some(b'*') => i = block_comment_end(b, i, pg),
            b'$' if pg => match dollar_tag(b, i) {
                Some(tag_len) => {
                    let tag = &b[i..i + tag_len];
                    let body = i + tag_len;
                    i = find(b, body, tag).map_or(b.len(), |p| p + tag_len);
                }
                None => i += 1,
            },
            b'?' if next == Some(b'?') => {
                // `??` is one literal `?`.
                flush(&mut out, text_start, i + 1);
                i += 2;
                text_start = i;
            }
            b'?' => {
                flush(&mut out, text_start, i);
                out.push(Piece::Positional);
                i += 1;
                text_start = i;
            }
            b':' if next == Some(b':') => i += 2,
            b':' if next.is_some_and(|n| n.is_ascii_alphabetic() || n == b'_')
                && !(i > 0 && b[i - 1] == b':') =>
            {
                let start = i + 1;
                let mut end = start;
                while end < b.len() && ident_byte(Some(b[end])) {
                    end += 1;
                }
                flush(&mut out, text_start, i);
                out.push(Piece::Named(sql[start..end].to_string()));
                i = end;
                text_start = i;
            }
            _ => i += 1,
        }
    }
    flush(&mut out, text_start, b.len().max(text_start));
    out
}

fn ident_byte(c: Option<u8>) -> bool {
    c.is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_')
}

/// Index just past a quoted run starting at `start` (doubled quote = one quote; with
/// `escapes`, a backslash escapes the next byte). Unterminated: the end of the text.
fn skip_quoted(b: &[u8], start: usize, quote: u8, escapes: bool) -> usize {
    let mut i = start + 1;
    while i < b.len() {
        if escapes && b[i] == b'\\' {
            i += 2;
        } else if b[i] == quote {
            if b.get(i + 1) == Some(&quote) {
                i += 2;
            } else {
                return i + 1;
            }
        } else {
            i += 1;
        }
    }
    b.len()
}

fn line_end(b: &[u8], start: usize) -> usize {
    b[start..]
        .iter()
        .position(|&x| x == b'\n')
        .map_or(b.len(), |p| start + p + 1)
}

fn block_comment_end(b: &[u8], start: usize, nested: bool) -> usize {
    let mut depth = 0usize;
    let mut i = start;
    while i + 1 < b.len() {
        if b[i] == b'/' && b[i + 1] == b'*' && (nested || depth == 0) {
            depth += 1;
            i += 2;
        } else if b[i] == b'*' && b[i + 1] == b'/' {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return i;
            }
        } else {
            i += 1;
        }
    }
    b.len()
}

/// Length of a dollar-quote tag (`$$`, `$tag$`) at `start`, if one starts there.
fn dollar_tag(b: &[u8], start: usize) -> Option<usize> {
    if start > 0 && ident_byte(Some(b[start - 1])) {
        return None; // part of an identifier such as `a$b`
    }
    let mut i = start + 1;
    if b.get(i).is_some_and(|c| c.is_ascii_digit()) {
        return None; // `$1`
    }
    while i < b.len() && ident_byte(Some(b[i])) {
        i += 1;
    }
    (b.get(i) == Some(&b'$')).then_some(i + 1 - start)
}

fn find(b: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    b.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| from + p)
}
