//! Optimistic-lock retry: re-fetch, apply a change, update — a bounded number of times.

use std::time::Duration;

use super::entity::Entity;
use super::repo::Repository;
use crate::error::Result;
use crate::uow::RetryPolicy;
use crate::value::Value;

impl<E: Entity> Repository<E> {
    /// Reads the entity by key, applies `change`, and updates it; when the update loses an
    /// optimistic-lock race (or the database reports a deadlock or serialization failure) it
    /// starts over from a fresh read, at most `max_attempts` times in all (with a short, random
    /// back-off between attempts). Returns the stored entity, or the last conflict error once
    /// the attempts are used up. Any other error — including one `change` returns — ends it at
    /// once.
    ///
    /// This is the troubleshooting page's fix for `OptimisticLockError: Version mismatch`
    /// ("re-fetch the entity and retry the operation") as one call.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> lexigram_sql::Result<()> {
    /// use lexigram_sql::{Database, Entity};
    /// #[derive(Debug, Clone, Entity)]
    /// struct Counter { #[entity(key)] id: i64, n: i64, #[entity(version)] version: i64 }
    ///
    /// let db = Database::connect_url("sqlite://").await?;
    /// db.execute_batch("CREATE TABLE counters (id INTEGER PRIMARY KEY, n INTEGER NOT NULL, version INTEGER NOT NULL)").await?;
    /// let counters = db.repository::<Counter>();
    /// counters.create(Counter { id: 1, n: 0, version: 0 }).await?;
    /// let c = counters.update_with_retry(1, 5, |c| { c.n += 1; Ok(()) }).await?;
    /// assert_eq!((c.n, c.version), (1, 2));
    /// # Ok(()) }
    /// ```
    pub async fn update_with_retry<F>(
        &self,
        key: impl Into<Value>,
        max_attempts: u32,
        mut change: F,
    ) -> Result<E>
    where
        F: FnMut(&mut E) -> Result<()> + Send,
    {
        let key = key.into();
        let mut delays = RetryPolicy {
            max_attempts,
            ..UPDATE_RETRY
        }
        .delays();
        loop {
            // From the primary: a lagging replica would hand back the version that just lost.
            let mut entity = self.on_primary().find_one(key.clone()).await?;
            change(&mut entity)?;
            match self.update(&mut entity).await {
                Ok(()) => return Ok(entity),
                Err(e) if e.is_retryable() => match delays.next() {
                    Some(delay) => {
                        self.ex.database().observer().metrics.retry("update");
                        tokio::time::sleep(delay).await;
                    }
                    None => return Err(e),
                },
                Err(e) => return Err(e),
            }
        }
    }
}

/// The backoff between optimistic-lock attempts: short (a row update, not a transaction),
/// from 250 µs up to 2 ms, so competing writers spread out instead of colliding again in lock
/// step.
const UPDATE_RETRY: RetryPolicy = RetryPolicy {
    max_attempts: 1,
    base_delay: Duration::from_micros(250),
    max_delay: Duration::from_millis(2),
};
