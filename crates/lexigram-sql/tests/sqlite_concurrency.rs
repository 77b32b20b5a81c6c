//! SQLite under async load: a second writer's wait for the write lock is bounded by
//! `pool.timeout`, and tasks that run statements in a loop yield to the runtime (tokio's
//! cooperative budget), so timers and other tasks on the same worker run on time.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
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
        .with_pool(PoolConfig {
            timeout: Duration::from_secs(1),
            ..PoolConfig::default()
        })
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

/// 8 tasks loop on select-by-key on a 2-worker runtime for 2 s while a 1 ms timer probes
/// the lateness of the runtime. Without yielding, 6 of the 8 tasks never ran and the timer
/// woke 2–3 s late. Asserted: the timer wakes within 10 ms at p99 (the target), and
/// within 100 ms always, a bound that holds on a 2-core machine loaded by parallel builds,
/// where the operating system, not the runtime, adds tens of milliseconds now and then.
#[test]
fn busy_statement_loops_leave_the_runtime_fair() {
    const TASKS: usize = 8;
    const RUN: Duration = Duration::from_secs(2);
    const P99_BOUND: Duration = Duration::from_millis(10);
    const MAX_BOUND: Duration = Duration::from_millis(100);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let t = common::sqlite();
    let (lateness, counts) = rt.block_on(async {
        let db = t.connect().await;
        db.execute("CREATE TABLE kv (id INTEGER PRIMARY KEY, v TEXT)", &[])
            .await
            .unwrap();
        for id in 0..100i64 {
            db.execute("INSERT INTO kv VALUES (?, 'value')", &[id.into()])
                .await
                .unwrap();
        }
        let stop = Arc::new(AtomicBool::new(false));
        let counts: Arc<Vec<AtomicU64>> = Arc::new((0..TASKS).map(|_| AtomicU64::new(0)).collect());
        let mut busy = Vec::new();
        for task in 0..TASKS {
            let (db, stop, counts) = (db.clone(), Arc::clone(&stop), Arc::clone(&counts));
            busy.push(tokio::spawn(async move {
                let mut id = task as i64;
                while !stop.load(Ordering::Relaxed) {
                    db.fetch_one("SELECT v FROM kv WHERE id = ?", &[(id % 100).into()])
                        .await
                        .unwrap();
                    id += 7;
                    counts[task].fetch_add(1, Ordering::Relaxed);
                }
            }));
        }
        let spawned = Instant::now();
        let probe = tokio::spawn({
            let stop = Arc::clone(&stop);
            async move {
                // A probe that is not polled at all until the busy tasks stop is late too.
                let mut lateness = vec![spawned.elapsed()];
                while !stop.load(Ordering::Relaxed) {
                    let started = Instant::now();
                    tokio::time::sleep(Duration::from_millis(1)).await;
                    lateness.push(started.elapsed().saturating_sub(Duration::from_millis(1)));
                }
                lateness.sort();
                lateness
            }
        });
        // The stop signal comes from a plain thread: it must not depend on the runtime.
        let stopper = {
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                std::thread::sleep(RUN);
                stop.store(true, Ordering::Relaxed);
            })
        };
        let lateness = probe.await.unwrap();
        for task in busy {
            task.await.unwrap();
        }
        stopper.join().unwrap();
        let counts: Vec<u64> = counts.iter().map(|c| c.load(Ordering::Relaxed)).collect();
        (lateness, counts)
    });
    let at = |q: f64| lateness[((lateness.len() - 1) as f64 * q) as usize];
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let (p50, p99, max_late) = (at(0.5), at(0.99), at(1.0));
    let progressed = counts.iter().filter(|&&n| n > 0).count();
    common::report(
        "sqlite timer probe",
        &format!(
            "1 ms timer beside {TASKS} busy tasks on 2 workers: lateness p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms over {} wake-ups; tasks that made progress: {progressed}/{TASKS}",
            ms(p50),
            ms(p99),
            ms(max_late),
            lateness.len()
        ),
    );
    assert_eq!(progressed, TASKS, "every task ran: {counts:?}");
    assert!(
        p99 < P99_BOUND,
        "a 1 ms timer woke {p99:?} late at p99 (bound {P99_BOUND:?})"
    );
    assert!(
        max_late < MAX_BOUND,
        "a 1 ms timer woke {max_late:?} late (bound {MAX_BOUND:?})"
    );
}
