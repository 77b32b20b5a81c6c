//! Layered application configuration.
//!
//! Sources, lowest to highest precedence:
//!
//! 1. `application.yaml` in the current directory, or the file named by `LEX_CONFIG_FILE`.
//!    A missing default file is fine (it counts as empty); a missing file that
//!    `LEX_CONFIG_FILE` names is an error. String values may use `${VAR}` and
//!    `${VAR:default}` interpolation from the environment (`$${` writes a literal `${`).
//! 2. Environment variables `LEX_<SECTION>__<KEY>__…`, e.g. `LEX_SQL__POOL__MAX_SIZE=20`.
//!    Only variables with a `__` after the prefix are configuration, so `LEX_ENV`,
//!    `LEX_LOG_LEVEL` and `LEX_CONFIG_FILE` are not. Keys are lower-cased; list items are
//!    addressed by index (`LEX_SQL__BACKENDS__0__NAME`) and merge into the file's list item
//!    of the same index.
//!
//! Values set in code are the highest layer; each section's typed config applies them.
//!
//! ```
//! use lexigram::AppConfig;
//!
//! let yaml = "sql:\n  pool:\n    max_size: ${MAX:10}\n  backend:\n    url: sqlite:///app.db\n";
//! let env = [("LEX_SQL__POOL__MAX_SIZE".to_string(), "20".to_string())];
//! let config = AppConfig::from_yaml_and_env(yaml, "application.yaml", env)?;
//! assert!(config.has_section("sql"));
//! let max: u32 = config.get("sql.pool.max_size").unwrap().unwrap();
//! assert_eq!(max, 20);
//! assert_eq!(config.source_of("sql.pool.max_size").as_deref(), Some("env LEX_SQL__POOL__MAX_SIZE"));
//! assert_eq!(
//!     config.source_of("sql.backend.url").as_deref(),
//!     Some("application.yaml key sql.backend.url")
//! );
//! # Ok::<(), lexigram::AppConfigError>(())
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use figment::value::{Dict, Value};
use figment::{Figment, Metadata, Profile, Provider, Source};

mod env;
mod extract;
mod yaml;

#[cfg(test)]
mod tests;

pub use extract::{ExtractError, ExtractErrorKind};
pub use lexigram_redact::{MASK, redact_secrets, redact_url};

use env::{EnvLayer, align_dict, env_overlay};
use yaml::YamlFile;

/// Environment variable naming the config file to load instead of `application.yaml`.
pub const CONFIG_FILE_VAR: &str = "LEX_CONFIG_FILE";
/// The config file loaded from the current directory when `LEX_CONFIG_FILE` is not set.
pub const DEFAULT_CONFIG_FILE: &str = "application.yaml";
/// Prefix of configuration environment variables.
pub const ENV_PREFIX: &str = "LEX_";
/// Nesting delimiter of configuration environment variables.
pub const ENV_SEPARATOR: &str = "__";
/// Name of the [`Source::Custom`] that marks values from environment variables.
const ENV_SOURCE: &str = "lexigram environment";

/// The merged application configuration: file layer, then environment layer.
///
/// Cheap to query; every typed section (for example `lexigram_sql::DatabaseConfig`) is
/// extracted from it. Its `Debug` output never shows values (they may hold secrets).
///
/// ```
/// use lexigram::AppConfig;
///
/// let config = AppConfig::empty();
/// assert!(!config.has_section("sql"));
/// assert_eq!(config.source_of("sql.backend.url"), None);
/// ```
#[derive(Clone)]
pub struct AppConfig {
    figment: Figment,
    env: BTreeMap<String, String>,
    file: Option<PathBuf>,
}

impl fmt::Debug for AppConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sections: Vec<String> = match self.figment.find_value("") {
            Ok(Value::Dict(_, dict)) => dict.keys().cloned().collect(),
            _ => Vec::new(),
        };
        f.debug_struct("AppConfig")
            .field("file", &self.file)
            .field("sections", &sections)
            .field("env_vars", &self.env.len())
            .finish()
    }
}

impl Default for AppConfig {
    fn default() -> Self {
        AppConfig::empty()
    }
}

impl AppConfig {
    /// A configuration with no values and no environment: every section takes its defaults.
    ///
    /// ```
    /// let config = lexigram::AppConfig::empty();
    /// assert_eq!(config.env("LEX_ENV"), None);
    /// ```
    pub fn empty() -> Self {
        AppConfig {
            figment: Figment::new(),
            env: BTreeMap::new(),
            file: None,
        }
    }

    /// Loads `application.yaml` (or the file named by `LEX_CONFIG_FILE`) and the `LEX_*__*`
    /// environment variables of this process.
    ///
    /// ```no_run
    /// let config = lexigram::AppConfig::load()?;
    /// println!("production: {}", config.env("LEX_ENV") == Some("production"));
    /// # Ok::<(), lexigram::AppConfigError>(())
    /// ```
    pub fn load() -> Result<Self, AppConfigError> {
        AppConfig::load_from(None, std::env::vars())
    }

    /// As [`AppConfig::load`], with an explicit file and environment instead of the process's.
    ///
    /// With `file: None` the file is the one `env` names in `LEX_CONFIG_FILE` (which must
    /// exist), else `application.yaml` in the current directory (which may be missing).
    /// With `Some(path)` that file must exist.
    ///
    /// ```
    /// use lexigram::AppConfig;
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let path = dir.path().join("app.yaml");
    /// std::fs::write(&path, "sql:\n  pool:\n    min_size: 2\n").unwrap();
    /// let env = [("LEX_SQL__POOL__MAX_SIZE".to_string(), "4".to_string())];
    /// let config = AppConfig::load_from(Some(&path), env)?;
    /// assert_eq!(config.get::<u32>("sql.pool.min_size").unwrap(), Some(2));
    /// assert_eq!(config.get::<u32>("sql.pool.max_size").unwrap(), Some(4));
    /// # Ok::<(), lexigram::AppConfigError>(())
    /// ```
    pub fn load_from(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, AppConfigError> {
        let env: BTreeMap<String, String> = env.into_iter().collect();
        let (path, explicit) = match file {
            Some(path) => (path.to_path_buf(), true),
            None => match env.get(CONFIG_FILE_VAR).filter(|p| !p.is_empty()) {
                Some(path) => (PathBuf::from(path), true),
                None => (PathBuf::from(DEFAULT_CONFIG_FILE), false),
            },
        };
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => Some(text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !explicit => None,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(AppConfigError::FileNotFound { path });
            }
            Err(e) => {
                return Err(AppConfigError::Read {
                    path,
                    reason: e.to_string(),
                });
            }
        };
        match text {
            Some(text) => {
                tracing::debug!(file = %path.display(), "loading configuration file");
                AppConfig::build(Some((&text, path)), env, true)
            }
            None => AppConfig::build(None, env, true),
        }
    }

    /// Parses YAML text as the only layer (no environment overrides). `name` is what errors
    /// and [`AppConfig::source_of`] call the text, usually a file name. `${VAR}` placeholders
    /// are resolved from the process environment.
    ///
    /// ```
    /// let config = lexigram::AppConfig::from_yaml_str("app:\n  name: shop\n", "inline.yaml")?;
    /// assert_eq!(config.source_of("app.name").as_deref(), Some("inline.yaml key app.name"));
    /// # Ok::<(), lexigram::AppConfigError>(())
    /// ```
    pub fn from_yaml_str(text: &str, name: &str) -> Result<Self, AppConfigError> {
        AppConfig::build(
            Some((text, PathBuf::from(name))),
            std::env::vars().collect(),
            false,
        )
    }

    /// Reads a YAML file as the only layer (no environment overrides); the file must exist.
    /// `${VAR}` placeholders are resolved from the process environment.
    ///
    /// ```
    /// let err = lexigram::AppConfig::from_file("/no/such/file.yaml").unwrap_err();
    /// assert!(err.to_string().contains("/no/such/file.yaml"));
    /// ```
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, AppConfigError> {
        let path = path.as_ref().to_path_buf();
        let text = std::fs::read_to_string(&path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                AppConfigError::FileNotFound { path: path.clone() }
            } else {
                AppConfigError::Read {
                    path: path.clone(),
                    reason: e.to_string(),
                }
            }
        })?;
        AppConfig::build(Some((&text, path)), std::env::vars().collect(), false)
    }

    /// YAML text plus an explicit environment: both layers, as [`AppConfig::load_from`] builds
    /// them, without touching the file system or the process environment.
    ///
    /// ```
    /// use lexigram::AppConfig;
    ///
    /// let env = [("DB_HOST".to_string(), "db.internal".to_string())];
    /// let yaml = "sql:\n  backend:\n    url: postgresql://app@${DB_HOST}/shop\n";
    /// let config = AppConfig::from_yaml_and_env(yaml, "application.yaml", env)?;
    /// let url: Option<String> = config.get("sql.backend.url").unwrap();
    /// assert_eq!(url.as_deref(), Some("postgresql://app@db.internal/shop"));
    /// # Ok::<(), lexigram::AppConfigError>(())
    /// ```
    pub fn from_yaml_and_env(
        text: &str,
        name: &str,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, AppConfigError> {
        AppConfig::build(
            Some((text, PathBuf::from(name))),
            env.into_iter().collect(),
            true,
        )
    }

    fn build(
        yaml: Option<(&str, PathBuf)>,
        env: BTreeMap<String, String>,
        env_layer: bool,
    ) -> Result<Self, AppConfigError> {
        let mut figment = Figment::new();
        let mut file_data = Dict::new();
        let mut file = None;
        if let Some((text, path)) = yaml {
            let provider = YamlFile::parse(text, &path, &env)?;
            // Provide the file through its own figment first so its values carry the file's
            // tag; the environment layer below is aligned against these tagged values.
            let file_figment = Figment::from(provider);
            file_data = Provider::data(&file_figment)
                .ok()
                .and_then(|mut map| map.remove(&Profile::Default))
                .unwrap_or_default();
            figment = figment.merge(file_figment);
            file = Some(path);
        }
        if env_layer {
            let overlay = env_overlay(&env);
            if !overlay.is_empty() {
                let aligned = align_dict(overlay, Some(&file_data));
                figment = figment.merge(EnvLayer { data: aligned });
            }
        }
        Ok(AppConfig { figment, env, file })
    }

    /// The value at a dotted key (a section such as `sql`, or deeper) deserialized as `T`;
    /// a missing key reads as an empty mapping, so a `T` whose fields all have defaults
    /// gets its defaults. Unlike [`AppConfig::get`], errors keep the layer that gave the
    /// offending value; their [`ExtractError::key`] is the full dotted key.
    ///
    /// ```
    /// #[derive(serde::Deserialize)]
    /// struct App { port: u16, #[serde(default)] name: String }
    ///
    /// let config = lexigram::AppConfig::from_yaml_str("app:\n  port: 8080\n", "a.yaml")?;
    /// let app: App = config.extract("app").unwrap();
    /// assert_eq!((app.port, app.name.as_str()), (8080, ""));
    /// let err = config.extract::<App>("other").err().unwrap();
    /// assert!(err.to_string().contains("port"));
    /// # Ok::<(), lexigram::AppConfigError>(())
    /// ```
    pub fn extract<T: serde::de::DeserializeOwned>(
        &self,
        dotted_key: &str,
    ) -> Result<T, ExtractError> {
        self.figment
            .focus(dotted_key)
            .extract()
            .map_err(|e| ExtractError::from_figment(dotted_key, e))
    }

    /// True if any layer gives a value at the dotted key (`sql.backend.url`, list items by
    /// index).
    ///
    /// ```
    /// let config = lexigram::AppConfig::from_yaml_str("app:\n  ports: [80]\n", "a.yaml")?;
    /// assert!(config.contains("app.ports.0"));
    /// assert!(!config.contains("app.name"));
    /// # Ok::<(), lexigram::AppConfigError>(())
    /// ```
    pub fn contains(&self, dotted_key: &str) -> bool {
        self.lookup(dotted_key).is_some()
    }

    /// True if the file or the environment gives the top-level section `name`.
    ///
    /// ```
    /// let env = [("LEX_SQL__ENABLED".to_string(), "true".to_string())];
    /// let config = lexigram::AppConfig::load_from(None, env)?;
    /// assert!(config.has_section("sql"));
    /// assert!(!config.has_section("cache"));
    /// # Ok::<(), lexigram::AppConfigError>(())
    /// ```
    pub fn has_section(&self, name: &str) -> bool {
        self.figment.contains(name)
    }

    /// The merged value at a dotted key (`sql.backends.0.backend.url`; list items by index),
    /// as JSON: mappings are objects, `key:` with no value is `null`.
    ///
    /// ```
    /// let config = lexigram::AppConfig::from_yaml_str("a:\n  list: [x, y]\n", "a.yaml")?;
    /// assert_eq!(config.find_value("a.list.1"), Some(serde_json::json!("y")));
    /// assert_eq!(config.find_value("a.none"), None);
    /// # Ok::<(), lexigram::AppConfigError>(())
    /// ```
    pub fn find_value(&self, dotted_key: &str) -> Option<serde_json::Value> {
        let value = self.lookup(dotted_key)?;
        // Every figment value has a JSON form (its numbers, strings, lists and dicts).
        value.deserialize::<serde_json::Value>().ok()
    }

    fn lookup(&self, dotted_key: &str) -> Option<Value> {
        let root = self.figment.find_value("").ok()?;
        lookup(&root, dotted_key).cloned()
    }

    /// The value at a dotted key (list items by index) deserialized as `T`; `Ok(None)` if
    /// no layer gives it. The error's [`ExtractError::key`] is the full key.
    ///
    /// ```
    /// let env = [("LEX_SQL__POOL__MAX_SIZE".to_string(), "7".to_string())];
    /// let config = lexigram::AppConfig::load_from(None, env)?;
    /// assert_eq!(config.get::<u32>("sql.pool.max_size").unwrap(), Some(7));
    /// assert_eq!(config.get::<u32>("sql.pool.min_size").unwrap(), None);
    /// assert!(config.get::<bool>("sql.pool.max_size").is_err());
    /// # Ok::<(), lexigram::AppConfigError>(())
    /// ```
    pub fn get<T: serde::de::DeserializeOwned>(
        &self,
        dotted_key: &str,
    ) -> Result<Option<T>, ExtractError> {
        let Some(value) = self.lookup(dotted_key) else {
            return Ok(None);
        };
        value
            .deserialize::<T>()
            .map(Some)
            .map_err(|e| ExtractError::from_figment(dotted_key, e))
    }

    /// Where the value at `dotted_key` came from, for people: `application.yaml key
    /// sql.backend.url` (with the path of the file that was read) or `env
    /// LEX_SQL__BACKEND__URL`. `None` if no layer gives that key (a built-in default applies).
    ///
    /// ```
    /// let env = [("LEX_SQL__BACKENDS__0__BACKEND__URL".to_string(), "sqlite://".to_string())];
    /// let config = lexigram::AppConfig::load_from(None, env)?;
    /// assert_eq!(
    ///     config.source_of("sql.backends.0.backend.url").as_deref(),
    ///     Some("env LEX_SQL__BACKENDS__0__BACKEND__URL")
    /// );
    /// assert_eq!(config.source_of("sql.pool.max_size"), None);
    /// # Ok::<(), lexigram::AppConfigError>(())
    /// ```
    pub fn source_of(&self, dotted_key: &str) -> Option<String> {
        let root = self.figment.find_value("").ok()?;
        let value = lookup(&root, dotted_key)?;
        let metadata = self.figment.get_metadata(value.tag())?;
        Some(describe_source(metadata, dotted_key))
    }

    /// A variable of the environment captured at load (all variables, not only `LEX_*__*`).
    /// Empty for [`AppConfig::empty`].
    ///
    /// ```
    /// let env = [("LEX_ENV".to_string(), "production".to_string())];
    /// let config = lexigram::AppConfig::load_from(None, env)?;
    /// assert_eq!(config.env("LEX_ENV"), Some("production"));
    /// assert!(!config.has_section("env"));
    /// # Ok::<(), lexigram::AppConfigError>(())
    /// ```
    pub fn env(&self, name: &str) -> Option<&str> {
        self.env.get(name).map(String::as_str)
    }

    /// The config file that was read, if any.
    pub fn file(&self) -> Option<&Path> {
        self.file.as_deref()
    }
}

/// The environment variable that configures `dotted_key`: `sql.backend.url` →
/// `LEX_SQL__BACKEND__URL`, `sql.backends.0.name` → `LEX_SQL__BACKENDS__0__NAME`.
///
/// ```
/// assert_eq!(lexigram::config::env_var_name("sql.pool.max_size"), "LEX_SQL__POOL__MAX_SIZE");
/// ```
pub fn env_var_name(dotted_key: &str) -> String {
    let parts: Vec<String> = dotted_key
        .split('.')
        .filter(|p| !p.is_empty())
        .map(str::to_ascii_uppercase)
        .collect();
    format!("{ENV_PREFIX}{}", parts.join(ENV_SEPARATOR))
}

fn describe_source(metadata: &Metadata, dotted_key: &str) -> String {
    match &metadata.source {
        Some(Source::File(path)) => format!("{} key {dotted_key}", path.display()),
        Some(Source::Custom(name)) if name == ENV_SOURCE => {
            format!("env {}", env_var_name(dotted_key))
        }
        _ => metadata.name.to_string(),
    }
}

/// Walks a dotted key through dicts and (by index) arrays.
fn lookup<'v>(root: &'v Value, dotted_key: &str) -> Option<&'v Value> {
    let mut value = root;
    for key in dotted_key.split('.').filter(|k| !k.is_empty()) {
        value = match value {
            Value::Dict(_, dict) => dict.get(key)?,
            Value::Array(_, items) => items.get(key.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(value)
}

/// Why the application configuration could not be loaded.
///
/// ```
/// use lexigram::{AppConfig, AppConfigError};
///
/// let err = AppConfig::from_yaml_and_env("a: ${NOPE}\n", "app.yaml", []).unwrap_err();
/// assert!(matches!(err, AppConfigError::UnsetVariable { .. }));
/// assert!(err.to_string().contains("NOPE"));
/// assert!(err.to_string().contains("app.yaml"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AppConfigError {
    /// The file named by `LEX_CONFIG_FILE` (or passed explicitly) does not exist.
    FileNotFound {
        /// The missing file.
        path: PathBuf,
    },
    /// The file exists but could not be read.
    Read {
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        reason: String,
    },
    /// The file is not valid YAML, or its top level is not a mapping.
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's reason, with line and column when known.
        reason: String,
    },
    /// A `${VAR}` placeholder names a variable that is not set and has no default.
    UnsetVariable {
        /// The variable.
        variable: String,
        /// The file holding the placeholder.
        path: PathBuf,
        /// The dotted key whose value holds the placeholder.
        key: String,
    },
    /// A `${…}` placeholder is malformed (unterminated, or an invalid variable name).
    BadPlaceholder {
        /// The file holding the placeholder.
        path: PathBuf,
        /// The dotted key whose value holds the placeholder.
        key: String,
        /// What is wrong with it.
        reason: String,
    },
}

impl AppConfigError {
    /// The file concerned.
    pub fn path(&self) -> &Path {
        match self {
            AppConfigError::FileNotFound { path }
            | AppConfigError::Read { path, .. }
            | AppConfigError::Parse { path, .. }
            | AppConfigError::UnsetVariable { path, .. }
            | AppConfigError::BadPlaceholder { path, .. } => path,
        }
    }

    /// What happened, without the fix.
    pub fn description(&self) -> String {
        match self {
            AppConfigError::FileNotFound { path } => {
                format!("config file `{}` does not exist", path.display())
            }
            AppConfigError::Read { path, reason } => {
                format!(
                    "config file `{}` could not be read: {reason}",
                    path.display()
                )
            }
            AppConfigError::Parse { path, reason } => {
                format!("config file `{}` is not valid: {reason}", path.display())
            }
            AppConfigError::UnsetVariable {
                variable,
                path,
                key,
            } => format!(
                "environment variable `{variable}` is not set (used by `${{{variable}}}` in {} key {key})",
                path.display()
            ),
            AppConfigError::BadPlaceholder { path, key, reason } => {
                format!("bad placeholder in {} key {key}: {reason}", path.display())
            }
        }
    }

    /// How to fix it.
    pub fn fix(&self) -> String {
        match self {
            AppConfigError::FileNotFound { .. } => format!(
                "create the file, or point {CONFIG_FILE_VAR} at an existing file (unset it to use ./{DEFAULT_CONFIG_FILE})"
            ),
            AppConfigError::Read { .. } => "check the file's permissions".to_string(),
            AppConfigError::Parse { .. } => {
                "fix the YAML syntax; the top level must be a mapping of sections (e.g. `sql:`)"
                    .to_string()
            }
            AppConfigError::UnsetVariable { variable, .. } => {
                format!("set {variable}, or give a default: ${{{variable}:default}}")
            }
            AppConfigError::BadPlaceholder { .. } => {
                "write placeholders as ${VAR} or ${VAR:default}; write $${ for a literal ${"
                    .to_string()
            }
        }
    }
}

impl fmt::Display for AppConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ConfigurationError: {}. Fix: {}",
            self.description(),
            self.fix()
        )
    }
}

impl std::error::Error for AppConfigError {}
