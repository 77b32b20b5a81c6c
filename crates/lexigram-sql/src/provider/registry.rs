//! [`Databases`]: the registry of an application's named backends.

use std::sync::{Arc, RwLock};

use futures_util::future::join_all;

use crate::config::BackendSettings;
use crate::database::{Database, HealthReport};
use crate::error::{ConfigError, ConfigErrorKind, Error, Result};

/// Every backend a [`DatabaseProvider`](super::DatabaseProvider) manages, by name.
///
/// Bound in the container at `register()` time, so it is resolvable right after
/// registration; its [`Database`]s are connected when the application boots (before that,
/// [`Databases::get`] fails with [`Error::NotConnected`]) and closed at shutdown. Cheap to
/// clone: clones share the backends.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use lexigram::{AppConfig, Application};
/// use lexigram_sql::{DatabaseModule, Databases};
///
/// let app = Application::builder("demo")
///     .config(AppConfig::empty())
///     .module(DatabaseModule::stub())
///     .boot()
///     .await?;
/// let databases = app.resolve::<Databases>()?;
/// assert_eq!(databases.names(), vec!["default"]);
/// assert_eq!(databases.primary()?.name(), "default");
/// app.shutdown().await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Databases {
    inner: Arc<Inner>,
}

struct Inner {
    settings: Vec<BackendSettings>,
    /// Connected handles, in `settings` order; empty until boot.
    connected: RwLock<Vec<Database>>,
}

impl std::fmt::Debug for Databases {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Databases")
            .field("names", &self.names())
            .field("primary", &self.primary_name())
            .field("connected", &self.is_connected())
            .finish()
    }
}

impl Databases {
    /// A registry of these (validated) backends, not yet connected.
    pub(crate) fn new(settings: Vec<BackendSettings>) -> Self {
        Databases {
            inner: Arc::new(Inner {
                settings,
                connected: RwLock::new(Vec::new()),
            }),
        }
    }

    /// The backends' names, in configuration order.
    pub fn names(&self) -> Vec<&str> {
        self.inner
            .settings
            .iter()
            .map(|s| s.name.as_str())
            .collect()
    }

    /// The settings of every backend, in configuration order.
    pub fn settings(&self) -> &[BackendSettings] {
        &self.inner.settings
    }

    /// The name of the primary backend: the one marked `primary`, or the only one.
    pub fn primary_name(&self) -> Option<&str> {
        let settings = &self.inner.settings;
        crate::config::primary_index(settings).map(|i| settings[i].name.as_str())
    }

    /// The primary backend's [`Database`].
    ///
    /// Fails with [`Error::NoPrimaryBackend`] when several backends are configured and none
    /// is marked `primary: true`, and with [`Error::NotConnected`] before boot.
    pub fn primary(&self) -> Result<Database> {
        match self.primary_name() {
            Some(name) => self.get(name),
            None => Err(crate::config::no_primary(&self.inner.settings)),
        }
    }

    /// The [`Database`] of the backend named `name`.
    ///
    /// Fails with [`Error::Configuration`] for a name that is not configured and with
    /// [`Error::NotConnected`] before boot. After shutdown it returns the closed handle, whose
    /// calls fail with [`Error::Closed`].
    pub fn get(&self, name: &str) -> Result<Database> {
        let Some(index) = self.inner.settings.iter().position(|s| s.name == name) else {
            return Err(Error::Configuration(ConfigError {
                kind: ConfigErrorKind::Backends,
                headline: "Unknown backend".to_string(),
                detail: format!(
                    "no backend is named '{name}'; configured: {}",
                    self.names().join(", ")
                ),
                source_name: None,
                fix: "use one of the configured names, or add the backend to `sql.backends`"
                    .to_string(),
            }));
        };
        self.connected()
            .get(index)
            .cloned()
            .ok_or_else(|| Error::NotConnected {
                name: name.to_string(),
            })
    }

    /// The connected backends, in configuration order (empty before boot).
    pub fn all(&self) -> Vec<Database> {
        self.connected()
    }

    /// True once every backend is connected (between boot and shutdown, and after shutdown
    /// with closed handles).
    pub fn is_connected(&self) -> bool {
        self.connected().len() == self.inner.settings.len()
    }

    /// Each backend's health, checked concurrently; a backend that is not connected is
    /// reported `down`.
    pub async fn health_check(&self) -> HealthReport {
        let connected = self.connected();
        if connected.len() != self.inner.settings.len() {
            let backends = self
                .inner
                .settings
                .iter()
                .map(super::health::not_connected)
                .collect();
            return HealthReport::new(backends);
        }
        HealthReport::new(join_all(connected.iter().map(Database::health_check)).await)
    }

    fn connected(&self) -> Vec<Database> {
        match self.inner.connected.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Connects every backend concurrently. On any failure, the backends that did connect
    /// are closed again and the first error (in configuration order) is returned.
    pub(crate) async fn connect_all(&self) -> Result<()> {
        let attempts = join_all(self.inner.settings.iter().cloned().map(Database::connect)).await;
        let mut connected = Vec::with_capacity(attempts.len());
        let mut first_error = None;
        for attempt in attempts {
            match attempt {
                Ok(db) => connected.push(db),
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        if let Some(error) = first_error {
            for db in connected.iter().rev() {
                db.close().await;
            }
            return Err(error);
        }
        match self.inner.connected.write() {
            Ok(mut guard) => *guard = connected,
            Err(poisoned) => *poisoned.into_inner() = connected,
        }
        Ok(())
    }

    /// Closes every backend, in reverse configuration order. Idempotent.
    pub(crate) async fn close_all(&self) {
        for db in self.connected().iter().rev() {
            db.close().await;
        }
    }
}
