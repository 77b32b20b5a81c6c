//! [`ScopedDatabase`] (scoped repositories and tables from one handle) and [`ScopedTable`].

use super::policy;
use super::repo::ScopedRepository;
use super::run::{self, violation};
use super::tenant::{TenantScope, is_unset};
use crate::database::{Database, Executor, Transaction};
use crate::error::Result;
use crate::repository::{Entity, Filter, Query, Record, Table, ident_check};
use crate::value::Value;

/// A database handle bound to a [`TenantScope`]: its repositories and tables are scoped.
/// Made by [`Database::scoped`], [`Transaction::scoped`] or [`Executor::scoped`].
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> lexigram_sql::Result<()> {
/// use lexigram_sql::{Database, Filter};
/// use lexigram_sql::repository::{col, Record};
/// use lexigram_sql::scope::TenantScope;
/// let db = Database::connect_url("sqlite://").await?;
/// db.execute_batch("CREATE TABLE notes (id INTEGER PRIMARY KEY, tenant_id INTEGER NOT NULL, body TEXT)").await?;
/// let t1 = db.scoped(TenantScope::new("tenant_id", 1));
/// let t2 = db.scoped(TenantScope::new("tenant_id", 2));
/// t1.table("notes")?.create(Record::new().set("body", "mine")).await?;
/// t2.table("notes")?.create(Record::new().set("body", "theirs")).await?;
/// let notes = t1.table("notes")?;
/// assert_eq!(notes.count(col("body").eq("theirs").or(Filter::all())).await?, 1);
/// assert!(notes.delete(2).await.is_err()); // tenant 2's row: not found for tenant 1
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct ScopedDatabase {
    ex: Executor,
    scope: TenantScope,
}

impl Database {
    /// This database bound to `scope`: see [`ScopedDatabase`].
    pub fn scoped(&self, scope: TenantScope) -> ScopedDatabase {
        Executor::from(self).scoped(scope)
    }
}

impl Transaction {
    /// This transaction bound to `scope`: see [`ScopedDatabase`].
    pub fn scoped(&self, scope: TenantScope) -> ScopedDatabase {
        Executor::from(self).scoped(scope)
    }
}

impl Executor {
    /// This executor bound to `scope`: see [`ScopedDatabase`].
    pub fn scoped(&self, scope: TenantScope) -> ScopedDatabase {
        ScopedDatabase {
            ex: policy::original(self),
            scope,
        }
    }
}

impl ScopedDatabase {
    /// The scope.
    pub fn scope(&self) -> &TenantScope {
        &self.scope
    }

    /// A scoped repository for `E` ([`Error::UnknownColumn`](crate::Error::UnknownColumn) if
    /// `E` has no scope column).
    pub fn repository<E: Entity>(&self) -> Result<ScopedRepository<E>> {
        ScopedRepository::new(self.ex.clone(), self.scope.clone())
    }

    /// A scoped [`Table`] over `name`, whose scope column is checked when a statement runs
    /// (an unknown one is the database's unknown-column error).
    pub fn table(&self, name: &str) -> Result<ScopedTable> {
        ident_check("table", name)?;
        ident_check("column", self.scope.column())?;
        self.scope.check(name)?;
        Ok(ScopedTable {
            table: Table::unguarded(self.ex.clone(), name.to_string()),
            scope: self.scope.clone(),
        })
    }

    /// The unscoped database underneath, for administrative work across tenants (the
    /// security policy lifted). Logged at WARN with `reason`.
    pub fn admin_bypass(&self, reason: &str) -> Database {
        self.ex.database().admin_bypass(reason)
    }
}

/// A [`Table`] bound to a [`TenantScope`]: every read, update and delete has the scope ANDed
/// around its filter, inserts set the scope column, and a write that would leave the scope is
/// [`Error::ScopeViolation`](crate::Error::ScopeViolation). Made by [`ScopedDatabase::table`].
#[derive(Debug, Clone)]
pub struct ScopedTable {
    table: Table,
    scope: TenantScope,
}

impl ScopedTable {
    /// Uses `key` as the key column for `find_one`, `update` and `delete`.
    pub fn with_key(mut self, key: impl Into<String>) -> ScopedTable {
        self.table = self.table.with_key(key);
        self
    }

    fn target(&self) -> String {
        format!("table '{}'", self.table.name())
    }

    fn within(&self, query: impl Into<Query>) -> Query {
        let mut query = query.into();
        query.filter = self
            .scope
            .around(self.scope.column(), std::mem::take(&mut query.filter));
        query
    }

    fn key_in_scope(&self, key: Value) -> Filter {
        self.scope
            .around(self.scope.column(), self.table.key_filter(key))
    }

    async fn run<T, F, Fut>(&self, f: F) -> Result<T>
    where
        F: FnOnce(Table) -> Fut,
        Fut: std::future::Future<Output = Result<T>>,
    {
        let table = self.table.clone();
        run::scoped(table.executor(), &self.scope, false, |ex| f(table.on(ex))).await
    }

    /// Refuses a record whose scope column holds another value.
    fn check_record(&self, record: &Record, what: &str) -> Result<()> {
        match record.value(self.scope.column()) {
            Some(v) if !(self.scope.is_value(v) || what == "insert" && is_unset(v)) => {
                Err(violation(
                    &self.target(),
                    &self.scope,
                    self.scope.column(),
                    format!(
                        "the {what} sets '{}' to {v}, outside the scope",
                        self.scope.column()
                    ),
                ))
            }
            _ => Ok(()),
        }
    }

    /// Inserts a record with the scope column set.
    pub async fn create(&self, mut record: Record) -> Result<Record> {
        self.check_record(&record, "insert")?;
        record.insert(self.scope.column(), self.scope.value().clone());
        self.run(|t| async move { t.create(record).await }).await
    }

    /// The row with this key in the scope; not found if the key is another tenant's.
    pub async fn find_one(&self, key: impl Into<Value>) -> Result<Record> {
        let key = key.into();
        match self.find_by(self.table.key_filter(key.clone())).await? {
            Some(r) => Ok(r),
            None => Err(self.table.not_found(&key)),
        }
    }

    /// The first row in the scope matching.
    pub async fn find_by(&self, query: impl Into<Query>) -> Result<Option<Record>> {
        let query = self.within(query);
        self.run(|t| async move { t.find_by(query).await }).await
    }

    /// Every row in the scope matching.
    pub async fn find_many(&self, query: impl Into<Query>) -> Result<Vec<Record>> {
        let query = self.within(query);
        self.run(|t| async move { t.find_many(query).await }).await
    }

    /// Number of rows in the scope matching.
    pub async fn count(&self, query: impl Into<Query>) -> Result<u64> {
        let query = self.within(query);
        self.run(|t| async move { t.count(query).await }).await
    }

    /// Sets columns of the row with this key in the scope; not found if the key is another
    /// tenant's; a change of the scope column is refused.
    pub async fn update(&self, key: impl Into<Value>, changes: Record) -> Result<()> {
        self.check_record(&changes, "update")?;
        let key = key.into();
        let filter = self.key_in_scope(key.clone());
        match self
            .run(|t| async move { t.update_where(filter, changes).await })
            .await?
        {
            0 => Err(self.table.not_found(&key)),
            _ => Ok(()),
        }
    }

    /// Deletes the row with this key in the scope; not found if the key is another tenant's.
    pub async fn delete(&self, key: impl Into<Value>) -> Result<()> {
        let key = key.into();
        match self.delete_many(self.table.key_filter(key.clone())).await? {
            0 => Err(self.table.not_found(&key)),
            _ => Ok(()),
        }
    }

    /// Deletes the scope's rows matching (a filter with no condition is refused).
    pub async fn delete_many(&self, filter: Filter) -> Result<u64> {
        let filter = if filter.is_empty() {
            filter
        } else {
            self.scope.around(self.scope.column(), filter)
        };
        self.run(|t| async move { t.delete_many(filter).await })
            .await
    }
}
