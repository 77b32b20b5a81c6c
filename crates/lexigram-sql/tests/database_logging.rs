//! `operations.echo` and the slow-statement warning, through the real `tracing` pipeline.
#![allow(clippy::unwrap_used, clippy::expect_used)] // helpers outside #[test] fns assert too

#[path = "common/capture.rs"]
mod capture;

use capture::Capture;
use lexigram::AppConfig;
use lexigram_sql::{Database, DatabaseConfig};

fn config(env: &[(&str, &str)]) -> DatabaseConfig {
    let env = env.iter().map(|(k, v)| (k.to_string(), v.to_string()));
    DatabaseConfig::from_app_config(&AppConfig::load_from(None, env).unwrap()).unwrap()
}

#[tokio::test(flavor = "current_thread")]
async fn echo_logs_statements_with_duration_and_rows_but_not_parameters() {
    let capture = Capture::default();
    let subscriber = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_writer(capture.clone())
        .with_max_level(tracing::Level::DEBUG)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let config = config(&[
        ("LEX_SQL__BACKEND__URL", "sqlite://"),
        ("LEX_SQL__OPERATIONS__ECHO", "true"),
    ]);
    assert!(config.operations.echo);
    let db = Database::from_config(&config).await.unwrap();
    db.execute("CREATE TABLE t (s TEXT)", &[]).await.unwrap();
    db.execute("INSERT INTO t VALUES (?)", &["top-secret-param".into()])
        .await
        .unwrap();
    db.fetch_all("SELECT s FROM t", &[]).await.unwrap();

    let out = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    assert!(out.contains("pool opened"), "lifecycle at DEBUG: {out}");
    assert!(out.contains("INSERT INTO t VALUES (?)"), "{out}");
    assert!(out.contains("rows=1"), "{out}");
    assert!(out.contains("elapsed_ms="), "{out}");
    assert!(
        !out.contains("top-secret-param"),
        "parameters are redacted: {out}"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn statements_over_the_threshold_warn_even_without_echo() {
    let capture = Capture::default();
    let subscriber = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_writer(capture.clone())
        .with_max_level(tracing::Level::WARN)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let config = config(&[
        ("LEX_SQL__BACKEND__URL", "sqlite://"),
        ("LEX_SQL__OPERATIONS__SLOW_QUERY_THRESHOLD", "0s"),
    ]);
    let db = Database::from_config(&config).await.unwrap();
    db.fetch_all("SELECT 42", &[]).await.unwrap();
    let out = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    assert!(
        out.contains("WARN") && out.contains("slow statement") && out.contains("SELECT 42"),
        "{out}"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn without_echo_statements_log_at_debug_and_errors_carry_their_code() {
    let capture = Capture::default();
    let subscriber = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_writer(capture.clone())
        .with_max_level(tracing::Level::DEBUG)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let db = Database::from_config(&config(&[("LEX_SQL__BACKEND__URL", "sqlite://")]))
        .await
        .unwrap();
    db.fetch_all("SELECT 42 AS answer", &[]).await.unwrap();
    db.fetch_all("SELECT * FROM no_such_table", &[])
        .await
        .unwrap_err();
    let out = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    let line = |needle: &str| {
        out.lines()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no line with {needle}: {out}"))
            .to_string()
    };
    let ok = line("SELECT 42 AS answer");
    assert!(ok.contains("DEBUG lexigram_sql::query"), "{ok}");
    assert!(
        ok.contains("rows=1") && ok.contains("backend=default"),
        "{ok}"
    );
    let failed = line("no_such_table");
    assert!(failed.contains("error=\"LEX_ERR_SQL_010\""), "{failed}");
}

#[tokio::test(flavor = "current_thread")]
async fn streamed_queries_are_echoed_and_counted_when_they_end() {
    use futures_util::TryStreamExt;

    let capture = Capture::default();
    let subscriber = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_writer(capture.clone())
        .with_max_level(tracing::Level::INFO)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let db = Database::from_config(&config(&[
        ("LEX_SQL__BACKEND__URL", "sqlite://"),
        ("LEX_SQL__OPERATIONS__ECHO", "true"),
    ]))
    .await
    .unwrap();
    let sql = "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 5) SELECT x FROM n";
    let rows: Vec<_> = db
        .fetch_stream(sql, &[])
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(rows.len(), 5);
    // Dropped after two rows: the rows read so far.
    let mut partial = db.fetch_stream(sql, &[]).await.unwrap();
    partial.try_next().await.unwrap();
    partial.try_next().await.unwrap();
    drop(partial);

    let out = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<_> = out
        .lines()
        .filter(|l| l.contains("WITH RECURSIVE"))
        .collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(
        lines[0].contains("INFO") && lines[0].contains("rows=5"),
        "{out}"
    );
    assert!(lines[1].contains("rows=2"), "{out}");
    let stats = db.query_stats();
    let streamed = stats.statements.iter().find(|s| s.sql == sql).unwrap();
    assert_eq!((streamed.calls, streamed.rows), (2, 7));
}
