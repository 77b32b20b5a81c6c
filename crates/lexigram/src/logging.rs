//! Logging set-up: one global `tracing` subscriber writing to standard error.
//!
//! `LEX_LOG_LEVEL` sets the level (`DEBUG`, `info`, …) or a full
//! [`EnvFilter`](tracing_subscriber::EnvFilter) directive (`warn,lexigram_sql=debug`);
//! the default is `WARN`. `LEX_LOG_FORMAT=json` switches to one JSON object per event.
//!
//! Installing is idempotent: the first call wins, later calls (and calls after another
//! subscriber was installed, e.g. by a test harness) do nothing.
//!
//! ```
//! // Install once at start-up; a second call is a no-op, never a panic.
//! lexigram::logging::init(Some("info"), false);
//! assert!(!lexigram::logging::init(Some("debug"), true));
//! ```

use tracing_subscriber::EnvFilter;

/// Environment variable holding the log level or filter directive.
pub const LEVEL_VAR: &str = "LEX_LOG_LEVEL";
/// Environment variable choosing the output format: `json`, or anything else for text.
pub const FORMAT_VAR: &str = "LEX_LOG_FORMAT";
/// The level used when none is given.
pub const DEFAULT_LEVEL: &str = "warn";

/// Installs the global subscriber with `level` (default `WARN`) and text or JSON output.
///
/// Returns `true` if this call installed it, `false` if a subscriber was already installed.
/// A `level` that is neither a level name nor a valid filter directive falls back to `WARN`
/// and says so in a warning event.
///
/// ```
/// let first = lexigram::logging::init(Some("DEBUG"), false);
/// let second = lexigram::logging::init(None, false);
/// assert!(!second || !first);
/// ```
pub fn init(level: Option<&str>, json: bool) -> bool {
    let (filter, rejected) = filter_for(level);
    let installed = if json {
        tracing_subscriber::fmt()
            .json()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .try_init()
            .is_ok()
    } else {
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .try_init()
            .is_ok()
    };
    if installed && let Some(rejected) = rejected {
        tracing::warn!(
            level = %rejected,
            "{LEVEL_VAR} is not a log level or filter directive; using WARN"
        );
    }
    installed
}

/// Installs the global subscriber from `LEX_LOG_LEVEL` and `LEX_LOG_FORMAT`.
///
/// ```no_run
/// // LEX_LOG_LEVEL=debug LEX_LOG_FORMAT=json ./my-service
/// lexigram::logging::init_from_env();
/// ```
pub fn init_from_env() -> bool {
    let level = std::env::var(LEVEL_VAR).ok();
    let json = std::env::var(FORMAT_VAR).is_ok_and(|f| f.trim().eq_ignore_ascii_case("json"));
    init(level.as_deref(), json)
}

/// The filter for `level`, and the rejected input if it was invalid.
fn filter_for(level: Option<&str>) -> (EnvFilter, Option<String>) {
    let Some(raw) = level.map(str::trim).filter(|l| !l.is_empty()) else {
        return (EnvFilter::new(DEFAULT_LEVEL), None);
    };
    match normalize(raw).map(EnvFilter::try_new) {
        Some(Ok(filter)) => (filter, None),
        _ => (EnvFilter::new(DEFAULT_LEVEL), Some(raw.to_string())),
    }
}

/// Lower-cases bare level names (`DEBUG` → `debug`, `WARNING` → `warn`); `target=level`
/// directives keep their case. `None` if a part without `=` is not a level name (EnvFilter
/// would take it as a target and log everything under that name).
fn normalize(raw: &str) -> Option<String> {
    let parts: Option<Vec<String>> = raw
        .split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(|part| {
            if part.contains('=') {
                return Some(part.to_string());
            }
            match part.to_ascii_lowercase().as_str() {
                "warning" => Some("warn".to_string()),
                "critical" | "fatal" => Some("error".to_string()),
                level @ ("trace" | "debug" | "info" | "warn" | "error" | "off") => {
                    Some(level.to_string())
                }
                _ => None,
            }
        })
        .collect();
    parts.map(|parts| parts.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_are_case_insensitive() {
        assert_eq!(normalize("DEBUG").as_deref(), Some("debug"));
        assert_eq!(normalize("Info").as_deref(), Some("info"));
        assert_eq!(normalize("WARNING").as_deref(), Some("warn"));
        assert_eq!(
            normalize("INFO, lexigram_sql=debug").as_deref(),
            Some("info,lexigram_sql=debug")
        );
        assert_eq!(normalize("DEBG"), None);
    }

    #[test]
    fn filters() {
        assert_eq!(filter_for(None).0.to_string(), "warn");
        assert_eq!(filter_for(Some("  ")).0.to_string(), "warn");
        assert_eq!(filter_for(Some("DEBUG")).0.to_string(), "debug");
        let (filter, rejected) = filter_for(Some("warn,lexigram_sql=debug"));
        assert!(rejected.is_none());
        assert!(filter.to_string().contains("lexigram_sql=debug"));
        for bad in ["not a level!!", "DEBG", "lexigram_sql=loud"] {
            let (filter, rejected) = filter_for(Some(bad));
            assert_eq!(filter.to_string(), "warn", "{bad}");
            assert_eq!(rejected.as_deref(), Some(bad));
        }
    }

    #[test]
    fn init_is_idempotent() {
        let first = init(Some("info"), false);
        let second = init(Some("debug"), true);
        assert!(!second || !first);
        assert!(!init(None, false));
    }
}
