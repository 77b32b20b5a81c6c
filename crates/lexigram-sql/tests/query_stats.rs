//! `Database::query_stats()` after a real mixed load on every backend: the slowest statement
//! first, calls / errors / rows counted, parameter values never kept, memory bounded.
#![allow(clippy::unwrap_used, clippy::expect_used)] // helpers outside #[test] fns assert too

mod common;

use std::time::Duration;

use lexigram_sql::config::BackendKind;
use lexigram_sql::observe::stats::CAPACITY;

/// A statement that takes far longer than the rest of the load on `kind` (≥ 40 ms).
fn slow_sql(kind: BackendKind) -> &'static str {
    match kind {
        BackendKind::Postgres => "SELECT pg_sleep(0.3)::text",
        BackendKind::MySql => "SELECT SLEEP(0.3)",
        BackendKind::Sqlite => {
            "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 400000) SELECT COUNT(*) FROM n"
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mixed_load_lists_the_slowest_first_and_stays_bounded() {
    for t in common::all().await {
        let db = t.connect().await;
        let name = t.name();
        db.execute(
            "CREATE TABLE qs_items (code VARCHAR(32) PRIMARY KEY, n INTEGER)",
            &[],
        )
        .await
        .unwrap();
        let insert = match t.kind {
            BackendKind::Postgres => "INSERT INTO qs_items (code, n) VALUES ($1, $2)",
            _ => "INSERT INTO qs_items (code, n) VALUES (?, ?)",
        };
        db.reset_query_stats();
        for i in 0..30 {
            db.execute(insert, &[format!("secret-{i}").into(), i.into()])
                .await
                .unwrap();
        }
        for _ in 0..20 {
            db.fetch_all("SELECT code, n FROM qs_items", &[])
                .await
                .unwrap();
        }
        db.fetch_all(slow_sql(t.kind), &[]).await.unwrap();
        db.execute(insert, &["secret-1".into(), 1.into()])
            .await
            .unwrap_err();

        let stats = db.query_stats();
        let top = &stats.statements[0];
        assert_eq!(
            top.sql,
            slow_sql(t.kind),
            "{name}: slowest first: {stats:#?}"
        );
        assert_eq!(top.calls, 1);
        assert!(
            top.max_ms >= 40.0 && top.p95_ms <= top.max_ms,
            "{name}: {top:?}"
        );
        let inserts = stats.statements.iter().find(|s| s.sql == insert).unwrap();
        assert_eq!(
            (inserts.calls, inserts.errors, inserts.rows),
            (31, 1, 30),
            "{name}"
        );
        assert_eq!(inserts.operation, "INSERT");
        assert!(inserts.mean_ms > 0.0 && inserts.p95_ms > 0.0, "{inserts:?}");
        let selects = stats
            .statements
            .iter()
            .find(|s| s.sql == "SELECT code, n FROM qs_items")
            .unwrap();
        assert_eq!((selects.calls, selects.rows), (20, 600), "{name}");
        let slow = stats.slow(Duration::from_millis(40));
        assert_eq!(slow.len(), 1, "{name}: {slow:?}");
        assert!(
            !format!("{stats:?}").contains("secret-"),
            "parameter values never kept"
        );
        db.execute("DROP TABLE qs_items", &[]).await.unwrap();
        db.close().await;
    }
}

#[tokio::test(flavor = "current_thread")]
async fn distinct_statement_texts_beyond_the_capacity_keep_memory_bounded() {
    let t = common::sqlite();
    let db = t.connect().await;
    db.fetch_all(slow_sql(BackendKind::Sqlite), &[])
        .await
        .unwrap();
    let runs = 3 * CAPACITY;
    for i in 0..runs {
        db.fetch_all(&format!("SELECT {i} AS n"), &[])
            .await
            .unwrap();
    }
    let stats = db.query_stats();
    assert!(stats.tracked <= CAPACITY, "{}", stats.tracked);
    assert_eq!(stats.statements.len(), stats.tracked);
    assert!(
        stats.evicted as usize >= runs + 1 - CAPACITY,
        "{} evicted",
        stats.evicted
    );
    assert_eq!(stats.statements[0].sql, slow_sql(BackendKind::Sqlite));
}

#[tokio::test(flavor = "current_thread")]
async fn the_application_health_report_lists_the_top_statements() {
    use lexigram::{AppConfig, Application};
    use lexigram_sql::{Database, DatabaseModule};

    let app = Application::builder("stats")
        .config(AppConfig::empty())
        .module(DatabaseModule::stub())
        .boot()
        .await
        .unwrap();
    let db = app.resolve::<Database>().unwrap();
    for i in 0..10 {
        db.fetch_all(&format!("SELECT {i}"), &[]).await.unwrap();
    }
    db.fetch_all(slow_sql(BackendKind::Sqlite), &[])
        .await
        .unwrap();
    let json: serde_json::Value =
        serde_json::from_str(&app.health_check().await.to_json()).unwrap();
    assert_eq!(json["status"], "up", "{json:#}");
    assert_eq!(
        json["components"][0]["details"]["pool"]["max"], 10,
        "{json:#}"
    );
    let statements = json["components"][0]["details"]["statements"]
        .as_array()
        .unwrap_or_else(|| panic!("{json:#}"));
    assert_eq!(
        statements.len(),
        lexigram_sql::database::HEALTH_STATEMENTS,
        "{json:#}"
    );
    assert_eq!(
        statements[0]["sql"],
        slow_sql(BackendKind::Sqlite),
        "{json:#}"
    );
    for key in [
        "calls",
        "errors",
        "rows",
        "total_ms",
        "mean_ms",
        "p95_ms",
        "max_ms",
        "operation",
    ] {
        assert!(!statements[0][key].is_null(), "{key}: {json:#}");
    }
    app.shutdown().await.unwrap();
}
