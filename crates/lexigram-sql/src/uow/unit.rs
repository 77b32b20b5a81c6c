//! [`UnitOfWork`]: one transaction with change tracking and an outbox.

use super::outbox;
use super::tracking::Changes;
use crate::backend::Isolation;
use crate::database::{Database, Executor, Savepoint, Transaction};
use crate::error::{Error, Result};
use crate::repository::{Entity, Repository, Table};

/// One transaction: repositories taken from it act inside it; [`UnitOfWork::commit`] flushes
/// registered changes (inserts, then updates with version checks, then deletes), writes
/// registered events to the outbox, and commits — all or nothing. Dropped without `commit()`,
/// it is rolled back and logs `unit of work dropped without commit: rolled back`.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> lexigram_sql::Result<()> {
/// #[derive(Debug, Clone, lexigram_sql::Entity)]
/// struct Note { #[entity(key, generated)] id: i64, body: String }
/// let db = lexigram_sql::Database::connect_url("sqlite://").await?;
/// db.execute_batch("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)").await?;
///
/// let mut uow = db.unit_of_work().await?;
/// uow.repository::<Note>().create(Note { id: 0, body: "now".into() }).await?;
/// uow.register_new(Note { id: 0, body: "at commit".into() });
/// uow.commit().await?;                       // required: without it, nothing is kept
/// assert_eq!(db.repository::<Note>().count(lexigram_sql::repository::Filter::all()).await?, 2);
///
/// {
///     let uow = db.unit_of_work().await?;
///     uow.repository::<Note>().create(Note { id: 0, body: "lost".into() }).await?;
/// } // dropped without commit: rolled back
/// # tokio::task::yield_now().await;
/// assert_eq!(db.repository::<Note>().count(lexigram_sql::repository::Filter::all()).await?, 2);
/// # Ok(()) }
/// ```
pub struct UnitOfWork {
    tx: Transaction,
    changes: Changes,
    events: Vec<outbox::NewEvent>,
}

impl std::fmt::Debug for UnitOfWork {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UnitOfWork")
            .field("database", &self.tx.database().name())
            .field("pending_changes", &self.changes.len())
            .field("pending_events", &self.events.len())
            .finish()
    }
}

impl Database {
    /// Begins a unit of work (one transaction). See [`UnitOfWork`].
    pub async fn unit_of_work(&self) -> Result<UnitOfWork> {
        self.unit_of_work_with(None).await
    }

    /// Begins a unit of work at an isolation level (SQLite: always serializable).
    pub async fn unit_of_work_isolated(&self, isolation: Isolation) -> Result<UnitOfWork> {
        self.unit_of_work_with(Some(isolation)).await
    }

    async fn unit_of_work_with(&self, isolation: Option<Isolation>) -> Result<UnitOfWork> {
        outbox::ensure_table(self).await?;
        let tx = self.begin_with(isolation, "unit of work").await?;
        Ok(UnitOfWork {
            tx,
            changes: Changes::default(),
            events: Vec::new(),
        })
    }
}

impl UnitOfWork {
    /// The unit's transaction (for raw SQL inside it).
    pub fn transaction(&self) -> &Transaction {
        &self.tx
    }

    /// An [`Executor`] running inside the unit.
    pub fn executor(&self) -> Executor {
        Executor::from(&self.tx)
    }

    /// A repository whose statements run inside the unit.
    pub fn repository<E: Entity>(&self) -> Repository<E> {
        self.tx.repository::<E>()
    }

    /// A [`Table`] repository inside the unit.
    pub fn table(&self, name: &str) -> Table {
        self.tx.table(name)
    }

    /// Queues an entity to be inserted at commit.
    pub fn register_new<E: Entity>(&mut self, entity: E) {
        self.changes.new_entity(entity);
    }

    /// Queues an entity to be updated at commit (versioned entities are checked: a conflict
    /// rolls the whole unit back with [`Error::OptimisticLock`]).
    pub fn register_dirty<E: Entity>(&mut self, entity: E) {
        self.changes.dirty(entity);
    }

    /// Queues an entity to be deleted at commit.
    pub fn register_deleted<E: Entity>(&mut self, entity: E) {
        self.changes.deleted(entity);
    }

    /// Records a domain event; it is written to the outbox ([`super::Outbox`]) in the unit's
    /// transaction at commit, and never if the unit rolls back.
    pub fn register_event<T: serde::Serialize>(
        &mut self,
        event_type: &str,
        event: &T,
    ) -> Result<()> {
        self.push_event(None, event_type, event)
    }

    /// Records a domain event of one aggregate (an order, a user: any key that names it): like
    /// [`UnitOfWork::register_event`], and a [`super::Relay`] publishes the events of one
    /// aggregate in the order they were stored, even with several relays at once.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> lexigram_sql::Result<()> {
    /// let db = lexigram_sql::Database::connect_url("sqlite://").await?;
    /// let mut uow = db.unit_of_work().await?;
    /// uow.register_event_for("order-42", "OrderPlaced", &serde_json::json!({ "total": 10 }))?;
    /// uow.commit().await?;
    /// let pending = lexigram_sql::uow::Outbox::new(&db).pending(10).await?;
    /// assert_eq!(pending[0].aggregate_id.as_deref(), Some("order-42"));
    /// # Ok(()) }
    /// ```
    pub fn register_event_for<T: serde::Serialize>(
        &mut self,
        aggregate_id: &str,
        event_type: &str,
        event: &T,
    ) -> Result<()> {
        self.push_event(Some(aggregate_id), event_type, event)
    }

    fn push_event<T: serde::Serialize>(
        &mut self,
        aggregate_id: Option<&str>,
        event_type: &str,
        event: &T,
    ) -> Result<()> {
        self.events.push(outbox::NewEvent {
            aggregate_id: aggregate_id.map(str::to_string),
            event_type: event_type.to_string(),
            payload: outbox::serialize(event)?,
        });
        Ok(())
    }

    /// Opens a nested scope (SQL `SAVEPOINT`); rolling it back keeps the rest of the unit.
    pub async fn savepoint(&self) -> Result<Savepoint> {
        self.tx.savepoint().await
    }

    /// Flushes registered changes and events, then commits. On any error the whole unit is
    /// rolled back and the error returned; using the unit afterwards is an
    /// [`Error::UnitOfWork`].
    pub async fn commit(&mut self) -> Result<()> {
        let ex = self.executor();
        let flushed = match self.changes.flush(&ex).await {
            Ok(()) => outbox::store(&ex, std::mem::take(&mut self.events)).await,
            Err(e) => Err(e),
        };
        if let Err(e) = flushed {
            self.events.clear();
            if let Err(rollback) = self.tx.rollback().await
                && !matches!(rollback, Error::UnitOfWork { .. })
            {
                return Err(Error::CommitAndRollback {
                    commit: Box::new(e),
                    rollback: Box::new(rollback),
                });
            }
            return Err(e);
        }
        self.tx.commit().await
    }

    /// Discards everything done and registered in the unit.
    pub async fn rollback(&mut self) -> Result<()> {
        self.changes = Changes::default();
        self.events.clear();
        self.tx.rollback().await
    }
}
