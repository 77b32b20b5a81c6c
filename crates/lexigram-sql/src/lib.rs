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

pub mod backend;
pub mod config;
pub mod database;
pub mod error;
pub mod migrate;
pub mod observe;
#[cfg(feature = "lexigram")]
pub mod provider;
pub mod repository;
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
pub use lexigram_sql_macros::Entity;
pub use migrate::{DowngradeTarget, MigrationReport, MigrationSource, MigrationStatus, Migrator};
pub use observe::{QueryStats, StatementStats};
#[cfg(feature = "lexigram")]
pub use provider::{DatabaseModule, DatabaseProvider, Databases};
pub use repository::{Entity, Filter, Query, Record, Repository, Table};
pub use uow::{Outbox, RetryPolicy, UnitOfWork};
pub use value::{Decimal, FromValue, Interval, Row, ToValue, Value};
