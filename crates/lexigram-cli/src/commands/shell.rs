//! `shell`: the database's own interactive client (`psql`, `mariadb`, `sqlite3`) on the
//! configured database, the password handed over outside the command line.

use std::process::{ExitCode, Stdio};

use super::client::{self, Login, OptionsFile};
use super::target;
use crate::CliError;
use crate::args::GlobalArgs;

/// `lexigram db shell`: runs the client with this process's stdin, stdout and stderr and
/// exits with its status.
pub(crate) async fn run(global: &GlobalArgs) -> Result<ExitCode, CliError> {
    let (backend, _) = target(global)?;
    let login = Login::of(&backend)?;
    // Kept alive (and deleted afterwards) for as long as the client runs.
    let mut options_file = None;
    let mut cmd = match &login {
        Login::Sqlite(path) => {
            let tool = client::find_tool(&["sqlite3"], "sqlite3")?;
            let mut cmd = client::command(&tool, &login);
            cmd.arg(path);
            cmd
        }
        Login::Postgres { uri, .. } => {
            let tool = client::find_tool(&["psql"], "postgresql-client")?;
            let mut cmd = client::command(&tool, &login);
            cmd.arg(format!("--dbname={uri}"));
            cmd
        }
        Login::MySql {
            options, database, ..
        } => {
            let tool = client::find_tool(&["mariadb", "mysql"], "mariadb-client")?;
            let file = OptionsFile::write(options)?;
            let mut cmd = client::command(&tool, &login);
            cmd.arg(file.arg()).arg(format!("--database={database}"));
            options_file = Some(file);
            cmd
        }
    };
    let name = cmd.get_program().to_string_lossy().into_owned();
    let mut child = cmd
        .stdin(Stdio::inherit())
        .stdout(Stdio::inherit())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| {
            CliError::Message(format!(
                "cannot run {name}: {e}. Fix: check that it is installed and executable"
            ))
        })?;
    // Ctrl-C belongs to the client (it cancels a query there); this process must outlive it
    // so the options file is deleted.
    let swallow = tokio::spawn(async { while tokio::signal::ctrl_c().await.is_ok() {} });
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .map_err(|e| CliError::Message(format!("waiting for {name} failed: {e}")))?
        .map_err(|e| CliError::Message(format!("waiting for {name} failed: {e}")))?;
    swallow.abort();
    drop(options_file);
    let code = status.code().unwrap_or(1);
    Ok(ExitCode::from(u8::try_from(code).unwrap_or(1)))
}
