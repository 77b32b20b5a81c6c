//! Building a [`DatabaseConfig`] from the application config, a URL, or code; mapping
//! extraction failures to [`ConfigError`]s that name the key and where its value came from.

use figment::error::{Actual, Kind};
use figment::value::Value;
use lexigram::{AppConfig, AppConfigError};

use super::duration;
use super::model::{DatabaseConfig, Origins, PoolConfig};
use super::url::{DatabaseUrl, redact_text};
use crate::error::{ConfigError, ConfigErrorKind, Error};

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

    /// Loads `application.yaml` / `LEX_CONFIG_FILE` and the `LEX_SQL__*` environment of this
    /// process ([`AppConfig::load`]), then [`DatabaseConfig::from_app_config`].
    ///
    /// ```no_run
    /// let config = lexigram_sql::config::DatabaseConfig::load()?;
    /// println!("{}", config.backend.url); // password shown as ***
    /// # Ok::<(), lexigram_sql::Error>(())
    /// ```
    pub fn load() -> Result<Self, Error> {
        let app = AppConfig::load()?;
        DatabaseConfig::from_app_config(&app)
    }

    /// Built-in defaults, overridden by the `sql` section of the file, overridden by
    /// `LEX_SQL__*` variables; then validated. Errors name the key and its source
    /// (`application.yaml key sql.pool.max_size`, `env LEX_SQL__POOL__MAX_SIZE`).
    ///
    /// ```
    /// use lexigram::AppConfig;
    /// use lexigram_sql::config::DatabaseConfig;
    ///
    /// let yaml = "sql:\n  pool:\n    min_size: 2\n    max_size: 5\n";
    /// let env = [("LEX_SQL__POOL__MAX_SIZE".to_string(), "20".to_string())];
    /// let app = AppConfig::from_yaml_and_env(yaml, "application.yaml", env).unwrap();
    /// let config = DatabaseConfig::from_app_config(&app)?;
    /// assert_eq!((config.pool.min_size, config.pool.max_size), (2, 20));
    ///
    /// let env = [("LEX_SQL__POOL__MAX_SIZE".to_string(), "1".to_string())];
    /// let app = AppConfig::from_yaml_and_env(yaml, "application.yaml", env).unwrap();
    /// let err = DatabaseConfig::from_app_config(&app).unwrap_err().to_string();
    /// assert!(err.contains("max_size must be >= min_size"));
    /// assert!(err.contains("LEX_SQL__POOL__MAX_SIZE"));
    /// # Ok::<(), lexigram_sql::Error>(())
    /// ```
    pub fn from_app_config(app: &AppConfig) -> Result<Self, Error> {
        let mut config = match app.find_value(SECTION) {
            // `sql:` with nothing under it
            None | Some(Value::Empty(..)) => DatabaseConfig::default(),
            Some(Value::Dict(..)) => app
                .section(SECTION)
                .extract::<DatabaseConfig>()
                .map_err(|e| extract_error(app, e))?,
            Some(_) => {
                return Err(ConfigError {
                    kind: ConfigErrorKind::InvalidValue,
                    headline: "Invalid configuration value".to_string(),
                    detail: format!("`{SECTION}` must be a mapping of keys"),
                    source_name: app.source_of(SECTION),
                    fix: format!("write `{SECTION}:` followed by indented keys such as `backend:`"),
                }
                .into());
            }
        };
        config.origins = collect_origins(app);
        config.environment = app.env(ENV_VAR).map(str::to_string);
        config.validate()?;
        Ok(config)
    }

    /// True if the file or the environment has a `sql` section (a `DatabaseProvider` without
    /// one has nothing to connect to).
    ///
    /// ```
    /// use lexigram::AppConfig;
    /// let env = [("LEX_SQL__BACKEND__URL".to_string(), "sqlite://".to_string())];
    /// assert!(lexigram_sql::config::DatabaseConfig::is_configured_in(&AppConfig::load_from(None, env).unwrap()));
    /// assert!(!lexigram_sql::config::DatabaseConfig::is_configured_in(&AppConfig::empty()));
    /// ```
    pub fn is_configured_in(app: &AppConfig) -> bool {
        app.has_section(SECTION)
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
    /// let config = DatabaseConfig::default().with_pool(PoolConfig { max_size: 2, ..Default::default() });
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

/// An [`AppConfigError`] (file missing, bad YAML, unset `${VAR}`) as an
/// [`Error::Configuration`] of kind [`ConfigErrorKind::Source`] naming the file.
///
/// ```
/// use lexigram::AppConfig;
/// use lexigram_sql::{ConfigErrorKind, Error};
/// let err: Error = AppConfig::from_file("/no/such/app.yaml").unwrap_err().into();
/// match err {
///     Error::Configuration(e) => {
///         assert_eq!(e.kind, ConfigErrorKind::Source);
///         assert_eq!(e.source_name.as_deref(), Some("/no/such/app.yaml"));
///     }
///     other => panic!("{other}"),
/// }
/// ```
impl From<AppConfigError> for Error {
    fn from(error: AppConfigError) -> Self {
        Error::Configuration(ConfigError {
            kind: ConfigErrorKind::Source,
            headline: "Could not load the configuration".to_string(),
            detail: redact_text(&error.description()),
            source_name: Some(error.path().display().to_string()),
            fix: error.fix(),
        })
    }
}

/// Records where every value of the `sql` section came from.
fn collect_origins(app: &AppConfig) -> Origins {
    fn walk(app: &AppConfig, value: &Value, path: &mut Vec<String>, origins: &mut Origins) {
        match value {
            Value::Dict(_, dict) => {
                for (key, child) in dict {
                    path.push(key.clone());
                    walk(app, child, path, origins);
                    path.pop();
                }
            }
            Value::Array(_, items) => {
                for (index, child) in items.iter().enumerate() {
                    path.push(index.to_string());
                    walk(app, child, path, origins);
                    path.pop();
                }
            }
            _ => {
                let relative = path.join(".");
                if let Some(source) = app.source_of(&format!("{SECTION}.{relative}")) {
                    origins.set(&super::compat::canonical_key(&relative), source);
                }
            }
        }
    }
    let mut origins = Origins::default();
    if let Some(value) = app.find_value(SECTION) {
        walk(app, &value, &mut Vec::new(), &mut origins);
    }
    origins
}

/// Maps a figment extraction error to a [`ConfigError`] naming the full key and its source.
fn extract_error(app: &AppConfig, error: figment::Error) -> Error {
    let mut path = vec![SECTION.to_string()];
    path.extend(error.path.iter().filter(|p| !p.is_empty()).cloned());
    let key = path.join(".");

    // A URL that failed to parse: re-parse it for the precise error (prefix, syntax).
    if key.ends_with(".url")
        && let Some(Value::String(_, raw)) = app.find_value(&key)
        && let Err(mut url_error) = DatabaseUrl::parse(&raw)
    {
        url_error.source_name = Some(
            app.source_of(&key)
                .unwrap_or_else(|| Origins::DEFAULT.to_string()),
        );
        return url_error.into();
    }

    let message = redact_text(&error.kind.to_string());
    let (headline, detail, fix) = match &error.kind {
        Kind::UnknownField(field, _) if let Some(refused) = super::compat::refused(field) => (
            "Unsupported configuration key",
            format!("`{key}`: {}", refused.why),
            refused.fix.to_string(),
        ),
        Kind::UnknownField(field, expected) => (
            "Unknown configuration key",
            format!("`{key}` is not a key of this section"),
            match super::compat::did_you_mean(field, expected) {
                Some(near) => format!(
                    "did you mean `{near}`? Rename it, or remove it; valid keys here: {}",
                    expected.join(", ")
                ),
                None if expected.is_empty() => "remove it".to_string(),
                None => format!(
                    "remove or rename it; valid keys here: {}",
                    expected.join(", ")
                ),
            },
        ),
        Kind::MissingField(field) => (
            "Missing configuration key",
            format!("`{key}.{field}` is required"),
            format!("add `{field}` under `{key}`"),
        ),
        Kind::InvalidType(Actual::Option | Actual::Unit, _) => (
            "Invalid configuration value",
            format!("`{key}` is empty"),
            format!("remove `{key}` or give it a value"),
        ),
        _ if message.contains(duration::EXPECTED) => (
            "Invalid configuration value",
            format!("`{key}`: {message}"),
            "write seconds (60) or a unit string such as 120s, 5m, 1h or 500ms".to_string(),
        ),
        _ => (
            "Invalid configuration value",
            format!("`{key}`: {message}"),
            "give a value of the expected type (see the `sql` configuration table)".to_string(),
        ),
    };
    let source_name = app
        .source_of(&key)
        .or_else(|| error.metadata.as_ref().map(|m| m.name.to_string()));
    Error::Configuration(ConfigError {
        kind: ConfigErrorKind::InvalidValue,
        headline: headline.to_string(),
        detail,
        source_name,
        fix,
    })
}
