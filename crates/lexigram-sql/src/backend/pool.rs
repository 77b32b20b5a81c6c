//! One pool over the compiled-in backends. Feature-gated variants live here and only here.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};

use super::{BackendConn, Isolation, ReturningSlot, RowStream};
use crate::config::{BackendKind, BackendSettings, PoolConfig};
use crate::error::{ConnectError, ConnectErrorKind, Error, Result};
use crate::value::{Row, Value};

/// Runs `$body` with `$c` bound to the backend-specific connection or pool inside `$value`.
///
/// The `await` form awaits the future `$body` builds. Server backends' futures are boxed: they
/// wait on the network anyway, and keeping them out of line keeps every caller's future (and
/// the memory moved at each call) the size of SQLite's, whose statements take microseconds.
macro_rules! dispatch {
    ($enum:ident, $value:expr, $c:ident => $body:expr) => {
        match $value {
            #[cfg(feature = "sqlite")]
            $enum::Sqlite($c) => $body,
            #[cfg(feature = "postgres")]
            $enum::Postgres($c) => $body,
            #[cfg(feature = "mysql")]
            $enum::MySql($c) => $body,
        }
    };
    (await $enum:ident, $value:expr, $c:ident => $body:expr) => {
        dispatch!(await $enum, $value, $c => $body, then |out| out)
    };
    (await $enum:ident, $value:expr, $c:ident => $body:expr, then |$out:ident| $then:expr) => {
        match $value {
            #[cfg(feature = "sqlite")]
            $enum::Sqlite($c) => {
                let $out = $body.await;
                $then
            }
            #[cfg(feature = "postgres")]
            $enum::Postgres($c) => {
                let $out = Box::pin($body).await;
                $then
            }
            #[cfg(feature = "mysql")]
            $enum::MySql($c) => {
                let $out = Box::pin($body).await;
                $then
            }
        }
    };
}

/// The pool of one backend's connections: bb8 behind a FIFO gate.
///
/// **Fairness.** bb8 0.9 lets a newcomer take a returned connection ahead of a waiter it has
/// just woken (its waiters park on a `Notify` and race every new `get()` for the idle queue;
/// `queue_strategy` only orders the idle connections). So every checkout first takes a permit
/// of a `tokio::sync::Semaphore` sized `max_size`, whose waiters are served strictly in
/// arrival order and which hands a released permit to the longest waiter, never to a
/// newcomer. Only permit holders call bb8, and there are never more of them than connections
/// bb8 may open, so bb8 itself never makes anyone wait for another caller's connection. A
/// connection is returned to bb8 before its permit is released. The fast path (a free
/// permit, an idle connection) is one `try_acquire` and bb8's own checkout.
///
/// **Outages.** bb8 opens connections in spawned tasks and hands their errors to an error
/// sink; a caller waiting for that connection would otherwise wait until its timeout and see
/// only "timed out". The sink here publishes each connect error, and a caller waiting for a
/// connection fails with it at once. Each connect is bounded by `pool.connect_timeout`, and
/// bb8's own wait for a connection is too, so a server that is down or unreachable fails a
/// call with [`Error::Connect`] within `connect_timeout`; `PoolExhausted` is reported only when
/// all `max_size` connections are checked out for the whole `pool.timeout`.
#[derive(Clone)]
pub(crate) struct AnyPool {
    pools: Pools,
    /// `max_size` permits; a checkout holds one until its connection is back in bb8.
    gate: Arc<Semaphore>,
    /// The latest connect error of this pool's connection attempts.
    failures: watch::Receiver<Option<ConnectError>>,
    /// Publishes to `failures`; also given to bb8 as its error sink.
    sink: ConnectFailures,
    /// Names the server in a connect timeout: `host:port`, or the SQLite URL.
    target: Arc<str>,
    backend: &'static str,
    /// Callers waiting in line for a permit (the `waiters` gauge).
    waiters: Arc<AtomicU32>,
}

/// Counts one caller in [`AnyPool::waiters`] while it waits.
struct Waiting<'a>(&'a AtomicU32);

impl<'a> Waiting<'a> {
    fn new(waiters: &'a AtomicU32) -> Self {
        waiters.fetch_add(1, Ordering::Relaxed);
        Waiting(waiters)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

#[derive(Clone)]
enum Pools {
    #[cfg(feature = "sqlite")]
    Sqlite(bb8::Pool<super::sqlite::Manager>),
    #[cfg(feature = "postgres")]
    Postgres(bb8::Pool<PgManager>),
    #[cfg(feature = "mysql")]
    MySql(bb8::Pool<MyManager>),
}

/// The PostgreSQL manager with its connects bounded by `pool.connect_timeout`.
#[cfg(feature = "postgres")]
pub(crate) type PgManager = Bounded<super::postgres::Manager>;
/// The MySQL/MariaDB manager with its connects bounded by `pool.connect_timeout`.
#[cfg(feature = "mysql")]
pub(crate) type MyManager = Bounded<super::mysql::Manager>;

/// A connection checked out of an [`AnyPool`]; returned to it on drop, then its permit.
pub(crate) struct AnyConn {
    // Field order is drop order: the connection goes back to bb8 before the permit is
    // released, so the waiter that gets the permit finds the connection idle.
    conn: Conn,
    permit: OwnedSemaphorePermit,
}

// The variants' sizes depend on the enabled backends (SQLite with MySQL alone trips the
// lint); a checkout lives on the stack for one call, and boxing it would allocate per call.
#[allow(clippy::large_enum_variant)]
enum Conn {
    #[cfg(feature = "sqlite")]
    Sqlite(bb8::PooledConnection<'static, super::sqlite::Manager>),
    #[cfg(feature = "postgres")]
    Postgres(bb8::PooledConnection<'static, PgManager>),
    #[cfg(feature = "mysql")]
    MySql(bb8::PooledConnection<'static, MyManager>),
}

/// A server manager whose `connect` gives up after `limit` with a typed connect error
/// (a blackholed address would otherwise hang for the operating system's TCP timeout).
#[cfg(any(feature = "postgres", feature = "mysql"))]
pub(crate) struct Bounded<M> {
    inner: M,
    limit: Duration,
    backend: &'static str,
    target: Arc<str>,
}

#[cfg(any(feature = "postgres", feature = "mysql"))]
impl<M> Bounded<M> {
    fn new(inner: M, pool: &PoolConfig, backend: &'static str, target: &Arc<str>) -> Self {
        Bounded {
            inner,
            limit: pool.connect_timeout,
            backend,
            target: Arc::clone(target),
        }
    }
}

#[cfg(any(feature = "postgres", feature = "mysql"))]
impl<M: bb8::ManageConnection<Error = Error>> bb8::ManageConnection for Bounded<M> {
    type Connection = M::Connection;
    type Error = Error;

    async fn connect(&self) -> Result<M::Connection> {
        match tokio::time::timeout(self.limit, self.inner.connect()).await {
            Ok(result) => result,
            Err(_) => Err(connect_timed_out(self.backend, &self.target, self.limit)),
        }
    }

    async fn is_valid(&self, conn: &mut M::Connection) -> Result<()> {
        self.inner.is_valid(conn).await
    }

    fn has_broken(&self, conn: &mut M::Connection) -> bool {
        self.inner.has_broken(conn)
    }
}

/// "No connection within `pool.connect_timeout`", as an unreachable-server connect error.
fn connect_timed_out(backend: &'static str, target: &str, limit: Duration) -> Error {
    Error::Connect(ConnectError::new(
        ConnectErrorKind::Unreachable,
        backend,
        target,
        format!(
            "no connection within the connect timeout of {} (pool.connect_timeout)",
            humantime::format_duration(limit)
        ),
    ))
}

/// bb8's error sink: publishes connect errors to the callers waiting for a connection.
#[derive(Debug, Clone)]
struct ConnectFailures(Arc<watch::Sender<Option<ConnectError>>>);

impl bb8::ErrorSink<Error> for ConnectFailures {
    fn sink(&self, error: Error) {
        match error {
            Error::Connect(e) => {
                tracing::debug!(error = %e, "pool: connect failed");
                self.0.send_replace(Some(e));
            }
            other => tracing::debug!(error = %other, "pool: connection check failed"),
        }
    }

    fn boxed_clone(&self) -> Box<dyn bb8::ErrorSink<Error>> {
        Box::new(self.clone())
    }
}

/// The bb8 settings every backend shares, from `pool.*`.
fn builder<M: bb8::ManageConnection<Error = Error>>(
    pool: &PoolConfig,
    failures: &ConnectFailures,
) -> bb8::Builder<M> {
    bb8::Pool::builder()
        .max_size(pool.max_size)
        .min_idle(Some(pool.min_size))
        // Callers queue for a connection at the gate (within `pool.timeout`); bb8 waits only
        // for a connection being opened or checked, which `connect_timeout` bounds.
        // (5 % later than each connect gives up, so that the connect error comes first).
        .connection_timeout(pool.connect_timeout + pool.connect_timeout / 20)
        .idle_timeout(Some(pool.idle_timeout).filter(|d| !d.is_zero()))
        .max_lifetime(Some(pool.max_lifetime).filter(|d| !d.is_zero()))
        // Hand out the most recently returned connection: its caches are warm (SQLite's page
        // cache is stale on a connection another one has written past; prepared statements)
        // and it skips the validation ping, while surplus connections age out by idle_timeout.
        .queue_strategy(bb8::QueueStrategy::Lifo)
        // Each manager's `is_valid` skips the round trip for recently used connections.
        .test_on_check_out(true)
        // Fail a connect at once (no retry loop until the timeout) and publish its error.
        .retry_connection(false)
        .error_sink(Box::new(failures.clone()))
}

impl AnyPool {
    /// Opens the pool for one backend, by URL scheme, with its first `min_size` connections,
    /// failing with the connect error. `returning` records whether the server has
    /// `INSERT … RETURNING` (SQLite and PostgreSQL always; MySQL/MariaDB at connect).
    pub(crate) async fn open(
        settings: &BackendSettings,
        returning: &ReturningSlot,
    ) -> Result<AnyPool> {
        let url = &settings.url;
        let config = &settings.pool;
        let timeout = settings.operations.statement_timeout;
        let backend = url.kind().name();
        let target: Arc<str> = url.host_port().unwrap_or_else(|| url.redacted()).into();
        let (sender, failures) = watch::channel(None);
        let sink = ConnectFailures(Arc::new(sender));
        let pools = match url.kind() {
            #[cfg(feature = "sqlite")]
            BackendKind::Sqlite => {
                let sqlite = url
                    .sqlite_target()
                    .ok_or_else(|| missing(url.kind(), url))?;
                let _ = returning.set(true); // bundled SQLite ≥ 3.35
                let manager = super::sqlite::Manager::new(&sqlite, timeout, config.timeout)?;
                Pools::Sqlite(build(config, &sink, manager, backend, &target).await?)
            }
            #[cfg(feature = "postgres")]
            BackendKind::Postgres => {
                let _ = returning.set(true);
                let manager = Bounded::new(
                    super::postgres::Manager::new(
                        url,
                        &settings.tls,
                        timeout,
                        settings.statement_cache,
                    )?,
                    config,
                    backend,
                    &target,
                );
                Pools::Postgres(build(config, &sink, manager, backend, &target).await?)
            }
            #[cfg(feature = "mysql")]
            BackendKind::MySql => {
                let manager = Bounded::new(
                    super::mysql::Manager::new(url, &settings.tls, timeout)?
                        .recording_returning(Arc::clone(returning)),
                    config,
                    backend,
                    &target,
                );
                Pools::MySql(build(config, &sink, manager, backend, &target).await?)
            }
            #[allow(unreachable_patterns)]
            kind => return Err(missing(kind, url)),
        };
        Ok(AnyPool {
            pools,
            gate: Arc::new(Semaphore::new(config.max_size as usize)),
            failures,
            sink,
            target,
            backend,
            waiters: Arc::new(AtomicU32::new(0)),
        })
    }

    /// Checks a connection out: waits for a permit in arrival order (at most `pool.timeout`,
    /// else [`Error::PoolExhausted`]), then takes an idle connection or opens one (at most
    /// `pool.connect_timeout`, else [`Error::Connect`]).
    pub(crate) async fn get(&self, pool: &PoolConfig) -> Result<AnyConn> {
        let permit = match Arc::clone(&self.gate).try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => self.wait_for_permit(pool).await?,
        };
        let conn = match &self.pools {
            #[cfg(feature = "sqlite")]
            Pools::Sqlite(p) => Conn::Sqlite(self.checkout(p, pool).await?),
            #[cfg(feature = "postgres")]
            Pools::Postgres(p) => Conn::Postgres(Box::pin(self.checkout(p, pool)).await?),
            #[cfg(feature = "mysql")]
            Pools::MySql(p) => Conn::MySql(Box::pin(self.checkout(p, pool)).await?),
        };
        Ok(AnyConn { conn, permit })
    }

    /// Waits in line for a permit, at most `pool.timeout`. While no connection is open, a
    /// connect error published meanwhile (the server is down) fails the wait at once.
    async fn wait_for_permit(&self, pool: &PoolConfig) -> Result<OwnedSemaphorePermit> {
        let _waiting = Waiting::new(&self.waiters);
        let mut failures = self.failures.clone();
        failures.mark_unchanged();
        let acquire = Arc::clone(&self.gate).acquire_owned();
        let deadline = tokio::time::sleep(pool.timeout);
        tokio::pin!(acquire, deadline);
        let exhausted = || Error::PoolExhausted {
            max_size: pool.max_size,
            timeout: pool.timeout,
        };
        loop {
            tokio::select! {
                biased;
                // First: a connect error published while waiting (also in the moment the
                // failing caller hands its permit on) fails this call too.
                Ok(()) = failures.changed() => {
                    let failure = failures.borrow_and_update().clone();
                    if let Some(e) = failure
                        && self.state().0 == 0
                    {
                        return Err(Error::Connect(e));
                    }
                }
                // The gate is never closed.
                permit = &mut acquire => return permit.map_err(|_| exhausted()),
                () = &mut deadline => {
                    let failure = failures.borrow().clone();
                    return match failure {
                        Some(e) if self.state().0 == 0 => Err(Error::Connect(e)),
                        _ => Err(exhausted()),
                    };
                }
            }
        }
    }

    /// bb8's checkout for a permit holder, failing with the first connect error published
    /// while it waits.
    async fn checkout<M: bb8::ManageConnection<Error = Error>>(
        &self,
        p: &bb8::Pool<M>,
        pool: &PoolConfig,
    ) -> Result<bb8::PooledConnection<'static, M>> {
        let mut failures = self.failures.clone();
        failures.mark_unchanged();
        let map = |e: bb8::RunError<Error>| match e {
            bb8::RunError::User(e) => e,
            bb8::RunError::TimedOut => {
                let err = connect_timed_out(self.backend, &self.target, pool.connect_timeout);
                if let Error::Connect(e) = &err {
                    self.sink.0.send_replace(Some(e.clone()));
                }
                err
            }
        };
        let get = p.get_owned();
        tokio::pin!(get);
        // The fast path: an idle connection is ready without waiting.
        tokio::select! {
            biased;
            got = &mut get => got.map_err(map),
            Ok(()) = failures.changed() => {
                let failure = failures.borrow_and_update().clone();
                match failure {
                    Some(e) => Err(Error::Connect(e)),
                    None => get.await.map_err(map),
                }
            }
        }
    }

    /// Callers waiting in line for a connection now.
    pub(crate) fn waiters(&self) -> u32 {
        self.waiters.load(Ordering::Relaxed)
    }

    /// `(connections open, idle connections)`.
    pub(crate) fn state(&self) -> (u32, u32) {
        dispatch!(Pools, &self.pools, p => {
            let s = p.state();
            (s.connections, s.idle_connections)
        })
    }
}

/// Builds a bb8 pool with its first `min_size` connections, failing with the connect error.
async fn build<M: bb8::ManageConnection<Error = Error>>(
    pool: &PoolConfig,
    failures: &ConnectFailures,
    manager: M,
    backend: &'static str,
    target: &str,
) -> Result<bb8::Pool<M>> {
    // Each connect is bounded by `connect_timeout`; this bounds the whole start-up as well.
    let limit = pool.connect_timeout + pool.connect_timeout / 10;
    match tokio::time::timeout(limit, builder(pool, failures).build(manager)).await {
        Ok(result) => result,
        Err(_) => Err(connect_timed_out(backend, target, pool.connect_timeout)),
    }
}

fn missing(kind: BackendKind, url: &crate::config::DatabaseUrl) -> Error {
    Error::DriverMissing {
        backend: kind.name(),
        feature: kind.feature(),
        url: url.redacted(),
    }
}

impl AnyConn {
    /// See [`BackendConn::execute`].
    pub(crate) async fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64> {
        dispatch!(await Conn, &mut self.conn, c => c.execute(sql, params))
    }

    /// See [`BackendConn::execute_insert`].
    pub(crate) async fn execute_insert(
        &mut self,
        sql: &str,
        params: &[Value],
    ) -> Result<(u64, Option<i64>)> {
        dispatch!(await Conn, &mut self.conn, c => c.execute_insert(sql, params))
    }

    /// See [`BackendConn::query`].
    pub(crate) async fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
        dispatch!(await Conn, &mut self.conn, c => c.query(sql, params))
    }

    /// See [`BackendConn::query_first`].
    pub(crate) async fn query_first(&mut self, sql: &str, params: &[Value]) -> Result<Option<Row>> {
        dispatch!(await Conn, &mut self.conn, c => c.query_first(sql, params))
    }

    /// See [`BackendConn::batch`].
    pub(crate) async fn batch(&mut self, sql: &str) -> Result<()> {
        dispatch!(await Conn, &mut self.conn, c => c.batch(sql))
    }

    /// See [`BackendConn::begin`].
    pub(crate) async fn begin(&mut self, isolation: Option<Isolation>) -> Result<()> {
        dispatch!(await Conn, &mut self.conn, c => c.begin(isolation))
    }

    /// See [`BackendConn::finish`].
    pub(crate) async fn finish(&mut self, commit: bool) -> Result<()> {
        dispatch!(await Conn, &mut self.conn, c => c.finish(commit))
    }

    /// See [`BackendConn::copy_in`].
    pub(crate) async fn copy_in(&mut self, rows: &super::CopyRows<'_>) -> Result<Option<u64>> {
        dispatch!(await Conn, &mut self.conn, c => c.copy_in(rows))
    }

    /// See [`BackendConn::copy_ready`].
    pub(crate) async fn copy_ready(&mut self, rows: &super::CopyRows<'_>) -> Result<bool> {
        dispatch!(await Conn, &mut self.conn, c => c.copy_ready(rows))
    }

    /// See [`BackendConn::mark_broken`].
    pub(crate) fn mark_broken(&mut self) {
        dispatch!(Conn, &mut self.conn, c => c.mark_broken())
    }

    /// See [`BackendConn::in_flight`].
    pub(crate) fn in_flight(&self) -> bool {
        dispatch!(Conn, &self.conn, c => c.in_flight())
    }

    /// Streams a query's rows; the stream owns the connection until it ends or is dropped.
    /// The permit is released after the stream (and so the connection) is dropped.
    pub(crate) fn stream(self, sql: String, params: Vec<Value>) -> RowStream {
        let AnyConn { conn, permit } = self;
        let rows = match conn {
            #[cfg(feature = "sqlite")]
            Conn::Sqlite(c) => super::sqlite::SqliteConn::stream(c, sql, params),
            #[cfg(feature = "postgres")]
            Conn::Postgres(c) => super::postgres::PgConn::stream(c, sql, params),
            #[cfg(feature = "mysql")]
            Conn::MySql(c) => super::mysql::MyConn::stream(c, sql, params),
        };
        Box::pin(Holding {
            rows,
            _permit: permit,
        })
    }
}

/// A row stream that keeps its checkout's permit; fields drop in order, rows first.
struct Holding {
    rows: RowStream,
    _permit: OwnedSemaphorePermit,
}

impl futures_util::Stream for Holding {
    type Item = Result<Row>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        self.rows.as_mut().poll_next(cx)
    }
}
