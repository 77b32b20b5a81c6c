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
    pub(crate) async fn acquire(
        db: &Database,
        table: &str,
        timeout: Duration,
    ) -> Result<MigrationLock> {
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
        let mut lock = MigrationLock {
            db: db.clone(),
            table: table.to_string(),
            timeout,
            tx: None,
        };
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
                // BEGIN IMMEDIATE waits for other processes in SQLite's busy handler, which
                // blocks its thread for up to busy_timeout; run it off this task so the wait
                // stays bounded by lock_timeout. An attempt that outlives the wait ends in the
                // background (the transaction it may still get is dropped: rolled back).
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
            BackendKind::Postgres => {
                // A session-level advisory lock on a held connection whose transaction is
                // committed right away: an open transaction would block statements such as
                // CREATE INDEX CONCURRENTLY in `-- lexigram:no-transaction` migrations.
                let tx = self.db.begin().await?;
                let pooled = self.behind_pooler();
                let function = if pooled {
                    "pg_try_advisory_xact_lock"
                } else {
                    "pg_try_advisory_lock"
                };
                let sql = format!("SELECT {function}({PG_KEY}) AS locked");
                let row = tx
                    .fetch_one(&sql, &[Value::Text(self.table.clone())])
                    .await?;
                if row.get::<bool>("locked")? {
                    if !pooled {
                        tx.execute_batch("COMMIT").await?;
                    }
                    Ok(Some(tx))
                } else {
                    tx.rollback().await?;
                    Ok(None)
                }
            }
            BackendKind::MySql => {
                let tx = self.db.begin().await?;
                let sql = format!("SELECT GET_LOCK({}, 0) AS locked", mysql_lock_name());
                let row = tx
                    .fetch_one(&sql, &[Value::Text(self.table.clone())])
                    .await?;
                if row.get::<Option<i64>>("locked")? == Some(1) {
                    Ok(Some(tx))
                } else {
                    tx.rollback().await?;
                    Ok(None)
                }
            }
        }
    }

    /// PostgreSQL without the statement cache (behind a transaction-mode pooler): the lock is
    /// a transaction lock held by an open transaction.
    fn behind_pooler(&self) -> bool {
        self.db.kind() == BackendKind::Postgres && !self.db.settings().uses_statement_cache()
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
        self.tx
            .as_ref()
            .filter(|_| self.db.kind() == BackendKind::Sqlite)
    }

    /// SQLite: commits the lock transaction so statements can run outside any transaction
    /// (`-- lexigram:no-transaction`). PostgreSQL behind a pooler: ends the transaction that
    /// holds the lock, which `CREATE INDEX CONCURRENTLY` would otherwise wait for (the version
    /// is already marked dirty, so a migrator taking the lock meanwhile stops there).
    /// No-op elsewhere.
    pub(crate) async fn suspend(&mut self) -> Result<()> {
        if self.db.kind() == BackendKind::Sqlite
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
        match self.db.kind() {
            BackendKind::Sqlite => tx.commit().await,
            // The transaction lock ends with its transaction.
            BackendKind::Postgres if self.behind_pooler() => tx.rollback().await,
            BackendKind::Postgres => {
                let sql = format!("SELECT pg_advisory_unlock({PG_KEY}) AS released");
                let released = tx.fetch_all(&sql, &[Value::Text(self.table.clone())]).await;
                // The transaction was committed when the lock was taken: this only hands the
                // connection back (PostgreSQL notes "no transaction in progress").
                let ended = tx.rollback().await;
                released.and(ended)
            }
            BackendKind::MySql => {
                let sql = format!("SELECT RELEASE_LOCK({}) AS released", mysql_lock_name());
                let released = tx.fetch_all(&sql, &[Value::Text(self.table.clone())]).await;
                let ended = tx.rollback().await;
                released.and(ended)
            }
        }
    }
}

impl Drop for MigrationLock {
    /// Safety net for early returns: MySQL `GET_LOCK` and PostgreSQL session advisory locks
    /// belong to the session, so a pooled connection must not go back still holding one.
    fn drop(&mut self) {
        let Some(tx) = self.tx.take() else { return };
        if self.behind_pooler() {
            // The transaction's own drop rolls back, which releases the transaction lock.
            return;
        }
        let sql = match self.db.kind() {
            BackendKind::MySql => format!("SELECT RELEASE_LOCK({}) AS released", mysql_lock_name()),
            BackendKind::Postgres => format!("SELECT pg_advisory_unlock({PG_KEY}) AS released"),
            // SQLite: the transaction's own drop rolls back, which releases the lock.
            BackendKind::Sqlite => return,
        };
        let table = self.table.clone();
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            handle.spawn(async move {
                let _ = tx.fetch_all(&sql, &[Value::Text(table)]).await;
                let _ = tx.rollback().await;
            });
        }
    }
}

/// The advisory lock key: schema and table name hashed to a bigint (`$1` is the table).
const PG_KEY: &str = "hashtextextended(current_schema() || '.' || $1::text, 0)";

/// `GET_LOCK` names are limited to 64 characters: hash database and table into one.
fn mysql_lock_name() -> &'static str {
    "CONCAT('lexigram_migrate_', MD5(CONCAT(DATABASE(), '.', ?)))"
}
