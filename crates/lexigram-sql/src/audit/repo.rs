//! [`AuditedRepository`]: a repository whose writes append to an [`AuditLog`] in the same
//! transaction.

use std::marker::PhantomData;

use super::chain::{self, AuditEntry};
use super::json;
use super::log::AuditLog;
use crate::database::Executor;
use crate::error::Result;
use crate::repository::{Entity, KeyValues, Query, Repository};
use crate::scope::in_transaction;

/// A repository whose `create`, `update` and `delete` each write one audit row — actor,
/// time, entity, operation, key, and the row before and after as JSON objects (keys sorted),
/// read from the database inside the transaction — in the same transaction as the change: a failed change
/// leaves no audit row, and a failed audit insert rolls the change back. On a pool executor
/// each call opens its own transaction; on a transaction it joins it. Writers of one log are
/// serialised on its chain head until they commit. Made by [`Repository::audited`].
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> lexigram_sql::Result<()> {
/// use lexigram_sql::{Database, Entity};
/// use lexigram_sql::audit::AuditLog;
/// use lexigram_sql::config::AuditKey;
///
/// #[derive(Debug, Clone, Entity)]
/// struct Account { #[entity(key)] id: i64, balance: i64 }
///
/// let db = Database::connect_url("sqlite://").await?;
/// db.execute_batch("CREATE TABLE accounts (id INTEGER PRIMARY KEY, balance INTEGER NOT NULL)").await?;
/// let log = AuditLog::new("audit_log", AuditKey::new("k".repeat(32)))?;
/// log.create_table(&db).await?;
/// let accounts = db.repository::<Account>().audited(&log, "alice");
/// let mut a = accounts.create(Account { id: 1, balance: 10 }).await?;
/// a.balance = 15;
/// accounts.update(&mut a).await?;
/// let row = db.fetch_one("SELECT actor, operation, before_json, after_json FROM audit_log WHERE seq = 2", &[]).await?;
/// assert_eq!(row.get::<String>("actor")?, "alice");
/// assert_eq!(row.get::<String>("operation")?, "update");
/// assert_eq!(row.get::<String>("before_json")?, r#"{"balance":10,"id":1}"#);
/// assert_eq!(row.get::<String>("after_json")?, r#"{"balance":15,"id":1}"#);
/// # Ok(()) }
/// ```
pub struct AuditedRepository<E> {
    ex: Executor,
    log: AuditLog,
    actor: String,
    _entity: PhantomData<fn() -> E>,
}

impl<E> Clone for AuditedRepository<E> {
    fn clone(&self) -> Self {
        AuditedRepository {
            ex: self.ex.clone(),
            log: self.log.clone(),
            actor: self.actor.clone(),
            _entity: PhantomData,
        }
    }
}

impl<E: Entity> std::fmt::Debug for AuditedRepository<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditedRepository")
            .field("entity", &E::meta().name)
            .field("log", &self.log.table())
            .field("actor", &self.actor)
            .finish_non_exhaustive()
    }
}

impl<E: Entity> Repository<E> {
    /// This repository with its writes recorded in `log` as done by `actor`: see
    /// [`AuditedRepository`].
    pub fn audited(&self, log: &AuditLog, actor: impl Into<String>) -> AuditedRepository<E> {
        AuditedRepository {
            ex: self.executor().clone(),
            log: log.clone(),
            actor: actor.into(),
            _entity: PhantomData,
        }
    }
}

impl<E: Entity> AuditedRepository<E> {
    /// The row with this key as stored (soft-deleted or not), as JSON.
    async fn read(ex: &Executor, key: KeyValues) -> Result<Option<serde_json::Value>> {
        let repo = Repository::<E>::new(ex.clone());
        let query = Query::from(crate::scope::key_filter::<E>(key.as_slice())?).with_deleted();
        let (sql, params) = repo.select_sql(&query)?;
        Ok(ex
            .fetch_optional(&sql, &params)
            .await?
            .map(|row| json::row::<E>(&row)))
    }

    fn entry(
        &self,
        operation: &str,
        key: &KeyValues,
        before: Option<serde_json::Value>,
        after: Option<serde_json::Value>,
    ) -> AuditEntry {
        AuditEntry {
            actor: self.actor.clone(),
            target: E::meta().name.to_string(),
            operation: operation.to_string(),
            key: match key.as_slice() {
                [one] => json::value(one).to_string(),
                many => {
                    serde_json::Value::Array(many.iter().map(json::value).collect()).to_string()
                }
            },
            before,
            after,
        }
    }

    /// Inserts the entity and records it (`create`, no before).
    pub async fn create(&self, entity: E) -> Result<E> {
        in_transaction(&self.ex, |ex| async move {
            let head = chain::lock_head(&self.log, &ex).await?;
            let created = Repository::<E>::new(ex.clone()).create(entity).await?;
            let key = crate::scope::key_values(&created);
            let after = Self::read(&ex, key.clone()).await?;
            chain::append(
                &self.log,
                &ex,
                head,
                &self.entry("create", &key, None, after),
            )
            .await?;
            Ok(created)
        })
        .await
    }

    /// Updates the entity (see [`Repository::update`]) and records the row before and after.
    pub async fn update(&self, entity: &mut E) -> Result<()> {
        in_transaction(&self.ex, |ex| async move {
            let head = chain::lock_head(&self.log, &ex).await?;
            let key = crate::scope::key_values(&*entity);
            let before = Self::read(&ex, key.clone()).await?;
            Repository::<E>::new(ex.clone()).update(entity).await?;
            let after = Self::read(&ex, key.clone()).await?;
            chain::append(
                &self.log,
                &ex,
                head,
                &self.entry("update", &key, before, after),
            )
            .await?;
            Ok(())
        })
        .await
    }

    /// Deletes the entity's row (see [`Repository::delete`]) and records it (no after).
    pub async fn delete(&self, entity: &E) -> Result<()> {
        in_transaction(&self.ex, |ex| async move {
            let head = chain::lock_head(&self.log, &ex).await?;
            let key = crate::scope::key_values(&*entity);
            let before = Self::read(&ex, key.clone()).await?;
            Repository::<E>::new(ex.clone()).delete(entity).await?;
            chain::append(
                &self.log,
                &ex,
                head,
                &self.entry("delete", &key, before, None),
            )
            .await?;
            Ok(())
        })
        .await
    }
}
