//! Checks run when a config is built, before any connection, and backend resolution.

use std::collections::BTreeMap;
use std::time::Duration;

use super::load::{ENV_VAR, SECTION};
use super::model::{
    BackendConfig, BackendSettings, DatabaseConfig, MigrationsConfig, OperationsConfig, Origins,
    PoolConfig,
};
use super::replicas::{ReplicaConfig, ReplicaSettings};
use super::tls::{TlsConfig, TlsMode, is_loopback, resolve as resolve_tls};
use super::url::{BackendKind, DatabaseUrl};
use crate::error::{ConfigError, ConfigErrorKind, Error};

/// Headline of the pool-bounds error, in the troubleshooting page's words.
pub(crate) const POOL_BOUNDS: &str = "max_size must be >= min_size";

/// The longest duration a setting accepts: 365 days. Longer values are mistakes, and the
/// deadlines computed from them (`Instant + d`, `d + grace`, milliseconds for a driver) must
/// not overflow anywhere downstream.
pub const MAX_DURATION: Duration = Duration::from_secs(365 * 24 * 60 * 60);

/// The longest `operations.statement_timeout`: 24 days, which every backend can enforce —
/// PostgreSQL's `statement_timeout` and SQLite's `busy_timeout` are 32-bit milliseconds
/// (at most 2^31 - 1 ms, about 24.8 days); MySQL's and MariaDB's limits are larger.
pub const MAX_STATEMENT_TIMEOUT: Duration = Duration::from_secs(24 * 24 * 60 * 60);

/// The largest `pool.max_size` (and so `pool.min_size`): 1000 connections. More is a
/// mistake — servers refuse far fewer sessions by default — and a pool opens `min_size`
/// connections at once, so `min_size: 4294967295` would exhaust memory instead of failing.
pub const MAX_POOL_SIZE: u32 = 1000;

/// One duration setting's bounds.
struct DurationRule {
    /// Key below its section, e.g. `timeout`.
    name: &'static str,
    /// The longest value accepted.
    limit: Duration,
    /// Why zero is refused, or `None` when zero has a meaning (disabled).
    zero: Option<&'static str>,
}

const POOL_DURATIONS: [DurationRule; 4] = [
    DurationRule {
        name: "timeout",
        limit: MAX_DURATION,
        zero: Some("a zero acquire timeout would fail every checkout"),
    },
    DurationRule {
        name: "connect_timeout",
        limit: MAX_DURATION,
        zero: Some("a zero connect timeout would fail every new connection"),
    },
    DurationRule {
        name: "idle_timeout",
        limit: MAX_DURATION,
        zero: None,
    },
    DurationRule {
        name: "max_lifetime",
        limit: MAX_DURATION,
        zero: None,
    },
];

const OPERATIONS_DURATIONS: [DurationRule; 2] = [
    DurationRule {
        name: "statement_timeout",
        limit: MAX_STATEMENT_TIMEOUT,
        zero: None,
    },
    DurationRule {
        name: "slow_query_threshold",
        limit: MAX_DURATION,
        zero: None,
    },
];

const OUTBOX_DURATIONS: [DurationRule; 3] = [
    DurationRule {
        name: "poll_interval",
        limit: MAX_DURATION,
        zero: Some("a zero poll interval would query the outbox in a busy loop"),
    },
    DurationRule {
        name: "batch_max_age",
        limit: MAX_DURATION,
        zero: None,
    },
    DurationRule {
        name: "lease",
        limit: MAX_DURATION,
        zero: Some("a zero lease would let every relay claim every batch at once"),
    },
];

/// The largest `outbox.batch_size`: more events than this per batch would exceed the
/// backends' parameter limits when the batch is marked published.
pub const MAX_OUTBOX_BATCH: u32 = 10_000;

/// A replica's `max_lag`: zero turns the lag check off.
const MAX_LAG: DurationRule = DurationRule {
    name: "max_lag",
    limit: MAX_DURATION,
    zero: None,
};

const MIGRATIONS_DURATIONS: [DurationRule; 1] = [DurationRule {
    name: "lock_timeout",
    limit: MAX_DURATION,
    zero: None,
}];

/// Checks each `(rule, value)` of the section at `at` (`pool`, `backends.0.operations`),
/// naming the key and, through `origin`, where its value came from.
fn check_durations<'a>(
    at: &str,
    values: impl IntoIterator<Item = (&'a DurationRule, Duration)>,
    origin: &dyn Fn(&str) -> String,
) -> Result<(), Error> {
    for (rule, value) in values {
        let key = format!("{at}.{}", rule.name);
        let problem = match rule.zero {
            Some(why) if value.is_zero() => format!("is 0: {why}"),
            _ if value > rule.limit => format!(
                "= {} is longer than the limit of {}",
                humantime::format_duration(value),
                humantime::format_duration(rule.limit)
            ),
            _ => continue,
        };
        let zero_hint = if rule.zero.is_some() {
            "a positive "
        } else {
            "a "
        };
        return Err(Error::Configuration(ConfigError {
            kind: ConfigErrorKind::InvalidValue,
            headline: "Invalid configuration value".to_string(),
            detail: format!("`{SECTION}.{key}` {problem}"),
            source_name: Some(origin(&key)),
            fix: format!(
                "set {SECTION}.{key} to {zero_hint}duration of at most {} (seconds such as 30, or a unit string such as 500ms, 30s, 5m)",
                humantime::format_duration(rule.limit)
            ),
        }));
    }
    Ok(())
}

fn pool_durations(pool: &PoolConfig) -> [(&'static DurationRule, Duration); 4] {
    let [timeout, connect, idle, lifetime] = &POOL_DURATIONS;
    [
        (timeout, pool.timeout),
        (connect, pool.connect_timeout),
        (idle, pool.idle_timeout),
        (lifetime, pool.max_lifetime),
    ]
}

fn operations_durations(ops: &OperationsConfig) -> [(&'static DurationRule, Duration); 2] {
    let [statement, slow] = &OPERATIONS_DURATIONS;
    [
        (statement, ops.statement_timeout),
        (slow, ops.slow_query_threshold),
    ]
}

fn outbox_durations(outbox: &super::OutboxConfig) -> [(&'static DurationRule, Duration); 3] {
    let [poll, age, lease] = &OUTBOX_DURATIONS;
    [
        (poll, outbox.poll_interval),
        (age, outbox.batch_max_age),
        (lease, outbox.lease),
    ]
}

/// `1 <= outbox.batch_size <= MAX_OUTBOX_BATCH`.
fn check_outbox(
    outbox: &super::OutboxConfig,
    origin: &dyn Fn(&str) -> String,
) -> Result<(), Error> {
    check_durations("outbox", outbox_durations(outbox), origin)?;
    if outbox.batch_size == 0 || outbox.batch_size > MAX_OUTBOX_BATCH {
        return Err(Error::Configuration(ConfigError {
            kind: ConfigErrorKind::InvalidValue,
            headline: "Invalid configuration value".to_string(),
            detail: format!("`{SECTION}.outbox.batch_size` is {}", outbox.batch_size),
            source_name: Some(origin("outbox.batch_size")),
            fix: format!(
                "set sql.outbox.batch_size between 1 and {MAX_OUTBOX_BATCH} (default 100)"
            ),
        }));
    }
    Ok(())
}

fn migrations_durations(migrations: &MigrationsConfig) -> [(&'static DurationRule, Duration); 1] {
    let [lock] = &MIGRATIONS_DURATIONS;
    [(lock, migrations.lock_timeout)]
}

/// `1 <= pool.max_size <= MAX_POOL_SIZE` and `max_size >= min_size`.
fn check_sizes(pool: &PoolConfig, at: &str, origin: &dyn Fn(&str) -> String) -> Result<(), Error> {
    let max_key = format!("{at}.max_size");
    let min_key = format!("{at}.min_size");
    if pool.max_size == 0 {
        return Err(Error::Configuration(ConfigError {
            kind: ConfigErrorKind::InvalidValue,
            headline: "max_size must be >= 1".to_string(),
            detail: format!("`{SECTION}.{max_key}` is 0"),
            source_name: Some(origin(&max_key)),
            fix: "set sql.pool.max_size to 1 or more (default 10)".to_string(),
        }));
    }
    if pool.max_size > MAX_POOL_SIZE {
        return Err(Error::Configuration(ConfigError {
            kind: ConfigErrorKind::InvalidValue,
            headline: format!("max_size must be <= {MAX_POOL_SIZE}"),
            detail: format!("`{SECTION}.{max_key}` is {}", pool.max_size),
            source_name: Some(origin(&max_key)),
            fix: format!(
                "set sql.pool.max_size to at most {MAX_POOL_SIZE} (default 10); a server accepts only so many sessions"
            ),
        }));
    }
    if pool.max_size < pool.min_size {
        let source_name = bounds_source(origin(&max_key), origin(&min_key));
        return Err(Error::Configuration(ConfigError {
            kind: ConfigErrorKind::PoolBounds,
            headline: POOL_BOUNDS.to_string(),
            detail: format!(
                "`{SECTION}.{at}` has min_size = {} and max_size = {}",
                pool.min_size, pool.max_size
            ),
            source_name: Some(source_name),
            fix: "adjust pool sizing so that max_size >= min_size, e.g. sql.pool.min_size: 2 and sql.pool.max_size: 10".to_string(),
        }));
    }
    Ok(())
}

impl BackendSettings {
    /// The checks of [`DatabaseConfig::validate`] that keep the pool and drivers from
    /// panicking (pool sizes, zero and overlong durations), for settings built in code and
    /// handed to [`crate::Database::connect`] directly. Errors name the source
    /// `code (BackendSettings)`.
    pub(crate) fn check(&self) -> Result<(), Error> {
        let origin = |_: &str| "code (BackendSettings)".to_string();
        check_sizes(&self.pool, "pool", &origin)?;
        check_durations("pool", pool_durations(&self.pool), &origin)?;
        check_durations(
            "operations",
            operations_durations(&self.operations),
            &origin,
        )?;
        check_durations(
            "migrations",
            migrations_durations(&self.migrations),
            &origin,
        )?;
        for (index, replica) in self.replicas.iter().enumerate() {
            let at = format!("replicas.{index}.pool");
            check_sizes(&replica.pool, &at, &origin)?;
            check_durations(&at, pool_durations(&replica.pool), &origin)?;
            check_durations(
                &format!("replicas.{index}"),
                [(&MAX_LAG, replica.max_lag)],
                &origin,
            )?;
        }
        Ok(())
    }
}

/// Names where the pool bounds came from: `max_size`'s source, and `min_size`'s too when it
/// is another file or the environment rather than the same place.
fn bounds_source(max_origin: String, min_origin: String) -> String {
    let place = |origin: &str| -> String {
        match origin.split_once(" key ") {
            Some((file, _)) => file.to_string(),
            None if origin.starts_with("env ") => "env".to_string(),
            None => origin.to_string(),
        }
    };
    if max_origin == Origins::DEFAULT || place(&max_origin) == place(&min_origin) {
        if max_origin == Origins::DEFAULT {
            min_origin
        } else {
            max_origin
        }
    } else if min_origin == Origins::DEFAULT {
        max_origin
    } else {
        format!("{max_origin}; min_size from {min_origin}")
    }
}

impl DatabaseConfig {
    /// Checks pool bounds, migration table names, named backends, default passwords (with
    /// `LEX_ENV=production`) and that each URL's driver is compiled in.
    ///
    /// Every failure is an [`Error::Configuration`] naming the value and where it came from,
    /// except a missing driver, which is [`Error::DriverMissing`] naming the cargo feature.
    ///
    /// ```
    /// use lexigram_sql::config::{DatabaseConfig, PoolConfig};
    /// use lexigram_sql::{ConfigErrorKind, Error};
    /// let config = DatabaseConfig::default()
    ///     .with_pool(PoolConfig::default().with_min_size(10).with_max_size(2));
    /// match config.validate() {
    ///     Err(Error::Configuration(e)) => {
    ///         assert_eq!(e.kind, ConfigErrorKind::PoolBounds);
    ///         assert_eq!(e.headline, "max_size must be >= min_size");
    ///         assert_eq!(e.source_name.as_deref(), Some("code (DatabaseConfig::with_pool)"));
    ///     }
    ///     other => panic!("{other:?}"),
    /// }
    /// ```
    pub fn validate(&self) -> Result<(), Error> {
        let origin = |key: &str| self.origins.of(key);
        self.check_pool(&self.pool, "pool")?;
        check_durations(
            "operations",
            operations_durations(&self.operations),
            &origin,
        )?;
        self.check_migrations(&self.migrations, "migrations")?;
        check_outbox(&self.outbox, &origin)?;
        super::check_audit(&self.audit, &origin)?;
        for (index, backend) in self.backends.iter().enumerate() {
            if let Some(pool) = &backend.pool {
                self.check_pool(pool, &format!("backends.{index}.pool"))?;
            }
            if let Some(operations) = &backend.operations {
                check_durations(
                    &format!("backends.{index}.operations"),
                    operations_durations(operations),
                    &origin,
                )?;
            }
            if let Some(migrations) = &backend.migrations {
                self.check_migrations(migrations, &format!("backends.{index}.migrations"))?;
            }
        }
        self.check_names()?;
        if self.backends.is_empty() {
            // TLS settings first: a bad `sslmode` is a configuration error whether or not
            // the URL's driver is compiled in.
            self.check_tls(&self.backend.url, &self.backend.tls, "backend")?;
            self.check_url(&self.backend.url, "backend.url")?;
            self.check_replicas(&self.backend, &[], &self.pool, &["backend.replicas"])?;
        } else {
            for (index, backend) in self.backends.iter().enumerate() {
                self.check_tls(
                    &backend.backend.url,
                    &backend.backend.tls,
                    &format!("backends.{index}.backend"),
                )?;
                self.check_url(
                    &backend.backend.url,
                    &format!("backends.{index}.backend.url"),
                )?;
                self.check_replicas(
                    &backend.backend,
                    &backend.replicas,
                    backend.pool.as_ref().unwrap_or(&self.pool),
                    &[
                        &format!("backends.{index}.backend.replicas"),
                        &format!("backends.{index}.replicas"),
                    ],
                )?;
            }
        }
        Ok(())
    }

    /// The backends to open, validated: each entry of `backends` (inheriting the top-level
    /// `pool`, `operations` and `migrations` it does not set), or, when that list is empty,
    /// one primary backend named `default` from `backend`.
    ///
    /// Several backends with none primary is not an error here; resolving the primary
    /// reports it.
    ///
    /// ```
    /// use lexigram::AppConfig;
    /// use lexigram_sql::config::DatabaseConfig;
    ///
    /// let yaml = "sql:\n  pool: { max_size: 4 }\n  backends:\n    - name: main\n      primary: true\n      backend: { url: 'sqlite://' }\n    - name: reports\n      backend: { url: 'sqlite:///reports.db' }\n      pool: { max_size: 2 }\n";
    /// let app = AppConfig::from_yaml_and_env(yaml, "application.yaml", []).unwrap();
    /// let backends = DatabaseConfig::from_app_config(&app)?.backends()?;
    /// assert_eq!(backends[0].name, "main");
    /// assert_eq!(backends[0].pool.max_size, 4);
    /// assert_eq!(backends[1].pool.max_size, 2);
    /// # Ok::<(), lexigram_sql::Error>(())
    /// ```
    pub fn backends(&self) -> Result<Vec<BackendSettings>, Error> {
        let settings = self.resolve_backends()?;
        if self.is_production() {
            for backend in &settings {
                warn_weak_tls(backend);
            }
        }
        Ok(settings)
    }

    fn resolve_backends(&self) -> Result<Vec<BackendSettings>, Error> {
        self.validate()?;
        if self.backends.is_empty() {
            return Ok(vec![BackendSettings {
                name: "default".to_string(),
                primary: true,
                url: self.backend.url.clone(),
                returning: self.backend.returning,
                tls: self.backend.tls.clone(),
                statement_cache: self.backend.statement_cache,
                replicas: resolve_replicas(&self.backend.replicas, &[], &self.pool),
                pool: self.pool.clone(),
                operations: self.operations.clone(),
                migrations: self.migrations.clone(),
            }]);
        }
        Ok(self
            .backends
            .iter()
            .map(|b| BackendSettings {
                name: b.name.clone(),
                primary: b.primary,
                url: b.backend.url.clone(),
                returning: b.backend.returning,
                tls: b.backend.tls.clone(),
                statement_cache: b.backend.statement_cache,
                replicas: resolve_replicas(
                    &b.backend.replicas,
                    &b.replicas,
                    b.pool.as_ref().unwrap_or(&self.pool),
                ),
                pool: b.pool.clone().unwrap_or_else(|| self.pool.clone()),
                operations: b
                    .operations
                    .clone()
                    .unwrap_or_else(|| self.operations.clone()),
                migrations: {
                    let mut migrations = b
                        .migrations
                        .clone()
                        .unwrap_or_else(|| self.migrations.clone());
                    if let Some(dir) = &b.migration_dir {
                        migrations.dir = dir.clone();
                    }
                    migrations
                },
            })
            .collect())
    }

    /// True when `LEX_ENV` (as captured) is `production`.
    fn is_production(&self) -> bool {
        self.environment
            .as_deref()
            .is_some_and(|env| env.trim().eq_ignore_ascii_case("production"))
    }

    fn error(
        &self,
        kind: ConfigErrorKind,
        headline: &str,
        detail: String,
        key: &str,
        fix: &str,
    ) -> Error {
        Error::Configuration(ConfigError {
            kind,
            headline: headline.to_string(),
            detail,
            source_name: Some(self.origins.of(key)),
            fix: fix.to_string(),
        })
    }

    fn check_pool(&self, pool: &PoolConfig, at: &str) -> Result<(), Error> {
        let origin = |key: &str| self.origins.of(key);
        check_sizes(pool, at, &origin)?;
        check_durations(at, pool_durations(pool), &origin)
    }

    fn check_migrations(&self, migrations: &MigrationsConfig, at: &str) -> Result<(), Error> {
        check_durations(at, migrations_durations(migrations), &|key| {
            self.origins.of(key)
        })?;
        let table = &migrations.table;
        if !crate::ident::is_table(table) {
            let key = format!("{at}.table");
            return Err(self.error(
                ConfigErrorKind::InvalidValue,
                "Invalid configuration value",
                format!("`{SECTION}.{key}` = `{table}` is not a table name"),
                &key,
                "use letters, digits and underscores (at most 63 per part), optionally schema-qualified (e.g. schema_migrations or app.schema_migrations)",
            ));
        }
        Ok(())
    }

    fn check_names(&self) -> Result<(), Error> {
        let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
        let mut primary: Option<usize> = None;
        for (index, backend) in self.backends.iter().enumerate() {
            let key = format!("backends.{index}.name");
            if backend.name.trim().is_empty() {
                return Err(self.error(
                    ConfigErrorKind::Backends,
                    "Invalid backends",
                    format!("`{SECTION}.{key}` is empty"),
                    &key,
                    "give every backend a unique, non-empty name",
                ));
            }
            if let Some(first) = seen.insert(backend.name.as_str(), index) {
                return Err(self.error(
                    ConfigErrorKind::Backends,
                    "Invalid backends",
                    format!(
                        "backend name `{}` is used twice ({SECTION}.backends.{first} and {SECTION}.backends.{index})",
                        backend.name
                    ),
                    &key,
                    "give every backend a unique name",
                ));
            }
            if backend.primary {
                if let Some(first) = primary {
                    let key = format!("backends.{index}.primary");
                    return Err(self.error(
                        ConfigErrorKind::Backends,
                        "Invalid backends",
                        format!(
                            "more than one primary backend: `{}` and `{}`",
                            self.backends[first].name, backend.name
                        ),
                        &key,
                        "mark exactly one backend `primary: true`",
                    ));
                }
                primary = Some(index);
            }
        }
        Ok(())
    }

    /// The URL's TLS parameters and `backend.tls` merge into valid settings.
    fn check_tls(&self, url: &DatabaseUrl, tls: &TlsConfig, key: &str) -> Result<(), Error> {
        if url.kind() == BackendKind::Sqlite {
            return Ok(());
        }
        match resolve_tls(url.expose(), tls) {
            Ok(_) => Ok(()),
            Err(mut e) => {
                let url_origin = self.origins.of(&format!("{key}.url"));
                let tls_origin = self.origins.of(&format!("{key}.tls.mode"));
                e.source_name = Some(if tls_origin == Origins::DEFAULT {
                    url_origin
                } else {
                    format!("{url_origin}; {key}.tls from {tls_origin}")
                });
                Err(Error::Configuration(e))
            }
        }
    }

    /// Each replica: a server URL of the primary's kind, valid TLS, a valid resolved pool.
    /// `keys` name the lists (`backend.replicas`, and `backends.0.replicas` for the second).
    fn check_replicas(
        &self,
        backend: &BackendConfig,
        more: &[ReplicaConfig],
        pool: &PoolConfig,
        keys: &[&str],
    ) -> Result<(), Error> {
        let lists = [backend.replicas.as_slice(), more];
        for (list, at) in lists.iter().zip(keys) {
            for (index, replica) in list.iter().enumerate() {
                let key = format!("{at}.{index}");
                let url_key = format!("{key}.url");
                let kind = backend.url.kind();
                if kind == BackendKind::Sqlite || replica.url.kind() != kind {
                    let detail = if kind == BackendKind::Sqlite {
                        format!(
                            "`{SECTION}.{url_key}` = `{}` is a replica of a SQLite database, which has none",
                            replica.url.redacted()
                        )
                    } else {
                        format!(
                            "`{SECTION}.{url_key}` = `{}` is a {} URL but its primary is {}",
                            replica.url.redacted(),
                            replica.url.kind().name(),
                            kind.name()
                        )
                    };
                    return Err(self.error(
                        ConfigErrorKind::InvalidValue,
                        "Invalid replica",
                        detail,
                        &url_key,
                        "give each replica a URL of the same server type as its primary (PostgreSQL streaming replicas, MariaDB/MySQL replicas), or remove it",
                    ));
                }
                self.check_url(&replica.url, &url_key)?;
                self.check_tls(&replica.url, &backend.tls, &key)?;
                self.check_pool(&replica.pool.over(pool), &format!("{key}.pool"))?;
                if let Some(max_lag) = replica.max_lag {
                    check_durations(&key, [(&MAX_LAG, max_lag)], &|k| self.origins.of(k))?;
                }
            }
        }
        Ok(())
    }

    fn check_url(&self, url: &DatabaseUrl, key: &str) -> Result<(), Error> {
        if self.is_production() && url.has_default_password() {
            return Err(self.error(
                ConfigErrorKind::DefaultPassword,
                "Default password rejected in production",
                format!(
                    "`{}` ({SECTION}.{key}) uses a well-known default password and {ENV_VAR}=production",
                    url.redacted()
                ),
                key,
                "use a strong password; keep it out of files with ${DB_PASSWORD} interpolation or LEX_SQL__BACKEND__URL",
            ));
        }
        let kind = url.kind();
        if kind != BackendKind::Sqlite
            && let Err(mut e) = super::statement_cache::split(url.expose())
        {
            e.detail = url.scrub(&e.detail);
            e.source_name = Some(self.origins.of(key));
            return Err(Error::Configuration(e));
        }
        if self.enabled && !kind.is_compiled_in() {
            return Err(Error::DriverMissing {
                backend: kind.name(),
                feature: kind.feature(),
                url: url.redacted(),
            });
        }
        Ok(())
    }
}

/// The replicas of `backend.replicas` then `more`, each pool over `pool`.
fn resolve_replicas(
    replicas: &[ReplicaConfig],
    more: &[ReplicaConfig],
    pool: &PoolConfig,
) -> Vec<ReplicaSettings> {
    replicas
        .iter()
        .chain(more)
        .map(|r| ReplicaSettings {
            url: r.url.clone(),
            pool: r.pool.over(pool),
            max_lag: r.max_lag.unwrap_or(super::replicas::DEFAULT_MAX_LAG),
        })
        .collect()
}

/// Under `LEX_ENV=production`, a server backend on a non-loopback host whose TLS mode is
/// below `verify-full` logs a WARN naming the fix.
fn warn_weak_tls(backend: &BackendSettings) {
    if backend.url.kind() == BackendKind::Sqlite || is_loopback(backend.url.host()) {
        return;
    }
    let Ok((_, tls)) = resolve_tls(backend.url.expose(), &backend.tls) else {
        return;
    };
    if tls.mode < TlsMode::VerifyFull {
        tracing::warn!(
            backend = %backend.name,
            target = backend.url.host_port().unwrap_or_default(),
            tls_mode = %tls.mode,
            "TLS mode {} does not verify the server's certificate and host name on a non-loopback host in production. Fix: add sslmode=verify-full (PostgreSQL) or ssl-mode=VERIFY_IDENTITY (MySQL) to the URL, or set sql.backend.tls.mode: verify-full (LEX_SQL__BACKEND__TLS__MODE=verify-full), with the server's CA in sslrootcert / ssl-ca / sql.backend.tls.root_cert",
            tls.mode
        );
    }
}
