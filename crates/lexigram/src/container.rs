//! A small typed container: values (or factories) keyed by type and an optional name.
//!
//! Providers bind what they offer in [`Provider::register`](crate::Provider::register);
//! the application and other providers resolve it by type (`resolve::<T>()`) or by type and
//! name (`resolve_named::<T>("analytics")`). Resolution returns a clone of the bound value, so
//! bind cheap-to-clone handles (an `Arc`, or a type that wraps one). No reflection, no
//! auto-wiring: what is bound is exactly what providers put there.
//!
//! ```
//! use lexigram::Container;
//!
//! let mut container = Container::new();
//! container.bind(String::from("shop"));
//! container.bind_named("replica", 5432_u16);
//! assert_eq!(container.resolve::<String>()?, "shop");
//! assert_eq!(container.resolve_named::<u16>("replica")?, 5432);
//!
//! let err = container.resolve_named::<u16>("primary").unwrap_err();
//! assert!(err.to_string().contains("u16"));
//! assert!(err.to_string().contains("\"primary\""));
//! assert!(err.to_string().contains("u16 named \"replica\"")); // what is registered
//! # Ok::<(), lexigram::ResolveError>(())
//! ```

use std::any::{Any, TypeId, type_name};
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use crate::error::BoxError;

type Factory = Arc<dyn Fn(&Container) -> Result<Box<dyn Any + Send>, BoxError> + Send + Sync>;

#[derive(Clone, PartialEq, Eq, Hash)]
struct Key {
    type_id: TypeId,
    name: Option<String>,
}

#[derive(Clone)]
enum Entry {
    Value(Arc<dyn Any + Send + Sync>),
    Factory(Factory),
}

#[derive(Clone)]
struct Binding {
    type_name: &'static str,
    entry: Entry,
}

/// Typed bindings: `(type, optional name) → value or factory`.
///
/// Cloning a container clones the bindings (values are shared through `Arc`).
#[derive(Clone, Default)]
pub struct Container {
    bindings: HashMap<Key, Binding>,
}

impl fmt::Debug for Container {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Container")
            .field("bindings", &self.registered())
            .finish()
    }
}

impl Container {
    /// An empty container.
    ///
    /// ```
    /// assert!(lexigram::Container::new().registered().is_empty());
    /// ```
    pub fn new() -> Self {
        Container::default()
    }

    /// Binds `value` as the unnamed `T`, replacing an earlier unnamed `T`.
    ///
    /// ```
    /// let mut c = lexigram::Container::new();
    /// c.bind(1_i32).bind(2_i32);
    /// assert_eq!(c.resolve::<i32>().unwrap(), 2);
    /// ```
    pub fn bind<T: Clone + Send + Sync + 'static>(&mut self, value: T) -> &mut Self {
        self.insert::<T>(None, Entry::Value(Arc::new(value)))
    }

    /// Binds `value` as the `T` named `name`, replacing an earlier one of that name.
    ///
    /// ```
    /// let mut c = lexigram::Container::new();
    /// c.bind_named("eu", String::from("eu-west-1"));
    /// assert_eq!(c.resolve_named::<String>("eu").unwrap(), "eu-west-1");
    /// assert!(c.resolve::<String>().is_err()); // named and unnamed are different bindings
    /// ```
    pub fn bind_named<T: Clone + Send + Sync + 'static>(
        &mut self,
        name: impl Into<String>,
        value: T,
    ) -> &mut Self {
        self.insert::<T>(Some(name.into()), Entry::Value(Arc::new(value)))
    }

    /// Binds the unnamed `T` to a factory called on every resolve. The factory may resolve
    /// other bindings and may fail; its error reaches the caller of `resolve` unchanged.
    /// This is how a provider binds something in `register` whose value only exists after
    /// `boot` (for example a database handle whose pool is opened at boot).
    ///
    /// ```
    /// use lexigram::Container;
    /// let mut c = Container::new();
    /// c.bind(20_u32);
    /// c.bind_factory(|c: &Container| Ok(u64::from(c.resolve::<u32>()?) * 2));
    /// assert_eq!(c.resolve::<u64>().unwrap(), 40);
    /// ```
    ///
    /// A factory must not resolve its own binding (that would recurse without end).
    pub fn bind_factory<T, F>(&mut self, factory: F) -> &mut Self
    where
        T: Clone + Send + Sync + 'static,
        F: Fn(&Container) -> Result<T, BoxError> + Send + Sync + 'static,
    {
        self.insert::<T>(None, Entry::Factory(wrap(factory)))
    }

    /// Binds the `T` named `name` to a factory; see [`Container::bind_factory`].
    ///
    /// ```
    /// use lexigram::Container;
    /// let mut c = Container::new();
    /// c.bind_named_factory("answer", |_: &Container| Ok(42_u64));
    /// c.bind_named_factory("broken", |_: &Container| -> Result<u64, lexigram::BoxError> {
    ///     Err("NotReadyError: not booted".into())
    /// });
    /// assert_eq!(c.resolve_named::<u64>("answer").unwrap(), 42);
    /// let err = c.resolve_named::<u64>("broken").unwrap_err();
    /// assert!(err.to_string().starts_with("NotReadyError: not booted"));
    /// ```
    pub fn bind_named_factory<T, F>(&mut self, name: impl Into<String>, factory: F) -> &mut Self
    where
        T: Clone + Send + Sync + 'static,
        F: Fn(&Container) -> Result<T, BoxError> + Send + Sync + 'static,
    {
        self.insert::<T>(Some(name.into()), Entry::Factory(wrap(factory)))
    }

    fn insert<T: 'static>(&mut self, name: Option<String>, entry: Entry) -> &mut Self {
        let key = Key {
            type_id: TypeId::of::<T>(),
            name,
        };
        let binding = Binding {
            type_name: type_name::<T>(),
            entry,
        };
        if self.bindings.insert(key.clone(), binding).is_some() {
            tracing::debug!(
                binding = %describe(type_name::<T>(), key.name.as_deref()),
                "binding replaced"
            );
        }
        self
    }

    /// True if an unnamed `T` is bound (value or factory).
    ///
    /// ```
    /// let mut c = lexigram::Container::new();
    /// c.bind(true);
    /// assert!(c.contains::<bool>());
    /// assert!(!c.contains_named::<bool>("x"));
    /// ```
    pub fn contains<T: 'static>(&self) -> bool {
        self.bindings.contains_key(&Key {
            type_id: TypeId::of::<T>(),
            name: None,
        })
    }

    /// True if a `T` named `name` is bound.
    pub fn contains_named<T: 'static>(&self, name: &str) -> bool {
        self.bindings.contains_key(&Key {
            type_id: TypeId::of::<T>(),
            name: Some(name.to_string()),
        })
    }

    /// A clone of the unnamed `T`.
    ///
    /// Fails with [`ResolveError::NotRegistered`] (naming `T` and listing what is bound) or
    /// [`ResolveError::Failed`] (a factory's error, message kept verbatim).
    pub fn resolve<T: Clone + Send + Sync + 'static>(&self) -> Result<T, ResolveError> {
        self.lookup::<T>(None)
    }

    /// A clone of the `T` named `name`; errors as [`Container::resolve`].
    pub fn resolve_named<T: Clone + Send + Sync + 'static>(
        &self,
        name: &str,
    ) -> Result<T, ResolveError> {
        self.lookup::<T>(Some(name))
    }

    fn lookup<T: Clone + Send + Sync + 'static>(
        &self,
        name: Option<&str>,
    ) -> Result<T, ResolveError> {
        let key = Key {
            type_id: TypeId::of::<T>(),
            name: name.map(str::to_string),
        };
        let not_registered = || ResolveError::NotRegistered {
            type_name: type_name::<T>(),
            name: name.map(str::to_string),
            registered: self.registered(),
        };
        let Some(binding) = self.bindings.get(&key) else {
            return Err(not_registered());
        };
        match &binding.entry {
            Entry::Value(value) => value
                .downcast_ref::<T>()
                .cloned()
                .ok_or_else(not_registered),
            Entry::Factory(factory) => match factory(self) {
                Ok(value) => value
                    .downcast::<T>()
                    .map(|b| *b)
                    .map_err(|_| not_registered()),
                Err(source) => Err(ResolveError::Failed {
                    type_name: type_name::<T>(),
                    name: name.map(str::to_string),
                    source,
                }),
            },
        }
    }

    /// Every binding, sorted, as people read them: `alloc::string::String`,
    /// `lexigram_sql::database::Database named "analytics"`.
    ///
    /// ```
    /// let mut c = lexigram::Container::new();
    /// c.bind(1_u8).bind_named("b", 2_u8);
    /// assert_eq!(c.registered(), vec!["u8".to_string(), "u8 named \"b\"".to_string()]);
    /// ```
    pub fn registered(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .bindings
            .iter()
            .map(|(key, binding)| describe(binding.type_name, key.name.as_deref()))
            .collect();
        out.sort();
        out
    }
}

fn wrap<T, F>(factory: F) -> Factory
where
    T: Send + 'static,
    F: Fn(&Container) -> Result<T, BoxError> + Send + Sync + 'static,
{
    Arc::new(move |c: &Container| factory(c).map(|v| Box::new(v) as Box<dyn Any + Send>))
}

fn describe(type_name: &str, name: Option<&str>) -> String {
    match name {
        Some(name) => format!("{type_name} named \"{name}\""),
        None => type_name.to_string(),
    }
}

/// Why a binding could not be resolved.
///
/// [`ResolveError::Failed`] shows the factory's message verbatim, so its `source()` is the
/// factory error's own source: a chain (`{err:#}`, anyhow) prints each message once.
#[derive(Debug)]
#[non_exhaustive]
pub enum ResolveError {
    /// Nothing is bound for that type and name.
    NotRegistered {
        /// The type asked for.
        type_name: &'static str,
        /// The name asked for, if any.
        name: Option<String>,
        /// Every binding of the container.
        registered: Vec<String>,
    },
    /// A factory binding failed; its message is kept verbatim, the binding follows.
    Failed {
        /// The type asked for.
        type_name: &'static str,
        /// The name asked for, if any.
        name: Option<String>,
        /// The factory's error.
        source: BoxError,
    },
}

impl std::fmt::Display for ResolveError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ResolveError::NotRegistered {
                type_name,
                name,
                registered,
            } => write!(
                f,
                "ResolveError: no {} is registered. Registered: {}. Fix: add the provider or module that binds it to the application (bindings are made at register time)",
                describe(type_name, name.as_deref()),
                if registered.is_empty() {
                    "nothing".to_string()
                } else {
                    registered.join(", ")
                }
            ),
            ResolveError::Failed {
                type_name,
                name,
                source,
            } => write!(
                f,
                "{source} (while resolving {})",
                describe(type_name, name.as_deref())
            ),
        }
    }
}

impl std::error::Error for ResolveError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            // The factory's message is already part of ours: continue the chain below it.
            ResolveError::Failed { source, .. } => source.source(),
            ResolveError::NotRegistered { .. } => None,
        }
    }
}

impl ResolveError {
    /// The factory's error downcast to a concrete type, e.g. `lexigram_sql::Error`.
    ///
    /// ```
    /// use lexigram::Container;
    /// let mut c = Container::new();
    /// c.bind_factory(|_: &Container| -> Result<u8, lexigram::BoxError> {
    ///     Err(Box::new(std::fmt::Error))
    /// });
    /// let err = c.resolve::<u8>().unwrap_err();
    /// assert!(err.downcast_ref::<std::fmt::Error>().is_some());
    /// ```
    pub fn downcast_ref<E: std::error::Error + 'static>(&self) -> Option<&E> {
        match self {
            ResolveError::Failed { source, .. } => source.downcast_ref::<E>(),
            ResolveError::NotRegistered { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Debug, PartialEq)]
    struct Handle(Arc<str>);

    #[test]
    fn named_and_unnamed_are_separate() {
        let mut c = Container::new();
        c.bind(Handle("main".into()));
        c.bind_named("analytics", Handle("olap".into()));
        assert_eq!(c.resolve::<Handle>().unwrap().0.as_ref(), "main");
        assert_eq!(
            c.resolve_named::<Handle>("analytics").unwrap().0.as_ref(),
            "olap"
        );
        assert!(c.contains::<Handle>());
        assert!(c.contains_named::<Handle>("analytics"));
    }

    #[test]
    fn not_registered_lists_bindings() {
        let mut c = Container::new();
        c.bind_named("analytics", Handle("x".into()));
        let err = c.resolve::<Handle>().unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("no lexigram::container::tests::Handle is registered"),
            "{text}"
        );
        assert!(text.contains("Handle named \"analytics\""), "{text}");
        let err = Container::new().resolve_named::<Handle>("x").unwrap_err();
        assert!(err.to_string().contains("Registered: nothing"), "{err}");
        assert!(err.to_string().contains("named \"x\""), "{err}");
    }

    #[test]
    fn factories_run_on_every_resolve_and_keep_errors_verbatim() {
        let mut c = Container::new();
        c.bind(3_u32);
        c.bind_factory(|c: &Container| Ok(Handle(format!("n{}", c.resolve::<u32>()?).into())));
        assert_eq!(c.resolve::<Handle>().unwrap().0.as_ref(), "n3");
        c.bind_named_factory("down", |_: &Container| -> Result<Handle, BoxError> {
            Err("NoPrimaryBackendError: none".into())
        });
        let err = c.resolve_named::<Handle>("down").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("NoPrimaryBackendError: none (while resolving")
        );
    }
}
