//! `status`, `history`, `validate`: read-only views of the migrations table.

use std::process::ExitCode;

use lexigram_sql::migrate::MigrationStatus;

use super::{migrator, print_json};
use crate::CliError;
use crate::args::GlobalArgs;
use crate::table;

fn list(versions: &[i64]) -> String {
    if versions.is_empty() {
        "none".to_string()
    } else {
        versions
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn time(at: &chrono::DateTime<chrono::Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

fn print_status(status: &MigrationStatus) {
    println!(
        "Current version: {}",
        status
            .current_version
            .map_or_else(|| "none".to_string(), |v| v.to_string())
    );
    println!("Pending: {}", list(&status.pending()));
    println!("Dirty: {}", list(&status.dirty()));
    println!("Changed since applied (drift): {}", list(&status.changed()));
    println!("Applied without a file: {}", list(&status.missing_files()));
    if status.entries.is_empty() {
        println!("\nNo migrations yet. Create one with `lexigram db create <name>`.");
        return;
    }
    let rows: Vec<Vec<String>> = status
        .entries
        .iter()
        .map(|e| {
            vec![
                e.version.to_string(),
                e.name.clone(),
                e.state.to_string(),
                e.applied
                    .as_ref()
                    .map(|a| time(&a.applied_at))
                    .unwrap_or_default(),
            ]
        })
        .collect();
    println!();
    print!(
        "{}",
        table::render(&["VERSION", "NAME", "STATE", "APPLIED AT"], &rows)
    );
}

/// `lexigram db status`
pub(crate) async fn status(global: &GlobalArgs) -> Result<ExitCode, CliError> {
    let (db, migrator) = migrator(global).await?;
    let result = migrator.status().await;
    db.close().await;
    let status = result?;
    if global.json {
        print_json(&status)?;
    } else {
        println!("Database: {}", db.settings().url);
        println!("Migrations: {}", migrator.source().origin());
        print_status(&status);
        if !status.dirty().is_empty() {
            println!("\nA dirty version needs a manual fix, then `lexigram db repair`.");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `lexigram db history [--limit N]`
pub(crate) async fn history(
    global: &GlobalArgs,
    limit: Option<usize>,
) -> Result<ExitCode, CliError> {
    let (db, migrator) = migrator(global).await?;
    let result = migrator.history(limit).await;
    db.close().await;
    let history = result?;
    if global.json {
        print_json(&history)?;
    } else if history.is_empty() {
        println!("No migrations applied yet.");
    } else {
        let rows: Vec<Vec<String>> = history
            .iter()
            .map(|a| {
                vec![
                    a.version.to_string(),
                    a.name.clone(),
                    time(&a.applied_at),
                    format!("{} ms", a.execution_ms),
                    if a.dirty {
                        "DIRTY".to_string()
                    } else {
                        "ok".to_string()
                    },
                ]
            })
            .collect();
        print!(
            "{}",
            table::render(&["VERSION", "NAME", "APPLIED AT", "TOOK", "STATE"], &rows)
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `lexigram db validate`
pub(crate) async fn validate(global: &GlobalArgs) -> Result<ExitCode, CliError> {
    let (db, migrator) = migrator(global).await?;
    let result = migrator.validate().await;
    db.close().await;
    let status = result?;
    if global.json {
        print_json(&status)?;
    } else {
        let applied = status.entries.len() - status.pending().len();
        println!(
            "OK: {applied} applied migrations match their files; {} pending.",
            status.pending().len()
        );
    }
    Ok(ExitCode::SUCCESS)
}
