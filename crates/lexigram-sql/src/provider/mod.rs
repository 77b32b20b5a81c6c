//! Databases in a lexigram [`Application`](lexigram::Application): [`DatabaseProvider`],
//! [`DatabaseModule`] and the [`Databases`] registry of named backends.
//!
//! What the provider binds, at `register()` time (so it is resolvable right after
//! registration — the seed's "bound at `register()` time"):
//!
//! | binding | value |
//! |---|---|
//! | `Databases` | the registry of every configured backend |
//! | `Database` | the primary backend (the one marked `primary`, or the only one) |
//! | `Database` named `<name>` | each backend by name (`default` for the single-backend form) |
//!
//! `register()` is synchronous and cannot open connections, so the `Database` bindings are
//! factories over the registry: they resolve to live handles once `boot()` has connected
//! every backend (concurrently), and before that fail with [`Error::NotConnected`]. After
//! shutdown they resolve to the closed handles (calls fail with [`Error::Closed`]).
//! Resolving the unnamed `Database` when several backends are configured and none is primary
//! fails with [`Error::NoPrimaryBackend`].
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use lexigram::{AppConfig, Application};
//! use lexigram_sql::{Database, DatabaseModule};
//!
//! let yaml = "sql:\n  backends:\n    - name: main\n      primary: true\n      backend:\n        url: sqlite://\n    - name: audit\n      backend:\n        url: sqlite://\n";
//! let app = Application::builder("shop")
//!     .config(AppConfig::from_yaml_and_env(yaml, "application.yaml", []).unwrap())
//!     .module(DatabaseModule::from_app_config())
//!     .boot()
//!     .await?;
//! assert_eq!(app.resolve::<Database>()?.name(), "main");
//! assert_eq!(app.resolve_named::<Database>("audit")?.name(), "audit");
//! let health = app.health_check().await;
//! assert_eq!(health.components.len(), 2);
//! app.shutdown().await?;
//! # Ok(()) }
//! ```
//!
//! [`Error::NotConnected`]: crate::Error::NotConnected
//! [`Error::Closed`]: crate::Error::Closed
//! [`Error::NoPrimaryBackend`]: crate::Error::NoPrimaryBackend

mod database_provider;
mod health;
mod migrations;
mod module;
mod registry;
mod relay;
mod scope;

pub use database_provider::{DatabaseProvider, PROVIDER_NAME};
pub use module::DatabaseModule;
pub use registry::Databases;
pub use scope::{Scope, ScopeModule, bind_on_primary};
