//! Timing: each workload runs for every peer in turn (the order rotates per repetition), on
//! fresh connections, and the per-operation wall and process-CPU times are kept; the report
//! takes the median over repetitions.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use cpu_time::ProcessTime;

use crate::work::{Kind, Work};

/// Errors of the bench: anything, with its message.
pub type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// Where a run connects.
#[derive(Debug, Clone)]
pub struct Target {
    /// The backend.
    pub kind: Kind,
    /// The server URL as the test scripts export it (empty for SQLite).
    pub url: String,
    /// The SQLite file (SQLite only).
    pub path: PathBuf,
}

impl Target {
    /// The server URL with the given query parameter appended (TLS off: every peer connects
    /// in plain text, as the raw drivers do).
    pub fn url_with(&self, param: &str) -> String {
        let sep = if self.url.contains('?') { '&' } else { '?' };
        format!("{}{sep}{param}", self.url)
    }
}

/// One peer: connects fresh, then runs `iters` operations of a workload.
pub trait Peer: Sized {
    /// Opens the peer's connection(s) to the target.
    async fn connect(t: &Target) -> Result<Self>;

    /// Untimed preparation before a timed run (data to insert, versions to update).
    /// `n` is the number of operations the next `run` will do.
    async fn prepare(&mut self, _w: Work, _n: u64) -> Result<()> {
        Ok(())
    }

    /// Runs `iters` operations; returns a count of rows seen, checked by the harness.
    async fn run(&mut self, w: Work, iters: u64) -> Result<u64>;
}

/// Per-operation medians of one peer on one workload.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    /// Wall time per operation.
    pub wall: Duration,
    /// Process CPU time per operation.
    pub cpu: Duration,
}

/// Times one fresh run of `P` on `w`: warm-up, then `iters` timed operations.
pub async fn time<P: Peer>(t: &Target, w: Work) -> Result<Sample> {
    let iters = w.iters(t.kind.is_server());
    let mut peer = P::connect(t).await?;
    if w != Work::Bulk {
        let warm = (iters / 10).max(1);
        peer.prepare(w, warm).await?;
        peer.run(w, warm).await?;
    }
    crate::schema::reset_for(t, w).await?;
    peer.prepare(w, iters).await?;
    let (wall0, cpu0) = (Instant::now(), ProcessTime::now());
    let rows = peer.run(w, iters).await?;
    let (wall, cpu) = (wall0.elapsed(), cpu0.elapsed());
    std::hint::black_box(rows);
    Ok(Sample {
        wall: wall / iters as u32,
        cpu: cpu / iters as u32,
    })
}

/// The median of some durations (the lower middle one for an even count).
pub fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v.get((v.len().saturating_sub(1)) / 2)
        .copied()
        .unwrap_or_default()
}

/// What the 8-task pool workload measured.
#[derive(Debug, Clone, Copy, Default)]
pub struct PoolSample {
    /// Select-by-key operations per second, all tasks together.
    pub ops_per_sec: f64,
    /// Tasks (of 8) that completed at least one operation.
    pub tasks_progressing: usize,
    /// The latest a 1 ms timer woke up, beyond its deadline.
    pub timer_late_max: Duration,
}

/// Runs the 1 ms timer probe until `stop` is set; returns the worst lateness.
async fn timer_probe(stop: Arc<AtomicBool>) -> Duration {
    let mut worst = Duration::ZERO;
    while !stop.load(Ordering::Relaxed) {
        let due = Instant::now() + Duration::from_millis(1);
        tokio::time::sleep_until(due.into()).await;
        worst = worst.max(Instant::now().saturating_duration_since(due));
    }
    worst
}

/// One run of the pool workload: the flag its tasks poll, the 1 ms timer probe beside them,
/// and the start time. Every peer's `pool8` starts one, spawns its tasks (each polling a
/// [`PoolRun::flag`]) and hands them to [`PoolRun::finish`] or [`PoolRun::finish_threads`].
pub struct PoolRun {
    stop: Arc<AtomicBool>,
    probe: tokio::task::JoinHandle<Duration>,
    started: Instant,
}

/// A task's view of the run: on until the run ends. (Not a bare `AtomicBool`, whose `load`
/// diesel-async's query traits would shadow.)
#[derive(Clone)]
pub struct Running(Arc<AtomicBool>);

impl Running {
    /// True while the run lasts.
    pub fn on(&self) -> bool {
        !self.0.load(Ordering::Relaxed)
    }
}

impl PoolRun {
    /// Starts the timer probe on the current runtime, and the clock.
    pub fn start() -> PoolRun {
        let stop = Arc::new(AtomicBool::new(false));
        PoolRun {
            probe: tokio::spawn(timer_probe(stop.clone())),
            stop,
            started: Instant::now(),
        }
    }

    /// The flag one task polls.
    pub fn flag(&self) -> Running {
        Running(self.stop.clone())
    }

    /// Lets async tasks run for [`POOL_RUN`], stops them and measures.
    pub async fn finish(self, tasks: Vec<tokio::task::JoinHandle<u64>>) -> Result<PoolSample> {
        self.stop_after_run().await;
        let mut counts = Vec::with_capacity(tasks.len());
        for t in tasks {
            counts.push(t.await?);
        }
        self.sample(&counts).await
    }

    /// Lets OS threads run for [`POOL_RUN`], stops them and measures.
    pub async fn finish_threads(
        self,
        threads: Vec<std::thread::JoinHandle<u64>>,
    ) -> Result<PoolSample> {
        self.stop_after_run().await;
        let counts: Vec<u64> = threads.into_iter().map(|t| t.join().unwrap_or(0)).collect();
        self.sample(&counts).await
    }

    async fn stop_after_run(&self) {
        tokio::time::sleep(POOL_RUN).await;
        self.stop.store(true, Ordering::Relaxed);
    }

    async fn sample(self, counts: &[u64]) -> Result<PoolSample> {
        let elapsed = self.started.elapsed();
        let late = self.probe.await?;
        Ok(PoolSample {
            ops_per_sec: counts.iter().sum::<u64>() as f64 / elapsed.as_secs_f64(),
            tasks_progressing: counts.iter().filter(|&&c| c > 0).count(),
            timer_late_max: late,
        })
    }
}

/// How long the pool workload runs.
pub const POOL_RUN: Duration = Duration::from_secs(2);
/// Tasks and pool size of the pool workload.
pub const POOL_TASKS: usize = 8;
