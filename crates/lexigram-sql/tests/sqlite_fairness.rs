//! SQLite is fair to the async runtime: tasks that run statements in a loop yield to it
//! (tokio's cooperative budget, and a time slice), so timers and other tasks on the same
//! worker run on time. A binary of its own: it measures lateness, so nothing else of this
//! crate's tests runs beside it.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Sleeps 1 ms again and again until `stop`, and returns how late each wake-up was, sorted.
/// The first entry is how long the probe waited to be polled at all.
async fn probe(stop: Arc<AtomicBool>, spawned: Instant) -> Vec<Duration> {
    let mut lateness = vec![spawned.elapsed()];
    while !stop.load(Ordering::Relaxed) {
        let started = Instant::now();
        tokio::time::sleep(Duration::from_millis(1)).await;
        lateness.push(started.elapsed().saturating_sub(Duration::from_millis(1)));
    }
    lateness.sort();
    lateness
}

/// Sets `stop` after `run`, from a plain thread: it must not depend on the runtime.
fn stop_after(stop: &Arc<AtomicBool>, run: Duration) -> std::thread::JoinHandle<()> {
    let stop = Arc::clone(stop);
    std::thread::spawn(move || {
        std::thread::sleep(run);
        stop.store(true, Ordering::Relaxed);
    })
}

fn quantile(sorted: &[Duration], q: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * q) as usize]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// 8 tasks loop on select-by-key on a 2-worker runtime for 2 s while a 1 ms timer probes
/// the lateness of the runtime. Without yielding, 6 of the 8 tasks never ran and the timer
/// woke 2–3 s late.
///
/// Asserted: every task makes progress, and the timer's lateness beside them exceeds, by at
/// most 10 ms at p99 (the target) and 100 ms at worst, what the same probe sees
/// beside 8 perfectly cooperative tasks (20 µs of work, then a yield) on the same runtime
/// just before (the baseline). On a 2-core machine loaded by parallel builds, the operating
/// system alone makes a 1 ms timer beside busy threads 10–20 ms late at p99; that is the
/// machine, not the runtime, and the baseline takes it out.
#[test]
fn busy_statement_loops_leave_the_runtime_fair() {
    const TASKS: usize = 8;
    const RUN: Duration = Duration::from_secs(2);
    const ADDED_P99: Duration = Duration::from_millis(10);
    const ADDED_MAX: Duration = Duration::from_millis(100);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let t = common::sqlite();
    let (baseline, lateness, counts) = rt.block_on(async {
        let db = t.connect().await;
        db.execute("CREATE TABLE kv (id INTEGER PRIMARY KEY, v TEXT)", &[])
            .await
            .unwrap();
        for id in 0..100i64 {
            db.execute("INSERT INTO kv VALUES (?, 'value')", &[id.into()])
                .await
                .unwrap();
        }

        // The baseline: the same number of tasks, perfectly cooperative (20 µs of work, then
        // a yield), for 1 s.
        let stop = Arc::new(AtomicBool::new(false));
        let mut ideal = Vec::new();
        for _ in 0..TASKS {
            let stop = Arc::clone(&stop);
            ideal.push(tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    let until = Instant::now() + Duration::from_micros(20);
                    while Instant::now() < until {
                        std::hint::spin_loop();
                    }
                    tokio::task::yield_now().await;
                }
            }));
        }
        let probing = tokio::spawn(probe(Arc::clone(&stop), Instant::now()));
        let stopper = stop_after(&stop, Duration::from_secs(1));
        let baseline = probing.await.unwrap();
        for task in ideal {
            task.await.unwrap();
        }
        stopper.join().unwrap();

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
        let probing = tokio::spawn(probe(Arc::clone(&stop), Instant::now()));
        let stopper = stop_after(&stop, RUN);
        let lateness = probing.await.unwrap();
        for task in busy {
            task.await.unwrap();
        }
        stopper.join().unwrap();
        let counts: Vec<u64> = counts.iter().map(|c| c.load(Ordering::Relaxed)).collect();
        (baseline, lateness, counts)
    });
    let (p50, p99, max_late) = (
        quantile(&lateness, 0.5),
        quantile(&lateness, 0.99),
        quantile(&lateness, 1.0),
    );
    let (base_p99, base_max) = (quantile(&baseline, 0.99), quantile(&baseline, 1.0));
    let progressed = counts.iter().filter(|&&n| n > 0).count();
    common::report(
        "sqlite timer probe",
        &format!(
            "1 ms timer beside {TASKS} busy tasks on 2 workers: lateness p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms over {} wake-ups (beside cooperative tasks: p99 {:.2} ms, max {:.2} ms); tasks that made progress: {progressed}/{TASKS}",
            ms(p50),
            ms(p99),
            ms(max_late),
            lateness.len(),
            ms(base_p99),
            ms(base_max),
        ),
    );
    assert_eq!(progressed, TASKS, "every task ran: {counts:?}");
    assert!(
        p99 < base_p99 + ADDED_P99,
        "a 1 ms timer woke {p99:?} late at p99 beside the SQLite tasks, {base_p99:?} beside cooperative tasks (allowed: +{ADDED_P99:?})"
    );
    assert!(
        max_late < base_max + ADDED_MAX,
        "a 1 ms timer woke {max_late:?} late beside the SQLite tasks, at worst {base_max:?} beside cooperative tasks (allowed: +{ADDED_MAX:?})"
    );
}
