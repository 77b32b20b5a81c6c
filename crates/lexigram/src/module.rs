//! Modules: named bundles of providers that may import other modules.

use crate::provider::Provider;

/// A named bundle of providers, added with
/// [`ApplicationBuilder::module`](crate::ApplicationBuilder::module).
///
/// A module's imports are added before its own providers. A module name is added once per
/// application: when two modules import the same module (same [`Module::name`]), the second
/// import is skipped, so shared infrastructure is not registered twice.
///
/// Write a module by implementing this trait, or use [`Bundle`].
pub trait Module: Send + 'static {
    /// The module's name, unique within an application.
    fn name(&self) -> String;

    /// Takes the module apart: the modules it imports and its own providers.
    fn into_parts(self: Box<Self>) -> ModuleParts;
}

/// What a module consists of.
#[derive(Default)]
pub struct ModuleParts {
    /// Modules this one imports (added first).
    pub imports: Vec<Box<dyn Module>>,
    /// This module's own providers.
    pub providers: Vec<Box<dyn Provider>>,
}

impl std::fmt::Debug for ModuleParts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let imports: Vec<String> = self.imports.iter().map(|m| m.name()).collect();
        f.debug_struct("ModuleParts")
            .field("imports", &imports)
            .field("providers", &self.providers)
            .finish()
    }
}

/// A module assembled in code: a name, imported modules and providers.
///
/// ```
/// use lexigram::{async_trait, AppConfig, Application, BoxError, Bundle, Container, Provider};
///
/// struct Flag(&'static str);
/// #[async_trait]
/// impl Provider for Flag {
///     fn name(&self) -> &str { self.0 }
///     fn register(&mut self, c: &mut Container, _: &AppConfig) -> Result<(), BoxError> {
///         c.bind_named(self.0, true);
///         Ok(())
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), lexigram::AppError> {
/// let infra = || Bundle::new("infra").provider(Flag("cache"));
/// let orders = Bundle::new("orders").import(infra()).provider(Flag("orders"));
/// let billing = Bundle::new("billing").import(infra()).provider(Flag("billing"));
/// let app = Application::builder("shop")
///     .config(AppConfig::empty())
///     .module(orders)
///     .module(billing) // imports `infra` again: added once
///     .boot()
///     .await?;
/// assert_eq!(app.provider_names(), vec!["cache", "orders", "billing"]);
/// assert!(app.resolve_named::<bool>("cache")?);
/// # Ok(()) }
/// ```
pub struct Bundle {
    name: String,
    parts: ModuleParts,
}

impl Bundle {
    /// An empty module named `name`.
    pub fn new(name: impl Into<String>) -> Self {
        Bundle {
            name: name.into(),
            parts: ModuleParts::default(),
        }
    }

    /// Imports another module.
    pub fn import(mut self, module: impl Module) -> Self {
        self.parts.imports.push(Box::new(module));
        self
    }

    /// Adds a provider.
    pub fn provider(mut self, provider: impl Provider) -> Self {
        self.parts.providers.push(Box::new(provider));
        self
    }
}

impl Module for Bundle {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn into_parts(self: Box<Self>) -> ModuleParts {
        self.parts
    }
}

/// Flattens modules depth-first (imports before own providers), skipping names already seen.
pub(crate) fn flatten(
    module: Box<dyn Module>,
    seen: &mut Vec<String>,
    out: &mut Vec<Box<dyn Provider>>,
) {
    let name = module.name();
    if seen.contains(&name) {
        tracing::debug!(module = %name, "module already added; skipping repeated import");
        return;
    }
    seen.push(name);
    let parts = module.into_parts();
    for import in parts.imports {
        flatten(import, seen, out);
    }
    out.extend(parts.providers);
}
