//! The troubleshooting page's debug tips through the built binary: `LEX_SQL__OPERATIONS__ECHO=true`
//! alone prints every statement, `LEX_LOG_LEVEL=DEBUG` (or `LEX_LOGGING__LEVEL`) shows
//! statements and lifecycle at DEBUG, and piped logs carry no colour codes.
#![allow(clippy::unwrap_used, clippy::expect_used)] // helpers outside #[test] fns assert too

mod support;

use std::path::Path;

use support::{Run, lexigram};

const ESC: char = '\u{1b}';

/// A directory with one migration creating `echo_items`, so `upgrade` runs known SQL.
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let mig = dir.path().join("migrations");
    std::fs::create_dir(&mig).unwrap();
    std::fs::write(
        mig.join("20260101000000_echo.up.sql"),
        "CREATE TABLE echo_items (id INTEGER PRIMARY KEY, label TEXT);\n",
    )
    .unwrap();
    std::fs::write(
        mig.join("20260101000000_echo.down.sql"),
        "DROP TABLE echo_items;\n",
    )
    .unwrap();
    dir
}

fn upgrade(dir: &Path, env: &[(&str, &str)]) -> Run {
    let run = lexigram(dir, &["db", "upgrade"], env);
    run.ok();
    run
}

#[test]
fn echo_alone_prints_every_statement_without_colour_on_a_pipe() {
    let dir = project();
    let run = upgrade(dir.path(), &[("LEX_SQL__OPERATIONS__ECHO", "true")]);
    let err = &run.stderr;
    assert!(err.contains("CREATE TABLE echo_items"), "{err}");
    assert!(err.contains("lexigram_sql::query"), "{err}");
    assert!(err.contains("INFO"), "{err}");
    assert!(
        err.contains("elapsed_ms=") && err.contains("rows=") && err.contains("params="),
        "{err}"
    );
    assert!(err.contains("backend=default"), "{err}");
    assert!(!err.contains(ESC), "escape codes in piped logs: {err:?}");

    // `status` reads the migration table: its SELECT is echoed too.
    let status = lexigram(
        dir.path(),
        &["db", "status"],
        &[("LEX_SQL__OPERATIONS__ECHO", "true")],
    );
    status.ok();
    assert!(status.stderr.contains("SELECT"), "{}", status.stderr);

    // Without echo, at the default level, nothing is logged.
    let quiet = lexigram(dir.path(), &["db", "status"], &[]);
    quiet.ok();
    assert!(
        !quiet.stderr.contains("lexigram_sql::query"),
        "{}",
        quiet.stderr
    );
}

#[test]
fn debug_level_shows_statements_at_debug_under_both_spellings() {
    for var in ["LEX_LOG_LEVEL", "LEX_LOGGING__LEVEL"] {
        let dir = project();
        let run = upgrade(dir.path(), &[(var, "DEBUG")]);
        let err = &run.stderr;
        assert!(
            err.lines().any(|l| l.contains("DEBUG")
                && l.contains("lexigram_sql::query")
                && l.contains("CREATE TABLE echo_items")),
            "{var}: {err}"
        );
        assert!(err.contains("pool opened"), "{var}: lifecycle: {err}");
        assert!(!err.contains(ESC), "{var}: {err:?}");
    }
}

#[test]
fn colours_on_a_terminal_unless_no_color() {
    // `script` runs the binary on a pseudo-terminal (util-linux); skip where it is missing.
    if std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("skipped: no `script` to provide a terminal");
        return;
    }
    let on_tty = |no_color: Option<&str>| {
        let dir = project();
        let bin = env!("CARGO_BIN_EXE_lexigram");
        // The clean environment of `support::command`, given to `script` and so to the binary.
        let clean = support::command(dir.path(), &[], &[("LEX_SQL__OPERATIONS__ECHO", "true")]);
        let mut script = std::process::Command::new("script");
        script
            .current_dir(dir.path())
            .args(["-qec", &format!("{bin} db upgrade"), "/dev/null"]);
        for (k, v) in clean.get_envs() {
            match v {
                Some(v) => script.env(k, v),
                None => script.env_remove(k),
            };
        }
        if let Some(v) = no_color {
            script.env("NO_COLOR", v);
        }
        let out = script.output().unwrap();
        assert!(out.status.success(), "{out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let coloured = on_tty(None);
    assert!(coloured.contains("CREATE TABLE echo_items"), "{coloured}");
    assert!(
        coloured.contains(ESC),
        "a terminal gets colours: {coloured:?}"
    );
    let plain = on_tty(Some("1"));
    assert!(plain.contains("CREATE TABLE echo_items"), "{plain}");
    assert!(!plain.contains(ESC), "NO_COLOR=1: {plain:?}");
}
