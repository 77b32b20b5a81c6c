//! [`AuditLog`]: the log table, its chain head, and its DDL.

use crate::backend::Dialect;
use crate::config::{AuditConfig, AuditKey, BackendKind, MIN_AUDIT_KEY_BYTES};
use crate::database::{Database, Executor};
use crate::error::{Error, Result};
use crate::repository::ident_check;

/// The `prev_hash` of the first row of a chain: 64 zeros.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// An audit log: a table of who changed what, when, with the row before and after as JSON,
/// chained by an HMAC-SHA256 keyed by `audit_hmac_key` so that an edited or deleted row is
/// detected by [`verify`](super::verify). Its chain head, one row in `<table>_head`,
/// serialises writers. `Debug` never shows the key.
///
/// ```
/// use lexigram_sql::audit::AuditLog;
/// use lexigram_sql::config::AuditKey;
/// let log = AuditLog::new("audit_log", AuditKey::new("k".repeat(32)))?;
/// assert_eq!(log.table(), "audit_log");
/// assert!(!format!("{log:?}").contains("kkkk"));
/// assert!(AuditLog::new("audit_log", AuditKey::new("short")).is_err());
/// # Ok::<(), lexigram_sql::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct AuditLog {
    table: String,
    key: AuditKey,
}

impl AuditLog {
    /// A log in `table` keyed by `key` (at least 32 bytes). [`Error::InvalidIdentifier`] for
    /// a table name that is not a plain identifier, [`Error::Audit`] for a short key.
    pub fn new(table: &str, key: AuditKey) -> Result<AuditLog> {
        ident_check("table", table)?;
        ident_check("table", &format!("{table}_head"))?;
        if key.len() < MIN_AUDIT_KEY_BYTES {
            return Err(Error::Audit {
                detail: format!(
                    "the audit HMAC key is {} bytes long, shorter than {MIN_AUDIT_KEY_BYTES}. Fix: use a random secret of at least {MIN_AUDIT_KEY_BYTES} bytes (sql.audit.audit_hmac_key)",
                    key.len()
                ),
            });
        }
        Ok(AuditLog {
            table: table.to_string(),
            key,
        })
    }

    /// The log of `sql.audit`, or `None` when it is not enabled. The settings are
    /// checked as by [`DatabaseConfig::validate`](crate::DatabaseConfig::validate).
    pub fn from_config(config: &AuditConfig) -> Result<Option<AuditLog>> {
        crate::config::check_audit(config, &|k| format!("sql.{k}"))?;
        match (&config.enabled, &config.audit_hmac_key) {
            (true, Some(key)) => AuditLog::new(&config.table, key.clone()).map(Some),
            _ => Ok(None),
        }
    }

    /// The log table.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// The chain-head table: `<table>_head`.
    pub fn head_table(&self) -> String {
        format!("{}_head", self.table)
    }

    pub(super) fn key(&self) -> &AuditKey {
        &self.key
    }

    /// The DDL of the log and its chain head for a backend (what
    /// [`AuditLog::create_table`] runs; ship it as a migration if you prefer).
    ///
    /// ```
    /// use lexigram_sql::audit::AuditLog;
    /// use lexigram_sql::config::{AuditKey, BackendKind};
    /// let log = AuditLog::new("audit_log", AuditKey::new("k".repeat(32)))?;
    /// assert!(log.ddl(BackendKind::Postgres).contains("CREATE TABLE IF NOT EXISTS \"audit_log\""));
    /// # Ok::<(), lexigram_sql::Error>(())
    /// ```
    pub fn ddl(&self, kind: BackendKind) -> String {
        let d = crate::backend::dialect_of(kind);
        let t = d.quote_ident(&self.table);
        let h = d.quote_ident(&self.head_table());
        format!(
            "CREATE TABLE IF NOT EXISTS {t} (\
             seq BIGINT NOT NULL PRIMARY KEY, \
             recorded_at VARCHAR(40) NOT NULL, \
             actor VARCHAR(255) NOT NULL, \
             target VARCHAR(255) NOT NULL, \
             operation VARCHAR(16) NOT NULL, \
             row_key TEXT NOT NULL, \
             before_json TEXT, \
             after_json TEXT, \
             prev_hash VARCHAR(64) NOT NULL, \
             hash VARCHAR(64) NOT NULL);\n\
             CREATE TABLE IF NOT EXISTS {h} (\
             id INTEGER NOT NULL PRIMARY KEY, \
             seq BIGINT NOT NULL, \
             hash VARCHAR(64) NOT NULL);\n"
        )
    }

    /// Creates the log and its chain head if they do not exist.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> lexigram_sql::Result<()> {
    /// use lexigram_sql::audit::AuditLog;
    /// use lexigram_sql::config::AuditKey;
    /// let db = lexigram_sql::Database::connect_url("sqlite://").await?;
    /// let log = AuditLog::new("audit_log", AuditKey::new("k".repeat(32)))?;
    /// log.create_table(&db).await?;
    /// log.create_table(&db).await?; // idempotent
    /// assert!(lexigram_sql::audit::verify(&db, &log).await?.is_intact());
    /// # Ok(()) }
    /// ```
    pub async fn create_table(&self, db: &Database) -> Result<()> {
        db.execute_batch(&self.ddl(db.kind())).await?;
        let ex = Executor::from(db);
        let h = db.dialect().quote_ident(&self.head_table());
        let n: i64 = ex
            .fetch_one(&format!("SELECT COUNT(*) FROM {h}"), &[])
            .await?
            .get_at(0)?;
        if n == 0 {
            let sql = format!(
                "INSERT INTO {h} (id, seq, hash) VALUES ({}, {}, {})",
                ph(db.dialect(), 1),
                ph(db.dialect(), 2),
                ph(db.dialect(), 3)
            );
            ex.execute(&sql, &[1i64.into(), 0i64.into(), GENESIS_HASH.into()])
                .await?;
        }
        Ok(())
    }
}

/// The `n`-th (1-based) placeholder of a dialect.
pub(super) fn ph(d: &dyn Dialect, n: usize) -> String {
    let mut s = String::new();
    d.push_placeholder(&mut s, n);
    s
}
