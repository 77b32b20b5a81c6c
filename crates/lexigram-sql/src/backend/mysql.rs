//! MySQL and MariaDB through `mysql_async`.
//!
//! `operations.statement_timeout` becomes the session's `max_statement_time` on MariaDB (every
//! statement) or `max_execution_time` on MySQL (SELECTs), so the server stops a long statement
//! and the connection stays usable. Connections report *found* rows, not *changed* rows, so
//! an update that matches a row always counts it, as on PostgreSQL and SQLite.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use mysql_async::prelude::Queryable;
use mysql_async::{ClientIdentity, Conn, DriverError, Opts, OptsBuilder, SslOpts};

use super::mysql_values::{convert_row, params};
use super::{BackendConn, ColumnCache, Dialect, Isolation, MySql, RowStream, VALIDATE_AFTER};
use crate::config::{DatabaseUrl, Tls, TlsConfig, TlsMode};
use crate::error::{
    ConflictKind, ConnectError, ConnectErrorKind, ConstraintKind, Error, Result, TlsFailure,
};
use crate::value::{Row, Value};

/// Opens MySQL/MariaDB connections for one `Database`.
pub(crate) struct Manager {
    opts: Opts,
    /// `ssl-mode=PREFERRED`: the same options without TLS, for a server that offers none.
    plain: Option<Opts>,
    /// `ssl-mode=VERIFY_CA`: connections check the CA but not the host name.
    verify_ca: bool,
    /// `VERIFY_CA` on a host its certificate does not name: a name the certificate gives,
    /// verified in place of the host's (learned from the first connection).
    ca_name: OnceLock<String>,
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

    /// `tls` is `backend.tls`; the URL's `ssl-mode`, `ssl-ca`, `ssl-cert` and `ssl-key` (or
    /// libpq's names) override it and are taken out of the URL before mysql_async parses it.
    pub(crate) fn new(
        url: &DatabaseUrl,
        tls: &TlsConfig,
        statement_timeout: Duration,
    ) -> Result<Self> {
        let target = url.host_port().unwrap_or_else(|| "localhost:3306".into());
        let (raw, tls) = crate::config::resolve_tls(url.expose(), tls).map_err(|mut e| {
            e.detail = url.scrub(&e.detail);
            Error::Configuration(e)
        })?;
        // `statement_cache` is for PostgreSQL poolers; here it is only taken out of the URL.
        // (mysql_async without its cache leaves every statement prepared on the server.)
        let (raw, _) = crate::config::split_statement_cache(&raw).map_err(|mut e| {
            e.detail = url.scrub(&e.detail);
            Error::Configuration(e)
        })?;
        let opts = Opts::from_url(&raw).map_err(|e| {
            Error::Connect(ConnectError::new(
                ConnectErrorKind::Other,
                "mysql",
                target.clone(),
                url.scrub(&format!("invalid URL: {e}")),
            ))
        })?;
        let plain: Opts = OptsBuilder::from_opts(opts)
            .prefer_socket(false)
            .client_found_rows(true)
            .stmt_cache_size(256)
            .ssl_opts(None)
            .into();
        if tls.mode != TlsMode::Disable {
            super::tls::check_files(&tls)?;
        }
        let ssl = ssl_opts(&tls)?;
        if ssl.is_some() {
            super::tls::install_default_provider();
        }
        let opts = OptsBuilder::from_opts(plain.clone()).ssl_opts(ssl).into();
        Ok(Manager {
            opts,
            plain: (tls.mode == TlsMode::Prefer).then_some(plain),
            verify_ca: tls.mode == TlsMode::VerifyCa,
            ca_name: OnceLock::new(),
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
        let mut conn = self.open().await?;
        let version = conn.server_version();
        let mariadb = version.0 >= 10;
        let _ = self
            .returning
            .set(mariadb && (version.0, version.1) >= (10, 5));
        // Sessions run in UTC, so TIMESTAMP columns store and return the instant bound (they
        // convert from and to the session time zone) whatever the server's zone is.
        let mut set = String::from("SET SESSION time_zone = '+00:00'");
        if !self.statement_timeout.is_zero() {
            if mariadb {
                set.push_str(&format!(
                    ", max_statement_time = {}",
                    self.statement_timeout.as_secs_f64()
                ));
            } else {
                set.push_str(&format!(
                    ", max_execution_time = {}",
                    self.statement_timeout.as_millis()
                ));
            }
        }
        conn.query_drop(set)
            .await
            .map_err(|e| classify(&e, self.statement_timeout))?;
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

/// mysql_async's options for a TLS mode; `None` for plain text.
fn ssl_opts(tls: &Tls) -> Result<Option<SslOpts>> {
    let mut ssl = SslOpts::default();
    match tls.mode {
        TlsMode::Disable => return Ok(None),
        // libpq's meaning: encrypt, check nothing.
        TlsMode::Prefer | TlsMode::Require => {
            ssl = ssl
                .with_danger_accept_invalid_certs(true)
                .with_danger_skip_domain_validation(true);
        }
        TlsMode::VerifyCa => ssl = ssl.with_danger_skip_domain_validation(true),
        TlsMode::VerifyFull => {}
    }
    if let Some(root) = &tls.root_cert {
        ssl = ssl
            .with_root_certs(vec![root.clone().into()])
            .with_disable_built_in_roots(true);
    }
    if let (Some(cert), Some(key)) = (&tls.cert, &tls.key) {
        ssl = ssl.with_client_identity(Some(ClientIdentity::new(
            cert.clone().into(),
            super::tls::mysql_client_key(key)?.into(),
        )));
    }
    Ok(Some(ssl))
}

/// `opts` verifying the server's certificate against `name` instead of the host's name.
fn verifying_name(opts: &Opts, name: &str) -> Opts {
    let ssl = opts
        .ssl_opts()
        .cloned()
        .map(|s| s.with_danger_tls_hostname_override(Some(name.to_string())));
    OptsBuilder::from_opts(opts.clone()).ssl_opts(ssl).into()
}

/// A DNS name (not a wildcard) among the names rustls reports a certificate presents
/// (`DnsName("db.internal")`).
fn dns_name(presented: &[String]) -> Option<String> {
    presented.iter().find_map(|p| {
        let name = p.strip_prefix("DnsName(\"")?.strip_suffix("\")")?;
        (!name.starts_with('*')).then(|| name.to_string())
    })
}

impl Manager {
    /// Opens one connection in the TLS mode: `PREFERRED` falls back to plain text when the
    /// server offers no TLS or the handshake fails (MySQL's meaning of the mode); `VERIFY_CA` on a host the certificate does not name verifies the
    /// chain and a name the certificate gives (mysql_async's own skip of the name check does
    /// not recognise the errors of current rustls).
    async fn open(&self) -> Result<Conn> {
        let opts = match self.ca_name.get() {
            Some(name) => verifying_name(&self.opts, name),
            None => self.opts.clone(),
        };
        let err = match Conn::new(opts).await {
            Ok(conn) => return Ok(conn),
            Err(e) => e,
        };
        if let Some(plain) = &self.plain
            && (matches!(
                err,
                mysql_async::Error::Driver(DriverError::NoClientSslFlagFromServer)
            ) || matches!(
                connect_error(&err, &self.target),
                Error::Connect(ref c) if matches!(c.kind, ConnectErrorKind::Tls(_))
            ))
        {
            tracing::debug!(target = %self.target, error = %err, "ssl-mode=PREFERRED: no TLS session, connecting without it");
            return Conn::new(plain.clone())
                .await
                .map_err(|e| connect_error(&e, &self.target));
        }
        if self.verify_ca
            && self.ca_name.get().is_none()
            && let Some(name) = super::tls::presented_names(&err)
                .as_deref()
                .and_then(dns_name)
        {
            let conn = Conn::new(verifying_name(&self.opts, &name))
                .await
                .map_err(|e| connect_error(&e, &self.target))?;
            let _ = self.ca_name.set(name);
            return Ok(conn);
        }
        Err(connect_error(&err, &self.target))
    }
}

fn connect_error(e: &mysql_async::Error, target: &str) -> Error {
    if let Some((failure, reason)) = super::tls::find_failure(e) {
        return super::tls::connect_error(failure, "mysql", target, reason);
    }
    if let mysql_async::Error::Driver(DriverError::NoClientSslFlagFromServer) = e {
        return super::tls::connect_error(
            TlsFailure::Unsupported,
            "mysql",
            target,
            "TLS is required but the server does not offer it".to_string(),
        );
    }
    if let mysql_async::Error::Io(mysql_async::IoError::Tls(t)) = e {
        return super::tls::connect_error(
            TlsFailure::Handshake,
            "mysql",
            target,
            format!("TLS handshake failed: {t}"),
        );
    }
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

    pub(crate) fn stream<M: bb8::ManageConnection<Connection = MyConn>>(
        mut conn: bb8::PooledConnection<'static, M>,
        sql: String,
        values: Vec<Value>,
    ) -> RowStream {
        Box::pin(async_stream::try_stream! {
            let timeout = conn.timeout;
            let bound = params(&values)?;
            conn.in_flight = true;
            let c: &mut MyConn = &mut conn;
            let mut result = c.conn.exec_iter(sql.as_str(), bound).await
                .map_err(|e| classify(&e, timeout))?;
            let columns = result.columns().map(|c| column_names(&c)).unwrap_or_else(|| Arc::from(Vec::new()));
            while let Some(row) = result.next().await.map_err(|e| classify(&e, timeout))? {
                yield convert_row(row, &columns)?;
            }
            drop(result);
            c.in_flight = false;
        })
    }
}

impl BackendConn for MyConn {
    async fn execute(&mut self, sql: &str, values: &[Value]) -> Result<u64> {
        let bound = params(values)?;
        self.in_flight = true;
        let result = self.conn.exec_drop(sql, bound).await;
        self.done(result)?;
        Ok(self.conn.affected_rows())
    }

    async fn execute_insert(&mut self, sql: &str, values: &[Value]) -> Result<(u64, Option<i64>)> {
        let affected = self.execute(sql, values).await?;
        // The OK packet of this very statement carries LAST_INSERT_ID(); 0 means none.
        let id = self
            .conn
            .last_insert_id()
            .filter(|&id| id != 0)
            .and_then(|id| i64::try_from(id).ok());
        Ok((affected, id))
    }

    async fn query(&mut self, sql: &str, values: &[Value]) -> Result<Vec<Row>> {
        let bound = params(values)?;
        self.in_flight = true;
        let result = self.conn.exec::<mysql_async::Row, _, _>(sql, bound).await;
        let rows = self.done(result)?;
        let Some(first) = rows.first() else {
            return Ok(Vec::new());
        };
        let columns = self
            .columns
            .names(sql, first.columns_ref().iter().map(name_of));
        rows.into_iter().map(|r| convert_row(r, &columns)).collect()
    }

    async fn query_first(&mut self, sql: &str, values: &[Value]) -> Result<Option<Row>> {
        let bound = params(values)?;
        self.in_flight = true;
        let result = self
            .conn
            .exec_first::<mysql_async::Row, _, _>(sql, bound)
            .await;
        let Some(row) = self.done(result)? else {
            return Ok(None);
        };
        let columns = self
            .columns
            .names(sql, row.columns_ref().iter().map(name_of));
        convert_row(row, &columns).map(Some)
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

/// The column named by a strict-mode refusal: `… for column 'v' at row 1` (MySQL) or
/// ``… for column `db`.`t`.`v` at row 1`` (MariaDB).
fn refused_column(message: &str) -> Option<String> {
    let (_, rest) = message.split_once("column ")?;
    let name = rest.split(" at row").next()?.rsplit('.').next()?;
    Some(name.trim_matches(|c| c == '`' || c == '\'').to_string())
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
            source: None,
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
        // Strict mode refused a value for its column: out of range, truncated, not a number,
        // too long, not a date, unsigned overflow.
        1264 | 1265 | 1366 | 1406 | 1292 | 1690 => {
            Error::refused_by_server(refused_column(&message).as_deref(), message)
        }
        c => Error::Driver {
            backend: "mysql",
            code: Some(c.to_string()),
            message,
            source: Some(Box::new(s.clone())),
        },
    }
}
