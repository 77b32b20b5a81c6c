//! Optimistic-lock retry: re-fetch, apply a change, update — a bounded number of times.

use std::time::Duration;

use super::entity::Entity;
use super::repo::Repository;
use crate::error::Result;
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
        let mut attempt = 1u32;
        loop {
            // From the primary: a lagging replica would hand back the version that just lost.
            let mut entity = self.on_primary().find_one(key.clone()).await?;
            change(&mut entity)?;
            match self.update(&mut entity).await {
                Ok(()) => return Ok(entity),
                Err(e) if e.is_retryable() && attempt < max_attempts.max(1) => {
                    self.ex.database().observer().metrics.retry("update");
                    backoff(attempt).await;
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }
}

/// Yields on the first retry, then sleeps a random time up to `min(attempt, 8)` × 250 µs, so
/// competing writers spread out instead of colliding again in lock step.
async fn backoff(attempt: u32) {
    if attempt == 1 {
        tokio::task::yield_now().await;
        return;
    }
    let ceiling = u64::from(attempt.min(8)) * 250;
    let random = (uuid::Uuid::new_v4().as_u128() as u64) % ceiling.max(1);
    tokio::time::sleep(Duration::from_micros(random)).await;
}
