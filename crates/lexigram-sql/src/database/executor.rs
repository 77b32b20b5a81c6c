//! [`Executor`]: the one concrete "place to run statements" — the pool or a transaction.

use super::{Database, Inserted, Transaction};
use crate::backend::Dialect;
use crate::error::Result;
use crate::value::{Row, Value};

/// Where statements run: on the pool (each statement takes a connection) or inside a
/// transaction. Repositories hold one; write your own helpers against it too — it is a plain
/// enum, not a generic bound.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> lexigram_sql::Result<()> {
/// use lexigram_sql::{Database, Executor};
/// async fn count(ex: &Executor) -> lexigram_sql::Result<i64> {
///     ex.fetch_one("SELECT COUNT(*) AS n FROM t", &[]).await?.get("n")
/// }
/// let db = Database::connect_url("sqlite://").await?;
/// db.execute("CREATE TABLE t (n INTEGER)", &[]).await?;
/// let tx = db.begin().await?;
/// tx.execute("INSERT INTO t VALUES (1)", &[]).await?;
/// assert_eq!(count(&Executor::from(&tx)).await?, 1);
/// tx.rollback().await?;
/// assert_eq!(count(&Executor::from(&db)).await?, 0);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub enum Executor {
    /// Each statement on its own pooled connection, autocommitted.
    Database(Database),
    /// Every statement inside one transaction.
    Transaction(Transaction),
}

impl From<&Database> for Executor {
    fn from(db: &Database) -> Self {
        Executor::Database(db.clone())
    }
}

impl From<&Transaction> for Executor {
    fn from(tx: &Transaction) -> Self {
        Executor::Transaction(tx.clone())
    }
}

impl Executor {
    /// The database underneath.
    pub fn database(&self) -> &Database {
        match self {
            Executor::Database(db) => db,
            Executor::Transaction(tx) => tx.database(),
        }
    }

    /// The same place with reads on the primary ([`Database::primary`]): for reading back
    /// what was just written. A transaction is on the primary already.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> lexigram_sql::Result<()> {
    /// use lexigram_sql::{Database, Executor};
    /// let db = Database::connect_url("sqlite://").await?;
    /// let ex = Executor::from(&db).primary();
    /// assert_eq!(ex.fetch_one("SELECT 1 AS n", &[]).await?.get::<i64>("n")?, 1);
    /// # Ok(()) }
    /// ```
    pub fn primary(&self) -> Executor {
        match self {
            Executor::Database(db) => Executor::Database(db.primary()),
            Executor::Transaction(tx) => Executor::Transaction(tx.clone()),
        }
    }

    /// The backend's SQL dialect.
    pub fn dialect(&self) -> &'static dyn Dialect {
        self.database().dialect()
    }

    /// Runs a statement; rows affected.
    pub async fn execute(&self, sql: &str, params: &[Value]) -> Result<u64> {
        match self {
            Executor::Database(db) => db.execute(sql, params).await,
            Executor::Transaction(tx) => tx.execute(sql, params).await,
        }
    }

    /// Bulk-loads rows by the backend's `COPY` path; `Ok(None)` where there is none for them.
    pub(crate) async fn copy_in(&self, rows: &crate::backend::CopyRows<'_>) -> Result<Option<u64>> {
        match self {
            Executor::Database(db) => db.copy_in(rows).await,
            Executor::Transaction(tx) => tx.copy_in(rows).await,
        }
    }

    /// Runs an insert; rows affected and the generated key (see [`Database::execute_insert`]).
    pub async fn execute_insert(&self, sql: &str, params: &[Value]) -> Result<Inserted> {
        match self {
            Executor::Database(db) => db.execute_insert(sql, params).await,
            Executor::Transaction(tx) => tx.execute_insert(sql, params).await,
        }
    }

    /// Whether inserts can read the stored row back with `INSERT … RETURNING` (see
    /// [`Database::supports_returning`]).
    pub fn supports_returning(&self) -> bool {
        self.database().supports_returning()
    }

    /// Runs a query; every row.
    pub async fn fetch_all(&self, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
        match self {
            Executor::Database(db) => db.fetch_all(sql, params).await,
            Executor::Transaction(tx) => tx.fetch_all(sql, params).await,
        }
    }

    /// First row, or [`crate::Error::NotFound`].
    pub async fn fetch_one(&self, sql: &str, params: &[Value]) -> Result<Row> {
        match self {
            Executor::Database(db) => db.fetch_one(sql, params).await,
            Executor::Transaction(tx) => tx.fetch_one(sql, params).await,
        }
    }

    /// First row, if any.
    pub async fn fetch_optional(&self, sql: &str, params: &[Value]) -> Result<Option<Row>> {
        match self {
            Executor::Database(db) => db.fetch_optional(sql, params).await,
            Executor::Transaction(tx) => tx.fetch_optional(sql, params).await,
        }
    }

    /// Runs several statements without parameters.
    pub async fn execute_batch(&self, sql: &str) -> Result<()> {
        match self {
            Executor::Database(db) => db.execute_batch(sql).await,
            Executor::Transaction(tx) => tx.execute_batch(sql).await,
        }
    }
}
