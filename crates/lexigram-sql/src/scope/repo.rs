//! [`ScopedRepository`]: a repository whose every read and write stays inside one
//! [`TenantScope`]. Reads are here; writes are in `write.rs`.

use std::marker::PhantomData;

use super::keys;
use super::policy;
use super::run;
use super::tenant::TenantScope;
use crate::database::Executor;
use crate::error::{Error, Result};
use crate::repository::{
    Aggregate, Cursor, CursorPage, Entity, EntityStream, FromRow, Key, Page, Query, Repository,
};

/// A repository bound to a [`TenantScope`]. Every read (`find_one`, `find_by`, `find_many`,
/// `count`, `exists`, pages, projections, aggregates, streams) and every update and delete
/// has `scope_column = value` ANDed around the caller's whole filter, so no filter — not even
/// an `OR` with an always-true condition — reaches another tenant's rows. Inserts set the
/// scope column; a write that would leave the scope fails with [`Error::ScopeViolation`] and
/// changes nothing. Made by [`Repository::scoped`] or [`ScopedDatabase::repository`].
///
/// [`ScopedDatabase::repository`]: super::ScopedDatabase::repository
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> lexigram_sql::Result<()> {
/// use lexigram_sql::{Database, Entity, Error, Filter};
/// use lexigram_sql::repository::col;
/// use lexigram_sql::scope::TenantScope;
///
/// #[derive(Debug, Clone, Entity)]
/// struct Invoice { #[entity(key, generated)] id: i64, tenant_id: i64, total: i64 }
///
/// let db = Database::connect_url("sqlite://").await?;
/// db.execute_batch("CREATE TABLE invoices (id INTEGER PRIMARY KEY, tenant_id INTEGER NOT NULL, total INTEGER NOT NULL)").await?;
/// let acme = db.repository::<Invoice>().scoped(TenantScope::new("tenant_id", 1))?;
/// let globex = db.repository::<Invoice>().scoped(TenantScope::new("tenant_id", 2))?;
/// let inv = acme.create(Invoice { id: 0, tenant_id: 0, total: 10 }).await?; // tenant set
/// assert_eq!(inv.tenant_id, 1);
/// globex.create(Invoice { id: 0, tenant_id: 2, total: 20 }).await?;
/// // An always-true OR cannot widen the scope:
/// assert_eq!(acme.count(col("total").gt(0).or(col("id").is_not_null())).await?, 1);
/// // Another tenant's row is not there for acme:
/// assert!(matches!(acme.find_one(2).await, Err(Error::NotFound { .. })));
/// // Moving a row to another tenant is refused:
/// let mut moved = inv.clone();
/// moved.tenant_id = 2;
/// assert!(matches!(acme.update(&mut moved).await, Err(Error::ScopeViolation { .. })));
/// # Ok(()) }
/// ```
pub struct ScopedRepository<E> {
    pub(super) ex: Executor,
    pub(super) scope: TenantScope,
    /// Position of the scope column in `E`'s columns.
    pub(super) col: usize,
    _entity: PhantomData<fn() -> E>,
}

impl<E> Clone for ScopedRepository<E> {
    fn clone(&self) -> Self {
        ScopedRepository {
            ex: self.ex.clone(),
            scope: self.scope.clone(),
            col: self.col,
            _entity: PhantomData,
        }
    }
}

impl<E: Entity> std::fmt::Debug for ScopedRepository<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScopedRepository")
            .field("entity", &E::meta().name)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

impl<E: Entity> Repository<E> {
    /// This repository bound to `scope` (see [`ScopedRepository`]). The scope column must be
    /// a column (or field) of `E`, else [`Error::UnknownColumn`]; a NULL scope value is
    /// [`Error::InvalidRequest`]. Works also on a repository that the security policy
    /// refuses unscoped.
    pub fn scoped(&self, scope: TenantScope) -> Result<ScopedRepository<E>> {
        ScopedRepository::new(policy::original(self.executor()), scope)
    }
}

impl<E: Entity> ScopedRepository<E> {
    pub(super) fn new(ex: Executor, scope: TenantScope) -> Result<ScopedRepository<E>> {
        let meta = E::meta();
        let col = meta.resolve(scope.column())?;
        scope.check(meta.name)?;
        Ok(ScopedRepository {
            ex,
            scope,
            col,
            _entity: PhantomData,
        })
    }

    /// The scope.
    pub fn scope(&self) -> &TenantScope {
        &self.scope
    }

    /// The unscoped repository, for administrative work across tenants. Logged at WARN
    /// with `reason`.
    pub fn admin_bypass(&self, reason: &str) -> Repository<E> {
        tracing::warn!(
            entity = E::meta().name,
            scope_column = self.scope.column(),
            reason,
            "admin_bypass: tenant scope lifted"
        );
        Repository::unguarded(self.ex.clone())
    }

    /// The scope column's name.
    pub(super) fn column(&self) -> &'static str {
        E::meta().columns[self.col].name
    }

    /// The query with the scope ANDed around its whole filter.
    pub(super) fn within(&self, query: impl Into<Query>) -> Query {
        let mut query = query.into();
        query.filter = self
            .scope
            .around(self.column(), std::mem::take(&mut query.filter));
        query
    }

    /// Runs `f` on an unscoped repository over this handle's executor (in a transaction
    /// setting the tenant under native RLS, or when `tx`).
    pub(super) async fn run<T, F, Fut>(&self, tx: bool, f: F) -> Result<T>
    where
        F: FnOnce(Repository<E>) -> Fut,
        Fut: std::future::Future<Output = Result<T>>,
    {
        run::scoped(&self.ex, &self.scope, tx, |ex| f(Repository::unguarded(ex))).await
    }

    /// The entity with this key in the scope; [`Error::NotFound`] if there is none (also
    /// when the key belongs to another tenant).
    pub async fn find_one(&self, key: impl Key) -> Result<E> {
        let key = key.into_key();
        let query = self.within(keys::key_filter::<E>(key.as_slice())?);
        match self
            .run(false, |r| async move { r.find_by(query).await })
            .await?
        {
            Some(e) => Ok(e),
            None => Err(Error::NotFound {
                entity: E::meta().name.to_string(),
                key: keys::key_text::<E>(key.as_slice()),
            }),
        }
    }

    /// The first entity in the scope matching a filter or query.
    pub async fn find_by(&self, query: impl Into<Query>) -> Result<Option<E>> {
        let query = self.within(query);
        self.run(false, |r| async move { r.find_by(query).await })
            .await
    }

    /// Every entity in the scope matching a filter or query.
    pub async fn find_many(&self, query: impl Into<Query>) -> Result<Vec<E>> {
        let query = self.within(query);
        self.run(false, |r| async move { r.find_many(query).await })
            .await
    }

    /// Number of entities in the scope matching.
    pub async fn count(&self, query: impl Into<Query>) -> Result<u64> {
        let query = self.within(query);
        self.run(false, |r| async move { r.count(query).await })
            .await
    }

    /// True if an entity in the scope matches.
    pub async fn exists(&self, query: impl Into<Query>) -> Result<bool> {
        let query = self.within(query);
        self.run(false, |r| async move { r.exists(query).await })
            .await
    }

    /// One page of the scope's matching entities (see [`Repository::page`]).
    pub async fn page(&self, query: impl Into<Query>, page: u64, per_page: u64) -> Result<Page<E>> {
        let query = self.within(query);
        self.run(
            false,
            |r| async move { r.page(query, page, per_page).await },
        )
        .await
    }

    /// A keyset page of the scope's matching entities (see [`Repository::page_after`]).
    pub async fn page_after(
        &self,
        query: impl Into<Query>,
        after: Option<&Cursor>,
        per_page: u64,
    ) -> Result<CursorPage<E>> {
        let query = self.within(query);
        self.run(false, |r| async move {
            r.page_after(query, after, per_page).await
        })
        .await
    }

    /// Chosen columns of the scope's matching rows (see [`Repository::find_columns`]).
    pub async fn find_columns<T: FromRow>(
        &self,
        query: impl Into<Query>,
        columns: &[&str],
    ) -> Result<Vec<T>> {
        self.project(query.into(), columns, false).await
    }

    /// Distinct values of chosen columns in the scope (see [`Repository::find_distinct`]).
    pub async fn find_distinct<T: FromRow>(
        &self,
        query: impl Into<Query>,
        columns: &[&str],
    ) -> Result<Vec<T>> {
        self.project(query.into(), columns, true).await
    }

    async fn project<T: FromRow>(
        &self,
        query: Query,
        columns: &[&str],
        distinct: bool,
    ) -> Result<Vec<T>> {
        let query = self.within(query);
        self.run(false, |r| async move {
            if distinct {
                r.find_distinct(query, columns).await
            } else {
                r.find_columns(query, columns).await
            }
        })
        .await
    }

    /// Grouped measures over the scope's rows (see [`Repository::aggregate`]); the scope
    /// is ANDed around the aggregate's row filter.
    pub async fn aggregate<T: FromRow>(&self, aggregate: Aggregate) -> Result<Vec<T>> {
        let aggregate = aggregate.within(self.scope.filter_on(self.column()));
        self.run(false, |r| async move { r.aggregate(aggregate).await })
            .await
    }

    /// Streams the scope's matching entities (see [`Repository::stream`]). Under native
    /// RLS the stream runs on the pool, outside the tenant transaction; the scope filter
    /// still applies.
    pub async fn stream(&self, query: impl Into<Query>) -> Result<EntityStream<E>> {
        let query = self.within(query);
        Repository::<E>::unguarded(self.ex.clone())
            .stream(query)
            .await
    }
}
