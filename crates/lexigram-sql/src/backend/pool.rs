//! One pool over the compiled-in backends. Feature-gated variants live here and only here.

use std::time::Duration;

use super::{BackendConn, Isolation, ReturningSlot, RowStream};
use crate::config::{BackendKind, BackendSettings, PoolConfig};
use crate::error::{Error, Result};
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

/// A pool of one backend's connections.
#[derive(Clone)]
pub(crate) enum AnyPool {
    #[cfg(feature = "sqlite")]
    Sqlite(bb8::Pool<super::sqlite::Manager>),
    #[cfg(feature = "postgres")]
    Postgres(bb8::Pool<super::postgres::Manager>),
    #[cfg(feature = "mysql")]
    MySql(bb8::Pool<super::mysql::Manager>),
}

/// A connection checked out of an [`AnyPool`]; returned to it on drop.
pub(crate) enum AnyConn {
    #[cfg(feature = "sqlite")]
    Sqlite(bb8::PooledConnection<'static, super::sqlite::Manager>),
    #[cfg(feature = "postgres")]
    Postgres(bb8::PooledConnection<'static, super::postgres::Manager>),
    #[cfg(feature = "mysql")]
    MySql(bb8::PooledConnection<'static, super::mysql::Manager>),
}

/// The bb8 settings every backend shares, from `pool.*`.
fn builder<M: bb8::ManageConnection>(pool: &PoolConfig) -> bb8::Builder<M> {
    bb8::Pool::builder()
        .max_size(pool.max_size)
        .min_idle(Some(pool.min_size))
        .connection_timeout(pool.timeout)
        .idle_timeout(Some(pool.idle_timeout).filter(|d| !d.is_zero()))
        .max_lifetime(Some(pool.max_lifetime).filter(|d| !d.is_zero()))
        // Hand out the most recently returned connection: its caches are warm (SQLite's page
        // cache is stale on a connection another one has written past; prepared statements)
        // and it skips the validation ping, while surplus connections age out by idle_timeout.
        .queue_strategy(bb8::QueueStrategy::Lifo)
        // Each manager's `is_valid` skips the round trip for recently used connections.
        .test_on_check_out(true)
        // Surface connect errors (unreachable, bad password) instead of retrying until timeout.
        .retry_connection(false)
}

/// Builds a pool with its first `min_size` connections, failing with the connect error.
async fn build<M: bb8::ManageConnection<Error = Error>>(
    pool: &PoolConfig,
    manager: M,
) -> Result<bb8::Pool<M>> {
    let connect_limit = pool.timeout.max(Duration::from_secs(1));
    match tokio::time::timeout(connect_limit, builder(pool).build(manager)).await {
        Ok(result) => result,
        Err(_) => Err(Error::PoolExhausted {
            max_size: pool.max_size,
            timeout: pool.timeout,
        }),
    }
}

impl AnyPool {
    /// Opens the pool for one backend, by URL scheme. `returning` records whether the server
    /// has `INSERT … RETURNING` (SQLite and PostgreSQL always; MySQL/MariaDB at connect).
    pub(crate) async fn open(
        settings: &BackendSettings,
        returning: &ReturningSlot,
    ) -> Result<AnyPool> {
        let url = &settings.url;
        let timeout = settings.operations.statement_timeout;
        match url.kind() {
            #[cfg(feature = "sqlite")]
            BackendKind::Sqlite => {
                let target = url
                    .sqlite_target()
                    .ok_or_else(|| missing(url.kind(), url))?;
                let _ = returning.set(true); // bundled SQLite ≥ 3.35
                let manager = super::sqlite::Manager::new(&target, timeout, settings.pool.timeout)?;
                Ok(AnyPool::Sqlite(build(&settings.pool, manager).await?))
            }
            #[cfg(feature = "postgres")]
            BackendKind::Postgres => {
                let _ = returning.set(true);
                let manager = super::postgres::Manager::new(url, &settings.tls, timeout)?;
                Ok(AnyPool::Postgres(build(&settings.pool, manager).await?))
            }
            #[cfg(feature = "mysql")]
            BackendKind::MySql => {
                let manager = super::mysql::Manager::new(url, &settings.tls, timeout)?
                    .recording_returning(std::sync::Arc::clone(returning));
                Ok(AnyPool::MySql(build(&settings.pool, manager).await?))
            }
            #[allow(unreachable_patterns)]
            kind => Err(missing(kind, url)),
        }
    }

    /// Checks a connection out, within `pool.timeout`.
    pub(crate) async fn get(&self, pool: &PoolConfig) -> Result<AnyConn> {
        let map = |e: bb8::RunError<Error>| match e {
            bb8::RunError::User(e) => e,
            bb8::RunError::TimedOut => Error::PoolExhausted {
                max_size: pool.max_size,
                timeout: pool.timeout,
            },
        };
        dispatch!(await AnyPool, self, p => p.get_owned(), then |got| got.map(AnyConn::from).map_err(map))
    }

    /// `(connections open, idle connections)`.
    pub(crate) fn state(&self) -> (u32, u32) {
        dispatch!(AnyPool, self, p => {
            let s = p.state();
            (s.connections, s.idle_connections)
        })
    }
}

fn missing(kind: BackendKind, url: &crate::config::DatabaseUrl) -> Error {
    Error::DriverMissing {
        backend: kind.name(),
        feature: kind.feature(),
        url: url.redacted(),
    }
}

#[cfg(feature = "sqlite")]
impl From<bb8::PooledConnection<'static, super::sqlite::Manager>> for AnyConn {
    fn from(c: bb8::PooledConnection<'static, super::sqlite::Manager>) -> Self {
        AnyConn::Sqlite(c)
    }
}
#[cfg(feature = "postgres")]
impl From<bb8::PooledConnection<'static, super::postgres::Manager>> for AnyConn {
    fn from(c: bb8::PooledConnection<'static, super::postgres::Manager>) -> Self {
        AnyConn::Postgres(c)
    }
}
#[cfg(feature = "mysql")]
impl From<bb8::PooledConnection<'static, super::mysql::Manager>> for AnyConn {
    fn from(c: bb8::PooledConnection<'static, super::mysql::Manager>) -> Self {
        AnyConn::MySql(c)
    }
}

impl AnyConn {
    /// See [`BackendConn::execute`].
    pub(crate) async fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64> {
        dispatch!(await AnyConn, self, c => c.execute(sql, params))
    }

    /// See [`BackendConn::execute_insert`].
    pub(crate) async fn execute_insert(
        &mut self,
        sql: &str,
        params: &[Value],
    ) -> Result<(u64, Option<i64>)> {
        dispatch!(await AnyConn, self, c => c.execute_insert(sql, params))
    }

    /// See [`BackendConn::query`].
    pub(crate) async fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
        dispatch!(await AnyConn, self, c => c.query(sql, params))
    }

    /// See [`BackendConn::query_first`].
    pub(crate) async fn query_first(&mut self, sql: &str, params: &[Value]) -> Result<Option<Row>> {
        dispatch!(await AnyConn, self, c => c.query_first(sql, params))
    }

    /// See [`BackendConn::batch`].
    pub(crate) async fn batch(&mut self, sql: &str) -> Result<()> {
        dispatch!(await AnyConn, self, c => c.batch(sql))
    }

    /// See [`BackendConn::begin`].
    pub(crate) async fn begin(&mut self, isolation: Option<Isolation>) -> Result<()> {
        dispatch!(await AnyConn, self, c => c.begin(isolation))
    }

    /// See [`BackendConn::finish`].
    pub(crate) async fn finish(&mut self, commit: bool) -> Result<()> {
        dispatch!(await AnyConn, self, c => c.finish(commit))
    }

    /// See [`BackendConn::mark_broken`].
    pub(crate) fn mark_broken(&mut self) {
        dispatch!(AnyConn, self, c => c.mark_broken())
    }

    /// See [`BackendConn::in_flight`].
    pub(crate) fn in_flight(&self) -> bool {
        dispatch!(AnyConn, self, c => c.in_flight())
    }

    /// Streams a query's rows; the stream owns the connection until it ends or is dropped.
    pub(crate) fn stream(self, sql: String, params: Vec<Value>) -> RowStream {
        match self {
            #[cfg(feature = "sqlite")]
            AnyConn::Sqlite(c) => super::sqlite::SqliteConn::stream(c, sql, params),
            #[cfg(feature = "postgres")]
            AnyConn::Postgres(c) => super::postgres::PgConn::stream(c, sql, params),
            #[cfg(feature = "mysql")]
            AnyConn::MySql(c) => super::mysql::MyConn::stream(c, sql, params),
        }
    }
}
