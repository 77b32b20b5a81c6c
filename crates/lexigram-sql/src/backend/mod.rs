//! Backends: the dialect trait, one module per native driver, and the runtime choice between
//! them — written once here, in `AnyPool` and `AnyConn` and the `dispatch!` macro.

#[cfg(any(feature = "sqlite", feature = "mysql"))]
mod columns;
mod dialect;
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
#[cfg(feature = "sqlite")]
pub(crate) mod sqlite;
#[cfg(feature = "sqlite")]
mod sqlite_values;
#[cfg(any(feature = "postgres", feature = "mysql"))]
mod tls;

#[cfg(any(feature = "sqlite", feature = "mysql"))]
pub(crate) use columns::ColumnCache;
pub use dialect::{Dialect, Isolation, MySql, Postgres, Sqlite};
pub(crate) use pool::{AnyConn, AnyPool};

use std::pin::Pin;

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
    /// Marks the connection so the pool discards it instead of reusing it.
    fn mark_broken(&mut self);
    /// True while a statement's future was abandoned before the driver finished it.
    fn in_flight(&self) -> bool {
        false
    }
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
