//! [`DatabaseModule`]: the usual way to add databases to an application.

use std::path::PathBuf;

use lexigram::{Module, ModuleParts};

use super::database_provider::{DatabaseProvider, PROVIDER_NAME};
use super::scope::{Scope, ScopeModule};
use crate::config::DatabaseConfig;
use crate::migrate::MigrationSource;

/// The `sql` module: one [`DatabaseProvider`], configured in one of four ways.
///
/// | constructor | configuration |
/// |---|---|
/// | [`DatabaseModule::configure`] | the [`DatabaseConfig`] given in code |
/// | [`DatabaseModule::from_app_config`] | the application's `sql` section (required) |
/// | [`DatabaseModule::configure_default`] | the `sql` section if present, else SQLite `sqlite:///data.db` |
/// | [`DatabaseModule::stub`] | a fresh private in-memory SQLite database, for tests |
///
/// [`DatabaseModule::enable_migrations`] applies a directory of migrations to the primary
/// backend at boot. A module name is added once per application, so importing the module
/// from several modules registers one provider.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use lexigram::{AppConfig, Application};
/// use lexigram_sql::{Database, DatabaseConfig, DatabaseModule};
///
/// let app = Application::builder("shop")
///     .config(AppConfig::empty())
///     .module(DatabaseModule::configure(DatabaseConfig::from_url("sqlite://")?))
///     .boot()
///     .await?;
/// let db = app.resolve::<Database>()?;
/// db.execute("CREATE TABLE t (n INTEGER)", &[]).await?;
/// app.shutdown().await?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct DatabaseModule {
    provider: DatabaseProvider,
}

impl DatabaseModule {
    /// The module for this configuration.
    pub fn configure(config: DatabaseConfig) -> Self {
        DatabaseModule {
            provider: DatabaseProvider::new(config),
        }
    }

    /// The module configured from the application's `sql` section (`application.yaml`,
    /// `LEX_SQL__*`); boot fails with `NoPrimaryBackendError` if there is none.
    pub fn from_app_config() -> Self {
        DatabaseModule {
            provider: DatabaseProvider::from_app_config(),
        }
    }

    /// Explicitly opts into the defaults: the application's `sql` section when it has one
    /// (so `LEX_SQL__BACKEND__URL` still redirects it), otherwise the built-in SQLite
    /// database file `data.db` in the current directory (`sqlite:///data.db`).
    pub fn configure_default() -> Self {
        DatabaseModule {
            provider: DatabaseProvider::app_config_or_default(),
        }
    }

    /// An in-memory SQLite database (`sqlite://`) private to this module: every stub is a
    /// separate database, shared by the connections of its pool and gone at shutdown. No
    /// file is written. The application's `sql` section is ignored. Migrations are optional
    /// ([`DatabaseModule::enable_migrations`]).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use lexigram::{AppConfig, Application};
    /// use lexigram_sql::{Database, DatabaseModule};
    ///
    /// let boot = || Application::builder("test").config(AppConfig::empty()).module(DatabaseModule::stub()).boot();
    /// let (a, b) = (boot().await?, boot().await?);
    /// a.resolve::<Database>()?.execute("CREATE TABLE only_in_a (n INTEGER)", &[]).await?;
    /// let tables = "SELECT count(*) AS n FROM sqlite_master WHERE name = 'only_in_a'";
    /// assert_eq!(b.resolve::<Database>()?.fetch_one(tables, &[]).await?.get::<i64>("n")?, 0);
    /// a.shutdown().await?;
    /// b.shutdown().await?;
    /// # Ok(()) }
    /// ```
    pub fn stub() -> Self {
        DatabaseModule {
            provider: DatabaseProvider::in_memory(),
        }
    }

    /// Applies the pending migrations of `dir` (`<version>_<name>.up.sql` files) to the
    /// primary backend when the application boots.
    pub fn enable_migrations(mut self, dir: impl Into<PathBuf>) -> Self {
        self.provider = self.provider.enable_migrations(dir);
        self
    }

    /// Applies these migrations (e.g. embedded with [`embed_migrations!`](crate::embed_migrations))
    /// to the primary backend when the application boots.
    pub fn enable_migrations_from(mut self, source: MigrationSource) -> Self {
        self.provider = self.provider.enable_migrations_from(source);
        self
    }

    /// Publishes the primary backend's outbox through `publisher` while the application runs,
    /// when `sql.outbox.enabled` is true; see [`DatabaseProvider::outbox_publisher`].
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use lexigram::{AppConfig, Application};
    /// use lexigram_sql::config::DatabaseConfig;
    /// use lexigram_sql::uow::{Outbox, OutboxEvent, PublishError};
    /// use lexigram_sql::{Database, DatabaseModule};
    ///
    /// let mut config = DatabaseConfig::from_url("sqlite://")?;
    /// config.outbox.enabled = true;
    /// config.outbox.poll_interval = std::time::Duration::from_millis(10);
    /// let (sent, mut received) = tokio::sync::mpsc::unbounded_channel();
    /// let publisher = move |events: Vec<OutboxEvent>| {
    ///     let sent = sent.clone();
    ///     async move {
    ///         for e in events {
    ///             sent.send(e.event_type)?;
    ///         }
    ///         Ok::<(), PublishError>(())
    ///     }
    /// };
    /// let app = Application::builder("shop")
    ///     .config(AppConfig::empty())
    ///     .module(DatabaseModule::configure(config).outbox_publisher(publisher))
    ///     .boot()
    ///     .await?;
    /// let db = app.resolve::<Database>()?;
    /// let mut uow = db.unit_of_work().await?;
    /// uow.register_event_for("order-7", "OrderPlaced", &7)?;
    /// uow.commit().await?;
    /// assert_eq!(received.recv().await.as_deref(), Some("OrderPlaced"));
    /// app.shutdown().await?;
    /// # Ok(()) }
    /// ```
    pub fn outbox_publisher<P: crate::uow::Publisher>(mut self, publisher: P) -> Self {
        self.provider = self.provider.outbox_publisher(publisher);
        self
    }

    /// A module binding repositories (or other [`Scope`]s) built from the primary backend's
    /// `Database` on each resolve: no new pool. `scope::<User>()` binds `Repository<User>`;
    /// `scope::<(User, Order)>()` binds both. Add it next to a `DatabaseModule`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use lexigram::{AppConfig, Application};
    /// use lexigram_sql::{Database, DatabaseModule, Entity, Repository};
    ///
    /// #[derive(Debug, Clone, Entity)]
    /// struct Note { #[entity(key, generated)] id: i64, body: String }
    ///
    /// let app = Application::builder("notes")
    ///     .config(AppConfig::empty())
    ///     .module(DatabaseModule::stub())
    ///     .module(DatabaseModule::scope::<Note>())
    ///     .boot()
    ///     .await?;
    /// app.resolve::<Database>()?
    ///     .execute_batch("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
    ///     .await?;
    /// let notes = app.resolve::<Repository<Note>>()?;
    /// assert_eq!(notes.create(Note { id: 0, body: "hi".into() }).await?.id, 1);
    /// app.shutdown().await?;
    /// # Ok(()) }
    /// ```
    pub fn scope<S: Scope>() -> ScopeModule<S> {
        ScopeModule::new()
    }

    /// The provider this module adds.
    pub fn into_provider(self) -> DatabaseProvider {
        self.provider
    }
}

impl Module for DatabaseModule {
    fn name(&self) -> String {
        PROVIDER_NAME.to_string()
    }

    fn into_parts(self: Box<Self>) -> ModuleParts {
        ModuleParts {
            imports: Vec::new(),
            providers: vec![Box::new(self.provider)],
        }
    }
}
