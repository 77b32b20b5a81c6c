//! Injecting repositories (and other things built on the primary [`Database`]) without new
//! pools: [`DatabaseModule::scope`](super::DatabaseModule::scope).

use std::marker::PhantomData;

use lexigram::{AppConfig, BoxError, Container, Module, ModuleParts, Provider};

use super::registry::Databases;
use crate::database::Database;
use crate::repository::Entity;

/// What [`DatabaseModule::scope`](super::DatabaseModule::scope) can bind.
///
/// Implemented for every [`Entity`] `E` (binds [`Repository<E>`](crate::Repository)) and for tuples of scopes
/// (`scope::<(User, Order)>()` binds both repositories). Implement it for your own types to
/// bind services built on the primary database; [`bind_on_primary`] does the work.
///
/// ```
/// use lexigram::Container;
/// use lexigram_sql::{provider::{bind_on_primary, Scope}, Database, Databases};
///
/// #[derive(Clone)]
/// struct Reports { db: Database }
///
/// impl Scope for Reports {
///     fn bind(container: &mut Container, databases: &Databases) {
///         bind_on_primary(container, databases, |db| Reports { db: db.clone() });
///     }
/// }
/// ```
pub trait Scope: 'static {
    /// Binds this scope's values into `container`, built from `databases` on resolve.
    fn bind(container: &mut Container, databases: &Databases);
}

impl<E: Entity> Scope for E {
    fn bind(container: &mut Container, databases: &Databases) {
        bind_on_primary(container, databases, Database::repository::<E>);
    }
}

macro_rules! tuple_scope {
    ($($name:ident),+) => {
        impl<$($name: Scope),+> Scope for ($($name,)+) {
            fn bind(container: &mut Container, databases: &Databases) {
                $($name::bind(container, databases);)+
            }
        }
    };
}

tuple_scope!(A);
tuple_scope!(A, B);
tuple_scope!(A, B, C);
tuple_scope!(A, B, C, D);
tuple_scope!(A, B, C, D, E);
tuple_scope!(A, B, C, D, E, F);
tuple_scope!(A, B, C, D, E, F, G);
tuple_scope!(A, B, C, D, E, F, G, H);

/// Binds the unnamed `T` to `build(&primary database)`, run on every resolve (keep `build`
/// cheap). Before boot, resolving fails with [`Error::NotConnected`](crate::Error::NotConnected).
pub fn bind_on_primary<T, F>(container: &mut Container, databases: &Databases, build: F)
where
    T: Clone + Send + Sync + 'static,
    F: Fn(&Database) -> T + Send + Sync + 'static,
{
    let databases = databases.clone();
    container.bind_factory(move |_: &Container| {
        let db = databases.primary().map_err(|e| Box::new(e) as BoxError)?;
        Ok(build(&db))
    });
}

/// The module [`DatabaseModule::scope`](super::DatabaseModule::scope) returns.
pub struct ScopeModule<S> {
    _marker: PhantomData<fn() -> S>,
}

impl<S> std::fmt::Debug for ScopeModule<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScopeModule")
            .field("scope", &std::any::type_name::<S>())
            .finish()
    }
}

impl<S: Scope> ScopeModule<S> {
    pub(super) fn new() -> Self {
        ScopeModule {
            _marker: PhantomData,
        }
    }
}

impl<S: Scope> Module for ScopeModule<S> {
    fn name(&self) -> String {
        format!("sql.scope<{}>", std::any::type_name::<S>())
    }

    fn into_parts(self: Box<Self>) -> ModuleParts {
        ModuleParts {
            imports: Vec::new(),
            providers: vec![Box::new(ScopeProvider::<S> {
                name: self.name(),
                _marker: PhantomData,
            })],
        }
    }
}

struct ScopeProvider<S> {
    name: String,
    _marker: PhantomData<fn() -> S>,
}

#[lexigram::async_trait]
impl<S: Scope> Provider for ScopeProvider<S> {
    fn name(&self) -> &str {
        &self.name
    }

    fn register(&mut self, container: &mut Container, _: &AppConfig) -> Result<(), BoxError> {
        // DatabaseProvider is infrastructure: it registered before this application provider.
        let databases = container.resolve::<Databases>().map_err(|e| {
            format!(
                "{e}. DatabaseModule::scope needs a DatabaseModule or DatabaseProvider in the same application"
            )
        })?;
        S::bind(container, &databases);
        Ok(())
    }
}
