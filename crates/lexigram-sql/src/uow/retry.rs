//! Retrying whole transactions on conflicts.

use std::future::Future;
use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};

use crate::database::{Database, Transaction};
use crate::error::{Error, Result};

/// How often and how patiently [`Database::retry_transaction`] retries.
///
/// ```
/// use lexigram_sql::uow::RetryPolicy;
/// let p = RetryPolicy::default();
/// assert_eq!(p.max_attempts, 10);
/// assert!(p.delays().all(|d| d <= p.max_delay));
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

    /// The delays before the second, third, … attempt (`max_attempts - 1` of them): an
    /// exponential backoff from `base_delay`, doubling each time, with random jitter so that
    /// conflicting tasks spread out, none longer than `max_delay` (backon's
    /// [`ExponentialBuilder`]). The one backoff of every retry loop of this crate.
    ///
    /// ```
    /// use lexigram_sql::uow::RetryPolicy;
    /// let p = RetryPolicy::attempts(4);
    /// let delays: Vec<_> = p.delays().collect();
    /// assert_eq!(delays.len(), 3);
    /// assert!(delays.iter().all(|d| *d >= p.base_delay && *d <= p.max_delay));
    /// ```
    pub fn delays(&self) -> impl Iterator<Item = Duration> + Send + use<> {
        let max = self.max_delay;
        ExponentialBuilder::new()
            .with_min_delay(self.base_delay.min(max))
            .with_max_delay(max)
            .with_max_times(self.max_attempts.saturating_sub(1) as usize)
            .with_jitter()
            .build()
            .map(move |d| d.min(max))
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
        let mut delays = policy.delays();
        let mut attempt = 1;
        loop {
            let result = self.transaction(&mut f).await;
            let delay = match &result {
                Err(e) if e.is_retryable() => delays.next(),
                _ => None,
            };
            match (result, delay) {
                (Err(e), Some(delay)) => {
                    tracing::debug!(attempt, error = %e, "transaction conflict: retrying");
                    self.observer().metrics.retry("transaction");
                    tokio::time::sleep(delay).await;
                    attempt += 1;
                }
                (Err(e @ (Error::Conflict { .. } | Error::OptimisticLock { .. })), None) => {
                    tracing::warn!(attempts = attempt, error = %e, "transaction conflict: giving up");
                    return Err(e);
                }
                (other, _) => return other,
            }
        }
    }
}
