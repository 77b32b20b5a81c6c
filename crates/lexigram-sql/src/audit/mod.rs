//! An audit log with a tamper-evident hash chain.
//!
//! [`AuditLog`] is a table (name configurable, `sql.audit.table`) of who changed what and
//! when, with the row before and after as JSON. [`Repository::audited`](crate::Repository::audited)
//! gives an [`AuditedRepository`] whose writes append their audit row in the same
//! transaction as the change. Each row stores its sequence number, the previous row's hash
//! and an HMAC-SHA256, keyed by `sql.audit.audit_hmac_key` (a secret, never logged), over
//! that hash and its own canonical content; [`verify`] re-computes the chain and names the
//! first edited row and any deleted rows. Concurrent writers are serialised on the chain
//! head (`SELECT … FOR UPDATE` on PostgreSQL and MySQL, SQLite's write lock), so the chain
//! never forks. `lexigram db audit verify` runs [`verify`] from the command line.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> lexigram_sql::Result<()> {
//! use lexigram_sql::{Database, DatabaseConfig, Entity};
//! use lexigram_sql::audit::{self, AuditLog};
//! use lexigram_sql::config::AuditKey;
//!
//! #[derive(Debug, Clone, Entity)]
//! struct Account { #[entity(key)] id: i64, balance: i64 }
//!
//! let mut config = DatabaseConfig::from_url("sqlite://")?;
//! config.audit.enabled = true;
//! config.audit.audit_hmac_key = Some(AuditKey::new("an example key of 32 bytes or more!"));
//! let db = Database::from_config(&config).await?;
//! db.execute_batch("CREATE TABLE accounts (id INTEGER PRIMARY KEY, balance INTEGER NOT NULL)").await?;
//! let log = AuditLog::from_config(&config.audit)?.expect("enabled");
//! log.create_table(&db).await?;
//!
//! let accounts = db.repository::<Account>().audited(&log, "alice");
//! let a = accounts.create(Account { id: 1, balance: 10 }).await?;
//! accounts.delete(&a).await?;
//! let report = audit::verify(&db, &log).await?;
//! assert!(report.is_intact(), "{report}");
//! assert_eq!(report.rows, 2);
//!
//! db.execute("DELETE FROM lexigram_audit_log WHERE seq = 1", &[]).await?;
//! let report = audit::verify(&db, &log).await?;
//! assert_eq!(report.deleted, [1]);
//! # Ok(()) }
//! ```

mod chain;
mod json;
mod log;
mod repo;
mod verify;

pub use chain::AuditEntry;
pub use log::{AuditLog, GENESIS_HASH};
pub use repo::AuditedRepository;
pub use verify::{VerifyReport, verify};
