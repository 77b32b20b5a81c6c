//! [`Migrator`]: upgrade, downgrade, status, validate, repair, history and reset.

use std::sync::Arc;
use std::time::Duration;

use super::apply::{no_down, run_step};
use super::lock::MigrationLock;
use super::plan::{check_applied, missing_file, status_of};
use super::report::{
    Direction, MigrationEvent, MigrationReport, MigrationStatus, MigrationStep, RepairReport,
};
use super::source::{Migration, MigrationSource, invalid_version};
use super::store::{AppliedMigration, Store};
use crate::database::{Database, Executor};
use crate::error::Result;

/// How far to revert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DowngradeTarget {
    /// Only the most recently applied migration (the default).
    Last,
    /// The last `n` applied migrations.
    Steps(usize),
    /// Every applied migration above this version; the version itself stays applied
    /// (`To(0)` reverts everything).
    To(i64),
}

type ProgressFn = Arc<dyn Fn(&MigrationEvent) + Send + Sync>;

/// Applies and reverts the migrations of a [`MigrationSource`] on one [`Database`].
///
/// The migrations table and the lock timeout come from the backend's `migrations` settings
/// (`sql.migrations.table`, `sql.migrations.lock_timeout`) and can be overridden.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> lexigram_sql::Result<()> {
/// use lexigram_sql::migrate::{DowngradeTarget, MigrationSource, Migrator};
/// let db = lexigram_sql::Database::connect_url("sqlite://").await?;
/// let source = MigrationSource::from_static(&[
///     ("0001_users.up.sql", "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);"),
///     ("0001_users.down.sql", "DROP TABLE users;"),
///     ("0002_seed.up.sql", "INSERT INTO users (name) VALUES ('ada');"),
///     ("0002_seed.down.sql", "DELETE FROM users;"),
/// ])?;
/// let migrator = Migrator::new(&db, source);
/// let report = migrator.upgrade(None).await?;
/// assert_eq!(report.steps.len(), 2);
/// assert_eq!(report.current_version, Some(2));
/// let report = migrator.downgrade(DowngradeTarget::Last).await?;
/// assert_eq!(report.current_version, Some(1));
/// assert_eq!(migrator.status().await?.pending(), vec![2]);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Migrator {
    db: Database,
    source: MigrationSource,
    table: String,
    lock_timeout: Duration,
    progress: Option<ProgressFn>,
}

impl std::fmt::Debug for Migrator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Migrator")
            .field("database", &self.db.name())
            .field("source", &self.source.origin())
            .field("table", &self.table)
            .field("lock_timeout", &self.lock_timeout)
            .finish_non_exhaustive()
    }
}

impl Migrator {
    /// A migrator for `source` on `db`, with the backend's `migrations` settings.
    pub fn new(db: &Database, source: MigrationSource) -> Migrator {
        let settings = &db.settings().migrations;
        Migrator {
            // Migrations read their own table and the schema: on the primary, never a replica.
            db: db.primary(),
            source,
            table: settings.table.clone(),
            lock_timeout: settings.lock_timeout,
            progress: None,
        }
    }

    /// Uses another migrations table.
    pub fn with_table(mut self, table: impl Into<String>) -> Migrator {
        self.table = table.into();
        self
    }

    /// Waits at most this long for the migration lock.
    pub fn with_lock_timeout(mut self, timeout: Duration) -> Migrator {
        self.lock_timeout = timeout;
        self
    }

    /// Calls `f` before and after each migration of a run (for progress output).
    pub fn on_progress(mut self, f: impl Fn(&MigrationEvent) + Send + Sync + 'static) -> Migrator {
        self.progress = Some(Arc::new(f));
        self
    }

    /// The migrations this migrator knows.
    pub fn source(&self) -> &MigrationSource {
        &self.source
    }

    fn store(&self) -> Result<Store> {
        Store::new(&Executor::from(&self.db), &self.table)
    }

    fn emit(&self, event: MigrationEvent) {
        if let Some(f) = &self.progress {
            f(&event);
        }
    }

    /// Every recorded migration, oldest version first (empty before the first upgrade).
    pub async fn applied(&self) -> Result<Vec<AppliedMigration>> {
        self.store()?.list(&Executor::from(&self.db)).await
    }

    /// Where the database stands: applied, pending, dirty, changed, missing files.
    pub async fn status(&self) -> Result<MigrationStatus> {
        Ok(status_of(&self.source, &self.applied().await?))
    }

    /// Applied migrations, most recently applied first, at most `limit` of them.
    pub async fn history(&self, limit: Option<usize>) -> Result<Vec<AppliedMigration>> {
        let mut applied = self.applied().await?;
        applied.sort_by(|a, b| {
            b.applied_at
                .cmp(&a.applied_at)
                .then(b.version.cmp(&a.version))
        });
        applied.truncate(limit.unwrap_or(usize::MAX));
        Ok(applied)
    }

    /// Fails on the first problem: a dirty version, an applied migration whose file changed
    /// (checksum mismatch), or an applied version without a file. Pending migrations are fine.
    pub async fn validate(&self) -> Result<MigrationStatus> {
        let applied = self.applied().await?;
        check_applied(&self.source, &applied, true)?;
        Ok(status_of(&self.source, &applied))
    }

    /// What [`Migrator::upgrade`] would apply, without applying anything or taking the lock.
    pub async fn plan_upgrade(&self, to: Option<i64>) -> Result<MigrationReport> {
        let applied = self.applied().await?;
        check_applied(&self.source, &applied, false)?;
        let pending = self.pending(&applied, to)?;
        let status = status_of(&self.source, &applied);
        Ok(MigrationReport {
            direction: Direction::Up,
            dry_run: true,
            steps: pending
                .iter()
                .map(|m| MigrationStep {
                    version: m.version,
                    name: m.name.clone(),
                    execution_ms: 0,
                })
                .collect(),
            current_version: status.current_version,
            missing_files: status.missing_files(),
        })
    }

    fn pending(&self, applied: &[AppliedMigration], to: Option<i64>) -> Result<Vec<&Migration>> {
        if let Some(target) = to {
            let known =
                self.source.get(target).is_some() || applied.iter().any(|a| a.version == target);
            if !known {
                return Err(invalid_version(
                    target,
                    format!(
                        "there is no migration with version {target} in {}. Fix: use a version listed by `lexigram db status`",
                        self.source.origin()
                    ),
                ));
            }
        }
        Ok(self
            .source
            .migrations()
            .iter()
            .filter(|m| !applied.iter().any(|a| a.version == m.version))
            .filter(|m| to.is_none_or(|t| m.version <= t))
            .collect())
    }

    /// Applies pending migrations in version order (up to and including `to`), under the
    /// migration lock, each in its own transaction where the backend allows. Refuses to run
    /// while a version is dirty or an applied file has changed.
    pub async fn upgrade(&self, to: Option<i64>) -> Result<MigrationReport> {
        let store = self.store()?;
        let mut lock = MigrationLock::acquire(&self.db, &self.table, self.lock_timeout).await?;
        let result = self.upgrade_locked(&store, &mut lock, to).await;
        finish(lock, result).await
    }

    async fn upgrade_locked(
        &self,
        store: &Store,
        lock: &mut MigrationLock,
        to: Option<i64>,
    ) -> Result<MigrationReport> {
        store.ensure(&lock.executor()).await?;
        let applied = store.list(&lock.executor()).await?;
        check_applied(&self.source, &applied, false)?;
        let pending = self.pending(&applied, to)?;
        let missing_files = status_of(&self.source, &applied).missing_files();
        for version in &missing_files {
            tracing::warn!(version, source = %self.source.origin(), "applied migration has no file");
        }
        let steps = self.run(store, lock, &pending, Direction::Up).await?;
        let current = store.last_version(&lock.executor()).await?;
        Ok(MigrationReport {
            direction: Direction::Up,
            dry_run: false,
            steps,
            current_version: current,
            missing_files,
        })
    }

    async fn run(
        &self,
        store: &Store,
        lock: &mut MigrationLock,
        migrations: &[&Migration],
        direction: Direction,
    ) -> Result<Vec<MigrationStep>> {
        let total = migrations.len();
        let mut steps = Vec::with_capacity(total);
        for (i, m) in migrations.iter().enumerate() {
            let (version, name, index) = (m.version, m.name.clone(), i + 1);
            self.emit(MigrationEvent::Started {
                direction,
                version,
                name: name.clone(),
                index,
                total,
            });
            let execution_ms = run_step(&self.db, store, lock, m, direction).await?;
            tracing::debug!(version, name = %name, ?direction, execution_ms, "migration done");
            self.emit(MigrationEvent::Finished {
                direction,
                version,
                name: name.clone(),
                execution_ms,
                index,
                total,
            });
            steps.push(MigrationStep {
                version,
                name,
                execution_ms,
            });
        }
        Ok(steps)
    }

    /// Reverts applied migrations, newest first, with their `.down.sql` scripts.
    pub async fn downgrade(&self, target: DowngradeTarget) -> Result<MigrationReport> {
        let store = self.store()?;
        let mut lock = MigrationLock::acquire(&self.db, &self.table, self.lock_timeout).await?;
        let result = self.downgrade_locked(&store, &mut lock, target).await;
        finish(lock, result).await
    }

    async fn downgrade_locked(
        &self,
        store: &Store,
        lock: &mut MigrationLock,
        target: DowngradeTarget,
    ) -> Result<MigrationReport> {
        store.ensure(&lock.executor()).await?;
        let applied = store.list(&lock.executor()).await?;
        check_applied(&self.source, &applied, false)?;
        let newest_first: Vec<&AppliedMigration> = applied.iter().rev().collect();
        let chosen: Vec<&AppliedMigration> = match target {
            DowngradeTarget::Last => newest_first.into_iter().take(1).collect(),
            DowngradeTarget::Steps(n) => newest_first.into_iter().take(n).collect(),
            DowngradeTarget::To(v) => {
                if v != 0 && !applied.iter().any(|a| a.version == v) {
                    return Err(invalid_version(
                        v,
                        format!(
                            "version {v} is not applied, so it cannot be the downgrade target. Fix: pick an applied version from `lexigram db status`, or 0 to revert everything"
                        ),
                    ));
                }
                newest_first.into_iter().filter(|a| a.version > v).collect()
            }
        };
        let mut migrations = Vec::with_capacity(chosen.len());
        for a in chosen {
            let m = self
                .source
                .get(a.version)
                .ok_or_else(|| missing_file(a, &self.source))?;
            if m.down.is_none() {
                return Err(no_down(m));
            }
            migrations.push(m);
        }
        let steps = self.run(store, lock, &migrations, Direction::Down).await?;
        let current = store.last_version(&lock.executor()).await?;
        let missing_files = status_of(&self.source, &applied).missing_files();
        Ok(MigrationReport {
            direction: Direction::Down,
            dry_run: false,
            steps,
            current_version: current,
            missing_files,
        })
    }

    /// After a manual fix: removes the records of dirty versions (the next upgrade applies
    /// them again, so the fix must undo what the failed run did) and accepts edited files of
    /// applied migrations by recording their current checksums.
    pub async fn repair(&self) -> Result<RepairReport> {
        let store = self.store()?;
        let lock = MigrationLock::acquire(&self.db, &self.table, self.lock_timeout).await?;
        let result = async {
            let ex = lock.executor();
            store.ensure(&ex).await?;
            let mut report = RepairReport::default();
            for a in store.list(&ex).await? {
                if a.dirty {
                    store.delete(&ex, a.version).await?;
                    report.cleared_dirty.push(a.version);
                } else if let Some(m) = self
                    .source
                    .get(a.version)
                    .filter(|m| m.checksum != a.checksum)
                {
                    store.set_checksum(&ex, a.version, &m.checksum).await?;
                    report.realigned.push(a.version);
                }
            }
            Ok(report)
        }
        .await;
        finish(lock, result).await
    }

    /// Reverts every applied migration (newest first) and applies them all again: a fresh
    /// schema from the files. Every applied migration needs a `.down.sql`.
    pub async fn reset(&self) -> Result<(MigrationReport, MigrationReport)> {
        let down = self.downgrade(DowngradeTarget::To(0)).await?;
        let up = self.upgrade(None).await?;
        Ok((down, up))
    }
}

/// Releases the lock whatever happened; the run's error wins over a release error.
async fn finish<T>(lock: MigrationLock, result: Result<T>) -> Result<T> {
    let released = lock.release().await;
    let value = result?;
    released?;
    Ok(value)
}
