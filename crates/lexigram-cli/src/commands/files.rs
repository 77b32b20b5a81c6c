//! `init` and `create`: the migrations directory and new migration files (no database).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use lexigram_sql::migrate::MigrationSource;

use super::{print_json, target};
use crate::CliError;
use crate::args::GlobalArgs;

fn io_error(what: &str, path: &Path, e: std::io::Error) -> CliError {
    CliError::Message(format!(
        "cannot {what} {}: {e}. Fix: check the path and its permissions",
        path.display()
    ))
}

/// The directory to use without loading the database configuration when `--dir` is given.
pub(crate) fn dir_of(global: &GlobalArgs, explicit: Option<PathBuf>) -> Result<PathBuf, CliError> {
    if let Some(dir) = explicit.or_else(|| global.dir.clone()) {
        return Ok(dir);
    }
    Ok(target(global)?.1)
}

/// `lexigram db init [dir]`
pub(crate) fn init(global: &GlobalArgs, dir: Option<PathBuf>) -> Result<ExitCode, CliError> {
    let dir = dir_of(global, dir)?;
    let existed = dir.is_dir();
    std::fs::create_dir_all(&dir).map_err(|e| io_error("create", &dir, e))?;
    if global.json {
        print_json(&serde_json::json!({ "dir": dir.display().to_string(), "created": !existed }))?;
    } else if existed && !global.quiet {
        println!("Migrations directory {} already exists.", dir.display());
    } else if !existed && !global.quiet {
        println!("Created migrations directory {}.", dir.display());
        println!("Next: `lexigram db create <name>` makes your first migration.");
    }
    Ok(ExitCode::SUCCESS)
}

/// Checks a migration name; `-` and spaces become `_`.
fn clean_name(name: &str) -> Result<String, CliError> {
    let cleaned: String = name
        .trim()
        .chars()
        .map(|c| if c == '-' || c == ' ' { '_' } else { c })
        .collect();
    if cleaned.is_empty()
        || !cleaned
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return Err(CliError::Message(format!(
            "`{name}` is not a valid migration name. Fix: use letters, digits and `_`, e.g. `add_users`"
        )));
    }
    Ok(cleaned)
}

/// The two files of a new migration.
pub(crate) struct NewPair {
    /// Its version (a UTC timestamp).
    pub version: i64,
    /// Its cleaned name.
    pub name: String,
    /// The `.up.sql` file.
    pub up: PathBuf,
    /// The `.down.sql` file.
    pub down: PathBuf,
}

/// Writes `<version>_<name>.up.sql` / `.down.sql` with the given bodies under a header
/// comment; the version is the current UTC time, bumped past any existing version.
pub(crate) fn write_pair(
    global: &GlobalArgs,
    name: &str,
    up_body: &str,
    down_body: &str,
) -> Result<NewPair, CliError> {
    let name = clean_name(name)?;
    let dir = dir_of(global, None)?;
    std::fs::create_dir_all(&dir).map_err(|e| io_error("create", &dir, e))?;
    let existing = MigrationSource::from_dir(&dir)?;
    // UTC timestamp; bumped when a migration was already created in the same second.
    let mut version: i64 = chrono::Utc::now()
        .format("%Y%m%d%H%M%S")
        .to_string()
        .parse()
        .unwrap_or(1);
    let latest = existing.migrations().last().map_or(0, |m| m.version);
    if version <= latest && latest >= 10_000_000_000_000 {
        version = latest + 1;
    }
    while existing.get(version).is_some() {
        version += 1;
    }
    let up = dir.join(format!("{version}_{name}.up.sql"));
    let down = dir.join(format!("{version}_{name}.down.sql"));
    let up_text = format!(
        "-- Migration {version}_{name}: the change.\n-- Write SQL statements separated by `;`. Add `-- lexigram:no-transaction` as the first\n-- line for statements that cannot run inside a transaction.\n\n{up_body}"
    );
    let down_text =
        format!("-- Migration {version}_{name}: undo what the .up.sql file does.\n\n{down_body}");
    for (path, text) in [(&up, up_text), (&down, down_text)] {
        std::fs::write(path, text).map_err(|e| io_error("write", path, e))?;
    }
    Ok(NewPair {
        version,
        name,
        up,
        down,
    })
}

/// Prints what [`write_pair`] created.
pub(crate) fn print_pair(global: &GlobalArgs, pair: &NewPair, next: &str) -> Result<(), CliError> {
    if global.json {
        print_json(&serde_json::json!({
            "version": pair.version,
            "name": pair.name,
            "up": pair.up.display().to_string(),
            "down": pair.down.display().to_string(),
        }))?;
    } else if !global.quiet {
        println!("Created {}", pair.up.display());
        println!("Created {}", pair.down.display());
        println!("{next}");
    }
    Ok(())
}

/// `lexigram db create <name>`
pub(crate) fn create(global: &GlobalArgs, name: &str) -> Result<ExitCode, CliError> {
    let pair = write_pair(global, name, "", "")?;
    print_pair(
        global,
        &pair,
        "Next: write the change in the .up.sql file and its undo in the .down.sql file, then `lexigram db upgrade`.",
    )?;
    Ok(ExitCode::SUCCESS)
}
