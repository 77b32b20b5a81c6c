//! Backends: the dialect trait, one module per native driver, and the runtime choice between
//! them — written once here, in `AnyPool` and `AnyConn` and the `dispatch!` macro.

mod catalog;
#[cfg(any(feature = "sqlite", feature = "mysql"))]
mod columns;
mod ddl;
mod dialect;
mod lock;
#[cfg(any(feature = "sqlite", feature = "mysql", feature = "postgres"))]
mod lru_cache;
#[cfg(feature = "mysql")]
pub(crate) mod mysql;
#[cfg(feature = "mysql")]
mod mysql_values;
mod pool;
#[cfg(feature = "postgres")]
pub(crate) mod postgres;
#[cfg(feature = "postgres")]
mod postgres_text;
#[cfg(feature = "postgres")]
mod postgres_values;
pub(crate) mod replication;
mod split;
mod sql_type;
#[cfg(feature = "sqlite")]
pub(crate) mod sqlite;
#[cfg(feature = "sqlite")]
mod sqlite_values;
#[cfg(any(feature = "postgres", feature = "mysql"))]
mod tls;

pub use catalog::Catalog;
pub(crate) use catalog::column_type;
#[cfg(any(feature = "sqlite", feature = "mysql"))]
pub(crate) use columns::ColumnCache;
pub use ddl::Ddl;
pub use dialect::{Dialect, Isolation, MySql, Postgres, Sqlite};
pub use lock::{AdvisoryLocks, LockScope};
pub(crate) use pool::{AnyConn, AnyPool};
pub use split::{Statement, split_statements};
pub use sql_type::{SqlType, TypeFamily};

use std::pin::Pin;

/// Seals [`Dialect`] and its sibling traits: only this crate's backends implement them.
mod sealed {
    /// The private supertrait; it also carries the identifier quote character, so that
    /// every dialect method quotes by one rule.
    pub trait Sealed {
        /// The character that quotes identifiers.
        fn ident_quote(&self) -> char {
            '"'
        }
    }
}

use futures_util::Stream;

use crate::config::BackendKind;
use crate::error::Result;
use crate::value::{Row, Value};

/// Server connections used within this window are handed out without a ping; older ones are
/// pinged on checkout (HikariCP's rule: no round trip on every checkout).
#[cfg(any(feature = "postgres", feature = "mysql"))]
pub(crate) const VALIDATE_AFTER: std::time::Duration = std::time::Duration::from_millis(500);

/// Whether the server behind a pool has `INSERT … RETURNING`: recorded by the first connection
/// that opens (MySQL/MariaDB read it from the server version), read by the `Database`.
pub(crate) type ReturningSlot = std::sync::Arc<std::sync::OnceLock<bool>>;

/// A stream of rows that owns its connection.
pub type RowStream = Pin<Box<dyn Stream<Item = Result<Row>> + Send + 'static>>;

/// What every driver's connection does. Implemented by one type per backend; called through
/// [`AnyConn`] only.
pub(crate) trait BackendConn: Send {
    /// Runs a statement, returning the number of rows affected.
    async fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64>;
    /// Runs an insert, returning the rows affected and the key the database generated for it
    /// (MySQL's `LAST_INSERT_ID()` from the statement's own OK packet, SQLite's rowid), if any.
    async fn execute_insert(&mut self, sql: &str, params: &[Value]) -> Result<(u64, Option<i64>)> {
        Ok((self.execute(sql, params).await?, None))
    }
    /// Runs a query, returning all rows.
    async fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>>;
    /// Runs a query, returning its first row; drivers that can stop reading there do.
    async fn query_first(&mut self, sql: &str, params: &[Value]) -> Result<Option<Row>> {
        Ok(self.query(sql, params).await?.into_iter().next())
    }
    /// Runs one or more statements without parameters (migrations, transaction control).
    async fn batch(&mut self, sql: &str) -> Result<()>;
    /// Opens a transaction.
    async fn begin(&mut self, isolation: Option<Isolation>) -> Result<()>;
    /// Commits (`true`) or rolls back (`false`) the open transaction.
    async fn finish(&mut self, commit: bool) -> Result<()>;
    /// Loads rows by the backend's bulk path (PostgreSQL's binary `COPY`). `Ok(None)` when the
    /// backend has none, or cannot take these columns that way: the caller then inserts them
    /// with multi-row `INSERT`s.
    async fn copy_in(&mut self, _rows: &CopyRows<'_>) -> Result<Option<u64>> {
        Ok(None)
    }
    /// Whether [`BackendConn::copy_in`] can take these rows (asked first, so that a load
    /// that falls back to `INSERT` is not also recorded as a `COPY`).
    async fn copy_ready(&mut self, _rows: &CopyRows<'_>) -> Result<bool> {
        Ok(false)
    }
    /// Marks the connection so the pool discards it instead of reusing it.
    fn mark_broken(&mut self);
    /// True while a statement's future was abandoned before the driver finished it.
    fn in_flight(&self) -> bool {
        false
    }
}

/// Rows for [`BackendConn::copy_in`]: one table, its columns, and the values row after row.
#[derive(Debug)]
#[cfg_attr(not(feature = "postgres"), allow(dead_code))] // only PostgreSQL reads the values
pub(crate) struct CopyRows<'a> {
    /// The table, unquoted (`schema.table` allowed).
    pub table: &'a str,
    /// The columns, unquoted, in the order of each row's values.
    pub columns: &'a [&'a str],
    /// `columns.len()` values per row, row after row.
    pub values: &'a [Value],
}

/// The dialect of a backend kind.
///
/// ```
/// use lexigram_sql::backend::dialect_of;
/// use lexigram_sql::config::BackendKind;
/// assert_eq!(dialect_of(BackendKind::Postgres).name(), "postgresql");
/// ```
pub fn dialect_of(kind: BackendKind) -> &'static dyn Dialect {
    match kind {
        BackendKind::Sqlite => &Sqlite,
        BackendKind::Postgres => &Postgres,
        BackendKind::MySql => &MySql,
    }
}
