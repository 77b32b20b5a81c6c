//! `--all`: one migration command on every backend of `sql.backends`, in order.

use std::process::ExitCode;

use crate::args::{DbCommand, GlobalArgs};
use crate::{CliError, settings};

/// Whether `--all` applies to this command.
fn supported(command: &DbCommand) -> bool {
    matches!(
        command,
        DbCommand::Upgrade { .. }
            | DbCommand::Downgrade { .. }
            | DbCommand::Status
            | DbCommand::History { .. }
            | DbCommand::Validate
            | DbCommand::Repair
            | DbCommand::Reset { .. }
    )
}

/// Runs `command` once per configured backend (as `--backend NAME`), printing a header
/// before each. Stops at the first failure, saying which backend failed and that the later
/// ones were not touched.
pub(crate) async fn run(global: &GlobalArgs, command: DbCommand) -> Result<ExitCode, CliError> {
    if !supported(&command) {
        return Err(CliError::Message(
            "--all works with upgrade, downgrade, status, history, validate, repair and reset. Fix: run this command once per backend with --backend NAME".to_string(),
        ));
    }
    if global.json {
        return Err(CliError::Message(
            "--all cannot be combined with --json (it would print one JSON document per backend). Fix: run the command once per backend with --backend NAME --json".to_string(),
        ));
    }
    let config = settings::load(global)?;
    let backends = config.backends()?;
    let count = backends.len();
    for (i, backend) in backends.into_iter().enumerate() {
        if !global.quiet {
            if i > 0 {
                println!();
            }
            println!(
                "== backend {} ({}/{count}): {}",
                backend.name,
                i + 1,
                backend.url
            );
        }
        let one = GlobalArgs {
            backend: Some(backend.name.clone()),
            all: false,
            ..global.clone()
        };
        let result = Box::pin(super::db(&one, command.clone())).await;
        let failed = match &result {
            Ok(code) => *code != ExitCode::SUCCESS,
            Err(_) => true,
        };
        if failed {
            let rest = count - i - 1;
            eprintln!(
                "lexigram: backend `{}` failed; {rest} later backend(s) were not touched.",
                backend.name
            );
            return result;
        }
    }
    Ok(ExitCode::SUCCESS)
}
