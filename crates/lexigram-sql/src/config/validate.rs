//! Checks run when a config is built, before any connection, and backend resolution.

use std::collections::BTreeMap;

use super::load::{ENV_VAR, SECTION};
use super::model::{BackendSettings, DatabaseConfig, MigrationsConfig, Origins, PoolConfig};
use super::url::DatabaseUrl;
use crate::error::{ConfigError, ConfigErrorKind, Error};

/// Headline of the pool-bounds error, in the troubleshooting page's words.
pub(crate) const POOL_BOUNDS: &str = "max_size must be >= min_size";

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
    ///     .with_pool(PoolConfig { min_size: 10, max_size: 2, ..Default::default() });
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
        self.check_pool(&self.pool, "pool")?;
        self.check_migrations(&self.migrations, "migrations")?;
        for (index, backend) in self.backends.iter().enumerate() {
            if let Some(pool) = &backend.pool {
                self.check_pool(pool, &format!("backends.{index}.pool"))?;
            }
            if let Some(migrations) = &backend.migrations {
                self.check_migrations(migrations, &format!("backends.{index}.migrations"))?;
            }
        }
        self.check_names()?;
        if self.backends.is_empty() {
            self.check_url(&self.backend.url, "backend.url")?;
        } else {
            for (index, backend) in self.backends.iter().enumerate() {
                self.check_url(
                    &backend.backend.url,
                    &format!("backends.{index}.backend.url"),
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
        self.validate()?;
        if self.backends.is_empty() {
            return Ok(vec![BackendSettings {
                name: "default".to_string(),
                primary: true,
                url: self.backend.url.clone(),
                returning: self.backend.returning,
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
                pool: b.pool.clone().unwrap_or_else(|| self.pool.clone()),
                operations: b
                    .operations
                    .clone()
                    .unwrap_or_else(|| self.operations.clone()),
                migrations: b
                    .migrations
                    .clone()
                    .unwrap_or_else(|| self.migrations.clone()),
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
        let max_key = format!("{at}.max_size");
        let min_key = format!("{at}.min_size");
        if pool.max_size == 0 {
            return Err(self.error(
                ConfigErrorKind::InvalidValue,
                "max_size must be >= 1",
                format!("`{SECTION}.{max_key}` is 0"),
                &max_key,
                "set sql.pool.max_size to 1 or more (default 10)",
            ));
        }
        if pool.max_size < pool.min_size {
            let source_name = bounds_source(self.origins.of(&max_key), self.origins.of(&min_key));
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

    fn check_migrations(&self, migrations: &MigrationsConfig, at: &str) -> Result<(), Error> {
        let table = &migrations.table;
        let valid_part = |part: &str| {
            part.chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        };
        let parts: Vec<&str> = table.split('.').collect();
        if parts.len() > 2 || !parts.iter().all(|p| valid_part(p)) {
            let key = format!("{at}.table");
            return Err(self.error(
                ConfigErrorKind::InvalidValue,
                "Invalid configuration value",
                format!("`{SECTION}.{key}` = `{table}` is not a table name"),
                &key,
                "use letters, digits and underscores, optionally schema-qualified (e.g. schema_migrations or app.schema_migrations)",
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
