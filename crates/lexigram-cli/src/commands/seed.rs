//! `seed [--file FILE] [--seeds DIR]`: SQL seed files, each applied once.
//!
//! Applied seeds are recorded in `schema_seeds` (file name, checksum, when), first thing in
//! the seed's own transaction, so a seed runs exactly once even when runs race: the second
//! insert of the record waits for the first transaction, finds the name taken and skips the
//! seed. Rust seeders are recorded after they succeed (they run on their own connections). A seed whose file changed
//! after it was applied is reported and not run again: put new data in a new file.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use lexigram_sql::error::ConstraintKind;
use lexigram_sql::migrate::internal::checksum;
use lexigram_sql::{Database, Value};
use serde::Serialize;

use super::print_json;
use crate::CliError;
use crate::app::Seeder;
use crate::args::GlobalArgs;

/// The table that records applied seeds.
pub(crate) const SEEDS_TABLE: &str = "schema_seeds";

/// What happened to one seed file.
#[derive(Debug, Serialize)]
pub(crate) struct SeedOutcome {
    /// The file name (the record's key).
    pub name: String,
    /// `applied`, `already applied`, or `changed since applied (not run again)`.
    pub state: &'static str,
    /// How long it took, when applied.
    pub execution_ms: Option<u64>,
}

fn io_error(what: &str, path: &Path, e: std::io::Error) -> CliError {
    CliError::Message(format!(
        "cannot {what} {}: {e}. Fix: check the path and its permissions",
        path.display()
    ))
}

/// The `.sql` files of `dir`, by name.
fn files_in(dir: &Path) -> Result<Vec<PathBuf>, CliError> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        CliError::Message(format!(
            "cannot read the seeds directory {}: {e}. Fix: create it and put `.sql` files in it (applied in name order), or pass --seeds DIR / --file FILE",
            dir.display()
        ))
    })?;
    let mut files = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| io_error("list", dir, e))?.path();
        if path.is_file() && path.extension().is_some_and(|x| x == "sql") {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

async fn ensure_table(db: &Database) -> Result<(), CliError> {
    db.execute(
        &format!(
            "CREATE TABLE IF NOT EXISTS {SEEDS_TABLE} (name VARCHAR(255) NOT NULL PRIMARY KEY, \
             checksum VARCHAR(64) NOT NULL, applied_at VARCHAR(40) NOT NULL)"
        ),
        &[],
    )
    .await?;
    Ok(())
}

/// Runs one seed file unless it is recorded; records it in the same transaction.
async fn apply_one(db: &Database, path: &Path) -> Result<SeedOutcome, CliError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let text = std::fs::read_to_string(path).map_err(|e| io_error("read", path, e))?;
    let sum = checksum(&text);
    let d = db.dialect();
    let recorded = db
        .fetch_optional(
            &format!(
                "SELECT checksum FROM {SEEDS_TABLE} WHERE name = {}",
                d.placeholders(1, 1)
            ),
            &[Value::Text(name.clone())],
        )
        .await?;
    if let Some(row) = recorded {
        let old: String = row.get_at(0)?;
        let state = if old == sum {
            "already applied"
        } else {
            "changed since applied (not run again)"
        };
        return Ok(SeedOutcome {
            name,
            state,
            execution_ms: None,
        });
    }
    let started = Instant::now();
    let tx = db.begin().await?;
    // The record first: a concurrent run inserting the same name waits for this transaction
    // and then finds it taken, so the seed runs exactly once and the other run skips it.
    let claimed = tx
        .execute(
            &format!(
                "INSERT INTO {SEEDS_TABLE} (name, checksum, applied_at) VALUES ({}, {}, {})",
                d.placeholders(1, 1),
                d.placeholders(2, 1),
                d.placeholders(3, 1)
            ),
            &[
                Value::Text(name.clone()),
                Value::Text(sum),
                Value::Text(chrono::Utc::now().to_rfc3339()),
            ],
        )
        .await;
    match claimed {
        Ok(_) => {}
        Err(lexigram_sql::Error::Constraint {
            kind: ConstraintKind::Unique,
            ..
        }) => {
            let _ = tx.rollback().await;
            return Ok(SeedOutcome {
                name,
                state: "already applied",
                execution_ms: None,
            });
        }
        Err(e) => {
            let _ = tx.rollback().await;
            return Err(e.into());
        }
    }
    for statement in d.split_statements(&text) {
        if let Err(e) = tx.execute(&statement.sql, &[]).await {
            let _ = tx.rollback().await;
            return Err(CliError::Message(format!(
                "seed {} failed at its statement on line {} ({}): {e}. Nothing of this seed was kept. Fix: correct the file and run `lexigram db seed` again",
                path.display(),
                statement.line,
                statement.excerpt(80)
            )));
        }
    }
    tx.commit().await?;
    Ok(SeedOutcome {
        name,
        state: "applied",
        execution_ms: Some(u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)),
    })
}

/// Applies the seed files (one `file`, else every `.sql` file of `dir` in name order).
pub(crate) async fn apply(
    db: &Database,
    file: Option<&Path>,
    dir: &Path,
) -> Result<Vec<SeedOutcome>, CliError> {
    let seeders = crate::app::current().seeders().to_vec();
    let files = match file {
        Some(f) => vec![f.to_path_buf()],
        // An application with Rust seeders needs no seeds directory.
        None if !seeders.is_empty() && !dir.exists() => Vec::new(),
        None => files_in(dir)?,
    };
    ensure_table(db).await?;
    let mut out = Vec::new();
    for path in files {
        out.push(apply_one(db, &path).await?);
    }
    if file.is_none() {
        for seeder in &seeders {
            out.push(apply_rust(db, seeder).await?);
        }
    }
    Ok(out)
}

/// Runs a registered Rust seeder unless it is recorded, then records it.
async fn apply_rust(db: &Database, seeder: &Seeder) -> Result<SeedOutcome, CliError> {
    let name = format!("rust:{}", seeder.name);
    let d = db.dialect();
    let recorded = db
        .fetch_optional(
            &format!(
                "SELECT checksum FROM {SEEDS_TABLE} WHERE name = {}",
                d.placeholders(1, 1)
            ),
            &[Value::Text(name.clone())],
        )
        .await?;
    if recorded.is_some() {
        return Ok(SeedOutcome {
            name,
            state: "already applied",
            execution_ms: None,
        });
    }
    let started = Instant::now();
    seeder.run(db.clone()).await.map_err(|e| {
        CliError::Message(format!(
            "the Rust seeder `{}` failed: {e}. It is not recorded, so the next `lexigram db seed` runs it again. Fix: correct it (and undo what it did, unless it used one transaction)",
            seeder.name
        ))
    })?;
    db.execute(
        &format!(
            "INSERT INTO {SEEDS_TABLE} (name, checksum, applied_at) VALUES ({}, {}, {})",
            d.placeholders(1, 1),
            d.placeholders(2, 1),
            d.placeholders(3, 1)
        ),
        &[
            Value::Text(name.clone()),
            Value::Text("rust".to_string()),
            Value::Text(chrono::Utc::now().to_rfc3339()),
        ],
    )
    .await?;
    Ok(SeedOutcome {
        name,
        state: "applied",
        execution_ms: Some(u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)),
    })
}

/// Forgets every applied seed (after `reset`, whose tables held their rows).
pub(crate) async fn forget_all(db: &Database) -> Result<(), CliError> {
    match db.execute(&format!("DELETE FROM {SEEDS_TABLE}"), &[]).await {
        Ok(_) | Err(lexigram_sql::Error::TableMissing { .. }) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Prints the outcomes for people, or as JSON.
pub(crate) fn print(global: &GlobalArgs, outcomes: &[SeedOutcome]) -> Result<(), CliError> {
    if global.json {
        return print_json(&outcomes);
    }
    if global.quiet {
        return Ok(());
    }
    for o in outcomes {
        match o.execution_ms {
            Some(ms) => println!("  {}: {} ({ms} ms)", o.name, o.state),
            None => println!("  {}: {}", o.name, o.state),
        }
    }
    let applied = outcomes.iter().filter(|o| o.state == "applied").count();
    println!(
        "Applied {applied} seed(s); {} already applied.",
        outcomes.len() - applied
    );
    if outcomes.iter().any(|o| o.state.starts_with("changed")) {
        println!(
            "A seed runs once: put new data in a new seed file instead of editing an applied one."
        );
    }
    Ok(())
}

/// `lexigram db seed [--file FILE] [--seeds DIR]`
pub(crate) async fn run(
    global: &GlobalArgs,
    file: Option<&Path>,
    dir: &Path,
) -> Result<ExitCode, CliError> {
    let (backend, _) = super::target(global)?;
    let db = Database::connect(backend).await?;
    let result = apply(&db, file, dir).await;
    db.close().await;
    print(global, &result?)?;
    Ok(ExitCode::SUCCESS)
}
