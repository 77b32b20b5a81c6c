//! Resolving the database configuration with the documented precedence:
//! `--url` > `LEX_SQL__*` env (the process's, then a `.env` file's) > application.yaml
//! (`sql:`; `--config FILE`, `LEX_CONFIG_FILE`) > `DATABASE_URL` > the default
//! `sqlite:///data.db`.

use std::path::PathBuf;

use lexigram::AppConfig;
use lexigram_sql::config::BackendSettings;
use lexigram_sql::{ConfigError, ConfigErrorKind, DatabaseConfig, Error};

use crate::args::GlobalArgs;

/// The environment variable used when nothing else names a URL.
pub const DATABASE_URL: &str = "DATABASE_URL";

/// The environment variable that sets the URL in the `LEX_SQL__*` layer.
const URL_VAR: &str = "LEX_SQL__BACKEND__URL";

/// Loads and validates the configuration, applying `--url` and the `DATABASE_URL` fallback.
/// The `.env` file read from the current directory.
pub const DOTENV_FILE: &str = ".env";

/// The process environment plus the variables of `.env` in the current directory that the
/// process does not set itself (the process wins). A missing `.env` is fine; a malformed one
/// is an error naming the file.
pub fn environment() -> Result<Vec<(String, String)>, Error> {
    let mut env: Vec<(String, String)> = std::env::vars().collect();
    let path = std::path::Path::new(DOTENV_FILE);
    if !path.is_file() {
        return Ok(env);
    }
    let bad = |detail: String| {
        Error::Configuration(
            ConfigError::new(
                ConfigErrorKind::Source,
                format!("cannot read {DOTENV_FILE}"),
                detail,
                "use KEY=value lines (values may be quoted), or remove the file",
            )
            .with_source_name(format!("{DOTENV_FILE} in the current directory")),
        )
    };
    let iter = dotenvy::from_path_iter(path).map_err(|e| bad(e.to_string()))?;
    for item in iter {
        let (key, value) = item.map_err(|e| bad(e.to_string()))?;
        if std::env::var_os(&key).is_none() {
            env.push((key, value));
        }
    }
    Ok(env)
}

/// Loads and validates the configuration, applying `--url` and the `DATABASE_URL` fallback.
pub fn load(global: &GlobalArgs) -> Result<DatabaseConfig, Error> {
    let mut env = environment()?;
    // `--url` stands in for LEX_SQL__BACKEND__URL, so a bad URL in the file or the
    // environment does not stop a command that names its database explicitly.
    if let Some(url) = &global.url {
        env.retain(|(k, _)| k != URL_VAR);
        env.push((URL_VAR.to_string(), url.clone()));
    }
    let database_url = env
        .iter()
        .rev()
        .find(|(k, _)| k == DATABASE_URL)
        .map(|(_, v)| v.clone());
    let app = AppConfig::load_from(global.config.as_deref(), env)?;
    let mut config = DatabaseConfig::from_app_config(&app).map_err(|e| relabel(e, global))?;
    let configured =
        app.find_value("sql.backend.url").is_some() || app.find_value("sql.backends").is_some();
    if let Some(url) = &global.url {
        config = with_url(config, url, "command line --url")?;
    } else if !configured && let Some(url) = database_url.filter(|u| !u.trim().is_empty()) {
        config = with_url(config, &url, "env DATABASE_URL")?;
    }
    config.validate()?;
    Ok(config)
}

/// Errors about the URL given with `--url` say so instead of naming the env var it rode in.
fn relabel(e: Error, global: &GlobalArgs) -> Error {
    match e {
        Error::Configuration(mut c)
            if global.url.is_some()
                && c.source_name
                    .as_deref()
                    .is_some_and(|s| s.contains(URL_VAR)) =>
        {
            c.source_name = Some("command line --url".to_string());
            Error::Configuration(c)
        }
        other => other,
    }
}

fn with_url(config: DatabaseConfig, url: &str, origin: &str) -> Result<DatabaseConfig, Error> {
    // `--url` replaces named backends too: the command then works on that one database.
    let mut config = config;
    config.backends.clear();
    config.with_url(url).map_err(|e| match e {
        Error::Configuration(mut c) => {
            c.source_name = Some(origin.to_string());
            Error::Configuration(c)
        }
        other => other,
    })
}

/// The backend commands work on: `--backend NAME`, else the primary (or only) one.
pub fn selected(global: &GlobalArgs, config: &DatabaseConfig) -> Result<BackendSettings, Error> {
    let Some(name) = &global.backend else {
        return primary(config);
    };
    let backends = config.backends()?;
    let names: Vec<String> = backends.iter().map(|b| b.name.clone()).collect();
    backends
        .into_iter()
        .find(|b| &b.name == name)
        .ok_or_else(|| {
            Error::Configuration(
                ConfigError::new(
                    ConfigErrorKind::Backends,
                    "Unknown backend",
                    format!(
                        "no backend is named `{name}`; the configured backends are: {}",
                        names.join(", ")
                    ),
                    "pass one of those names to --backend",
                )
                .with_source_name("command line --backend"),
            )
        })
}

/// The backend migration commands work on: the primary (or only) one.
pub fn primary(config: &DatabaseConfig) -> Result<BackendSettings, Error> {
    lexigram_sql::config::primary(config.backends()?)
}

/// The migrations directory: `--dir`, else the backend's `migrations.dir`.
pub fn migrations_dir(global: &GlobalArgs, backend: &BackendSettings) -> PathBuf {
    global
        .dir
        .clone()
        .unwrap_or_else(|| backend.migrations.dir.clone())
}
