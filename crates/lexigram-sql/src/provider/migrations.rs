//! Applying migrations on boot.

use std::path::PathBuf;

use crate::database::Database;
use crate::error::Error;
use crate::migrate::MigrationSource;

/// Where boot-time migrations come from.
#[derive(Debug, Clone)]
pub(super) enum BootMigrations {
    /// A directory of `.sql` files, read at boot.
    Dir(PathBuf),
    /// Migrations already loaded (e.g. embedded with `embed_migrations!`).
    Source(MigrationSource),
}

impl BootMigrations {
    /// Applies the pending migrations to `db`.
    pub(super) async fn apply(&self, db: &Database) -> Result<(), Error> {
        let source = match self {
            BootMigrations::Dir(dir) => {
                tracing::debug!(backend = %db.name(), dir = %dir.display(), "applying migrations on boot");
                MigrationSource::from_dir(dir)?
            }
            BootMigrations::Source(source) => {
                tracing::debug!(backend = %db.name(), source = %source.origin(), "applying migrations on boot");
                source.clone()
            }
        };
        let report = db.migrate(&source).await?;
        tracing::debug!(
            backend = %db.name(),
            applied = report.steps.len(),
            current_version = ?report.current_version,
            "migrations applied on boot"
        );
        Ok(())
    }
}
