//! Building a [`DatabaseConfig`] from a URL or from code.

use super::model::{DatabaseConfig, PoolConfig};
use super::url::DatabaseUrl;
use crate::error::{ConfigError, Error};

/// The config section this crate reads.
pub const SECTION: &str = "sql";

/// The environment variable naming the deployment environment (`production` turns on the
/// default-password check).
pub const ENV_VAR: &str = "LEX_ENV";

const FROM_URL: &str = "code (DatabaseConfig::from_url)";

impl DatabaseConfig {
    /// Defaults plus this URL, validated. The URL's source in errors is
    /// `code (DatabaseConfig::from_url)`. `LEX_ENV` is read from the process environment.
    ///
    /// ```
    /// use lexigram_sql::config::{BackendKind, DatabaseConfig};
    /// let config = DatabaseConfig::from_url("sqlite:///shop.db")?;
    /// assert_eq!(config.backend.url.kind(), BackendKind::Sqlite);
    ///
    /// let err = DatabaseConfig::from_url("mydb://localhost/db").unwrap_err();
    /// assert!(err.to_string().contains("Invalid database URL prefix"));
    /// assert!(err.to_string().contains("code (DatabaseConfig::from_url)"));
    /// # Ok::<(), lexigram_sql::Error>(())
    /// ```
    pub fn from_url(url: &str) -> Result<Self, Error> {
        let url = DatabaseUrl::parse(url).map_err(|e| with_source(e, FROM_URL))?;
        let mut config = DatabaseConfig {
            environment: std::env::var(ENV_VAR).ok(),
            ..DatabaseConfig::default()
        };
        config.backend.url = url;
        config.origins.set("backend.url", FROM_URL);
        config.validate()?;
        Ok(config)
    }

    /// Sets `backend.url` from code (highest precedence). With named `backends` the
    /// single-backend URL is unused.
    ///
    /// ```
    /// let config = lexigram_sql::config::DatabaseConfig::default().with_url("sqlite://")?;
    /// assert_eq!(config.backend.url.to_string(), "sqlite://");
    /// # Ok::<(), lexigram_sql::Error>(())
    /// ```
    pub fn with_url(mut self, url: &str) -> Result<Self, Error> {
        const ORIGIN: &str = "code (DatabaseConfig::with_url)";
        self.backend.url = DatabaseUrl::parse(url).map_err(|e| with_source(e, ORIGIN))?;
        self.origins.set("backend.url", ORIGIN);
        Ok(self)
    }

    /// Replaces the pool settings from code. Checked by [`DatabaseConfig::validate`] and
    /// [`DatabaseConfig::backends`].
    ///
    /// ```
    /// use lexigram_sql::config::{DatabaseConfig, PoolConfig};
    /// let config = DatabaseConfig::default().with_pool(PoolConfig::default().with_max_size(2));
    /// assert_eq!(config.pool.max_size, 2);
    /// ```
    pub fn with_pool(mut self, pool: PoolConfig) -> Self {
        self.pool = pool;
        self.origins.set("pool", "code (DatabaseConfig::with_pool)");
        self
    }

    /// Sets `operations.statement_timeout` from code.
    ///
    /// ```
    /// use std::time::Duration;
    /// let config = lexigram_sql::config::DatabaseConfig::default().with_statement_timeout(Duration::from_secs(5));
    /// assert_eq!(config.operations.statement_timeout, Duration::from_secs(5));
    /// ```
    pub fn with_statement_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.operations.statement_timeout = timeout;
        self.origins.set(
            "operations.statement_timeout",
            "code (DatabaseConfig::with_statement_timeout)",
        );
        self
    }

    /// Sets `operations.echo` from code.
    ///
    /// ```
    /// assert!(lexigram_sql::config::DatabaseConfig::default().with_echo(true).operations.echo);
    /// ```
    pub fn with_echo(mut self, echo: bool) -> Self {
        self.operations.echo = echo;
        self.origins
            .set("operations.echo", "code (DatabaseConfig::with_echo)");
        self
    }

    /// Sets the deployment environment from code instead of `LEX_ENV` (`production` rejects
    /// default passwords).
    ///
    /// ```
    /// use lexigram_sql::config::DatabaseConfig;
    /// let config = DatabaseConfig::default()
    ///     .with_url("postgresql://app:password@db/shop")?
    ///     .with_environment("production");
    /// assert!(config.validate().is_err());
    /// # Ok::<(), lexigram_sql::Error>(())
    /// ```
    pub fn with_environment(mut self, environment: &str) -> Self {
        self.environment = Some(environment.to_string());
        self
    }
}

fn with_source(mut error: ConfigError, source: &str) -> Error {
    error.source_name = Some(source.to_string());
    Error::Configuration(error)
}
