//! The [`Database`] handle: one backend's pool, raw SQL with bound parameters, transactions,
//! health and close.

mod executor;
mod gauges;
mod health;
mod instrument;
mod replicas;
mod route;
mod routing;
mod schema;
mod session;
mod stream;
mod transaction;

pub use executor::Executor;
pub use health::{
    BackendHealth, HEALTH_STATEMENTS, HealthReport, HealthStatus, PoolStats, ReplicaHealth,
};
pub use session::{Session, SessionStats};
pub use transaction::{Savepoint, Transaction};

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, RwLock};

use futures_util::FutureExt;

use crate::backend::{AnyConn, AnyPool, Dialect, Isolation, ReturningSlot, RowStream, dialect_of};
use crate::config::{BackendKind, BackendSettings, DatabaseConfig, Returning};
use crate::error::{Error, Result};
use crate::value::{Row, Value};

/// A handle on one database backend: its connection pool and settings. Cheap to clone; all
/// clones share the pool.
///
/// Raw SQL uses the backend's own placeholders — `?` on SQLite and MySQL, `$1` on PostgreSQL —
/// and every parameter is bound, never spliced into the SQL text.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> lexigram_sql::Result<()> {
/// use lexigram_sql::Database;
/// let db = Database::connect_url("sqlite:///:memory:").await?;
/// db.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)", &[]).await?;
/// db.execute("INSERT INTO notes (body) VALUES (?)", &["hello".into()]).await?;
/// let body: String = db.fetch_one("SELECT body FROM notes", &[]).await?.get("body")?;
/// assert_eq!(body, "hello");
/// db.close().await;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Database {
    inner: Arc<Inner>,
    /// Where reads of this handle go: see [`Database::primary`] and [`Database::replica`].
    route: Route,
    /// The read-your-writes session of this handle, if any.
    session: Option<Session>,
    /// Whether this handle is refused by, or bypasses, a tenant-scope policy (`crate::scope`).
    pub(crate) scope_mark: Option<Arc<crate::scope::ScopeMark>>,
}

/// Where a handle's reads go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    /// Plain reads outside transactions to a healthy replica, everything else to the primary.
    Auto,
    /// Everything to the primary.
    Primary,
    /// Reads to a replica even if they lock rows or a session has written since.
    Replica,
}

/// What [`Database::execute_insert`] reports about one insert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Inserted {
    /// Rows the statement inserted (MySQL: affected, so 2 for an upsert that updated a row).
    pub rows: u64,
    /// The key the database generated: MySQL/MariaDB `LAST_INSERT_ID()` for an
    /// `AUTO_INCREMENT` column, SQLite's rowid; `None` on PostgreSQL (use `RETURNING`) and when
    /// the insert generated none.
    pub last_insert_id: Option<i64>,
}

struct Inner {
    settings: BackendSettings,
    pool: RwLock<Option<AnyPool>>,
    /// Whether the server has `INSERT … RETURNING`, recorded by the first connection.
    returning: ReturningSlot,
    /// Whether the unit-of-work outbox table is known to exist (kept by `uow`).
    outbox_ready: crate::uow::OutboxReady,
    /// Declared column types of the tables written through `Table` and `Repository`.
    schema: schema::SchemaCache,
    /// The read replicas (`backend.replicas`), each with its own pool.
    replicas: replicas::ReplicaSet,
    /// Span attributes of this backend.
    observer: crate::observe::Observer,
    /// The tables that require a tenant scope (`Database::set_security_policy`).
    pub(crate) scope_policy: crate::scope::PolicySlot,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database")
            .field("name", &self.inner.settings.name)
            .field("url", &self.inner.settings.url)
            .finish_non_exhaustive()
    }
}

impl Database {
    /// Opens the pool for one resolved backend and its first `pool.min_size` connections.
    ///
    /// Fails with [`Error::Connect`] (unreachable, authentication, missing database, or no
    /// connection within `pool.connect_timeout`) or [`Error::DriverMissing`]. Settings built in code get the checks of [`DatabaseConfig::validate`]
    /// that keep the pool from panicking (sizes, zero and overlong durations) and fail with
    /// [`Error::Configuration`].
    pub async fn connect(settings: BackendSettings) -> Result<Database> {
        settings.check()?;
        let returning = ReturningSlot::default();
        let pool = AnyPool::open(&settings, &returning).await?;
        if returning.get().is_none() {
            // `pool.min_size: 0` opened no connection yet: open one to learn the server.
            drop(pool.get(&settings.pool).await?);
        }
        let replicas = replicas::ReplicaSet::open(&settings).await?;
        let (open, _) = pool.state();
        tracing::debug!(
            backend = %settings.name,
            url = %settings.url,
            connections = open,
            max_size = settings.pool.max_size,
            "pool opened"
        );
        let observer = crate::observe::Observer::new(&settings);
        let db = Database {
            inner: Arc::new(Inner {
                settings,
                pool: RwLock::new(Some(pool)),
                returning,
                outbox_ready: crate::uow::OutboxReady::default(),
                schema: schema::SchemaCache::default(),
                replicas,
                observer,
                scope_policy: crate::scope::PolicySlot::default(),
            }),
            route: Route::Auto,
            session: None,
            scope_mark: None,
        };
        gauges::sample_every_second(&db);
        Ok(db)
    }

    /// Connects the primary (or only) backend of a configuration.
    pub async fn from_config(config: &DatabaseConfig) -> Result<Database> {
        Database::connect(crate::config::primary(config.backends()?)?).await
    }

    /// Connects to a URL with every other setting at its default.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> lexigram_sql::Result<()> {
    /// let db = lexigram_sql::Database::connect_url("sqlite://").await?;
    /// assert_eq!(db.kind(), lexigram_sql::config::BackendKind::Sqlite);
    /// # Ok(()) }
    /// ```
    pub async fn connect_url(url: &str) -> Result<Database> {
        Database::from_config(&DatabaseConfig::from_url(url)?).await
    }

    /// The backend's name (`default` for a single-backend configuration).
    pub fn name(&self) -> &str {
        &self.inner.settings.name
    }

    /// Which backend this is.
    pub fn kind(&self) -> BackendKind {
        self.inner.settings.url.kind()
    }

    /// The backend's SQL dialect, for building SQL that works on every backend.
    pub fn dialect(&self) -> &'static dyn Dialect {
        dialect_of(self.kind())
    }

    /// Whether inserts read the stored row back with `INSERT … RETURNING`: true on SQLite,
    /// PostgreSQL and MariaDB ≥ 10.5 (the version the server reported when the first
    /// connection opened), false on Oracle MySQL and older MariaDB, and false on MySQL/MariaDB
    /// and SQLite when `backend.returning` is `off`. Without it, repositories insert and then
    /// select the row by its key or by the generated `AUTO_INCREMENT` value.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> lexigram_sql::Result<()> {
    /// use lexigram_sql::{Database, DatabaseConfig, config::Returning};
    /// assert!(Database::connect_url("sqlite://").await?.supports_returning());
    /// let mut config = DatabaseConfig::from_url("sqlite://")?;
    /// config.backend.returning = Returning::Off;
    /// assert!(!Database::from_config(&config).await?.supports_returning());
    /// # Ok(()) }
    /// ```
    pub fn supports_returning(&self) -> bool {
        match (self.kind(), self.inner.settings.returning) {
            (BackendKind::Postgres, _) => true,
            (_, Returning::Off) => false,
            (_, Returning::Auto) => self.inner.returning.get().copied().unwrap_or(false),
        }
    }

    /// The settings this handle was built from.
    pub fn settings(&self) -> &BackendSettings {
        &self.inner.settings
    }

    pub(crate) fn schema(&self) -> &schema::SchemaCache {
        &self.inner.schema
    }

    /// The tenant-scope policy of this database (shared by every clone).
    pub(crate) fn scope_policy(&self) -> &crate::scope::PolicySlot {
        &self.inner.scope_policy
    }

    /// This handle marked as refused by, or bypassing, the tenant-scope policy.
    pub(crate) fn with_scope_mark(&self, mark: crate::scope::ScopeMark) -> Database {
        Database {
            scope_mark: Some(Arc::new(mark)),
            ..self.clone()
        }
    }

    pub(crate) fn observer(&self) -> &crate::observe::Observer {
        &self.inner.observer
    }

    fn pool(&self) -> Result<AnyPool> {
        self.inner
            .pool
            .read()
            .ok()
            .and_then(|p| p.clone())
            .ok_or_else(|| Error::Closed {
                name: self.inner.settings.name.clone(),
            })
    }

    /// Checks a connection out of the pool: waits in line at most `pool.timeout` for a free
    /// connection ([`Error::PoolExhausted`]) and at most `pool.connect_timeout` for a new one
    /// ([`Error::Connect`]).
    pub(crate) async fn acquire(&self) -> Result<AnyConn> {
        crate::scope::check_handle(self)?;
        let started = std::time::Instant::now();
        let conn = self.pool()?.get(&self.inner.settings.pool).await;
        let metrics = &self.inner.observer.metrics;
        metrics.acquired(started.elapsed(), conn.as_ref().err());
        conn
    }

    /// Runs a statement and returns the number of rows it affected.
    pub async fn execute(&self, sql: &str, params: &[Value]) -> Result<u64> {
        self.schema().clear_after(sql);
        let mut conn = self.acquire().await?;
        let affected = instrument::execute(self, &mut conn, sql, params).await?;
        self.after_write(&mut conn).await;
        Ok(affected)
    }

    /// Bulk-loads rows by the backend's `COPY` path; `Ok(None)` where there is none for them.
    pub(crate) async fn copy_in(&self, rows: &crate::backend::CopyRows<'_>) -> Result<Option<u64>> {
        let mut conn = self.acquire().await?;
        let loaded = instrument::copy_in(self, &mut conn, rows).await?;
        self.after_write(&mut conn).await;
        Ok(loaded)
    }

    /// Runs an insert and reports the rows it inserted and the key the database generated
    /// (MySQL/MariaDB `LAST_INSERT_ID()` from the statement's own reply, SQLite's rowid), for
    /// servers without `INSERT … RETURNING`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> lexigram_sql::Result<()> {
    /// let db = lexigram_sql::Database::connect_url("sqlite://").await?;
    /// db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, s TEXT)", &[]).await?;
    /// let done = db.execute_insert("INSERT INTO t (s) VALUES (?)", &["a".into()]).await?;
    /// assert_eq!((done.rows, done.last_insert_id), (1, Some(1)));
    /// # Ok(()) }
    /// ```
    pub async fn execute_insert(&self, sql: &str, params: &[Value]) -> Result<Inserted> {
        let mut conn = self.acquire().await?;
        let inserted = instrument::execute_insert(self, &mut conn, sql, params).await?;
        self.after_write(&mut conn).await;
        Ok(inserted)
    }

    /// Runs a query and returns every row. With replicas configured, a plain read runs on a
    /// replica (see [`Database::primary`]); a statement that writes or locks runs on the
    /// primary.
    pub async fn fetch_all(&self, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
        let (mut conn, replica) = self.read_conn(sql).await?;
        let result = instrument::query(self, &mut conn, sql, params).await;
        match (result, replica) {
            (Err(e), Some(index)) if replicas::is_unavailable(&e) => {
                self.replica_failed(index, &e);
                drop(conn);
                let mut conn = self.acquire().await?;
                instrument::query(self, &mut conn, sql, params).await
            }
            (Ok(rows), None) => {
                self.after_read_on_primary(&mut conn, sql).await;
                Ok(rows)
            }
            (result, _) => result,
        }
    }

    /// Runs a query and returns its first row, or [`Error::NotFound`] when there is none.
    pub async fn fetch_one(&self, sql: &str, params: &[Value]) -> Result<Row> {
        self.fetch_optional(sql, params)
            .await?
            .ok_or_else(|| not_found(sql))
    }

    /// Runs a query and returns its first row, if any.
    pub async fn fetch_optional(&self, sql: &str, params: &[Value]) -> Result<Option<Row>> {
        let (mut conn, replica) = self.read_conn(sql).await?;
        let result = instrument::query_first(self, &mut conn, sql, params).await;
        match (result, replica) {
            (Err(e), Some(index)) if replicas::is_unavailable(&e) => {
                self.replica_failed(index, &e);
                drop(conn);
                let mut conn = self.acquire().await?;
                instrument::query_first(self, &mut conn, sql, params).await
            }
            (Ok(row), None) => {
                self.after_read_on_primary(&mut conn, sql).await;
                Ok(row)
            }
            (result, _) => result,
        }
    }

    /// Streams a query's rows in constant memory; the stream holds one pooled connection
    /// until it ends or is dropped. Like every statement it has its span, echo / slow log,
    /// metrics and statistics, recorded when the stream ends, fails or is dropped.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> lexigram_sql::Result<()> {
    /// use futures_util::TryStreamExt;
    /// let db = lexigram_sql::Database::connect_url("sqlite://").await?;
    /// let rows: Vec<_> = db
    ///     .fetch_stream("WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 5) SELECT x FROM n", &[])
    ///     .await?
    ///     .try_collect()
    ///     .await?;
    /// assert_eq!(rows.len(), 5);
    /// # Ok(()) }
    /// ```
    pub async fn fetch_stream(&self, sql: &str, params: &[Value]) -> Result<RowStream> {
        instrument::check_params(self, params.len())?;
        let (conn, _) = self.read_conn(sql).await?;
        let rows = conn.stream(sql.to_string(), params.to_vec());
        Ok(stream::observed(self, sql.to_string(), params.len(), rows))
    }

    /// Runs several statements without parameters (DDL scripts); each statement is checked.
    pub async fn execute_batch(&self, sql: &str) -> Result<()> {
        // A batch may change the schema (migrations, DDL): column types are read again.
        self.schema().clear();
        let mut conn = self.acquire().await?;
        instrument::batch(self, &mut conn, sql).await?;
        self.after_write(&mut conn).await;
        Ok(())
    }

    /// Begins a transaction. Prefer [`Database::transaction`], which always ends it; a
    /// [`Transaction`] dropped without `commit()` is rolled back.
    pub async fn begin(&self) -> Result<Transaction> {
        self.begin_with(None, "transaction").await
    }

    /// Begins a transaction at an isolation level (ignored by SQLite, whose transactions are
    /// serializable).
    pub async fn begin_isolated(&self, isolation: Isolation) -> Result<Transaction> {
        self.begin_with(Some(isolation), "transaction").await
    }

    pub(crate) async fn begin_with(
        &self,
        isolation: Option<Isolation>,
        label: &'static str,
    ) -> Result<Transaction> {
        let mut conn = self.acquire().await?;
        conn.begin(isolation).await?;
        Ok(Transaction::new(self.clone(), conn, label))
    }

    /// Runs `f` inside a transaction: commits when it returns `Ok`, rolls back when it returns
    /// `Err` or panics (the panic is then resumed).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> lexigram_sql::Result<()> {
    /// let db = lexigram_sql::Database::connect_url("sqlite://").await?;
    /// db.execute("CREATE TABLE t (n INTEGER)", &[]).await?;
    /// let failed: lexigram_sql::Result<()> = db
    ///     .transaction(|tx| async move {
    ///         tx.execute("INSERT INTO t VALUES (1)", &[]).await?;
    ///         Err(lexigram_sql::Error::UnitOfWork { detail: "changed my mind".into() })
    ///     })
    ///     .await;
    /// assert!(failed.is_err());
    /// let n: i64 = db.fetch_one("SELECT COUNT(*) AS n FROM t", &[]).await?.get("n")?;
    /// assert_eq!(n, 0);
    /// # Ok(()) }
    /// ```
    pub async fn transaction<T, E, F, Fut>(&self, f: F) -> std::result::Result<T, E>
    where
        F: FnOnce(Transaction) -> Fut,
        Fut: Future<Output = std::result::Result<T, E>>,
        E: From<Error>,
    {
        let tx = self.begin().await?;
        match AssertUnwindSafe(f(tx.clone())).catch_unwind().await {
            Ok(Ok(value)) => {
                tx.commit().await?;
                Ok(value)
            }
            Ok(Err(e)) => {
                if let Err(rollback) = tx.rollback().await {
                    tracing::warn!(error = %rollback, "rollback after a failed transaction failed");
                }
                Err(e)
            }
            Err(panic) => {
                let _ = tx.rollback().await;
                std::panic::resume_unwind(panic)
            }
        }
    }

    /// Pings the backend and reports its status, latency and pool figures. Never fails: a
    /// backend that cannot be reached is reported `down` with the error.
    pub async fn health_check(&self) -> BackendHealth {
        health::check(self).await
    }

    /// Current pool figures.
    pub fn pool_stats(&self) -> PoolStats {
        let max = self.inner.settings.pool.max_size;
        match self.pool() {
            Ok(p) => {
                let (size, idle) = p.state();
                PoolStats {
                    size,
                    idle,
                    in_use: size.saturating_sub(idle),
                    max,
                }
            }
            Err(_) => PoolStats {
                size: 0,
                idle: 0,
                in_use: 0,
                max,
            },
        }
    }

    /// Closes the pool: new calls fail with [`Error::Closed`]; idle connections close now and
    /// connections in use close when they are returned. Idempotent.
    pub async fn close(&self) {
        self.inner.replicas.close();
        let pool = self.inner.pool.write().ok().and_then(|mut p| p.take());
        if pool.is_some() {
            drop(pool);
            tracing::debug!(backend = %self.inner.settings.name, "pool closed");
        }
    }

    pub(crate) fn outbox_ready(&self) -> &crate::uow::OutboxReady {
        &self.inner.outbox_ready
    }

    /// True once [`Database::close`] was called.
    pub fn is_closed(&self) -> bool {
        self.inner.pool.read().map(|p| p.is_none()).unwrap_or(true)
    }
}

pub(crate) fn not_found(sql: &str) -> Error {
    Error::NotFound {
        entity: "row".into(),
        key: format!("query `{sql}`"),
    }
}
