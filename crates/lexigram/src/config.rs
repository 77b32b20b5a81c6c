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
//! let max: u32 = config.section("sql").extract_inner("pool.max_size").unwrap();
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

use figment::value::{Dict, Empty, Map, Num, Value};
use figment::{Figment, Metadata, Profile, Provider, Source};

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
    /// let sql = config.section("sql");
    /// assert_eq!(sql.extract_inner::<u32>("pool.min_size").unwrap(), 2);
    /// assert_eq!(sql.extract_inner::<u32>("pool.max_size").unwrap(), 4);
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
    /// let url: String = config.section("sql").extract_inner("backend.url").unwrap();
    /// assert_eq!(url, "postgresql://app@db.internal/shop");
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

    /// The whole merged configuration, for extraction with figment.
    pub fn figment(&self) -> &Figment {
        &self.figment
    }

    /// The configuration focused on one top-level section, e.g. `sql`. Empty when absent.
    /// Error paths from this figment are relative to the section.
    ///
    /// ```
    /// let config = lexigram::AppConfig::from_yaml_str("app:\n  port: 8080\n", "a.yaml")?;
    /// assert_eq!(config.section("app").extract_inner::<u16>("port").unwrap(), 8080);
    /// # Ok::<(), lexigram::AppConfigError>(())
    /// ```
    pub fn section(&self, name: &str) -> Figment {
        self.figment.focus(name)
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

    /// The merged value at a dotted key (`sql.backends.0.backend.url`; list items by index).
    ///
    /// ```
    /// let config = lexigram::AppConfig::from_yaml_str("a:\n  list: [x, y]\n", "a.yaml")?;
    /// assert_eq!(config.find_value("a.list.1").and_then(|v| v.into_string()).as_deref(), Some("y"));
    /// # Ok::<(), lexigram::AppConfigError>(())
    /// ```
    pub fn find_value(&self, dotted_key: &str) -> Option<Value> {
        let root = self.figment.find_value("").ok()?;
        lookup(&root, dotted_key).cloned()
    }

    /// The value at a dotted key (list items by index) deserialized as `T`; `Ok(None)` if
    /// no layer gives it. The error's `path` is the full key.
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
    ) -> Result<Option<T>, Box<figment::Error>> {
        let Some(value) = self.find_value(dotted_key) else {
            return Ok(None);
        };
        value.deserialize::<T>().map(Some).map_err(|mut e| {
            let mut path: Vec<String> = dotted_key
                .split('.')
                .filter(|k| !k.is_empty())
                .map(str::to_string)
                .collect();
            path.append(&mut e.path);
            e.path = path;
            Box::new(e)
        })
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

// ---------------------------------------------------------------------------------------------
// The YAML file layer

/// A parsed, interpolated YAML file as a figment provider; metadata names the file.
struct YamlFile {
    path: PathBuf,
    data: Dict,
}

impl YamlFile {
    fn parse(
        text: &str,
        path: &Path,
        env: &BTreeMap<String, String>,
    ) -> Result<Self, AppConfigError> {
        let parse_error = |reason: String| AppConfigError::Parse {
            path: path.to_path_buf(),
            reason,
        };
        let yaml: serde_yaml_ng::Value =
            serde_yaml_ng::from_str(text).map_err(|e| parse_error(e.to_string()))?;
        let ctx = Interpolation { path, env };
        let data = match yaml {
            serde_yaml_ng::Value::Null => Dict::new(),
            serde_yaml_ng::Value::Mapping(_) => match ctx.convert(yaml, &mut Vec::new())? {
                Value::Dict(_, dict) => dict,
                _ => Dict::new(),
            },
            _ => return Err(parse_error("the top level is not a mapping".to_string())),
        };
        Ok(YamlFile {
            path: path.to_path_buf(),
            data,
        })
    }
}

impl Provider for YamlFile {
    fn metadata(&self) -> Metadata {
        Metadata::named(format!("YAML file `{}`", self.path.display()))
            .source(Source::File(self.path.clone()))
            .interpolater(|_: &Profile, keys: &[&str]| keys.join("."))
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        Ok(Profile::Default.collect(self.data.clone()))
    }
}

/// Converts YAML values to figment values, resolving `${…}` placeholders in strings.
struct Interpolation<'a> {
    path: &'a Path,
    env: &'a BTreeMap<String, String>,
}

impl Interpolation<'_> {
    fn convert(
        &self,
        yaml: serde_yaml_ng::Value,
        key: &mut Vec<String>,
    ) -> Result<Value, AppConfigError> {
        use serde_yaml_ng::Value as Y;
        Ok(match yaml {
            Y::Null => Value::from(Empty::None),
            Y::Bool(b) => Value::from(b),
            Y::Number(n) => number(&n),
            Y::String(s) => self.string(&s, key)?,
            Y::Sequence(items) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.into_iter().enumerate() {
                    key.push(i.to_string());
                    out.push(self.convert(item, key)?);
                    key.pop();
                }
                Value::from(out)
            }
            Y::Mapping(mapping) => {
                let mut dict = Dict::new();
                for (k, v) in mapping {
                    let name = match k {
                        Y::String(s) => s,
                        Y::Number(n) => n.to_string(),
                        Y::Bool(b) => b.to_string(),
                        other => {
                            return Err(AppConfigError::Parse {
                                path: self.path.to_path_buf(),
                                reason: format!(
                                    "unsupported key {other:?} under `{}`",
                                    key.join(".")
                                ),
                            });
                        }
                    };
                    key.push(name.clone());
                    let value = self.convert(v, key)?;
                    key.pop();
                    dict.insert(name, value);
                }
                Value::from(dict)
            }
            Y::Tagged(tagged) => self.convert(tagged.value, key)?,
        })
    }

    fn string(&self, text: &str, key: &[String]) -> Result<Value, AppConfigError> {
        if !text.contains('$') {
            return Ok(Value::from(text.to_string()));
        }
        let (out, whole) = self.substitute(text, key)?;
        if !whole {
            return Ok(Value::from(out));
        }
        // The string was exactly one placeholder: read the substituted text as a YAML scalar
        // so `max_size: ${MAX:10}` is a number and `echo: ${ECHO:false}` a boolean.
        if out.trim().is_empty() {
            return Ok(Value::from(out));
        }
        Ok(
            match serde_yaml_ng::from_str::<serde_yaml_ng::Value>(&out) {
                Ok(serde_yaml_ng::Value::Bool(b)) => Value::from(b),
                Ok(serde_yaml_ng::Value::Number(n)) => number(&n),
                Ok(serde_yaml_ng::Value::Null) => Value::from(Empty::None),
                _ => Value::from(out),
            },
        )
    }

    /// Replaces every placeholder; the flag is true if `text` was exactly one placeholder.
    fn substitute(&self, text: &str, key: &[String]) -> Result<(String, bool), AppConfigError> {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        let mut placeholders = 0;
        let mut literal = false;
        while let Some(pos) = rest.find('$') {
            out.push_str(&rest[..pos]);
            let tail = &rest[pos..];
            if let Some(after) = tail.strip_prefix("$${") {
                out.push_str("${");
                literal = true;
                rest = after;
            } else if let Some(after) = tail.strip_prefix("${") {
                let Some(end) = after.find('}') else {
                    return Err(self.bad(key, "unterminated `${` (missing `}`)".to_string()));
                };
                let inner = &after[..end];
                let (variable, default) = match inner.split_once(':') {
                    Some((variable, default)) => (variable, Some(default)),
                    None => (inner, None),
                };
                if variable.is_empty()
                    || !variable
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_')
                {
                    return Err(self.bad(key, format!("`{variable}` is not a variable name")));
                }
                match (self.env.get(variable), default) {
                    (Some(value), _) => out.push_str(value),
                    (None, Some(default)) => out.push_str(default),
                    (None, None) => {
                        return Err(AppConfigError::UnsetVariable {
                            variable: variable.to_string(),
                            path: self.path.to_path_buf(),
                            key: key.join("."),
                        });
                    }
                }
                placeholders += 1;
                rest = &after[end + 1..];
            } else {
                out.push('$');
                rest = &tail[1..];
            }
        }
        out.push_str(rest);
        let whole = placeholders == 1
            && !literal
            && text.starts_with("${")
            && text.ends_with('}')
            && text.find('}') == Some(text.len() - 1);
        Ok((out, whole))
    }

    fn bad(&self, key: &[String], reason: String) -> AppConfigError {
        AppConfigError::BadPlaceholder {
            path: self.path.to_path_buf(),
            key: key.join("."),
            reason,
        }
    }
}

fn number(n: &serde_yaml_ng::Number) -> Value {
    if let Some(u) = n.as_u64() {
        Value::from(Num::U64(u))
    } else if let Some(i) = n.as_i64() {
        Value::from(Num::I64(i))
    } else {
        Value::from(Num::F64(n.as_f64().unwrap_or(f64::NAN)))
    }
}

// ---------------------------------------------------------------------------------------------
// The environment layer

/// The `LEX_*__*` variables as a figment provider; metadata maps keys back to variable names.
struct EnvLayer {
    data: Dict,
}

impl Provider for EnvLayer {
    fn metadata(&self) -> Metadata {
        Metadata::named("environment variable(s) `LEX_*`")
            .source(Source::Custom(ENV_SOURCE.to_string()))
            .interpolater(|_: &Profile, keys: &[&str]| env_var_name(&keys.join(".")))
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        Ok(Profile::Default.collect(self.data.clone()))
    }
}

/// Nests every `LEX_A__B__C=v` as `a.b.c = v`, parsing `v` as figment does for `Env`.
fn env_overlay(env: &BTreeMap<String, String>) -> Dict {
    let mut root = Dict::new();
    for (name, raw) in env {
        let Some(rest) = name.strip_prefix(ENV_PREFIX) else {
            continue;
        };
        if !rest.contains(ENV_SEPARATOR) {
            continue;
        }
        let parts: Vec<String> = rest
            .split(ENV_SEPARATOR)
            .map(str::to_ascii_lowercase)
            .collect();
        if parts.iter().any(String::is_empty) {
            continue;
        }
        let value = match raw.parse::<Value>() {
            Ok(value) => value,
            Err(never) => match never {},
        };
        insert_nested(&mut root, &parts, value);
    }
    root
}

fn insert_nested(dict: &mut Dict, parts: &[String], value: Value) {
    match parts {
        [] => {}
        [last] => {
            dict.insert(last.clone(), value);
        }
        [first, rest @ ..] => {
            let entry = dict
                .entry(first.clone())
                .or_insert_with(|| Value::from(Dict::new()));
            if !matches!(entry, Value::Dict(..)) {
                *entry = Value::from(Dict::new());
            }
            if let Value::Dict(_, inner) = entry {
                insert_nested(inner, rest, value);
            }
        }
    }
}

/// Shapes the environment overlay like the file's data: a dict of indices over a file list
/// becomes that list with the indexed items deep-merged, so `LEX_SQL__BACKENDS__0__BACKEND__URL`
/// overrides one field of the file's first backend. A dict whose keys are exactly `0..n`
/// becomes a list. Values copied from the file keep the file's tag (and so its source).
fn align_dict(env: Dict, file: Option<&Dict>) -> Dict {
    env.into_iter()
        .map(|(key, value)| {
            let file_value = file.and_then(|f| f.get(&key));
            (key, align(value, file_value))
        })
        .collect()
}

fn align(env: Value, file: Option<&Value>) -> Value {
    match (env, file) {
        (Value::Dict(tag, dict), Some(Value::Array(_, items))) if index_keys(&dict).is_some() => {
            let mut out = items.clone();
            for (index, value) in indexed(dict) {
                match out.get(index) {
                    Some(existing) => {
                        let aligned = align(value, Some(existing));
                        let merged = deep_merge(existing.clone(), aligned);
                        out[index] = merged;
                    }
                    None => out.push(align(value, None)),
                }
            }
            Value::Array(tag, out)
        }
        (Value::Dict(tag, dict), file) => {
            let contiguous = index_keys(&dict).is_some_and(|keys| {
                keys.iter().enumerate().all(|(i, k)| i == *k)
                    && !matches!(file, Some(Value::Dict(..)))
            });
            if contiguous {
                let items = indexed(dict)
                    .into_iter()
                    .map(|(_, v)| align(v, None))
                    .collect();
                Value::Array(tag, items)
            } else {
                let file_dict = match file {
                    Some(Value::Dict(_, d)) => Some(d),
                    _ => None,
                };
                Value::Dict(tag, align_dict(dict, file_dict))
            }
        }
        (value, _) => value,
    }
}

/// The dict's keys as sorted indices, if every key is a non-negative integer.
fn index_keys(dict: &Dict) -> Option<Vec<usize>> {
    if dict.is_empty() {
        return None;
    }
    let mut keys = dict
        .keys()
        .map(|k| k.parse::<usize>().ok())
        .collect::<Option<Vec<_>>>()?;
    keys.sort_unstable();
    Some(keys)
}

fn indexed(dict: Dict) -> Vec<(usize, Value)> {
    let mut items: Vec<(usize, Value)> = dict
        .into_iter()
        .filter_map(|(k, v)| k.parse::<usize>().ok().map(|i| (i, v)))
        .collect();
    items.sort_by_key(|(i, _)| *i);
    items
}

fn deep_merge(base: Value, over: Value) -> Value {
    match (base, over) {
        (Value::Dict(tag, mut base), Value::Dict(_, over)) => {
            for (key, value) in over {
                let merged = match base.remove(&key) {
                    Some(existing) => deep_merge(existing, value),
                    None => value,
                };
                base.insert(key, merged);
            }
            Value::Dict(tag, base)
        }
        (_, over) => over,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn yaml(text: &str, pairs: &[(&str, &str)]) -> AppConfig {
        AppConfig::from_yaml_and_env(text, "application.yaml", env(pairs)).unwrap()
    }

    fn get<T: serde::de::DeserializeOwned>(config: &AppConfig, key: &str) -> T {
        config.get(key).unwrap().unwrap()
    }

    #[test]
    fn empty_has_nothing() {
        let config = AppConfig::empty();
        assert!(!config.has_section("sql"));
        assert_eq!(config.find_value("sql"), None);
        assert_eq!(config.file(), None);
        assert!(format!("{config:?}").contains("AppConfig"));
    }

    #[test]
    fn env_overrides_file() {
        let config = yaml(
            "sql:\n  pool:\n    min_size: 2\n    max_size: 5\n",
            &[("LEX_SQL__POOL__MAX_SIZE", "20")],
        );
        assert_eq!(get::<u32>(&config, "sql.pool.min_size"), 2);
        assert_eq!(get::<u32>(&config, "sql.pool.max_size"), 20);
        assert_eq!(
            config.source_of("sql.pool.min_size").as_deref(),
            Some("application.yaml key sql.pool.min_size")
        );
        assert_eq!(
            config.source_of("sql.pool.max_size").as_deref(),
            Some("env LEX_SQL__POOL__MAX_SIZE")
        );
        assert_eq!(config.source_of("sql.pool.timeout"), None);
    }

    #[test]
    fn only_double_underscore_vars_are_config() {
        let config = yaml(
            "",
            &[
                ("LEX_ENV", "production"),
                ("LEX_LOG_LEVEL", "debug"),
                ("LEX_CONFIG_FILE", "x.yaml"),
                ("OTHER__X", "1"),
            ],
        );
        assert!(!config.has_section("env"));
        assert!(!config.has_section("log_level"));
        assert!(!config.has_section("other"));
        assert_eq!(config.env("LEX_ENV"), Some("production"));
    }

    #[test]
    fn env_values_are_typed_and_lowercased() {
        let config = AppConfig::load_from(
            Some(Path::new("/dev/null")),
            env(&[
                ("LEX_SQL__OPERATIONS__ECHO", "true"),
                (
                    "LEX_SQL__BACKEND__URL",
                    "postgresql://u:p@h:5432/db?sslmode=require",
                ),
                ("LEX_Sql__Pool__Timeout", "120s"),
            ]),
        )
        .unwrap();
        assert!(get::<bool>(&config, "sql.operations.echo"));
        assert_eq!(
            get::<String>(&config, "sql.backend.url"),
            "postgresql://u:p@h:5432/db?sslmode=require"
        );
        assert_eq!(get::<String>(&config, "sql.pool.timeout"), "120s");
    }

    #[test]
    fn interpolation() {
        let config = yaml(
            concat!(
                "a:\n",
                "  url: postgresql://${DB_USER}:${DB_PASS:secret}@${DB_HOST:localhost}/db\n",
                "  max: ${MAX:10}\n",
                "  flag: ${FLAG:false}\n",
                "  set: ${SET_NUM}\n",
                "  text: ${NAME:plain text}\n",
                "  literal: cost $$5 and $${NOT_A_VAR}\n",
                "  list: ['${DB_USER}', x]\n",
                "  empty: '${EMPTY:}'\n",
            ),
            &[("DB_USER", "app"), ("SET_NUM", "42")],
        );
        assert_eq!(
            get::<String>(&config, "a.url"),
            "postgresql://app:secret@localhost/db"
        );
        assert_eq!(get::<u32>(&config, "a.max"), 10);
        assert!(!get::<bool>(&config, "a.flag"));
        assert_eq!(get::<u64>(&config, "a.set"), 42);
        assert_eq!(get::<String>(&config, "a.text"), "plain text");
        assert_eq!(
            get::<String>(&config, "a.literal"),
            "cost $$5 and ${NOT_A_VAR}"
        );
        assert_eq!(get::<Vec<String>>(&config, "a.list"), vec!["app", "x"]);
        assert_eq!(get::<String>(&config, "a.empty"), "");
    }

    #[test]
    fn unset_variable_names_variable_file_and_key() {
        let err = AppConfig::from_yaml_and_env(
            "sql:\n  backend:\n    url: ${DATABASE_URL}\n",
            "conf/app.yaml",
            env(&[]),
        )
        .unwrap_err();
        assert_eq!(
            err,
            AppConfigError::UnsetVariable {
                variable: "DATABASE_URL".into(),
                path: PathBuf::from("conf/app.yaml"),
                key: "sql.backend.url".into(),
            }
        );
        let text = err.to_string();
        assert!(text.contains("DATABASE_URL"), "{text}");
        assert!(text.contains("conf/app.yaml key sql.backend.url"), "{text}");
        assert!(text.contains("${DATABASE_URL:default}"), "{text}");
    }

    #[test]
    fn bad_placeholders() {
        for text in ["a: ${OPEN\n", "a: ${bad-name}\n", "a: ${}\n"] {
            let err = AppConfig::from_yaml_and_env(text, "x.yaml", env(&[])).unwrap_err();
            assert!(
                matches!(err, AppConfigError::BadPlaceholder { .. }),
                "{text}: {err:?}"
            );
        }
    }

    #[test]
    fn parse_errors_name_the_file() {
        let err = AppConfig::from_yaml_and_env("a: [1, 2\n", "bad.yaml", env(&[])).unwrap_err();
        assert!(matches!(err, AppConfigError::Parse { .. }));
        assert!(err.to_string().contains("bad.yaml"));
        let err = AppConfig::from_yaml_and_env("- 1\n- 2\n", "list.yaml", env(&[])).unwrap_err();
        assert!(err.to_string().contains("not a mapping"), "{err}");
    }

    #[test]
    fn file_loading() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.yaml");
        std::fs::write(&path, "sql:\n  enabled: false\n").unwrap();
        let config = AppConfig::load_from(Some(&path), env(&[])).unwrap();
        assert_eq!(config.file(), Some(path.as_path()));
        assert!(!get::<bool>(&config, "sql.enabled"));
        assert_eq!(
            config.source_of("sql.enabled"),
            Some(format!("{} key sql.enabled", path.display()))
        );

        // LEX_CONFIG_FILE names the file
        let named = env(&[("LEX_CONFIG_FILE", path.to_str().unwrap())]);
        let config = AppConfig::load_from(None, named).unwrap();
        assert!(!get::<bool>(&config, "sql.enabled"));

        // a missing named file is an error, naming it
        let missing = dir.path().join("missing.yaml");
        let err =
            AppConfig::load_from(None, env(&[("LEX_CONFIG_FILE", missing.to_str().unwrap())]))
                .unwrap_err();
        assert_eq!(
            err,
            AppConfigError::FileNotFound {
                path: missing.clone()
            }
        );
        assert!(err.to_string().contains("missing.yaml"));
        assert!(AppConfig::from_file(&missing).is_err());
        assert!(AppConfig::load_from(Some(&missing), env(&[])).is_err());
    }

    #[test]
    fn missing_default_file_is_empty() {
        // Tests run in the crate directory, which has no application.yaml.
        let config = AppConfig::load_from(None, env(&[])).unwrap();
        assert!(!config.has_section("sql"));
        assert_eq!(config.file(), None);
    }

    #[test]
    fn env_lists() {
        let config = yaml(
            "",
            &[
                ("LEX_SQL__BACKENDS__0__NAME", "main"),
                ("LEX_SQL__BACKENDS__0__BACKEND__URL", "sqlite://"),
                ("LEX_SQL__BACKENDS__1__NAME", "replica"),
            ],
        );
        assert!(matches!(
            config.find_value("sql.backends"),
            Some(Value::Array(..))
        ));
        assert_eq!(get::<String>(&config, "sql.backends.1.name"), "replica");
        assert_eq!(
            config.source_of("sql.backends.0.backend.url").as_deref(),
            Some("env LEX_SQL__BACKENDS__0__BACKEND__URL")
        );
        assert!(config.has_section("sql"));
    }

    #[test]
    fn env_list_items_merge_into_file_list() {
        let config = yaml(
            "sql:\n  backends:\n    - name: main\n      primary: true\n      backend:\n        url: sqlite://\n    - name: reports\n",
            &[
                ("LEX_SQL__BACKENDS__0__BACKEND__URL", "postgresql://h/db"),
                ("LEX_SQL__BACKENDS__2__NAME", "extra"),
            ],
        );
        assert_eq!(get::<String>(&config, "sql.backends.0.name"), "main");
        assert!(get::<bool>(&config, "sql.backends.0.primary"));
        assert_eq!(
            get::<String>(&config, "sql.backends.0.backend.url"),
            "postgresql://h/db"
        );
        assert_eq!(get::<String>(&config, "sql.backends.1.name"), "reports");
        assert_eq!(get::<String>(&config, "sql.backends.2.name"), "extra");
        assert_eq!(
            config.source_of("sql.backends.0.name").as_deref(),
            Some("application.yaml key sql.backends.0.name")
        );
        assert_eq!(
            config.source_of("sql.backends.0.backend.url").as_deref(),
            Some("env LEX_SQL__BACKENDS__0__BACKEND__URL")
        );
    }

    #[test]
    fn sections_and_focus() {
        let config = yaml("app:\n  port: 8080\n", &[("LEX_CACHE__TTL", "5")]);
        assert!(config.has_section("app"));
        assert!(config.has_section("cache"));
        assert_eq!(
            config.section("app").extract_inner::<u16>("port").unwrap(),
            8080
        );
        assert_eq!(
            config.section("cache").extract_inner::<u8>("ttl").unwrap(),
            5
        );
        assert!(config.section("none").find_value("x").is_err());
    }

    #[test]
    fn debug_hides_values() {
        let config = yaml(
            "sql:\n  backend:\n    url: postgresql://u:hunter2@h/db\n",
            &[("SECRET", "hunter3")],
        );
        let debug = format!("{config:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(!debug.contains("hunter3"), "{debug}");
        assert!(debug.contains("sql"), "{debug}");
    }

    #[test]
    fn env_var_names() {
        assert_eq!(env_var_name("sql.backend.url"), "LEX_SQL__BACKEND__URL");
        assert_eq!(
            env_var_name("sql.backends.0.backend.url"),
            "LEX_SQL__BACKENDS__0__BACKEND__URL"
        );
    }
}
