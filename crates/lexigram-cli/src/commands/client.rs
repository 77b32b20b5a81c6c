//! Running the database's own client tools (`pg_dump`, `pg_restore`, `psql`, `mariadb-dump`,
//! `mariadb`, `sqlite3`) against the configured backend **without putting the password on
//! their command line**: PostgreSQL tools get it in `PGPASSWORD`, MariaDB/MySQL tools in a
//! `--defaults-extra-file` that only the current user can read (0600) and that is deleted when
//! the tool exits.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use lexigram_sql::config::{BackendSettings, SqliteTarget};
use percent_encoding::{NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

use crate::CliError;

/// Query parameters of a PostgreSQL URL that libpq understands and that the tools get too.
const LIBPQ_PARAMS: &[&str] = &[
    "host",
    "hostaddr",
    "port",
    "target_session_attrs",
    "options",
    "sslmode",
    "sslrootcert",
    "sslcert",
    "sslkey",
    "connect_timeout",
    "application_name",
];

/// How the client tools reach the configured database.
pub(crate) enum Login {
    /// A SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL database.
    Postgres {
        /// A libpq connection URI without the password.
        uri: String,
        /// The password, for `PGPASSWORD`.
        password: Option<String>,
        /// The schema the URL pins with `options=-c search_path=S`, if one.
        schema: Option<String>,
    },
    /// A MySQL/MariaDB database.
    MySql {
        /// The `[client]` options file's lines (user, password, host, port).
        options: Vec<(String, String)>,
        /// The database name.
        database: String,
        /// The password, to mask it in tool output.
        password: Option<String>,
    },
}

fn decode(text: &str) -> String {
    percent_decode_str(text).decode_utf8_lossy().into_owned()
}

fn bad_url(what: &str) -> CliError {
    CliError::Message(format!(
        "the database URL {what}. Fix: use a URL such as postgresql://user@host:5432/db or mysql://user@host:3306/db"
    ))
}

/// The single schema in `-c search_path=S` of libpq `options`, if there is one.
fn pinned_schema(options: &str) -> Option<String> {
    let rest = options.split("search_path=").nth(1)?;
    let value = rest.split_whitespace().next()?.trim_matches(['"', '\'']);
    (!value.is_empty() && !value.contains(',')).then(|| value.to_string())
}

impl Login {
    /// Splits the backend's URL into what the tools need.
    pub(crate) fn of(backend: &BackendSettings) -> Result<Login, CliError> {
        if let Some(target) = backend.url.sqlite_target() {
            return match target {
                SqliteTarget::File(path) => Ok(Login::Sqlite(path)),
                SqliteTarget::Memory => Err(CliError::Message(
                    "the database is an in-memory SQLite database, which exists only inside one process. Fix: point --url at a SQLite file (sqlite:///data.db) or a server".to_string(),
                )),
            };
        }
        let mut url =
            url::Url::parse(backend.url.expose()).map_err(|_| bad_url("cannot be parsed"))?;
        let mut password = url.password().map(decode);
        let mut kept: Vec<(String, String)> = Vec::new();
        for (k, v) in url.query_pairs() {
            if k == "password" {
                password.get_or_insert_with(|| v.to_string());
            } else {
                kept.push((k.into_owned(), v.into_owned()));
            }
        }
        if url.password().is_some() {
            url.set_password(None)
                .map_err(|()| bad_url("has a password but no host"))?;
        }
        let user = (!url.username().is_empty()).then(|| decode(url.username()));
        let host = url.host_str().map(str::to_string);
        let port = url.port();
        let database = decode(url.path().trim_start_matches('/'));
        if backend.url.kind() == lexigram_sql::config::BackendKind::Postgres {
            kept.retain(|(k, _)| LIBPQ_PARAMS.contains(&k.as_str()));
            let schema = kept
                .iter()
                .find(|(k, _)| k == "options")
                .and_then(|(_, v)| pinned_schema(v));
            // Percent-encoded by hand: libpq does not read `+` as a space.
            let query: Vec<String> = kept
                .iter()
                .map(|(k, v)| format!("{k}={}", utf8_percent_encode(v, NON_ALPHANUMERIC)))
                .collect();
            url.set_query((!query.is_empty()).then(|| query.join("&")).as_deref());
            return Ok(Login::Postgres {
                uri: url.to_string(),
                password,
                schema,
            });
        }
        if database.is_empty() {
            return Err(bad_url("names no database"));
        }
        let mut options = Vec::new();
        if let Some(user) = user {
            options.push(("user".to_string(), user));
        }
        if let Some(p) = &password {
            options.push(("password".to_string(), p.clone()));
        }
        if let Some(host) = host {
            options.push((
                "host".to_string(),
                host.trim_matches(['[', ']']).to_string(),
            ));
            // Like the driver: a host name means TCP, even `localhost`.
            options.push(("protocol".to_string(), "TCP".to_string()));
        }
        if let Some(port) = port {
            options.push(("port".to_string(), port.to_string()));
        }
        Ok(Login::MySql {
            options,
            database,
            password,
        })
    }

    /// The password, for masking tool output.
    fn password(&self) -> Option<&str> {
        match self {
            Login::Sqlite(_) => None,
            Login::Postgres { password, .. } | Login::MySql { password, .. } => password.as_deref(),
        }
    }

    /// `text` with the password replaced by `***`.
    pub(crate) fn mask(&self, text: &str) -> String {
        match self.password() {
            Some(p) if !p.is_empty() => text.replace(p, "***"),
            _ => text.to_string(),
        }
    }
}

/// A MariaDB/MySQL `[client]` options file, readable only by the current user, deleted on drop.
pub(crate) struct OptionsFile {
    file: tempfile::NamedTempFile,
}

fn quote_option(value: &str) -> String {
    let escaped = value.replace('\\', "\\\\").replace('"', "\\\"");
    format!("\"{escaped}\"")
}

impl OptionsFile {
    /// Writes the options (tempfile creates it with mode 0600 on Unix).
    pub(crate) fn write(options: &[(String, String)]) -> Result<OptionsFile, CliError> {
        let fail = |e: std::io::Error| {
            CliError::Message(format!(
                "cannot write a temporary options file for the MariaDB client: {e}. Fix: check that the temporary directory ($TMPDIR) is writable"
            ))
        };
        let mut file = tempfile::Builder::new()
            .prefix("lexigram-my-")
            .suffix(".cnf")
            .tempfile()
            .map_err(fail)?;
        let mut text = String::from("[client]\n");
        for (k, v) in options {
            text.push_str(&format!("{k}={}\n", quote_option(v)));
        }
        file.write_all(text.as_bytes()).map_err(fail)?;
        file.flush().map_err(fail)?;
        Ok(OptionsFile { file })
    }

    /// `--defaults-extra-file=PATH`: must be the tool's first argument.
    pub(crate) fn arg(&self) -> String {
        format!("--defaults-extra-file={}", self.file.path().display())
    }
}

/// The first of `names` found on `PATH`, or an error saying what to install.
pub(crate) fn find_tool(names: &[&str], package: &str) -> Result<PathBuf, CliError> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    for name in names {
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return Ok(candidate);
            }
        }
    }
    Err(CliError::Message(format!(
        "`{}` was not found on PATH. Fix: install it (Debian/Ubuntu: `apt-get install {package}`) or add its directory to PATH",
        names.join("` / `")
    )))
}

/// A command for `tool` with the login's password in its environment (PostgreSQL).
pub(crate) fn command(tool: &Path, login: &Login) -> Command {
    let mut cmd = Command::new(tool);
    if let Login::Postgres {
        password: Some(p), ..
    } = login
    {
        cmd.env("PGPASSWORD", p);
    }
    cmd
}

/// Runs a tool to completion with `stdin`, capturing its output; a non-zero exit is an error
/// quoting its stderr, password masked.
pub(crate) fn run(
    mut cmd: Command,
    stdin: Stdio,
    login: &Login,
    what: &str,
) -> Result<Output, CliError> {
    let name = cmd.get_program().to_string_lossy().into_owned();
    let output = cmd
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| {
            CliError::Message(format!(
                "cannot run {name}: {e}. Fix: check that it is installed and executable"
            ))
        })?;
    if !output.status.success() {
        let stderr = login.mask(String::from_utf8_lossy(&output.stderr).trim());
        return Err(CliError::Message(format!(
            "{what} failed: {name} exited with {}: {stderr}. Fix: check that `lexigram db check` reaches the database with the same options (user, password, host, database), and that {name} is not older than the server",
            output.status
        )));
    }
    Ok(output)
}

#[cfg(test)]
mod tests {
    use super::pinned_schema;

    #[test]
    fn only_a_single_schema_search_path_pins_a_schema() {
        assert_eq!(
            pinned_schema("-c search_path=t_abc").as_deref(),
            Some("t_abc")
        );
        assert_eq!(pinned_schema("-c search_path=a,b"), None);
        assert_eq!(pinned_schema("-c statement_timeout=5"), None);
    }
}
