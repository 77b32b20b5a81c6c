//! Timeouts, pool exhaustion and connection failures: typed errors, usable pools, no secrets.
#![allow(clippy::unwrap_used, clippy::expect_used)] // helpers outside #[test] fns assert too

mod common;

use std::time::{Duration, Instant};

use lexigram_sql::config::BackendKind;
use lexigram_sql::{ConnectErrorKind, Database, Error};

/// A statement that runs for several seconds on each backend.
fn slow_sql(kind: BackendKind) -> &'static str {
    match kind {
        BackendKind::Sqlite => {
            "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 2000000000) SELECT SUM(x) AS s FROM n"
        }
        BackendKind::Postgres => "SELECT pg_sleep(10)",
        BackendKind::MySql => "SELECT SLEEP(10)",
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statement_timeout_cancels_the_statement_and_the_pool_serves_the_next() {
    for t in common::all().await {
        let config = t.config().with_statement_timeout(Duration::from_secs(1));
        let mut settings = config.backends().unwrap().remove(0);
        settings.pool.max_size = 1; // the next query must reuse (or replace) the same slot
        settings.pool.min_size = 1;
        let db = Database::connect(settings).await.unwrap();
        let started = Instant::now();
        let err = db.fetch_all(slow_sql(t.kind), &[]).await.unwrap_err();
        let took = started.elapsed();
        assert!(
            matches!(err, Error::Timeout { timeout } if timeout == Duration::from_secs(1)),
            "{}: {err:?}",
            t.name()
        );
        assert_eq!(err.code(), "LEX_ERR_SQL_007");
        assert!(err.to_string().contains("statement_timeout"), "{err}");
        assert!(
            took >= Duration::from_millis(900) && took < Duration::from_secs(6),
            "{}: took {took:?}",
            t.name()
        );
        let one: i64 = db
            .fetch_one("SELECT 1 AS one", &[])
            .await
            .unwrap()
            .get("one")
            .unwrap();
        assert_eq!(one, 1, "{}", t.name());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exhausted_pool_is_a_typed_error_naming_its_size() {
    for t in common::all().await {
        let mut settings = t.config().backends().unwrap().remove(0);
        settings.pool = settings
            .pool
            .with_min_size(1)
            .with_max_size(2)
            .with_timeout(Duration::from_millis(300));
        let db = Database::connect(settings).await.unwrap();
        // Two open streams hold both connections.
        // (Many rows, so SQLite's streaming thread blocks on the full channel, holding on.)
        let many = "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 5000) SELECT x FROM n";
        let a = db.fetch_stream(many, &[]).await.unwrap();
        let b = db.fetch_stream(many, &[]).await.unwrap();
        let started = Instant::now();
        let err = db.fetch_all("SELECT 1", &[]).await.unwrap_err();
        assert!(
            started.elapsed() >= Duration::from_millis(250),
            "waited for pool.timeout"
        );
        check_exhausted(&err, &t);
        drop((a, b));
        tokio::time::sleep(Duration::from_millis(300)).await;
        db.fetch_all("SELECT 1", &[]).await.unwrap();
    }
}

fn check_exhausted(err: &Error, t: &common::TestDb) {
    assert!(
        matches!(err, Error::PoolExhausted { max_size: 2, .. }),
        "{}: {err:?}",
        t.name()
    );
    assert_eq!(err.code(), "LEX_ERR_SQL_008");
    let msg = err.to_string();
    assert!(msg.contains("the pool has 2 connections"), "{msg}");
    assert!(msg.contains("sql.pool.max_size"), "{msg}");
}

#[tokio::test]
async fn unreachable_server_is_told_apart_and_the_password_never_shows() {
    let mut urls = Vec::new();
    if cfg!(feature = "postgres") {
        urls.push("postgresql://u:pw_secret_1@127.0.0.1:1/db");
    }
    if cfg!(feature = "mysql") {
        urls.push("mysql://u:pw_secret_1@127.0.0.1:1/db");
    }
    for url in urls {
        let err = Database::connect_url(url).await.unwrap_err();
        let msg = err.to_string();
        assert!(
            matches!(&err, Error::Connect(c) if c.kind == ConnectErrorKind::Unreachable),
            "{err:?}"
        );
        assert_eq!(err.code(), "LEX_ERR_SQL_002");
        assert!(
            msg.starts_with("DatabaseError: could not connect to server 127.0.0.1:1"),
            "{msg}"
        );
        assert!(
            !msg.contains("pw_secret_1") && !format!("{err:?}").contains("pw_secret_1"),
            "{msg}"
        );
    }
}

#[tokio::test]
async fn bad_credentials_and_missing_database_are_told_apart() {
    for t in common::all().await {
        if t.kind == BackendKind::Sqlite {
            continue;
        }
        let wrong_pw = t.url.replace("lexigram_test_pw", "not_the_password");
        let err = Database::connect_url(&wrong_pw).await.unwrap_err();
        assert!(
            matches!(&err, Error::Connect(c) if c.kind == ConnectErrorKind::Authentication),
            "{}: {err:?}",
            t.name()
        );
        assert!(
            err.to_string().contains("could not connect to server"),
            "{err}"
        );
        assert!(!err.to_string().contains("not_the_password"));

        let base = t.url.split('?').next().unwrap();
        let (prefix, _) = base.rsplit_once('/').unwrap();
        let err = Database::connect_url(&format!("{prefix}/no_such_db_xyz"))
            .await
            .unwrap_err();
        assert!(
            matches!(&err, Error::Connect(c) if c.kind == ConnectErrorKind::DatabaseMissing),
            "{}: {err:?}",
            t.name()
        );
        assert!(err.to_string().contains("create the database"), "{err}");
    }
}

#[tokio::test]
async fn sqlite_in_a_missing_directory_is_a_connect_error() {
    let err = Database::connect_url("sqlite:////nonexistent-dir-lexigram/x.db")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Connect(c) if c.kind == ConnectErrorKind::File),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("/nonexistent-dir-lexigram"),
        "{err}"
    );
}

#[tokio::test]
async fn debug_output_of_handles_never_shows_the_password() {
    for t in common::all().await {
        let db = t.connect().await;
        let shown = format!("{db:?} {:?} {}", db.settings(), db.settings().url);
        assert!(!shown.contains("lexigram_test_pw"), "{shown}");
    }
}
