//! `restore FILE [--force]`: loads a backup made by `db backup` into the configured database,
//! refusing when the database already holds data unless `--force` is given.

use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::process::{ExitCode, Stdio};

use lexigram_sql::Database;
use lexigram_sql::config::BackendKind;

use super::client::{self, Login, OptionsFile};
use super::{live_schema, print_json, target};
use crate::args::GlobalArgs;
use crate::progress::Ticker;
use crate::{CliError, ddl};

const SQLITE_MAGIC: &[u8] = b"SQLite format 3\0";
const PG_MAGIC: &[u8] = b"PGDMP";

/// Checks that `file` is a backup of the kind `kind` writes.
fn check_file(file: &Path, kind: BackendKind) -> Result<(), CliError> {
    let mut head = [0u8; 16];
    let read = File::open(file)
        .and_then(|mut f| f.read(&mut head))
        .map_err(|e| {
            CliError::Message(format!(
                "cannot read the backup {}: {e}. Fix: check the path",
                file.display()
            ))
        })?;
    let head = &head[..read];
    let ok = match kind {
        BackendKind::Sqlite => head.starts_with(SQLITE_MAGIC),
        BackendKind::Postgres => head.starts_with(PG_MAGIC),
        BackendKind::MySql => {
            read > 0 && !head.starts_with(SQLITE_MAGIC) && !head.starts_with(PG_MAGIC)
        }
    };
    if ok {
        return Ok(());
    }
    Err(CliError::Message(format!(
        "{} is not a {} backup made by `lexigram db backup`. Fix: restore it into the kind of database it was taken from",
        file.display(),
        kind.name()
    )))
}

/// Tables holding rows (the migrations table aside), with their counts.
async fn data_in(db: &Database) -> Result<Vec<(String, i64)>, CliError> {
    let migrations = db.settings().migrations.table.to_ascii_lowercase();
    let mut out = Vec::new();
    for table in live_schema::read(db).await?.into_keys() {
        if table == migrations {
            continue;
        }
        let sql = format!("SELECT COUNT(*) FROM {}", ddl::quote(db.kind(), &table));
        let rows: i64 = db.fetch_one(&sql, &[]).await?.get_at(0)?;
        if rows > 0 {
            out.push((table, rows));
        }
    }
    Ok(out)
}

fn sqlite_restore(db_file: &Path, backup: &Path) -> Result<(), CliError> {
    let mut dst = rusqlite::Connection::open(db_file).map_err(|e| {
        CliError::Message(format!(
            "cannot open {}: {e}. Fix: check the path and its permissions",
            db_file.display()
        ))
    })?;
    dst.restore("main", backup, None::<fn(rusqlite::backup::Progress)>)
        .map_err(|e| {
            CliError::Message(format!(
                "the restore from {} failed: {e}. Fix: make sure no other process is writing to {}",
                backup.display(),
                db_file.display()
            ))
        })
}

fn pg_restore(login: &Login, backup: &Path) -> Result<(), CliError> {
    let Login::Postgres { uri, schema, .. } = login else {
        return Ok(());
    };
    let tool = client::find_tool(&["pg_restore"], "postgresql-client")?;
    let mut cmd = client::command(&tool, login);
    cmd.args([
        "--clean",
        "--if-exists",
        "--no-owner",
        "--no-privileges",
        "--single-transaction",
        "--exit-on-error",
    ]);
    if let Some(schema) = schema {
        cmd.arg(format!("--schema={schema}"));
    }
    cmd.arg(format!("--dbname={uri}")).arg(backup);
    client::run(cmd, Stdio::null(), login, "the restore")?;
    Ok(())
}

fn mysql_restore(login: &Login, backup: &Path) -> Result<(), CliError> {
    let Login::MySql {
        options, database, ..
    } = login
    else {
        return Ok(());
    };
    let tool = client::find_tool(&["mariadb", "mysql"], "mariadb-client")?;
    let file = OptionsFile::write(options)?;
    let input = File::open(backup).map_err(|e| {
        CliError::Message(format!(
            "cannot read the backup {}: {e}. Fix: check the path and its permissions",
            backup.display()
        ))
    })?;
    let mut cmd = client::command(&tool, login);
    cmd.arg(file.arg())
        .arg("--default-character-set=utf8mb4")
        .arg(format!("--database={database}"));
    client::run(cmd, Stdio::from(input), login, "the restore")?;
    Ok(())
}

/// Refuses a database holding data unless `force`; creates the pinned PostgreSQL schema if it
/// was dropped (`pg_restore --schema` restores the objects in it, not the schema itself).
async fn prepare(
    db: &Database,
    login: &Login,
    force: bool,
) -> Result<Vec<(String, i64)>, CliError> {
    let data = data_in(db).await?;
    if !data.is_empty() && !force {
        let list: Vec<String> = data
            .iter()
            .map(|(t, n)| format!("{t} ({n} rows)"))
            .collect();
        return Err(CliError::Message(format!(
            "the database is not empty: {}. Restoring would replace that data. Fix: pass --force if replacing it is intended, or restore into an empty database",
            list.join(", ")
        )));
    }
    if let Login::Postgres {
        schema: Some(schema),
        ..
    } = login
    {
        let sql = format!(
            "CREATE SCHEMA IF NOT EXISTS {}",
            ddl::quote(db.kind(), schema)
        );
        db.execute(&sql, &[]).await?;
    }
    Ok(data)
}

/// `lexigram db restore FILE [--force]`
pub(crate) async fn run(
    global: &GlobalArgs,
    file: &Path,
    force: bool,
) -> Result<ExitCode, CliError> {
    let (backend, _) = target(global)?;
    let login = Login::of(&backend)?;
    let kind = backend.url.kind();
    check_file(file, kind)?;
    let url = backend.url.clone();
    let db = Database::connect(backend).await?;
    let prepared = prepare(&db, &login, force).await;
    db.close().await;
    let data = prepared?;
    let ticker = Ticker::start(
        format!("Restoring {} into {url}", file.display()),
        None,
        !global.quiet && !global.json,
    );
    let result = match &login {
        Login::Sqlite(path) => sqlite_restore(path, file),
        Login::Postgres { .. } => pg_restore(&login, file),
        Login::MySql { .. } => mysql_restore(&login, file),
    };
    drop(ticker);
    result?;
    if global.json {
        print_json(&serde_json::json!({
            "backend": kind.name(),
            "restored": file.display().to_string(),
            "replaced_tables": data.len(),
        }))?;
    } else if !global.quiet {
        println!("Restored {} into {url}.", file.display());
        if !data.is_empty() {
            println!(
                "Replaced the data of {} table(s) that held rows (--force).",
                data.len()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
