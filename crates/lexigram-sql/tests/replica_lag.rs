//! Lagging replicas are skipped: with WAL replay on one PostgreSQL replica delayed by 3 s
//! (`recovery_min_apply_delay`) under a steady trickle of writes, that replica lags ~3 s, more
//! than its `max_lag` of 1 s, and plain reads go to the other replica only; once the delay is
//! lifted and it has caught up, it serves reads again. The lag is also a Prometheus gauge,
//! `lexigram_sql_replica_lag_seconds`, scraped over HTTP.
//!
//! A binary of its own: delaying a replica's replay would slow the other topology tests.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a panic is a failed assertion

mod topology;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use lexigram::{AppConfig, Application};
use lexigram_sql::{Database, DatabaseModule};

/// `GET /metrics` from the application's Prometheus endpoint; the body.
async fn scrape(port: u16) -> String {
    tokio::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream
            .write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        let (_, body) = response.split_once("\r\n\r\n").unwrap();
        body.to_string()
    })
    .await
    .unwrap()
}

/// Reads served by each replica so far, from the health report.
async fn reads(db: &Database) -> Vec<u64> {
    db.health_check()
        .await
        .replicas
        .iter()
        .map(|r| r.reads)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_further_behind_than_max_lag_serves_no_reads_until_it_catches_up() {
    if !cfg!(feature = "postgres") {
        return;
    }
    let (Some(primary), Some(replicas)) = (
        topology::var("LEX_TEST_PG_PRIMARY_URL"),
        topology::var("LEX_TEST_PG_REPLICA_URLS"),
    ) else {
        return;
    };
    let replicas: Vec<String> = replicas.split(',').map(str::to_string).collect();
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let yaml = format!(
        "metrics:\n  prometheus:\n    listen: 127.0.0.1:{port}\nsql:\n  backend:\n    url: '{primary}'\n    replicas:\n      - url: '{}'\n        max_lag: 1s\n      - url: '{}'\n        max_lag: 1s\n",
        replicas[0], replicas[1]
    );
    let app = Application::builder("lag")
        .config(AppConfig::from_yaml_and_env(&yaml, "application.yaml", []).unwrap())
        .module(DatabaseModule::from_app_config())
        .boot()
        .await
        .unwrap();
    let db = app.resolve::<Database>().unwrap();
    let table = topology::unique("lag");
    db.execute(
        &format!("CREATE TABLE {table} (id BIGSERIAL PRIMARY KEY)"),
        &[],
    )
    .await
    .unwrap();
    // Until every replica has the table, reads of it could fail there.
    tokio::time::sleep(Duration::from_millis(500)).await;

    topology::apply_delay(&replicas[..1], "3s").await;
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (db, stop, table) = (db.clone(), Arc::clone(&stop), table.clone());
        tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                db.execute(&format!("INSERT INTO {table} DEFAULT VALUES"), &[])
                    .await
                    .unwrap();
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
    };
    let outcome = async {
        // Let replica 0 fall ~3 s behind, and any lag measured before that expire.
        tokio::time::sleep(Duration::from_millis(2500)).await;
        let before = reads(&db).await;
        for _ in 0..100 {
            db.fetch_all(&format!("SELECT count(*) FROM {table}"), &[])
                .await
                .unwrap();
        }
        let after = reads(&db).await;
        let health = db.health_check().await;
        let lag = health.replicas[0].lag_seconds;
        println!(
            "max_lag 1s, replica 0 replaying 3 s late (lag {lag:?} s): 100 reads served by replica 0: {}, replica 1: {}",
            after[0] - before[0],
            after[1] - before[1]
        );
        assert!(lag.is_some_and(|s| s > 1.0), "replica 0 lag {lag:?}");
        let target = replicas[0]
            .split_once('@')
            .unwrap()
            .1
            .split('/')
            .next()
            .unwrap();
        let body = scrape(port).await;
        let gauge = body
            .lines()
            .find(|l| l.starts_with("lexigram_sql_replica_lag_seconds{") && l.contains(target))
            .and_then(|l| l.rsplit(' ').next())
            .map(|v| v.parse::<f64>().unwrap());
        assert!(
            gauge.is_some_and(|s| s > 1.0),
            "gauge {gauge:?} in:\n{body}"
        );
        assert_eq!(after[0] - before[0], 0, "the lagging replica served reads");
        assert_eq!(
            after[1] - before[1],
            100,
            "the other replica served every read"
        );
    };
    let result = futures_util::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(outcome)).await;
    stop.store(true, Ordering::Relaxed);
    writer.await.unwrap();
    topology::apply_delay(&replicas[..1], "").await;
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }

    // Caught up again, replica 0 serves reads.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let before = reads(&db).await;
        for _ in 0..20 {
            db.fetch_all(&format!("SELECT count(*) FROM {table}"), &[])
                .await
                .unwrap();
        }
        if reads(&db).await[0] > before[0] {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "replica 0 never served reads again"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    db.close().await;
}
