//! Where migrations come from: a directory of `.sql` files, or files embedded in the binary.
//!
//! A migration is a pair of files named `<version>_<name>.up.sql` and
//! `<version>_<name>.down.sql`. The version is a positive integer: `lexigram db create` makes
//! a UTC timestamp (`20261124130501`, `YYYYMMDDHHMMSS`), and zero-padded sequence numbers
//! (`0001_init.up.sql`) are accepted too. Migrations are applied in version order. The
//! `.down.sql` file is optional, but without it a migration cannot be reverted.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::checksum::{checksum, normalize};
use crate::error::{Error, MigrationError, MigrationErrorKind, Result};

/// First-line directive: run the migration outside a transaction (for statements such as
/// PostgreSQL's `CREATE INDEX CONCURRENTLY` or SQLite's `VACUUM`).
pub const NO_TRANSACTION: &str = "-- lexigram:no-transaction";

/// Directive: send the whole file as one batch instead of statement by statement.
pub const SINGLE_BATCH: &str = "-- lexigram:single-batch";

/// One migration: its version, name, and the text of its up and down scripts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migration {
    /// The version, from the file name.
    pub version: i64,
    /// The descriptive part of the file name (`add_users`).
    pub name: String,
    /// The `.up.sql` text, normalised (no BOM, LF line endings).
    pub up: String,
    /// The `.down.sql` text, if there is one.
    pub down: Option<String>,
    /// Checksum of the up script: SHA-256 of its normalised text (no BOM, LF line endings),
    /// as 64 lower-case hex digits.
    pub checksum: String,
    /// Where the up script came from (a path, or `embedded:<file>`), for messages.
    pub up_file: String,
    /// Where the down script came from.
    pub down_file: Option<String>,
}

impl Migration {
    /// True when `script` starts with the `-- lexigram:no-transaction` directive.
    pub fn no_transaction(script: &str) -> bool {
        has_directive(script, NO_TRANSACTION)
    }

    /// True when `script` has the `-- lexigram:single-batch` directive.
    pub fn single_batch(script: &str) -> bool {
        has_directive(script, SINGLE_BATCH)
    }
}

/// Directives live in the comment lines at the top of a script.
fn has_directive(script: &str, directive: &str) -> bool {
    script
        .lines()
        .map(str::trim)
        .take_while(|l| l.is_empty() || l.starts_with("--"))
        .any(|l| l.eq_ignore_ascii_case(directive))
}

/// An ordered set of migrations.
///
/// ```
/// use lexigram_sql::migrate::MigrationSource;
/// let source = MigrationSource::from_static(&[
///     ("0001_init.up.sql", "CREATE TABLE t (n INTEGER);"),
///     ("0001_init.down.sql", "DROP TABLE t;"),
///     ("0002_seed.up.sql", "INSERT INTO t VALUES (1);"),
/// ])?;
/// assert_eq!(source.migrations().len(), 2);
/// assert_eq!(source.migrations()[0].name, "init");
/// assert!(source.migrations()[1].down.is_none());
/// # Ok::<(), lexigram_sql::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MigrationSource {
    migrations: Vec<Migration>,
    origin: String,
}

impl MigrationSource {
    /// Reads every `<version>_<name>.up.sql` / `.down.sql` file of a directory. Other files
    /// are ignored, except `.sql` files with a malformed name, which are an error (a typo
    /// would otherwise silently skip a migration). A missing directory is an error naming
    /// `lexigram db init`.
    pub fn from_dir(dir: impl AsRef<Path>) -> Result<MigrationSource> {
        let dir = dir.as_ref();
        let entries = std::fs::read_dir(dir).map_err(|e| {
            invalid(format!(
                "cannot read the migrations directory {}: {e}. Fix: create it with `lexigram db init {}` or point `sql.migrations.dir` / `--dir` at it",
                dir.display(),
                dir.display()
            ))
        })?;
        let mut files: Vec<(String, String, String)> = Vec::new();
        for entry in entries {
            let entry =
                entry.map_err(|e| invalid(format!("cannot list {}: {e}", dir.display())))?;
            let path: PathBuf = entry.path();
            let Some(file_name) = path
                .file_name()
                .and_then(|n| n.to_str())
                .map(str::to_string)
            else {
                continue;
            };
            if !file_name.ends_with(".sql") || !path.is_file() {
                continue;
            }
            let text = std::fs::read_to_string(&path)
                .map_err(|e| invalid(format!("cannot read {}: {e}", path.display())))?;
            files.push((file_name, path.display().to_string(), text));
        }
        MigrationSource::build(files, dir.display().to_string())
    }

    /// Migrations given as `(file name, text)` pairs, e.g. embedded with `include_str!` — see
    /// [`embed_migrations!`](crate::embed_migrations). Only the last path component of each
    /// name is used.
    pub fn from_static(files: &[(&str, &str)]) -> Result<MigrationSource> {
        let files = files
            .iter()
            .map(|(name, text)| {
                let file = name.rsplit(['/', '\\']).next().unwrap_or(name).to_string();
                let label = format!("embedded:{file}");
                (file, label, (*text).to_string())
            })
            .collect();
        MigrationSource::build(files, "embedded migrations".to_string())
    }

    fn build(files: Vec<(String, String, String)>, origin: String) -> Result<MigrationSource> {
        // version → (name, up, down)
        type Slot = (String, Option<(String, String)>, Option<(String, String)>);
        let mut by_version: BTreeMap<i64, Slot> = BTreeMap::new();
        for (file, label, text) in files {
            let (version, name, up) = parse_file_name(&file)?;
            let slot = by_version
                .entry(version)
                .or_insert_with(|| (name.clone(), None, None));
            if slot.0 != name {
                return Err(invalid_version(
                    version,
                    format!(
                        "version {version} is used by two migrations (`{}` and `{name}`). Fix: give each migration its own version",
                        slot.0
                    ),
                ));
            }
            let target = if up { &mut slot.1 } else { &mut slot.2 };
            *target = Some((label, normalize(&text)));
        }
        let mut migrations = Vec::with_capacity(by_version.len());
        for (version, (name, up, down)) in by_version {
            let Some((up_file, up)) = up else {
                return Err(invalid_version(
                    version,
                    format!(
                        "migration {version}_{name} has a .down.sql file but no {version}_{name}.up.sql. Fix: add the up script or remove the down script"
                    ),
                ));
            };
            let (down_file, down) = match down {
                Some((f, d)) => (Some(f), Some(d)),
                None => (None, None),
            };
            migrations.push(Migration {
                version,
                name,
                checksum: checksum(&up),
                up,
                down,
                up_file,
                down_file,
            });
        }
        Ok(MigrationSource { migrations, origin })
    }

    /// The migrations, ordered by version.
    pub fn migrations(&self) -> &[Migration] {
        &self.migrations
    }

    /// The migration with this version.
    pub fn get(&self, version: i64) -> Option<&Migration> {
        self.migrations
            .binary_search_by_key(&version, |m| m.version)
            .ok()
            .map(|i| &self.migrations[i])
    }

    /// Where the migrations came from (a directory, or `embedded migrations`).
    pub fn origin(&self) -> &str {
        &self.origin
    }
}

/// Parses `<version>_<name>.up.sql` / `.down.sql` into (version, name, is_up).
///
/// ```
/// use lexigram_sql::migrate::internal::parse_file_name;
/// assert_eq!(parse_file_name("20261124130501_add_users.up.sql")?, (20261124130501, "add_users".into(), true));
/// assert_eq!(parse_file_name("0002_seed.down.sql")?, (2, "seed".into(), false));
/// assert!(parse_file_name("add_users.sql").is_err());
/// # Ok::<(), lexigram_sql::Error>(())
/// ```
pub fn parse_file_name(file: &str) -> Result<(i64, String, bool)> {
    let malformed = || {
        invalid(format!(
            "`{file}` is not a migration file name. Fix: name it `<version>_<name>.up.sql` or `<version>_<name>.down.sql` (e.g. `20261124130501_add_users.up.sql`; `lexigram db create <name>` makes both)"
        ))
    };
    let (stem, up) = if let Some(s) = file.strip_suffix(".up.sql") {
        (s, true)
    } else if let Some(s) = file.strip_suffix(".down.sql") {
        (s, false)
    } else {
        return Err(malformed());
    };
    let (digits, name) = stem.split_once('_').ok_or_else(malformed)?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) || name.is_empty() {
        return Err(malformed());
    }
    let version: i64 = digits.parse().map_err(|_| malformed())?;
    if version <= 0 {
        return Err(malformed());
    }
    Ok((version, name.to_string(), up))
}

pub(crate) fn invalid(message: String) -> Error {
    Error::Migration(MigrationError {
        kind: MigrationErrorKind::Invalid,
        version: None,
        message,
    })
}

pub(crate) fn invalid_version(version: i64, message: String) -> Error {
    Error::Migration(MigrationError {
        kind: MigrationErrorKind::Invalid,
        version: Some(version),
        message,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directives_only_in_the_header() {
        assert!(Migration::no_transaction(
            "-- lexigram:no-transaction\nVACUUM;"
        ));
        assert!(Migration::no_transaction(
            "\n-- about\n-- LEXIGRAM:NO-TRANSACTION\nVACUUM;"
        ));
        assert!(!Migration::no_transaction(
            "VACUUM;\n-- lexigram:no-transaction"
        ));
    }

    #[test]
    fn pairs_and_errors() {
        let dup = MigrationSource::from_static(&[("1_a.up.sql", ""), ("1_b.up.sql", "")]);
        assert!(
            dup.unwrap_err()
                .to_string()
                .contains("used by two migrations")
        );
        let orphan = MigrationSource::from_static(&[("1_a.down.sql", "")]);
        assert!(orphan.unwrap_err().to_string().contains("no 1_a.up.sql"));
        let src =
            MigrationSource::from_static(&[("dir/0010_b.up.sql", "x"), ("0002_a.up.sql", "y")])
                .unwrap();
        assert_eq!(
            src.migrations()
                .iter()
                .map(|m| m.version)
                .collect::<Vec<_>>(),
            vec![2, 10]
        );
        assert_eq!(
            src.get(10).map(|m| m.up_file.as_str()),
            Some("embedded:0010_b.up.sql")
        );
    }
}
