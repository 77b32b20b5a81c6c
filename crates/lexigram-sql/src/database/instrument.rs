//! Runs one statement on a connection with the cross-cutting rules: its span, echo logging,
//! the slow-statement warning, and the client-side backstop for
//! `operations.statement_timeout`.

use std::future::Future;
use std::time::{Duration, Instant};

use tracing::{Instrument, Span};

use crate::backend::{AnyConn, CopyRows};
use crate::config::BackendSettings;
use crate::error::{Error, Result};
use crate::observe::span;
use crate::value::{Row, Value};

use super::{Database, Inserted};

/// Grace given to the server's own timeout before the client gives up on the connection.
const BACKSTOP_GRACE: Duration = Duration::from_secs(2);

pub(crate) async fn execute(
    db: &Database,
    conn: &mut AnyConn,
    sql: &str,
    params: &[Value],
) -> Result<u64> {
    let run = |c| AnyConn::execute(c, sql, params);
    timed(db, conn, sql, params.len(), run, |n| *n).await
}

pub(crate) async fn execute_insert(
    db: &Database,
    conn: &mut AnyConn,
    sql: &str,
    params: &[Value],
) -> Result<Inserted> {
    let run = |c| async move {
        let (rows, last_insert_id) = AnyConn::execute_insert(c, sql, params).await?;
        Ok(Inserted {
            rows,
            last_insert_id,
        })
    };
    timed(db, conn, sql, params.len(), run, |i| i.rows).await
}

pub(crate) async fn query(
    db: &Database,
    conn: &mut AnyConn,
    sql: &str,
    params: &[Value],
) -> Result<Vec<Row>> {
    let run = |c| AnyConn::query(c, sql, params);
    timed(db, conn, sql, params.len(), run, |r| r.len() as u64).await
}

pub(crate) async fn query_first(
    db: &Database,
    conn: &mut AnyConn,
    sql: &str,
    params: &[Value],
) -> Result<Option<Row>> {
    let run = |c| AnyConn::query_first(c, sql, params);
    timed(db, conn, sql, params.len(), run, |r| u64::from(r.is_some())).await
}

/// Loads rows by the backend's bulk path (see [`AnyConn::copy_in`]); `Ok(None)` when it has
/// none for them. Logged and traced as the `COPY` statement.
pub(crate) async fn copy_in(
    db: &Database,
    conn: &mut AnyConn,
    rows: &CopyRows<'_>,
) -> Result<Option<u64>> {
    let Some(sql) = db.dialect().bulk_copy_sql(rows.table, rows.columns) else {
        return Ok(None);
    };
    if !conn.copy_ready(rows).await? {
        return Ok(None);
    }
    let run = |c| AnyConn::copy_in(c, rows);
    timed(db, conn, &sql, 0, run, |n| n.unwrap_or(0)).await
}

pub(crate) async fn batch(db: &Database, conn: &mut AnyConn, sql: &str) -> Result<()> {
    timed(db, conn, sql, 0, |c| AnyConn::batch(c, sql), |()| 0).await
}

/// Runs one statement in its span under the backstop, then logs it (echo / slow) with its
/// row count.
async fn timed<'c, T, F, Fut>(
    db: &Database,
    conn: &'c mut AnyConn,
    sql: &str,
    params: usize,
    run: F,
    rows: impl Fn(&T) -> u64,
) -> Result<T>
where
    F: FnOnce(&'c mut AnyConn) -> Fut,
    Fut: Future<Output = Result<T>> + 'c,
{
    check_params(db, params)?;
    let settings = db.settings();
    let span = span::statement(db.observer(), sql);
    let started = Instant::now();
    let result = if span.is_disabled() {
        guarded(settings, conn, run).await
    } else {
        guarded(settings, conn, run).instrument(span.clone()).await
    };
    let outcome = result.as_ref().map(rows);
    finished(db, &span, sql, params, started.elapsed(), outcome);
    result
}

/// Refuses, before anything is sent, a statement that binds more parameters than the backend
/// accepts in one statement: the servers would fail it half-way through the protocol (on
/// PostgreSQL as a lost connection), SQLite with a bare "too many SQL variables".
pub(super) fn check_params(db: &Database, params: usize) -> Result<()> {
    crate::scope::check_handle(db)?;
    let limit = db.dialect().max_params();
    if params > limit {
        return Err(Error::TooManyParameters {
            entity: "raw SQL".to_string(),
            needed: params,
            limit,
            backend: db.dialect().name(),
            detail: "a raw statement is sent as written, never split".to_string(),
        });
    }
    Ok(())
}

/// Records one finished statement: its span's outcome, its metrics and statistics, and its
/// log line (echo / slow / debug).
pub(super) fn finished(
    db: &Database,
    span: &Span,
    sql: &str,
    params: usize,
    elapsed: Duration,
    outcome: std::result::Result<u64, &Error>,
) {
    let settings = db.settings();
    let observer = db.observer();
    span::finish(span, &outcome);
    let slow = elapsed >= settings.operations.slow_query_threshold;
    let operation = span::operation_index(sql);
    observer
        .metrics
        .statement(operation, elapsed, outcome.err(), slow);
    match outcome {
        Ok(rows) => observer.stats.record(sql, elapsed, rows, false),
        Err(_) => observer.stats.record(sql, elapsed, 0, true),
    }
    log(settings, sql, params, elapsed, outcome);
}

/// Server backends get a client-side deadline a little past the server's own: if the server
/// never answers, the connection is discarded and the caller gets the typed timeout. SQLite
/// needs none: its progress handler interrupts the statement on the calling thread.
async fn guarded<'c, T, F, Fut>(
    settings: &BackendSettings,
    conn: &'c mut AnyConn,
    run: F,
) -> Result<T>
where
    F: FnOnce(&'c mut AnyConn) -> Fut,
    Fut: Future<Output = Result<T>> + 'c,
{
    let timeout = settings.operations.statement_timeout;
    if crate::backend::dialect_of(settings.url.kind()).is_embedded() || timeout.is_zero() {
        return run(conn).await;
    }
    // A statement abandoned here leaves its connection flagged in flight, so the pool
    // discards it instead of handing it out again.
    match tokio::time::timeout(timeout + BACKSTOP_GRACE, run(conn)).await {
        Ok(result) => result,
        Err(_) => Err(Error::Timeout { timeout }),
    }
}

/// Logs one finished statement on `lexigram_sql::query`: WARN when it was slow, INFO when
/// `operations.echo` is on (printed whatever the level by `lexigram::logging`), DEBUG
/// otherwise. Parameter values are never logged, only their count.
fn log(
    settings: &BackendSettings,
    sql: &str,
    params: usize,
    elapsed: Duration,
    outcome: std::result::Result<u64, &Error>,
) {
    let ops = &settings.operations;
    let (rows, error) = match outcome {
        Ok(rows) => (rows, None),
        Err(e) => (0, Some(e.code())),
    };
    if elapsed >= ops.slow_query_threshold {
        tracing::warn!(
            target: "lexigram_sql::query",
            backend = %settings.name,
            sql,
            params,
            rows,
            error,
            elapsed_ms = elapsed.as_secs_f64() * 1000.0,
            threshold_ms = ops.slow_query_threshold.as_secs_f64() * 1000.0,
            "slow statement"
        );
    } else if ops.echo {
        tracing::info!(
            target: "lexigram_sql::query",
            backend = %settings.name,
            sql,
            params,
            rows,
            error,
            elapsed_ms = elapsed.as_secs_f64() * 1000.0,
            "statement"
        );
    } else {
        tracing::debug!(
            target: "lexigram_sql::query",
            backend = %settings.name,
            sql,
            params,
            rows,
            error,
            elapsed_ms = elapsed.as_secs_f64() * 1000.0,
            "statement"
        );
    }
}
