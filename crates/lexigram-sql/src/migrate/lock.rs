//! The lock held for a whole migration run, so concurrent migrators apply each migration
//! exactly once.
//!
//! - **SQLite**: a `BEGIN IMMEDIATE` transaction — SQLite's single writer lock. The whole run
//!   happens inside it, each migration in a savepoint. Other processes wait in SQLite's busy
//!   handler (`busy_timeout` = max(statement_timeout, 1s)) and retry until `lock_timeout`.
//! - **PostgreSQL**: `pg_try_advisory_lock` (session level, keyed by schema and table name)
//!   on one connection held for the run, released with `pg_advisory_unlock` (or by the server
//!   when the process dies). Migrations run on other pooled connections. With
//!   `backend.statement_cache: false` (behind PgBouncer in transaction mode, where a session
//!   lock would stay on whichever server connection took it) the lock is
//!   `pg_try_advisory_xact_lock` in a transaction kept open for the run and rolled back to
//!   release it.
//! - **MySQL/MariaDB**: `GET_LOCK` on one held connection (keyed by database and table name),
//!   released with `RELEASE_LOCK`. Migrations run on other pooled connections.
//!
//! Waiting longer than `migrations.lock_timeout` fails with a `LockTimeout` migration error.

use std::time::{Duration, Instant};

use crate::backend::LockScope;
use crate::database::{Database, Executor, Transaction};
use crate::error::{Error, MigrationError, MigrationErrorKind, Result};
use crate::value::Value;

const POLL: Duration = Duration::from_millis(100);

/// A held migration lock.
pub(crate) struct MigrationLock {
    db: Database,
    table: String,
    timeout: Duration,
    /// The transaction that holds the lock; `None` while suspended (SQLite only).
    tx: Option<Transaction>,
}

impl MigrationLock {
    /// Waits up to `timeout` for the lock.
    pub(crate) async fn acquire(
        db: &Database,
        table: &str,
        timeout: Duration,
    ) -> Result<MigrationLock> {
        let lock = MigrationLock {
            db: db.clone(),
            table: table.to_string(),
            timeout,
            tx: None,
        };
        if !lock.writer_lock() && db.settings().pool.max_size < 2 {
            return Err(Error::Migration(MigrationError {
                kind: MigrationErrorKind::Invalid,
                version: None,
                message: format!(
                    "migrating needs 2 pooled connections (one holds the migration lock) but sql.pool.max_size is {}. Fix: set `sql.pool.max_size` to 2 or more",
                    db.settings().pool.max_size
                ),
            }));
        }
        let mut lock = lock;
        lock.take().await?;
        tracing::debug!(backend = %db.name(), table, "migration lock acquired");
        Ok(lock)
    }

    async fn take(&mut self) -> Result<()> {
        let started = Instant::now();
        loop {
            let remaining = self.timeout.saturating_sub(started.elapsed());
            match self.try_take(remaining).await {
                Ok(Some(tx)) => {
                    self.tx = Some(tx);
                    return Ok(());
                }
                Ok(None) | Err(Error::Conflict { .. }) => {}
                Err(e) => return Err(e),
            }
            if started.elapsed() >= self.timeout {
                return Err(Error::Migration(MigrationError {
                    kind: MigrationErrorKind::LockTimeout,
                    version: None,
                    message: format!(
                        "could not get the migration lock on {} `{}` within {:?} (sql.migrations.lock_timeout): another migrator is still running. Fix: wait for it to finish, or raise `sql.migrations.lock_timeout`",
                        self.db.kind().name(),
                        self.table,
                        self.timeout
                    ),
                }));
            }
            tokio::time::sleep(POLL.min(self.timeout.saturating_sub(started.elapsed()))).await;
        }
    }

    /// Whether the backend has no advisory locks (SQLite): the lock is then its single
    /// writer lock, a transaction that the whole run happens in.
    fn writer_lock(&self) -> bool {
        self.db.dialect().try_lock_sql(LockScope::Session).is_none()
    }

    /// The advisory lock's scope: a transaction lock behind a transaction-mode pooler, where
    /// a session lock would stay on whichever server connection took it.
    fn scope(&self) -> LockScope {
        if self.behind_pooler() {
            LockScope::Transaction
        } else {
            LockScope::Session
        }
    }

    /// One attempt; `Ok(None)` when someone else holds the lock.
    async fn try_take(&self, remaining: Duration) -> Result<Option<Transaction>> {
        let Some(sql) = self.db.dialect().try_lock_sql(self.scope()) else {
            return self.try_take_writer(remaining).await;
        };
        // The lock is taken on a held connection. A session lock's transaction is committed
        // right away: an open transaction would block statements such as CREATE INDEX
        // CONCURRENTLY in `-- lexigram:no-transaction` migrations.
        let tx = self.db.begin().await?;
        let row = tx
            .fetch_one(&sql, &[Value::Text(self.table.clone())])
            .await?;
        if row.get::<bool>("locked")? {
            if self.scope() == LockScope::Session {
                tx.execute_batch("COMMIT").await?;
            }
            Ok(Some(tx))
        } else {
            tx.rollback().await?;
            Ok(None)
        }
    }

    /// One attempt at SQLite's writer lock. `BEGIN IMMEDIATE` waits for other processes in
    /// SQLite's busy handler, which blocks its thread for up to busy_timeout; it runs off this
    /// task so the wait stays bounded by lock_timeout. An attempt that outlives the wait ends
    /// in the background (the transaction it may still get is dropped: rolled back).
    async fn try_take_writer(&self, remaining: Duration) -> Result<Option<Transaction>> {
        let db = self.db.clone();
        let handle = tokio::runtime::Handle::current();
        let attempt = tokio::task::spawn_blocking(move || handle.block_on(db.begin()));
        match tokio::time::timeout(remaining.max(POLL), attempt).await {
            // A writer of this process held SQLite's write lock for pool.timeout.
            Ok(Ok(Err(Error::LockTimeout { .. }))) => Ok(None),
            Ok(Ok(tx)) => tx.map(Some),
            Ok(Err(join)) => Err(Error::UnitOfWork {
                detail: format!("the migration lock attempt failed: {join}"),
            }),
            Err(_) => Ok(None),
        }
    }

    /// Without the statement cache (behind a transaction-mode pooler), on a backend with
    /// transaction locks (PostgreSQL): the lock is a transaction lock held by an open
    /// transaction.
    fn behind_pooler(&self) -> bool {
        self.db
            .dialect()
            .try_lock_sql(LockScope::Transaction)
            .is_some()
            && !self.db.settings().uses_statement_cache()
    }

    /// Where the migrations table is read and written while the lock is held: inside the
    /// lock's transaction on SQLite (the only writer), on the pool elsewhere.
    pub(crate) fn executor(&self) -> Executor {
        match self.sqlite_tx() {
            Some(tx) => Executor::from(tx),
            None => Executor::from(&self.db),
        }
    }

    /// The SQLite lock transaction, for savepoints; `None` on other backends.
    pub(crate) fn sqlite_tx(&self) -> Option<&Transaction> {
        self.tx.as_ref().filter(|_| self.writer_lock())
    }

    /// SQLite: commits the lock transaction so statements can run outside any transaction
    /// (`-- lexigram:no-transaction`). PostgreSQL behind a pooler: ends the transaction that
    /// holds the lock, which `CREATE INDEX CONCURRENTLY` would otherwise wait for (the version
    /// is already marked dirty, so a migrator taking the lock meanwhile stops there).
    /// No-op elsewhere.
    pub(crate) async fn suspend(&mut self) -> Result<()> {
        if self.writer_lock()
            && let Some(tx) = self.tx.take()
        {
            tx.commit().await?;
        } else if self.behind_pooler()
            && let Some(tx) = self.tx.take()
        {
            tx.rollback().await?;
        }
        Ok(())
    }

    /// Takes the lock again after [`MigrationLock::suspend`] released it.
    pub(crate) async fn resume(&mut self) -> Result<()> {
        if self.tx.is_none() {
            self.take().await?;
        }
        Ok(())
    }

    /// Releases the lock; on SQLite this commits the work done under it.
    pub(crate) async fn release(mut self) -> Result<()> {
        let result = self.release_inner().await;
        tracing::debug!(backend = %self.db.name(), table = %self.table, "migration lock released");
        result
    }

    async fn release_inner(&mut self) -> Result<()> {
        let Some(tx) = self.tx.take() else {
            return Ok(());
        };
        if self.writer_lock() {
            return tx.commit().await;
        }
        match self.unlock_sql() {
            Some(sql) => {
                let released = tx.fetch_all(&sql, &[Value::Text(self.table.clone())]).await;
                // The transaction was committed when the lock was taken: this only hands the
                // connection back (PostgreSQL notes "no transaction in progress").
                let ended = tx.rollback().await;
                released.and(ended)
            }
            // The transaction lock ends with its transaction.
            None => tx.rollback().await,
        }
    }

    /// The statement releasing a session lock; `None` when the transaction's end releases
    /// the lock (SQLite's writer lock, a transaction lock behind a pooler).
    fn unlock_sql(&self) -> Option<String> {
        if self.behind_pooler() {
            return None;
        }
        self.db.dialect().unlock_sql()
    }
}

impl Drop for MigrationLock {
    /// Safety net for early returns: MySQL `GET_LOCK` and PostgreSQL session advisory locks
    /// belong to the session, so a pooled connection must not go back still holding one.
    fn drop(&mut self) {
        let Some(tx) = self.tx.take() else { return };
        // A lock that ends with its transaction goes with the transaction's own drop.
        let Some(sql) = self.unlock_sql() else { return };
        let table = self.table.clone();
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            handle.spawn(async move {
                let _ = tx.fetch_all(&sql, &[Value::Text(table)]).await;
                let _ = tx.rollback().await;
            });
        }
    }
}
