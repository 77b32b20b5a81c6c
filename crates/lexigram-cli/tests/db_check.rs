//! `lexigram db check` and configuration handling through the built binary, with `assert_cmd`
//! and `predicates`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // helpers outside #[test] fns assert too

mod support;

use predicates::prelude::*;
use predicates::str::contains;
use support::cli;

/// The JSON a run printed on stdout.
fn json(output: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

#[test]
fn invalid_url_prefix_names_the_value_and_its_source() {
    let dir = tempfile::tempdir().unwrap();
    cli(dir.path())
        .args(["db", "check"])
        .env("LEX_SQL__BACKEND__URL", "mydb://localhost/db")
        .assert()
        .failure()
        .stderr(
            contains("error: ConfigurationError: Invalid database URL prefix")
                .and(contains("mydb://localhost/db"))
                .and(contains("LEX_SQL__BACKEND__URL")),
        );

    // The same through application.yaml names the file and the key.
    std::fs::write(
        dir.path().join("application.yaml"),
        "sql:\n  backend:\n    url: mydb://localhost/db\n",
    )
    .unwrap();
    cli(dir.path())
        .args(["db", "check"])
        .assert()
        .failure()
        .stderr(
            contains("Invalid database URL prefix")
                .and(contains("application.yaml"))
                .and(contains("sql.backend.url")),
        );
    assert!(!dir.path().join("data.db").exists(), "nothing connected");
}

#[test]
fn pool_bounds_are_checked_before_connecting() {
    let dir = tempfile::tempdir().unwrap();
    cli(dir.path())
        .args(["db", "check"])
        .env("LEX_SQL__POOL__MIN_SIZE", "10")
        .env("LEX_SQL__POOL__MAX_SIZE", "2")
        .assert()
        .failure()
        .stderr(contains("error: ").and(contains("max_size must be >= min_size")))
        .stderr(contains("LEX_SQL__POOL__"));
}

#[test]
fn unreachable_postgres_names_the_address_and_never_the_password() {
    let dir = tempfile::tempdir().unwrap();
    let url = "postgresql://u:pw@127.0.0.1:1/db";
    cli(dir.path())
        .args(["db", "check"])
        .env("LEX_SQL__BACKEND__URL", url)
        .assert()
        .failure()
        .stderr(
            contains("could not connect to server")
                .and(contains("127.0.0.1:1"))
                .and(contains("LEX_ERR_SQL_002"))
                .and(contains("pw").not()),
        )
        .stdout(contains("pw").not());
    let run = cli(dir.path())
        .args(["db", "check", "--json"])
        .env("LEX_SQL__BACKEND__URL", url)
        .assert()
        // a probe sees exit status 1 when a backend is down
        .code(1)
        .stdout(contains("pw").not())
        .stderr(contains("pw").not());
    let report = json(run.get_output());
    assert_eq!(report["status"], "down");
    assert_eq!(report["backends"][0]["status"], "down");
    assert_eq!(report["backends"][0]["pool"]["size"], 0);
    assert!(
        report["backends"][0]["error"]
            .as_str()
            .unwrap()
            .contains("127.0.0.1:1")
    );
}

#[test]
fn check_json_on_the_sqlite_default() {
    let dir = tempfile::tempdir().unwrap();
    let run = cli(dir.path())
        .args(["db", "check", "--json"])
        .assert()
        .success();
    let report = json(run.get_output());
    assert_eq!(report["status"], "up", "{report:#}");
    let b = &report["backends"][0];
    assert_eq!(b["name"], "default");
    assert_eq!(b["backend"], "sqlite");
    assert_eq!(b["status"], "up");
    assert!(b["latency_ms"].as_f64().unwrap() >= 0.0);
    assert_eq!(b["pool"]["max"], 10);
    assert!(b["pool"]["size"].as_u64().unwrap() >= 1);
    assert!(
        dir.path().join("data.db").exists(),
        "the default is sqlite:///data.db in the cwd"
    );
    cli(dir.path())
        .args(["db", "check"])
        .assert()
        .success()
        .stdout(contains("default").and(contains("up")));
}

#[test]
fn url_precedence() {
    let dir = tempfile::tempdir().unwrap();
    // DATABASE_URL is only a fallback: LEX_SQL__BACKEND__URL wins over it …
    cli(dir.path())
        .args(["db", "check"])
        .env("DATABASE_URL", "mydb://ignored")
        .env("LEX_SQL__BACKEND__URL", "sqlite:///env.db")
        .assert()
        .success();
    assert!(dir.path().join("env.db").exists());
    // … and it is used when nothing else names a URL.
    cli(dir.path())
        .args(["db", "check"])
        .env("DATABASE_URL", "mydb://x")
        .assert()
        .failure()
        .stderr(contains("Invalid database URL prefix").and(contains("env DATABASE_URL")));
    // --url beats everything, even a bad value in the environment.
    cli(dir.path())
        .args(["db", "check", "--url", "sqlite:///flag.db"])
        .env("LEX_SQL__BACKEND__URL", "mydb://bad")
        .assert()
        .success();
    assert!(dir.path().join("flag.db").exists());
    cli(dir.path())
        .args(["db", "check", "--url", "mydb://y"])
        .assert()
        .failure()
        .stderr(contains("error: ").and(contains("command line --url")));
}

#[test]
fn help_texts_explain_the_commands_and_the_config() {
    let dir = tempfile::tempdir().unwrap();
    let words = [
        "upgrade",
        "downgrade",
        "status",
        "history",
        "validate",
        "repair",
        "check",
        "inspect",
        "reset",
        "DATABASE_URL",
        "LEX_SQL__BACKEND__URL",
        "application.yaml",
        "sqlite:///data.db",
    ];
    let mut help = cli(dir.path()).args(["db", "--help"]).assert().success();
    for word in words {
        help = help.stdout(contains(word));
    }
    cli(dir.path())
        .args(["db", "create", "--help"])
        .assert()
        .success()
        .stdout(contains("YYYYMMDDHHMMSS"));
    cli(dir.path())
        .args(["db", "create", "bad name!"])
        .assert()
        .failure()
        .stderr(contains("error: ").and(contains("not a valid migration name")));
}

#[test]
fn check_json_reports_a_configuration_error_as_json_too() {
    let dir = tempfile::tempdir().unwrap();
    let run = cli(dir.path())
        .args(["db", "check", "--json"])
        .env("LEX_SQL__BACKEND__URL", "mydb://localhost/db")
        .assert()
        .code(1)
        .stderr(contains("error: ConfigurationError"));
    let report = json(run.get_output());
    assert_eq!(report["status"], "down");
    assert_eq!(report["backends"], serde_json::json!([]));
    assert_eq!(report["error"]["code"], "LEX_ERR_SQL_001");
    let message = report["error"]["message"].as_str().unwrap();
    assert!(message.contains("Invalid database URL prefix"), "{message}");
}
