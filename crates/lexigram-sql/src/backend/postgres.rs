//! PostgreSQL through `tokio-postgres`.
//!
//! `operations.statement_timeout` is set as the session's `statement_timeout`, so the server
//! itself cancels a long statement (SQLSTATE 57014) and the connection stays usable.
//! Statements are prepared once per connection and cached by their SQL text — unless
//! `backend.statement_cache` is off (behind PgBouncer in transaction mode): then each statement
//! is one unnamed statement (`query_typed`: parse, bind, execute in one round trip) whose
//! parameters go as text of open type (see `postgres_text`), and no named statement is ever
//! left on a server connection.

use std::error::Error as StdError;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{StreamExt, TryStreamExt};
use tokio_postgres::config::SslMode;
use tokio_postgres::error::SqlState;
use tokio_postgres::{Client, NoTls, Statement};

use super::postgres_text::{TextParam, text_params};
use super::postgres_values::{Cell, Param};
use super::{BackendConn, Dialect, Isolation, Postgres, RowStream, VALIDATE_AFTER};
use crate::config::{DatabaseUrl, TlsConfig, TlsMode};
use crate::error::{
    ConflictKind, ConnectError, ConnectErrorKind, ConstraintKind, Error, Result, TlsFailure,
};
use crate::value::{EncodeError, Row, Value};

mod copy;

/// Opens PostgreSQL connections for one `Database`.
pub(crate) struct Manager {
    config: tokio_postgres::Config,
    target: String,
    statement_timeout: Duration,
    /// The rustls connector; `None` with `sslmode=disable`.
    tls: Option<tokio_postgres_rustls::MakeRustlsConnect>,
    /// `sslmode=prefer`: the same settings without TLS, tried when the server offered TLS but
    /// the handshake failed (libpq's meaning of `prefer`).
    plain_fallback: Option<tokio_postgres::Config>,
    /// Whether statements are prepared and cached (`backend.statement_cache`).
    cache: bool,
}

impl Manager {
    /// `tls` is `backend.tls`; the URL's `sslmode`, `sslrootcert`, `sslcert` and `sslkey` (or
    /// MySQL's names) override it and are taken out of the URL before tokio-postgres, which
    /// knows only `disable`, `prefer` and `require`, parses it.
    pub(crate) fn new(
        url: &DatabaseUrl,
        tls: &TlsConfig,
        statement_timeout: Duration,
        statement_cache: bool,
    ) -> Result<Self> {
        let (raw, tls) = crate::config::resolve_tls(url.expose(), tls).map_err(|mut e| {
            e.detail = url.scrub(&e.detail);
            Error::Configuration(e)
        })?;
        let (raw, cache) = crate::config::split_statement_cache(&raw).map_err(|mut e| {
            e.detail = url.scrub(&e.detail);
            Error::Configuration(e)
        })?;
        let cache = cache.unwrap_or(statement_cache);
        let raw = raw.as_str();
        let rest = raw.split_once("://").map_or(raw, |(_, rest)| rest);
        let target = url.host_port().unwrap_or_else(|| "localhost:5432".into());
        let mut config: tokio_postgres::Config =
            format!("postgresql://{rest}")
                .parse()
                .map_err(|e: tokio_postgres::Error| {
                    Error::Connect(ConnectError::new(
                        ConnectErrorKind::Other,
                        "postgresql",
                        target.clone(),
                        url.scrub(&format!("invalid URL: {e}")),
                    ))
                })?;
        config.application_name("lexigram");
        config.ssl_mode(match tls.mode {
            TlsMode::Disable => SslMode::Disable,
            TlsMode::Prefer => SslMode::Prefer,
            TlsMode::Require | TlsMode::VerifyCa | TlsMode::VerifyFull => SslMode::Require,
        });
        let tls = match tls.mode {
            TlsMode::Disable => None,
            _ => Some(super::tls::pg_connector(&tls)?),
        };
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(10));
        }
        if !statement_timeout.is_zero() {
            // Keep options given in the URL (`?options=-c search_path=app`).
            let mut options = config.get_options().unwrap_or_default().to_string();
            if !options.is_empty() {
                options.push(' ');
            }
            options.push_str(&format!(
                "-c statement_timeout={}",
                statement_timeout.as_millis()
            ));
            config.options(options);
        }
        let plain_fallback =
            (tls.is_some() && config.get_ssl_mode() == SslMode::Prefer).then(|| {
                let mut plain = config.clone();
                plain.ssl_mode(SslMode::Disable);
                plain
            });
        Ok(Manager {
            config,
            target,
            statement_timeout,
            tls,
            plain_fallback,
            cache,
        })
    }
}

/// Connects with `tls` (or `NoTls`) and drives the connection on its own task.
async fn open<T>(config: &tokio_postgres::Config, tls: T, target: &str) -> Result<Client>
where
    T: tokio_postgres::tls::MakeTlsConnect<tokio_postgres::Socket>,
    T::Stream: Send + 'static,
{
    let (client, connection) = config
        .connect(tls)
        .await
        .map_err(|e| connect_error(&e, target))?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::debug!(error = %e, "postgresql connection closed");
        }
    });
    Ok(client)
}

impl bb8::ManageConnection for Manager {
    type Connection = PgConn;
    type Error = Error;

    async fn connect(&self) -> Result<PgConn> {
        let client = match &self.tls {
            Some(tls) => match open(&self.config, tls.clone(), &self.target).await {
                Err(Error::Connect(e))
                    if matches!(e.kind, ConnectErrorKind::Tls(_))
                        && let Some(plain) = &self.plain_fallback =>
                {
                    tracing::debug!(target = %self.target, error = %e, "sslmode=prefer: TLS failed, connecting without it");
                    open(plain, NoTls, &self.target).await?
                }
                other => other?,
            },
            None => open(&self.config, NoTls, &self.target).await?,
        };
        Ok(PgConn {
            client,
            statements: super::lru_cache::sql_cache(),
            last_used: Instant::now(),
            in_flight: false,
            in_transaction: false,
            broken: false,
            timeout: self.statement_timeout,
            cache: self.cache,
        })
    }

    async fn is_valid(&self, conn: &mut PgConn) -> Result<()> {
        if conn.last_used.elapsed() < VALIDATE_AFTER {
            return Ok(());
        }
        conn.client
            .simple_query("")
            .await
            .map_err(|e| classify(&e, conn.timeout))?;
        conn.last_used = Instant::now();
        Ok(())
    }

    fn has_broken(&self, conn: &mut PgConn) -> bool {
        conn.broken || conn.in_flight || conn.client.is_closed()
    }
}

fn connect_error(e: &tokio_postgres::Error, target: &str) -> Error {
    if let Some((failure, reason)) = super::tls::find_failure(e) {
        return super::tls::connect_error(failure, "postgresql", target, reason);
    }
    if let Some(source) = e.source()
        && e.code().is_none()
        && e.to_string().contains("TLS")
    {
        let text = source.to_string();
        let failure = if text.contains("does not support TLS") {
            TlsFailure::Unsupported
        } else {
            TlsFailure::Handshake
        };
        return super::tls::connect_error(
            failure,
            "postgresql",
            target,
            format!("TLS handshake failed: {text}"),
        );
    }
    let kind = match e.code() {
        Some(c)
            if *c == SqlState::INVALID_PASSWORD
                || *c == SqlState::INVALID_AUTHORIZATION_SPECIFICATION =>
        {
            ConnectErrorKind::Authentication
        }
        Some(c) if *c == SqlState::INVALID_CATALOG_NAME => ConnectErrorKind::DatabaseMissing,
        Some(_) => ConnectErrorKind::Other,
        None => ConnectErrorKind::Unreachable,
    };
    let reason = match e.as_db_error() {
        Some(db) => db.message().to_string(),
        None => e
            .source()
            .map_or_else(|| e.to_string(), ToString::to_string),
    };
    Error::Connect(ConnectError::new(kind, "postgresql", target, reason))
}

/// One PostgreSQL connection with its prepared-statement cache.
pub(crate) struct PgConn {
    client: Client,
    /// Prepared statements and their result column names, by SQL text.
    statements: super::lru_cache::SqlCache<Prepared>,
    last_used: Instant,
    in_flight: bool,
    /// Between a successful `begin` and its `finish`.
    in_transaction: bool,
    broken: bool,
    timeout: Duration,
    /// Whether statements are prepared and cached; else each runs unnamed.
    cache: bool,
}

/// A statement prepared on one connection, with the column names its rows share.
#[derive(Clone)]
struct Prepared {
    statement: Statement,
    columns: Arc<[String]>,
}

/// The parameters of a statement, numbered from 1 for error messages.
fn bind(params: &[Value]) -> impl ExactSizeIterator<Item = Param<'_>> {
    params.iter().enumerate().map(|(i, v)| Param(i + 1, v))
}

/// The column names of a row of an unnamed statement.
fn column_names(row: &tokio_postgres::Row) -> Arc<[String]> {
    row.columns().iter().map(|c| c.name().to_string()).collect()
}

fn convert_row(row: &tokio_postgres::Row, columns: &Arc<[String]>) -> Result<Row> {
    let mut values = Vec::with_capacity(columns.len());
    for i in 0..columns.len() {
        let cell: Cell = row.try_get(i).map_err(|e| Error::Decode {
            column: columns[i].clone(),
            detail: e
                .source()
                .map_or_else(|| e.to_string(), ToString::to_string),
        })?;
        values.push(cell.0);
    }
    Ok(Row::new(Arc::clone(columns), values))
}

impl PgConn {
    async fn statement(&mut self, sql: &str) -> Result<Prepared> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        let statement = self
            .client
            .prepare(sql)
            .await
            .map_err(|e| classify(&e, self.timeout))?;
        let columns = statement
            .columns()
            .iter()
            .map(|c| c.name().to_string())
            .collect();
        let prepared = Prepared { statement, columns };
        self.statements.put(sql.into(), prepared.clone());
        Ok(prepared)
    }

    /// Runs a query and reads its rows, converting those `keep` accepts (by position).
    async fn rows(
        &mut self,
        sql: &str,
        params: &[Value],
        keep: impl Fn(usize) -> bool,
    ) -> Result<Vec<Row>> {
        if !self.cache {
            self.in_flight = true;
            let result = match self.client.query_typed_raw(sql, text_params(params)).await {
                Ok(stream) => stream.try_collect::<Vec<_>>().await,
                Err(e) => Err(e),
            };
            let raw = self.done(result)?;
            let Some(first) = raw.first() else {
                return Ok(Vec::new());
            };
            let columns = column_names(first);
            return raw
                .iter()
                .enumerate()
                .filter(|(i, _)| keep(*i))
                .map(|(_, r)| convert_row(r, &columns))
                .collect();
        }
        let mut retried = false;
        loop {
            let Prepared { statement, columns } = self.start(sql).await?;
            let result = match self.client.query_raw(&statement, bind(params)).await {
                Ok(stream) => stream.try_collect::<Vec<_>>().await,
                Err(e) => Err(e),
            };
            if let Some(raw) = self.finish(sql, result, &mut retried)? {
                return raw
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| keep(*i))
                    .map(|(_, r)| convert_row(r, &columns))
                    .collect();
            }
        }
    }

    /// The statement prepared for `sql`, with the in-flight flag raised for running it.
    async fn start(&mut self, sql: &str) -> Result<Prepared> {
        let prepared = self.statement(sql).await?;
        self.in_flight = true;
        Ok(prepared)
    }

    /// Ends a statement begun with [`PgConn::start`]. `Ok(None)` asks the caller to run it
    /// once more: its cached plan went stale and was dropped (see [`PgConn::forget_stale`]).
    fn finish<T>(
        &mut self,
        sql: &str,
        result: std::result::Result<T, tokio_postgres::Error>,
        retried: &mut bool,
    ) -> Result<Option<T>> {
        if let Err(e) = &result
            && !*retried
            && self.forget_stale(sql, e)
        {
            *retried = true;
            return Ok(None);
        }
        self.done(result).map(Some)
    }

    /// After `cached plan must not change result type` (the table under a cached `SELECT *`
    /// changed), drops the cached statement so the next run prepares it again. True when the
    /// caller may retry at once: outside a transaction, which that error would have aborted.
    fn forget_stale(&mut self, sql: &str, e: &tokio_postgres::Error) -> bool {
        let stale = e.code() == Some(&SqlState::FEATURE_NOT_SUPPORTED)
            && e.as_db_error()
                .is_some_and(|d| d.message().contains("cached plan must not change"));
        if stale {
            self.statements.pop(sql);
            self.in_flight = false;
        }
        stale && !self.in_transaction
    }

    /// Ends a statement started with the in-flight flag up (a future dropped mid-statement
    /// leaves the flag up, and the pool then discards the connection), classifying its error.
    fn done<T>(&mut self, result: std::result::Result<T, tokio_postgres::Error>) -> Result<T> {
        self.in_flight = false;
        self.last_used = Instant::now();
        result.map_err(|e| {
            let err = classify(&e, self.timeout);
            if matches!(err, Error::ConnectionLost { .. }) {
                self.broken = true;
            }
            err
        })
    }

    pub(crate) fn stream<M: bb8::ManageConnection<Connection = PgConn>>(
        mut conn: bb8::PooledConnection<'static, M>,
        sql: String,
        params: Vec<Value>,
    ) -> RowStream {
        if !conn.cache {
            return Box::pin(async_stream::try_stream! {
                conn.in_flight = true;
                let timeout = conn.timeout;
                let rows = conn
                    .client
                    .query_typed_raw(&sql, text_params(&params))
                    .await
                    .map_err(|e| classify(&e, timeout))?;
                futures_util::pin_mut!(rows);
                let mut columns: Option<Arc<[String]>> = None;
                while let Some(row) = rows.next().await {
                    let row = row.map_err(|e| classify(&e, timeout))?;
                    let names = columns.get_or_insert_with(|| column_names(&row));
                    yield convert_row(&row, names)?;
                }
                conn.in_flight = false;
            });
        }
        Box::pin(async_stream::try_stream! {
            let Prepared { statement, columns } = conn.start(&sql).await?;
            let timeout = conn.timeout;
            let rows = conn
                .client
                .query_raw(&statement, bind(&params))
                .await
                .map_err(|e| classify(&e, timeout))?;
            futures_util::pin_mut!(rows);
            while let Some(row) = rows.next().await {
                let row = row.map_err(|e| classify(&e, timeout))?;
                yield convert_row(&row, &columns)?;
            }
            conn.in_flight = false;
        })
    }
}

impl BackendConn for PgConn {
    async fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64> {
        if !self.cache {
            self.in_flight = true;
            let typed = text_params(params);
            let refs: Vec<(&(dyn tokio_postgres::types::ToSql + Sync), _)> = typed
                .iter()
                .map(|(p, ty): &(TextParam<'_>, _)| (p as _, ty.clone()))
                .collect();
            let result = self.client.execute_typed(sql, &refs).await;
            return self.done(result);
        }
        let mut retried = false;
        loop {
            let statement = self.start(sql).await?.statement;
            let result = self.client.execute_raw(&statement, bind(params)).await;
            if let Some(affected) = self.finish(sql, result, &mut retried)? {
                return Ok(affected);
            }
        }
    }

    async fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
        self.rows(sql, params, |_| true).await
    }

    async fn query_first(&mut self, sql: &str, params: &[Value]) -> Result<Option<Row>> {
        Ok(self.rows(sql, params, |i| i == 0).await?.pop())
    }

    async fn copy_in(&mut self, rows: &super::CopyRows<'_>) -> Result<Option<u64>> {
        self.copy_rows(rows).await
    }

    async fn copy_ready(&mut self, rows: &super::CopyRows<'_>) -> Result<bool> {
        Ok(self.cache && self.column_types(rows).await?.is_some())
    }

    async fn batch(&mut self, sql: &str) -> Result<()> {
        self.in_flight = true;
        let result = self.client.batch_execute(sql).await;
        self.done(result)
    }

    async fn begin(&mut self, isolation: Option<Isolation>) -> Result<()> {
        self.batch(&Postgres.begin_sql(isolation)).await?;
        self.in_transaction = true;
        Ok(())
    }

    async fn finish(&mut self, commit: bool) -> Result<()> {
        self.in_transaction = false;
        self.batch(if commit { "COMMIT" } else { "ROLLBACK" }).await
    }

    fn mark_broken(&mut self) {
        self.broken = true;
    }

    fn in_flight(&self) -> bool {
        self.in_flight
    }
}

/// Classifies a tokio-postgres error from its SQLSTATE.
pub(crate) fn classify(e: &tokio_postgres::Error, timeout: Duration) -> Error {
    if let Some(refused) = e.source().and_then(EncodeError::find) {
        return refused.clone().into();
    }
    let Some(db) = e.as_db_error() else {
        if e.is_closed() || e.source().is_some_and(|s| s.is::<std::io::Error>()) {
            return Error::ConnectionLost {
                detail: e.to_string(),
            };
        }
        return Error::Driver {
            backend: "postgresql",
            code: None,
            message: e.to_string(),
            source: None,
        };
    };
    let message = db.message().to_string();
    let code = db.code();
    let constraint = |kind| Error::Constraint {
        kind,
        constraint: db.constraint().or(db.column()).map(str::to_string),
        detail: message.clone(),
    };
    match code {
        &SqlState::UNIQUE_VIOLATION => constraint(ConstraintKind::Unique),
        &SqlState::FOREIGN_KEY_VIOLATION => constraint(ConstraintKind::ForeignKey),
        &SqlState::NOT_NULL_VIOLATION => constraint(ConstraintKind::NotNull),
        &SqlState::CHECK_VIOLATION => constraint(ConstraintKind::Check),
        &SqlState::UNDEFINED_TABLE => Error::TableMissing {
            table: message
                .split('"')
                .nth(1)
                .map_or_else(|| message.clone(), str::to_string),
        },
        &SqlState::UNDEFINED_COLUMN => undefined_column(&message),
        &SqlState::T_R_SERIALIZATION_FAILURE => Error::Conflict {
            kind: ConflictKind::Serialization,
            detail: message,
        },
        &SqlState::T_R_DEADLOCK_DETECTED => Error::Conflict {
            kind: ConflictKind::Deadlock,
            detail: message,
        },
        &SqlState::QUERY_CANCELED => Error::Timeout { timeout },
        // A named prepared statement met a server connection that does not know it (or
        // already has one of that name): a transaction-mode pooler such as PgBouncer moved
        // the session to another server connection between prepare and execute.
        &SqlState::INVALID_SQL_STATEMENT_NAME | &SqlState::DUPLICATE_PSTATEMENT
            if message.contains("prepared statement") =>
        {
            Error::PreparedStatementLost { detail: message }
        }
        // Data exceptions: the server refused a value for its column (overflow, too long,
        // not a number, not a date).
        &SqlState::NUMERIC_VALUE_OUT_OF_RANGE
        | &SqlState::STRING_DATA_RIGHT_TRUNCATION
        | &SqlState::INVALID_TEXT_REPRESENTATION
        | &SqlState::INVALID_DATETIME_FORMAT
        | &SqlState::DATETIME_FIELD_OVERFLOW
        | &SqlState::CHARACTER_NOT_IN_REPERTOIRE => Error::refused_by_server(db.column(), message),
        c if c.code().starts_with("08")
            || *c == SqlState::ADMIN_SHUTDOWN
            || *c == SqlState::CRASH_SHUTDOWN
            || *c == SqlState::CANNOT_CONNECT_NOW =>
        {
            Error::ConnectionLost { detail: message }
        }
        c => Error::Driver {
            backend: "postgresql",
            code: Some(c.code().to_string()),
            message,
            source: Some(Box::new(db.clone())),
        },
    }
}

/// SQLSTATE 42703: `column "x" does not exist`, `column "x" of relation "t" does not exist`,
/// or `column t.x does not exist` (a qualified name is not quoted).
fn undefined_column(message: &str) -> Error {
    let quoted: Vec<&str> = message.split('"').skip(1).step_by(2).collect();
    let column = match quoted.first() {
        Some(c) => (*c).to_string(),
        None => message
            .strip_prefix("column ")
            .and_then(|rest| rest.split(' ').next())
            .map(|name| name.rsplit('.').next().unwrap_or(name).to_string())
            .unwrap_or_else(|| message.to_string()),
    };
    let table = quoted
        .get(1)
        .copied()
        .filter(|_| message.contains(" of relation "));
    Error::unknown_column(&column, table)
}
