//! The read replicas of one `Database`: their pools, round-robin choice, health and the
//! "has this replica replayed that far" check behind read-your-writes sessions.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, RwLock};
use std::time::{Duration, Instant};

use crate::backend::{AnyConn, AnyPool, ReturningSlot, replication::lag};
use crate::config::{BackendSettings, ReplicaSettings};
use crate::error::{Error, Result};

use super::session::Position;

/// A replica that failed is skipped for this long, then tried again.
const RETRY_AFTER: Duration = Duration::from_secs(1);
/// A replica's lag is measured again after this long.
const LAG_CHECK_EVERY: Duration = Duration::from_secs(1);
/// At most one "no replica available" WARN per this interval.
const WARN_EVERY: Duration = Duration::from_secs(10);

/// One replica: its settings, its pool, and what is known about it.
pub(crate) struct Replica {
    /// `host:port`, for logs and health reports.
    pub(crate) target: String,
    /// The primary's settings with this replica's URL and pool.
    pub(crate) settings: BackendSettings,
    pool: RwLock<Option<AnyPool>>,
    /// Skipped until then after a failure.
    down_until: Mutex<Option<Instant>>,
    /// What the replica is known to have replayed (only grows).
    replayed: Mutex<Option<Position>>,
    /// Reads served.
    pub(crate) reads: AtomicU64,
    /// The most lag at which it serves reads (`replicas[i].max_lag`); zero: no limit.
    max_lag: Duration,
    /// The last lag measured (seconds, if the replica said) and when.
    lag_seen: Mutex<Option<(Instant, Option<f64>)>>,
}

/// All replicas of a `Database`.
#[derive(Default)]
pub(crate) struct ReplicaSet {
    pub(crate) replicas: Vec<Replica>,
    next: AtomicUsize,
    last_warn: Mutex<Option<Instant>>,
}

impl ReplicaSet {
    /// Opens a pool per replica. A replica that cannot be reached now does not fail the
    /// `Database`: it is logged, opened without connections, and marked down for a while.
    pub(crate) async fn open(primary: &BackendSettings) -> Result<ReplicaSet> {
        let opens = primary.replicas.iter().map(|r| Replica::open(primary, r));
        let replicas = futures_util::future::try_join_all(opens).await?;
        Ok(ReplicaSet {
            replicas,
            next: AtomicUsize::new(0),
            last_warn: Mutex::new(None),
        })
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.replicas.is_empty()
    }

    /// A connection to the next available replica (round-robin) that has replayed `position`
    /// (any available one without a position), with its index; `None` when the read must go
    /// to the primary (all behind the session's position, or unavailable).
    pub(crate) async fn acquire(&self, position: Option<&Position>) -> Option<(AnyConn, usize)> {
        let n = self.replicas.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        let mut behind = false;
        for k in 0..n {
            let index = (start + k) % n;
            let replica = &self.replicas[index];
            if !replica.is_available() {
                continue;
            }
            let mut conn = match replica.get().await {
                Ok(conn) => conn,
                Err(e) => {
                    replica.mark_down(&e);
                    continue;
                }
            };
            // A session read that needs a position checks it exactly; other reads skip a
            // replica further behind than its `max_lag`.
            if position.is_none() && replica.too_far_behind(&mut conn).await {
                continue;
            }
            if let Some(position) = position {
                match replica.has_replayed(&mut conn, position).await {
                    Ok(true) => {}
                    Ok(false) => {
                        behind = true;
                        continue;
                    }
                    Err(e) => {
                        replica.failed(&e);
                        continue;
                    }
                }
            }
            replica.reads.fetch_add(1, Ordering::Relaxed);
            return Some((conn, index));
        }
        if !behind {
            self.warn_none_available();
        }
        None
    }

    /// Logs, at most every [`WARN_EVERY`], that reads fall back to the primary.
    fn warn_none_available(&self) {
        let Ok(mut last) = self.last_warn.lock() else {
            return;
        };
        if last.is_some_and(|at| at.elapsed() < WARN_EVERY) {
            return;
        }
        *last = Some(Instant::now());
        let targets: Vec<&str> = self.replicas.iter().map(|r| r.target.as_str()).collect();
        tracing::warn!(
            replicas = %targets.join(", "),
            "no read replica is available: reads go to the primary (logged at most every {}s)",
            WARN_EVERY.as_secs()
        );
    }

    /// Closes every replica pool.
    pub(crate) fn close(&self) {
        for replica in &self.replicas {
            if let Ok(mut pool) = replica.pool.write() {
                pool.take();
            }
        }
    }
}

impl Replica {
    async fn open(primary: &BackendSettings, replica: &ReplicaSettings) -> Result<Replica> {
        let settings = BackendSettings {
            url: replica.url.clone(),
            pool: replica.pool.clone(),
            replicas: Vec::new(),
            ..primary.clone()
        };
        let target = replica
            .url
            .host_port()
            .unwrap_or_else(|| replica.url.redacted());
        let (pool, down) = match AnyPool::open(&settings, &ReturningSlot::default()).await {
            Ok(pool) => (pool, None),
            Err(e @ (Error::Connect(_) | Error::ConnectionLost { .. })) => {
                tracing::warn!(
                    backend = %primary.name,
                    replica = %target,
                    error = %e,
                    "read replica unreachable at start: reads skip it for now"
                );
                // Without connections, which is what min_size 0 opens.
                let mut lazy = settings.clone();
                lazy.pool.min_size = 0;
                let pool = AnyPool::open(&lazy, &ReturningSlot::default()).await?;
                (pool, Some(Instant::now() + RETRY_AFTER))
            }
            Err(e) => return Err(e),
        };
        tracing::debug!(backend = %primary.name, replica = %target, "replica pool opened");
        Ok(Replica {
            target,
            settings,
            pool: RwLock::new(Some(pool)),
            down_until: Mutex::new(down),
            replayed: Mutex::new(None),
            reads: AtomicU64::new(0),
            max_lag: replica.max_lag,
            lag_seen: Mutex::new(None),
        })
    }

    /// A pooled connection to this replica.
    pub(crate) async fn get(&self) -> Result<AnyConn> {
        let pool = self
            .pool
            .read()
            .ok()
            .and_then(|p| p.clone())
            .ok_or_else(|| Error::Closed {
                name: format!("{} replica {}", self.settings.name, self.target),
            })?;
        pool.get(&self.settings.pool).await
    }

    /// `(connections open, idle connections)`.
    pub(crate) fn state(&self) -> (u32, u32) {
        self.pool
            .read()
            .ok()
            .and_then(|p| p.as_ref().map(AnyPool::state))
            .unwrap_or((0, 0))
    }

    /// False while the replica is skipped after a failure.
    pub(crate) fn is_available(&self) -> bool {
        self.down_until
            .lock()
            .map(|d| d.is_none_or(|until| Instant::now() >= until))
            .unwrap_or(true)
    }

    /// Skips the replica for a while after an error that says it cannot serve.
    pub(crate) fn failed(&self, error: &Error) {
        if is_unavailable(error) {
            self.mark_down(error);
        }
    }

    fn mark_down(&self, error: &Error) {
        tracing::debug!(replica = %self.target, error = %error, "read replica skipped for now");
        if let Ok(mut until) = self.down_until.lock() {
            *until = Some(Instant::now() + RETRY_AFTER);
        }
    }

    /// The lag last measured, in seconds, if the replica said.
    pub(crate) fn last_lag(&self) -> Option<f64> {
        self.lag_seen
            .lock()
            .ok()
            .and_then(|seen| *seen)
            .and_then(|(_, lag)| lag)
    }

    /// Records a lag measurement (health checks make them too).
    pub(crate) fn note_lag(&self, lag: Option<f64>) {
        if let Ok(mut seen) = self.lag_seen.lock() {
            *seen = Some((Instant::now(), lag));
        }
    }

    /// Whether the replica lags more than its `max_lag`, measured on `conn` at most every
    /// [`LAG_CHECK_EVERY`]. A replica that cannot say (no privilege to ask, say) is not
    /// skipped for it.
    async fn too_far_behind(&self, conn: &mut AnyConn) -> bool {
        if self.max_lag.is_zero() {
            return false;
        }
        let cached = self.lag_seen.lock().ok().and_then(|seen| *seen);
        let lag = match cached {
            Some((at, lag)) if at.elapsed() < LAG_CHECK_EVERY => lag,
            _ => {
                let lag = match lag(self.settings.url.kind(), conn).await {
                    Ok(lag) => lag,
                    Err(e) => {
                        tracing::debug!(replica = %self.target, error = %e, "replica lag unknown");
                        None
                    }
                };
                self.note_lag(lag);
                lag
            }
        };
        let behind = lag.is_some_and(|seconds| seconds > self.max_lag.as_secs_f64());
        if behind {
            tracing::debug!(replica = %self.target, lag_seconds = ?lag, max_lag = ?self.max_lag, "read replica skipped: too far behind");
        }
        behind
    }

    /// Marks the replica available again (after a successful health check).
    pub(crate) fn mark_up(&self) {
        if let Ok(mut until) = self.down_until.lock() {
            *until = None;
        }
    }

    /// True once this replica has replayed `position`: at once when it is known to have,
    /// else asked on `conn` (PostgreSQL: `pg_last_wal_replay_lsn()`; MariaDB:
    /// `MASTER_GTID_WAIT` with a short timeout).
    async fn has_replayed(&self, conn: &mut AnyConn, position: &Position) -> Result<bool> {
        if let Ok(known) = self.replayed.lock()
            && known.as_ref().is_some_and(|k| k.covers(position))
        {
            return Ok(true);
        }
        let replayed = position.replayed_on(conn).await?;
        let reached = replayed.as_ref().is_some_and(|r| r.covers(position));
        if let Some(replayed) = replayed
            && let Ok(mut known) = self.replayed.lock()
        {
            match known.as_mut() {
                Some(k) => k.merge(&replayed),
                None => *known = Some(replayed),
            }
        }
        Ok(reached)
    }
}

/// Errors after which a replica is skipped for a while: it is down, unreachable, its pool
/// is exhausted, or it is closed. (A statement timeout is not: the primary would be no faster.)
pub(crate) fn is_unavailable(error: &Error) -> bool {
    matches!(
        error,
        Error::Connect(_)
            | Error::ConnectionLost { .. }
            | Error::PoolExhausted { .. }
            | Error::Closed { .. }
    )
}
