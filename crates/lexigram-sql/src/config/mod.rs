//! Configuration of the data layer: the `sql` section.
//!
//! Sources, lowest to highest precedence: built-in defaults → `application.yaml` (or the
//! file named by `LEX_CONFIG_FILE`) → `LEX_SQL__*` environment variables → values set in
//! code (`with_*`). YAML values may use `${VAR}` and `${VAR:default}`.
//!
//! | key | default | env var |
//! |---|---|---|
//! | `enabled` | `true` | `LEX_SQL__ENABLED` |
//! | `backend.url` | `sqlite:///data.db` | `LEX_SQL__BACKEND__URL` |
//! | `backend.statement_cache` (off behind PgBouncer) | `true` | `LEX_SQL__BACKEND__STATEMENT_CACHE` |
//! | `backend.replicas[i].url` / `.pool.*` (read replicas) | none | `LEX_SQL__BACKEND__REPLICAS__0__URL`, … |
//! | `pool.min_size` | 1 | `LEX_SQL__POOL__MIN_SIZE` |
//! | `pool.max_size` | 10 | `LEX_SQL__POOL__MAX_SIZE` |
//! | `pool.timeout` (acquire) | 30s | `LEX_SQL__POOL__TIMEOUT` |
//! | `pool.connect_timeout` (new connection) | 5s | `LEX_SQL__POOL__CONNECT_TIMEOUT` |
//! | `pool.idle_timeout` | 5m | `LEX_SQL__POOL__IDLE_TIMEOUT` |
//! | `pool.max_lifetime` | 1h | `LEX_SQL__POOL__MAX_LIFETIME` |
//! | `operations.echo` | `false` | `LEX_SQL__OPERATIONS__ECHO` |
//! | `operations.statement_timeout` | 60s | `LEX_SQL__OPERATIONS__STATEMENT_TIMEOUT` |
//! | `operations.slow_query_threshold` | 1s | `LEX_SQL__OPERATIONS__SLOW_QUERY_THRESHOLD` |
//! | `migrations.dir` | `migrations` | `LEX_SQL__MIGRATIONS__DIR` |
//! | `migrations.table` | `schema_migrations` | `LEX_SQL__MIGRATIONS__TABLE` |
//! | `migrations.lock_timeout` | 30s | `LEX_SQL__MIGRATIONS__LOCK_TIMEOUT` |
//! | `backends[i].name / primary / backend.url / pool.* / …` | — | `LEX_SQL__BACKENDS__0__NAME`, … |
//!
//! Durations are plain seconds (`60`) or unit strings (`120s`, `5m`, `1h`, `500ms`), at most
//! [`MAX_DURATION`] (365 days; `operations.statement_timeout` at most
//! [`MAX_STATEMENT_TIMEOUT`], 24 days). `pool.timeout` and `pool.connect_timeout` must not be zero; a zero
//! `idle_timeout`, `max_lifetime` or `statement_timeout` turns that limit off.
//! Unknown keys, wrong types and bad durations are errors. Validation runs when the config
//! is built, before any connection; every failure names the value (password redacted) and
//! its source (`application.yaml key sql.pool.max_size`, `env LEX_SQL__POOL__MAX_SIZE`).
//!
//! ```
//! use lexigram::AppConfig;
//! use lexigram_sql::config::DatabaseConfig;
//!
//! let yaml = "sql:\n  backend:\n    url: ${DATABASE_URL:sqlite:///shop.db}\n  pool:\n    max_size: 20\n    timeout: 10s\n";
//! let app = AppConfig::from_yaml_and_env(yaml, "application.yaml", [])?;
//! let config = DatabaseConfig::from_app_config(&app)?;
//! assert_eq!(config.backend.url.to_string(), "sqlite:///shop.db");
//! assert_eq!(config.pool.timeout, std::time::Duration::from_secs(10));
//!
//! let env = [("LEX_SQL__BACKEND__URL".to_string(), "mydb://localhost/db".to_string())];
//! let app = AppConfig::from_yaml_and_env(yaml, "application.yaml", env)?;
//! let err = DatabaseConfig::from_app_config(&app).unwrap_err().to_string();
//! assert!(err.starts_with("ConfigurationError: Invalid database URL prefix"));
//! assert!(err.contains("env LEX_SQL__BACKEND__URL"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#[cfg(feature = "lexigram")]
mod app;
mod audit;
#[cfg(feature = "lexigram")]
mod compat;
mod duration;
mod list;
mod load;
mod model;
mod outbox;
mod primary;
mod replicas;
mod setters;
mod statement_cache;
mod tls;
mod url;
mod validate;

#[cfg(test)]
#[cfg(feature = "lexigram")]
mod tests;

pub(crate) use audit::check_audit;
pub use audit::{AuditConfig, AuditKey, MIN_AUDIT_KEY_BYTES};
pub use duration::parse_duration;
pub use load::{ENV_VAR, SECTION};
pub use model::{
    BackendConfig, BackendSettings, DatabaseConfig, MigrationsConfig, NamedBackendConfig,
    OperationsConfig, PoolConfig, Returning,
};
pub use outbox::OutboxConfig;
#[cfg(feature = "lexigram")]
pub(crate) use primary::no_primary;
pub use primary::{primary, primary_index};
pub use replicas::{DEFAULT_MAX_LAG, PoolOverride, ReplicaConfig, ReplicaSettings};
#[cfg(any(feature = "postgres", feature = "mysql"))]
pub(crate) use statement_cache::split as split_statement_cache;
#[cfg(any(feature = "postgres", feature = "mysql"))]
pub(crate) use tls::{Tls, resolve as resolve_tls};
pub use tls::{TlsConfig, TlsMode};
pub use url::{BackendKind, DEFAULT_URL, DatabaseUrl, SqliteTarget, redact};
pub use validate::{MAX_DURATION, MAX_OUTBOX_BATCH, MAX_POOL_SIZE, MAX_STATEMENT_TIMEOUT};
