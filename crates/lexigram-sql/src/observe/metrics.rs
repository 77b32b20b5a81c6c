//! Metrics through the [`metrics`] facade: whatever recorder the application installs
//! (`lexigram`'s Prometheus exporter, or any other) receives them; without one they cost a
//! no-op call.
//!
//! | metric | kind | labels |
//! |---|---|---|
//! | `lexigram_sql_pool_size` / `_idle` / `_in_use` / `_max` / `_waiters` | gauge (sampled every second) | `backend` |
//! | `lexigram_sql_pool_acquire_wait_seconds` | histogram | `backend` |
//! | `lexigram_sql_statement_duration_seconds` | histogram | `backend`, `system`, `operation` |
//! | `lexigram_sql_errors_total` | counter | `backend`, `code` (`LEX_ERR_SQL_NNN`) |
//! | `lexigram_sql_slow_statements_total` | counter | `backend` |
//! | `lexigram_sql_retries_total` | counter | `backend`, `kind` (`update`, `transaction`) |
//! | `lexigram_sql_replica_lag_seconds` | gauge (the last lag measured, sampled every second) | `backend`, `replica` (`host:port`) |

use std::sync::OnceLock;
use std::time::Duration;

use metrics::{Histogram, SharedString};

use super::span::OPERATIONS;

use crate::database::PoolStats;
use crate::error::Error;

/// Gauge: connections open.
pub const POOL_SIZE: &str = "lexigram_sql_pool_size";
/// Gauge: connections open and idle.
pub const POOL_IDLE: &str = "lexigram_sql_pool_idle";
/// Gauge: connections checked out.
pub const POOL_IN_USE: &str = "lexigram_sql_pool_in_use";
/// Gauge: `pool.max_size`.
pub const POOL_MAX: &str = "lexigram_sql_pool_max";
/// Gauge: callers waiting in line for a connection.
pub const POOL_WAITERS: &str = "lexigram_sql_pool_waiters";
/// Histogram: time to check a connection out of the pool, in seconds.
pub const ACQUIRE_WAIT: &str = "lexigram_sql_pool_acquire_wait_seconds";
/// Histogram: statement duration in seconds, by backend, system and operation.
pub const STATEMENT_DURATION: &str = "lexigram_sql_statement_duration_seconds";
/// Counter: errors by stable code.
pub const ERRORS: &str = "lexigram_sql_errors_total";
/// Counter: statements slower than `operations.slow_query_threshold`.
pub const SLOW_STATEMENTS: &str = "lexigram_sql_slow_statements_total";
/// Counter: retries after a retryable conflict (optimistic lock, serialization, deadlock).
pub const RETRIES: &str = "lexigram_sql_retries_total";

/// Gauge: a read replica's replication lag in seconds, as last measured.
pub const REPLICA_LAG: &str = "lexigram_sql_replica_lag_seconds";

/// How often the pool gauges are sampled.
pub const POOL_SAMPLE_INTERVAL: Duration = Duration::from_secs(1);

/// The metric labels of one backend, and the handles of its per-statement metrics.
#[derive(Debug)]
pub(crate) struct Labels {
    backend: SharedString,
    system: &'static str,
    /// Registered once with the recorder current at the first statement; used while that is
    /// still the current recorder (a recorder installed later gets per-call registration).
    handles: OnceLock<Handles>,
}

/// The per-statement metrics, each registered at its first use: no key is built on the hot
/// path, and operations never seen make no series.
#[derive(Debug)]
struct Handles {
    recorder: usize,
    statements: [OnceLock<Histogram>; OPERATIONS.len()],
    acquire: Histogram,
}

/// The identity of the recorder `metrics` would use now (global, local or no-op).
fn current_recorder() -> usize {
    metrics::with_recorder(|r| r as *const dyn metrics::Recorder as *const () as usize)
}

impl Labels {
    pub(crate) fn new(backend: &str, system: &'static str) -> Labels {
        let backend: std::sync::Arc<str> = backend.into();
        Labels {
            backend: SharedString::from(backend),
            system,
            handles: OnceLock::new(),
        }
    }

    fn statement_histogram(&self, operation: &'static str) -> Histogram {
        metrics::histogram!(
            STATEMENT_DURATION,
            "backend" => self.backend.clone(),
            "system" => self.system,
            "operation" => operation
        )
    }

    fn acquire_histogram(&self) -> Histogram {
        metrics::histogram!(ACQUIRE_WAIT, "backend" => self.backend.clone())
    }

    /// The cached handles, if they belong to the current recorder.
    fn handles(&self) -> Option<&Handles> {
        let recorder = current_recorder();
        let handles = self.handles.get_or_init(|| Handles {
            recorder,
            statements: std::array::from_fn(|_| OnceLock::new()),
            acquire: self.acquire_histogram(),
        });
        (handles.recorder == recorder).then_some(handles)
    }

    /// One finished statement: its duration, and its error or slowness.
    pub(crate) fn statement(
        &self,
        operation: usize,
        elapsed: Duration,
        error: Option<&Error>,
        slow: bool,
    ) {
        let seconds = elapsed.as_secs_f64();
        let name = OPERATIONS.get(operation).copied().unwrap_or("OTHER");
        match self.handles().and_then(|h| h.statements.get(operation)) {
            Some(slot) => slot
                .get_or_init(|| self.statement_histogram(name))
                .record(seconds),
            None => self.statement_histogram(name).record(seconds),
        }
        if let Some(e) = error {
            self.error(e);
        }
        if slow {
            metrics::counter!(SLOW_STATEMENTS, "backend" => self.backend.clone()).increment(1);
        }
    }

    /// One error, by code.
    pub(crate) fn error(&self, e: &Error) {
        metrics::counter!(ERRORS, "backend" => self.backend.clone(), "code" => e.code())
            .increment(1);
    }

    /// One checkout: its wait, and its error if it failed.
    pub(crate) fn acquired(&self, waited: Duration, error: Option<&Error>) {
        match self.handles() {
            Some(h) => h.acquire.record(waited.as_secs_f64()),
            None => self.acquire_histogram().record(waited.as_secs_f64()),
        }
        if let Some(e) = error {
            self.error(e);
        }
    }

    /// One retry after a conflict; `kind` is `update` or `transaction`.
    pub(crate) fn retry(&self, kind: &'static str) {
        metrics::counter!(RETRIES, "backend" => self.backend.clone(), "kind" => kind).increment(1);
    }

    /// The pool's figures now, and the callers waiting.
    pub(crate) fn pool(&self, stats: &PoolStats, waiters: u32) {
        let b = || self.backend.clone();
        metrics::gauge!(POOL_SIZE, "backend" => b()).set(stats.size);
        metrics::gauge!(POOL_IDLE, "backend" => b()).set(stats.idle);
        metrics::gauge!(POOL_IN_USE, "backend" => b()).set(stats.in_use);
        metrics::gauge!(POOL_MAX, "backend" => b()).set(stats.max);
        metrics::gauge!(POOL_WAITERS, "backend" => b()).set(waiters);
    }

    /// A replica's last measured lag.
    pub(crate) fn replica_lag(&self, replica: &str, seconds: f64) {
        metrics::gauge!(REPLICA_LAG, "backend" => self.backend.clone(), "replica" => replica.to_string())
            .set(seconds);
    }
}

#[cfg(test)]
mod tests;
