//! Logging set-up: one global `tracing` subscriber writing to standard error.
//!
//! - `LEX_LOG_LEVEL` (or its alias `LEX_LOGGING__LEVEL`, the Python edition's spelling) sets the
//!   level (`DEBUG`, `info`, …) or a full [`EnvFilter`] directive
//!   (`warn,lexigram_sql=debug`); the default is `WARN`. At `DEBUG`, every SQL statement is
//!   logged too, on target [`QUERY_TARGET`].
//! - SQL echo (`sql.operations.echo: true`, `LEX_SQL__OPERATIONS__ECHO=true`) logs each statement
//!   at `INFO` on [`QUERY_TARGET`]; those events are printed **whatever the level**, so echo
//!   works on its own, as the troubleshooting page says.
//! - `LEX_LOG_FORMAT=json` (or `LEX_LOGGING__FORMAT=json`) switches to one JSON object per event.
//! - Colours (ANSI escape codes) only when standard error is a terminal, and never when
//!   `NO_COLOR` is set to a non-empty value (<https://no-color.org>): piped or redirected logs
//!   are plain text.
//! - The data layer's spans (target [`SPAN_TARGET`], for OpenTelemetry export) are not printed
//!   as context of log lines; add your own layer to export them.
//!
//! Installing is idempotent: the first call wins, later calls (and calls after another
//! subscriber was installed, e.g. by a test harness) do nothing.
//!
//! ```
//! // Install once at start-up; a second call is a no-op, never a panic.
//! lexigram::logging::init(Some("info"), false);
//! assert!(!lexigram::logging::init(Some("debug"), true));
//! ```

use std::io::IsTerminal;

use tracing::Subscriber;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::{FilterExt, FilterFn, Filtered};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::{Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;

/// Environment variable holding the log level or filter directive.
pub const LEVEL_VAR: &str = "LEX_LOG_LEVEL";
/// Alias of [`LEVEL_VAR`] (the Python edition's spelling); `LEX_LOG_LEVEL` wins when both are set.
pub const LEVEL_ALIAS_VAR: &str = "LEX_LOGGING__LEVEL";
/// Environment variable choosing the output format: `json`, or anything else for text.
pub const FORMAT_VAR: &str = "LEX_LOG_FORMAT";
/// Alias of [`FORMAT_VAR`]; `LEX_LOG_FORMAT` wins when both are set.
pub const FORMAT_ALIAS_VAR: &str = "LEX_LOGGING__FORMAT";
/// The level used when none is given.
pub const DEFAULT_LEVEL: &str = "warn";
/// The target of the data layer's per-statement events (echo at `INFO`, every statement at
/// `DEBUG`, slow statements at `WARN`). Events on it at `INFO` or above always pass the filter.
pub const QUERY_TARGET: &str = "lexigram_sql::query";
/// The target of the data layer's spans (statements, transactions, units of work, migrations),
/// which the log output leaves out.
pub const SPAN_TARGET: &str = "lexigram_sql::span";

/// Installs the global subscriber with `level` (default `WARN`) and text or JSON output on
/// standard error, coloured only on a terminal without `NO_COLOR`.
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
    let ansi = use_colour(
        std::io::stderr().is_terminal(),
        std::env::var_os("NO_COLOR").as_deref(),
    );
    let (layer, rejected) = layer(level, json, ansi, std::io::stderr);
    let installed = tracing_subscriber::registry()
        .with(layer)
        .try_init()
        .is_ok();
    if installed && let Some(rejected) = rejected {
        tracing::warn!(
            level = %rejected,
            "{LEVEL_VAR} is not a log level or filter directive; using WARN"
        );
    }
    installed
}

/// Installs the global subscriber from `LEX_LOG_LEVEL` (or `LEX_LOGGING__LEVEL`) and
/// `LEX_LOG_FORMAT` (or `LEX_LOGGING__FORMAT`).
///
/// ```no_run
/// // LEX_LOG_LEVEL=debug LEX_LOG_FORMAT=json ./my-service
/// lexigram::logging::init_from_env();
/// ```
pub fn init_from_env() -> bool {
    let var = |name: &str, alias: &str| {
        std::env::var(name)
            .ok()
            .filter(|v| !v.trim().is_empty())
            .or_else(|| std::env::var(alias).ok())
    };
    let level = var(LEVEL_VAR, LEVEL_ALIAS_VAR);
    let json =
        var(FORMAT_VAR, FORMAT_ALIAS_VAR).is_some_and(|f| f.trim().eq_ignore_ascii_case("json"));
    init(level.as_deref(), json)
}

/// The filtered formatting layer [`init`] installs, writing to `writer`, for composing with
/// other layers (an OpenTelemetry exporter, say) on a subscriber of your own. Also returns the
/// rejected `level` input, if it was invalid (the layer then uses `WARN`).
///
/// ```
/// use tracing_subscriber::layer::SubscriberExt;
/// let (logs, rejected) = lexigram::logging::layer(Some("debug"), false, false, std::io::stderr);
/// assert!(rejected.is_none());
/// let subscriber = tracing_subscriber::registry().with(logs);
/// tracing::subscriber::with_default(subscriber, || tracing::debug!("hello"));
/// ```
pub fn layer<S, W>(
    level: Option<&str>,
    json: bool,
    ansi: bool,
    writer: W,
) -> (Box<dyn Layer<S> + Send + Sync>, Option<String>)
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let (filter, rejected) = filter_for(level);
    // Echo (INFO) and slow statements (WARN) on the query target pass whatever the level;
    // the data layer's spans never reach the log output.
    let echo = FilterFn::new(|meta: &tracing::Metadata<'_>| {
        meta.is_event() && meta.target() == QUERY_TARGET && *meta.level() <= tracing::Level::INFO
    });
    let spans = FilterFn::new(|meta: &tracing::Metadata<'_>| {
        !(meta.is_span() && meta.target() == SPAN_TARGET)
    });
    let filter = filter.or(echo).and(spans);
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(writer)
        .with_ansi(ansi);
    let layer: Box<dyn Layer<S> + Send + Sync> = if json {
        Box::new(Filtered::new(fmt.json(), filter))
    } else {
        Box::new(Filtered::new(fmt, filter))
    };
    (layer, rejected)
}

/// Whether log output gets ANSI colours: only on a terminal, and never when `NO_COLOR` is set
/// to a non-empty value.
///
/// ```
/// use lexigram::logging::use_colour;
/// use std::ffi::OsStr;
/// assert!(use_colour(true, None));
/// assert!(!use_colour(false, None)); // a pipe or a file
/// assert!(!use_colour(true, Some(OsStr::new("1"))));
/// assert!(use_colour(true, Some(OsStr::new(""))));
/// ```
pub fn use_colour(is_terminal: bool, no_color: Option<&std::ffi::OsStr>) -> bool {
    is_terminal && no_color.is_none_or(|v| v.is_empty())
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
mod tests;
