//! Options every command shares, end to end through the built binary: `--backend NAME` and
//! `--all` over named backends (SQLite, PostgreSQL, MariaDB), `--config FILE`, `.env`
//! loading, `--quiet`, `--no-color`, and `lexigram completions SHELL`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // helpers outside #[test] fns assert too

#[path = "../../lexigram-sql/tests/common/mod.rs"]
mod common;
mod support;

use std::path::Path;

use support::{Run, lexigram};

/// The test servers' password: no output may contain it.
const PASSWORD: &str = "lexigram_test_pw";

fn run(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let run = lexigram(dir, args, env);
    assert!(!run.all().contains(PASSWORD), "password printed: {run:?}");
    run
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// One migration in `dir` creating the table `table`.
fn migration(dir: &Path, version: &str, table: &str) {
    write(
        &dir.join(format!("{version}_{table}.up.sql")),
        &format!("CREATE TABLE {table} (id INTEGER PRIMARY KEY);\n"),
    );
    write(
        &dir.join(format!("{version}_{table}.down.sql")),
        &format!("DROP TABLE {table};\n"),
    );
}

#[tokio::test]
async fn backend_picks_one_named_backend_and_all_migrates_every_one() {
    let work = tempfile::tempdir().unwrap();
    let cwd = work.path();
    // Two SQLite files always, plus each server this run has.
    let mut backends: Vec<(String, String)> = vec![
        (
            "main".into(),
            format!("sqlite:///{}", cwd.join("main.db").display()),
        ),
        (
            "aux".into(),
            format!("sqlite:///{}", cwd.join("aux.db").display()),
        ),
    ];
    let servers: Vec<common::TestDb> = common::all().await.into_iter().skip(1).collect();
    for t in &servers {
        backends.push((t.name().to_string(), t.url.clone()));
    }
    let mut yaml = String::from("sql:\n  backends:\n");
    for (i, (name, url)) in backends.iter().enumerate() {
        yaml.push_str(&format!(
            "    - name: {name}\n      primary: {}\n      backend:\n        url: \"{url}\"\n      migrations:\n        dir: mig_{name}\n",
            i == 0
        ));
        migration(
            &cwd.join(format!("mig_{name}")),
            "20260101000000",
            &format!("t_{name}"),
        );
    }
    write(&cwd.join("conf/app.yaml"), &yaml);
    let db = |args: &[&str]| {
        let mut all = vec!["db", "--config", "conf/app.yaml"];
        all.extend_from_slice(args);
        run(cwd, &all, &[])
    };

    // No option: the primary only.
    let out = db(&["upgrade"]).ok().to_string();
    assert!(
        out.contains("Applied 1 migration") && out.contains("main.db"),
        "{out}"
    );
    let out = db(&["status", "--backend", "aux"]).ok().to_string();
    assert!(out.contains("Pending: 20260101000000"), "{out}");

    // --backend NAME: that one only.
    let out = db(&["upgrade", "--backend", "aux"]).ok().to_string();
    assert!(out.contains("applied 20260101000000_t_aux"), "{out}");

    // --all: every backend in order; the two done already have nothing to do.
    let out = db(&["upgrade", "--all"]).ok().to_string();
    let n = backends.len();
    for (i, (name, _)) in backends.iter().enumerate() {
        assert!(
            out.contains(&format!("== backend {name} ({}/{n})", i + 1)),
            "{name}: {out}"
        );
    }
    assert_eq!(
        out.matches("Nothing to apply").count(),
        2,
        "main and aux were up to date: {out}"
    );
    assert_eq!(out.matches("Applied 1 migration").count(), n - 2, "{out}");
    let out = db(&["status", "--all"]).ok().to_string();
    assert_eq!(
        out.matches("Current version: 20260101000000").count(),
        n,
        "{out}"
    );
    for t in &servers {
        let conn = t.connect().await;
        assert!(common::table_exists(&conn, &format!("t_{}", t.name())).await);
        conn.close().await;
    }

    let err = db(&["status", "--backend", "nope"]).failed().to_string();
    assert!(
        err.contains("Unknown backend") && err.contains("main, aux") && err.contains("--backend"),
        "{err}"
    );
    let err = db(&["status", "--all", "--json"]).failed().to_string();
    assert!(
        err.contains("--all cannot be combined with --json"),
        "{err}"
    );
    let err = db(&["shell", "--all"]).failed().to_string();
    assert!(err.contains("--all works with upgrade"), "{err}");
}

#[test]
fn dotenv_supplies_the_url_and_the_process_environment_wins_over_it() {
    let work = tempfile::tempdir().unwrap();
    let cwd = work.path();
    migration(&cwd.join("migrations"), "20260101000000", "things");
    write(
        &cwd.join(".env"),
        "# local settings\nLEX_SQL__BACKEND__URL=\"sqlite:///from_dotenv.db\"\n",
    );
    run(cwd, &["db", "upgrade"], &[]).ok();
    assert!(cwd.join("from_dotenv.db").is_file());
    assert!(!cwd.join("data.db").exists());

    run(
        cwd,
        &["db", "upgrade"],
        &[("LEX_SQL__BACKEND__URL", "sqlite:///from_env.db")],
    )
    .ok();
    assert!(cwd.join("from_env.db").is_file());

    // DATABASE_URL from .env, as the fallback it is in the environment.
    write(
        &cwd.join(".env"),
        "DATABASE_URL=sqlite:///from_database_url.db\n",
    );
    run(cwd, &["db", "upgrade"], &[]).ok();
    assert!(cwd.join("from_database_url.db").is_file());

    write(&cwd.join(".env"), "THIS IS NOT A VARIABLE\n");
    let err = run(cwd, &["db", "status"], &[]).failed().to_string();
    assert!(
        err.contains("cannot read .env") && err.contains("Fix:"),
        "{err}"
    );
}

#[test]
fn config_names_the_configuration_file() {
    let work = tempfile::tempdir().unwrap();
    let cwd = work.path();
    migration(&cwd.join("elsewhere/migs"), "20260101000000", "things");
    write(
        &cwd.join("elsewhere/prod.yaml"),
        "sql:\n  backend:\n    url: sqlite:///configured.db\n  migrations:\n    dir: elsewhere/migs\n",
    );
    let out = run(
        cwd,
        &["db", "upgrade", "--config", "elsewhere/prod.yaml"],
        &[],
    )
    .ok()
    .to_string();
    assert!(out.contains("Applied 1 migration"), "{out}");
    assert!(cwd.join("configured.db").is_file());
    let err = run(cwd, &["db", "status", "--config", "missing.yaml"], &[])
        .failed()
        .to_string();
    assert!(err.contains("missing.yaml"), "{err}");
}

#[test]
fn quiet_prints_nothing_but_still_does_the_work() {
    let work = tempfile::tempdir().unwrap();
    let cwd = work.path();
    let url = format!("sqlite:///{}", cwd.join("q.db").display());
    let out = run(
        cwd,
        &["db", "create", "add_things", "--url", &url, "-q"],
        &[],
    );
    assert_eq!(out.ok(), "");
    let names: Vec<_> = std::fs::read_dir(cwd.join("migrations")).unwrap().collect();
    assert_eq!(names.len(), 2);
    let out = run(cwd, &["db", "upgrade", "--url", &url, "--quiet"], &[]);
    assert_eq!(out.ok(), "");
    let status = run(cwd, &["db", "status", "--url", &url, "--quiet"], &[])
        .ok()
        .to_string();
    assert!(
        status.contains("Pending: none"),
        "status is data, still shown: {status}"
    );
}

#[test]
fn completions_are_generated_for_each_shell() {
    let work = tempfile::tempdir().unwrap();
    let cwd = work.path();
    let bash = run(cwd, &["completions", "bash"], &[]).ok().to_string();
    assert!(
        bash.contains("_lexigram") && bash.contains("backup"),
        "{bash}"
    );
    let zsh = run(cwd, &["completions", "zsh"], &[]).ok().to_string();
    assert!(zsh.starts_with("#compdef lexigram"), "{zsh}");
    let fish = run(cwd, &["completions", "fish"], &[]).ok().to_string();
    assert!(fish.contains("complete -c lexigram"), "{fish}");
    let err = run(cwd, &["completions", "tcsh"], &[]);
    assert_eq!(err.code, 2, "{err:?}");
}

#[test]
fn no_color_is_accepted_everywhere_and_errors_carry_no_escape_codes() {
    let work = tempfile::tempdir().unwrap();
    let cwd = work.path();
    let out = run(cwd, &["--no-color", "db", "init"], &[]);
    assert!(out.ok().contains("Created migrations directory"));
    let bad = run(cwd, &["db", "nonsense", "--no-color"], &[]);
    assert_eq!(bad.code, 2, "{bad:?}");
    assert!(!bad.stderr.contains('\u{1b}'), "{bad:?}");
}
