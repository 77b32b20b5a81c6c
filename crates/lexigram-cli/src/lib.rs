//! The `lexigram` command line: `lexigram db upgrade`, `lexigram db status`, `lexigram db
//! check`, … The binary's `main` only calls [`main`]; the commands live here so they can be
//! read, reused and tested. An application builds its own binary, with its entities and
//! seeders, with [`App`].
//!
//! Configuration is read like the application reads it, highest first: `--url`, then
//! `LEX_SQL__*` (the process's environment, then a `.env` file's), then `application.yaml`
//! (`--config FILE`, `LEX_CONFIG_FILE`), then `DATABASE_URL`, then the default
//! `sqlite:///data.db`. Every failure prints `error: <the typed error's message>` on stderr and exits
//! with status 1; passwords are never printed.

// The doc comments of the argument types are clap's --help text, plain text rather than
// Markdown: `<version>_<name>.up.sql` there is a placeholder, not an HTML tag.
#![allow(rustdoc::invalid_html_tags)]

mod app;
mod args;
mod commands;
mod ddl;
mod entities;
mod progress;
mod settings;
mod table;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};

pub use app::{App, Seeder};
pub use args::{Cli, Command, DbCommand, GlobalArgs};
pub use entities::Manifest;

/// Why a command failed.
#[derive(Debug)]
pub enum CliError {
    /// A typed error from the data layer (configuration, connection, migration, …).
    Sql(lexigram_sql::Error),
    /// Anything else (files, arguments), with the fix in the text.
    Message(String),
}

impl std::fmt::Display for CliError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CliError::Sql(e) => write!(f, "{e}"),
            CliError::Message(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for CliError {}

impl From<lexigram_sql::Error> for CliError {
    fn from(e: lexigram_sql::Error) -> Self {
        CliError::Sql(e)
    }
}

impl CliError {
    /// The stable error code, for typed errors.
    pub fn code(&self) -> Option<&'static str> {
        match self {
            CliError::Sql(e) => Some(e.code()),
            CliError::Message(_) => None,
        }
    }
}

/// Parses the process's arguments, runs the command, prints any error and returns the exit
/// status (0 success, 1 failure, 2 bad arguments).
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    // LEX_LOG_LEVEL / LEX_LOGGING__LEVEL, LEX_LOG_FORMAT; echo prints whatever the level.
    lexigram::logging::init_from_env();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            if let Some(code) = e.code() {
                eprintln!("  code: {code}");
            }
            ExitCode::FAILURE
        }
    }
}

impl Cli {
    /// Parses the process's arguments like [`clap::Parser::parse`] (which this shadows), with
    /// clap's colors off under `--no-color` or a non-empty `NO_COLOR`. Bad arguments print
    /// clap's message and exit with status 2.
    pub fn parse() -> Cli {
        parse_args()
    }
}

fn parse_args() -> Cli {
    let no_color = std::env::args_os().any(|a| a == "--no-color")
        || std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let mut command = Cli::command();
    if no_color {
        command = command.color(clap::ColorChoice::Never);
    }
    match command
        .try_get_matches()
        .and_then(|m| Cli::from_arg_matches(&m))
    {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    }
}

/// Runs one parsed command line.
pub async fn run(cli: Cli) -> Result<ExitCode, CliError> {
    match cli.command {
        Command::Db(command) => commands::db(&cli.global, command).await,
        Command::Completions { shell } => {
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "lexigram",
                &mut std::io::stdout(),
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}
