//! Runs one statement on a connection with the cross-cutting rules: echo logging, the
//! slow-statement warning, and the client-side backstop for `operations.statement_timeout`.

use std::future::Future;
use std::time::{Duration, Instant};

use crate::backend::AnyConn;
use crate::config::{BackendKind, BackendSettings};
use crate::error::{Error, Result};
use crate::value::{Row, Value};

/// Grace given to the server's own timeout before the client gives up on the connection.
const BACKSTOP_GRACE: Duration = Duration::from_secs(2);

pub(crate) async fn execute(
    settings: &BackendSettings,
    conn: &mut AnyConn,
    sql: &str,
    params: &[Value],
) -> Result<u64> {
    let started = Instant::now();
    let result = guarded(settings, conn, |c| c.execute(sql, params)).await;
    log(
        settings,
        sql,
        params.len(),
        started,
        result.as_ref().ok().copied(),
    );
    result
}

pub(crate) async fn query(
    settings: &BackendSettings,
    conn: &mut AnyConn,
    sql: &str,
    params: &[Value],
) -> Result<Vec<Row>> {
    let started = Instant::now();
    let result = guarded(settings, conn, |c| c.query(sql, params)).await;
    log(
        settings,
        sql,
        params.len(),
        started,
        result.as_ref().ok().map(|r| r.len() as u64),
    );
    result
}

pub(crate) async fn batch(settings: &BackendSettings, conn: &mut AnyConn, sql: &str) -> Result<()> {
    let started = Instant::now();
    let result = guarded(settings, conn, |c| c.batch(sql)).await;
    log(settings, sql, 0, started, result.as_ref().ok().map(|()| 0));
    result
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
    if settings.url.kind() == BackendKind::Sqlite || timeout.is_zero() {
        return run(conn).await;
    }
    // A statement abandoned here leaves its connection flagged in flight, so the pool
    // discards it instead of handing it out again.
    match tokio::time::timeout(timeout + BACKSTOP_GRACE, run(conn)).await {
        Ok(result) => result,
        Err(_) => Err(Error::Timeout { timeout }),
    }
}

fn log(settings: &BackendSettings, sql: &str, params: usize, started: Instant, rows: Option<u64>) {
    let elapsed = started.elapsed();
    let ops = &settings.operations;
    if elapsed >= ops.slow_query_threshold {
        tracing::warn!(
            target: "lexigram_sql::query",
            backend = %settings.name,
            sql,
            params,
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
            rows = rows.unwrap_or(0),
            ok = rows.is_some(),
            elapsed_ms = elapsed.as_secs_f64() * 1000.0,
            "statement"
        );
    }
}
