//! Failover with a multi-host URL (`postgresql://…@primary,replica1/db?target_session_attrs=
//! read-write`): the primary of `scripts/topology.sh` is stopped while a writer runs, replica 1
//! is promoted (`pg_ctl promote`), and writes succeed again. Reports the time from the
//! promotion to the first successful write; checks that no acknowledged write is lost and
//! that a transaction open at the failover fails with a typed error.
//!
//! It stops the topology's primary, so it runs only with `LEX_TEST_FAULTS=1`, alone, after
//! every other test (`scripts/test.sh`'s fault pass).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a panic is a failed assertion

mod topology;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use lexigram_sql::{Database, DatabaseConfig, Error, PoolConfig};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_resume_after_promotion_and_no_acknowledged_write_is_lost() {
    if !cfg!(feature = "postgres") {
        return;
    }
    if std::env::var("LEX_TEST_FAULTS").as_deref() != Ok("1") {
        eprintln!(
            "skipped: stops the topology's primary; run with LEX_TEST_FAULTS=1 (scripts/test.sh's fault pass)"
        );
        return;
    }
    let Some(url) = topology::var("LEX_TEST_PG_MULTIHOST_URL") else {
        return;
    };
    let config = DatabaseConfig::from_url(&url).unwrap().with_pool(
        PoolConfig::default()
            .with_max_size(4)
            .with_connect_timeout(Duration::from_secs(2))
            .with_timeout(Duration::from_secs(5)),
    );
    let db = Database::from_config(&config).await.unwrap();
    let table = topology::unique("failover");
    db.execute(
        &format!("CREATE TABLE {table} (id BIGINT PRIMARY KEY)"),
        &[],
    )
    .await
    .unwrap();
    let insert = format!("INSERT INTO {table} (id) VALUES ($1)");

    // A transaction open across the failover.
    let tx = db.begin().await.unwrap();
    tx.execute(&insert, &[(-1i64).into()]).await.unwrap();

    // The writer: one row per statement; remembers every acknowledged id with its time.
    let acked: Arc<Mutex<Vec<(i64, Instant)>>> = Arc::default();
    let errors: Arc<Mutex<Vec<String>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (db, insert, acked, errors, stop) = (
            db.clone(),
            insert.clone(),
            Arc::clone(&acked),
            Arc::clone(&errors),
            Arc::clone(&stop),
        );
        tokio::spawn(async move {
            let mut id = 0i64;
            while !stop.load(Ordering::Relaxed) {
                match db.execute(&insert, &[id.into()]).await {
                    Ok(_) => acked.lock().unwrap().push((id, Instant::now())),
                    Err(e) => errors.lock().unwrap().push(e.to_string()),
                }
                id += 1;
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
    };
    let started = Instant::now();
    while acked.lock().unwrap().len() < 20 && started.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let before_stop = acked.lock().unwrap().len();
    assert!(before_stop > 0, "the writer wrote before the failover");

    tokio::task::spawn_blocking(|| topology::control("stop-pg-primary"))
        .await
        .unwrap();
    let stopped = Instant::now();

    // The open transaction fails, typed, and is not retried anywhere.
    let err = tx.execute(&insert, &[(-2i64).into()]).await.unwrap_err();
    assert!(
        matches!(err, Error::ConnectionLost { .. }),
        "open transaction at failover: {err:?}"
    );
    assert!(tx.commit().await.is_err());

    tokio::time::sleep(Duration::from_millis(300)).await;
    tokio::task::spawn_blocking(|| topology::control("promote-pg-replica"))
        .await
        .unwrap();
    let promoted = Instant::now();

    let first_write = loop {
        let after = acked
            .lock()
            .unwrap()
            .iter()
            .find(|(_, at)| *at > promoted)
            .map(|(_, at)| *at);
        if let Some(at) = after {
            break at;
        }
        assert!(
            promoted.elapsed() < Duration::from_secs(30),
            "no write succeeded within 30 s of the promotion"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.store(true, Ordering::Relaxed);
    writer.await.unwrap();

    let acked: Vec<i64> = acked.lock().unwrap().iter().map(|(id, _)| *id).collect();
    let stored: Vec<i64> = db
        .fetch_all(&format!("SELECT id FROM {table} ORDER BY id"), &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get("id").unwrap())
        .collect();
    let lost: Vec<&i64> = acked
        .iter()
        .filter(|id| stored.binary_search(id).is_err())
        .collect();
    let errors = errors.lock().unwrap();
    println!(
        "failover: primary stopped, replica promoted {:.2?} later; first successful write {:.2?} after the promotion; {} writes acknowledged ({before_stop} before the stop), {} failed during the outage, {} acknowledged writes lost",
        promoted - stopped,
        first_write - promoted,
        acked.len(),
        errors.len(),
        lost.len()
    );
    if let Some(e) = errors.first() {
        println!("first failure during the outage: {e}");
    }
    assert!(lost.is_empty(), "acknowledged writes lost: {lost:?}");
    assert!(
        !stored.contains(&-1) && !stored.contains(&-2),
        "the open transaction left nothing"
    );
    assert!(first_write - promoted < Duration::from_secs(10));
    for e in errors.iter() {
        assert!(!e.contains("lexigram_test_pw"), "{e}");
    }
}
