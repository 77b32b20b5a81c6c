//! Building a [`DatabaseConfig`] from the lexigram application config (the `sql` section of
//! `application.yaml` and `LEX_SQL__*`), and mapping extraction failures to [`ConfigError`]s
//! that name the key and where its value came from. Only with the `lexigram` feature.

use lexigram::config::{ExtractError, ExtractErrorKind};
use lexigram::{AppConfig, AppConfigError};
use serde_json::Value;

use super::duration;
use super::load::{ENV_VAR, SECTION};
use super::model::{DatabaseConfig, Origins};
use super::url::DatabaseUrl;
use crate::error::{ConfigError, ConfigErrorKind, Error};

impl DatabaseConfig {
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
            None | Some(Value::Null) => DatabaseConfig::default(),
            Some(Value::Object(..)) => app
                .extract::<DatabaseConfig>(SECTION)
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
            detail: lexigram_redact::redact_secrets(&error.description()),
            source_name: Some(error.path().display().to_string()),
            fix: error.fix(),
        })
    }
}

/// Records where every value of the `sql` section came from.
fn collect_origins(app: &AppConfig) -> Origins {
    fn walk(app: &AppConfig, value: &Value, path: &mut Vec<String>, origins: &mut Origins) {
        match value {
            Value::Object(dict) => {
                for (key, child) in dict {
                    path.push(key.clone());
                    walk(app, child, path, origins);
                    path.pop();
                }
            }
            Value::Array(items) => {
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

/// Maps an extraction error to a [`ConfigError`] naming the full key and its source.
fn extract_error(app: &AppConfig, error: ExtractError) -> Error {
    let key = error.key().to_string();

    // A URL that failed to parse: re-parse it for the precise error (prefix, syntax).
    if key.ends_with(".url")
        && let Some(Value::String(raw)) = app.find_value(&key)
        && let Err(mut url_error) = DatabaseUrl::parse(&raw)
    {
        url_error.source_name = Some(
            app.source_of(&key)
                .unwrap_or_else(|| Origins::DEFAULT.to_string()),
        );
        return url_error.into();
    }

    // Already redacted by `ExtractError`.
    let message = error.message();
    let (headline, detail, fix) = match error.kind() {
        ExtractErrorKind::UnknownKey { key: field, .. }
            if let Some(refused) = super::compat::refused(field) =>
        {
            (
                "Unsupported configuration key",
                format!("`{key}`: {}", refused.why),
                refused.fix.to_string(),
            )
        }
        ExtractErrorKind::UnknownKey {
            key: field,
            expected,
        } => {
            let expected: Vec<&str> = expected.iter().map(String::as_str).collect();
            (
                "Unknown configuration key",
                format!("`{key}` is not a key of this section"),
                match super::compat::did_you_mean(field, &expected) {
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
            )
        }
        ExtractErrorKind::MissingKey { key: field } => (
            "Missing configuration key",
            format!("`{key}.{field}` is required"),
            format!("add `{field}` under `{key}`"),
        ),
        ExtractErrorKind::Empty => (
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
        .or_else(|| error.origin().map(str::to_string));
    Error::Configuration(ConfigError {
        kind: ConfigErrorKind::InvalidValue,
        headline: headline.to_string(),
        detail,
        source_name,
        fix,
    })
}
