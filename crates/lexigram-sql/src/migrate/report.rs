//! What a migration run did and where a database stands: reports, status, progress events.

use serde::Serialize;

use super::store::AppliedMigration;

/// Applying (up) or reverting (down).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Running `.up.sql` scripts.
    Up,
    /// Running `.down.sql` scripts.
    Down,
}

/// One migration applied or reverted by a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MigrationStep {
    /// Its version.
    pub version: i64,
    /// Its name.
    pub name: String,
    /// How long it took, in milliseconds (0 for a dry run).
    pub execution_ms: i64,
}

/// What an upgrade or downgrade did (or, for a dry run, would do).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MigrationReport {
    /// Up or down.
    pub direction: Direction,
    /// True when nothing was run (`--dry-run`): `steps` is the plan.
    pub dry_run: bool,
    /// The migrations run, in order.
    pub steps: Vec<MigrationStep>,
    /// Highest applied version afterwards (`None`: nothing applied).
    pub current_version: Option<i64>,
    /// Applied versions whose file is missing from the source (not fatal for an upgrade;
    /// `validate` fails on them).
    pub missing_files: Vec<i64>,
}

/// How one version stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum MigrationState {
    /// Applied, file unchanged.
    Applied,
    /// Has a file, not applied yet.
    Pending,
    /// Applied, but its file changed since (checksum mismatch).
    Changed,
    /// Recorded as applied, but there is no file for it any more.
    MissingFile,
    /// Failed halfway on a backend without transactional DDL; needs a manual fix and
    /// `lexigram db repair`.
    Dirty,
}

impl std::fmt::Display for MigrationState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            MigrationState::Applied => "applied",
            MigrationState::Pending => "pending",
            MigrationState::Changed => "CHANGED",
            MigrationState::MissingFile => "MISSING FILE",
            MigrationState::Dirty => "DIRTY",
        })
    }
}

/// One line of a status: a version, its name and its state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatusEntry {
    /// The version.
    pub version: i64,
    /// The name (from the file, else from the migrations table).
    pub name: String,
    /// Its state.
    pub state: MigrationState,
    /// The record, when applied.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub applied: Option<AppliedMigration>,
}

/// Where a database stands relative to a migration source.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> lexigram_sql::Result<()> {
/// use lexigram_sql::migrate::{MigrationSource, Migrator};
/// let db = lexigram_sql::Database::connect_url("sqlite://").await?;
/// let source = MigrationSource::from_static(&[("1_a.up.sql", "CREATE TABLE a (n INT);")])?;
/// let status = Migrator::new(&db, source).status().await?;
/// assert_eq!(status.current_version, None);
/// assert_eq!(status.pending().len(), 1);
/// assert!(status.is_clean());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MigrationStatus {
    /// Highest applied version, if any.
    pub current_version: Option<i64>,
    /// Every known version, ordered.
    pub entries: Vec<StatusEntry>,
}

impl MigrationStatus {
    fn versions(&self, state: MigrationState) -> Vec<i64> {
        self.entries
            .iter()
            .filter(|e| e.state == state)
            .map(|e| e.version)
            .collect()
    }

    /// Versions not applied yet.
    pub fn pending(&self) -> Vec<i64> {
        self.versions(MigrationState::Pending)
    }

    /// Versions left dirty by a failed run.
    pub fn dirty(&self) -> Vec<i64> {
        self.versions(MigrationState::Dirty)
    }

    /// Applied versions whose file changed.
    pub fn changed(&self) -> Vec<i64> {
        self.versions(MigrationState::Changed)
    }

    /// Applied versions without a file.
    pub fn missing_files(&self) -> Vec<i64> {
        self.versions(MigrationState::MissingFile)
    }

    /// True when nothing is dirty, changed or missing (pending migrations are fine).
    pub fn is_clean(&self) -> bool {
        self.entries
            .iter()
            .all(|e| matches!(e.state, MigrationState::Applied | MigrationState::Pending))
    }
}

/// What `repair` changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RepairReport {
    /// Dirty versions whose record was removed: the next upgrade applies them again.
    pub cleared_dirty: Vec<i64>,
    /// Applied versions whose recorded checksum was replaced by the file's current one.
    pub realigned: Vec<i64>,
}

/// Progress of a run, reported to [`super::Migrator::on_progress`] callbacks.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MigrationEvent {
    /// A migration is about to run.
    Started {
        /// Up or down.
        direction: Direction,
        /// Its version.
        version: i64,
        /// Its name.
        name: String,
        /// 1-based position in this run.
        index: usize,
        /// Number of migrations in this run.
        total: usize,
    },
    /// A migration finished successfully.
    Finished {
        /// Up or down.
        direction: Direction,
        /// Its version.
        version: i64,
        /// Its name.
        name: String,
        /// How long it took, in milliseconds.
        execution_ms: i64,
        /// 1-based position in this run.
        index: usize,
        /// Number of migrations in this run.
        total: usize,
    },
}
