//! `upgrade`, `downgrade`, `reset`, `repair`: commands that change the schema.

use std::path::Path;
use std::process::ExitCode;

use lexigram_sql::migrate::{
    Direction, DowngradeTarget, MigrationEvent, MigrationReport, Migrator,
};

use super::{migrator, print_json};
use crate::CliError;
use crate::args::GlobalArgs;

/// Prints one line per finished migration (people only; `--json` prints the report instead).
fn with_progress(migrator: Migrator, json: bool) -> Migrator {
    if json {
        return migrator;
    }
    migrator.on_progress(|event| {
        if let MigrationEvent::Finished {
            direction,
            version,
            name,
            execution_ms,
            index,
            total,
        } = event
        {
            let verb = match direction {
                Direction::Up => "applied",
                Direction::Down => "reverted",
            };
            println!("  [{index}/{total}] {verb} {version}_{name} ({execution_ms} ms)");
        }
    })
}

fn current(version: Option<i64>) -> String {
    version.map_or_else(|| "none (nothing applied)".to_string(), |v| v.to_string())
}

fn print_report(report: &MigrationReport, json: bool, quiet: bool) -> Result<(), CliError> {
    if json {
        return print_json(report);
    }
    for version in &report.missing_files {
        eprintln!(
            "warning: applied version {version} has no migration file (see `lexigram db status`)"
        );
    }
    if quiet && !report.dry_run {
        return Ok(());
    }
    let n = report.steps.len();
    let noun = if n == 1 { "migration" } else { "migrations" };
    match (report.direction, report.dry_run) {
        (_, true) if n == 0 => println!("Nothing to apply: the database is up to date."),
        (_, true) => {
            println!("Would apply {n} {noun} (dry run, nothing changed):");
            for s in &report.steps {
                println!("  {}_{}", s.version, s.name);
            }
        }
        (Direction::Up, false) if n == 0 => {
            println!("Nothing to apply: the database is up to date.")
        }
        (Direction::Up, false) => println!("Applied {n} {noun}."),
        (Direction::Down, false) if n == 0 => println!("Nothing to revert."),
        (Direction::Down, false) => println!("Reverted {n} {noun}."),
    }
    println!("Current version: {}", current(report.current_version));
    Ok(())
}

/// `lexigram db upgrade [--to V] [--dry-run]`
pub(crate) async fn upgrade(
    global: &GlobalArgs,
    to: Option<i64>,
    dry_run: bool,
) -> Result<ExitCode, CliError> {
    let (db, migrator) = migrator(global).await?;
    if !global.json && !global.quiet && !dry_run {
        println!(
            "Upgrading {} with migrations from {}",
            db.settings().url,
            migrator.source().origin()
        );
    }
    let migrator = with_progress(migrator, global.json || global.quiet);
    let result = if dry_run {
        migrator.plan_upgrade(to).await
    } else {
        migrator.upgrade(to).await
    };
    db.close().await;
    print_report(&result?, global.json, global.quiet)?;
    Ok(ExitCode::SUCCESS)
}

/// `lexigram db downgrade [V | --steps N]`
pub(crate) async fn downgrade(
    global: &GlobalArgs,
    version: Option<i64>,
    steps: Option<usize>,
) -> Result<ExitCode, CliError> {
    let target = match (version, steps) {
        (Some(v), _) => DowngradeTarget::To(v),
        (None, Some(n)) => DowngradeTarget::Steps(n),
        (None, None) => DowngradeTarget::Last,
    };
    let (db, migrator) = migrator(global).await?;
    let result = with_progress(migrator, global.json || global.quiet)
        .downgrade(target)
        .await;
    db.close().await;
    print_report(&result?, global.json, global.quiet)?;
    Ok(ExitCode::SUCCESS)
}

/// `lexigram db reset --force [--seed [--seeds DIR]]`. Applied-seed records are forgotten
/// (the rows they inserted were dropped with the tables); `--seed` applies the seeds again.
pub(crate) async fn reset(
    global: &GlobalArgs,
    force: bool,
    seed: bool,
    seeds_dir: &Path,
) -> Result<ExitCode, CliError> {
    if !force {
        return Err(CliError::Message(
            "reset reverts every migration (dropping the tables they created, with their data) and applies them all again; refusing without --force. Fix: run `lexigram db reset --force` if that is what you want".to_string(),
        ));
    }
    let (db, migrator) = migrator(global).await?;
    let result = async {
        let reports = with_progress(migrator, global.json || global.quiet)
            .reset()
            .await?;
        super::seed::forget_all(&db).await?;
        let seeds = if seed {
            Some(super::seed::apply(&db, None, seeds_dir).await?)
        } else {
            None
        };
        Ok::<_, CliError>((reports, seeds))
    }
    .await;
    db.close().await;
    let ((down, up), seeds) = result?;
    if global.json {
        print_json(&serde_json::json!({ "down": down, "up": up, "seeds": seeds }))?;
    } else if !global.quiet {
        println!(
            "Reverted {} and applied {} migrations.",
            down.steps.len(),
            up.steps.len()
        );
        println!("Current version: {}", current(up.current_version));
        if let Some(seeds) = &seeds {
            super::seed::print(global, seeds)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `lexigram db repair`
pub(crate) async fn repair(global: &GlobalArgs) -> Result<ExitCode, CliError> {
    let (db, migrator) = migrator(global).await?;
    let result = migrator.repair().await;
    db.close().await;
    let report = result?;
    if global.json {
        print_json(&report)?;
        return Ok(ExitCode::SUCCESS);
    }
    if report.cleared_dirty.is_empty() && report.realigned.is_empty() {
        println!("Nothing to repair: no dirty versions and no edited files.");
    }
    for v in &report.cleared_dirty {
        println!(
            "Cleared dirty version {v}: it is pending again and the next `lexigram db upgrade` applies it."
        );
    }
    for v in &report.realigned {
        println!("Accepted the edited file of version {v} (recorded its new checksum).");
    }
    Ok(ExitCode::SUCCESS)
}
