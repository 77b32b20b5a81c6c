//! SQLite is fair to the async runtime: tasks that run statements in a loop yield to it
//! (tokio's cooperative budget, and a time slice), so timers and other tasks on the same
//! worker run on time. A binary of its own: it measures lateness, so nothing else of this
//! crate's tests runs beside it.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

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
