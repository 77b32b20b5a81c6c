//! PostgreSQL through `tokio-postgres`.
//!
//! `operations.statement_timeout` is set as the session's `statement_timeout`, so the server
//! itself cancels a long statement (SQLSTATE 57014) and the connection stays usable.
//! Statements are prepared once per connection and cached by their SQL text.

use std::error::Error as StdError;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use futures_util::{StreamExt, TryStreamExt};
use rustc_hash::FxHashMap;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::{FromSql, IsNull, ToSql, Type, to_sql_checked};
use tokio_postgres::{Client, NoTls, Statement};

use super::{BackendConn, Dialect, Isolation, Postgres, RowStream, VALIDATE_AFTER};
use crate::config::DatabaseUrl;
use crate::error::{ConflictKind, ConnectError, ConnectErrorKind, ConstraintKind, Error, Result};
use crate::value::{Row, Value};

const STATEMENT_CACHE: usize = 512;

/// Opens PostgreSQL connections for one `Database`.
pub(crate) struct Manager {
    config: tokio_postgres::Config,
    target: String,
    statement_timeout: Duration,
}

impl Manager {
    pub(crate) fn new(url: &DatabaseUrl, statement_timeout: Duration) -> Result<Self> {
        let raw = url.expose();
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
        Ok(Manager {
            config,
            target,
            statement_timeout,
        })
    }
}

impl bb8::ManageConnection for Manager {
    type Connection = PgConn;
    type Error = Error;

    async fn connect(&self) -> Result<PgConn> {
        let (client, connection) = self
            .config
            .connect(NoTls)
            .await
            .map_err(|e| connect_error(&e, &self.target))?;
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "postgresql connection closed");
            }
        });
        Ok(PgConn {
            client,
            statements: FxHashMap::default(),
            last_used: Instant::now(),
            in_flight: false,
            in_transaction: false,
            broken: false,
            timeout: self.statement_timeout,
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
    statements: FxHashMap<String, Prepared>,
    last_used: Instant,
    in_flight: bool,
    /// Between a successful `begin` and its `finish`.
    in_transaction: bool,
    broken: bool,
    timeout: Duration,
}

/// A statement prepared on one connection, with the column names its rows share.
#[derive(Clone)]
struct Prepared {
    statement: Statement,
    columns: Arc<[String]>,
}

/// Binds a [`Value`] to whatever type the server inferred for the parameter.
#[derive(Debug)]
struct Param<'a>(&'a Value);

type BoxError = Box<dyn StdError + Sync + Send>;

impl ToSql for Param<'_> {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> std::result::Result<IsNull, BoxError> {
        match (self.0, ty) {
            (Value::Null, _) => Ok(IsNull::Yes),
            (Value::Bool(b), &Type::BOOL) => b.to_sql(ty, out),
            (Value::Bool(b), _) => Param(&Value::Int(i64::from(*b))).to_sql(ty, out),
            (Value::Int(i), &Type::INT2) => i16::try_from(*i)?.to_sql(ty, out),
            (Value::Int(i), &Type::INT4) => i32::try_from(*i)?.to_sql(ty, out),
            (Value::Int(i), &Type::OID) => u32::try_from(*i)?.to_sql(ty, out),
            #[allow(clippy::cast_precision_loss)]
            (Value::Int(i), &Type::FLOAT8) => (*i as f64).to_sql(ty, out),
            #[allow(clippy::cast_precision_loss)]
            (Value::Int(i), &Type::FLOAT4) => (*i as f32).to_sql(ty, out),
            (Value::Int(i), &Type::BOOL) => (*i != 0).to_sql(ty, out),
            (Value::Int(i), t) if is_text(t) => i.to_string().to_sql(ty, out),
            (Value::Int(i), _) => i.to_sql(ty, out),
            #[allow(clippy::cast_possible_truncation)]
            (Value::Float(f), &Type::FLOAT4) => (*f as f32).to_sql(ty, out),
            (Value::Float(f), _) => f.to_sql(ty, out),
            (Value::Text(s), &Type::JSON | &Type::JSONB) => {
                serde_json::from_str::<serde_json::Value>(s)?.to_sql(ty, out)
            }
            (Value::Text(s), &Type::UUID) => uuid::Uuid::parse_str(s)?.to_sql(ty, out),
            (Value::Text(s), _) => s.as_str().to_sql(ty, out),
            (Value::Bytes(b), _) => b.as_slice().to_sql(ty, out),
            (Value::Json(j), t) if is_text(t) => j.to_string().to_sql(ty, out),
            (Value::Json(j), _) => j.to_sql(ty, out),
            (Value::Uuid(u), t) if is_text(t) => u.to_string().to_sql(ty, out),
            (Value::Uuid(u), _) => u.to_sql(ty, out),
            (Value::Timestamp(t), &Type::TIMESTAMP) => t.naive_utc().to_sql(ty, out),
            (Value::Timestamp(t), _) => t.to_sql(ty, out),
            (Value::DateTime(t), &Type::TIMESTAMPTZ) => t.and_utc().to_sql(ty, out),
            (Value::DateTime(t), _) => t.to_sql(ty, out),
            (Value::Date(d), _) => d.to_sql(ty, out),
        }
    }

    fn accepts(_ty: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

fn is_text(t: &Type) -> bool {
    matches!(
        *t,
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN
    )
}

/// OIDs of the built-in types read into [`Value`]s (see `pg_type`); a test checks each
/// against tokio-postgres' `Type` constants.
mod oid {
    pub(super) const BOOL: u32 = 16;
    pub(super) const BYTEA: u32 = 17;
    pub(super) const INT8: u32 = 20;
    pub(super) const INT2: u32 = 21;
    pub(super) const INT4: u32 = 23;
    pub(super) const OID: u32 = 26;
    pub(super) const JSON: u32 = 114;
    pub(super) const FLOAT4: u32 = 700;
    pub(super) const FLOAT8: u32 = 701;
    pub(super) const DATE: u32 = 1082;
    pub(super) const TIMESTAMP: u32 = 1114;
    pub(super) const TIMESTAMPTZ: u32 = 1184;
    pub(super) const NUMERIC: u32 = 1700;
    pub(super) const UUID: u32 = 2950;
    pub(super) const JSONB: u32 = 3802;
}

/// Reads any supported column type into a [`Value`].
struct Cell(Value);

impl<'a> FromSql<'a> for Cell {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> std::result::Result<Self, BoxError> {
        // One jump on the type's OID (PostgreSQL's fixed catalog numbers, `pg_type.oid`)
        // instead of comparing `Type`s one by one: this runs for every cell read.
        let v = match ty.oid() {
            oid::BOOL => Value::Bool(bool::from_sql(ty, raw)?),
            oid::INT2 => Value::Int(i64::from(i16::from_sql(ty, raw)?)),
            oid::INT4 => Value::Int(i64::from(i32::from_sql(ty, raw)?)),
            oid::INT8 => Value::Int(i64::from_sql(ty, raw)?),
            oid::OID => Value::Int(i64::from(u32::from_sql(ty, raw)?)),
            oid::FLOAT4 => Value::Float(f64::from(f32::from_sql(ty, raw)?)),
            oid::FLOAT8 => Value::Float(f64::from_sql(ty, raw)?),
            oid::BYTEA => Value::Bytes(Vec::<u8>::from_sql(ty, raw)?),
            oid::JSON | oid::JSONB => Value::Json(serde_json::Value::from_sql(ty, raw)?),
            oid::UUID => Value::Uuid(uuid::Uuid::from_sql(ty, raw)?),
            oid::TIMESTAMPTZ => Value::Timestamp(DateTime::<Utc>::from_sql(ty, raw)?),
            oid::TIMESTAMP => Value::DateTime(NaiveDateTime::from_sql(ty, raw)?),
            oid::DATE => Value::Date(NaiveDate::from_sql(ty, raw)?),
            oid::NUMERIC => numeric(raw)?,
            _ if is_text(ty) || <&str as FromSql>::accepts(ty) => {
                Value::Text(<&str>::from_sql(ty, raw)?.to_string())
            }
            _ => {
                return Err(format!(
                    "column type {ty} is not supported; cast it in SQL (e.g. `::text` or `::float8`)"
                )
                .into());
            }
        };
        Ok(Cell(v))
    }

    fn from_sql_null(_ty: &Type) -> std::result::Result<Self, BoxError> {
        Ok(Cell(Value::Null))
    }

    fn accepts(_ty: &Type) -> bool {
        true
    }
}

/// Decodes PostgreSQL's binary NUMERIC: an integer when it has no fractional digits and fits
/// in `i64` (`SUM(bigint)` returns NUMERIC), otherwise its exact decimal text.
fn numeric(raw: &[u8]) -> std::result::Result<Value, BoxError> {
    let word = |i: usize| -> std::result::Result<i16, BoxError> {
        let b = raw.get(i * 2..i * 2 + 2).ok_or("truncated NUMERIC")?;
        Ok(i16::from_be_bytes([b[0], b[1]]))
    };
    let (ndigits, weight, sign, dscale) = (word(0)?, word(1)?, word(2)? as u16, word(3)?);
    if sign == 0xC000 {
        return Ok(Value::Text("NaN".into()));
    }
    let mut int_part = String::new();
    let mut frac_part = String::new();
    for i in 0..ndigits.max(0) as usize {
        let d = word(4 + i)?;
        let pos = weight as i32 - i as i32;
        if pos >= 0 {
            if int_part.is_empty() {
                int_part = d.to_string();
            } else {
                int_part.push_str(&format!("{d:04}"));
            }
        } else {
            frac_part.push_str(&format!("{d:04}"));
        }
    }
    // Trailing base-10000 groups that were zero are not sent: restore them.
    let last_pos = weight as i32 - ndigits as i32 + 1;
    if !int_part.is_empty() && last_pos > 0 {
        for _ in 0..last_pos {
            int_part.push_str("0000");
        }
    }
    if weight < -1 && ndigits > 0 {
        frac_part = "0000".repeat((-weight - 1) as usize) + &frac_part;
    }
    if int_part.is_empty() {
        int_part.push('0');
    }
    let scale = dscale.max(0) as usize;
    frac_part.truncate(scale);
    while frac_part.len() < scale {
        frac_part.push('0');
    }
    let negative = sign == 0x4000;
    let text = format!(
        "{}{int_part}{}{frac_part}",
        if negative { "-" } else { "" },
        if scale > 0 { "." } else { "" }
    );
    if scale == 0
        && let Ok(i) = text.parse::<i64>()
    {
        return Ok(Value::Int(i));
    }
    Ok(Value::Text(text))
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
        if self.statements.len() >= STATEMENT_CACHE {
            self.statements.clear();
        }
        self.statements.insert(sql.to_string(), prepared.clone());
        Ok(prepared)
    }

    /// Runs a query and reads its rows, converting those `keep` accepts (by position).
    async fn rows(
        &mut self,
        sql: &str,
        params: &[Value],
        keep: impl Fn(usize) -> bool,
    ) -> Result<Vec<Row>> {
        let mut retried = false;
        loop {
            let Prepared { statement, columns } = self.start(sql).await?;
            let result = match self
                .client
                .query_raw(&statement, params.iter().map(Param))
                .await
            {
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
            self.statements.remove(sql);
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

    pub(crate) fn stream(
        mut conn: bb8::PooledConnection<'static, Manager>,
        sql: String,
        params: Vec<Value>,
    ) -> RowStream {
        Box::pin(async_stream::try_stream! {
            let Prepared { statement, columns } = conn.start(&sql).await?;
            let timeout = conn.timeout;
            let rows = conn
                .client
                .query_raw(&statement, params.iter().map(Param))
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
        let mut retried = false;
        loop {
            let statement = self.start(sql).await?.statement;
            let result = self
                .client
                .execute_raw(&statement, params.iter().map(Param))
                .await;
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
        };
    };
    let message = db.message().to_string();
    let code = db.code();
    let constraint = |kind| Error::Constraint {
        kind,
        constraint: db.constraint().or(db.column()).map(str::to_string),
        detail: message.clone(),
    };
    match code.code() {
        "23505" => constraint(ConstraintKind::Unique),
        "23503" => constraint(ConstraintKind::ForeignKey),
        "23502" => constraint(ConstraintKind::NotNull),
        "23514" => constraint(ConstraintKind::Check),
        "42P01" => Error::TableMissing {
            table: message
                .split('"')
                .nth(1)
                .map_or_else(|| message.clone(), str::to_string),
        },
        "40001" => Error::Conflict {
            kind: ConflictKind::Serialization,
            detail: message,
        },
        "40P01" => Error::Conflict {
            kind: ConflictKind::Deadlock,
            detail: message,
        },
        "57014" => Error::Timeout { timeout },
        c if c.starts_with("08") || c == "57P01" || c == "57P02" || c == "57P03" => {
            Error::ConnectionLost { detail: message }
        }
        c => Error::Driver {
            backend: "postgresql",
            code: Some(c.to_string()),
            message,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oids_match_the_driver_types() {
        let pairs = [
            (oid::BOOL, Type::BOOL),
            (oid::BYTEA, Type::BYTEA),
            (oid::INT8, Type::INT8),
            (oid::INT2, Type::INT2),
            (oid::INT4, Type::INT4),
            (oid::OID, Type::OID),
            (oid::JSON, Type::JSON),
            (oid::FLOAT4, Type::FLOAT4),
            (oid::FLOAT8, Type::FLOAT8),
            (oid::DATE, Type::DATE),
            (oid::TIMESTAMP, Type::TIMESTAMP),
            (oid::TIMESTAMPTZ, Type::TIMESTAMPTZ),
            (oid::NUMERIC, Type::NUMERIC),
            (oid::UUID, Type::UUID),
            (oid::JSONB, Type::JSONB),
        ];
        for (oid, ty) in pairs {
            assert_eq!(oid, ty.oid(), "{ty}");
        }
    }
}
