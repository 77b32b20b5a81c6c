//! `lexigram db shell` end to end: the real `psql` / `mariadb` / `sqlite3` on the configured
//! database, driven by a scripted stdin.
#![allow(clippy::unwrap_used, clippy::expect_used)] // helpers outside #[test] fns assert too

#[path = "../../lexigram-sql/tests/common/mod.rs"]
mod common;
mod support;

use std::io::Write;
use std::path::Path;
use std::process::Stdio;

use lexigram_sql::config::BackendKind;
use support::{Run, command};

/// The test servers' password: no output and no client command line may contain it.
const PASSWORD: &str = "lexigram_test_pw";

/// Runs `lexigram db shell --url <url>` with `script` on stdin.
fn shell(dir: &Path, url: &str, script: &str, env: &[(&str, &str)]) -> Run {
    let mut child = command(dir, &["db", "shell", "--url", url], env)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let run = Run::from(out);
    assert!(!run.all().contains(PASSWORD), "password printed: {run:?}");
    run
}

/// A wrapper directory that logs each client's command line, then runs the real client.
fn shim(dir: &Path, log: &Path) -> String {
    let shim = dir.join("shim");
    std::fs::create_dir_all(&shim).unwrap();
    let path = std::env::var("PATH").unwrap();
    for tool in ["psql", "mariadb", "sqlite3"] {
        let real = std::env::split_paths(&path)
            .map(|d| d.join(tool))
            .find(|p| p.is_file())
            .unwrap_or_else(|| panic!("{tool} not on PATH"));
        let script = format!(
            "#!/bin/sh\necho \"{tool} $*\" >> '{}'\nexec '{}' \"$@\"\n",
            log.display(),
            real.display()
        );
        let file = shim.join(tool);
        std::fs::write(&file, script).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    format!("{}:{path}", shim.display())
}

#[tokio::test]
async fn shell_runs_the_backends_client_on_the_configured_database_with_a_scripted_stdin() {
    for t in common::all().await {
        let work = tempfile::tempdir().unwrap();
        let cwd = work.path();
        let name = t.name();
        // A row only this test's database holds: reading it back proves which database the
        // client opened (on PostgreSQL, also the schema the URL pins).
        let conn = t.connect().await;
        conn.execute("CREATE TABLE shell_probe (word VARCHAR(40))", &[])
            .await
            .unwrap();
        conn.execute("INSERT INTO shell_probe VALUES ('xyzzy-probe')", &[])
            .await
            .unwrap();
        conn.close().await;

        let log = cwd.join("clients.log");
        let path = shim(cwd, &log);
        let run = shell(
            cwd,
            &t.url,
            "SELECT 40 + 2 AS answer;\nSELECT word FROM shell_probe;\n",
            &[("PATH", path.as_str())],
        );
        let out = run.ok();
        assert!(out.contains("42"), "{name}: {out}");
        assert!(out.contains("xyzzy-probe"), "{name}: {out}");

        // A failing script: the client's status is the command's status.
        let run = shell(
            cwd,
            &t.url,
            "SELECT * FROM no_such_table;\n",
            &[("PATH", path.as_str())],
        );
        if t.kind != BackendKind::Postgres {
            // psql continues after an error in a script and exits 0; the others stop with 1.
            assert_ne!(run.code, 0, "{name}: {run:?}");
        }
        assert!(run.stderr.contains("no_such_table"), "{name}: {run:?}");

        let lines = std::fs::read_to_string(&log).unwrap();
        let tool = match t.kind {
            BackendKind::Postgres => "psql ",
            BackendKind::MySql => "mariadb ",
            BackendKind::Sqlite => "sqlite3 ",
        };
        assert!(lines.starts_with(tool), "{name}: {lines}");
        assert!(
            !lines.contains(PASSWORD),
            "password on a command line: {lines}"
        );
        for arg in lines.split_whitespace() {
            if let Some(p) = arg.strip_prefix("--defaults-extra-file=") {
                assert!(!Path::new(p).exists(), "{p} left behind");
            }
        }
    }
}

#[tokio::test]
async fn shell_on_an_in_memory_database_explains_why_not() {
    let work = tempfile::tempdir().unwrap();
    let run = shell(work.path(), "sqlite://", "SELECT 1;\n", &[]);
    let err = run.failed();
    assert!(err.contains("in-memory") && err.contains("Fix:"), "{err}");
}

#[tokio::test]
async fn a_missing_client_says_what_to_install() {
    for t in common::all().await {
        let work = tempfile::tempdir().unwrap();
        let empty = work.path().join("empty-path");
        std::fs::create_dir_all(&empty).unwrap();
        let path = empty.display().to_string();
        let run = shell(
            work.path(),
            &t.url,
            "SELECT 1;\n",
            &[("PATH", path.as_str())],
        );
        let err = run.failed();
        let (tool, package) = match t.kind {
            BackendKind::Postgres => ("`psql`", "postgresql-client"),
            BackendKind::MySql => ("`mariadb` / `mysql`", "mariadb-client"),
            BackendKind::Sqlite => ("`sqlite3`", "apt-get install sqlite3"),
        };
        assert!(
            err.contains(tool) && err.contains("not found on PATH") && err.contains(package),
            "{}: {err}",
            t.name()
        );
    }
}
