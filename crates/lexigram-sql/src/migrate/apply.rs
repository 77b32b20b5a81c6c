//! Running one migration script: in its own transaction where the backend has transactional
//! DDL (PostgreSQL, SQLite), or marked dirty around the run where it has not (MySQL/MariaDB,
//! and any script with the `-- lexigram:no-transaction` directive).

use std::time::Instant;

use chrono::Utc;
use tracing::Instrument;

use super::lock::MigrationLock;
use super::report::Direction;
use super::source::Migration;
use super::store::{AppliedMigration, Store};
use crate::backend::Statement;
use crate::database::{Database, Executor};
use crate::error::{Error, MigrationError, MigrationErrorKind, Result};
use crate::observe::span;

/// Runs `migration` in `direction` and records the outcome; returns its execution time in ms.
/// Runs in a `db.migration` span, the parent of the step's transaction and statements.
pub(crate) async fn run_step(
    db: &Database,
    store: &Store,
    lock: &mut MigrationLock,
    migration: &Migration,
    direction: Direction,
) -> Result<i64> {
    let name = match direction {
        Direction::Up => "up",
        Direction::Down => "down",
    };
    let span = span::migration(db.observer(), migration.version, &migration.name, name);
    if span.is_disabled() {
        return step(db, store, lock, migration, direction).await;
    }
    let result = step(db, store, lock, migration, direction)
        .instrument(span.clone())
        .await;
    if let Err(e) = &result {
        span::failed(&span, e);
    }
    result
}

async fn step(
    db: &Database,
    store: &Store,
    lock: &mut MigrationLock,
    migration: &Migration,
    direction: Direction,
) -> Result<i64> {
    let (script, file) = match direction {
        Direction::Up => (migration.up.as_str(), migration.up_file.as_str()),
        Direction::Down => match (&migration.down, &migration.down_file) {
            (Some(script), Some(file)) => (script.as_str(), file.as_str()),
            _ => return Err(no_down(migration)),
        },
    };
    let statements = if Migration::single_batch(script) {
        vec![Statement {
            sql: script.to_string(),
            line: 1,
        }]
    } else {
        db.dialect().split_statements(script)
    };
    let transactional = db.dialect().transactional_ddl() && !Migration::no_transaction(script);
    let step = Step {
        db,
        store,
        migration,
        direction,
        file,
        statements: &statements,
    };
    if transactional {
        step.in_transaction(lock).await
    } else {
        step.marked_dirty(lock).await
    }
}

/// The error for reverting a migration that has no `.down.sql`.
pub(crate) fn no_down(migration: &Migration) -> Error {
    Error::Migration(MigrationError {
        kind: MigrationErrorKind::Invalid,
        version: Some(migration.version),
        message: format!(
            "migration {}_{} has no down script, so it cannot be reverted. Fix: add {}_{}.down.sql",
            migration.version, migration.name, migration.version, migration.name
        ),
    })
}

struct Step<'a> {
    db: &'a Database,
    store: &'a Store,
    migration: &'a Migration,
    direction: Direction,
    file: &'a str,
    statements: &'a [Statement],
}

/// Which statement failed and why.
struct StatementFailure {
    index: usize,
    statement: Statement,
    error: Error,
}

impl Step<'_> {
    async fn run_statements(&self, ex: &Executor) -> std::result::Result<(), StatementFailure> {
        for (index, statement) in self.statements.iter().enumerate() {
            if let Err(error) = ex.execute_batch(&statement.sql).await {
                return Err(StatementFailure {
                    index: index + 1,
                    statement: statement.clone(),
                    error,
                });
            }
        }
        Ok(())
    }

    /// Records success: inserts the row (up) or deletes it (down).
    async fn record(&self, ex: &Executor, execution_ms: i64, dirty: bool) -> Result<()> {
        match self.direction {
            Direction::Up => {
                let row = AppliedMigration {
                    version: self.migration.version,
                    name: self.migration.name.clone(),
                    checksum: self.migration.checksum.clone(),
                    applied_at: Utc::now(),
                    execution_ms,
                    dirty,
                };
                self.store.insert(ex, &row).await
            }
            Direction::Down => self.store.delete(ex, self.migration.version).await,
        }
    }

    /// Runs the statements and records the result on `ex`, inside the caller's scope.
    async fn run_and_record(&self, ex: &Executor, started: Instant) -> Result<()> {
        match self.run_statements(ex).await {
            Ok(()) => self
                .record(ex, elapsed_ms(started), false)
                .await
                .map_err(|e| self.record_failed(e)),
            Err(failure) => Err(self.failed(failure, false)),
        }
    }

    async fn in_transaction(&self, lock: &mut MigrationLock) -> Result<i64> {
        let started = Instant::now();
        if let Some(tx) = lock.sqlite_tx() {
            // SQLite: the whole run is one transaction; each migration is a savepoint in it.
            let savepoint = tx.savepoint().await?;
            match self.run_and_record(&Executor::from(tx), started).await {
                Ok(()) => savepoint.release().await?,
                Err(e) => {
                    savepoint.rollback().await?;
                    return Err(e);
                }
            }
        } else {
            let tx = self.db.begin().await?;
            match self.run_and_record(&Executor::from(&tx), started).await {
                Ok(()) => tx.commit().await?,
                Err(e) => {
                    if let Err(rollback) = tx.rollback().await {
                        tracing::warn!(error = %rollback, "rollback of a failed migration failed");
                    }
                    return Err(e);
                }
            }
        }
        Ok(elapsed_ms(started))
    }

    async fn marked_dirty(&self, lock: &mut MigrationLock) -> Result<i64> {
        let version = self.migration.version;
        match self.direction {
            Direction::Up => self.record(&lock.executor(), 0, true).await?,
            Direction::Down => self.store.mark_dirty(&lock.executor(), version).await?,
        }
        lock.suspend().await?;
        let started = Instant::now();
        let result = if !self.db.dialect().transactional_ddl() {
            // One held connection, so session settings (`SET …`) carry from one statement to
            // the next; DDL commits implicitly there anyway.
            let tx = self.db.begin().await?;
            let result = self.run_statements(&Executor::from(&tx)).await;
            let ended = if result.is_ok() {
                tx.commit().await
            } else {
                tx.rollback().await
            };
            if let Err(e) = ended {
                tracing::warn!(error = %e, "ending a MySQL migration transaction failed");
            }
            result
        } else {
            self.run_statements(&Executor::from(self.db)).await
        };
        let execution_ms = elapsed_ms(started);
        lock.resume().await?;
        match result {
            Ok(()) => {
                let ex = lock.executor();
                match self.direction {
                    Direction::Up => self.store.mark_clean(&ex, version, execution_ms).await?,
                    Direction::Down => self.store.delete(&ex, version).await?,
                }
                Ok(execution_ms)
            }
            Err(failure) => Err(self.failed(failure, true)),
        }
    }

    fn script_name(&self) -> String {
        self.file
            .rsplit(['/', '\\'])
            .next()
            .unwrap_or(self.file)
            .to_string()
    }

    fn failed(&self, failure: StatementFailure, dirty: bool) -> Error {
        let version = self.migration.version;
        let what = format!(
            "{} failed at statement {} (line {}) `{}`: {}",
            self.script_name(),
            failure.index,
            failure.statement.line,
            failure.statement.excerpt(160),
            failure.error
        );
        let message = if dirty {
            let why = if self.db.dialect().transactional_ddl() {
                "it ran outside a transaction (-- lexigram:no-transaction)".to_string()
            } else {
                format!("{} cannot roll back DDL", self.db.dialect().label())
            };
            format!(
                "{what}. {why}, so the statements before it may have taken effect; version {version} is now marked dirty and later runs refuse to continue. Fix: repair the schema by hand (undo what {} did), then run `lexigram db repair` and `lexigram db upgrade`",
                self.script_name()
            )
        } else {
            format!(
                "{what}. The migration was rolled back: nothing of it remains and it is not recorded. Fix: correct {} and run `lexigram db upgrade` again",
                self.file
            )
        };
        // The failing run is `Failed`; later runs refusing because of the mark are `Dirty`.
        Error::Migration(MigrationError {
            kind: MigrationErrorKind::Failed,
            version: Some(version),
            message,
        })
    }

    fn record_failed(&self, e: Error) -> Error {
        Error::Migration(MigrationError {
            kind: MigrationErrorKind::Failed,
            version: Some(self.migration.version),
            message: format!(
                "{} ran but recording it in the migrations table failed: {e}; it was rolled back. Fix: check the migrations table (sql.migrations.table)",
                self.script_name()
            ),
        })
    }
}

fn elapsed_ms(started: Instant) -> i64 {
    i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX)
}
