//! [`verify`]: re-computes the hash chain of an audit log and names the rows that were
//! edited or deleted.

use std::fmt;

use super::chain::{Content, row_hash};
use super::log::{AuditLog, GENESIS_HASH};
use crate::database::Database;
use crate::error::Result;

/// What [`verify`] found. Intact when no row was edited, deleted or re-linked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerifyReport {
    /// The log table.
    pub table: String,
    /// Rows read.
    pub rows: u64,
    /// The chain head's sequence number (the last row written).
    pub head_seq: i64,
    /// Rows whose stored hash does not match their content: edited after they were written.
    pub edited: Vec<i64>,
    /// Sequence numbers missing from the chain: deleted rows (including deleted last rows,
    /// found against the chain head).
    pub deleted: Vec<i64>,
    /// Rows whose `prev_hash` is not the hash of the row before them although no sequence
    /// number is missing (a row replaced or the chain spliced).
    pub relinked: Vec<i64>,
}

impl VerifyReport {
    /// True when every row is as written and none is missing.
    pub fn is_intact(&self) -> bool {
        self.edited.is_empty() && self.deleted.is_empty() && self.relinked.is_empty()
    }

    /// The first edited row (lowest sequence number), if any.
    pub fn first_edited(&self) -> Option<i64> {
        self.edited.first().copied()
    }
}

fn seqs(v: &[i64]) -> String {
    v.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")
}

impl fmt::Display for VerifyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_intact() {
            return write!(
                f,
                "audit log '{}': {} rows, chain intact up to seq {}",
                self.table, self.rows, self.head_seq
            );
        }
        write!(
            f,
            "audit log '{}': chain BROKEN ({} rows read)",
            self.table, self.rows
        )?;
        if let Some(first) = self.first_edited() {
            write!(
                f,
                "; first edited row: seq {first}; edited rows (hash mismatch): seq {}",
                seqs(&self.edited)
            )?;
        }
        if !self.deleted.is_empty() {
            write!(
                f,
                "; deleted rows (sequence gap): seq {}",
                seqs(&self.deleted)
            )?;
        }
        if !self.relinked.is_empty() {
            write!(
                f,
                "; re-linked rows (prev_hash mismatch): seq {}",
                seqs(&self.relinked)
            )?;
        }
        Ok(())
    }
}

/// Verifies the hash chain of `log` on `db`: every row's HMAC is re-computed with the log's
/// key; a mismatch names an edited row, a missing sequence number (against the next row or
/// the chain head) a deleted one. Reads the whole log.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> lexigram_sql::Result<()> {
/// use lexigram_sql::{Database, Entity};
/// use lexigram_sql::audit::{self, AuditLog};
/// use lexigram_sql::config::AuditKey;
///
/// #[derive(Debug, Clone, Entity)]
/// struct Account { #[entity(key)] id: i64, balance: i64 }
///
/// let db = Database::connect_url("sqlite://").await?;
/// db.execute_batch("CREATE TABLE accounts (id INTEGER PRIMARY KEY, balance INTEGER NOT NULL)").await?;
/// let log = AuditLog::new("audit_log", AuditKey::new("k".repeat(32)))?;
/// log.create_table(&db).await?;
/// let accounts = db.repository::<Account>().audited(&log, "alice");
/// let mut a = accounts.create(Account { id: 1, balance: 10 }).await?;
/// a.balance = 20;
/// accounts.update(&mut a).await?;
/// assert!(audit::verify(&db, &log).await?.is_intact());
/// db.execute("UPDATE audit_log SET after_json = '{\"id\":1,\"balance\":999}' WHERE seq = 2", &[]).await?;
/// let report = audit::verify(&db, &log).await?;
/// assert_eq!(report.first_edited(), Some(2));
/// # Ok(()) }
/// ```
pub async fn verify(db: &Database, log: &AuditLog) -> Result<VerifyReport> {
    let d = db.dialect();
    let t = d.quote_ident(log.table());
    let h = d.quote_ident(&log.head_table());
    let rows = db
        .primary()
        .fetch_all(
            &format!(
                "SELECT seq, recorded_at, actor, target, operation, row_key, before_json, after_json, prev_hash, hash FROM {t} ORDER BY seq"
            ),
            &[],
        )
        .await?;
    let head_seq: i64 = db
        .primary()
        .fetch_optional(&format!("SELECT seq FROM {h} WHERE id = 1"), &[])
        .await?
        .map(|r| r.get_at(0))
        .transpose()?
        .unwrap_or(0);
    let mut report = VerifyReport {
        table: log.table().to_string(),
        rows: rows.len() as u64,
        head_seq,
        ..VerifyReport::default()
    };
    let mut expected_seq = 1i64;
    let mut prev = GENESIS_HASH.to_string();
    for row in &rows {
        let seq: i64 = row.get("seq")?;
        let recorded_at: String = row.get("recorded_at")?;
        let actor: String = row.get("actor")?;
        let target: String = row.get("target")?;
        let operation: String = row.get("operation")?;
        let key: String = row.get("row_key")?;
        let before: Option<String> = row.get("before_json")?;
        let after: Option<String> = row.get("after_json")?;
        let prev_hash: String = row.get("prev_hash")?;
        let hash: String = row.get("hash")?;
        if seq > expected_seq {
            report.deleted.extend(expected_seq..seq);
        } else if prev_hash != prev {
            report.relinked.push(seq);
        }
        let content = Content {
            seq,
            recorded_at: &recorded_at,
            actor: &actor,
            target: &target,
            operation: &operation,
            key: &key,
            before: before.as_deref(),
            after: after.as_deref(),
        };
        if row_hash(log, &prev_hash, &content)? != hash {
            report.edited.push(seq);
        }
        prev = hash;
        expected_seq = seq + 1;
    }
    if head_seq >= expected_seq {
        report.deleted.extend(expected_seq..=head_seq);
    }
    Ok(report)
}
