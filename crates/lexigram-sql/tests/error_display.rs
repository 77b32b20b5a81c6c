//! `format!("{err}")` of every wrapping variant of `Error` prints each wrapped message exactly
//! once, and `source()` walks on to what the wrapper does not print. Each error is made for
//! real (a bad URL, a missing directory, a failing migration, a server's syntax error, a cell
//! of the wrong type) except `CommitAndRollback`, whose two failures in a row cannot be
//! provoked on demand: it wraps two real errors.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::error::Error as StdError;

mod common;

use lexigram_sql::migrate::MigrationSource;
use lexigram_sql::value::{DecodeErrorKind, FromValue};
use lexigram_sql::{Database, DatabaseConfig, Error, MigrationErrorKind, Value};

/// `needle` occurs in `text` exactly once.
fn once(text: &str, needle: &str) {
    assert!(!needle.is_empty());
    assert_eq!(
        text.matches(needle).count(),
        1,
        "expected exactly one `{needle}` in `{text}`"
    );
}

/// The messages of the `source()` chain below `err`.
fn sources(err: &(dyn StdError + 'static)) -> Vec<String> {
    let mut out = Vec::new();
    let mut next = err.source();
    while let Some(e) = next {
        out.push(e.to_string());
        next = e.source();
    }
    out
}

#[test]
fn configuration_prints_the_config_error_once_and_is_transparent() {
    let err = DatabaseConfig::from_url("mydb://localhost/db").unwrap_err();
    let Error::Configuration(inner) = &err else {
        panic!("{err:?}");
    };
    let shown = format!("{err}");
    assert_eq!(shown, inner.to_string());
    once(&shown, "ConfigurationError:");
    once(&shown, "`mydb://localhost/db`");
    once(&shown, "Fix:");
    // Transparent: the source is the inner error's own source (none), never the inner error
    // itself, which would print the same text again.
    assert!(sources(&err).is_empty(), "{:?}", sources(&err));
}

#[tokio::test]
async fn connect_prints_the_connect_error_once() {
    let Err(err) = Database::connect_url("sqlite:////no/such/dir/x.db").await else {
        panic!("a missing directory connects");
    };
    let Error::Connect(inner) = &err else {
        panic!("{err:?}");
    };
    let shown = format!("{err}");
    assert_eq!(shown, inner.to_string());
    once(&shown, "DatabaseError: could not connect");
    once(&shown, &inner.reason);
    once(&shown, &inner.fix);
    for below in sources(&err) {
        assert!(
            !shown.contains(&below),
            "`{shown}` repeats its source `{below}`"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migration_prints_the_failing_statement_and_its_cause_once() {
    for target in common::all().await {
        let table = common::unique("disp");
        let up = format!("CREATE TABLE {table} (n INTEGER);\nSELEC 1;\n");
        let down = format!("DROP TABLE {table};\n");
        let source = MigrationSource::from_static(&[
            (
                Box::leak(format!("0001_{table}.up.sql").into_boxed_str()),
                Box::leak(up.into_boxed_str()),
            ),
            (
                Box::leak(format!("0001_{table}.down.sql").into_boxed_str()),
                Box::leak(down.into_boxed_str()),
            ),
        ])
        .unwrap();
        // Its own migrations table: the databases are shared with other tests.
        let mut config = target.config();
        config.migrations.table = common::unique("mig");
        let db = Database::from_config(&config).await.unwrap();
        let err = db.migrate(&source).await.unwrap_err();
        let Error::Migration(inner) = &err else {
            panic!("{}: {err:?}", target.name());
        };
        assert_eq!(inner.kind, MigrationErrorKind::Failed, "{}", target.name());
        let shown = format!("{err}");
        assert_eq!(shown, inner.to_string());
        once(&shown, "MigrationError:");
        once(&shown, "SELEC 1");
        // The driver's error, as it printed on its own, appears once inside.
        let driver = db.execute("SELEC 1", &[]).await.unwrap_err().to_string();
        once(&shown, &driver);
        assert!(sources(&err).is_empty(), "{}", target.name());
        let _ = db.execute(&format!("DROP TABLE {table}"), &[]).await;
        let _ = db
            .execute(&format!("DROP TABLE {}", config.migrations.table), &[])
            .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn driver_prints_the_server_message_only_in_its_source() {
    for target in common::all().await {
        let db = target.connect().await;
        let err = db.execute("SELEC 1", &[]).await.unwrap_err();
        let Error::Driver { message, code, .. } = &err else {
            panic!("{}: {err:?}", target.name());
        };
        let shown = format!("{err}");
        assert!(!shown.contains(message.as_str()), "{shown}");
        once(&shown, code.as_deref().unwrap());
        // The server's error comes next (SQLite's carries its result code below it).
        let chain = sources(&err);
        assert!(!chain.is_empty(), "{}", target.name());
        once(&chain[0], message);
        for below in &chain {
            assert!(
                !shown.contains(below.as_str()),
                "`{shown}` repeats `{below}`"
            );
        }
    }
}

#[tokio::test]
async fn decode_prints_the_column_and_the_conversion_failure_once() {
    let db = Database::connect_url("sqlite://").await.unwrap();
    let row = db.fetch_one("SELECT 'x' AS name", &[]).await.unwrap();
    let err = row.get::<i64>("name").unwrap_err();
    let cause = i64::from_value(&Value::Text("x".into())).unwrap_err();
    assert_eq!(cause.kind(), DecodeErrorKind::Mismatch);
    assert!(matches!(err, Error::Decode { .. }), "{err:?}");
    let shown = format!("{err}");
    once(&shown, "DecodeError:");
    once(&shown, "'name'");
    once(&shown, &cause.to_string());
}

#[tokio::test]
async fn commit_and_rollback_prints_both_failures_once() {
    let db = Database::connect_url("sqlite://").await.unwrap();
    let commit = db.execute("SELEC 1", &[]).await.unwrap_err();
    db.close().await;
    let rollback = db.execute("SELECT 1", &[]).await.unwrap_err();
    assert!(matches!(rollback, Error::Closed { .. }), "{rollback:?}");
    let (commit_text, rollback_text) = (commit.to_string(), rollback.to_string());
    let err = Error::CommitAndRollback {
        commit: Box::new(commit),
        rollback: Box::new(rollback),
    };
    let shown = format!("{err}");
    once(&shown, "UnitOfWorkError:");
    once(&shown, &commit_text);
    once(&shown, &rollback_text);
    assert!(sources(&err).is_empty(), "{:?}", sources(&err));
}
