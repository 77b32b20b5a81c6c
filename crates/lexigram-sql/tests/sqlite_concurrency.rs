//! SQLite under async load: a second writer's wait for the write lock is bounded by
//! `pool.timeout`, and several `Database`s on one file share its write gate. (Fairness to the
//! runtime is in `sqlite_fairness.rs`, a binary of its own so that no other test loads the
//! machine while it measures.)
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::time::{Duration, Instant};

use lexigram_sql::config::PoolConfig;
use lexigram_sql::{Database, Error};

/// Slack over a configured bound: the check must hold on a loaded 2-core machine.
const SLACK: Duration = Duration::from_millis(2500);

fn assert_lock_timeout(result: Result<(), Error>, started: Instant, what: &str) {
    let waited = started.elapsed();
    match result {
        Err(Error::LockTimeout { waited: limit, .. }) => {
            assert_eq!(limit, Duration::from_secs(1));
        }
        Err(other) => panic!("{what}: expected LockTimeout, got {other}"),
        Ok(()) => panic!("{what}: succeeded while another writer held the lock"),
    }
    assert!(
        waited >= Duration::from_millis(900) && waited <= Duration::from_secs(1) + SLACK,
        "{what} gave up after {waited:?}, expected about pool.timeout = 1s"
    );
    println!("{what}: LockTimeout after {waited:?} (pool.timeout 1s)");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_writer_gives_up_after_pool_timeout() {
    let t = common::sqlite();
    let config = t
        .config()
        .with_pool(PoolConfig::default().with_timeout(Duration::from_secs(1)))
        .with_statement_timeout(Duration::from_secs(1));
    let db = Database::from_config(&config).await.unwrap();
    db.execute("CREATE TABLE t (x INTEGER)", &[]).await.unwrap();

    // One task holds a write transaction open until told to finish.
    let (release, released) = tokio::sync::oneshot::channel::<()>();
    let (holding, held) = tokio::sync::oneshot::channel::<()>();
    let holder = tokio::spawn({
        let db = db.clone();
        async move {
            let tx = db.begin().await.unwrap();
            tx.execute("INSERT INTO t VALUES (1)", &[]).await.unwrap();
            holding.send(()).unwrap();
            released.await.unwrap();
            tx.rollback().await.unwrap();
        }
    });
    held.await.unwrap();

    // Another task tries to write in every way.
    let writer = tokio::spawn({
        let db = db.clone();
        async move {
            let started = Instant::now();
            let begin = db.begin().await.map(drop);
            assert_lock_timeout(begin, started, "begin()");
            let started = Instant::now();
            let insert = db.execute("INSERT INTO t VALUES (2)", &[]).await.map(drop);
            assert_lock_timeout(insert, started, "autocommit INSERT");
            let started = Instant::now();
            let batch = db.execute_batch("INSERT INTO t VALUES (3)").await;
            assert_lock_timeout(batch, started, "execute_batch");
        }
    });
    writer.await.unwrap();
    release.send(()).unwrap();
    holder.await.unwrap();

    assert_eq!(common::row_count(&db, "t").await, 0, "nothing was written");
    // Once the lock is free, writers proceed.
    db.execute("INSERT INTO t VALUES (4)", &[]).await.unwrap();
    assert_eq!(common::row_count(&db, "t").await, 1);
    let err = Error::LockTimeout {
        waited: Duration::from_secs(1),
        detail: "x".into(),
    };
    assert!(err.to_string().starts_with("LockTimeoutError:"), "{err}");
}

/// Several `Database`s of one process on one SQLite file (a library and the application each
/// opening the same file, say): 80 units of work at once, spread over 4 of them, all commit,
/// and no writer waits for SQLite's file lock while holding a runtime thread that the lock's
/// holder needs (the 4 share one write gate per file).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_databases_on_one_file_share_the_write_gate() {
    const DATABASES: usize = 4;
    const UNITS_EACH: usize = 20;
    let t = common::sqlite();
    let mut dbs = Vec::new();
    for _ in 0..DATABASES {
        dbs.push(t.connect().await);
    }
    dbs[0]
        .execute("CREATE TABLE hits (id INTEGER PRIMARY KEY, n INTEGER)", &[])
        .await
        .unwrap();
    let started = Instant::now();
    let mut units = Vec::new();
    for db in &dbs {
        for n in 0..UNITS_EACH {
            let db = db.clone();
            units.push(tokio::spawn(async move {
                let tx = db.begin().await?;
                tx.execute("INSERT INTO hits (n) VALUES (?)", &[(n as i64).into()])
                    .await?;
                tokio::task::yield_now().await;
                tx.execute(
                    "UPDATE hits SET n = n + 1 WHERE n = ?",
                    &[(n as i64).into()],
                )
                .await?;
                tx.commit().await
            }));
        }
    }
    let mut failures = Vec::new();
    for unit in units {
        let result = tokio::time::timeout(Duration::from_secs(30), unit)
            .await
            .expect("a unit of work hung for 30 s")
            .unwrap();
        if let Err(e) = result {
            failures.push(e.to_string());
        }
    }
    let took = started.elapsed();
    assert!(
        failures.is_empty(),
        "{} failed, e.g. {:?}",
        failures.len(),
        &failures[..failures.len().min(3)]
    );
    assert_eq!(
        common::row_count(&dbs[0], "hits").await,
        (DATABASES * UNITS_EACH) as i64
    );
    assert!(
        took < Duration::from_secs(10),
        "80 short transactions took {took:?}"
    );
}
