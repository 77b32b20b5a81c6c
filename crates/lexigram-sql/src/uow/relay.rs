//! The outbox relay: claims batches of stored events, hands them to a publisher, and marks them
//! published. At least once, in order per aggregate, with any number of relays at once.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;

use super::outbox::{EVENT_COLUMNS, OutboxEvent, ensure_table};
use crate::config::OutboxConfig;
use crate::database::{Database, Executor};
use crate::error::Result;
use crate::uow::OUTBOX_TABLE;
use crate::value::Value;

/// Why a publisher could not publish a batch (any error of the user's transport).
pub type PublishError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Where a relay hands the events: a message broker, a webhook, another service.
///
/// Implemented for every `Fn(Vec<OutboxEvent>) -> impl Future<Output = Result<(), PublishError>>`
/// closure. Returning `Ok` means every event of the batch was delivered; the relay then marks
/// them published. Returning an error gives the batch back to be published again.
pub trait Publisher: Send + Sync + 'static {
    /// Delivers one batch, oldest event first.
    fn publish(
        &self,
        events: Vec<OutboxEvent>,
    ) -> impl Future<Output = std::result::Result<(), PublishError>> + Send;
}

impl<F, Fut> Publisher for F
where
    F: Fn(Vec<OutboxEvent>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = std::result::Result<(), PublishError>> + Send,
{
    fn publish(
        &self,
        events: Vec<OutboxEvent>,
    ) -> impl Future<Output = std::result::Result<(), PublishError>> + Send {
        self(events)
    }
}

/// What a relay did, from [`RelayHandle::stop`] or [`Relay::run_once`] calls.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RelayStats {
    /// Batches the publisher accepted.
    pub batches: u64,
    /// Events marked published.
    pub published: u64,
    /// Batches the publisher refused (given back to be published again).
    pub failed_batches: u64,
}

/// A relay of one database's outbox: how it claims, and what it guarantees.
///
/// **Claiming.** A relay claims a batch in a short transaction: it selects the oldest
/// publishable events — pending, not claimed by another relay (or claimed by one whose lease
/// ran out), and the oldest pending event of their aggregate — locking them with
/// `FOR UPDATE SKIP LOCKED` on PostgreSQL and MariaDB/MySQL (so relays never wait for each
/// other; SQLite serializes writers instead), and stamps them with its id and a lease
/// (`outbox.lease`). It then publishes outside any transaction and marks the batch published.
///
/// **Guarantees.**
/// - *At least once*: an event is marked published only after the publisher returned `Ok`.
///   A relay that stops between the two (a crash) leaves its batch claimed until the lease
///   runs out; then another relay publishes it again. A publisher error gives the batch back
///   at once.
/// - *In order per aggregate*: an event is claimable only when no earlier event of its
///   aggregate is pending, so the events of one aggregate are published one batch after the
///   other, in the order they were stored. Events without an aggregate have no order.
/// - A publisher that takes longer than the lease may see its batch published again by
///   another relay: set `outbox.lease` above the longest publish.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> lexigram_sql::Result<()> {
/// use std::sync::{Arc, Mutex};
/// use lexigram_sql::config::OutboxConfig;
/// use lexigram_sql::uow::{OutboxEvent, PublishError, Relay};
///
/// let db = lexigram_sql::Database::connect_url("sqlite://").await?;
/// let mut uow = db.unit_of_work().await?;
/// uow.register_event_for("order-1", "OrderPlaced", &serde_json::json!({ "total": 10 }))?;
/// uow.commit().await?;
///
/// let sent: Arc<Mutex<Vec<String>>> = Arc::default();
/// let log = Arc::clone(&sent);
/// let publisher = move |events: Vec<OutboxEvent>| {
///     let log = Arc::clone(&log);
///     async move {
///         log.lock().unwrap().extend(events.into_iter().map(|e| e.event_type));
///         Ok::<(), PublishError>(())
///     }
/// };
/// let relay = Relay::new(&db, OutboxConfig::default());
/// assert_eq!(relay.run_once(&publisher).await?, 1);
/// assert_eq!(*sent.lock().unwrap(), ["OrderPlaced"]);
/// assert_eq!(relay.run_once(&publisher).await?, 0); // nothing left
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Relay {
    db: Database,
    config: OutboxConfig,
    id: String,
}

impl Relay {
    /// A relay of `db`'s outbox with the settings of `sql.outbox`, under a fresh id.
    pub fn new(db: &Database, config: OutboxConfig) -> Self {
        Relay {
            db: db.clone(),
            config,
            id: uuid::Uuid::new_v4().simple().to_string(),
        }
    }

    /// This relay's id, stamped on the events it claims.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Claims, publishes and marks one batch; returns how many events were published (0 when
    /// nothing was publishable, or when a short batch is still waiting for
    /// `outbox.batch_max_age`). A publisher error gives the batch back and is logged at WARN;
    /// it is not an error of this call, which fails only on database errors.
    pub async fn run_once<P: Publisher>(&self, publisher: &P) -> Result<u64> {
        Ok(self.step(publisher).await?.published)
    }

    /// Runs the relay on its own task until [`RelayHandle::stop`]. Database errors are logged
    /// at WARN and retried after `outbox.poll_interval`.
    pub fn spawn<P: Publisher>(self, publisher: P) -> RelayHandle {
        let stop = Arc::new(tokio::sync::Notify::new());
        let stopped = Arc::clone(&stop);
        let task = tokio::spawn(async move {
            let mut stats = RelayStats::default();
            loop {
                let idle = match self.step(&publisher).await {
                    Ok(step) => {
                        stats.batches += u64::from(step.published > 0);
                        stats.published += step.published;
                        stats.failed_batches += u64::from(step.failed);
                        step.published == 0
                    }
                    Err(e) => {
                        tracing::warn!(relay = %self.id, error = %e, "outbox relay: claiming or marking a batch failed; retrying");
                        true
                    }
                };
                let pause = if idle {
                    self.config.poll_interval
                } else {
                    Duration::ZERO
                };
                tokio::select! {
                    () = stopped.notified() => break,
                    () = tokio::time::sleep(pause) => {}
                }
            }
            stats
        });
        RelayHandle { stop, task }
    }

    async fn step<P: Publisher>(&self, publisher: &P) -> Result<Step> {
        ensure_table(&self.db).await?;
        if !self.batch_ready().await? {
            return Ok(Step::default());
        }
        let batch = self.claim().await?;
        if batch.is_empty() {
            return Ok(Step::default());
        }
        let ids: Vec<i64> = batch.iter().map(|e| e.id).collect();
        match publisher.publish(batch).await {
            Ok(()) => Ok(Step {
                published: self.complete(&ids).await?,
                failed: false,
            }),
            Err(e) => {
                tracing::warn!(relay = %self.id, events = ids.len(), error = %e, "outbox relay: the publisher refused a batch; it will be published again");
                self.release(&ids).await?;
                Ok(Step {
                    published: 0,
                    failed: true,
                })
            }
        }
    }

    /// The condition that makes an event claimable now (parameter 1: the current time):
    /// pending, not under another relay's lease, and without an aggregate or the oldest
    /// pending event of its aggregate. (The oldest per aggregate is one grouped subquery: a
    /// correlated `NOT EXISTS` was planned as a nested loop over fresh, unanalysed tables —
    /// 3.6 s against 4 ms for 5,000 pending events on PostgreSQL.)
    fn claimable(&self, ex: &Executor) -> String {
        format!(
            "o.published_at IS NULL AND (o.claimed_until IS NULL OR o.claimed_until < {}) AND (o.aggregate_id IS NULL OR o.id IN (SELECT MIN(e.id) FROM {OUTBOX_TABLE} e WHERE e.published_at IS NULL AND e.aggregate_id IS NOT NULL GROUP BY e.aggregate_id))",
            ex.dialect().placeholders(1, 1)
        )
    }

    /// With `outbox.batch_max_age`, whether a full batch is waiting or the oldest claimable
    /// event has waited long enough; always true without it.
    async fn batch_ready(&self) -> Result<bool> {
        if self.config.batch_max_age.is_zero() {
            return Ok(true);
        }
        let ex = Executor::from(&self.db);
        let sql = format!(
            "SELECT COUNT(*) AS n, MIN(o.created_at) AS oldest FROM {OUTBOX_TABLE} o WHERE {}",
            self.claimable(&ex)
        );
        let now = Utc::now();
        let row = self.db.fetch_one(&sql, &[now.into()]).await?;
        let count: i64 = row.get("n")?;
        let oldest: Option<chrono::DateTime<Utc>> = row.get("oldest")?;
        let max_age =
            chrono::Duration::from_std(self.config.batch_max_age).unwrap_or(chrono::Duration::MAX);
        Ok(
            count >= i64::from(self.config.batch_size)
                || oldest.is_some_and(|t| t + max_age <= now),
        )
    }

    /// Claims up to `outbox.batch_size` claimable events for this relay's lease.
    async fn claim(&self) -> Result<Vec<OutboxEvent>> {
        let now = Utc::now();
        let lease = chrono::Duration::from_std(self.config.lease).unwrap_or(chrono::Duration::MAX);
        let tx = self.db.begin().await?;
        let ex = Executor::from(&tx);
        let select = format!(
            "SELECT o.id FROM {OUTBOX_TABLE} o WHERE {} ORDER BY o.id{}{}",
            self.claimable(&ex),
            ex.dialect()
                .limit_offset(Some(u64::from(self.config.batch_size)), None),
            ex.dialect().skip_locked(),
        );
        let ids = tx
            .fetch_all(&select, &[now.into()])
            .await?
            .iter()
            .map(|row| row.get_at::<i64>(0))
            .collect::<Result<Vec<i64>>>()?;
        if ids.is_empty() {
            tx.rollback().await?;
            return Ok(Vec::new());
        }
        let update = format!(
            "UPDATE {OUTBOX_TABLE} SET claimed_by = {}, claimed_until = {} WHERE id IN ({})",
            ex.dialect().placeholders(1, 1),
            ex.dialect().placeholders(2, 1),
            ex.dialect().placeholders(3, ids.len())
        );
        let mut params: Vec<Value> = vec![self.id.clone().into(), (now + lease).into()];
        params.extend(ids.iter().map(|id| Value::Int(*id)));
        tx.execute(&update, &params).await?;
        tx.commit().await?;

        let ex = Executor::from(&self.db);
        let read = format!(
            "SELECT {EVENT_COLUMNS} FROM {OUTBOX_TABLE} WHERE claimed_by = {} AND published_at IS NULL AND id IN ({}) ORDER BY id",
            ex.dialect().placeholders(1, 1),
            ex.dialect().placeholders(2, ids.len())
        );
        let mut params: Vec<Value> = vec![self.id.clone().into()];
        params.extend(ids.iter().map(|id| Value::Int(*id)));
        self.db
            .fetch_all(&read, &params)
            .await?
            .iter()
            .map(OutboxEvent::from_row)
            .collect()
    }

    /// Marks this relay's claimed events published; returns how many.
    async fn complete(&self, ids: &[i64]) -> Result<u64> {
        let ex = Executor::from(&self.db);
        let sql = format!(
            "UPDATE {OUTBOX_TABLE} SET published_at = {}, claimed_until = NULL WHERE claimed_by = {} AND published_at IS NULL AND id IN ({})",
            ex.dialect().placeholders(1, 1),
            ex.dialect().placeholders(2, 1),
            ex.dialect().placeholders(3, ids.len())
        );
        let mut params: Vec<Value> = vec![Utc::now().into(), self.id.clone().into()];
        params.extend(ids.iter().map(|id| Value::Int(*id)));
        self.db.execute(&sql, &params).await
    }

    /// Gives this relay's claimed events back, to be claimed again at once.
    async fn release(&self, ids: &[i64]) -> Result<()> {
        let ex = Executor::from(&self.db);
        let sql = format!(
            "UPDATE {OUTBOX_TABLE} SET claimed_by = NULL, claimed_until = NULL WHERE claimed_by = {} AND published_at IS NULL AND id IN ({})",
            ex.dialect().placeholders(1, 1),
            ex.dialect().placeholders(2, ids.len())
        );
        let mut params: Vec<Value> = vec![self.id.clone().into()];
        params.extend(ids.iter().map(|id| Value::Int(*id)));
        self.db.execute(&sql, &params).await.map(|_| ())
    }
}

/// One claim-publish-mark round.
#[derive(Debug, Default)]
struct Step {
    published: u64,
    failed: bool,
}

/// A relay running on its own task ([`Relay::spawn`]).
#[derive(Debug)]
pub struct RelayHandle {
    stop: Arc<tokio::sync::Notify>,
    task: tokio::task::JoinHandle<RelayStats>,
}

impl RelayHandle {
    /// Stops the relay after the batch it is publishing, and returns what it did.
    pub async fn stop(self) -> RelayStats {
        self.stop.notify_one();
        self.task.await.unwrap_or_default()
    }

    /// Stops the relay at once, as a crash would: a batch it claimed and did not mark stays
    /// claimed until its lease runs out, and is then published again by another relay.
    pub fn abort(self) {
        self.task.abort();
    }
}
