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

/// The columns [`OutboxEvent`] is read from.
pub(super) const EVENT_COLUMNS: &str =
    "id, aggregate_id, event_type, payload, created_at, published_at";

/// One stored event.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxEvent {
    /// Sequence number (insertion order).
    pub id: i64,
    /// The aggregate the event belongs to, if it was registered with one
    /// ([`crate::uow::UnitOfWork::register_event_for`]): a relay publishes the events of one
    /// aggregate in order.
    pub aggregate_id: Option<String>,
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
    pub(super) fn from_row(row: &Row) -> Result<Self> {
        Ok(OutboxEvent {
            id: row.get("id")?,
            aggregate_id: row.get("aggregate_id")?,
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
        "CREATE TABLE IF NOT EXISTS {OUTBOX_TABLE} ({id}, event_type VARCHAR(255) NOT NULL, payload {text} NOT NULL, created_at {time} NOT NULL, published_at {time} NULL, aggregate_id VARCHAR(255) NULL, claimed_by VARCHAR(64) NULL, claimed_until {time} NULL)"
    )
}

/// The relay's columns, added after the first release: `(name, type)` by backend. Tables
/// created before them get them on first use.
fn relay_columns(kind: BackendKind) -> [(&'static str, &'static str); 3] {
    let time = match kind {
        BackendKind::Sqlite => "TEXT",
        BackendKind::Postgres => "TIMESTAMPTZ",
        BackendKind::MySql => "DATETIME(6)",
    };
    [
        ("aggregate_id", "VARCHAR(255) NULL"),
        ("claimed_by", "VARCHAR(64) NULL"),
        ("claimed_until", time),
    ]
}

/// The relay's indexes: pending events in id order, and the pending events of one aggregate
/// (its "no earlier pending event of the aggregate" check).
const RELAY_INDEXES: [(&str, &str); 2] = [
    ("lexigram_outbox_pending", "(published_at, id)"),
    (
        "lexigram_outbox_aggregate",
        "(aggregate_id, published_at, id)",
    ),
];

/// Creates the relay's indexes unless they exist (MySQL has no `IF NOT EXISTS` for indexes:
/// its "duplicate key name", 1061, counts as success there).
async fn add_relay_indexes(conn: &mut crate::backend::AnyConn, kind: BackendKind) -> Result<()> {
    for (name, columns) in RELAY_INDEXES {
        let created = match kind {
            BackendKind::MySql => {
                match conn
                    .execute(
                        &format!("CREATE INDEX {name} ON {OUTBOX_TABLE} {columns}"),
                        &[],
                    )
                    .await
                {
                    Err(Error::Driver { code: Some(c), .. }) if c == "1061" => Ok(0),
                    other => other,
                }
            }
            _ => {
                conn.execute(
                    &format!("CREATE INDEX IF NOT EXISTS {name} ON {OUTBOX_TABLE} {columns}"),
                    &[],
                )
                .await
            }
        };
        created?;
    }
    Ok(())
}

/// Adds the relay's columns to an outbox table created before them. PostgreSQL and MariaDB
/// say `ADD COLUMN IF NOT EXISTS`; SQLite (and MySQL, outside a transaction) probe each
/// column first.
async fn add_relay_columns(conn: &mut crate::backend::AnyConn, kind: BackendKind) -> Result<()> {
    for (column, ty) in relay_columns(kind) {
        let add = format!("ALTER TABLE {OUTBOX_TABLE} ADD COLUMN {column} {ty}");
        match kind {
            BackendKind::Postgres => {
                conn.execute(&add.replace("ADD COLUMN", "ADD COLUMN IF NOT EXISTS"), &[])
                    .await?;
            }
            _ => {
                let probe = format!("SELECT {column} FROM {OUTBOX_TABLE} WHERE 1 = 0");
                if let Err(Error::UnknownColumn { .. }) = conn.execute(&probe, &[]).await {
                    conn.execute(&add, &[]).await?;
                }
            }
        }
    }
    add_relay_indexes(conn, kind).await
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
        BackendKind::Sqlite => match conn.execute(&create, &[]).await {
            Ok(_) => add_relay_columns(&mut conn, BackendKind::Sqlite).await,
            Err(e) => Err(e),
        },
        BackendKind::Postgres => {
            conn.begin(None).await?;
            let result = async {
                conn.execute(&format!("SELECT pg_advisory_xact_lock({PG_LOCK_KEY})"), &[])
                    .await?;
                conn.execute(&create, &[]).await?;
                add_relay_columns(&mut conn, BackendKind::Postgres).await
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
            let result = match conn.execute(&create, &[]).await {
                Ok(_) => add_relay_columns(&mut conn, BackendKind::MySql).await,
                Err(e) => Err(e),
            };
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

/// Placeholders `from..from + n` of the executor's dialect, comma-separated.
pub(super) fn placeholders(ex: &Executor, from: usize, n: usize) -> String {
    let mut s = String::new();
    for i in 0..n {
        if i > 0 {
            s.push_str(", ");
        }
        ex.dialect().push_placeholder(&mut s, from + i);
    }
    s
}

/// An event registered in a unit of work, not stored yet.
#[derive(Debug)]
pub(super) struct NewEvent {
    pub(super) aggregate_id: Option<String>,
    pub(super) event_type: String,
    pub(super) payload: serde_json::Value,
}

/// Stores events inside the unit's transaction: one multi-row `INSERT` per chunk of events
/// that fits the backend's parameter limit.
pub(super) async fn store(ex: &Executor, events: Vec<NewEvent>) -> Result<()> {
    const COLUMNS: usize = 4;
    let now = Utc::now();
    let per_statement = (ex.dialect().max_params() / COLUMNS).clamp(1, 1000);
    let mut events = events.into_iter().peekable();
    while events.peek().is_some() {
        let chunk: Vec<NewEvent> = events.by_ref().take(per_statement).collect();
        let mut sql = format!(
            "INSERT INTO {OUTBOX_TABLE} (event_type, payload, created_at, aggregate_id) VALUES "
        );
        let mut params = Vec::with_capacity(chunk.len() * COLUMNS);
        for (row, event) in chunk.into_iter().enumerate() {
            if row > 0 {
                sql.push_str(", ");
            }
            sql.push('(');
            sql.push_str(&placeholders(ex, row * COLUMNS + 1, COLUMNS));
            sql.push(')');
            params.extend([
                event.event_type.into(),
                Value::Text(event.payload.to_string()),
                now.into(),
                event.aggregate_id.map_or(Value::Null, Value::Text),
            ]);
        }
        ex.execute(&sql, &params).await?;
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
        let sql = format!("SELECT {EVENT_COLUMNS} FROM {OUTBOX_TABLE} {tail}");
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
