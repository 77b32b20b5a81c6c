//! Migrations: plain SQL files applied in version order, recorded in a table, under a lock.
//!
//! **Files.** `migrations/<version>_<name>.up.sql` and `<version>_<name>.down.sql`.
//! `lexigram db create <name>` makes a UTC timestamp version (`20261124130501_add_users`);
//! zero-padded sequence numbers (`0001_init`) work too. Versions are applied in numeric order.
//!
//! **Record.** Applied migrations are rows of `schema_migrations` (`sql.migrations.table`):
//! version, name, checksum, applied_at, execution_ms and a dirty flag. The checksum is a
//! SHA-256 of the up script with CRLF line endings and a UTF-8 BOM ignored; an applied file
//! that changed afterwards makes `upgrade` and `validate` fail naming the version.
//!
//! **Lock.** A run holds a lock for its whole length (PostgreSQL advisory lock, MySQL
//! `GET_LOCK`, SQLite `BEGIN IMMEDIATE`), waiting at most `sql.migrations.lock_timeout`, so
//! migrators running at once apply each migration exactly once.
//!
//! **Transactions.** On PostgreSQL and SQLite each migration runs in its own transaction: a
//! failing statement rolls the whole migration back, nothing is recorded, and the error names
//! the file, the statement and its line. MySQL/MariaDB cannot roll back DDL: a migration is
//! recorded *dirty* before it runs and marked clean after; if it fails, it stays dirty and
//! every later run refuses until the schema is fixed by hand and `lexigram db repair` is run.
//! A script whose first lines hold `-- lexigram:no-transaction` runs outside a transaction
//! (for `CREATE INDEX CONCURRENTLY`, `VACUUM`, …) with the same dirty marking.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> lexigram_sql::Result<()> {
//! use lexigram_sql::migrate::MigrationSource;
//! let db = lexigram_sql::Database::connect_url("sqlite://").await?;
//! let source = MigrationSource::from_static(&[
//!     ("20261124130501_add_users.up.sql", "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL);"),
//!     ("20261124130501_add_users.down.sql", "DROP TABLE users;"),
//! ])?;
//! let report = db.migrate(&source).await?;
//! assert_eq!(report.steps.len(), 1);
//! db.execute("INSERT INTO users (name) VALUES ('ada')", &[]).await?;
//! assert!(db.migrate(&source).await?.steps.is_empty()); // already applied
//! # Ok(()) }
//! ```

mod apply;
mod checksum;
mod lock;
mod plan;
mod report;
mod runner;
mod source;
mod store;

pub use report::{
    Direction, MigrationEvent, MigrationReport, MigrationState, MigrationStatus, MigrationStep,
    RepairReport, StatusEntry,
};
pub use runner::{DowngradeTarget, Migrator};
pub use source::{Migration, MigrationSource, NO_TRANSACTION, SINGLE_BATCH};
pub use store::AppliedMigration;

/// Pieces of the migration engine that the `lexigram` CLI reuses (seed files are checksummed
/// and split into statements like migrations). Not part of the stable API: they may change in
/// any release.
#[doc(hidden)]
pub mod internal {
    pub use super::checksum::{checksum, normalize};
    pub use super::source::parse_file_name;
    pub use crate::backend::{Statement, split_statements};
}

use crate::database::Database;
use crate::error::Result;

impl Database {
    /// Applies every pending migration of `source` (auto-migrate), with this backend's
    /// `migrations` settings; see [`Migrator`] for everything else (downgrade, status, …).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> lexigram_sql::Result<()> {
    /// use lexigram_sql::migrate::MigrationSource;
    /// let db = lexigram_sql::Database::connect_url("sqlite://").await?;
    /// let source = MigrationSource::from_static(&[("0001_t.up.sql", "CREATE TABLE t (n INTEGER);")])?;
    /// assert_eq!(db.migrate(&source).await?.current_version, Some(1));
    /// # Ok(()) }
    /// ```
    pub async fn migrate(&self, source: &MigrationSource) -> Result<MigrationReport> {
        Migrator::new(self, source.clone()).upgrade(None).await
    }
}
