//! Named backends in one application: a SQLite `primary` and an `analytics` backend on every
//! available backend kind; they resolve separately, health lists both, and shutdown closes
//! every pool (no connection left on the server).
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a panic is a failed assertion

mod common;

use std::time::{Duration, Instant};

use lexigram::{AppConfig, Application, ComponentStatus};
use lexigram_sql::config::BackendKind;
use lexigram_sql::{Database, DatabaseModule, Databases, Value};

/// `sql.backends` with a SQLite `primary` (file in `dir`) and `analytics` at `url`.
fn two_backends(dir: &std::path::Path, url: &str) -> AppConfig {
    let primary = format!("sqlite:///{}", dir.join("primary.db").display());
    let yaml = format!(
        "sql:\n  pool:\n    min_size: 1\n    max_size: 3\n    timeout: 5s\n  backends:\n    - name: primary\n      primary: true\n      backend:\n        url: '{primary}'\n    - name: analytics\n      backend:\n        url: '{}'\n",
        url.replace('\'', "''")
    );
    AppConfig::from_yaml_and_env(&yaml, "application.yaml", []).unwrap()
}

async fn boot(dir: &std::path::Path, url: &str) -> Application {
    Application::builder("shop")
        .config(two_backends(dir, url))
        .module(DatabaseModule::from_app_config())
        .boot()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn named_backends_resolve_separately_and_health_lists_both() {
    for t in common::all().await {
        let dir = tempfile::tempdir().unwrap();
        let app = boot(dir.path(), &t.url).await;
        let primary = app.resolve::<Database>().unwrap();
        let named_primary = app.resolve_named::<Database>("primary").unwrap();
        let analytics = app.resolve_named::<Database>("analytics").unwrap();
        assert_eq!(
            (primary.name(), primary.kind()),
            ("primary", BackendKind::Sqlite)
        );
        assert_eq!(named_primary.name(), "primary");
        assert_eq!(
            (analytics.name(), analytics.kind()),
            ("analytics", t.kind),
            "{}",
            t.name()
        );

        // Separate databases: a table made on analytics is not on primary.
        let table = common::unique("events");
        analytics
            .execute(&format!("CREATE TABLE {table} (n INTEGER)"), &[])
            .await
            .unwrap();
        let insert = format!("INSERT INTO {table} (n) VALUES (5)");
        assert_eq!(analytics.execute(&insert, &[]).await.unwrap(), 1);
        assert!(
            primary
                .execute(&format!("SELECT n FROM {table}"), &[])
                .await
                .is_err()
        );

        let registry = app.resolve::<Databases>().unwrap();
        assert_eq!(registry.names(), ["primary", "analytics"]);
        assert_eq!(registry.primary_name(), Some("primary"));

        let health = app.health_check().await;
        assert!(health.is_healthy(), "{}: {health}", t.name());
        let names: Vec<&str> = health.components.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["primary", "analytics"]);
        let entry = health.component("sql", "analytics").unwrap();
        assert_eq!(entry.status, ComponentStatus::Up);
        assert_eq!(entry.details["backend"], t.kind.name());
        assert_eq!(entry.details["pool"]["max"], 3);
        assert!(entry.latency_ms.unwrap() >= 0.0);
        let json: serde_json::Value = serde_json::from_str(&health.to_json()).unwrap();
        assert_eq!(json["components"][0]["status"], "up");
        assert_eq!(json["components"][1]["name"], "analytics");
        app.shutdown().await.unwrap();
    }
}

/// The server-side ids of `n` distinct pooled connections (held at once, then returned).
async fn pooled_connection_ids(db: &Database, n: usize) -> Vec<i64> {
    let sql = match db.kind() {
        BackendKind::Postgres => "SELECT CAST(pg_backend_pid() AS BIGINT) AS id",
        BackendKind::MySql => "SELECT CAST(CONNECTION_ID() AS SIGNED) AS id",
        BackendKind::Sqlite => unreachable!(),
    };
    let mut held = Vec::new();
    let mut ids = Vec::new();
    for _ in 0..n {
        let tx = db.begin().await.unwrap();
        ids.push(
            tx.fetch_one(sql, &[])
                .await
                .unwrap()
                .get::<i64>("id")
                .unwrap(),
        );
        held.push(tx);
    }
    for tx in held {
        tx.commit().await.unwrap();
    }
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), n, "distinct connections");
    ids
}

/// How many of `ids` are still connected, seen from a separate connection.
async fn still_connected(admin: &Database, ids: &[i64]) -> usize {
    let sql = match admin.kind() {
        BackendKind::Postgres => {
            "SELECT count(*) AS n FROM pg_stat_activity WHERE CAST(pid AS BIGINT) = $1"
        }
        BackendKind::MySql => {
            "SELECT count(*) AS n FROM information_schema.PROCESSLIST WHERE ID = ?"
        }
        BackendKind::Sqlite => unreachable!(),
    };
    let mut open = 0;
    for id in ids {
        let n: i64 = admin
            .fetch_one(sql, &[Value::Int(*id)])
            .await
            .unwrap()
            .get("n")
            .unwrap();
        open += usize::try_from(n).unwrap();
    }
    open
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_closes_every_pool_and_leaves_no_connection_on_the_server() {
    for t in common::all().await {
        let dir = tempfile::tempdir().unwrap();
        let app = boot(dir.path(), &t.url).await;
        let primary = app.resolve::<Database>().unwrap();
        let analytics = app.resolve_named::<Database>("analytics").unwrap();
        primary
            .execute("CREATE TABLE t (n INTEGER)", &[])
            .await
            .unwrap();

        if t.kind == BackendKind::Sqlite {
            app.shutdown().await.unwrap();
            for db in [&primary, &analytics] {
                assert!(db.is_closed());
                assert_eq!(db.pool_stats().size, 0);
            }
            continue;
        }

        let ids = pooled_connection_ids(&analytics, 3).await;
        let admin = t.connect().await;
        assert_eq!(
            still_connected(&admin, &ids).await,
            3,
            "{}: pool is open",
            t.name()
        );
        assert_eq!(analytics.pool_stats().size, 3);

        app.shutdown().await.unwrap();
        assert!(primary.is_closed() && analytics.is_closed());
        // The server notices closed sockets asynchronously: allow it a moment.
        let started = Instant::now();
        let mut open = still_connected(&admin, &ids).await;
        while open > 0 && started.elapsed() < Duration::from_secs(10) {
            tokio::time::sleep(Duration::from_millis(100)).await;
            open = still_connected(&admin, &ids).await;
        }
        assert_eq!(
            open,
            0,
            "{}: connections {ids:?} still open after shutdown",
            t.name()
        );
        admin.close().await;
    }
}
