//! Health with a backend down: stopping the PostgreSQL server makes the `analytics` entry
//! `down` with the error while the SQLite `primary` stays `up`, and it comes back `up` after
//! the server restarts.
//!
//! Stopping the shared server would break tests running beside it, so this runs only with
//! `LEX_TEST_FAULTS=1` (scripts/test.sh runs fault tests in a separate, serial pass) and needs
//! `LEX_TEST_POSTGRES_URL`, `LEX_TEST_POSTGRES_STOP` and `LEX_TEST_POSTGRES_START`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a panic is a failed assertion

mod common;

use std::time::{Duration, Instant};

use lexigram::{AppConfig, Application, ComponentStatus};
use lexigram_sql::{Database, DatabaseModule};

/// Restarts the server when dropped, so a failed assertion never leaves it stopped.
struct RestartOnDrop {
    armed: bool,
}

impl RestartOnDrop {
    fn restart(&mut self) {
        if std::mem::take(&mut self.armed) {
            assert!(
                common::control("LEX_TEST_POSTGRES_START"),
                "LEX_TEST_POSTGRES_START is not set"
            );
        }
    }
}

impl Drop for RestartOnDrop {
    fn drop(&mut self) {
        if self.armed {
            self.armed = false;
            let _ = common::control("LEX_TEST_POSTGRES_START");
        }
    }
}

fn faults_enabled() -> bool {
    std::env::var("LEX_TEST_FAULTS").as_deref() == Ok("1")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_server_is_down_in_health_while_the_primary_stays_up() {
    if !faults_enabled() {
        eprintln!("skipped: set LEX_TEST_FAULTS=1 (scripts/test.sh runs fault tests serially)");
        return;
    }
    let Some(pg) = common::postgres().await else {
        eprintln!("skipped: no PostgreSQL (LEX_TEST_POSTGRES_URL)");
        return;
    };
    assert!(
        std::env::var("LEX_TEST_POSTGRES_STOP").is_ok(),
        "LEX_TEST_POSTGRES_STOP is not set"
    );
    let dir = tempfile::tempdir().unwrap();
    let yaml = format!(
        "sql:\n  pool:\n    min_size: 1\n    max_size: 2\n    timeout: 3s\n  backends:\n    - name: primary\n      primary: true\n      backend:\n        url: 'sqlite:///{}'\n    - name: analytics\n      backend:\n        url: '{}'\n",
        dir.path().join("primary.db").display(),
        pg.url.replace('\'', "''")
    );
    let app = Application::builder("shop")
        .config(AppConfig::from_yaml_and_env(&yaml, "application.yaml", []).unwrap())
        .module(DatabaseModule::from_app_config())
        .boot()
        .await
        .unwrap();
    assert!(app.health_check().await.is_healthy());

    let mut guard = RestartOnDrop { armed: true };
    assert!(common::control("LEX_TEST_POSTGRES_STOP"));
    let started = Instant::now();
    let health = app.health_check().await;
    let took = started.elapsed();
    eprintln!("{health}");
    let primary = health.component("sql", "primary").unwrap();
    let analytics = health.component("sql", "analytics").unwrap();
    assert_eq!(primary.status, ComponentStatus::Up, "{health}");
    assert_eq!(analytics.status, ComponentStatus::Down, "{health}");
    let error = analytics.error.as_deref().unwrap();
    assert!(
        error.starts_with("DatabaseError") || error.starts_with("PoolExhaustedError"),
        "{error}"
    );
    assert!(
        !error.contains(&pg.url),
        "no URL (and so no password) in the error: {error}"
    );
    assert!(took < Duration::from_secs(10), "health check took {took:?}");
    assert!(!health.is_healthy());
    let json: serde_json::Value = serde_json::from_str(&health.to_json()).unwrap();
    assert_eq!(json["components"][1]["status"], "down");
    assert!(json["components"][1]["error"].is_string());
    // The primary keeps serving while analytics is down.
    let db = app.resolve::<Database>().unwrap();
    db.execute("CREATE TABLE t (n INTEGER)", &[]).await.unwrap();

    guard.restart();
    let started = Instant::now();
    loop {
        let health = app.health_check().await;
        if health.is_healthy() {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "analytics did not come back: {health}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    app.shutdown().await.unwrap();
}
