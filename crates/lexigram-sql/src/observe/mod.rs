//! Observability of one backend: its spans and its [`metrics`].
//!
//! Every statement, transaction, unit of work and migration runs in a `tracing` span on target
//! [`SPAN_TARGET`] carrying OpenTelemetry's database attributes (`db.system`, `db.namespace`,
//! `db.operation.name`, `db.query.text` — the parameterised SQL, never parameter values —,
//! `server.address`, `server.port`, `db.response.returned_rows`, and `error.type`, the error's
//! [`code()`](crate::Error::code), on failure). Export them with `tracing-opentelemetry`; a
//! disabled span costs one check of the callsite's cached interest.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> lexigram_sql::Result<()> {
//! // e.g. tracing_subscriber::registry().with(tracing_opentelemetry::layer()).init();
//! let db = lexigram_sql::Database::connect_url("sqlite://").await?;
//! db.fetch_all("SELECT 1", &[]).await?; // one `db.statement` span, db.operation.name=SELECT
//! assert_eq!(lexigram_sql::observe::operation_name("select * from t"), "SELECT");
//! # Ok(()) }
//! ```

pub mod metrics;
pub(crate) mod span;
pub mod stats;

pub use span::{SPAN_TARGET, operation_name};
pub use stats::{QueryStats, StatementStats};

use crate::Database;
use crate::config::{BackendSettings, SqliteTarget};

/// What every span of one backend carries: its system, namespace and server.
#[derive(Debug)]
pub(crate) struct Observer {
    /// `db.system`: `sqlite`, `postgresql` or `mysql`.
    pub(crate) system: &'static str,
    /// `db.namespace`: the database name, or the SQLite file (`:memory:` for in-memory).
    pub(crate) namespace: Box<str>,
    /// `server.address` of a server backend.
    pub(crate) address: Option<Box<str>>,
    /// `server.port` of a server backend.
    pub(crate) port: Option<u16>,
    /// The metric labels (`backend`, `system`).
    pub(crate) metrics: metrics::Labels,
    /// Per-statement statistics.
    pub(crate) stats: stats::StatsRecorder,
}

impl Observer {
    pub(crate) fn new(settings: &BackendSettings) -> Observer {
        let url = &settings.url;
        let namespace = match url.sqlite_target() {
            Some(SqliteTarget::File(path)) => path.display().to_string(),
            Some(SqliteTarget::Memory) => ":memory:".to_string(),
            None => url.database().unwrap_or_default().to_string(),
        };
        let host_port = url.host_port();
        let (address, port) = match host_port.as_deref().and_then(|hp| hp.rsplit_once(':')) {
            Some((host, port)) => (Some(host.into()), port.parse().ok()),
            None => (None, None),
        };
        Observer {
            metrics: metrics::Labels::new(&settings.name, url.kind().name()),
            stats: stats::StatsRecorder::default(),
            system: url.kind().name(),
            namespace: namespace.into(),
            address,
            port,
        }
    }
}

impl Database {
    /// This backend's statement statistics since it connected (or since
    /// [`Database::reset_query_stats`]): per distinct SQL text, calls, errors, rows, total /
    /// mean / p95 / max time, most total time first, in bounded memory (see [`stats`]).
    /// Shared by all clones of the handle; transactions and repositories count too.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> lexigram_sql::Result<()> {
    /// let db = lexigram_sql::Database::connect_url("sqlite://").await?;
    /// db.execute("CREATE TABLE t (n INTEGER)", &[]).await?;
    /// for n in 0..3 {
    ///     db.execute("INSERT INTO t VALUES (?)", &[n.into()]).await?;
    /// }
    /// let stats = db.query_stats();
    /// let insert = stats.statements.iter().find(|s| s.operation == "INSERT").unwrap();
    /// assert_eq!((insert.calls, insert.rows), (3, 3));
    /// println!("{}", serde_json::to_string_pretty(&stats.top(10)).unwrap());
    /// # Ok(()) }
    /// ```
    pub fn query_stats(&self) -> QueryStats {
        self.observer().stats.snapshot()
    }

    /// Forgets the statistics of [`Database::query_stats`].
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> lexigram_sql::Result<()> {
    /// let db = lexigram_sql::Database::connect_url("sqlite://").await?;
    /// db.fetch_all("SELECT 1", &[]).await?;
    /// db.reset_query_stats();
    /// assert_eq!(db.query_stats().tracked, 0);
    /// # Ok(()) }
    /// ```
    pub fn reset_query_stats(&self) {
        self.observer().stats.reset();
    }
}
