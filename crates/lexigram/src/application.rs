//! [`Application`]: providers, a typed container and the loaded config, with a lifecycle.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use futures_util::FutureExt;

use crate::config::AppConfig;
use crate::container::{Container, ResolveError};
use crate::error::{AppError, Phase};
use crate::health::ApplicationHealth;
use crate::module::{self, Module};
use crate::provider::Provider;

/// A booted application: cheap to clone (clones share everything).
///
/// Built with [`Application::builder`]; [`Application::boot`](ApplicationBuilder::boot) loads
/// the config, sets up logging when asked to
/// ([`ApplicationBuilder::logging_from_env`]), registers every provider (in priority order, infrastructure
/// first), then boots them. Resolve what providers bound with [`Application::resolve`] and
/// [`Application::resolve_named`]; check health with [`Application::health_check`]; release
/// everything with [`Application::shutdown`] (reverse order), or use [`Application::run`],
/// which always shuts down.
///
/// ```
/// use lexigram::{AppConfig, Application, Bundle};
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), lexigram::AppError> {
/// let app = Application::builder("empty").config(AppConfig::empty()).boot().await?;
/// assert_eq!(app.name(), "empty");
/// assert!(app.health_check().await.is_healthy());
/// app.shutdown().await?;
/// app.shutdown().await?; // idempotent
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Application {
    inner: Arc<Inner>,
}

struct Inner {
    name: String,
    config: AppConfig,
    container: Container,
    providers: Vec<Box<dyn Provider>>,
    shut_down: AtomicBool,
}

impl Drop for Inner {
    fn drop(&mut self) {
        if !self.shut_down.load(Ordering::SeqCst) {
            tracing::debug!(
                application = %self.name,
                "application dropped without shutdown(); providers release resources on drop"
            );
        }
    }
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application")
            .field("name", &self.inner.name)
            .field("providers", &self.provider_names())
            .field("container", &self.inner.container)
            .finish_non_exhaustive()
    }
}

enum Pending {
    Provider(Box<dyn Provider>),
    Module(Box<dyn Module>),
}

/// Collects providers, modules and (optionally) the config, then boots.
#[must_use = "an application does nothing until `boot().await`"]
pub struct ApplicationBuilder {
    name: String,
    pending: Vec<Pending>,
    config: Option<AppConfig>,
    logging: bool,
}

impl std::fmt::Debug for ApplicationBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApplicationBuilder")
            .field("name", &self.name)
            .field("pending", &self.pending.len())
            .finish_non_exhaustive()
    }
}

impl ApplicationBuilder {
    /// Adds a provider.
    pub fn add_provider(mut self, provider: impl Provider) -> Self {
        self.pending.push(Pending::Provider(Box::new(provider)));
        self
    }

    /// Adds a module: its imports, then its providers (a module name is added once).
    pub fn module(mut self, module: impl Module) -> Self {
        self.pending.push(Pending::Module(Box::new(module)));
        self
    }

    /// Uses this configuration instead of loading `application.yaml` + `LEX_*` env at boot.
    pub fn config(mut self, config: AppConfig) -> Self {
        self.config = Some(config);
        self
    }

    /// Makes [`boot`](ApplicationBuilder::boot) install the global `tracing` subscriber from
    /// `LEX_LOG_LEVEL` / `LEX_LOG_FORMAT` ([`crate::logging::init_from_env`]; a no-op when
    /// the process already has one). Without it the application installs no subscriber and
    /// its events go to whatever subscriber the process sets up (or nowhere).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), lexigram::AppError> {
    /// let app = lexigram::Application::builder("svc")
    ///     .config(lexigram::AppConfig::empty())
    ///     .logging_from_env()
    ///     .boot()
    ///     .await?;
    /// app.shutdown().await?;
    /// # Ok(()) }
    /// ```
    pub fn logging_from_env(mut self) -> Self {
        self.logging = true;
        self
    }

    /// Loads the config (once, unless given), installs logging from `LEX_LOG_LEVEL` /
    /// `LEX_LOG_FORMAT` if [`logging_from_env`](ApplicationBuilder::logging_from_env) asked
    /// for it (once per process), serves Prometheus metrics when
    /// `metrics.prometheus.listen` is set (see [`crate::metrics`]), registers every provider in
    /// priority order, then boots them in the same order.
    ///
    /// If a provider fails to boot, the providers whose boot was attempted (including the
    /// failing one) are shut down in reverse order before the error is returned. The error
    /// keeps the provider's message verbatim ([`AppError::Provider`]).
    pub async fn boot(self) -> Result<Application, AppError> {
        if self.logging {
            crate::logging::init_from_env();
        }
        let started = Instant::now();
        let config = match self.config {
            Some(config) => config,
            None => AppConfig::load()?,
        };
        // Before any provider boots, so pools and statements are recorded from the start.
        crate::metrics::serve_from_config(&config)?;

        let mut providers: Vec<Box<dyn Provider>> = Vec::new();
        let mut seen_modules = Vec::new();
        for pending in self.pending {
            match pending {
                Pending::Provider(p) => providers.push(p),
                Pending::Module(m) => module::flatten(m, &mut seen_modules, &mut providers),
            }
        }
        let mut names: Vec<&str> = Vec::new();
        for p in &providers {
            if names.contains(&p.name()) {
                return Err(AppError::DuplicateProvider {
                    name: p.name().to_string(),
                });
            }
            names.push(p.name());
        }
        providers.sort_by_key(|p| p.priority());

        let mut container = Container::new();
        for p in providers.iter_mut() {
            p.register(&mut container, &config)
                .map_err(|source| failed(p.as_ref(), Phase::Register, source))?;
            tracing::debug!(application = %self.name, provider = %p.name(), "provider registered");
        }

        for (index, p) in providers.iter().enumerate() {
            if let Err(source) = p.boot(&container).await {
                let error = failed(p.as_ref(), Phase::Boot, source);
                tracing::debug!(application = %self.name, %error, "boot failed; shutting down");
                // Failures are logged by shutdown_all; the boot error is the one to report.
                let _ = shutdown_all(&self.name, &providers[..=index]).await;
                return Err(error);
            }
            tracing::debug!(application = %self.name, provider = %p.name(), "provider booted");
        }
        tracing::debug!(
            application = %self.name,
            providers = providers.len(),
            elapsed_ms = started.elapsed().as_secs_f64() * 1000.0,
            "application booted"
        );
        Ok(Application {
            inner: Arc::new(Inner {
                name: self.name,
                config,
                container,
                providers,
                shut_down: AtomicBool::new(false),
            }),
        })
    }

    /// Boots, runs `body`, and shuts down whatever `body` returned (or if it panicked);
    /// see [`Application::run`].
    pub async fn run<F, Fut, T, E>(self, body: F) -> Result<T, E>
    where
        F: FnOnce(Application) -> Fut,
        Fut: Future<Output = Result<T, E>>,
        E: From<AppError>,
    {
        Application::run(self, body).await
    }
}

fn failed(provider: &dyn Provider, phase: Phase, source: crate::BoxError) -> AppError {
    AppError::Provider {
        provider: provider.name().to_string(),
        phase,
        source,
    }
}

/// Shuts `providers` down in reverse order; returns the first error, logs the others.
async fn shutdown_all(app: &str, providers: &[Box<dyn Provider>]) -> Result<(), AppError> {
    let mut first = None;
    for p in providers.iter().rev() {
        match p.shutdown().await {
            Ok(()) => {
                tracing::debug!(application = %app, provider = %p.name(), "provider shut down")
            }
            Err(source) => {
                let error = failed(p.as_ref(), Phase::Shutdown, source);
                tracing::warn!(application = %app, %error, "provider shutdown failed");
                first.get_or_insert(error);
            }
        }
    }
    first.map_or(Ok(()), Err)
}

impl Application {
    /// Starts building an application called `name`.
    pub fn builder(name: impl Into<String>) -> ApplicationBuilder {
        ApplicationBuilder {
            name: name.into(),
            pending: Vec::new(),
            config: None,
            logging: false,
        }
    }

    /// Boots `builder`, hands the application to `body`, then always shuts down: after `body`
    /// returns `Ok` or `Err`, and when it panics (the panic then continues). A shutdown error
    /// is returned when `body` succeeded, and logged when `body` already failed.
    ///
    /// ```
    /// use lexigram::{AppConfig, Application};
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), lexigram::AppError> {
    /// let builder = Application::builder("job").config(AppConfig::empty());
    /// let name = Application::run(builder, |app| async move {
    ///     Ok::<_, lexigram::AppError>(app.name().to_string())
    /// })
    /// .await?;
    /// assert_eq!(name, "job");
    /// # Ok(()) }
    /// ```
    pub async fn run<F, Fut, T, E>(builder: ApplicationBuilder, body: F) -> Result<T, E>
    where
        F: FnOnce(Application) -> Fut,
        Fut: Future<Output = Result<T, E>>,
        E: From<AppError>,
    {
        let app = builder.boot().await?;
        let outcome = AssertUnwindSafe(body(app.clone())).catch_unwind().await;
        let shutdown = app.shutdown().await;
        match outcome {
            Err(panic) => std::panic::resume_unwind(panic),
            Ok(Err(e)) => {
                if let Err(error) = shutdown {
                    tracing::warn!(%error, "shutdown after a failed run also failed");
                }
                Err(e)
            }
            Ok(Ok(value)) => {
                shutdown?;
                Ok(value)
            }
        }
    }

    /// The application's name.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The configuration loaded at boot.
    pub fn config(&self) -> &AppConfig {
        &self.inner.config
    }

    /// The container every provider registered into.
    pub fn container(&self) -> &Container {
        &self.inner.container
    }

    /// The providers' names in boot order.
    pub fn provider_names(&self) -> Vec<&str> {
        self.inner.providers.iter().map(|p| p.name()).collect()
    }

    /// A clone of the unnamed `T` a provider bound (e.g. the primary `Database`).
    pub fn resolve<T: Clone + Send + Sync + 'static>(&self) -> Result<T, ResolveError> {
        self.inner.container.resolve::<T>()
    }

    /// A clone of the `T` bound under `name` (e.g. `resolve_named::<Database>("analytics")`).
    pub fn resolve_named<T: Clone + Send + Sync + 'static>(
        &self,
        name: &str,
    ) -> Result<T, ResolveError> {
        self.inner.container.resolve_named::<T>(name)
    }

    /// Every provider's health entries (checked concurrently), in boot order.
    pub async fn health_check(&self) -> ApplicationHealth {
        let checks = self.inner.providers.iter().map(|p| p.health_check());
        let components = futures_util::future::join_all(checks)
            .await
            .into_iter()
            .flatten()
            .collect();
        ApplicationHealth {
            application: self.inner.name.clone(),
            components,
        }
    }

    /// Shuts every provider down in reverse boot order. Every provider is asked even if an
    /// earlier one fails; the first failure is returned. Idempotent: later calls do nothing.
    pub async fn shutdown(&self) -> Result<(), AppError> {
        if self.inner.shut_down.swap(true, Ordering::SeqCst) {
            return Ok(());
        }
        let result = shutdown_all(&self.inner.name, &self.inner.providers).await;
        tracing::debug!(application = %self.inner.name, "application shut down");
        result
    }

    /// True once [`Application::shutdown`] was called.
    pub fn is_shut_down(&self) -> bool {
        self.inner.shut_down.load(Ordering::SeqCst)
    }
}
