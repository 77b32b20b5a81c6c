//! The pool gauges (`lexigram_sql_pool_*`), sampled once a second while the `Database` lives.

use std::sync::Arc;

use super::Database;
use crate::observe::metrics::POOL_SAMPLE_INTERVAL;

/// Spawns the sampler on the current runtime (none outside one). It holds the database only
/// weakly, and stops after the database is dropped or closed (recording zeros on close).
pub(super) fn sample_every_second(db: &Database) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return;
    };
    let weak = Arc::downgrade(&db.inner);
    runtime.spawn(async move {
        let mut tick = tokio::time::interval(POOL_SAMPLE_INTERVAL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            tick.tick().await;
            let Some(inner) = weak.upgrade() else {
                return;
            };
            let db = Database {
                inner,
                route: super::Route::Auto,
                session: None,
                scope_mark: None,
            };
            let waiters = db.pool().map(|p| p.waiters()).unwrap_or(0);
            db.inner.observer.metrics.pool(&db.pool_stats(), waiters);
            for replica in &db.inner.replicas.replicas {
                if let Some(lag) = replica.last_lag() {
                    db.inner.observer.metrics.replica_lag(&replica.target, lag);
                }
            }
            if db.is_closed() {
                return;
            }
        }
    });
}
