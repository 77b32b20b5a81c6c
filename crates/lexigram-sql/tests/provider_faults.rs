//! Health with a backend down: stopping the PostgreSQL server makes the `analytics` entry
//! `down` with the error while the SQLite `primary` stays `up`, and it comes back `up` after
//! the server restarts.
//!
//! An outage of 3 s on PostgreSQL and on MariaDB/MySQL: calls fail with `Connect` within
//! `pool.connect_timeout` (+10 %), never with `PoolExhausted`, and the pool serves again
//! within 1 s of the server accepting connections again.
//!
//! A restart under write load, on both servers: 8 writers insert rows with unique ids in
//! autocommit while the server is stopped (a fast shutdown) for 2 s and started again. Every
//! write that was acknowledged is in the table afterwards (0 lost); every failure is a typed
//! `Connect` or `ConnectionLost`; writes succeed again soon after the restart. A write whose
//! acknowledgement was lost with the connection may or may not have committed: such rows are
//! counted ("in doubt"), not treated as lost.
//!
//! Stopping the shared server would break tests running beside it, so this runs only with
//! `LEX_TEST_FAULTS=1` (scripts/test.sh runs fault tests in a separate, serial pass) and needs
//! `LEX_TEST_POSTGRES_URL`, `LEX_TEST_POSTGRES_STOP` and `LEX_TEST_POSTGRES_START`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a panic is a failed assertion

mod common;

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use lexigram::{AppConfig, Application, ComponentStatus};
use lexigram_sql::{ConnectErrorKind, Database, DatabaseModule, Error};

/// Restarts the server when dropped, so a failed assertion never leaves it stopped.
struct RestartOnDrop {
    armed: bool,
    /// The env var holding the start command.
    start: &'static str,
}

impl RestartOnDrop {
    fn restart(&mut self) {
        if std::mem::take(&mut self.armed) {
            assert!(common::control(self.start), "{} is not set", self.start);
        }
    }
}

impl Drop for RestartOnDrop {
    fn drop(&mut self) {
        if self.armed {
            self.armed = false;
            let _ = common::control(self.start);
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

    let mut guard = RestartOnDrop {
        armed: true,
        start: "LEX_TEST_POSTGRES_START",
    };
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

/// Stops the server for 3 s under a pool that was serving; see the module docs.
async fn outage(db: Option<common::TestDb>, stop: &'static str, start: &'static str) {
    let Some(t) = db else {
        eprintln!("skipped: no server");
        return;
    };
    assert!(std::env::var(stop).is_ok(), "{stop} is not set");
    let connect_timeout = Duration::from_secs(1);
    let mut config = t.config();
    config.pool.min_size = 1;
    config.pool.max_size = 4;
    config.pool.timeout = Duration::from_secs(10);
    config.pool.connect_timeout = connect_timeout;
    let db = Database::from_config(&config).await.unwrap();
    db.fetch_all("SELECT 1", &[]).await.unwrap();

    let mut guard = RestartOnDrop { armed: true, start };
    let stopped = Instant::now();
    assert!(common::control(stop));
    // Past the window in which a just-used connection skips its check on checkout; the
    // pooled connections died with the server.
    tokio::time::sleep(Duration::from_millis(600)).await;
    let mut slowest = Duration::ZERO;
    let mut calls = 0;
    let mut lost = 0;
    while stopped.elapsed() < Duration::from_secs(3) {
        let started = Instant::now();
        let err = db.fetch_all("SELECT 1", &[]).await.unwrap_err();
        let took = started.elapsed();
        slowest = slowest.max(took);
        calls += 1;
        match &err {
            Error::Connect(e) => {
                assert_eq!(e.kind, ConnectErrorKind::Unreachable, "{err}");
                assert!(err.to_string().contains(&e.target), "{err}");
            }
            // A pooled connection that was in use when the server went away.
            Error::ConnectionLost { .. } => lost += 1,
            other => panic!("{}: expected Connect, got {other:?}", t.name()),
        }
        assert!(
            took <= connect_timeout + connect_timeout / 10,
            "{}: failed after {took:?}",
            t.name()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    guard.restart();
    let back = Instant::now();
    loop {
        if db.fetch_all("SELECT 1", &[]).await.is_ok() {
            break;
        }
        assert!(
            back.elapsed() < Duration::from_secs(1),
            "{}: the pool did not serve within 1 s of the restart",
            t.name()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let recovered = back.elapsed();
    common::report(
        &format!("outage: stopped {}", t.name()),
        &format!(
            "3 s down: {calls} calls failed ({lost} ConnectionLost, the rest Connect), slowest failure {slowest:?}; first success {recovered:?} after the server was back"
        ),
    );
    assert!(lost <= 1, "{}: {lost} ConnectionLost", t.name());
    db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_outage_fails_fast_with_connect_and_recovers_within_a_second() {
    if !faults_enabled() {
        eprintln!("skipped: set LEX_TEST_FAULTS=1 (scripts/test.sh runs fault tests serially)");
        return;
    }
    outage(
        common::postgres().await,
        "LEX_TEST_POSTGRES_STOP",
        "LEX_TEST_POSTGRES_START",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_outage_fails_fast_with_connect_and_recovers_within_a_second() {
    if !faults_enabled() {
        eprintln!("skipped: set LEX_TEST_FAULTS=1 (scripts/test.sh runs fault tests serially)");
        return;
    }
    outage(
        common::mysql().await,
        "LEX_TEST_MYSQL_STOP",
        "LEX_TEST_MYSQL_START",
    )
    .await;
}

/// What the writers of [`restart_under_writes`] saw.
#[derive(Default)]
struct Writes {
    acked: Vec<i64>,
    failed: Vec<i64>,
    unexpected: Vec<String>,
    first_ack_after_restart: Option<Instant>,
}

/// Runs a server control command off the runtime's worker threads.
async fn control_blocking(var: &'static str) {
    tokio::task::spawn_blocking(move || assert!(common::control(var), "{var} is not set"))
        .await
        .unwrap();
}

/// See the module docs.
async fn restart_under_writes(db: Option<common::TestDb>, stop: &'static str, start: &'static str) {
    const WRITERS: usize = 8;
    let Some(t) = db else {
        eprintln!("skipped: no server");
        return;
    };
    assert!(std::env::var(stop).is_ok(), "{stop} is not set");
    let mut config = t.config();
    config.pool.max_size = WRITERS as u32;
    config.pool.timeout = Duration::from_secs(5);
    config.pool.connect_timeout = Duration::from_secs(1);
    let db = Database::from_config(&config).await.unwrap();
    db.execute("CREATE TABLE acked_writes (id BIGINT PRIMARY KEY)", &[])
        .await
        .unwrap();
    let insert = match t.kind {
        lexigram_sql::config::BackendKind::Postgres => "INSERT INTO acked_writes (id) VALUES ($1)",
        _ => "INSERT INTO acked_writes (id) VALUES (?)",
    };

    let next = Arc::new(AtomicI64::new(1));
    let done = Arc::new(AtomicBool::new(false));
    let restarted: Arc<Mutex<Option<Instant>>> = Arc::default();
    let writes: Arc<Mutex<Writes>> = Arc::default();
    let mut writers = Vec::new();
    for _ in 0..WRITERS {
        let (db, next, done, restarted, writes) = (
            db.clone(),
            Arc::clone(&next),
            Arc::clone(&done),
            Arc::clone(&restarted),
            Arc::clone(&writes),
        );
        writers.push(tokio::spawn(async move {
            while !done.load(Ordering::Relaxed) {
                let id = next.fetch_add(1, Ordering::Relaxed);
                let result = db.execute(insert, &[id.into()]).await;
                let failed = {
                    let mut w = writes.lock().unwrap();
                    match result {
                        Ok(_) => {
                            w.acked.push(id);
                            if w.first_ack_after_restart.is_none()
                                && let Some(at) = *restarted.lock().unwrap()
                            {
                                w.first_ack_after_restart = Some(Instant::now().max(at));
                            }
                            false
                        }
                        Err(e) => {
                            w.failed.push(id);
                            if !matches!(e, Error::Connect(_) | Error::ConnectionLost { .. }) {
                                w.unexpected.push(format!("{}: {e}", e.code()));
                            }
                            true
                        }
                    }
                };
                if failed {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
        }));
    }

    let mut guard = RestartOnDrop { armed: true, start };
    tokio::time::sleep(Duration::from_secs(1)).await;
    control_blocking(stop).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    guard.armed = false;
    control_blocking(start).await;
    let back = Instant::now();
    *restarted.lock().unwrap() = Some(back);
    tokio::time::sleep(Duration::from_secs(2)).await;
    done.store(true, Ordering::Relaxed);
    for w in writers {
        w.await.unwrap();
    }

    let stored: HashSet<i64> = db
        .fetch_all("SELECT id FROM acked_writes", &[])
        .await
        .unwrap()
        .iter()
        .map(|row| row.get_at::<i64>(0).unwrap())
        .collect();
    let w = std::mem::take(&mut *writes.lock().unwrap());
    let lost: Vec<i64> = w
        .acked
        .iter()
        .copied()
        .filter(|id| !stored.contains(id))
        .collect();
    let in_doubt = w.failed.iter().filter(|id| stored.contains(id)).count();
    let recovered = w.first_ack_after_restart.map(|at| at.duration_since(back));
    common::report(
        &format!("restart under writes {}", t.name()),
        &format!(
            "{WRITERS} writers, server down 2 s: {} acknowledged, {} lost, {} failed (typed; {in_doubt} of them committed anyway: in doubt), first acknowledged write {} after the server was back",
            w.acked.len(),
            lost.len(),
            w.failed.len(),
            recovered.map_or_else(|| "never".to_string(), |d| format!("{d:?}"))
        ),
    );
    assert!(
        lost.is_empty(),
        "{}: acknowledged writes lost: {lost:?}",
        t.name()
    );
    assert!(
        w.unexpected.is_empty(),
        "{}: failures other than Connect/ConnectionLost: {:?}",
        t.name(),
        &w.unexpected[..w.unexpected.len().min(5)]
    );
    assert!(
        !w.failed.is_empty(),
        "{}: no write failed while the server was down",
        t.name()
    );
    let recovered =
        recovered.unwrap_or_else(|| panic!("{}: no write succeeded after the restart", t.name()));
    assert!(
        recovered < Duration::from_secs(2),
        "{}: first acknowledged write {recovered:?} after the restart",
        t.name()
    );
    db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_restart_under_write_load_loses_no_acknowledged_write() {
    if !faults_enabled() {
        eprintln!("skipped: set LEX_TEST_FAULTS=1 (scripts/test.sh runs fault tests serially)");
        return;
    }
    restart_under_writes(
        common::postgres().await,
        "LEX_TEST_POSTGRES_STOP",
        "LEX_TEST_POSTGRES_START",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_restart_under_write_load_loses_no_acknowledged_write() {
    if !faults_enabled() {
        eprintln!("skipped: set LEX_TEST_FAULTS=1 (scripts/test.sh runs fault tests serially)");
        return;
    }
    restart_under_writes(
        common::mysql().await,
        "LEX_TEST_MYSQL_STOP",
        "LEX_TEST_MYSQL_START",
    )
    .await;
}
