//! Errors of the application lifecycle.

use std::fmt;

use crate::config::AppConfigError;
use crate::container::ResolveError;

/// Any error a provider returns: boxed, thread-safe, message kept as the provider wrote it.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// The lifecycle phase in which a provider failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Phase {
    /// [`Provider::register`](crate::Provider::register).
    Register,
    /// [`Provider::boot`](crate::Provider::boot).
    Boot,
    /// [`Provider::shutdown`](crate::Provider::shutdown).
    Shutdown,
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Phase::Register => "register",
            Phase::Boot => "boot",
            Phase::Shutdown => "shutdown",
        })
    }
}

/// Why an application could not boot or shut down cleanly.
///
/// A provider's error keeps its message verbatim at the start of this error's message, so
/// `NoPrimaryBackendError: …` reads the same here as where it was raised; the provider and
/// phase follow in parentheses. [`AppError::downcast_ref`] recovers the provider's own type.
///
/// ```
/// use lexigram::{AppError, Phase};
/// let err = AppError::Provider {
///     provider: "sql".into(),
///     phase: Phase::Boot,
///     source: "DatabaseError: could not connect".into(),
/// };
/// assert_eq!(
///     err.to_string(),
///     "DatabaseError: could not connect (provider `sql`, phase boot)"
/// );
/// ```
///
/// Each message appears once in a chain: `Config` and `Resolve` are transparent, and
/// `Provider`, whose message starts with the provider's error, continues its `source()` chain
/// below that error.
#[derive(Debug)]
#[non_exhaustive]
pub enum AppError {
    /// The application configuration could not be loaded.
    Config(AppConfigError),
    /// A provider failed in one phase.
    Provider {
        /// The provider's name.
        provider: String,
        /// Where it failed.
        phase: Phase,
        /// Its error.
        source: BoxError,
    },
    /// A binding could not be resolved.
    Resolve(ResolveError),
    /// Two providers or modules would be registered under the same name.
    DuplicateProvider {
        /// The name in conflict.
        name: String,
    },
    /// The Prometheus endpoint (`metrics.prometheus.listen`) could not be served.
    Metrics {
        /// The configured address and where it came from.
        listen: String,
        /// What went wrong, with the fix.
        detail: String,
    },
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AppError::Config(e) => fmt::Display::fmt(e, f),
            AppError::Provider {
                provider,
                phase,
                source,
            } => write!(f, "{source} (provider `{provider}`, phase {phase})"),
            AppError::Resolve(e) => fmt::Display::fmt(e, f),
            AppError::DuplicateProvider { name } => write!(
                f,
                "ApplicationError: two providers are named `{name}`. Fix: add each provider once, or give them distinct names"
            ),
            AppError::Metrics { listen, detail } => write!(
                f,
                "MetricsError: cannot serve Prometheus metrics on {listen}: {detail}"
            ),
        }
    }
}

impl std::error::Error for AppError {
    /// The next error whose message is not already part of this one's: `Config` and
    /// `Resolve` are transparent, and `Provider` (whose message starts with the provider's
    /// error) continues below that error.
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            AppError::Config(e) => std::error::Error::source(e),
            AppError::Provider { source, .. } => source.source(),
            AppError::Resolve(e) => std::error::Error::source(e),
            AppError::DuplicateProvider { .. } | AppError::Metrics { .. } => None,
        }
    }
}

impl From<AppConfigError> for AppError {
    fn from(e: AppConfigError) -> Self {
        AppError::Config(e)
    }
}

impl From<ResolveError> for AppError {
    fn from(e: ResolveError) -> Self {
        AppError::Resolve(e)
    }
}

impl AppError {
    /// The provider's error as a concrete type, e.g. `lexigram_sql::Error`, to match on its
    /// variant and code.
    ///
    /// ```
    /// use lexigram::{AppError, Phase};
    /// let err = AppError::Provider {
    ///     provider: "x".into(),
    ///     phase: Phase::Register,
    ///     source: Box::new(std::fmt::Error),
    /// };
    /// assert!(err.downcast_ref::<std::fmt::Error>().is_some());
    /// assert!(err.downcast_ref::<std::io::Error>().is_none());
    /// ```
    pub fn downcast_ref<E: std::error::Error + 'static>(&self) -> Option<&E> {
        match self {
            AppError::Provider { source, .. } => source.downcast_ref::<E>(),
            AppError::Resolve(e) => e.downcast_ref::<E>(),
            _ => None,
        }
    }

    /// The failing provider's name and phase, if a provider failed.
    pub fn provider(&self) -> Option<(&str, Phase)> {
        match self {
            AppError::Provider {
                provider, phase, ..
            } => Some((provider, *phase)),
            _ => None,
        }
    }
}
