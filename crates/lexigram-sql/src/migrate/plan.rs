//! Comparing the migrations table with the source: status entries and the checks that make
//! an upgrade refuse (dirty versions, changed files) or `validate` fail (also missing files).

use super::report::{MigrationState, MigrationStatus, StatusEntry};
use super::source::MigrationSource;
use super::store::AppliedMigration;
use crate::error::{Error, MigrationError, MigrationErrorKind, Result};

/// Merges source and records into one entry per version.
pub(crate) fn status_of(source: &MigrationSource, applied: &[AppliedMigration]) -> MigrationStatus {
    let mut entries: Vec<StatusEntry> = Vec::new();
    for a in applied {
        let state = match source.get(a.version) {
            _ if a.dirty => MigrationState::Dirty,
            None => MigrationState::MissingFile,
            Some(m) if m.checksum != a.checksum => MigrationState::Changed,
            Some(_) => MigrationState::Applied,
        };
        let name = source
            .get(a.version)
            .map_or_else(|| a.name.clone(), |m| m.name.clone());
        entries.push(StatusEntry {
            version: a.version,
            name,
            state,
            applied: Some(a.clone()),
        });
    }
    for m in source.migrations() {
        if !applied.iter().any(|a| a.version == m.version) {
            entries.push(StatusEntry {
                version: m.version,
                name: m.name.clone(),
                state: MigrationState::Pending,
                applied: None,
            });
        }
    }
    entries.sort_by_key(|e| e.version);
    let current_version = applied.iter().filter(|a| !a.dirty).map(|a| a.version).max();
    MigrationStatus {
        current_version,
        entries,
    }
}

/// Fails on a dirty version or a changed file; with `strict`, also on a missing file.
pub(crate) fn check_applied(
    source: &MigrationSource,
    applied: &[AppliedMigration],
    strict: bool,
) -> Result<()> {
    if let Some(a) = applied.iter().find(|a| a.dirty) {
        return Err(dirty_error(a));
    }
    for a in applied {
        match source.get(a.version) {
            Some(m) if m.checksum != a.checksum => {
                return Err(Error::Migration(MigrationError {
                    kind: MigrationErrorKind::ChecksumMismatch,
                    version: Some(a.version),
                    message: format!(
                        "migration {} ({}) was changed after it was applied: {} has checksum {} but {} was recorded when it ran (line endings and a BOM do not count). Fix: undo the edit and put the change in a new migration (`lexigram db create <name>`); if the edit is intended and the schema already matches it, run `lexigram db repair` to accept it",
                        a.version,
                        a.name,
                        m.up_file,
                        short(&m.checksum),
                        short(&a.checksum)
                    ),
                }));
            }
            None if strict => return Err(missing_file(a, source)),
            _ => {}
        }
    }
    Ok(())
}

fn short(checksum: &str) -> &str {
    checksum.get(..12).unwrap_or(checksum)
}

/// The refusal while a version is dirty.
pub(crate) fn dirty_error(a: &AppliedMigration) -> Error {
    Error::Migration(MigrationError {
        kind: MigrationErrorKind::Dirty,
        version: Some(a.version),
        message: format!(
            "version {} ({}) is dirty: an earlier run failed halfway through it outside a transaction, so the schema may be partly changed; refusing to continue. Fix: repair the schema by hand (undo what {}_{} did), then run `lexigram db repair` to clear the mark, then `lexigram db upgrade`",
            a.version, a.name, a.version, a.name
        ),
    })
}

/// An applied version whose file is gone.
pub(crate) fn missing_file(a: &AppliedMigration, source: &MigrationSource) -> Error {
    Error::Migration(MigrationError {
        kind: MigrationErrorKind::MissingFile,
        version: Some(a.version),
        message: format!(
            "version {} ({}) is applied but has no file in {}. Fix: restore {}_{}.up.sql/.down.sql from version control",
            a.version,
            a.name,
            source.origin(),
            a.version,
            a.name
        ),
    })
}
