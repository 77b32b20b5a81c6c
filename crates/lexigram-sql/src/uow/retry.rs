//! Retrying whole transactions on conflicts.

use std::future::Future;
use std::time::Duration;

use crate::database::{Database, Transaction};
use crate::error::{Error, Result};

/// How often and how patiently [`Database::retry_transaction`] retries.
///
/// ```
/// use lexigram_sql::uow::RetryPolicy;
/// let p = RetryPolicy::default();
/// assert_eq!(p.max_attempts, 10);
/// assert!(p.delay(3) <= p.max_delay);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Attempts in all, the first included (at least 1).
    pub max_attempts: u32,
    /// Delay before the second attempt; doubled each time after.
    pub base_delay: Duration,
    /// Upper bound of any delay.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 10,
            base_delay: Duration::from_millis(2),
            max_delay: Duration::from_millis(200),
        }
    }
}

impl RetryPolicy {
    /// A policy with `max_attempts` and the default delays.
    pub fn attempts(max_attempts: u32) -> Self {
        RetryPolicy {
            max_attempts,
            ..RetryPolicy::default()
        }
    }

    /// The delay after failed attempt `attempt` (1-based): exponential, capped, with jitter in
    /// its upper half so that conflicting tasks spread out.
    pub fn delay(&self, attempt: u32) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(1u32 << attempt.min(16).saturating_sub(1));
        let capped = exp.min(self.max_delay);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let half = capped / 2;
        half + Duration::from_nanos(u64::from(nanos) % (half.as_nanos().max(1) as u64))
    }
}

impl Database {
    /// Runs `f` in a transaction, committing on `Ok`; when it fails with a retryable error —
    /// an optimistic-lock conflict, a serialization failure or a deadlock (classified from the
    /// driver's native codes) — rolls back and runs the whole closure again, up to
    /// `policy.max_attempts` times with backoff. Other errors return at once.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> lexigram_sql::Result<()> {
    /// use lexigram_sql::uow::RetryPolicy;
    /// let db = lexigram_sql::Database::connect_url("sqlite://").await?;
    /// db.execute("CREATE TABLE c (n INTEGER)", &[]).await?;
    /// db.execute("INSERT INTO c VALUES (0)", &[]).await?;
    /// let n: i64 = db
    ///     .retry_transaction(RetryPolicy::default(), |tx| async move {
    ///         tx.execute("UPDATE c SET n = n + 1", &[]).await?;
    ///         tx.fetch_one("SELECT n FROM c", &[]).await?.get("n")
    ///     })
    ///     .await?;
    /// assert_eq!(n, 1);
    /// # Ok(()) }
    /// ```
    pub async fn retry_transaction<T, F, Fut>(&self, policy: RetryPolicy, mut f: F) -> Result<T>
    where
        F: FnMut(Transaction) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let mut attempt = 1;
        loop {
            match self.transaction(&mut f).await {
                Err(e) if e.is_retryable() && attempt < policy.max_attempts.max(1) => {
                    tracing::debug!(attempt, error = %e, "transaction conflict: retrying");
                    self.observer().metrics.retry("transaction");
                    tokio::time::sleep(policy.delay(attempt)).await;
                    attempt += 1;
                }
                Err(e @ Error::Conflict { .. }) | Err(e @ Error::OptimisticLock { .. }) => {
                    tracing::warn!(attempts = attempt, error = %e, "transaction conflict: giving up");
                    return Err(e);
                }
                other => return other,
            }
        }
    }
}
