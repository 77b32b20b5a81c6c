//! The transactional outbox: domain events registered in a unit of work are stored in the same
//! transaction as its writes, and published later by a relay that reads and marks them.

use chrono::{DateTime, Utc};

use crate::config::BackendKind;
use crate::database::{Database, Executor};
use crate::error::{Error, Result};
use crate::value::{Row, Value};

/// Name of the outbox table. It is created (`CREATE TABLE IF NOT EXISTS`) by the first
/// [`Database::unit_of_work`] of each `Database`, once, outside the unit's transaction (MySQL
/// would otherwise commit the unit at the DDL), behind an advisory lock on PostgreSQL and
/// MySQL/MariaDB so that concurrent processes do not race.
pub const OUTBOX_TABLE: &str = "lexigram_outbox";

/// One stored event.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxEvent {
    /// Sequence number (insertion order).
    pub id: i64,
    /// The event's type name, as registered.
    pub event_type: String,
    /// The event, serialised.
    pub payload: serde_json::Value,
    /// When it was stored.
    pub created_at: DateTime<Utc>,
    /// When a relay marked it published; `None` while pending.
    pub published_at: Option<DateTime<Utc>>,
}

impl OutboxEvent {
    fn from_row(row: &Row) -> Result<Self> {
        Ok(OutboxEvent {
            id: row.get("id")?,
            event_type: row.get("event_type")?,
            payload: row.get("payload")?,
            created_at: row.get("created_at")?,
            published_at: row.get("published_at")?,
        })
    }
}

fn create_sql(kind: BackendKind) -> String {
    let id = match kind {
        BackendKind::Sqlite => "id INTEGER PRIMARY KEY AUTOINCREMENT",
        BackendKind::Postgres => "id BIGSERIAL PRIMARY KEY",
        BackendKind::MySql => "id BIGINT AUTO_INCREMENT PRIMARY KEY",
    };
    let (text, time) = match kind {
        BackendKind::Sqlite => ("TEXT", "TEXT"),
        BackendKind::Postgres => ("TEXT", "TIMESTAMPTZ"),
        BackendKind::MySql => ("LONGTEXT", "DATETIME(6)"),
    };
    format!(
        "CREATE TABLE IF NOT EXISTS {OUTBOX_TABLE} ({id}, event_type VARCHAR(255) NOT NULL, payload {text} NOT NULL, created_at {time} NOT NULL, published_at {time} NULL)"
    )
}

/// Creates the outbox table once per `Database`: concurrent first units of work wait for the
/// one creating it, and a failed creation is tried again by the next unit.
pub(super) async fn ensure_table(db: &Database) -> Result<()> {
    db.outbox_ready()
        .get_or_try_init(|| create_table(db))
        .await
        .map(|_| ())
}

/// Key of the PostgreSQL advisory lock around the outbox's creation (`"lexoutbx"` in ASCII).
const PG_LOCK_KEY: i64 = 0x6c65_786f_7574_6278;

/// Creates the outbox table, safe against other processes creating it at the same moment:
/// on PostgreSQL inside a transaction holding an advisory lock (`CREATE TABLE IF NOT EXISTS`
/// alone races there: `pg_type` unique violations, 42P07), on MySQL/MariaDB holding a named
/// lock (`GET_LOCK`). A creation that fails while the table exists afterwards (created by a
/// process that does not take the lock) counts as success.
async fn create_table(db: &Database) -> Result<()> {
    let create = create_sql(db.kind());
    let mut conn = db.acquire().await?;
    let created = match db.kind() {
        BackendKind::Sqlite => conn.execute(&create, &[]).await.map(|_| ()),
        BackendKind::Postgres => {
            conn.begin(None).await?;
            let result = async {
                conn.execute(&format!("SELECT pg_advisory_xact_lock({PG_LOCK_KEY})"), &[])
                    .await?;
                conn.execute(&create, &[]).await
            }
            .await;
            // Committing (or rolling back) ends the transaction and releases the lock.
            let ended = conn.finish(result.is_ok()).await;
            result.and(ended).map(|_| ())
        }
        BackendKind::MySql => {
            // Session-level; waits at most 30 s, then goes on without it (the statement is
            // `IF NOT EXISTS`, and an "already exists" reply is checked below).
            conn.execute(&format!("DO GET_LOCK('{OUTBOX_TABLE}', 30)"), &[])
                .await?;
            let result = conn.execute(&create, &[]).await.map(|_| ());
            let released = conn
                .execute(&format!("DO RELEASE_LOCK('{OUTBOX_TABLE}')"), &[])
                .await;
            result.and(released.map(|_| ()))
        }
    };
    match created {
        Ok(()) => Ok(()),
        Err(err) => {
            // "Already exists" (42P07, a pg_type unique violation, MySQL 1050): the table is
            // there, which is all this asked for.
            let probe = format!("SELECT 1 FROM {OUTBOX_TABLE} WHERE 1 = 0");
            match conn.execute(&probe, &[]).await {
                Ok(_) => {
                    tracing::debug!(error = %err, "outbox table created concurrently");
                    Ok(())
                }
                Err(_) => Err(err),
            }
        }
    }
}

fn placeholders(ex: &Executor, from: usize, n: usize) -> String {
    let mut s = String::new();
    for i in 0..n {
        if i > 0 {
            s.push_str(", ");
        }
        ex.dialect().push_placeholder(&mut s, from + i);
    }
    s
}

/// Stores events inside the unit's transaction.
pub(super) async fn store(ex: &Executor, events: Vec<(String, serde_json::Value)>) -> Result<()> {
    let sql = format!(
        "INSERT INTO {OUTBOX_TABLE} (event_type, payload, created_at) VALUES ({})",
        placeholders(ex, 1, 3)
    );
    let now = Utc::now();
    for (event_type, payload) in events {
        ex.execute(
            &sql,
            &[
                event_type.into(),
                Value::Text(payload.to_string()),
                now.into(),
            ],
        )
        .await?;
    }
    Ok(())
}

/// Reads pending events and marks them published: the relay side of the outbox.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> lexigram_sql::Result<()> {
/// let db = lexigram_sql::Database::connect_url("sqlite://").await?;
/// let mut uow = db.unit_of_work().await?;
/// uow.register_event("UserCreated", &serde_json::json!({"id": 1}))?;
/// uow.commit().await?;
/// let outbox = lexigram_sql::uow::Outbox::new(&db);
/// let pending = outbox.pending(10).await?;
/// assert_eq!(pending.len(), 1);
/// outbox.mark_published(&[pending[0].id]).await?;
/// assert!(outbox.pending(10).await?.is_empty());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Outbox {
    db: Database,
}

impl Outbox {
    /// The outbox of a database, read and written on its primary (never a replica, which
    /// might hand back events already marked published).
    pub fn new(db: &Database) -> Self {
        Outbox { db: db.primary() }
    }

    /// Up to `limit` unpublished events, oldest first.
    pub async fn pending(&self, limit: u64) -> Result<Vec<OutboxEvent>> {
        let limit = self.db.dialect().limit_offset(Some(limit), None);
        self.events(&format!("WHERE published_at IS NULL ORDER BY id{limit}"))
            .await
    }

    /// Every stored event, oldest first (published or not).
    pub async fn all(&self) -> Result<Vec<OutboxEvent>> {
        self.events("ORDER BY id").await
    }

    /// The events a `WHERE … ORDER BY …` tail (fixed SQL, no input) selects.
    async fn events(&self, tail: &str) -> Result<Vec<OutboxEvent>> {
        ensure_table(&self.db).await?;
        let sql = format!(
            "SELECT id, event_type, payload, created_at, published_at FROM {OUTBOX_TABLE} {tail}"
        );
        self.db
            .fetch_all(&sql, &[])
            .await?
            .iter()
            .map(OutboxEvent::from_row)
            .collect()
    }

    /// Marks events published; returns how many were still pending.
    pub async fn mark_published(&self, ids: &[i64]) -> Result<u64> {
        if ids.is_empty() {
            return Ok(0);
        }
        let ex = Executor::from(&self.db);
        let sql = format!(
            "UPDATE {OUTBOX_TABLE} SET published_at = {} WHERE published_at IS NULL AND id IN ({})",
            placeholders(&ex, 1, 1),
            placeholders(&ex, 2, ids.len())
        );
        let mut params: Vec<Value> = vec![Utc::now().into()];
        params.extend(ids.iter().map(|i| Value::Int(*i)));
        self.db.execute(&sql, &params).await
    }
}

pub(super) fn serialize<T: serde::Serialize>(event: &T) -> Result<serde_json::Value> {
    serde_json::to_value(event).map_err(|e| Error::UnitOfWork {
        detail: format!("the event could not be serialised: {e}. Fix: check its Serialize impl"),
    })
}
