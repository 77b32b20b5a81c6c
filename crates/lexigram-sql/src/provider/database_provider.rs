//! [`DatabaseProvider`]: the `sql` provider of a lexigram [`Application`](lexigram::Application).

use std::path::PathBuf;

use lexigram::{AppConfig, BoxError, ComponentHealth, Container, Priority, Provider};

use super::health::to_component;
use super::migrations::BootMigrations;
use super::registry::Databases;
use super::relay::AppRelay;
use crate::config::{DatabaseConfig, OutboxConfig};
use crate::error::Error;
use crate::migrate::MigrationSource;

/// The provider's name: its health entries, logs and errors say `sql`.
pub const PROVIDER_NAME: &str = "sql";

/// Where the provider's configuration comes from.
#[derive(Debug, Clone)]
enum Source {
    /// Given in code.
    Explicit(Box<DatabaseConfig>),
    /// A URL given in code, parsed at register time (stubs).
    Url(&'static str),
    /// The application's `sql` section; `required` makes a missing section an error.
    App { required: bool },
}

/// Connects an application to its databases.
///
/// - `register()` reads the configuration (given in code, or the application's `sql`
///   section), validates it, and binds a [`Databases`] registry, the unnamed [`Database`](crate::Database)
///   (the primary backend) and one named [`Database`](crate::Database) per backend. These bindings exist right
///   after registration; the `Database` bindings resolve to live handles once the application
///   has booted (resolving earlier fails with [`Error::NotConnected`]).
/// - `boot()` connects every backend concurrently, then applies pending migrations to the
///   primary backend when migrations are enabled.
/// - `shutdown()` closes the backends in reverse order.
/// - `health_check()` reports each backend: up/down, latency, pool figures, the error.
///
/// Without any configuration — no `DatabaseProvider::new(config)`, no `sql` section in
/// `application.yaml`, no `LEX_SQL__*` variable — boot fails with
/// `NoPrimaryBackendError: No database backend is configured` ([`Error::NoPrimaryBackend`]).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use lexigram::{AppConfig, Application};
/// use lexigram_sql::{Database, DatabaseConfig, DatabaseProvider};
///
/// let app = Application::builder("shop")
///     .config(AppConfig::empty())
///     .add_provider(DatabaseProvider::new(DatabaseConfig::from_url("sqlite://")?))
///     .boot()
///     .await?;
/// let db = app.resolve::<Database>()?;
/// assert_eq!(db.fetch_one("SELECT 40 + 2 AS n", &[]).await?.get::<i64>("n")?, 42);
/// println!("{}", app.health_check().await);
/// app.shutdown().await?;
/// assert!(db.is_closed());
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct DatabaseProvider {
    source: Source,
    migrations: Option<BootMigrations>,
    databases: Option<Databases>,
    relay: Option<AppRelay>,
    /// `sql.outbox`, as resolved at register time.
    outbox: OutboxConfig,
}

impl DatabaseProvider {
    /// A provider for this configuration (the application's `sql` section is not read).
    pub fn new(config: DatabaseConfig) -> Self {
        DatabaseProvider::with_source(Source::Explicit(Box::new(config)))
    }

    /// A provider configured from the application's `sql` section (`application.yaml` and
    /// `LEX_SQL__*`), read at register time. Without such a section, boot fails with
    /// [`Error::NoPrimaryBackend`].
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use lexigram::{AppConfig, Application};
    /// use lexigram_sql::{DatabaseProvider, Error};
    ///
    /// let err = Application::builder("shop")
    ///     .config(AppConfig::empty())
    ///     .add_provider(DatabaseProvider::from_app_config())
    ///     .boot()
    ///     .await
    ///     .unwrap_err();
    /// assert!(err.to_string().starts_with("NoPrimaryBackendError: No database backend is configured"));
    /// assert_eq!(err.downcast_ref::<Error>().map(Error::code), Some("LEX_ERR_SQL_004"));
    /// # }
    /// ```
    pub fn from_app_config() -> Self {
        DatabaseProvider::with_source(Source::App { required: true })
    }

    /// The application's `sql` section if it has one, else the built-in defaults (SQLite at
    /// `sqlite:///data.db`).
    pub(crate) fn app_config_or_default() -> Self {
        DatabaseProvider::with_source(Source::App { required: false })
    }

    /// A fresh private in-memory SQLite database (`sqlite://`).
    pub(crate) fn in_memory() -> Self {
        DatabaseProvider::with_source(Source::Url("sqlite://"))
    }

    fn with_source(source: Source) -> Self {
        DatabaseProvider {
            source,
            migrations: None,
            databases: None,
            relay: None,
            outbox: OutboxConfig::default(),
        }
    }

    /// Publishes the primary backend's outbox through `publisher`: with
    /// `sql.outbox.enabled: true` a [`Relay`](crate::uow::Relay) runs from boot to shutdown
    /// (see [`crate::uow::Relay`] for its guarantees). With `outbox.enabled` false the
    /// publisher is kept unused.
    pub fn outbox_publisher<P: crate::uow::Publisher>(mut self, publisher: P) -> Self {
        self.relay = Some(AppRelay::new(publisher));
        self
    }

    /// Applies the migrations in `dir` to the primary backend at boot (before anything can
    /// use it). Other named backends are not migrated.
    pub fn enable_migrations(mut self, dir: impl Into<PathBuf>) -> Self {
        self.migrations = Some(BootMigrations::Dir(dir.into()));
        self
    }

    /// Applies these migrations (e.g. embedded in the binary with
    /// [`embed_migrations!`](crate::embed_migrations)) to the primary backend at boot.
    pub fn enable_migrations_from(mut self, source: MigrationSource) -> Self {
        self.migrations = Some(BootMigrations::Source(source));
        self
    }

    /// The registry bound at register time; `None` before registration or when
    /// `sql.enabled` is `false`.
    pub fn databases(&self) -> Option<&Databases> {
        self.databases.as_ref()
    }

    fn resolve_config(&self, app: &AppConfig) -> Result<DatabaseConfig, Error> {
        match &self.source {
            Source::Explicit(config) => {
                config.validate()?;
                Ok((**config).clone())
            }
            Source::Url(url) => DatabaseConfig::from_url(url),
            Source::App { required } => {
                if *required && !DatabaseConfig::is_configured_in(app) {
                    return Err(no_backend_configured());
                }
                DatabaseConfig::from_app_config(app)
            }
        }
    }

    async fn migrate(&self, databases: &Databases) -> Result<(), Error> {
        let Some(migrations) = &self.migrations else {
            return Ok(());
        };
        migrations.apply(&databases.primary()?).await
    }
}

/// The seed's error for a provider with nothing to connect to, with both fixes.
pub(crate) fn no_backend_configured() -> Error {
    Error::NoPrimaryBackend {
        detail: "No database backend is configured: DatabaseProvider is registered but no config has been provided. Fix: provide configuration — either in application.yaml (set `sql.backend.url`, e.g. `sqlite:///db.sqlite`, or the env variable LEX_SQL__BACKEND__URL) or in code: `app.add_provider(DatabaseProvider::new(DatabaseConfig::from_url(\"sqlite:///db.sqlite\")?))`. `DatabaseModule::configure_default()` opts into the SQLite default `sqlite:///data.db`".to_string(),
    }
}

fn boxed(error: Error) -> BoxError {
    Box::new(error)
}

#[lexigram::async_trait]
impl Provider for DatabaseProvider {
    fn name(&self) -> &str {
        PROVIDER_NAME
    }

    fn priority(&self) -> Priority {
        Priority::Infrastructure
    }

    fn register(&mut self, container: &mut Container, app: &AppConfig) -> Result<(), BoxError> {
        let config = self.resolve_config(app).map_err(boxed)?;
        if !config.enabled {
            tracing::debug!("sql.enabled is false: DatabaseProvider binds nothing");
            return Ok(());
        }
        let settings = config.backends().map_err(boxed)?;
        if settings.is_empty() {
            return Err(boxed(no_backend_configured()));
        }
        let databases = Databases::new(settings);
        self.outbox = config.outbox.clone();
        container.bind(databases.clone());
        let registry = databases.clone();
        container.bind_factory(move |_: &Container| registry.primary().map_err(boxed));
        for name in databases.names() {
            let registry = databases.clone();
            let backend = name.to_string();
            container.bind_named_factory(name, move |_: &Container| {
                registry.get(&backend).map_err(boxed)
            });
        }
        tracing::debug!(backends = ?databases.names(), "sql provider registered");
        self.databases = Some(databases);
        Ok(())
    }

    async fn boot(&self, _container: &Container) -> Result<(), BoxError> {
        let Some(databases) = &self.databases else {
            return Ok(());
        };
        databases.connect_all().await.map_err(boxed)?;
        if let Err(e) = self.migrate(databases).await {
            databases.close_all().await;
            return Err(boxed(e));
        }
        match (&self.relay, self.outbox.enabled) {
            (Some(relay), true) => relay.start(&databases.primary().map_err(boxed)?, &self.outbox),
            (None, true) => tracing::warn!(
                "sql.outbox.enabled is true but no publisher is registered: no relay runs. Fix: DatabaseModule::configure(..).outbox_publisher(publisher)"
            ),
            (Some(_), false) => tracing::debug!(
                "an outbox publisher is registered but sql.outbox.enabled is false: no relay runs"
            ),
            (None, false) => {}
        }
        tracing::debug!(backends = ?databases.names(), "sql provider booted");
        Ok(())
    }

    async fn shutdown(&self) -> Result<(), BoxError> {
        if let Some(relay) = &self.relay {
            relay.stop().await;
        }
        if let Some(databases) = &self.databases {
            databases.close_all().await;
        }
        Ok(())
    }

    async fn health_check(&self) -> Vec<ComponentHealth> {
        let Some(databases) = &self.databases else {
            return Vec::new();
        };
        databases
            .health_check()
            .await
            .backends
            .into_iter()
            .map(|b| to_component(PROVIDER_NAME, b))
            .collect()
    }
}
