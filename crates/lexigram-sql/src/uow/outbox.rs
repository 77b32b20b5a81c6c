//! The transactional outbox: domain events registered in a unit of work are stored in the same
//! transaction as its writes, and published later by a relay that reads and marks them.

use chrono::{DateTime, Utc};

use crate::backend::{AnyConn, Dialect, LockScope, SqlType};
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

/// `CREATE TABLE IF NOT EXISTS` for the outbox, in the dialect's types.
fn create_sql(d: &dyn Dialect) -> String {
    let columns: Vec<String> = [
        d.generated_key("id", SqlType::BigInt),
        format!(
            "event_type {} NOT NULL",
            d.column_type(SqlType::String(255))
        ),
        format!("payload {} NOT NULL", d.column_type(SqlType::Text)),
        format!("created_at {} NOT NULL", d.column_type(SqlType::Timestamp)),
        format!("published_at {} NULL", d.column_type(SqlType::Timestamp)),
    ]
    .into_iter()
    .chain(relay_columns(d))
    .collect();
    format!(
        "CREATE TABLE IF NOT EXISTS {OUTBOX_TABLE} ({})",
        columns.join(", ")
    )
}

/// The relay's column definitions, added after the first release: tables created before
/// them get them on first use.
fn relay_columns(d: &dyn Dialect) -> [String; 3] {
    [
        format!("aggregate_id {} NULL", d.column_type(SqlType::String(255))),
        format!("claimed_by {} NULL", d.column_type(SqlType::String(64))),
        format!("claimed_until {} NULL", d.column_type(SqlType::Timestamp)),
    ]
}

/// The relay's indexes: pending events in id order, and the pending events of one aggregate
/// (its "no earlier pending event of the aggregate" check).
const RELAY_INDEXES: [(&str, &[&str]); 2] = [
    ("lexigram_outbox_pending", &["published_at", "id"]),
    (
        "lexigram_outbox_aggregate",
        &["aggregate_id", "published_at", "id"],
    ),
];

/// Creates the relay's indexes unless they exist (where the dialect has no `IF NOT EXISTS`
/// for indexes, its "duplicate index" error counts as success).
async fn add_relay_indexes(conn: &mut AnyConn, d: &dyn Dialect) -> Result<()> {
    for (name, columns) in RELAY_INDEXES {
        let sql = d.create_index_sql(false, name, OUTBOX_TABLE, columns, true);
        match conn.execute(&sql, &[]).await {
            Err(e) if d.is_duplicate_index(&e) => {}
            other => {
                other?;
            }
        }
    }
    Ok(())
}

/// Adds the relay's columns to an outbox table created before them: `ADD COLUMN IF NOT
/// EXISTS` where the dialect has it, otherwise after probing each column.
async fn add_relay_columns(conn: &mut AnyConn, d: &dyn Dialect) -> Result<()> {
    for def in relay_columns(d) {
        if d.has_add_column_if_not_exists() {
            conn.execute(&d.add_column_sql(OUTBOX_TABLE, &def, true), &[])
                .await?;
        } else {
            let column = def.split(' ').next().unwrap_or_default();
            let probe = format!("SELECT {column} FROM {OUTBOX_TABLE} WHERE 1 = 0");
            if let Err(Error::UnknownColumn { .. }) = conn.execute(&probe, &[]).await {
                conn.execute(&d.add_column_sql(OUTBOX_TABLE, &def, false), &[])
                    .await?;
            }
        }
    }
    add_relay_indexes(conn, d).await
}

/// Whether the outbox table of one `Database` is known to exist: set once by its first
/// unit of work (concurrent first units wait for the one creating it; a failed creation is
/// tried again by the next).
#[derive(Debug, Default)]
pub(crate) struct OutboxReady(tokio::sync::OnceCell<()>);

/// Creates the outbox table once per `Database`.
pub(super) async fn ensure_table(db: &Database) -> Result<()> {
    db.outbox_ready()
        .0
        .get_or_try_init(|| create_table(db))
        .await
        .map(|_| ())
}

/// How long a creator waits for another process's creation (where the wait is bounded).
const CREATE_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// The advisory lock's name.
const LOCK_NAME: &str = "lexigram_outbox";

/// Creates the outbox table, safe against other processes creating it at the same moment:
/// inside a transaction holding a transaction lock where the dialect has one (PostgreSQL:
/// `CREATE TABLE IF NOT EXISTS` alone races there, `pg_type` unique violations, 42P07), else
/// holding a session lock (MySQL/MariaDB `GET_LOCK`); SQLite serializes writers itself. A
/// creation that fails while the table exists afterwards (created by a process that does not
/// take the lock) counts as success.
async fn create_table(db: &Database) -> Result<()> {
    let d = db.dialect();
    let create = create_sql(d);
    let mut conn = db.acquire().await?;
    let name = [Value::from(LOCK_NAME)];
    let created = if let Some(lock) = d.lock_sql(LockScope::Transaction, CREATE_WAIT) {
        conn.begin(None).await?;
        let result = async {
            conn.query(&lock, &name).await?;
            conn.execute(&create, &[]).await?;
            add_relay_columns(&mut conn, d).await
        }
        .await;
        // Committing (or rolling back) ends the transaction and releases the lock.
        let ended = conn.finish(result.is_ok()).await;
        result.and(ended)
    } else if let (Some(lock), Some(unlock)) =
        (d.lock_sql(LockScope::Session, CREATE_WAIT), d.unlock_sql())
    {
        // Goes on without the lock once the wait is over (the statement is `IF NOT EXISTS`,
        // and an "already exists" reply is checked below).
        conn.query(&lock, &name).await?;
        let result = match conn.execute(&create, &[]).await {
            Ok(_) => add_relay_columns(&mut conn, d).await,
            Err(e) => Err(e),
        };
        let released = conn.query(&unlock, &name).await;
        result.and(released.map(|_| ()))
    } else {
        match conn.execute(&create, &[]).await {
            Ok(_) => add_relay_columns(&mut conn, d).await,
            Err(e) => Err(e),
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
            sql.push_str(&ex.dialect().placeholders(row * COLUMNS + 1, COLUMNS));
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
            ex.dialect().placeholders(1, 1),
            ex.dialect().placeholders(2, ids.len())
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
