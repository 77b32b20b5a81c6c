//! The one error type of `lexigram-sql`.
//!
//! Every variant has a stable [`Error::code`] (`LEX_ERR_SQL_NNN`) and a message that starts with
//! the words of the troubleshooting page where the page names the error, says which object and
//! which phase failed, and ends with the fix. Driver errors are classified from native codes
//! (SQLSTATE, MySQL error numbers, SQLite extended codes) by each backend module.

use std::time::Duration;

/// Shorthand for `Result<T, lexigram_sql::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Hint appended to every "table does not exist" error, as the troubleshooting page gives it.
pub const MIGRATE_HINT: &str = "run `lexigram db upgrade` or enable migrations with `DatabaseModule::configure(..).enable_migrations(dir)`";

/// Everything that can go wrong in `lexigram-sql`.
///
/// ```
/// use lexigram_sql::Error;
/// let err = Error::TableMissing { table: "users".into() };
/// assert_eq!(err.code(), "LEX_ERR_SQL_010");
/// assert!(err.to_string().starts_with("RepositoryError: Table 'users' does not exist"));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The configuration is invalid; raised when the config is built, before any connection.
    #[error(transparent)]
    Configuration(#[from] ConfigError),

    /// A connection to the database server could not be opened.
    #[error(transparent)]
    Connect(#[from] ConnectError),

    /// The driver for a URL scheme is not compiled in (the Rust form of the page's `ImportError`).
    #[error(
        "ConfigurationError: the {backend} driver is not compiled in (url `{url}`). Fix: enable the cargo feature: lexigram-sql = {{ features = [\"{feature}\"] }}"
    )]
    DriverMissing {
        /// Backend the URL names.
        backend: &'static str,
        /// The cargo feature that compiles the driver in.
        feature: &'static str,
        /// The URL, password redacted.
        url: String,
    },

    /// No backend is configured but a `DatabaseProvider` was registered, or no primary exists.
    #[error("NoPrimaryBackendError: {detail}")]
    NoPrimaryBackend {
        /// What is missing and how to fix it.
        detail: String,
    },

    /// A statement referenced a table that does not exist.
    #[error("RepositoryError: Table '{table}' does not exist. Fix: {MIGRATE_HINT}")]
    TableMissing {
        /// The table name as the driver reported it.
        table: String,
    },

    /// A row looked up by key or filter was not there.
    #[error("RepositoryError: {entity} with {key} not found")]
    NotFound {
        /// Entity or table name.
        entity: String,
        /// The key or filter used, rendered for people (never SQL text).
        key: String,
    },

    /// A column name is not a column of the entity (checked before any SQL is built), or the
    /// database reported that a statement named a column its table does not have (SQLite
    /// `no such column`, PostgreSQL SQLSTATE 42703, MySQL error 1054).
    #[error("{}", unknown_column_text(column, entity, known))]
    UnknownColumn {
        /// The rejected name, exactly as given.
        column: String,
        /// The entity, or `table 'x'`; empty when the database did not say which table.
        entity: String,
        /// The entity's columns, comma separated; empty when the database rejected the name.
        known: String,
    },

    /// A constraint of the schema rejected the write.
    #[error("RepositoryError: {kind} violation{}: {detail}", constraint.as_ref().map(|c| format!(" on '{c}'")).unwrap_or_default())]
    Constraint {
        /// Which kind of constraint.
        kind: ConstraintKind,
        /// Constraint or column name when the driver says it.
        constraint: Option<String>,
        /// The driver's message.
        detail: String,
    },

    /// An update or delete of a versioned entity matched no row: someone else changed it first.
    #[error(
        "OptimisticLockError: Version mismatch for {entity} {key}: expected version {expected_version} but the row changed since it was read. Fix: re-fetch the entity and retry the operation"
    )]
    OptimisticLock {
        /// Entity name.
        entity: String,
        /// Primary key, rendered.
        key: String,
        /// The version the caller read.
        expected_version: i64,
    },

    /// The database aborted the transaction because of a concurrent one (retry it).
    #[error(
        "DatabaseError: transaction {kind}: {detail}. Fix: retry the transaction (see `Database::retry_transaction`)"
    )]
    Conflict {
        /// Serialization failure or deadlock.
        kind: ConflictKind,
        /// The driver's message.
        detail: String,
    },

    /// A statement ran longer than `operations.statement_timeout` and was cancelled.
    #[error(
        "TimeoutError: statement cancelled after {timeout:?} (operations.statement_timeout). Fix: raise `sql.operations.statement_timeout` or make the statement faster"
    )]
    Timeout {
        /// The limit that was exceeded.
        timeout: Duration,
    },

    /// No connection became free within `pool.timeout`: all `max_size` connections were
    /// checked out the whole time. (A server that cannot be reached is [`Error::Connect`].)
    #[error(
        "PoolExhaustedError: no connection free within {timeout:?}; the pool has {max_size} connections, all in use. Fix: raise `sql.pool.max_size` or `sql.pool.timeout`, or hold connections for less time"
    )]
    PoolExhausted {
        /// `pool.max_size`.
        max_size: u32,
        /// `pool.timeout`.
        timeout: Duration,
    },

    /// The connection broke while in use (server restart, network, killed session).
    #[error(
        "DatabaseError: connection lost: {detail}. Fix: retry; the broken connection was discarded"
    )]
    ConnectionLost {
        /// The driver's message.
        detail: String,
    },

    /// A migration could not be applied, reverted, or checked.
    #[error(transparent)]
    Migration(#[from] MigrationError),

    /// A unit of work or transaction was misused (used after commit, for example).
    #[error("UnitOfWorkError: {detail}")]
    UnitOfWork {
        /// What happened and the fix.
        detail: String,
    },

    /// Committing failed and the rollback that followed failed too; both causes are kept.
    #[error("UnitOfWorkError: commit failed ({commit}) and the rollback failed too ({rollback})")]
    CommitAndRollback {
        /// Why commit failed.
        commit: Box<Error>,
        /// Why rollback failed.
        rollback: Box<Error>,
    },

    /// A value read from the database could not be converted to the requested Rust type.
    #[error("DecodeError: column '{column}': {detail}")]
    Decode {
        /// Column name or index.
        column: String,
        /// What was expected and what was found.
        detail: String,
    },

    /// The `Database` was closed (`Database::close`, application shutdown) and cannot be used.
    #[error(
        "DatabaseError: database '{name}' is closed. Fix: resolve a live `Database` from the application, or reconnect"
    )]
    Closed {
        /// Backend name.
        name: String,
    },

    /// Any other error the driver reported, with its native code.
    ///
    /// When the server raised it, the server's own error is kept as [`source()`]
    /// (`tokio_postgres::error::DbError`, `mysql_async::ServerError` or `rusqlite::Error`), so
    /// its fields (detail, hint, position, …) stay reachable by downcasting, and this error's
    /// message does not repeat the server's: an error reporter (`{err:#}` with anyhow, say)
    /// prints each once. Without a source, the message is part of this error's text.
    ///
    /// [`source()`]: std::error::Error::source
    #[error(
        "DatabaseError: {backend} error{}{}",
        code.as_ref().map(|c| format!(" {c}")).unwrap_or_default(),
        if source.is_some() { String::new() } else { format!(": {message}") }
    )]
    Driver {
        /// `sqlite`, `postgresql` or `mysql`.
        backend: &'static str,
        /// SQLSTATE, MySQL error number or SQLite extended code.
        code: Option<String>,
        /// The driver's message.
        message: String,
        /// The server's error, when the server raised it.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
    },

    /// A table or column name given at runtime breaks the identifier rule of [`crate::ident`].
    #[error(
        "RepositoryError: invalid {what} name '{name}'. Fix: use a plain identifier: a letter or '_' followed by letters, digits or '_' (at most 63 characters); a table may be schema-qualified with one dot (`schema.table`)"
    )]
    InvalidIdentifier {
        /// `table` or `column`.
        what: &'static str,
        /// The rejected name, exactly as given.
        name: String,
    },

    /// A repository call that the entity or its arguments cannot support (no soft-delete
    /// column, a cursor from another query, ...).
    #[error("RepositoryError: {entity}: {detail}")]
    InvalidRequest {
        /// Entity or table name.
        entity: String,
        /// What was wrong and the fix.
        detail: String,
    },

    /// A value cannot be stored as the type the database expects for it: the parameter's
    /// declared type (PostgreSQL), or the column's (MySQL/MariaDB in strict mode, SQLite). The
    /// value is refused whole; nothing is rounded, truncated, saturated or re-encoded as
    /// another type.
    #[error(
        "EncodeError: {} cannot be stored as {target}: {detail}. Fix: bind a value of the column's type, or convert it explicitly",
        encode_subject(*parameter, value)
    )]
    Encode {
        /// 1-based position of the parameter, when the driver says which one.
        parameter: Option<usize>,
        /// The kind of the value (`integer`, `text`, …), never the value itself; empty when
        /// the server refused it without saying.
        value: String,
        /// The server type or column that refused it.
        target: String,
        /// Why.
        detail: String,
    },

    /// A `Database` bound by `DatabaseProvider` was resolved before the application booted
    /// (pools are opened at boot), or after a failed boot.
    #[error(
        "DatabaseError: database '{name}' is not connected yet: DatabaseProvider opens its pools when the application boots. Fix: resolve it from the application returned by `boot().await`"
    )]
    NotConnected {
        /// Backend name.
        name: String,
    },

    /// A statement built by a repository would bind more parameters than the backend accepts
    /// in one statement (65,535 on PostgreSQL and MySQL, 32,766 on SQLite), and the request
    /// cannot be split into several statements with the same meaning. Raised before anything
    /// is sent to the server.
    #[error(
        "RepositoryError: {entity}: the statement needs {needed} bound parameters, but {backend} accepts at most {limit} in one statement ({detail}). Fix: split the list into batches, use a join or a temporary table, or use a single `col(..).is_in(..)` filter with no ordering or limit, which the repository splits by itself"
    )]
    TooManyParameters {
        /// Entity or table name.
        entity: String,
        /// Parameters the statement would bind.
        needed: usize,
        /// The backend's per-statement limit.
        limit: usize,
        /// Backend name.
        backend: &'static str,
        /// Why it could not be split.
        detail: String,
    },

    /// A writer waited `pool.timeout` for SQLite's write lock, which another transaction or
    /// write of the same `Database` still held; nothing was written.
    #[error(
        "LockTimeoutError: waited {waited:?} (sql.pool.timeout) for the SQLite write lock: {detail}. Fix: keep write transactions short (commit or roll back before doing slow work), or raise `sql.pool.timeout`"
    )]
    LockTimeout {
        /// How long the writer waited: `pool.timeout`.
        waited: Duration,
        /// What held the lock, as far as it is known.
        detail: String,
    },

    /// The server did not know a prepared statement this connection had prepared, or already
    /// had one of its name (PostgreSQL SQLSTATE 26000 / 42P05): a connection pooler in
    /// transaction mode (PgBouncer) moved the session to another server connection. Set
    /// `backend.statement_cache: false`.
    #[error(
        "DatabaseError: prepared statement lost behind a connection pooler: {detail}. Fix: set `sql.backend.statement_cache: false` (LEX_SQL__BACKEND__STATEMENT_CACHE=false, or `?statement_cache=false` in the URL) when connecting through PgBouncer in transaction or statement pooling mode"
    )]
    PreparedStatementLost {
        /// The server's message.
        detail: String,
    },

    /// An entity or table that the database's
    /// [`RowLevelSecurityPolicy`](crate::scope::RowLevelSecurityPolicy) marks as requiring a
    /// tenant scope was used through an unscoped repository or `Table`. Raised before any SQL
    /// is sent. (`NoSecurityPolicyError` in the Python edition.)
    #[error(
        "NoSecurityPolicyError: {target} requires a tenant scope (column '{column}') by the security policy of database '{database}', and this repository has none; nothing was sent. Fix: use `.scoped(TenantScope::new(\"{column}\", value))` on the repository or the database, or `admin_bypass(reason)` for a logged administrative access"
    )]
    ScopeRequired {
        /// The entity (`Invoice`) or `table 'x'`.
        target: String,
        /// The scope column the policy names.
        column: String,
        /// The database (backend) name.
        database: String,
    },

    /// A scoped repository refused a write that would leave its tenant scope: an entity whose
    /// scope column holds another tenant's value, or a change of the scope column. Nothing
    /// was written.
    #[error(
        "ScopeViolationError: {target}: {detail}; nothing was written. Fix: write only rows of the scope (column '{column}' = {scope}); to act across tenants use `admin_bypass(reason)`"
    )]
    ScopeViolation {
        /// The entity or `table 'x'`.
        target: String,
        /// The scope column.
        column: String,
        /// The scope's value, as text.
        scope: String,
        /// What was refused.
        detail: String,
    },

    /// The audit log could not be written or read (see [`crate::audit`]); an audited change
    /// whose audit row failed is rolled back.
    #[error("AuditError: {detail}")]
    Audit {
        /// What failed and the fix.
        detail: String,
    },
}

/// `parameter 2 (integer value)`, or `a text value` when the position is unknown.
fn encode_subject(parameter: Option<usize>, value: &str) -> String {
    match parameter {
        Some(p) => format!("parameter {p} ({value} value)"),
        None if value.is_empty() => "a value".to_string(),
        None => format!("a {value} value"),
    }
}

/// The message of [`Error::UnknownColumn`]: with the known columns when the entity's metadata
/// rejected the name, with the schema hint when the database did.
fn unknown_column_text(column: &str, entity: &str, known: &str) -> String {
    let target = if entity.is_empty() {
        String::new()
    } else {
        format!(" for {entity}")
    };
    if known.is_empty() {
        format!(
            "RepositoryError: unknown column '{column}'{target}: the table has no such column. Fix: check the column name against the table's schema, or run `lexigram db upgrade` if a migration adds it"
        )
    } else {
        format!(
            "RepositoryError: unknown column '{column}'{target}; known columns: {known}. Fix: use one of the entity's column names"
        )
    }
}

impl Error {
    /// [`Error::UnknownColumn`] as a driver reports it: the column, and the table when the
    /// driver's message names it.
    #[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
    pub(crate) fn unknown_column(column: &str, table: Option<&str>) -> Error {
        Error::UnknownColumn {
            column: column.to_string(),
            entity: table.map(|t| format!("table '{t}'")).unwrap_or_default(),
            known: String::new(),
        }
    }

    /// [`Error::Encode`] for a value the server refused for its column (which the driver may
    /// name), with the server's message.
    #[cfg(any(feature = "postgres", feature = "mysql"))]
    pub(crate) fn refused_by_server(column: Option<&str>, detail: String) -> Error {
        Error::Encode {
            parameter: None,
            value: String::new(),
            target: column.map_or_else(
                || "the column's type".to_string(),
                |c| format!("column '{c}'"),
            ),
            detail,
        }
    }

    /// Names `table` in an [`Error::UnknownColumn`] the database raised without saying which
    /// table; every other error is returned unchanged.
    pub(crate) fn in_table(self, table: &str) -> Error {
        match self {
            Error::UnknownColumn {
                column,
                entity,
                known,
            } if entity.is_empty() => Error::UnknownColumn {
                column,
                entity: format!("table '{table}'"),
                known,
            },
            other => other,
        }
    }

    /// Stable code of this error, `LEX_ERR_SQL_NNN`; safe to match on and to document.
    ///
    /// ```
    /// use lexigram_sql::Error;
    /// let e = Error::Timeout { timeout: std::time::Duration::from_secs(1) };
    /// assert_eq!(e.code(), "LEX_ERR_SQL_007");
    /// ```
    pub fn code(&self) -> &'static str {
        match self {
            Error::Configuration(_) => "LEX_ERR_SQL_001",
            Error::Connect(_) => "LEX_ERR_SQL_002",
            Error::DriverMissing { .. } => "LEX_ERR_SQL_003",
            Error::NoPrimaryBackend { .. } => "LEX_ERR_SQL_004",
            Error::OptimisticLock { .. } => "LEX_ERR_SQL_005",
            Error::Conflict { .. } => "LEX_ERR_SQL_006",
            Error::Timeout { .. } => "LEX_ERR_SQL_007",
            Error::PoolExhausted { .. } => "LEX_ERR_SQL_008",
            Error::ConnectionLost { .. } => "LEX_ERR_SQL_009",
            Error::TableMissing { .. } => "LEX_ERR_SQL_010",
            Error::NotFound { .. } => "LEX_ERR_SQL_011",
            Error::UnknownColumn { .. } => "LEX_ERR_SQL_012",
            Error::Constraint { .. } => "LEX_ERR_SQL_013",
            Error::Migration(_) => "LEX_ERR_SQL_014",
            Error::UnitOfWork { .. } => "LEX_ERR_SQL_015",
            Error::CommitAndRollback { .. } => "LEX_ERR_SQL_016",
            Error::Decode { .. } => "LEX_ERR_SQL_017",
            Error::Driver { .. } => "LEX_ERR_SQL_018",
            Error::Closed { .. } => "LEX_ERR_SQL_019",
            Error::InvalidIdentifier { .. } => "LEX_ERR_SQL_020",
            Error::InvalidRequest { .. } => "LEX_ERR_SQL_021",
            Error::NotConnected { .. } => "LEX_ERR_SQL_022",
            Error::Encode { .. } => "LEX_ERR_SQL_023",
            Error::LockTimeout { .. } => "LEX_ERR_SQL_024",
            Error::PreparedStatementLost { .. } => "LEX_ERR_SQL_025",
            Error::TooManyParameters { .. } => "LEX_ERR_SQL_026",
            Error::ScopeRequired { .. } => "LEX_ERR_SQL_030",
            Error::ScopeViolation { .. } => "LEX_ERR_SQL_031",
            Error::Audit { .. } => "LEX_ERR_SQL_032",
        }
    }

    /// True for errors that a retry of the whole transaction can cure: optimistic-lock
    /// conflicts, serialization failures and deadlocks.
    ///
    /// ```
    /// use lexigram_sql::{ConflictKind, Error};
    /// let e = Error::Conflict { kind: ConflictKind::Deadlock, detail: "x".into() };
    /// assert!(e.is_retryable());
    /// ```
    pub fn is_retryable(&self) -> bool {
        matches!(self, Error::OptimisticLock { .. } | Error::Conflict { .. })
    }
}

/// Kinds of schema constraints the drivers report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConstraintKind {
    /// UNIQUE or PRIMARY KEY.
    Unique,
    /// FOREIGN KEY.
    ForeignKey,
    /// NOT NULL.
    NotNull,
    /// CHECK.
    Check,
}

impl std::fmt::Display for ConstraintKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ConstraintKind::Unique => "unique constraint",
            ConstraintKind::ForeignKey => "foreign key constraint",
            ConstraintKind::NotNull => "not-null constraint",
            ConstraintKind::Check => "check constraint",
        })
    }
}

/// Why the database aborted a transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConflictKind {
    /// SQLSTATE 40001 and friends.
    Serialization,
    /// SQLSTATE 40P01, MySQL 1213, a busy SQLite database.
    Deadlock,
}

impl std::fmt::Display for ConflictKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ConflictKind::Serialization => "serialization failure",
            ConflictKind::Deadlock => "deadlock",
        })
    }
}

/// What kind of configuration problem was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigErrorKind {
    /// The URL scheme is not one we know.
    InvalidUrlPrefix,
    /// `pool.max_size < pool.min_size`.
    PoolBounds,
    /// A value has the wrong type, an unknown key, a bad duration, or is out of range.
    InvalidValue,
    /// A default password was found with `LEX_ENV=production`.
    DefaultPassword,
    /// Named backends are inconsistent (two primaries, duplicate names).
    Backends,
    /// The config file could not be read or parsed.
    Source,
}

/// A configuration problem: what, which value, where it came from, and the fix.
///
/// ```
/// use lexigram_sql::error::{ConfigError, ConfigErrorKind};
/// let err = ConfigError::new(ConfigErrorKind::Backends, "Unknown backend", "no backend is named `x`", "pass a configured name")
///     .with_source_name("command line --backend");
/// assert_eq!(
///     err.to_string(),
///     "ConfigurationError: Unknown backend: no backend is named `x` (from command line --backend). Fix: pass a configured name"
/// );
/// ```
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
#[error("ConfigurationError: {headline}: {detail}{}. Fix: {fix}", source_name.as_ref().map(|s| format!(" (from {s})")).unwrap_or_default())]
pub struct ConfigError {
    /// Kind of problem, for matching.
    pub kind: ConfigErrorKind,
    /// The seed's words for this problem, e.g. `Invalid database URL prefix`.
    pub headline: String,
    /// The offending value (secrets redacted) and context.
    pub detail: String,
    /// Where the value came from: `application.yaml key sql.backend.url` or `env LEX_SQL__BACKEND__URL`.
    pub source_name: Option<String>,
    /// How to fix it.
    pub fix: String,
}

impl ConfigError {
    /// A configuration error of `kind`: the headline, the offending value and context, and
    /// the fix.
    pub fn new(
        kind: ConfigErrorKind,
        headline: impl Into<String>,
        detail: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        ConfigError {
            kind,
            headline: headline.into(),
            detail: detail.into(),
            source_name: None,
            fix: fix.into(),
        }
    }

    /// Names where the offending value came from (a file and key, an environment variable).
    pub fn with_source_name(mut self, source_name: impl Into<String>) -> Self {
        self.source_name = Some(source_name.into());
        self
    }
}

/// How a connection attempt failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConnectErrorKind {
    /// Nothing answered at host:port (refused, unreachable, DNS, timeout).
    Unreachable,
    /// The server answered but rejected the credentials.
    Authentication,
    /// The server answered but the database does not exist.
    DatabaseMissing,
    /// The SQLite file could not be opened.
    File,
    /// The TLS session could not be set up; which step failed says [`TlsFailure`].
    Tls(TlsFailure),
    /// Anything else during connect.
    Other,
}

/// Why a TLS connection failed (in [`ConnectErrorKind::Tls`]).
///
/// ```
/// use lexigram_sql::error::{ConnectErrorKind, TlsFailure};
/// let kind = ConnectErrorKind::Tls(TlsFailure::NameMismatch);
/// assert!(matches!(kind, ConnectErrorKind::Tls(_)));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TlsFailure {
    /// The handshake failed (no shared protocol or cipher, a bad client certificate, the
    /// server closed the connection, …).
    Handshake,
    /// The mode requires TLS but the server does not offer it.
    Unsupported,
    /// The server's certificate is not signed by a trusted CA (or expired, or invalid).
    Untrusted,
    /// The certificate is trusted but does not name the host connected to.
    NameMismatch,
}

/// A failed connection attempt.
///
/// ```
/// use lexigram_sql::error::{ConnectError, ConnectErrorKind};
/// let err = ConnectError::new(ConnectErrorKind::Unreachable, "postgresql", "db:5432", "connection refused");
/// assert!(err.to_string().starts_with("DatabaseError: could not connect to server db:5432 (postgresql): connection refused. Fix:"));
/// ```
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
#[error("DatabaseError: could not connect to server {target} ({backend}): {reason}. Fix: {fix}")]
pub struct ConnectError {
    /// What went wrong.
    pub kind: ConnectErrorKind,
    /// `sqlite`, `postgresql` or `mysql`.
    pub backend: &'static str,
    /// `host:port` or the SQLite path; never contains the password.
    pub target: String,
    /// The driver's reason.
    pub reason: String,
    /// How to fix it.
    pub fix: String,
}

impl ConnectError {
    /// A connect error with the standard fix text for its kind.
    pub fn new(
        kind: ConnectErrorKind,
        backend: &'static str,
        target: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        let fix = match kind {
            ConnectErrorKind::Unreachable => {
                "check that the server is running and reachable at that address, and the URL in `sql.backend.url` / LEX_SQL__BACKEND__URL"
            }
            ConnectErrorKind::Authentication => {
                "check the user name and password in the URL, and the client certificate (sslcert/sslkey, ssl-cert/ssl-key, backend.tls.cert/key) if the server requires one"
            }
            ConnectErrorKind::DatabaseMissing => {
                "create the database on the server or fix the database name in the URL"
            }
            ConnectErrorKind::File => "check that the directory exists and is writable",
            ConnectErrorKind::Tls(TlsFailure::Handshake) => {
                "check that the server has TLS enabled (PostgreSQL ssl=on; MariaDB/MySQL ssl-cert and ssl-key) and speaks TLS 1.2 or 1.3, and that a client certificate (sslcert/sslkey, ssl-cert/ssl-key, backend.tls.cert/key) is a matching PEM pair the server accepts"
            }
            ConnectErrorKind::Tls(TlsFailure::Unsupported) => {
                "enable TLS on the server (PostgreSQL ssl=on; MariaDB/MySQL ssl-cert and ssl-key), or lower the TLS mode to prefer (sslmode=prefer, ssl-mode=PREFERRED, backend.tls.mode)"
            }
            ConnectErrorKind::Tls(TlsFailure::Untrusted) => {
                "give the CA that signed the server's certificate as sslrootcert= (PostgreSQL) or ssl-ca= (MySQL) in the URL, or sql.backend.tls.root_cert (LEX_SQL__BACKEND__TLS__ROOT_CERT); sslmode=require encrypts without checking the certificate, but then does not detect an impostor"
            }
            ConnectErrorKind::Tls(TlsFailure::NameMismatch) => {
                "connect with a host name the server's certificate names (see the names above), or reissue the certificate with this host in its subject alternative names; sslmode=verify-ca (ssl-mode=VERIFY_CA) checks the CA but not the name"
            }
            ConnectErrorKind::Other => "check the URL and the server's log",
        };
        ConnectError {
            kind,
            backend,
            target: target.into(),
            reason: reason.into(),
            fix: fix.to_string(),
        }
    }
}

/// What kind of migration problem happened.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MigrationErrorKind {
    /// An applied migration's file has changed since it was applied.
    ChecksumMismatch,
    /// An applied version has no file any more.
    MissingFile,
    /// The migration lock was not obtained within `migrations.lock_timeout`.
    LockTimeout,
    /// A migration statement failed.
    Failed,
    /// A previous run left a version dirty (MySQL/MariaDB: no transactional DDL).
    Dirty,
    /// Files are malformed or the request is inconsistent.
    Invalid,
}

/// A migration problem, naming the version and file.
///
/// ```
/// use lexigram_sql::error::{MigrationError, MigrationErrorKind};
/// let err = MigrationError::new(MigrationErrorKind::Failed, Some(1), "migration 1 failed");
/// assert_eq!(err.to_string(), "MigrationError: migration 1 failed");
/// ```
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
#[error("MigrationError: {message}")]
pub struct MigrationError {
    /// Kind of problem, for matching.
    pub kind: MigrationErrorKind,
    /// Version concerned, if any.
    pub version: Option<i64>,
    /// Full message with the fix.
    pub message: String,
}

impl MigrationError {
    /// A migration error of `kind` about `version`, its message saying what happened and the
    /// fix.
    pub fn new(kind: MigrationErrorKind, version: Option<i64>, message: impl Into<String>) -> Self {
        MigrationError {
            kind,
            version,
            message: message.into(),
        }
    }
}
