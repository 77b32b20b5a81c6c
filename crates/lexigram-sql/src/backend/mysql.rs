//! MySQL and MariaDB through `mysql_async`.
//!
//! `operations.statement_timeout` becomes the session's `max_statement_time` on MariaDB (every
//! statement) or `max_execution_time` on MySQL (SELECTs), so the server stops a long statement
//! and the connection stays usable. Connections report *found* rows, not *changed* rows, so
//! an update that matches a row always counts it, as on PostgreSQL and SQLite.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{Datelike, NaiveDate, Timelike};
use mysql_async::consts::ColumnType;
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Opts, OptsBuilder, Params};

use super::{BackendConn, ColumnCache, Dialect, Isolation, MySql, RowStream, VALIDATE_AFTER};
use crate::config::DatabaseUrl;
use crate::error::{ConflictKind, ConnectError, ConnectErrorKind, ConstraintKind, Error, Result};
use crate::value::{Row, Value};

const BINARY_CHARSET: u16 = 63;

/// Opens MySQL/MariaDB connections for one `Database`.
pub(crate) struct Manager {
    opts: Opts,
    target: String,
    statement_timeout: Duration,
    /// Where the first connection records whether the server has `INSERT … RETURNING`.
    returning: super::ReturningSlot,
}

impl Manager {
    /// Records in `slot`, when the first connection opens, whether the server has
    /// `INSERT … RETURNING`: MariaDB from 10.5 on; Oracle MySQL never.
    pub(crate) fn recording_returning(mut self, slot: super::ReturningSlot) -> Self {
        self.returning = slot;
        self
    }

    pub(crate) fn new(url: &DatabaseUrl, statement_timeout: Duration) -> Result<Self> {
        let target = url.host_port().unwrap_or_else(|| "localhost:3306".into());
        let opts = Opts::from_url(url.expose()).map_err(|e| {
            Error::Connect(ConnectError::new(
                ConnectErrorKind::Other,
                "mysql",
                target.clone(),
                format!("invalid URL: {e}"),
            ))
        })?;
        let opts = OptsBuilder::from_opts(opts)
            .prefer_socket(false)
            .client_found_rows(true)
            .stmt_cache_size(256)
            .into();
        Ok(Manager {
            opts,
            target,
            statement_timeout,
            returning: super::ReturningSlot::default(),
        })
    }
}

impl bb8::ManageConnection for Manager {
    type Connection = MyConn;
    type Error = Error;

    async fn connect(&self) -> Result<MyConn> {
        let mut conn = Conn::new(self.opts.clone())
            .await
            .map_err(|e| connect_error(&e, &self.target))?;
        let version = conn.server_version();
        let mariadb = version.0 >= 10;
        let _ = self
            .returning
            .set(mariadb && (version.0, version.1) >= (10, 5));
        if !self.statement_timeout.is_zero() {
            let set = if mariadb {
                format!(
                    "SET SESSION max_statement_time = {}",
                    self.statement_timeout.as_secs_f64()
                )
            } else {
                format!(
                    "SET SESSION max_execution_time = {}",
                    self.statement_timeout.as_millis()
                )
            };
            conn.query_drop(set)
                .await
                .map_err(|e| classify(&e, self.statement_timeout))?;
        }
        Ok(MyConn {
            conn,
            last_used: Instant::now(),
            in_flight: false,
            broken: false,
            timeout: self.statement_timeout,
            columns: ColumnCache::default(),
        })
    }

    async fn is_valid(&self, conn: &mut MyConn) -> Result<()> {
        if conn.last_used.elapsed() < VALIDATE_AFTER {
            return Ok(());
        }
        conn.conn
            .ping()
            .await
            .map_err(|e| classify(&e, conn.timeout))?;
        conn.last_used = Instant::now();
        Ok(())
    }

    fn has_broken(&self, conn: &mut MyConn) -> bool {
        conn.broken || conn.in_flight
    }
}

fn connect_error(e: &mysql_async::Error, target: &str) -> Error {
    let (kind, reason) = match e {
        mysql_async::Error::Server(s) => (
            match s.code {
                1045 | 1044 | 1698 => ConnectErrorKind::Authentication,
                1049 => ConnectErrorKind::DatabaseMissing,
                _ => ConnectErrorKind::Other,
            },
            s.message.clone(),
        ),
        mysql_async::Error::Io(io) => (ConnectErrorKind::Unreachable, io.to_string()),
        other => (ConnectErrorKind::Other, other.to_string()),
    };
    Error::Connect(ConnectError::new(kind, "mysql", target, reason))
}

/// One MySQL/MariaDB connection (its prepared statements are cached by the driver).
pub(crate) struct MyConn {
    conn: Conn,
    last_used: Instant,
    in_flight: bool,
    broken: bool,
    timeout: Duration,
    columns: ColumnCache,
}

fn to_param(v: &Value) -> mysql_async::Value {
    use mysql_async::Value as M;
    match v {
        Value::Null => M::NULL,
        Value::Bool(b) => M::Int(i64::from(*b)),
        Value::Int(i) => M::Int(*i),
        Value::Float(f) => M::Double(*f),
        Value::Text(s) => M::Bytes(s.as_bytes().to_vec()),
        Value::Bytes(b) => M::Bytes(b.clone()),
        Value::Timestamp(t) => datetime(t.naive_utc()),
        Value::DateTime(t) => datetime(*t),
        Value::Date(d) => datetime(d.and_hms_opt(0, 0, 0).unwrap_or_default()),
        other => M::Bytes(other.as_storage_text().unwrap_or_default().into_bytes()),
    }
}

#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
fn datetime(t: chrono::NaiveDateTime) -> mysql_async::Value {
    mysql_async::Value::Date(
        t.year() as u16,
        t.month() as u8,
        t.day() as u8,
        t.hour() as u8,
        t.minute() as u8,
        t.second() as u8,
        t.nanosecond() / 1000,
    )
}

fn params(values: &[Value]) -> Params {
    if values.is_empty() {
        Params::Empty
    } else {
        Params::Positional(values.iter().map(to_param).collect())
    }
}

fn read_value(v: mysql_async::Value, col: &mysql_async::Column) -> Value {
    use mysql_async::Value as M;
    match v {
        M::NULL => Value::Null,
        M::Int(i) => Value::Int(i),
        M::UInt(u) => Value::Int(i64::try_from(u).unwrap_or(i64::MAX)),
        M::Float(f) => Value::Float(f64::from(f)),
        M::Double(f) => Value::Float(f),
        M::Bytes(b) => {
            if col.character_set() == BINARY_CHARSET
                && !matches!(
                    col.column_type(),
                    ColumnType::MYSQL_TYPE_NEWDECIMAL | ColumnType::MYSQL_TYPE_DECIMAL
                )
            {
                Value::Bytes(b)
            } else {
                match String::from_utf8(b) {
                    Ok(s) => Value::Text(s),
                    Err(e) => Value::Bytes(e.into_bytes()),
                }
            }
        }
        M::Date(y, mo, d, h, mi, s, us) => {
            let date = NaiveDate::from_ymd_opt(i32::from(y), u32::from(mo), u32::from(d));
            match (col.column_type(), date) {
                (ColumnType::MYSQL_TYPE_DATE, Some(date)) => Value::Date(date),
                (_, Some(date)) => date
                    .and_hms_micro_opt(u32::from(h), u32::from(mi), u32::from(s), us)
                    .map_or(Value::Null, Value::DateTime),
                (_, None) => Value::Null, // zero dates
            }
        }
        M::Time(neg, days, h, mi, s, us) => Value::Text(format!(
            "{}{:02}:{:02}:{:02}.{:06}",
            if neg { "-" } else { "" },
            u32::from(h) + days * 24,
            mi,
            s,
            us
        )),
    }
}

fn convert_row(row: mysql_async::Row, columns: &Arc<[String]>) -> Row {
    let cols = row.columns();
    let values = row
        .unwrap()
        .into_iter()
        .zip(cols.iter())
        .map(|(v, c)| read_value(v, c))
        .collect();
    Row::new(Arc::clone(columns), values)
}

fn column_names(cols: &[mysql_async::Column]) -> Arc<[String]> {
    cols.iter().map(|c| c.name_str().into_owned()).collect()
}

/// A column's name as sent by the server (UTF-8 on connections this crate opens).
fn name_of(col: &mysql_async::Column) -> &str {
    std::str::from_utf8(col.name_ref()).unwrap_or_default()
}

impl MyConn {
    fn done<T>(&mut self, result: std::result::Result<T, mysql_async::Error>) -> Result<T> {
        self.in_flight = false;
        self.last_used = Instant::now();
        result.map_err(|e| {
            if e.is_fatal() {
                self.broken = true;
            }
            classify(&e, self.timeout)
        })
    }

    pub(crate) fn stream(
        mut conn: bb8::PooledConnection<'static, Manager>,
        sql: String,
        values: Vec<Value>,
    ) -> RowStream {
        Box::pin(async_stream::try_stream! {
            let timeout = conn.timeout;
            conn.in_flight = true;
            let c: &mut MyConn = &mut conn;
            let mut result = c.conn.exec_iter(sql.as_str(), params(&values)).await
                .map_err(|e| classify(&e, timeout))?;
            let columns = result.columns().map(|c| column_names(&c)).unwrap_or_else(|| Arc::from(Vec::new()));
            while let Some(row) = result.next().await.map_err(|e| classify(&e, timeout))? {
                yield convert_row(row, &columns);
            }
            drop(result);
            c.in_flight = false;
        })
    }
}

impl BackendConn for MyConn {
    async fn execute(&mut self, sql: &str, values: &[Value]) -> Result<u64> {
        self.in_flight = true;
        let result = self.conn.exec_drop(sql, params(values)).await;
        self.done(result)?;
        Ok(self.conn.affected_rows())
    }

    async fn execute_insert(&mut self, sql: &str, values: &[Value]) -> Result<(u64, Option<i64>)> {
        self.in_flight = true;
        let result = self.conn.exec_drop(sql, params(values)).await;
        self.done(result)?;
        // The OK packet of this very statement carries LAST_INSERT_ID(); 0 means none.
        let id = self
            .conn
            .last_insert_id()
            .filter(|&id| id != 0)
            .and_then(|id| i64::try_from(id).ok());
        Ok((self.conn.affected_rows(), id))
    }

    async fn query(&mut self, sql: &str, values: &[Value]) -> Result<Vec<Row>> {
        self.in_flight = true;
        let result = self
            .conn
            .exec::<mysql_async::Row, _, _>(sql, params(values))
            .await;
        let rows = self.done(result)?;
        let Some(first) = rows.first() else {
            return Ok(Vec::new());
        };
        let columns = self
            .columns
            .names(sql, first.columns_ref().iter().map(name_of));
        Ok(rows.into_iter().map(|r| convert_row(r, &columns)).collect())
    }

    async fn query_first(&mut self, sql: &str, values: &[Value]) -> Result<Option<Row>> {
        self.in_flight = true;
        let result = self
            .conn
            .exec_first::<mysql_async::Row, _, _>(sql, params(values))
            .await;
        let Some(row) = self.done(result)? else {
            return Ok(None);
        };
        let columns = self
            .columns
            .names(sql, row.columns_ref().iter().map(name_of));
        Ok(Some(convert_row(row, &columns)))
    }

    async fn batch(&mut self, sql: &str) -> Result<()> {
        self.in_flight = true;
        let result = self.conn.query_drop(sql).await;
        self.done(result)
    }

    async fn begin(&mut self, isolation: Option<Isolation>) -> Result<()> {
        self.batch(&MySql.begin_sql(isolation)).await
    }

    async fn finish(&mut self, commit: bool) -> Result<()> {
        self.batch(if commit { "COMMIT" } else { "ROLLBACK" }).await
    }

    fn mark_broken(&mut self) {
        self.broken = true;
    }

    fn in_flight(&self) -> bool {
        self.in_flight
    }
}

/// Classifies a mysql_async error from the server's error number.
pub(crate) fn classify(e: &mysql_async::Error, timeout: Duration) -> Error {
    let mysql_async::Error::Server(s) = e else {
        if e.is_fatal() || matches!(e, mysql_async::Error::Io(_)) {
            return Error::ConnectionLost {
                detail: e.to_string(),
            };
        }
        return Error::Driver {
            backend: "mysql",
            code: None,
            message: e.to_string(),
        };
    };
    let message = s.message.clone();
    let quoted = || message.split('\'').nth(1).map(str::to_string);
    let constraint = |kind, name| Error::Constraint {
        kind,
        constraint: name,
        detail: message.clone(),
    };
    match s.code {
        1062 | 1586 => constraint(
            ConstraintKind::Unique,
            message.rsplit('\'').nth(1).map(str::to_string),
        ),
        1451 | 1452 | 1216 | 1217 => constraint(ConstraintKind::ForeignKey, None),
        1048 | 1364 => constraint(ConstraintKind::NotNull, quoted()),
        3819 | 4025 => constraint(ConstraintKind::Check, quoted()),
        1146 => Error::TableMissing {
            table: quoted()
                .map(|t| t.rsplit('.').next().unwrap_or_default().to_string())
                .unwrap_or_else(|| message.clone()),
        },
        // `Unknown column 'x' in 'where clause'` (or `'t.x'` when qualified).
        1054 => {
            let name = quoted().unwrap_or_else(|| message.clone());
            Error::unknown_column(name.rsplit('.').next().unwrap_or(&name), None)
        }
        1213 => Error::Conflict {
            kind: ConflictKind::Deadlock,
            detail: message,
        },
        1205 => Error::Conflict {
            kind: ConflictKind::Serialization,
            detail: message,
        },
        1969 | 3024 | 1317 | 1028 => Error::Timeout { timeout },
        c => Error::Driver {
            backend: "mysql",
            code: Some(c.to_string()),
            message,
        },
    }
}
