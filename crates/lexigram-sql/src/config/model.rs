//! The `sql` config section as Rust types, with the defaults of the configuration table.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use super::duration;
use super::url::DatabaseUrl;

/// The whole `sql` section: one backend (`backend`, `pool`, …) or several (`backends`).
///
/// Built from defaults → `application.yaml` → `LEX_SQL__*` env → code, and validated before
/// any connection; see [`DatabaseConfig::from_app_config`] and [`DatabaseConfig::from_url`].
/// `Debug` never shows the URL's password.
///
/// ```
/// use std::time::Duration;
/// use lexigram_sql::config::DatabaseConfig;
///
/// let config = DatabaseConfig::default();
/// assert!(config.enabled);
/// assert_eq!(config.backend.url.expose(), "sqlite:///data.db");
/// assert_eq!((config.pool.min_size, config.pool.max_size), (1, 10));
/// assert_eq!(config.pool.timeout, Duration::from_secs(30));
/// assert_eq!(config.operations.statement_timeout, Duration::from_secs(60));
/// assert_eq!(config.migrations.table, "schema_migrations");
/// assert!(config.backends.is_empty());
/// ```
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct DatabaseConfig {
    /// Whether the data layer starts at all (`sql.enabled`, default `true`).
    pub enabled: bool,
    /// The single backend's connection (`sql.backend`), used when `backends` is empty.
    pub backend: BackendConfig,
    /// Pool settings (`sql.pool`), inherited by named backends without their own.
    pub pool: PoolConfig,
    /// Statement settings (`sql.operations`), inherited by named backends without their own.
    pub operations: OperationsConfig,
    /// Migration settings (`sql.migrations`), inherited by named backends without their own.
    pub migrations: MigrationsConfig,
    /// The outbox relay's settings (`sql.outbox`).
    pub outbox: super::OutboxConfig,
    /// The audit log's settings (`sql.audit`).
    pub audit: super::AuditConfig,
    /// Named backends (`sql.backends`); when non-empty they replace `backend`.
    #[serde(deserialize_with = "super::list::deserialize_list")]
    pub backends: Vec<NamedBackendConfig>,
    /// Where each value came from, keyed by dotted key relative to `sql`.
    #[serde(skip)]
    pub(crate) origins: Origins,
    /// `LEX_ENV` as captured when the config was built.
    #[serde(skip)]
    pub(crate) environment: Option<String>,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        DatabaseConfig {
            enabled: true,
            backend: BackendConfig::default(),
            pool: PoolConfig::default(),
            operations: OperationsConfig::default(),
            migrations: MigrationsConfig::default(),
            outbox: super::OutboxConfig::default(),
            audit: super::AuditConfig::default(),
            backends: Vec::new(),
            origins: Origins::default(),
            environment: None,
        }
    }
}

impl fmt::Debug for DatabaseConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatabaseConfig")
            .field("enabled", &self.enabled)
            .field("backend", &self.backend)
            .field("pool", &self.pool)
            .field("operations", &self.operations)
            .field("migrations", &self.migrations)
            .field("outbox", &self.outbox)
            .field("audit", &self.audit)
            .field("backends", &self.backends)
            .field("environment", &self.environment)
            .finish_non_exhaustive()
    }
}

impl PartialEq for DatabaseConfig {
    /// Compares the settings; where they came from does not matter.
    fn eq(&self, other: &Self) -> bool {
        self.enabled == other.enabled
            && self.backend == other.backend
            && self.pool == other.pool
            && self.operations == other.operations
            && self.migrations == other.migrations
            && self.outbox == other.outbox
            && self.audit == other.audit
            && self.backends == other.backends
    }
}

/// A backend's connection (`sql.backend`).
///
/// ```
/// let backend = lexigram_sql::config::BackendConfig::default();
/// assert_eq!(backend.url.to_string(), "sqlite:///data.db");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct BackendConfig {
    /// The database URL (`backend.url`, default `sqlite:///data.db`). Secret: shown redacted.
    pub url: DatabaseUrl,
    /// Whether inserts may use `INSERT … RETURNING` (`backend.returning`, default `auto`).
    pub returning: Returning,
    /// TLS settings (`backend.tls.*`); URL parameters such as `sslmode` override them.
    pub tls: super::TlsConfig,
    /// Whether statements are prepared once per connection and reused (`backend.statement_cache`,
    /// env `LEX_SQL__BACKEND__STATEMENT_CACHE`, default `true`; the URL parameter
    /// `?statement_cache=false` wins). Set it to `false` behind PgBouncer in transaction
    /// pooling mode: every PostgreSQL statement then runs as one unnamed statement
    /// (parse, bind and execute in one round trip) and no named prepared statement is ever
    /// left on a server connection. MySQL/MariaDB and SQLite ignore it.
    pub statement_cache: bool,
    /// Read replicas (`backend.replicas`, env `LEX_SQL__BACKEND__REPLICAS__0__URL`): reads
    /// outside transactions go to them; see [`crate::Database`].
    #[serde(deserialize_with = "super::list::deserialize_list")]
    pub replicas: Vec<super::ReplicaConfig>,
}

impl Default for BackendConfig {
    fn default() -> Self {
        BackendConfig {
            url: DatabaseUrl::default(),
            returning: Returning::default(),
            tls: super::TlsConfig::default(),
            statement_cache: true,
            replicas: Vec::new(),
        }
    }
}

/// Whether inserts read the stored row back with `INSERT … RETURNING` (`backend.returning`,
/// env `LEX_SQL__BACKEND__RETURNING`).
///
/// `auto` uses it wherever the server has it: SQLite, PostgreSQL and MariaDB ≥ 10.5 (the
/// server version is read when the first connection opens). Oracle MySQL and older MariaDB
/// have no `RETURNING`: there an insert is followed by a select of the row by its given key or
/// by the `AUTO_INCREMENT` value the insert generated. `off` forces that path on MySQL/MariaDB
/// and SQLite (to test it, or to work around a server); PostgreSQL always uses `RETURNING`.
///
/// ```
/// use lexigram_sql::config::{BackendConfig, Returning};
/// assert_eq!(BackendConfig::default().returning, Returning::Auto);
/// let off: Returning = serde_json::from_str("\"off\"").unwrap();
/// assert_eq!(off, Returning::Off);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Returning {
    /// Use `RETURNING` wherever the server supports it.
    #[default]
    Auto,
    /// Never use `RETURNING` on MySQL/MariaDB and SQLite; read inserted rows back by key.
    Off,
}

/// Connection pool settings (`sql.pool`).
///
/// ```
/// use std::time::Duration;
/// let pool = lexigram_sql::config::PoolConfig::default().with_max_size(20);
/// assert_eq!(pool.max_size, 20);
/// assert_eq!(pool.min_size, 1);
/// assert_eq!(pool.connect_timeout, Duration::from_secs(5));
/// assert_eq!(pool.idle_timeout, Duration::from_secs(300));
/// assert_eq!(pool.max_lifetime, Duration::from_secs(3600));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct PoolConfig {
    /// Connections kept open when idle (`pool.min_size`, default 1).
    pub min_size: u32,
    /// Most connections open at once (`pool.max_size`, default 10; must be ≥ 1 and ≥ `min_size`).
    pub max_size: u32,
    /// Longest wait for a free connection (`pool.timeout`, default 30s): when it passes while
    /// all `max_size` connections are in use, the call fails with `PoolExhausted`. Also
    /// accepted as `pool.acquire_timeout`, the Python edition's name.
    #[serde(deserialize_with = "duration::deserialize", alias = "acquire_timeout")]
    pub timeout: Duration,
    /// Longest wait for a new connection to the server (`pool.connect_timeout`, default 5s):
    /// a server that is down or unreachable fails the call with `Connect` within this time.
    #[serde(deserialize_with = "duration::deserialize")]
    pub connect_timeout: Duration,
    /// Idle connections above `min_size` are closed after this (`pool.idle_timeout`, default 5m).
    #[serde(deserialize_with = "duration::deserialize")]
    pub idle_timeout: Duration,
    /// Connections are replaced after this age (`pool.max_lifetime`, default 1h). Also
    /// accepted as `pool.recycle`, the Python edition's name.
    #[serde(deserialize_with = "duration::deserialize", alias = "recycle")]
    pub max_lifetime: Duration,
}

impl Default for PoolConfig {
    fn default() -> Self {
        PoolConfig {
            min_size: 1,
            max_size: 10,
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(5),
            idle_timeout: Duration::from_secs(5 * 60),
            max_lifetime: Duration::from_secs(60 * 60),
        }
    }
}

super::setters::with_setters!(PoolConfig {
    with_min_size => min_size: u32,
    with_max_size => max_size: u32,
    with_timeout => timeout: Duration,
    with_connect_timeout => connect_timeout: Duration,
    with_idle_timeout => idle_timeout: Duration,
    with_max_lifetime => max_lifetime: Duration,
});

/// Statement settings (`sql.operations`).
///
/// ```
/// use std::time::Duration;
/// let ops = lexigram_sql::config::OperationsConfig::default();
/// assert!(!ops.echo);
/// assert_eq!(ops.slow_query_threshold, Duration::from_secs(1));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct OperationsConfig {
    /// Log every statement with its duration and row count (`operations.echo`, default false).
    pub echo: bool,
    /// Statements running longer are cancelled (`operations.statement_timeout`, default 60s).
    #[serde(deserialize_with = "duration::deserialize")]
    pub statement_timeout: Duration,
    /// Statements slower than this log at WARN (`operations.slow_query_threshold`, default 1s).
    #[serde(deserialize_with = "duration::deserialize")]
    pub slow_query_threshold: Duration,
}

impl Default for OperationsConfig {
    fn default() -> Self {
        OperationsConfig {
            echo: false,
            statement_timeout: Duration::from_secs(60),
            slow_query_threshold: Duration::from_secs(1),
        }
    }
}

/// Migration settings (`sql.migrations`).
///
/// ```
/// let m = lexigram_sql::config::MigrationsConfig::default();
/// assert_eq!(m.dir, std::path::PathBuf::from("migrations"));
/// assert_eq!(m.lock_timeout, std::time::Duration::from_secs(30));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct MigrationsConfig {
    /// Directory of migration files (`migrations.dir`, default `migrations`).
    pub dir: PathBuf,
    /// Table recording applied migrations (`migrations.table`, default `schema_migrations`).
    pub table: String,
    /// Longest wait for the migration lock (`migrations.lock_timeout`, default 30s).
    #[serde(deserialize_with = "duration::deserialize")]
    pub lock_timeout: Duration,
}

impl Default for MigrationsConfig {
    fn default() -> Self {
        MigrationsConfig {
            dir: PathBuf::from("migrations"),
            table: "schema_migrations".to_string(),
            lock_timeout: Duration::from_secs(30),
        }
    }
}

/// One entry of `sql.backends`. Sections it leaves out (`pool`, `operations`, `migrations`)
/// are inherited whole from the top level; a section it gives replaces the top-level one,
/// its missing keys taking the built-in defaults.
///
/// ```yaml
/// sql:
///   backends:
///     - name: main
///       primary: true
///       backend: { url: "postgresql://app:${DB_PASSWORD}@db/shop" }
///     - name: reports
///       backend: { url: "sqlite:///reports.db" }
///       pool: { max_size: 2 }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct NamedBackendConfig {
    /// Unique name, used to resolve this backend.
    pub name: String,
    /// Whether this is the primary backend (at most one).
    #[serde(default)]
    pub primary: bool,
    /// The connection.
    pub backend: BackendConfig,
    /// Own pool settings, else the top-level `pool`.
    #[serde(default)]
    pub pool: Option<PoolConfig>,
    /// Own statement settings, else the top-level `operations`.
    #[serde(default)]
    pub operations: Option<OperationsConfig>,
    /// Own migration settings, else the top-level `migrations`.
    #[serde(default)]
    pub migrations: Option<MigrationsConfig>,
    /// This backend's migration directory (`backends[].migration_dir`, as in the Python
    /// edition): replaces `migrations.dir` of the settings it has or inherits.
    #[serde(default)]
    pub migration_dir: Option<PathBuf>,
    /// Read replicas (`backends[i].replicas`), after those of `backends[i].backend.replicas`.
    #[serde(default, deserialize_with = "super::list::deserialize_list")]
    pub replicas: Vec<super::ReplicaConfig>,
}

/// One fully resolved backend: what the Database is built from.
///
/// ```
/// let settings = lexigram_sql::config::DatabaseConfig::from_url("sqlite://")?.backends()?;
/// assert_eq!(settings.len(), 1);
/// assert_eq!(settings[0].name, "default");
/// assert!(settings[0].primary);
/// # Ok::<(), lexigram_sql::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BackendSettings {
    /// The backend's name (`default` for the single-backend form).
    pub name: String,
    /// Whether it is the primary backend.
    pub primary: bool,
    /// Its URL.
    pub url: DatabaseUrl,
    /// Whether inserts may use `INSERT … RETURNING` (`backend.returning`).
    pub returning: Returning,
    /// Its TLS settings (`backend.tls.*`); URL parameters such as `sslmode` override them.
    pub tls: super::TlsConfig,
    /// Whether statements are prepared and cached per connection (`backend.statement_cache`,
    /// default `true`); the URL's `statement_cache` parameter overrides it. See
    /// [`BackendConfig::statement_cache`].
    pub statement_cache: bool,
    /// Its read replicas, each with its resolved pool settings.
    pub replicas: Vec<super::ReplicaSettings>,
    /// Its pool settings.
    pub pool: PoolConfig,
    /// Its statement settings.
    pub operations: OperationsConfig,
    /// Its migration settings.
    pub migrations: MigrationsConfig,
}

/// Where config values came from, for error messages: dotted key (relative to `sql`) →
/// `application.yaml key sql.pool.max_size`, `env LEX_SQL__POOL__MAX_SIZE`, `code (…)`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Origins {
    by_key: BTreeMap<String, String>,
}

impl Origins {
    /// What a key without a recorded origin comes from.
    pub(crate) const DEFAULT: &'static str = "built-in default";

    /// The origin of `key`, or of its nearest recorded parent, else the built-in default.
    pub(crate) fn of(&self, key: &str) -> String {
        let mut key = key;
        loop {
            if let Some(origin) = self.by_key.get(key) {
                return origin.clone();
            }
            match key.rfind('.') {
                Some(dot) => key = &key[..dot],
                None => return Self::DEFAULT.to_string(),
            }
        }
    }

    /// Records that `key` and everything below it now come from `origin`.
    pub(crate) fn set(&mut self, key: &str, origin: impl Into<String>) {
        let below = format!("{key}.");
        self.by_key
            .retain(|k, _| k != key && !k.starts_with(&below));
        self.by_key.insert(key.to_string(), origin.into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_fall_back_to_parents_then_default() {
        let mut origins = Origins::default();
        assert_eq!(origins.of("pool.max_size"), "built-in default");
        origins.set("pool.max_size", "env LEX_SQL__POOL__MAX_SIZE");
        assert_eq!(origins.of("pool.max_size"), "env LEX_SQL__POOL__MAX_SIZE");
        assert_eq!(origins.of("pool.min_size"), "built-in default");
        origins.set("pool", "code");
        assert_eq!(origins.of("pool.max_size"), "code");
        assert_eq!(origins.of("pool.min_size"), "code");
    }

    #[test]
    fn debug_redacts_every_type() {
        let url = DatabaseUrl::parse("postgresql://app:hunter2@db/shop").unwrap();
        let backend = BackendConfig {
            url: url.clone(),
            returning: Returning::Auto,
            tls: crate::config::TlsConfig::default(),
            statement_cache: true,
            replicas: vec![
                crate::config::ReplicaConfig::new("postgresql://app:hunter2@replica/shop").unwrap(),
            ],
        };
        let named = NamedBackendConfig {
            name: "main".into(),
            primary: true,
            backend: backend.clone(),
            pool: None,
            operations: None,
            migrations: None,
            migration_dir: None,
            replicas: Vec::new(),
        };
        let config = DatabaseConfig {
            backend: backend.clone(),
            backends: vec![named.clone()],
            ..DatabaseConfig::default()
        };
        let settings = BackendSettings {
            name: "main".into(),
            primary: true,
            url,
            returning: Returning::Auto,
            tls: crate::config::TlsConfig::default(),
            statement_cache: true,
            replicas: vec![crate::config::ReplicaSettings {
                url: DatabaseUrl::parse("postgresql://app:hunter2@replica/shop").unwrap(),
                pool: PoolConfig::default(),
                max_lag: std::time::Duration::from_secs(10),
            }],
            pool: PoolConfig::default(),
            operations: OperationsConfig::default(),
            migrations: MigrationsConfig::default(),
        };
        for text in [
            format!("{backend:?}"),
            format!("{named:?}"),
            format!("{config:?}"),
            format!("{config:#?}"),
            format!("{settings:?}"),
            settings.url.to_string(),
        ] {
            assert!(!text.contains("hunter2"), "{text}");
            assert!(text.contains("app:***@db"), "{text}");
        }
    }
}
