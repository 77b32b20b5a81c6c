//! [`RowLevelSecurityPolicy`]: the entities and tables that require a tenant scope, and the
//! guard that refuses unscoped repositories on them before any SQL is sent.

use std::sync::{Arc, RwLock};

use crate::database::{Database, Executor};
use crate::error::{Error, Result};
use crate::repository::Entity;

/// One table that requires a scope on one column. (`ScopeColumn` in the Python edition.)
///
/// ```
/// use lexigram_sql::scope::ScopeColumn;
/// let c = ScopeColumn::new("invoices", "tenant_id");
/// assert_eq!((c.table(), c.column()), ("invoices", "tenant_id"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeColumn {
    table: String,
    column: String,
}

impl ScopeColumn {
    /// `table` requires a scope on `column`.
    pub fn new(table: impl Into<String>, column: impl Into<String>) -> ScopeColumn {
        ScopeColumn {
            table: table.into(),
            column: column.into(),
        }
    }

    /// The entity's table requires a scope on `column` (a column or field name of `E`);
    /// [`Error::UnknownColumn`] if `E` has no such column.
    pub fn for_entity<E: Entity>(column: &str) -> Result<ScopeColumn> {
        let meta = E::meta();
        let i = meta.resolve(column)?;
        Ok(ScopeColumn::new(meta.table, meta.columns[i].name))
    }

    /// The table.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// The scope column.
    pub fn column(&self) -> &str {
        &self.column
    }
}

/// The tables that may only be used through a scoped repository or table
/// ([`Repository::scoped`](crate::Repository::scoped), [`Database::scoped`]). Register it with
/// [`Database::set_security_policy`]; an unscoped repository or `Table` on such a table then
/// fails every call with [`Error::ScopeRequired`] before any SQL is sent.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> lexigram_sql::Result<()> {
/// use lexigram_sql::{Database, Entity, Error, Filter};
/// use lexigram_sql::scope::{RowLevelSecurityPolicy, TenantScope};
///
/// #[derive(Debug, Clone, Entity)]
/// struct Invoice { #[entity(key, generated)] id: i64, tenant_id: i64, total: i64 }
///
/// let db = Database::connect_url("sqlite://").await?;
/// db.execute_batch("CREATE TABLE invoices (id INTEGER PRIMARY KEY, tenant_id INTEGER NOT NULL, total INTEGER NOT NULL)").await?;
/// db.set_security_policy(RowLevelSecurityPolicy::new().require_entity::<Invoice>("tenant_id")?);
/// let err = db.repository::<Invoice>().count(Filter::all()).await.unwrap_err();
/// assert!(matches!(err, Error::ScopeRequired { .. }));
/// let err = db.table("invoices").count(Filter::all()).await.unwrap_err();
/// assert_eq!(err.code(), "LEX_ERR_SQL_030");
/// let mine = db.repository::<Invoice>().scoped(TenantScope::new("tenant_id", 7))?;
/// assert_eq!(mine.count(Filter::all()).await?, 0);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RowLevelSecurityPolicy {
    columns: Vec<ScopeColumn>,
}

impl RowLevelSecurityPolicy {
    /// No table requires a scope yet.
    pub fn new() -> RowLevelSecurityPolicy {
        RowLevelSecurityPolicy::default()
    }

    /// Adds a required scope.
    pub fn require(mut self, column: ScopeColumn) -> RowLevelSecurityPolicy {
        self.columns.push(column);
        self
    }

    /// `E`'s table requires a scope on `column` ([`Error::UnknownColumn`] if `E` has none).
    pub fn require_entity<E: Entity>(self, column: &str) -> Result<RowLevelSecurityPolicy> {
        Ok(self.require(ScopeColumn::for_entity::<E>(column)?))
    }

    /// `table` requires a scope on `column`.
    pub fn require_table(self, table: &str, column: &str) -> RowLevelSecurityPolicy {
        self.require(ScopeColumn::new(table, column))
    }

    /// The requirement for a table (names compared ignoring ASCII case), if any.
    pub fn requirement(&self, table: &str) -> Option<&ScopeColumn> {
        self.columns
            .iter()
            .find(|c| c.table.eq_ignore_ascii_case(table))
    }

    /// Every requirement.
    pub fn columns(&self) -> &[ScopeColumn] {
        &self.columns
    }
}

/// The policy of one database (shared by its clones).
#[derive(Default)]
pub(crate) struct PolicySlot(RwLock<Option<Arc<RowLevelSecurityPolicy>>>);

impl PolicySlot {
    fn get(&self) -> Option<Arc<RowLevelSecurityPolicy>> {
        self.0.read().ok().and_then(|p| p.clone())
    }
}

/// What a handle carries about the scope policy.
pub(crate) enum ScopeMark {
    /// Every statement is refused: the handle served an unscoped repository on a table that
    /// requires a scope. `original` is where it would have run, for `.scoped(..)`.
    Refused {
        target: String,
        column: String,
        original: Executor,
    },
    /// `admin_bypass`: the policy does not apply.
    Bypass,
}

impl Database {
    /// Registers the tenant-scope policy of this database (and every clone of it), replacing
    /// an earlier one. See [`RowLevelSecurityPolicy`].
    pub fn set_security_policy(&self, policy: RowLevelSecurityPolicy) {
        if let Ok(mut slot) = self.scope_policy().0.write() {
            *slot = Some(Arc::new(policy));
        }
    }

    /// The registered tenant-scope policy, if any.
    pub fn security_policy(&self) -> Option<RowLevelSecurityPolicy> {
        self.scope_policy().get().map(|p| (*p).clone())
    }

    /// This database with the tenant-scope policy lifted, for administrative work across
    /// tenants. Logged at WARN with `reason` each time it is called.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> lexigram_sql::Result<()> {
    /// use lexigram_sql::{Database, Filter};
    /// use lexigram_sql::scope::RowLevelSecurityPolicy;
    /// let db = Database::connect_url("sqlite://").await?;
    /// db.execute_batch("CREATE TABLE ledger (id INTEGER PRIMARY KEY, tenant_id INTEGER)").await?;
    /// db.set_security_policy(RowLevelSecurityPolicy::new().require_table("ledger", "tenant_id"));
    /// assert!(db.table("ledger").count(Filter::all()).await.is_err());
    /// let admin = db.admin_bypass("nightly billing run");
    /// assert_eq!(admin.table("ledger").count(Filter::all()).await?, 0);
    /// # Ok(()) }
    /// ```
    pub fn admin_bypass(&self, reason: &str) -> Database {
        tracing::warn!(backend = %self.name(), reason, "admin_bypass: tenant scope policy lifted");
        self.with_scope_mark(ScopeMark::Bypass)
    }
}

/// `ex`, or — when the policy requires a scope for `table` and `ex` is neither scoped nor
/// bypassing — a handle that refuses every statement.
pub(crate) fn guard(ex: Executor, table: &str, target: impl FnOnce() -> String) -> Executor {
    let db = ex.database();
    if db.scope_mark.is_some() {
        return ex;
    }
    let Some(policy) = db.scope_policy().get() else {
        return ex;
    };
    let Some(req) = policy.requirement(table) else {
        return ex;
    };
    let refused = db.with_scope_mark(ScopeMark::Refused {
        target: target(),
        column: req.column.clone(),
        original: ex.clone(),
    });
    Executor::Database(refused)
}

/// Where a (possibly refused) executor would run: the executor under a refusal.
pub(crate) fn original(ex: &Executor) -> Executor {
    match ex.database().scope_mark.as_deref() {
        Some(ScopeMark::Refused { original, .. }) => original.clone(),
        _ => ex.clone(),
    }
}

/// [`Error::ScopeRequired`] for a refused handle; called before every statement.
pub(crate) fn check_handle(db: &Database) -> Result<()> {
    match db.scope_mark.as_deref() {
        Some(ScopeMark::Refused { target, column, .. }) => Err(Error::ScopeRequired {
            target: target.clone(),
            column: column.clone(),
            database: db.name().to_string(),
        }),
        _ => Ok(()),
    }
}
