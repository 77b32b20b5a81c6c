//! Which backend is the primary: the one marked `primary: true`, or the only one. Decided
//! here once, for `Database::from_config`, the provider's registry and the CLI.

use super::BackendSettings;
use crate::error::Error;

/// The position of the primary backend among `settings`: the one marked `primary`, or the
/// only one; `None` when several are configured and none is marked.
///
/// ```
/// use lexigram_sql::DatabaseConfig;
/// use lexigram_sql::config::primary_index;
/// let backends = DatabaseConfig::from_url("sqlite://")?.backends()?;
/// assert_eq!(primary_index(&backends), Some(0));
/// # Ok::<(), lexigram_sql::Error>(())
/// ```
pub fn primary_index(settings: &[BackendSettings]) -> Option<usize> {
    settings
        .iter()
        .position(|s| s.primary || settings.len() == 1)
}

/// The primary backend of `settings`, or [`Error::NoPrimaryBackend`] naming the configured
/// backends and both fixes.
///
/// ```
/// use lexigram_sql::DatabaseConfig;
/// use lexigram_sql::config::primary;
/// let backends = DatabaseConfig::from_url("sqlite://")?.backends()?;
/// assert_eq!(primary(backends)?.name, "default");
/// # Ok::<(), lexigram_sql::Error>(())
/// ```
pub fn primary(mut settings: Vec<BackendSettings>) -> Result<BackendSettings, Error> {
    match primary_index(&settings) {
        Some(i) => Ok(settings.swap_remove(i)),
        None => Err(no_primary(&settings)),
    }
}

/// The error for several backends of which none is marked `primary: true`.
pub(crate) fn no_primary(settings: &[BackendSettings]) -> Error {
    let names: Vec<&str> = settings.iter().map(|s| s.name.as_str()).collect();
    Error::NoPrimaryBackend {
        detail: format!(
            "{} backends are configured ({}) and none is marked `primary: true`. Fix: set `primary: true` on one of `sql.backends`, or choose a backend by name: `app.resolve_named::<Database>(\"{}\")`, or `--backend {}` on the command line",
            settings.len(),
            names.join(", "),
            names.first().copied().unwrap_or("name"),
            names.first().copied().unwrap_or("name"),
        ),
    }
}
