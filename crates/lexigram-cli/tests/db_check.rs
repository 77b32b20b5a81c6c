//! `lexigram db check` and configuration handling through the built binary.
#![allow(clippy::unwrap_used, clippy::expect_used)] // helpers outside #[test] fns assert too

mod support;

use support::lexigram;

#[test]
fn invalid_url_prefix_names_the_value_and_its_source() {
    let dir = tempfile::tempdir().unwrap();
    let run = lexigram(
        dir.path(),
        &["db", "check"],
        &[("LEX_SQL__BACKEND__URL", "mydb://localhost/db")],
    );
    let err = run.failed();
    assert!(
        err.contains("error: ConfigurationError: Invalid database URL prefix"),
        "{err}"
    );
    assert!(
        err.contains("mydb://localhost/db") && err.contains("LEX_SQL__BACKEND__URL"),
        "{err}"
    );

    // The same through application.yaml names the file and the key.
    std::fs::write(
        dir.path().join("application.yaml"),
        "sql:\n  backend:\n    url: mydb://localhost/db\n",
    )
    .unwrap();
    let err = lexigram(dir.path(), &["db", "check"], &[])
        .failed()
        .to_string();
    assert!(err.contains("Invalid database URL prefix"), "{err}");
    assert!(
        err.contains("application.yaml") && err.contains("sql.backend.url"),
        "{err}"
    );
    assert!(!dir.path().join("data.db").exists(), "nothing connected");
}

#[test]
fn pool_bounds_are_checked_before_connecting() {
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("LEX_SQL__POOL__MIN_SIZE", "10"),
        ("LEX_SQL__POOL__MAX_SIZE", "2"),
    ];
    let run = lexigram(dir.path(), &["db", "check"], &env);
    let err = run.failed();
    assert!(err.contains("max_size must be >= min_size"), "{err}");
    assert!(err.contains("LEX_SQL__POOL__"), "{err}");
}

#[test]
fn unreachable_postgres_names_the_address_and_never_the_password() {
    let dir = tempfile::tempdir().unwrap();
    let env = [("LEX_SQL__BACKEND__URL", "postgresql://u:pw@127.0.0.1:1/db")];
    let run = lexigram(dir.path(), &["db", "check"], &env);
    let err = run.failed();
    assert!(
        err.contains("could not connect to server") && err.contains("127.0.0.1:1"),
        "{err}"
    );
    assert!(err.contains("LEX_ERR_SQL_002"), "{err}");
    assert!(!run.all().contains("pw"), "password printed: {}", run.all());
    let json = lexigram(dir.path(), &["db", "check", "--json"], &env);
    assert_eq!(
        json.code, 1,
        "a probe sees exit status 1 when a backend is down"
    );
    let report: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(report["status"], "down");
    assert_eq!(report["backends"][0]["status"], "down");
    assert_eq!(report["backends"][0]["pool"]["size"], 0);
    assert!(
        report["backends"][0]["error"]
            .as_str()
            .unwrap()
            .contains("127.0.0.1:1")
    );
    assert!(!json.all().contains("pw"));
}

#[test]
fn check_json_on_the_sqlite_default() {
    let dir = tempfile::tempdir().unwrap();
    let run = lexigram(dir.path(), &["db", "check", "--json"], &[]);
    let report: serde_json::Value = serde_json::from_str(run.ok()).unwrap();
    assert_eq!(run.code, 0);
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
    let table = lexigram(dir.path(), &["db", "check"], &[]);
    assert!(
        table.ok().contains("default") && table.stdout.contains("up"),
        "{}",
        table.stdout
    );
}

#[test]
fn url_precedence() {
    let dir = tempfile::tempdir().unwrap();
    // DATABASE_URL is only a fallback: LEX_SQL__BACKEND__URL wins over it …
    let env = [
        ("DATABASE_URL", "mydb://ignored"),
        ("LEX_SQL__BACKEND__URL", "sqlite:///env.db"),
    ];
    lexigram(dir.path(), &["db", "check"], &env).ok();
    assert!(dir.path().join("env.db").exists());
    // … and it is used when nothing else names a URL.
    let err = lexigram(
        dir.path(),
        &["db", "check"],
        &[("DATABASE_URL", "mydb://x")],
    )
    .failed()
    .to_string();
    assert!(
        err.contains("Invalid database URL prefix") && err.contains("env DATABASE_URL"),
        "{err}"
    );
    // --url beats everything, even a bad value in the environment.
    let env = [("LEX_SQL__BACKEND__URL", "mydb://bad")];
    lexigram(
        dir.path(),
        &["db", "check", "--url", "sqlite:///flag.db"],
        &env,
    )
    .ok();
    assert!(dir.path().join("flag.db").exists());
    let err = lexigram(dir.path(), &["db", "check", "--url", "mydb://y"], &[])
        .failed()
        .to_string();
    assert!(err.contains("command line --url"), "{err}");
}

#[test]
fn help_texts_explain_the_commands_and_the_config() {
    let dir = tempfile::tempdir().unwrap();
    let help = lexigram(dir.path(), &["db", "--help"], &[])
        .ok()
        .to_string();
    for word in [
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
    ] {
        assert!(help.contains(word), "`db --help` lacks {word}:\n{help}");
    }
    let create = lexigram(dir.path(), &["db", "create", "--help"], &[])
        .ok()
        .to_string();
    assert!(create.contains("YYYYMMDDHHMMSS"), "{create}");
    let err = lexigram(dir.path(), &["db", "create", "bad name!"], &[])
        .failed()
        .to_string();
    assert!(err.contains("not a valid migration name"), "{err}");
}

#[test]
fn check_json_reports_a_configuration_error_as_json_too() {
    let dir = tempfile::tempdir().unwrap();
    let env = [("LEX_SQL__BACKEND__URL", "mydb://localhost/db")];
    let run = lexigram(dir.path(), &["db", "check", "--json"], &env);
    assert_eq!(run.code, 1, "{run:?}");
    let report: serde_json::Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {run:?}"));
    assert_eq!(report["status"], "down");
    assert_eq!(report["backends"], serde_json::json!([]));
    assert_eq!(report["error"]["code"], "LEX_ERR_SQL_001");
    let message = report["error"]["message"].as_str().unwrap();
    assert!(message.contains("Invalid database URL prefix"), "{message}");
    assert!(
        run.stderr.contains("error: ConfigurationError"),
        "{}",
        run.stderr
    );
}
