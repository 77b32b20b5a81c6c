//! SQLite through `rusqlite`.
//!
//! **How SQLite runs under async.** Statements run on the calling task while it holds the
//! pooled connection: no thread hop. A primary-key select costs about 1 µs more than raw
//! rusqlite (2.5 µs against 1.5 µs in `benches/`, most of it the pool checkout); a thread hop
//! per statement is what makes sqlx's SQLite driver 10–50× slower. The price is that a
//! statement blocks its worker thread while it runs; long work is bounded by
//! `operations.statement_timeout` (a progress handler interrupts it) and streaming reads
//! ([`crate::Database::fetch_stream`]) run on a blocking thread.
//!
//! **Writers wait asynchronously.** SQLite allows one writer at a time. Each database file has
//! one async write gate, shared by every `Database` of the process on that file: transactions take it at `BEGIN IMMEDIATE` and hold it until
//! they end, and autocommit writes take it for their statement. A second writer therefore
//! waits on the gate (yielding its thread) instead of blocking a worker thread in SQLite's busy
//! handler — which on a single-threaded runtime could never be released. Readers never wait
//! (WAL). Other processes writing the same file are covered by the busy timeout.
//!
//! **Waits are bounded.** A writer waits for the gate at most `pool.timeout`, then fails with
//! [`Error::LockTimeout`] saying what held the lock (a transaction, a batch, an autocommit
//! write) and for how long.
//!
//! **Statements take part in tokio's cooperative budget.** A statement runs on its task
//! without awaiting anything, so a task looping over point queries would never yield: on a
//! multi-threaded runtime it would keep its worker thread, starving timers and the other tasks
//! queued there. Every statement spends one unit of the task's budget
//! ([`tokio::task::coop::consume_budget`]); when the budget is spent the task yields and the
//! worker runs its other tasks and timers. Because 128 statements can take long when each is
//! slow (a scan, an unoptimised build), a statement also yields once its worker thread has run
//! statements for [`SLICE`] without yielding, which bounds a timer's lateness by about the
//! slice times the tasks queued on a worker.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rusqlite::{ErrorCode, OpenFlags, ffi};
use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

use super::sqlite_values::{Decimals, Param, decimals_of, read_value};
use super::{BackendConn, ColumnCache, Isolation};
use crate::config::SqliteTarget;
use crate::error::{ConflictKind, ConnectError, ConnectErrorKind, ConstraintKind, Error, Result};
use crate::value::{EncodeError, Row, Value};

/// How long a worker thread runs statements before the task running them yields: about 25
/// point queries in a release build. With 8 such tasks on 2 workers, a 1 ms timer then wakes
/// within about 5 ms at p99 (`tests/sqlite_concurrency.rs`); with a 1 ms slice it was 20–35.
pub(crate) const SLICE: Duration = Duration::from_micros(100);

thread_local! {
    /// When the current worker thread last started running statements without yielding.
    static SLICE_START: std::cell::Cell<Option<Instant>> = const { std::cell::Cell::new(None) };
}

/// Yields to the runtime when the task's cooperative budget is spent, or when this worker
/// thread has run statements for [`SLICE`] without yielding.
async fn cooperate() {
    tokio::task::coop::consume_budget().await;
    let now = Instant::now();
    let expired = SLICE_START.with(|start| match start.get() {
        Some(since) if now.duration_since(since) < SLICE => false,
        Some(_) => {
            start.set(None);
            true
        }
        None => {
            start.set(Some(now));
            false
        }
    });
    if expired {
        tokio::task::yield_now().await;
    }
}

/// No statement is running under a deadline.
const DISARMED: u64 = 0;
/// A statement is running; its deadline is set at the first progress callback.
const ARMED: u64 = u64::MAX;

/// Who holds the write gate, for the error a timed-out waiter gets.
struct GateHolder {
    what: &'static str,
    since: Instant,
}

/// The last holder of a file's write gate.
type Holder = Arc<std::sync::Mutex<Option<GateHolder>>>;

/// The write gate of one database file, with its last holder.
type FileGate = (Arc<AsyncMutex<()>>, Holder);

/// The write gates of the files open in this process, by canonical path. Every `Database` on
/// one file shares its gate: with a gate each, their writers would wait for SQLite's file lock
/// inside the busy handler, blocking runtime threads the lock's holder may need to finish.
static FILE_GATES: std::sync::LazyLock<std::sync::Mutex<FileGates>> =
    std::sync::LazyLock::new(Default::default);

/// Each file's gate (held weakly: it lives as long as a `Database` on the file) and holder.
type FileGates = std::collections::HashMap<PathBuf, (std::sync::Weak<AsyncMutex<()>>, Holder)>;

/// The gate of the file at `path` (which exists), shared with every other `Database` of this
/// process on the same file; a new gate when the path cannot be resolved.
fn file_gate(path: &std::path::Path) -> FileGate {
    let fresh = || (Arc::new(AsyncMutex::new(())), Holder::default());
    let (Ok(key), Ok(mut gates)) = (std::fs::canonicalize(path), FILE_GATES.lock()) else {
        return fresh();
    };
    if let Some((weak, holder)) = gates.get(&key)
        && let Some(gate) = weak.upgrade()
    {
        return (gate, Arc::clone(holder));
    }
    gates.retain(|_, (weak, _)| weak.strong_count() > 0);
    let (gate, holder) = fresh();
    gates.insert(key, (Arc::downgrade(&gate), Arc::clone(&holder)));
    (gate, holder)
}

/// Where the connections of one `Database` open, and the state they share.
pub(crate) struct Manager {
    path: String,
    /// The file, for the directory check; `None` for `:memory:`.
    file: Option<PathBuf>,
    /// The file as shown in errors (anything that looks like a password masked).
    display: String,
    flags: OpenFlags,
    statement_timeout: Duration,
    /// How long a writer waits for the gate: `pool.timeout`.
    lock_wait: Duration,
    gate: Arc<AsyncMutex<()>>,
    holder: Holder,
    /// For `:memory:`: the private directory holding the database, removed on drop.
    _scratch: Option<tempfile::TempDir>,
}

impl Manager {
    pub(crate) fn new(
        target: &SqliteTarget,
        statement_timeout: Duration,
        lock_wait: Duration,
    ) -> Result<Self> {
        let base = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_URI
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let (path, display, scratch) = match target {
            SqliteTarget::Memory => {
                let dir = scratch_dir()?;
                let file = dir.path().join("memory.sqlite");
                (file_uri(&file), ":memory:".to_string(), Some(dir))
            }
            // The path is shown in errors: a URL like `sqlite://user:pw@host/db` must not show `pw`.
            SqliteTarget::File(p) => (
                file_uri(p),
                lexigram_redact::redact_secrets(&p.display().to_string()),
                None,
            ),
        };
        let manager = Manager {
            path,
            display,
            file: match target {
                SqliteTarget::File(p) => Some(p.clone()),
                SqliteTarget::Memory => None,
            },
            flags: base,
            statement_timeout,
            lock_wait,
            gate: Arc::new(AsyncMutex::new(())),
            holder: Arc::default(),
            _scratch: scratch,
        };
        // WAL is a property of the file: set once here, not on every new connection
        // (changing the journal mode needs a lock another connection may hold).
        manager
            .open()?
            .conn
            .execute_batch("PRAGMA journal_mode = WAL")
            .map_err(|e| classify(&e))?;
        // The file exists now: share its gate with other `Database`s on it.
        let (gate, holder) = match &manager.file {
            Some(file) => file_gate(file),
            None => (manager.gate, manager.holder),
        };
        Ok(Manager {
            gate,
            holder,
            ..manager
        })
    }

    fn open(&self) -> Result<SqliteConn> {
        let conn = rusqlite::Connection::open_with_flags(&self.path, self.flags).map_err(|e| {
            Error::Connect(ConnectError::new(
                ConnectErrorKind::File,
                "sqlite",
                self.display.clone(),
                lexigram_redact::redact_secrets(&e.to_string()),
            ))
        })?;
        let busy_ms = self.statement_timeout.as_millis().max(1000);
        conn.execute_batch(&format!(
            "PRAGMA busy_timeout = {busy_ms}; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;"
        ))
        .map_err(|e| classify(&e))?;
        strict_identifiers(&conn)?;
        conn.set_prepared_statement_cache_capacity(256);
        let deadline = Arc::new(AtomicU64::new(DISARMED));
        let epoch = Instant::now();
        let handler_deadline = Arc::clone(&deadline);
        let limit = self.statement_timeout.as_micros() as u64;
        // Called every 1000 VM steps: a statement that short never reads the clock. The first
        // call of a statement starts its deadline; a later call past it interrupts the
        // statement (SQLITE_INTERRUPT), which surfaces as `Error::Timeout`.
        conn.progress_handler(
            1000,
            Some(move || {
                let now = epoch.elapsed().as_micros() as u64;
                match handler_deadline.load(Ordering::Relaxed) {
                    DISARMED => false,
                    ARMED => {
                        handler_deadline.store(now.saturating_add(limit), Ordering::Relaxed);
                        false
                    }
                    deadline => now > deadline,
                }
            }),
        );
        Ok(SqliteConn {
            conn,
            deadline,
            timeout: self.statement_timeout,
            lock_wait: self.lock_wait,
            gate: Arc::clone(&self.gate),
            holder: Arc::clone(&self.holder),
            held: None,
            broken: false,
            columns: ColumnCache::default(),
        })
    }
}

/// Turns off SQLite's legacy reading of an unknown double-quoted identifier as a string
/// literal, in DML and DDL: `WHERE "nmae" = ?` is then "no such column", not a comparison
/// with the string `'nmae'` that matches every row (or none).
fn strict_identifiers(conn: &rusqlite::Connection) -> Result<()> {
    use rusqlite::config::DbConfig;
    for option in [
        DbConfig::SQLITE_DBCONFIG_DQS_DML,
        DbConfig::SQLITE_DBCONFIG_DQS_DDL,
    ] {
        conn.set_db_config(option, false)
            .map_err(|e| classify(&e))?;
    }
    Ok(())
}

/// Builds the `file:` URI for a path, escaping the characters URIs reserve.
/// `:memory:` databases are private WAL files in a fresh directory on tmpfs (`/dev/shm`) where
/// there is one, else in the temp dir, removed when the `Database` is dropped.
///
/// SQLite's own in-memory databases cannot serve a pool: `:memory:` is one database per
/// connection, and the shared `memdb` VFS lets no reader in while a transaction holds the write
/// lock. A tmpfs file gives every pooled connection the same database with WAL semantics
/// (readers never wait for the writer), isolated from every other `Database`.
fn scratch_dir() -> Result<tempfile::TempDir> {
    let shm = std::path::Path::new("/dev/shm");
    let base = if shm.is_dir() {
        shm.to_path_buf()
    } else {
        std::env::temp_dir()
    };
    tempfile::Builder::new()
        .prefix("lexigram-mem-")
        .tempdir_in(&base)
        .map_err(|e| {
            Error::Connect(ConnectError::new(
                ConnectErrorKind::File,
                "sqlite",
                ":memory:",
                format!(
                    "cannot create a scratch directory in {}: {e}",
                    base.display()
                ),
            ))
        })
}

fn file_uri(path: &std::path::Path) -> String {
    let raw = path.to_string_lossy();
    let escaped = raw
        .replace('%', "%25")
        .replace('?', "%3f")
        .replace('#', "%23");
    format!("file:{escaped}")
}

impl bb8::ManageConnection for Manager {
    type Connection = SqliteConn;
    type Error = Error;

    async fn connect(&self) -> Result<SqliteConn> {
        if let Some(parent) = self.file.as_deref().and_then(std::path::Path::parent)
            && !parent.as_os_str().is_empty()
            && !parent.exists()
        {
            return Err(Error::Connect(ConnectError::new(
                ConnectErrorKind::File,
                "sqlite",
                self.display.clone(),
                format!(
                    "directory {} does not exist",
                    lexigram_redact::redact_secrets(&parent.display().to_string())
                ),
            )));
        }
        self.open()
    }

    async fn is_valid(&self, _conn: &mut SqliteConn) -> Result<()> {
        Ok(())
    }

    fn has_broken(&self, conn: &mut SqliteConn) -> bool {
        // A connection returned mid-transaction (its owner vanished) must not be reused.
        conn.broken || !conn.conn.is_autocommit()
    }
}

/// One SQLite connection with its statement deadline and its share of the write gate.
pub(crate) struct SqliteConn {
    conn: rusqlite::Connection,
    /// [`DISARMED`], [`ARMED`] (a statement runs; its clock starts at the first progress
    /// callback), or the deadline in microseconds since the connection opened.
    deadline: Arc<AtomicU64>,
    timeout: Duration,
    lock_wait: Duration,
    gate: Arc<AsyncMutex<()>>,
    holder: Holder,
    held: Option<OwnedMutexGuard<()>>,
    broken: bool,
    columns: ColumnCache<Decimals>,
}

/// The parameters of a statement, numbered from 1 for error messages.
fn bind(params: &[Value]) -> rusqlite::ParamsFromIter<impl Iterator<Item = Param<'_>>> {
    rusqlite::params_from_iter(params.iter().enumerate().map(|(i, v)| Param(i + 1, v)))
}

/// Reads the rows of `stmt`, handing each to `sink` until it returns `false`. Column names
/// come from `columns` when given (shared across queries), else are built for this result.
///
/// Names are read after the first step: a cached statement whose table changed (a column
/// added under `SELECT *`) is re-prepared by that step, and only then reports its new columns.
fn read_rows(
    stmt: &mut rusqlite::Statement<'_>,
    sql: &str,
    mut columns: Option<&mut ColumnCache<Decimals>>,
    params: &[Value],
    mut sink: impl FnMut(Row) -> bool,
) -> rusqlite::Result<()> {
    let mut rows = stmt.query(bind(params))?;
    let mut shape: Option<(Arc<[String]>, Decimals)> = None;
    while let Some(r) = rows.next()? {
        let (names, decimals) = shape.get_or_insert_with(|| {
            let stmt = r.as_ref();
            let current = (0..stmt.column_count()).map(|i| stmt.column_name(i).unwrap_or(""));
            let derive = || decimals_of(stmt);
            match columns.as_deref_mut() {
                Some(cache) => cache.shape(sql, current, derive),
                None => (current.map(str::to_string).collect(), derive()),
            }
        });
        let mut values = Vec::with_capacity(names.len());
        for i in 0..names.len() {
            let decimal = decimals.as_ref().and_then(|d| d.get(i).copied().flatten());
            values.push(read_value(r.get_ref(i)?, decimal));
        }
        if !sink(Row::new(Arc::clone(names), values)) {
            break;
        }
    }
    Ok(())
}

/// Records who took the gate.
fn note_holder(holder: &Holder, what: &'static str) {
    if let Ok(mut current) = holder.lock() {
        *current = Some(GateHolder {
            what,
            since: Instant::now(),
        });
    }
}

/// The error of a writer that waited `wait` for the gate, naming the holder if known.
fn lock_timeout(holder: &Holder, wait: Duration) -> Error {
    let current = holder.lock().ok().and_then(|current| {
        current
            .as_ref()
            .map(|h| (h.what, h.since.elapsed().as_secs_f64()))
    });
    let detail = match current {
        Some((what, age)) => format!(
            "{what} of this database holds it (for {age:.1}s so far); SQLite allows one writer at a time"
        ),
        None => "another writer of this database holds it; SQLite allows one writer at a time"
            .to_string(),
    };
    Error::LockTimeout {
        waited: wait,
        detail,
    }
}

impl SqliteConn {
    /// Takes the write gate for `what`, waiting at most `pool.timeout`. (The returned future
    /// does not borrow the connection, which is not `Sync`.)
    fn lock_gate(
        &self,
        what: &'static str,
    ) -> impl std::future::Future<Output = Result<OwnedMutexGuard<()>>> + Send + 'static {
        let gate = Arc::clone(&self.gate);
        let holder = Arc::clone(&self.holder);
        let wait = self.lock_wait;
        async move {
            let guard = match Arc::clone(&gate).try_lock_owned() {
                Ok(guard) => guard,
                Err(_) => match tokio::time::timeout(wait, gate.lock_owned()).await {
                    Ok(guard) => guard,
                    Err(_) => return Err(lock_timeout(&holder, wait)),
                },
            };
            note_holder(&holder, what);
            Ok(guard)
        }
    }

    fn arm(&self) {
        if !self.timeout.is_zero() {
            self.deadline.store(ARMED, Ordering::Relaxed);
        }
    }

    fn disarm(&self) {
        self.deadline.store(DISARMED, Ordering::Relaxed);
    }

    fn fail(&self, e: &rusqlite::Error) -> Error {
        let err = classify(e);
        if matches!(err, Error::Timeout { .. }) {
            Error::Timeout {
                timeout: self.timeout,
            }
        } else {
            err
        }
    }

    /// Prepares `sql` (cached) and runs `f` on it under the statement deadline.
    fn run_now<T>(
        &mut self,
        sql: &str,
        f: impl FnOnce(
            &mut rusqlite::CachedStatement<'_>,
            &mut ColumnCache<Decimals>,
        ) -> rusqlite::Result<T>,
    ) -> Result<T> {
        self.arm();
        let columns = &mut self.columns;
        let result = self
            .conn
            .prepare_cached(sql)
            .and_then(|mut stmt| f(&mut stmt, columns));
        self.disarm();
        result.map_err(|e| self.fail(&e))
    }

    /// Runs `f` on the statement for `sql`, holding the write gate while it runs when it is an
    /// autocommit write. Reads, anything inside a transaction, and writes that find the gate
    /// free are prepared once; a write that finds it taken waits for it, then prepares again.
    async fn run<T>(
        &mut self,
        sql: &str,
        f: impl Fn(
            &mut rusqlite::CachedStatement<'_>,
            &mut ColumnCache<Decimals>,
        ) -> rusqlite::Result<T>,
    ) -> Result<T> {
        // A task looping over statements would otherwise never yield (see the module docs).
        cooperate().await;
        let gated = self.held.is_some();
        let gate = Arc::clone(&self.gate);
        let holder = Arc::clone(&self.holder);
        let mut write_guard = None;
        let ran = self.run_now(sql, |stmt, columns| {
            if gated || stmt.readonly() {
                return f(stmt, columns).map(Some);
            }
            // The gate is fair: `try_lock` fails while other writers queue for it.
            match gate.try_lock_owned() {
                Ok(guard) => {
                    write_guard = Some(guard);
                    note_holder(&holder, "an autocommit write");
                    f(stmt, columns).map(Some)
                }
                Err(_) => Ok(None),
            }
        });
        drop(write_guard);
        if let Some(done) = ran? {
            return Ok(done);
        }
        let _gate = self.lock_gate("an autocommit write").await?;
        self.run_now(sql, &f)
    }

    /// Streams a query's rows from a blocking thread through a bounded channel, so memory
    /// stays constant however many rows there are.
    pub(crate) fn stream(
        mut conn: bb8::PooledConnection<'static, Manager>,
        sql: String,
        params: Vec<Value>,
    ) -> super::RowStream {
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<Row>>(256);
        tokio::task::spawn_blocking(move || {
            let c: &mut SqliteConn = &mut conn;
            let result = c.conn.prepare_cached(&sql).and_then(|mut stmt| {
                // Stop when the consumer dropped the stream.
                read_rows(&mut stmt, &sql, None, &params, |row| {
                    tx.blocking_send(Ok(row)).is_ok()
                })
            });
            if let Err(e) = result {
                let _ = tx.blocking_send(Err(classify(&e)));
            }
        });
        Box::pin(futures_util::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|item| (item, rx))
        }))
    }
}

impl BackendConn for SqliteConn {
    async fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64> {
        self.run(sql, |stmt, _| stmt.execute(bind(params)).map(|n| n as u64))
            .await
    }

    async fn execute_insert(&mut self, sql: &str, params: &[Value]) -> Result<(u64, Option<i64>)> {
        let rows = self.execute(sql, params).await?;
        // Per connection, and nothing else ran on this one since the insert.
        Ok((rows, (rows > 0).then(|| self.conn.last_insert_rowid())))
    }

    async fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
        self.run(sql, |stmt, columns| {
            let mut out = Vec::new();
            read_rows(stmt, sql, Some(columns), params, |row| {
                out.push(row);
                true
            })?;
            Ok(out)
        })
        .await
    }

    async fn query_first(&mut self, sql: &str, params: &[Value]) -> Result<Option<Row>> {
        self.run(sql, |stmt, columns| {
            let mut first = None;
            read_rows(stmt, sql, Some(columns), params, |row| {
                first = Some(row);
                false
            })?;
            Ok(first)
        })
        .await
    }

    async fn batch(&mut self, sql: &str) -> Result<()> {
        cooperate().await;
        let _gate = if self.held.is_none() {
            Some(self.lock_gate("a batch of statements").await?)
        } else {
            None
        };
        self.arm();
        let result = self.conn.execute_batch(sql);
        self.disarm();
        result.map_err(|e| self.fail(&e))
    }

    async fn begin(&mut self, _isolation: Option<Isolation>) -> Result<()> {
        cooperate().await;
        let guard = self.lock_gate("a transaction").await?;
        self.conn
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(|e| self.fail(&e))?;
        self.held = Some(guard);
        Ok(())
    }

    async fn finish(&mut self, commit: bool) -> Result<()> {
        if !commit && self.conn.is_autocommit() {
            // Nothing open (a failed COMMIT below already rolled back): nothing to undo.
            self.held = None;
            return Ok(());
        }
        let sql = if commit { "COMMIT" } else { "ROLLBACK" };
        let result = self.conn.execute_batch(sql).map_err(|e| self.fail(&e));
        if result.is_err() && !self.conn.is_autocommit() {
            // COMMIT failed (e.g. a deferred constraint): leave nothing half-open.
            let _ = self.conn.execute_batch("ROLLBACK");
        }
        self.held = None;
        result
    }

    fn mark_broken(&mut self) {
        self.broken = true;
    }
}

/// Classifies a rusqlite error from its extended result code.
pub(crate) fn classify(e: &rusqlite::Error) -> Error {
    if let rusqlite::Error::ToSqlConversionFailure(cause) = e
        && let Some(refused) = EncodeError::find(cause.as_ref())
    {
        return refused.clone().into();
    }
    let (code, message) = match e {
        rusqlite::Error::SqliteFailure(code, msg) => {
            (code, msg.clone().unwrap_or_else(|| code.to_string()))
        }
        // A prepare error that points at a token of the SQL (`no such column: "x"`).
        rusqlite::Error::SqlInputError { error, msg, .. } => (error, msg.clone()),
        _ => {
            return Error::Driver {
                backend: "sqlite",
                code: None,
                message: e.to_string(),
                source: None,
            };
        }
    };
    let after_colon = || {
        message
            .split_once(": ")
            .map(|(_, rest)| rest.trim().to_string())
    };
    match code.extended_code {
        ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY => {
            constraint(ConstraintKind::Unique, after_colon(), message)
        }
        ffi::SQLITE_CONSTRAINT_FOREIGNKEY => constraint(ConstraintKind::ForeignKey, None, message),
        ffi::SQLITE_CONSTRAINT_NOTNULL => {
            constraint(ConstraintKind::NotNull, after_colon(), message)
        }
        ffi::SQLITE_CONSTRAINT_CHECK => constraint(ConstraintKind::Check, after_colon(), message),
        _ => match code.code {
            ErrorCode::OperationInterrupted => Error::Timeout {
                timeout: Duration::ZERO,
            },
            ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => Error::Conflict {
                kind: ConflictKind::Deadlock,
                detail: message,
            },
            _ if message.starts_with("no such table: ") => Error::TableMissing {
                table: message.trim_start_matches("no such table: ").to_string(),
            },
            _ => unknown_column(&message).unwrap_or_else(|| Error::Driver {
                backend: "sqlite",
                code: Some(code.extended_code.to_string()),
                source: Some(Box::new(rusqlite::Error::SqliteFailure(
                    *code,
                    Some(message.clone()),
                ))),
                message,
            }),
        },
    }
}

/// `no such column: x` (a name in an expression) and `table t has no column named x` (an
/// INSERT's column list) as [`Error::UnknownColumn`].
fn unknown_column(message: &str) -> Option<Error> {
    if let Some(rest) = message.strip_prefix("no such column: ") {
        // `no such column: "x" - should this be a string literal in single-quotes?`
        let name = rest.split(" - ").next().unwrap_or(rest);
        let name = name.rsplit('.').next().unwrap_or(name).trim_matches('"');
        return Some(Error::unknown_column(name, None));
    }
    let rest = message.strip_prefix("table ")?;
    let (table, column) = rest.split_once(" has no column named ")?;
    Some(Error::unknown_column(column, Some(table)))
}

fn constraint(kind: ConstraintKind, constraint: Option<String>, detail: String) -> Error {
    Error::Constraint {
        kind,
        constraint,
        detail,
    }
}
