//! An application's own `lexigram` binary built with `lexigram_cli::App`
//! (`examples/app_cli.rs`), end to end on every backend: `migrate --auto` from the embedded
//! manifest checked against the registered entities, and a Rust seeder run once by `db seed`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // helpers outside #[test] fns assert too

#[path = "../../lexigram-sql/tests/common/mod.rs"]
mod common;
mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use support::Run;

/// The test servers' password: no output may contain it.
const PASSWORD: &str = "lexigram_test_pw";

/// `target/<profile>/examples/app_cli`, built by `cargo test` (or `--example app_cli`).
fn app_cli() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().unwrap().parent().unwrap();
    let path = profile_dir.join("examples/app_cli");
    assert!(
        path.is_file(),
        "{} is missing: run `cargo test -p lexigram-cli` (which builds examples) or add `--example app_cli`",
        path.display()
    );
    path
}

fn app(dir: &Path, url: &str, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(app_cli());
    cmd.current_dir(dir)
        .arg("db")
        .args(args)
        .args(["--url", url]);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let run = Run::from(out);
    assert!(!run.all().contains(PASSWORD), "password printed: {run:?}");
    run
}

#[tokio::test]
async fn an_app_binary_migrates_from_its_entities_and_runs_its_rust_seeder_once() {
    for t in common::all().await {
        let work = tempfile::tempdir().unwrap();
        let cwd = work.path();
        let (url, name) = (t.url.as_str(), t.name());

        // A manifest that disagrees with the Rust type is refused before anything is written.
        let err = app(
            cwd,
            url,
            &["migrate", "-m", "init", "--auto"],
            &[("APP_CLI_STALE_MANIFEST", "1")],
        )
        .failed()
        .to_string();
        assert!(
            err.contains("entity Invoice has the column `invoices.amount_cents`")
                && err.contains("Fix:"),
            "{name}: {err}"
        );
        assert!(
            !cwd.join("migrations").exists()
                || std::fs::read_dir(cwd.join("migrations")).unwrap().count() == 0
        );

        // No entities.yaml in the directory: the embedded manifest is used.
        assert!(!cwd.join("entities.yaml").exists());
        let out = app(cwd, url, &["migrate", "-m", "init", "--auto"], &[])
            .ok()
            .to_string();
        assert!(
            out.contains("create table customers") && out.contains("create table invoices"),
            "{name}: {out}"
        );
        app(cwd, url, &["upgrade"], &[]).ok();

        // The Rust seeder runs once (no seeds directory needed).
        let out = app(cwd, url, &["seed"], &[]).ok().to_string();
        assert!(
            out.contains("rust:demo_customers: applied"),
            "{name}: {out}"
        );
        let out = app(cwd, url, &["seed"], &[]).ok().to_string();
        assert!(
            out.contains("rust:demo_customers: already applied"),
            "{name}: {out}"
        );
        let conn = t.connect().await;
        assert_eq!(common::row_count(&conn, "customers").await, 2, "{name}");
        conn.close().await;

        // reset --seed runs it again on the fresh tables.
        app(cwd, url, &["reset", "--force", "--seed"], &[]).ok();
        let conn = t.connect().await;
        assert_eq!(common::row_count(&conn, "customers").await, 2, "{name}");
        conn.close().await;
    }
}
