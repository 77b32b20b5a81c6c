//! `lexigram db …` commands.

mod audit;
mod autodiff;
mod backup;
mod check;
mod client;
mod each_backend;
mod files;
mod inspect;
mod live_schema;
mod migrate;
mod new_migration;
mod restore;
mod seed;
mod shell;
mod show;

use std::path::PathBuf;
use std::process::ExitCode;

use lexigram_sql::Database;
use lexigram_sql::config::BackendSettings;
use lexigram_sql::migrate::{MigrationSource, Migrator};

use crate::args::{DbCommand, GlobalArgs};
use crate::{CliError, settings};

/// Runs one `db` subcommand.
pub(crate) async fn db(global: &GlobalArgs, command: DbCommand) -> Result<ExitCode, CliError> {
    if global.all {
        return each_backend::run(global, command).await;
    }
    match command {
        DbCommand::Init { dir } => files::init(global, dir),
        DbCommand::Create { name } => files::create(global, &name),
        DbCommand::Check => check::run(global).await,
        DbCommand::Inspect { table } => inspect::run(global, table.as_deref()).await,
        DbCommand::Upgrade { to, dry_run } => migrate::upgrade(global, to, dry_run).await,
        DbCommand::Downgrade { target, steps } => migrate::downgrade(global, target, steps).await,
        DbCommand::Reset { force, seed, seeds } => {
            migrate::reset(global, force, seed, &seeds).await
        }
        DbCommand::Seed { file, seeds } => seed::run(global, file.as_deref(), &seeds).await,
        DbCommand::Repair => migrate::repair(global).await,
        DbCommand::Status => show::status(global).await,
        DbCommand::History { limit } => show::history(global, limit).await,
        DbCommand::Validate => show::validate(global).await,
        DbCommand::Migrate {
            message,
            auto,
            allow_destructive,
            entities,
        } => {
            new_migration::run(
                global,
                &message,
                auto,
                allow_destructive,
                entities.as_deref(),
            )
            .await
        }
        DbCommand::Backup { output } => backup::run(global, &output).await,
        DbCommand::Restore { file, force } => restore::run(global, &file, force).await,
        DbCommand::Shell => shell::run(global).await,
        DbCommand::Audit(crate::args::AuditCommand::Verify) => audit::verify(global).await,
    }
}

/// The primary backend's settings and migrations directory, without connecting.
pub(crate) fn target(global: &GlobalArgs) -> Result<(BackendSettings, PathBuf), CliError> {
    let config = settings::load(global)?;
    let backend = settings::selected(global, &config)?;
    let dir = settings::migrations_dir(global, &backend);
    Ok((backend, dir))
}

/// Connects to the primary backend and reads the migrations directory.
pub(crate) async fn migrator(global: &GlobalArgs) -> Result<(Database, Migrator), CliError> {
    let (backend, dir) = target(global)?;
    let source = MigrationSource::from_dir(&dir)?;
    let db = Database::connect(backend).await?;
    let migrator = Migrator::new(&db, source);
    Ok((db, migrator))
}

/// Prints a value as pretty JSON.
pub(crate) fn print_json(value: &impl serde::Serialize) -> Result<(), CliError> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| CliError::Message(format!("cannot write JSON: {e}")))?;
    println!("{text}");
    Ok(())
}
