//! The lock held for a whole migration run, so concurrent migrators apply each migration
//! exactly once.
//!
//! - **SQLite**: a `BEGIN IMMEDIATE` transaction — SQLite's single writer lock. The whole run
//!   happens inside it, each migration in a savepoint. Other processes wait in SQLite's busy
//!   handler (`busy_timeout` = max(statement_timeout, 1s)) and retry until `lock_timeout`.
//! - **PostgreSQL**: `pg_try_advisory_xact_lock` on a transaction held open for the run
//!   (keyed by schema and table name); it is released when that transaction ends, even if the
//!   process dies. Migrations run on other pooled connections.
//! - **MySQL/MariaDB**: `GET_LOCK` on one held connection (keyed by database and table name),
//!   released with `RELEASE_LOCK`. Migrations run on other pooled connections.
//!
//! Waiting longer than `migrations.lock_timeout` fails with a `LockTimeout` migration error.

use std::time::{Duration, Instant};

use crate::config::BackendKind;
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
    pub(crate) async fn acquire(db: &Database, table: &str, timeout: Duration) -> Result<MigrationLock> {
        if db.kind() != BackendKind::Sqlite && db.settings().pool.max_size < 2 {
            return Err(Error::Migration(MigrationError {
                kind: MigrationErrorKind::Invalid,
                version: None,
                message: format!(
                    "migrating needs 2 pooled connections (one holds the migration lock) but sql.pool.max_size is {}. Fix: set `sql.pool.max_size` to 2 or more",
                    db.settings().pool.max_size
                ),
            }));
        }
        let mut lock = MigrationLock { db: db.clone(), table: table.to_string(), timeout, tx: None };
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

    /// One attempt; `Ok(None)` when someone else holds the lock.
    async fn try_take(&self, remaining: Duration) -> Result<Option<Transaction>> {
        match self.db.kind() {
            BackendKind::Sqlite => {
                // Waits on the in-process write gate (bounded here) and on other processes
                // in SQLite's busy handler (bounded by busy_timeout, then Conflict).
                match tokio::time::timeout(remaining.max(POLL), self.db.begin()).await {
                    Ok(tx) => tx.map(Some),
                    Err(_) => Ok(None),
                }
            }
            BackendKind::Postgres => {
                let tx = self.db.begin().await?;
                let row = tx
                    .fetch_one(
                        "SELECT pg_try_advisory_xact_lock(hashtextextended(current_schema() || '.' || $1::text, 0)) AS locked",
                        &[Value::Text(self.table.clone())],
                    )
                    .await?;
                if row.get::<bool>("locked")? {
                    Ok(Some(tx))
                } else {
                    tx.rollback().await?;
                    Ok(None)
                }
            }
            BackendKind::MySql => {
                let tx = self.db.begin().await?;
                let sql = format!("SELECT GET_LOCK({}, 0) AS locked", mysql_lock_name());
                let row = tx.fetch_one(&sql, &[Value::Text(self.table.clone())]).await?;
                if row.get::<Option<i64>>("locked")? == Some(1) {
                    Ok(Some(tx))
                } else {
                    tx.rollback().await?;
                    Ok(None)
                }
            }
        }
    }

    /// Where the migrations table is read and written while the lock is held: inside the
    /// lock's transaction on SQLite (the only writer), on the pool elsewhere.
    pub(crate) fn executor(&self) -> Executor {
        match (&self.tx, self.db.kind()) {
            (Some(tx), BackendKind::Sqlite) => Executor::from(tx),
            _ => Executor::from(&self.db),
        }
    }

    /// The SQLite lock transaction, for savepoints; `None` on other backends.
    pub(crate) fn sqlite_tx(&self) -> Option<&Transaction> {
        self.tx.as_ref().filter(|_| self.db.kind() == BackendKind::Sqlite)
    }

    /// SQLite: commits the lock transaction so statements can run outside any transaction
    /// (`-- lexigram:no-transaction`). No-op elsewhere.
    pub(crate) async fn suspend(&mut self) -> Result<()> {
        if self.db.kind() == BackendKind::Sqlite {
            if let Some(tx) = self.tx.take() {
                tx.commit().await?;
            }
        }
        Ok(())
    }

    /// SQLite: takes the lock again after [`MigrationLock::suspend`]. No-op elsewhere.
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
        let Some(tx) = self.tx.take() else { return Ok(()) };
        let result = match self.db.kind() {
            BackendKind::Sqlite => tx.commit().await,
            BackendKind::Postgres => tx.rollback().await,
            BackendKind::MySql => {
                let sql = format!("SELECT RELEASE_LOCK({}) AS released", mysql_lock_name());
                let released = tx.fetch_all(&sql, &[Value::Text(self.table.clone())]).await;
                let ended = tx.rollback().await;
                released.and(ended)
            }
        };
        result
    }
}

impl Drop for MigrationLock {
    /// Safety net for early returns: a MySQL `GET_LOCK` belongs to the session, so a pooled
    /// connection must not go back to the pool still holding it.
    fn drop(&mut self) {
        let Some(tx) = self.tx.take() else { return };
        if self.db.kind() != BackendKind::MySql {
            return; // the transaction's own drop rolls back, which releases the lock
        }
        let table = self.table.clone();
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            handle.spawn(async move {
                let sql = format!("SELECT RELEASE_LOCK({}) AS released", mysql_lock_name());
                let _ = tx.fetch_all(&sql, &[Value::Text(table)]).await;
                let _ = tx.rollback().await;
            });
        }
    }
}

/// `GET_LOCK` names are limited to 64 characters: hash database and table into one.
fn mysql_lock_name() -> &'static str {
    "CONCAT('lexigram_migrate_', MD5(CONCAT(DATABASE(), '.', ?)))"
}
