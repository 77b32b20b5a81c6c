//! Health reports: per backend status, latency and pool figures; serialisable to JSON.

use std::time::Instant;

use serde::Serialize;

use super::Database;
use super::replicas::Replica;
use crate::error::Result;
use crate::observe::StatementStats;

/// Up or down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum HealthStatus {
    /// The backend answered.
    Up,
    /// The backend did not answer; see `error`.
    Down,
}

/// Pool figures at the time of the check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PoolStats {
    /// Connections open.
    pub size: u32,
    /// Connections open and idle.
    pub idle: u32,
    /// Connections checked out.
    pub in_use: u32,
    /// `pool.max_size`.
    pub max: u32,
}

/// One backend's health.
#[derive(Debug, Clone, Serialize)]
pub struct BackendHealth {
    /// Backend name.
    pub name: String,
    /// `sqlite`, `postgresql` or `mysql`.
    pub backend: &'static str,
    /// Up or down.
    pub status: HealthStatus,
    /// Round-trip time of `SELECT 1`, in milliseconds.
    pub latency_ms: f64,
    /// Pool figures.
    pub pool: PoolStats,
    /// Why it is down (no secrets).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The [`HEALTH_STATEMENTS`] statements with the most total time on this handle
    /// ([`Database::query_stats`]); left out of the JSON when empty.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub statements: Vec<StatementStats>,
    /// Each read replica (`backend.replicas`), in configuration order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub replicas: Vec<ReplicaHealth>,
}

/// One read replica's health: whether it answers, and how far it lags behind its primary.
///
/// A replica reported down is skipped by reads until it answers again.
///
/// ```no_run
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> lexigram_sql::Result<()> {
/// let db = lexigram_sql::Database::connect_url("postgresql://app@primary/shop").await?;
/// for replica in db.health_check().await.replicas {
///     println!("{} {:?} lag {:?}s", replica.target, replica.status, replica.lag_seconds);
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Serialize)]
pub struct ReplicaHealth {
    /// `host:port`.
    pub target: String,
    /// Up or down.
    pub status: HealthStatus,
    /// Round-trip time of the lag query, in milliseconds.
    pub latency_ms: f64,
    /// Replication lag in seconds: PostgreSQL, the age of the last replayed transaction
    /// (0 when everything received is replayed); MariaDB/MySQL, `Seconds_Behind_Master`.
    /// `None` when down or unknown.
    pub lag_seconds: Option<f64>,
    /// Reads this replica served since the pool opened.
    pub reads: u64,
    /// Pool figures.
    pub pool: PoolStats,
    /// Why it is down (no secrets).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// How many of the top statements a health check reports.
pub const HEALTH_STATEMENTS: usize = 5;

impl BackendHealth {
    /// True when the backend is up.
    pub fn is_up(&self) -> bool {
        self.status == HealthStatus::Up
    }
}

/// The health of several backends, e.g. an application's.
///
/// Its JSON (`lexigram db check --json`) is stable: `status` (`up` when every backend is up,
/// else `down`), then `backends`, each with `name`, `backend` (`sqlite`, `postgresql`,
/// `mysql`), `status`, `latency_ms` (round trip of `SELECT 1`), `pool` (`size`, `idle`,
/// `in_use`, `max`), `error` (only when down) and `statements` (the top statements, when
/// any). Fields may be added; none is renamed or removed.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> lexigram_sql::Result<()> {
/// let db = lexigram_sql::Database::connect_url("sqlite://").await?;
/// let report = lexigram_sql::HealthReport::new(vec![db.health_check().await]);
/// assert!(report.is_healthy());
/// let json: serde_json::Value = serde_json::from_str(&report.to_json()).unwrap();
/// assert_eq!(json["status"], "up");
/// assert_eq!(json["backends"][0]["pool"]["max"], 10);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct HealthReport {
    /// One entry per backend.
    pub backends: Vec<BackendHealth>,
}

impl Serialize for HealthReport {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Json<'a> {
            status: HealthStatus,
            backends: &'a [BackendHealth],
        }
        Json {
            status: self.status(),
            backends: &self.backends,
        }
        .serialize(serializer)
    }
}

impl HealthReport {
    /// Wraps backend entries.
    pub fn new(backends: Vec<BackendHealth>) -> Self {
        HealthReport { backends }
    }

    /// True when every backend is up.
    pub fn is_healthy(&self) -> bool {
        self.backends.iter().all(BackendHealth::is_up)
    }

    /// `Up` when every backend is up (and when there are none), else `Down`.
    pub fn status(&self) -> HealthStatus {
        if self.is_healthy() {
            HealthStatus::Up
        } else {
            HealthStatus::Down
        }
    }

    /// The report as JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

impl std::fmt::Display for HealthReport {
    /// One row per backend and per replica (a `comfy-table` table without borders), then
    /// the errors of those that are down.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut table = comfy_table::Table::new();
        table.load_style(comfy_table::presets::NOTHING).set_header([
            "backend",
            "kind",
            "status",
            "latency",
            "pool (in use/idle/max)",
            "lag",
        ]);
        let mut errors = Vec::new();
        let status = |up: bool| if up { "up" } else { "down" };
        for b in &self.backends {
            let p = &b.pool;
            table.add_row([
                b.name.clone(),
                b.backend.to_string(),
                status(b.is_up()).to_string(),
                format!("{:.2}ms", b.latency_ms),
                format!("{}/{}/{}", p.in_use, p.idle, p.max),
                String::new(),
            ]);
            if let Some(e) = &b.error {
                errors.push(format!("{}: {e}", b.name));
            }
            for r in &b.replicas {
                let p = &r.pool;
                let lag = r
                    .lag_seconds
                    .map_or_else(|| "?".to_string(), |l| format!("{l:.3}s"));
                table.add_row([
                    format!("  replica {}", r.target),
                    String::new(),
                    status(r.status == HealthStatus::Up).to_string(),
                    format!("{:.2}ms", r.latency_ms),
                    format!("{}/{}/{}", p.in_use, p.idle, p.max),
                    lag,
                ]);
                if let Some(e) = &r.error {
                    errors.push(format!("{} replica {}: {e}", b.name, r.target));
                }
            }
        }
        for line in table.lines() {
            writeln!(f, "{}", line.trim_end())?;
        }
        for e in errors {
            writeln!(f, "error: {e}")?;
        }
        Ok(())
    }
}

pub(super) async fn check(db: &Database) -> BackendHealth {
    let started = Instant::now();
    let result = db.primary().fetch_all("SELECT 1", &[]).await;
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    if result.is_ok() {
        tracing::debug!(backend = %db.name(), latency_ms, "health check: up");
    } else {
        tracing::debug!(backend = %db.name(), "health check: down");
    }
    BackendHealth {
        name: db.name().to_string(),
        backend: db.kind().name(),
        status: if result.is_ok() {
            HealthStatus::Up
        } else {
            HealthStatus::Down
        },
        latency_ms,
        pool: db.pool_stats(),
        error: result.err().map(|e| e.to_string()),
        statements: db.query_stats().top(HEALTH_STATEMENTS).to_vec(),
        replicas: futures_util::future::join_all(
            db.inner
                .replicas
                .replicas
                .iter()
                .map(|r| check_replica(db, r)),
        )
        .await,
    }
}

/// Asks one replica for its lag; marks it available or skipped accordingly.
async fn check_replica(db: &Database, replica: &Replica) -> ReplicaHealth {
    let started = Instant::now();
    let result = async {
        let mut conn = replica.get().await?;
        crate::backend::replication::lag(db.kind(), &mut conn).await
    }
    .await;
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    match &result {
        Ok(lag) => {
            replica.mark_up();
            replica.note_lag(*lag);
            if let Some(seconds) = lag {
                db.inner
                    .observer
                    .metrics
                    .replica_lag(&replica.target, *seconds);
            }
        }
        Err(e) => replica.failed(e),
    }
    let (size, idle) = replica.state();
    ReplicaHealth {
        target: replica.target.clone(),
        status: if result.is_ok() {
            HealthStatus::Up
        } else {
            HealthStatus::Down
        },
        latency_ms,
        lag_seconds: result.as_ref().ok().copied().flatten(),
        reads: replica.reads.load(std::sync::atomic::Ordering::Relaxed),
        pool: PoolStats {
            size,
            idle,
            in_use: size.saturating_sub(idle),
            max: replica.settings.pool.max_size,
        },
        error: result.err().map(|e| e.to_string()),
    }
}
