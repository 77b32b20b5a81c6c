//! The [`Provider`] trait: one piece of infrastructure or application wiring with a lifecycle.

use crate::config::AppConfig;
use crate::container::Container;
use crate::error::BoxError;
use crate::health::ComponentHealth;

/// When a provider registers and boots relative to others. Lower boots first and shuts down
/// last; providers of equal priority keep the order they were added in.
///
/// ```
/// use lexigram::Priority;
/// assert!(Priority::Infrastructure < Priority::Application);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Priority {
    /// Databases, caches, message brokers: what application providers depend on.
    Infrastructure,
    /// Services built on infrastructure (the default).
    Application,
}

/// One unit of wiring with a lifecycle, driven by [`Application`](crate::Application):
///
/// 1. [`register`](Provider::register) (sync, every provider in priority order) binds what
///    the provider offers into the container; bindings are resolvable from then on (a binding
///    may be a factory whose value only exists after boot).
/// 2. [`boot`](Provider::boot) (async, in priority order) opens connections, runs start-up work.
/// 3. [`health_check`](Provider::health_check) reports its components at any time.
/// 4. [`shutdown`](Provider::shutdown) (async, reverse order) releases everything.
///
/// Providers are trait objects (`Box<dyn Provider>`); implement the async methods with
/// `#[lexigram::async_trait]`.
///
/// ```
/// use lexigram::{async_trait, AppConfig, Application, BoxError, Container, Provider};
///
/// #[derive(Clone)]
/// struct Greeting(String);
///
/// struct GreetingProvider;
///
/// #[async_trait]
/// impl Provider for GreetingProvider {
///     fn name(&self) -> &str { "greeting" }
///     fn register(&mut self, c: &mut Container, _config: &AppConfig) -> Result<(), BoxError> {
///         c.bind(Greeting("hello".into()));
///         Ok(())
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), lexigram::AppError> {
/// let app = Application::builder("demo")
///     .config(AppConfig::empty())
///     .add_provider(GreetingProvider)
///     .boot()
///     .await?;
/// assert_eq!(app.resolve::<Greeting>()?.0, "hello");
/// app.shutdown().await?;
/// # Ok(()) }
/// ```
#[async_trait::async_trait]
pub trait Provider: Send + Sync + 'static {
    /// A short, unique name (`sql`), used in logs, errors and health entries.
    fn name(&self) -> &str;

    /// When this provider registers and boots; [`Priority::Application`] unless overridden.
    fn priority(&self) -> Priority {
        Priority::Application
    }

    /// Binds what this provider offers; `config` is the application's loaded configuration,
    /// from which the provider reads its own section.
    fn register(&mut self, container: &mut Container, config: &AppConfig) -> Result<(), BoxError>;

    /// Starts the provider (connect, migrate, warm up). Providers of lower priority are booted.
    async fn boot(&self, _container: &Container) -> Result<(), BoxError> {
        Ok(())
    }

    /// Releases what boot acquired. Called once, in reverse boot order, also when a later
    /// provider failed to boot.
    async fn shutdown(&self) -> Result<(), BoxError> {
        Ok(())
    }

    /// The health of this provider's components; none by default.
    async fn health_check(&self) -> Vec<ComponentHealth> {
        Vec::new()
    }
}

impl std::fmt::Debug for dyn Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Provider")
            .field("name", &self.name())
            .field("priority", &self.priority())
            .finish()
    }
}
