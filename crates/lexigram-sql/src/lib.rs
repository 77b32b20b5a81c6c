//! # lexigram-sql
//!
//! The SQL data layer of the lexigram application framework: layered configuration, pooled
//! native drivers (SQLite by default, PostgreSQL and MySQL/MariaDB as cargo features), a
//! cheap-to-clone [`Database`] handle, transactions, typed errors and health reports.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> lexigram_sql::Result<()> {
//! use lexigram_sql::{Database, DatabaseConfig};
//! let db = Database::from_config(&DatabaseConfig::from_url("sqlite:///:memory:")?).await?;
//! let row = db.fetch_one("SELECT 1 + 1 AS two", &[]).await?;
//! assert_eq!(row.get::<i64>("two")?, 2);
//! # Ok(()) }
//! ```
//!
//! ## Cargo features
#![doc = document_features::document_features!()]

#[cfg(not(any(feature = "sqlite", feature = "postgres", feature = "mysql")))]
compile_error!(
    "lexigram-sql needs at least one backend: enable the cargo feature `sqlite`, `postgres` or \
     `mysql` (for example `lexigram-sql = { version = \"0.1\", features = [\"sqlite\"] }`)"
);

pub mod audit;
pub mod backend;
pub mod config;
pub mod database;
pub mod error;
pub mod ident;
pub mod migrate;
pub mod observe;
#[cfg(feature = "lexigram")]
pub mod provider;
pub mod repository;
pub mod scope;
pub mod uow;
pub mod value;

pub use config::{
    BackendConfig, BackendKind, BackendSettings, DatabaseConfig, DatabaseUrl, MigrationsConfig,
    NamedBackendConfig, OperationsConfig, PoolConfig, SqliteTarget,
};
pub use database::{
    BackendHealth, Database, Executor, HealthReport, HealthStatus, Inserted, PoolStats,
    ReplicaHealth, Savepoint, Session, SessionStats, Transaction,
};
pub use error::{
    ConfigError, ConfigErrorKind, ConflictKind, ConnectError, ConnectErrorKind, ConstraintKind,
    Error, MigrationError, MigrationErrorKind, Result, TlsFailure,
};
/// Embeds migration files in the binary, for auto-migration without the files on disk.
/// Evaluates to `Result<MigrationSource>`.
///
/// Give a directory: its `.sql` files (`<version>_<name>.up.sql` and `.down.sql`) are
/// embedded, as [`MigrationSource::from_dir`] would read them at run time. Or list files, to
/// embed some of a directory or files from several. Paths are relative to the file that
/// invokes the macro, as with `include_str!`. Editing an embedded file rebuilds the crate;
/// a file added to the directory is picked up at the next build of the invoking crate (touch
/// the invoking file, or add a `build.rs` printing `cargo:rerun-if-changed=migrations`, as
/// with sqlx's `migrate!`).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> lexigram_sql::Result<()> {
/// let source = lexigram_sql::embed_migrations!("../tests/fixtures/migrations_lf")?;
/// assert_eq!(source.migrations().len(), 2);
/// let db = lexigram_sql::Database::connect_url("sqlite://").await?;
/// db.migrate(&source).await?;
/// let n: i64 = db.fetch_one("SELECT COUNT(*) AS n FROM users", &[]).await?.get("n")?;
/// assert_eq!(n, 1);
///
/// let listed = lexigram_sql::embed_migrations!(
///     "../tests/fixtures/migrations_lf/0001_users.up.sql",
///     "../tests/fixtures/migrations_lf/0001_users.down.sql",
/// )?;
/// assert_eq!(listed.migrations(), &source.migrations()[..1]);
/// # Ok(()) }
/// ```
pub use lexigram_sql_macros::embed_migrations;
pub use lexigram_sql_macros::{Entity, FromRow};
pub use migrate::{DowngradeTarget, MigrationReport, MigrationSource, MigrationStatus, Migrator};
pub use observe::{QueryStats, StatementStats};
#[cfg(feature = "lexigram")]
pub use provider::{DatabaseModule, DatabaseProvider, Databases};
pub use repository::{Entity, Filter, FromRow, Query, Record, Repository, Table};
pub use uow::{Outbox, RetryPolicy, UnitOfWork};
pub use value::{Decimal, FromValue, Interval, Row, ToValue, Value};
