//! The lexigram application core.
//!
//! - [`Application`]: providers, a typed [`Container`] and the loaded config, with a lifecycle
//!   (register → boot → health → shutdown). [`Provider`]s are bundled into [`Module`]s.
//! - [`config`]: layered application configuration (`application.yaml` or the file named by
//!   `LEX_CONFIG_FILE`, then `LEX_<SECTION>__<KEY>` environment variables), with `${VAR}` and
//!   `${VAR:default}` interpolation in YAML values and a way to ask where any value came from.
//! - [`logging`]: `tracing` subscriber set-up driven by `LEX_LOG_LEVEL` and `LEX_LOG_FORMAT`.
//! - [`metrics`]: the Prometheus endpoint of `metrics.prometheus.listen`.

pub mod config;
pub mod logging;
pub mod metrics;

pub mod application;
pub mod container;
pub mod error;
pub mod health;
pub mod module;
pub mod provider;

pub use application::{Application, ApplicationBuilder};
pub use config::{AppConfig, AppConfigError};
pub use container::{Container, ResolveError};
pub use error::{AppError, BoxError, Phase};
pub use health::{ApplicationHealth, ComponentHealth, ComponentStatus};
pub use module::{Bundle, Module, ModuleParts};
pub use provider::{Priority, Provider};

/// Re-exported so providers can implement the async methods of [`Provider`] without adding
/// the dependency themselves: `#[lexigram::async_trait]`.
pub use async_trait::async_trait;
