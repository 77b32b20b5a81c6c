//! Shared test support: one isolated, real database per test on every compiled-in backend.
//!
//! SQLite: a fresh file in a temporary directory. PostgreSQL: a fresh schema on the server
//! named by `LEX_TEST_POSTGRES_URL` (search_path set through the URL). MySQL/MariaDB: a fresh
//! database on the server named by `LEX_TEST_MYSQL_URL`. `scripts/test.sh` starts both servers
//! and sets `LEX_TEST_REQUIRE_SERVERS=1`, which turns a missing server into a test failure
//! instead of a skip; plain `cargo test` runs the SQLite cases only.
#![allow(dead_code, missing_docs, clippy::unwrap_used, clippy::expect_used)]

use lexigram_sql::config::BackendKind;
use lexigram_sql::{Database, DatabaseConfig};

/// One isolated database for one test.
pub struct TestDb {
    pub kind: BackendKind,
    /// URL with password, for drivers and CLI runs.
    pub url: String,
    /// Keeps the SQLite directory alive for the test.
    pub dir: Option<tempfile::TempDir>,
}

impl TestDb {
    /// Connects with default settings.
    pub async fn connect(&self) -> Database {
        Database::from_config(&self.config())
            .await
            .unwrap_or_else(|e| panic!("connect {}: {e}", self.kind.name()))
    }

    /// A config for this database that tests can adjust before connecting.
    /// `LEX_TEST_RETURNING=off` sets `backend.returning: off`, to run a whole suite through
    /// the insert path of servers without `INSERT … RETURNING`. `LEX_TEST_STATEMENT_CACHE=off`
    /// sets `backend.statement_cache: false` (unnamed statements, as behind PgBouncer).
    pub fn config(&self) -> DatabaseConfig {
        let mut config = DatabaseConfig::from_url(&self.url).unwrap();
        if std::env::var("LEX_TEST_RETURNING").as_deref() == Ok("off") {
            config.backend.returning = lexigram_sql::config::Returning::Off;
        }
        if std::env::var("LEX_TEST_STATEMENT_CACHE").as_deref() == Ok("off") {
            config.backend.statement_cache = false;
        }
        config
    }

    pub fn name(&self) -> &'static str {
        self.kind.name()
    }
}

fn server_url(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(v) if !v.is_empty() => Some(v),
        _ => {
            assert!(
                std::env::var("LEX_TEST_REQUIRE_SERVERS").as_deref() != Ok("1"),
                "{var} is not set but LEX_TEST_REQUIRE_SERVERS=1: run the tests through scripts/test.sh"
            );
            None
        }
    }
}

/// A unique lower-case identifier for a schema/database/table.
pub fn unique(prefix: &str) -> String {
    format!(
        "{prefix}_{}",
        uuid::Uuid::new_v4()
            .simple()
            .to_string()
            .get(..12)
            .unwrap_or("x")
    )
}

/// An isolated SQLite file database.
pub fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("test.db");
    TestDb {
        kind: BackendKind::Sqlite,
        url: format!("sqlite:///{}", path.display()),
        dir: Some(dir),
    }
}

/// An isolated PostgreSQL schema, if a server is configured.
pub async fn postgres() -> Option<TestDb> {
    if !cfg!(feature = "postgres") {
        return None;
    }
    let base = server_url("LEX_TEST_POSTGRES_URL")?;
    let schema = unique("t");
    let admin = Database::connect_url(&base)
        .await
        .expect("connect to LEX_TEST_POSTGRES_URL");
    admin
        .execute(&format!("CREATE SCHEMA {schema}"), &[])
        .await
        .unwrap();
    admin.close().await;
    let sep = if base.contains('?') { '&' } else { '?' };
    Some(TestDb {
        kind: BackendKind::Postgres,
        url: format!("{base}{sep}options=-c%20search_path%3D{schema}"),
        dir: None,
    })
}

/// An isolated MySQL/MariaDB database, if a server is configured.
pub async fn mysql() -> Option<TestDb> {
    if !cfg!(feature = "mysql") {
        return None;
    }
    let base = server_url("LEX_TEST_MYSQL_URL")?;
    let name = unique("t");
    let admin = Database::connect_url(&base)
        .await
        .expect("connect to LEX_TEST_MYSQL_URL");
    admin
        .execute(&format!("CREATE DATABASE {name}"), &[])
        .await
        .unwrap();
    admin.close().await;
    let (prefix, _) = base.rsplit_once('/').unwrap();
    Some(TestDb {
        kind: BackendKind::MySql,
        url: format!("{prefix}/{name}"),
        dir: None,
    })
}

/// One isolated database on every backend available to this run: SQLite always, PostgreSQL
/// and MySQL/MariaDB when their features are on and their servers are configured.
pub async fn all() -> Vec<TestDb> {
    let mut out = vec![sqlite()];
    out.extend(postgres().await);
    out.extend(mysql().await);
    out
}

/// Runs a shell command from an env var (server stop/start controls from scripts/test.sh).
pub fn control(var: &str) -> bool {
    let Ok(cmd) = std::env::var(var) else {
        return false;
    };
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(&cmd)
        .status()
        .unwrap();
    assert!(status.success(), "{var} ({cmd}) failed");
    true
}

/// Adapts portable DDL to a backend: `{pk}` becomes an auto-generated 64-bit primary key,
/// `{ts}` a timestamp-with-time-zone column type, `{bool}` a boolean column type.
pub fn ddl(kind: BackendKind, sql: &str) -> String {
    let (pk, ts, boolean) = match kind {
        BackendKind::Sqlite => ("INTEGER PRIMARY KEY", "TEXT", "BOOLEAN"),
        BackendKind::Postgres => (
            "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
            "TIMESTAMPTZ",
            "BOOLEAN",
        ),
        BackendKind::MySql => (
            "BIGINT AUTO_INCREMENT PRIMARY KEY",
            "DATETIME(6)",
            "BOOLEAN",
        ),
    };
    sql.replace("{pk}", pk)
        .replace("{ts}", ts)
        .replace("{bool}", boolean)
}

/// How many rows `table` holds.
pub async fn row_count(db: &Database, table: &str) -> i64 {
    db.fetch_one(&format!("SELECT COUNT(*) FROM {table}"), &[])
        .await
        .unwrap_or_else(|e| panic!("counting {table}: {e}"))
        .get_at(0)
        .unwrap()
}

/// Whether `table` exists: a count over it either runs or fails with `TableMissing`.
pub async fn table_exists(db: &Database, table: &str) -> bool {
    match db
        .fetch_all(&format!("SELECT COUNT(*) FROM {table}"), &[])
        .await
    {
        Ok(_) => true,
        Err(lexigram_sql::Error::TableMissing { .. }) => false,
        Err(e) => panic!("probing {table}: {e}"),
    }
}

/// Reports a figure of the reliability group (storm, outage, restart under load, first use,
/// runtime fairness): written to stderr past the test harness' capture, and appended to the
/// file `LEX_TEST_REPORT` names, which `scripts/test.sh` prints as one table at the end.
pub fn report(group: &str, line: &str) {
    use std::io::Write;
    let line = format!("{group:<32} {line}\n");
    let _ = std::io::stderr().write_all(line.as_bytes());
    if let Ok(path) = std::env::var("LEX_TEST_REPORT")
        && let Ok(mut file) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
    {
        let _ = file.write_all(line.as_bytes());
    }
}

/// One test body run once per backend, as separate tests named after it:
///
/// ```ignore
/// common::per_backend!(
///     /// What it shows.
///     async fn counts_rows(t) {
///         let db = t.connect().await;
///         // …
///     }
/// );
/// ```
///
/// gives the tests `counts_rows::sqlite`, `counts_rows::postgres` and `counts_rows::mysql`
/// (multi-thread runtime, 2 workers), so each backend passes or fails on its own. A server
/// backend that is not configured is skipped, as with [`all`] (a failure under
/// `LEX_TEST_REQUIRE_SERVERS=1`).
#[allow(unused_macros)] // test crates that loop over `all()` instead
macro_rules! per_backend {
    ($(#[$meta:meta])* async fn $name:ident($t:ident) $body:block) => {
        $(#[$meta])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn body($t: $crate::common::TestDb) $body

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                body($crate::common::sqlite()).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(t) = $crate::common::postgres().await {
                    body(t).await;
                }
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn mysql() {
                if let Some(t) = $crate::common::mysql().await {
                    body(t).await;
                }
            }
        }
    };
}
#[allow(unused_imports)]
pub(crate) use per_backend;
