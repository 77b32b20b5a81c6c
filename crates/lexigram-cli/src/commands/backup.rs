//! `backup --output FILE`: `pg_dump` (custom format), `mariadb-dump` (SQL text), or SQLite's
//! online backup API. Written to `FILE.partial` and renamed when complete, so a failed backup
//! never leaves a truncated FILE behind.

use std::path::{Path, PathBuf};
use std::process::{ExitCode, Stdio};

use super::client::{self, Login, OptionsFile};
use super::{print_json, target};
use crate::CliError;
use crate::args::GlobalArgs;
use crate::progress::Ticker;

fn partial_of(output: &Path) -> PathBuf {
    let mut name = output.as_os_str().to_owned();
    name.push(".partial");
    PathBuf::from(name)
}

fn io_error(what: &str, path: &Path, e: impl std::fmt::Display) -> CliError {
    CliError::Message(format!(
        "cannot {what} {}: {e}. Fix: check the path and its permissions",
        path.display()
    ))
}

/// SQLite's online backup API: a consistent copy while other connections keep working.
fn sqlite_backup(db_file: &Path, out: &Path) -> Result<(), CliError> {
    if !db_file.is_file() {
        return Err(CliError::Message(format!(
            "there is no SQLite database file at {}. Fix: check --url (sqlite:///relative.db, sqlite:////absolute.db)",
            db_file.display()
        )));
    }
    let src =
        rusqlite::Connection::open_with_flags(db_file, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(|e| io_error("open", db_file, e))?;
    src.backup("main", out, None)
        .map_err(|e| io_error("back up the database to", out, e))
}

fn pg_backup(login: &Login, out: &Path) -> Result<(), CliError> {
    let Login::Postgres { uri, schema, .. } = login else {
        return Ok(());
    };
    let tool = client::find_tool(&["pg_dump"], "postgresql-client")?;
    let mut cmd = client::command(&tool, login);
    cmd.args(["--format=custom", "--no-owner", "--no-privileges"]);
    if let Some(schema) = schema {
        cmd.arg(format!("--schema={schema}"));
    }
    cmd.arg(format!("--file={}", out.display()));
    cmd.arg(format!("--dbname={uri}"));
    client::run(cmd, Stdio::null(), login, "the backup")?;
    Ok(())
}

fn mysql_backup(login: &Login, out: &Path) -> Result<(), CliError> {
    let Login::MySql {
        options, database, ..
    } = login
    else {
        return Ok(());
    };
    let tool = client::find_tool(&["mariadb-dump", "mysqldump"], "mariadb-client")?;
    let file = OptionsFile::write(options)?;
    let mut cmd = client::command(&tool, login);
    cmd.arg(file.arg()).args([
        "--single-transaction",
        "--routines",
        "--triggers",
        "--hex-blob",
        "--no-tablespaces",
        "--default-character-set=utf8mb4",
    ]);
    cmd.arg(format!("--result-file={}", out.display()));
    cmd.arg("--").arg(database);
    client::run(cmd, Stdio::null(), login, "the backup")?;
    Ok(())
}

/// `lexigram db backup --output FILE`
pub(crate) async fn run(global: &GlobalArgs, output: &Path) -> Result<ExitCode, CliError> {
    let (backend, _) = target(global)?;
    let login = Login::of(&backend)?;
    let partial = partial_of(output);
    let _ = std::fs::remove_file(&partial);
    let ticker = Ticker::start(
        format!("Backing up {}", backend.url),
        Some(partial.clone()),
        !global.quiet && !global.json,
    );
    let result = match &login {
        Login::Sqlite(path) => sqlite_backup(path, &partial),
        Login::Postgres { .. } => pg_backup(&login, &partial),
        Login::MySql { .. } => mysql_backup(&login, &partial),
    };
    drop(ticker);
    if let Err(e) = result {
        let _ = std::fs::remove_file(&partial);
        return Err(e);
    }
    std::fs::rename(&partial, output).map_err(|e| io_error("write", output, e))?;
    let bytes = std::fs::metadata(output).map(|m| m.len()).unwrap_or(0);
    if global.json {
        print_json(&serde_json::json!({
            "backend": backend.url.kind().name(),
            "output": output.display().to_string(),
            "bytes": bytes,
        }))?;
    } else if !global.quiet {
        println!(
            "Backed up {} to {} ({bytes} bytes).",
            backend.url,
            output.display()
        );
        println!(
            "Restore it with `lexigram db restore {}`.",
            output.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}
