//! [`Transaction`]: one pooled connection inside BEGIN … COMMIT/ROLLBACK.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use tokio::sync::{MappedMutexGuard, Mutex, MutexGuard};
use tracing::{Instrument, Span};

use super::{Database, Inserted, instrument, not_found};
use crate::backend::AnyConn;
use crate::error::{Error, Result};
use crate::observe::span;
use crate::value::{Row, Value};

/// An open transaction. Cheap to clone (clones share it). Ends with [`Transaction::commit`] or
/// [`Transaction::rollback`]; dropped without either, it is rolled back and a WARN log says
/// so. Using it after it ended is an [`Error::UnitOfWork`], not a panic.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> lexigram_sql::Result<()> {
/// let db = lexigram_sql::Database::connect_url("sqlite://").await?;
/// db.execute("CREATE TABLE t (n INTEGER)", &[]).await?;
/// let tx = db.begin().await?;
/// tx.execute("INSERT INTO t VALUES (1)", &[]).await?;
/// tx.commit().await?;
/// assert!(tx.execute("INSERT INTO t VALUES (2)", &[]).await.is_err()); // already committed
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Transaction {
    inner: Arc<TxInner>,
}

struct TxInner {
    db: Database,
    state: Mutex<State>,
    label: &'static str,
    savepoints: AtomicU32,
    /// The `db.transaction` / `db.unit_of_work` span; its statements are its children.
    span: Span,
}

enum State {
    Open(Box<AnyConn>),
    Ended(&'static str),
}

impl std::fmt::Debug for Transaction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transaction")
            .field("database", &self.inner.db.name())
            .finish_non_exhaustive()
    }
}

impl Transaction {
    pub(super) fn new(db: Database, conn: AnyConn, label: &'static str) -> Self {
        let span = span::transaction(db.observer(), label);
        Transaction {
            inner: Arc::new(TxInner {
                db,
                state: Mutex::new(State::Open(Box::new(conn))),
                label,
                savepoints: AtomicU32::new(0),
                span,
            }),
        }
    }

    /// The database this transaction runs on.
    pub fn database(&self) -> &Database {
        &self.inner.db
    }

    fn ended(&self, how: &str) -> Error {
        Error::UnitOfWork {
            detail: format!(
                "this {} was already {how}; it cannot be used any more. Fix: begin a new one",
                self.inner.label
            ),
        }
    }

    /// The transaction's connection, held for one statement; a typed error once it ended.
    async fn conn(&self) -> Result<MappedMutexGuard<'_, Box<AnyConn>>> {
        let state = self.inner.state.lock().await;
        MutexGuard::try_map(state, |s| match s {
            State::Open(conn) => Some(conn),
            State::Ended(_) => None,
        })
        .map_err(|state| match *state {
            State::Ended(how) => self.ended(how),
            // `try_map` hands the guard back only for an ended state.
            State::Open(_) => self.ended("ended"),
        })
    }

    /// Runs `statement` in the transaction's span (directly when no subscriber wants it).
    async fn in_span<T>(&self, statement: impl Future<Output = Result<T>>) -> Result<T> {
        if self.inner.span.is_disabled() {
            statement.await
        } else {
            statement.instrument(self.inner.span.clone()).await
        }
    }

    /// Runs a statement inside the transaction.
    pub async fn execute(&self, sql: &str, params: &[Value]) -> Result<u64> {
        self.inner.db.schema().clear_after(sql);
        let mut conn = self.conn().await?;
        self.in_span(instrument::execute(&self.inner.db, &mut conn, sql, params))
            .await
    }

    /// Bulk-loads rows inside the transaction; see [`Database::copy_in`].
    pub(crate) async fn copy_in(&self, rows: &crate::backend::CopyRows<'_>) -> Result<Option<u64>> {
        let mut conn = self.conn().await?;
        self.in_span(instrument::copy_in(&self.inner.db, &mut conn, rows))
            .await
    }

    /// Runs an insert inside the transaction; see [`Database::execute_insert`].
    pub async fn execute_insert(&self, sql: &str, params: &[Value]) -> Result<Inserted> {
        let mut conn = self.conn().await?;
        self.in_span(instrument::execute_insert(
            &self.inner.db,
            &mut conn,
            sql,
            params,
        ))
        .await
    }

    /// Runs a query inside the transaction and returns every row.
    pub async fn fetch_all(&self, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
        let mut conn = self.conn().await?;
        self.in_span(instrument::query(&self.inner.db, &mut conn, sql, params))
            .await
    }

    /// First row of a query, or [`Error::NotFound`].
    pub async fn fetch_one(&self, sql: &str, params: &[Value]) -> Result<Row> {
        self.fetch_optional(sql, params)
            .await?
            .ok_or_else(|| not_found(sql))
    }

    /// First row of a query, if any.
    pub async fn fetch_optional(&self, sql: &str, params: &[Value]) -> Result<Option<Row>> {
        let mut conn = self.conn().await?;
        self.in_span(instrument::query_first(
            &self.inner.db,
            &mut conn,
            sql,
            params,
        ))
        .await
    }

    /// Runs several statements without parameters inside the transaction.
    pub async fn execute_batch(&self, sql: &str) -> Result<()> {
        // A batch may change the schema (migrations run here): column types are read again.
        self.inner.db.schema().clear();
        let mut conn = self.conn().await?;
        self.in_span(instrument::batch(&self.inner.db, &mut conn, sql))
            .await
    }

    /// Commits. If COMMIT fails the transaction is rolled back; when that fails too, both
    /// causes are returned in [`Error::CommitAndRollback`].
    pub async fn commit(&self) -> Result<()> {
        self.end(true).await
    }

    /// Rolls back everything done in the transaction.
    pub async fn rollback(&self) -> Result<()> {
        self.end(false).await
    }

    async fn end(&self, commit: bool) -> Result<()> {
        let result = self.finish(commit).await;
        let outcome = if commit && result.is_ok() {
            "commit"
        } else {
            "rollback"
        };
        span::ended(&self.inner.span, outcome, result.as_ref().err());
        result
    }

    async fn finish(&self, commit: bool) -> Result<()> {
        let mut state = self.inner.state.lock().await;
        let how = if commit { "committed" } else { "rolled back" };
        let mut conn = match std::mem::replace(&mut *state, State::Ended(how)) {
            State::Open(conn) => *conn,
            State::Ended(prev) => {
                *state = State::Ended(prev);
                return Err(self.ended(prev));
            }
        };
        match conn.finish(commit).await {
            Ok(()) => {
                if commit {
                    // A read-your-writes session remembers where this commit got to.
                    self.inner.db.after_write(&mut conn).await;
                }
                Ok(())
            }
            Err(e) if commit => {
                *state = State::Ended("rolled back after a failed commit");
                match conn.finish(false).await {
                    Ok(()) => Err(e),
                    Err(rollback) => {
                        conn.mark_broken();
                        Err(Error::CommitAndRollback {
                            commit: Box::new(e),
                            rollback: Box::new(rollback),
                        })
                    }
                }
            }
            Err(e) => {
                conn.mark_broken();
                Err(e)
            }
        }
    }

    /// True until the transaction is committed or rolled back.
    pub async fn is_open(&self) -> bool {
        matches!(*self.inner.state.lock().await, State::Open(_))
    }

    /// Opens a savepoint: a nested scope that can be rolled back alone. Dropped without
    /// [`Savepoint::release`], it is rolled back to.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> lexigram_sql::Result<()> {
    /// let db = lexigram_sql::Database::connect_url("sqlite://").await?;
    /// db.execute("CREATE TABLE t (n INTEGER)", &[]).await?;
    /// let tx = db.begin().await?;
    /// tx.execute("INSERT INTO t VALUES (1)", &[]).await?;
    /// let inner = tx.savepoint().await?;
    /// tx.execute("INSERT INTO t VALUES (2)", &[]).await?;
    /// inner.rollback().await?;
    /// tx.commit().await?;
    /// let n: i64 = db.fetch_one("SELECT COUNT(*) AS n FROM t", &[]).await?.get("n")?;
    /// assert_eq!(n, 1);
    /// # Ok(()) }
    /// ```
    pub async fn savepoint(&self) -> Result<Savepoint> {
        let n = self.inner.savepoints.fetch_add(1, Ordering::Relaxed) + 1;
        let name = format!("lexigram_sp_{n}");
        let sql = self.inner.db.dialect().savepoint_sql(&name);
        self.execute_batch(&sql).await?;
        Ok(Savepoint {
            tx: self.clone(),
            name,
        })
    }
}

impl Drop for TxInner {
    fn drop(&mut self) {
        let State::Open(mut conn) =
            std::mem::replace(self.state.get_mut(), State::Ended("dropped"))
        else {
            return;
        };
        tracing::warn!(backend = %self.db.name(), "{} dropped without commit: rolled back", self.label);
        span::ended(&self.span, "dropped", None);
        if conn.in_flight() {
            // Dropped mid-statement: the protocol state is unknown, so the connection is
            // discarded and the server rolls the transaction back when it closes.
            conn.mark_broken();
            return;
        }
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => {
                handle.spawn(async move {
                    if conn.finish(false).await.is_err() {
                        conn.mark_broken();
                    }
                });
            }
            // No runtime to roll back on: discard the connection; the server rolls back.
            Err(_) => conn.mark_broken(),
        }
    }
}

/// A nested scope inside a [`Transaction`] (SQL `SAVEPOINT`). End it with
/// [`Savepoint::release`] or [`Savepoint::rollback`]; dropped without either, its work stays
/// part of the enclosing transaction (as if released).
#[derive(Debug)]
#[must_use = "a savepoint is ended by release() or rollback()"]
pub struct Savepoint {
    tx: Transaction,
    name: String,
}

impl Savepoint {
    /// Keeps the savepoint's work as part of the enclosing transaction.
    pub async fn release(self) -> Result<()> {
        let sql = self.tx.inner.db.dialect().release_savepoint_sql(&self.name);
        self.tx.execute_batch(&sql).await
    }

    /// Undoes everything done since the savepoint; the enclosing transaction goes on.
    pub async fn rollback(self) -> Result<()> {
        let dialect = self.tx.inner.db.dialect();
        self.tx
            .execute_batch(&dialect.rollback_to_savepoint_sql(&self.name))
            .await?;
        self.tx
            .execute_batch(&dialect.release_savepoint_sql(&self.name))
            .await
    }

    /// The transaction this savepoint belongs to.
    pub fn transaction(&self) -> &Transaction {
        &self.tx
    }
}
