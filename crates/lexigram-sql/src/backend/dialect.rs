//! SQL dialects: the differences between the backends' SQL, as default methods of one sealed
//! trait that the zero-sized backend types override. DDL, catalog queries and advisory locks
//! are its sibling traits ([`Ddl`], [`Catalog`], [`AdvisoryLocks`]), also in `backend/`.

use std::fmt::Write as _;

use super::sealed::Sealed;
use super::{AdvisoryLocks, Catalog, Ddl};

/// How a backend spells SQL. Implemented by the zero-sized [`Sqlite`], [`Postgres`] and
/// [`MySql`]; generated SQL (repositories, migrations) goes through these methods only.
///
/// ```
/// use lexigram_sql::backend::{Dialect, MySql, Postgres, Sqlite};
/// assert_eq!(Postgres.quote_ident("user"), "\"user\"");
/// assert_eq!(MySql.quote_ident("user"), "`user`");
/// let mut sql = String::new();
/// Postgres.push_placeholder(&mut sql, 3);
/// Sqlite.push_placeholder(&mut sql, 3);
/// assert_eq!(sql, "$3?");
/// ```
///
/// The trait is sealed: only this crate's backends implement it. Its DDL, catalog and lock
/// statements are the sibling traits [`Ddl`], [`Catalog`] and [`AdvisoryLocks`].
pub trait Dialect: Ddl + Catalog + AdvisoryLocks + Sealed + Send + Sync + 'static {
    /// Backend name: `sqlite`, `postgresql` or `mysql`.
    fn name(&self) -> &'static str;

    /// The backend's name in messages: `SQLite`, `PostgreSQL` or `MySQL/MariaDB`.
    fn label(&self) -> &'static str;

    /// Whether the database runs inside this process (SQLite): a statement is interrupted on
    /// the calling thread, so no client-side deadline is needed.
    fn is_embedded(&self) -> bool {
        false
    }

    /// Quotes an identifier, doubling any embedded quote character, so that no identifier can
    /// end the quoting early.
    fn quote_ident(&self, ident: &str) -> String {
        quote(self, ident)
    }

    /// Appends the placeholder for the `n`-th (1-based) bound parameter.
    fn push_placeholder(&self, sql: &mut String, _n: usize) {
        sql.push('?');
    }

    /// The placeholders for parameters `from..from + n` (1-based), comma-separated: the one
    /// way every statement with a list of parameters writes it.
    ///
    /// ```
    /// use lexigram_sql::backend::{Dialect, MySql, Postgres};
    /// assert_eq!(Postgres.placeholders(2, 3), "$2, $3, $4");
    /// assert_eq!(MySql.placeholders(1, 2), "?, ?");
    /// ```
    fn placeholders(&self, from: usize, n: usize) -> String {
        let mut sql = String::with_capacity(n * 4);
        for i in 0..n {
            if i > 0 {
                sql.push_str(", ");
            }
            self.push_placeholder(&mut sql, from + i);
        }
        sql
    }

    /// Largest number of bound parameters in one statement.
    fn max_params(&self) -> usize {
        32_766
    }

    /// The statement that bulk-loads rows into `table` (`schema.table` allowed) without
    /// parameters — PostgreSQL's binary `COPY … FROM STDIN` — or `None` where the backend has
    /// no such path and `create_many` uses multi-row `INSERT`s.
    ///
    /// ```
    /// use lexigram_sql::backend::{Dialect, Postgres, Sqlite};
    /// assert_eq!(
    ///     Postgres.bulk_copy_sql("billing.invoices", &["id", "total"]).as_deref(),
    ///     Some(r#"COPY "billing"."invoices" ("id", "total") FROM STDIN (FORMAT binary)"#)
    /// );
    /// assert_eq!(Sqlite.bulk_copy_sql("t", &["a"]), None);
    /// ```
    fn bulk_copy_sql(&self, _table: &str, _columns: &[&str]) -> Option<String> {
        None
    }

    /// Whether the dialect's SQL has `INSERT … RETURNING` (MySQL's does, for MariaDB ≥ 10.5).
    /// Whether a given server has it is [`crate::Database::supports_returning`].
    fn supports_returning(&self) -> bool {
        true
    }

    /// The clause that turns an insert into an upsert on `conflict` columns, updating `update`.
    fn upsert_clause(&self, conflict: &[&str], update: &[&str]) -> String {
        let cols: Vec<String> = conflict.iter().map(|c| self.quote_ident(c)).collect();
        let mut out = format!(" ON CONFLICT ({}) DO ", cols.join(", "));
        if update.is_empty() {
            out.push_str("NOTHING");
        } else {
            out.push_str("UPDATE SET ");
            for (i, c) in update.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                let q = self.quote_ident(c);
                let _ = write!(out, "{q} = excluded.{q}");
            }
        }
        out
    }

    /// The clause (with a leading space) that makes a select lock the rows it returns and skip
    /// rows other transactions hold, for queue-like claims (the outbox relay). SQLite has no
    /// row locks: its writers are serialized, so the clause is empty.
    fn skip_locked(&self) -> &'static str {
        ""
    }

    /// `LIMIT`/`OFFSET` clause (with a leading space), or nothing.
    fn limit_offset(&self, limit: Option<u64>, offset: Option<u64>) -> String {
        match (limit, offset) {
            (None, None) => String::new(),
            (Some(l), None) => format!(" LIMIT {l}"),
            (Some(l), Some(o)) => format!(" LIMIT {l} OFFSET {o}"),
            (None, Some(o)) => format!(" LIMIT -1 OFFSET {o}"),
        }
    }

    /// Statement that opens a write transaction, with an optional isolation level.
    fn begin_sql(&self, isolation: Option<Isolation>) -> String {
        match isolation {
            Some(level) => format!("BEGIN ISOLATION LEVEL {}", level.as_sql()),
            None => "BEGIN".to_string(),
        }
    }

    /// Statement that creates a savepoint.
    fn savepoint_sql(&self, name: &str) -> String {
        format!("SAVEPOINT {}", self.quote_ident(name))
    }

    /// Statement that rolls back to a savepoint (keeping the savepoint).
    fn rollback_to_savepoint_sql(&self, name: &str) -> String {
        format!("ROLLBACK TO SAVEPOINT {}", self.quote_ident(name))
    }

    /// Statement that releases a savepoint.
    fn release_savepoint_sql(&self, name: &str) -> String {
        format!("RELEASE SAVEPOINT {}", self.quote_ident(name))
    }

    /// Whether the dialect has a case-insensitive `ILIKE` operator; without it, repositories
    /// write `LOWER(column) LIKE LOWER(pattern)`.
    ///
    /// ```
    /// use lexigram_sql::backend::{Dialect, MySql, Postgres};
    /// assert!(Postgres.has_ilike() && !MySql.has_ilike());
    /// ```
    fn has_ilike(&self) -> bool {
        false
    }
}

/// Transaction isolation levels (SQLite transactions are always serializable).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Isolation {
    /// READ COMMITTED.
    ReadCommitted,
    /// REPEATABLE READ.
    RepeatableRead,
    /// SERIALIZABLE.
    Serializable,
}

impl Isolation {
    /// The SQL words for this level.
    pub fn as_sql(self) -> &'static str {
        match self {
            Isolation::ReadCommitted => "READ COMMITTED",
            Isolation::RepeatableRead => "REPEATABLE READ",
            Isolation::Serializable => "SERIALIZABLE",
        }
    }
}

/// SQLite's dialect.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sqlite;

impl Sealed for Sqlite {}

impl Dialect for Sqlite {
    fn name(&self) -> &'static str {
        "sqlite"
    }

    fn label(&self) -> &'static str {
        "SQLite"
    }

    fn is_embedded(&self) -> bool {
        true
    }

    fn begin_sql(&self, _isolation: Option<Isolation>) -> String {
        // Take the write lock at BEGIN so a writer waits for it up front (busy timeout)
        // instead of failing with `database is locked` halfway through the transaction.
        "BEGIN IMMEDIATE".to_string()
    }
}

/// PostgreSQL's dialect.
#[derive(Debug, Clone, Copy, Default)]
pub struct Postgres;

impl Sealed for Postgres {}

impl Dialect for Postgres {
    fn name(&self) -> &'static str {
        "postgresql"
    }

    fn label(&self) -> &'static str {
        "PostgreSQL"
    }

    fn push_placeholder(&self, sql: &mut String, n: usize) {
        let _ = write!(sql, "${n}");
    }

    fn max_params(&self) -> usize {
        65_535
    }

    fn bulk_copy_sql(&self, table: &str, columns: &[&str]) -> Option<String> {
        let columns: Vec<String> = columns.iter().map(|c| self.quote_ident(c)).collect();
        Some(format!(
            "COPY {} ({}) FROM STDIN (FORMAT binary)",
            crate::ident::quote_table(self, table),
            columns.join(", ")
        ))
    }

    fn skip_locked(&self) -> &'static str {
        " FOR UPDATE SKIP LOCKED"
    }

    fn has_ilike(&self) -> bool {
        true
    }

    fn limit_offset(&self, limit: Option<u64>, offset: Option<u64>) -> String {
        let mut out = String::new();
        if let Some(l) = limit {
            let _ = write!(out, " LIMIT {l}");
        }
        if let Some(o) = offset {
            let _ = write!(out, " OFFSET {o}");
        }
        out
    }
}

/// MySQL's and MariaDB's dialect.
#[derive(Debug, Clone, Copy, Default)]
pub struct MySql;

impl Sealed for MySql {
    fn ident_quote(&self) -> char {
        '`'
    }
}

impl Dialect for MySql {
    fn name(&self) -> &'static str {
        "mysql"
    }

    fn label(&self) -> &'static str {
        "MySQL/MariaDB"
    }

    fn max_params(&self) -> usize {
        65_535
    }

    /// MariaDB ≥ 10.6 and MySQL ≥ 8.0.
    fn skip_locked(&self) -> &'static str {
        " FOR UPDATE SKIP LOCKED"
    }

    fn upsert_clause(&self, conflict: &[&str], update: &[&str]) -> String {
        // MySQL resolves conflicts on every unique key; the conflict target cannot be named.
        // With nothing to update, assigning a key column to itself makes the insert a no-op.
        let mut out = String::from(" ON DUPLICATE KEY UPDATE ");
        let targets = if update.is_empty() { conflict } else { update };
        for (i, c) in targets.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            let q = self.quote_ident(c);
            if update.is_empty() {
                let _ = write!(out, "{q} = {q}");
            } else {
                let _ = write!(out, "{q} = VALUES({q})");
            }
        }
        out
    }

    fn limit_offset(&self, limit: Option<u64>, offset: Option<u64>) -> String {
        match (limit, offset) {
            (None, Some(o)) => format!(" LIMIT 18446744073709551615 OFFSET {o}"),
            (l, o) => Postgres.limit_offset(l, o),
        }
    }

    fn begin_sql(&self, isolation: Option<Isolation>) -> String {
        match isolation {
            // MySQL sets the level for the next transaction before starting it.
            Some(level) => {
                format!(
                    "SET TRANSACTION ISOLATION LEVEL {}; START TRANSACTION",
                    level.as_sql()
                )
            }
            None => "START TRANSACTION".to_string(),
        }
    }
}

/// `ident` in the dialect's identifier quotes, embedded quote characters doubled: the one
/// quoting rule of every dialect.
pub(super) fn quote<D: Sealed + ?Sized>(dialect: &D, ident: &str) -> String {
    let q = dialect.ident_quote();
    let mut out = String::with_capacity(ident.len() + 2);
    out.push(q);
    for c in ident.chars() {
        out.push(c);
        if c == q {
            out.push(q);
        }
    }
    out.push(q);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_doubles_embedded_quotes() {
        assert_eq!(Sqlite.quote_ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(MySql.quote_ident("a`b"), "`a``b`");
        assert_eq!(
            Postgres.quote_ident("name; DROP TABLE users--"),
            "\"name; DROP TABLE users--\""
        );
    }

    #[test]
    fn upsert_per_dialect() {
        assert_eq!(
            Sqlite.upsert_clause(&["id"], &["name"]),
            " ON CONFLICT (\"id\") DO UPDATE SET \"name\" = excluded.\"name\""
        );
        assert_eq!(
            MySql.upsert_clause(&["id"], &["name", "n"]),
            " ON DUPLICATE KEY UPDATE `name` = VALUES(`name`), `n` = VALUES(`n`)"
        );
    }

    #[test]
    fn limit_offset_per_dialect() {
        assert_eq!(Sqlite.limit_offset(None, Some(5)), " LIMIT -1 OFFSET 5");
        assert_eq!(Postgres.limit_offset(None, Some(5)), " OFFSET 5");
        assert_eq!(MySql.limit_offset(Some(2), Some(5)), " LIMIT 2 OFFSET 5");
    }
}
