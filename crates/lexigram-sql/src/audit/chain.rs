//! The hash chain: each row's HMAC-SHA256 over the previous row's hash and the row's
//! canonical content, and appending a row under the chain-head lock.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::log::{AuditLog, ph};
use crate::config::BackendKind;
use crate::database::Executor;
use crate::error::{Error, Result};

/// One change to record.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    /// Who made the change.
    pub actor: String,
    /// The entity or table changed.
    pub target: String,
    /// `create`, `update`, `delete`, …
    pub operation: String,
    /// The changed row's key, as JSON text (`7`, `"abc"`).
    pub key: String,
    /// The row before the change (`None` for a create).
    pub before: Option<serde_json::Value>,
    /// The row after the change (`None` for a delete).
    pub after: Option<serde_json::Value>,
}

/// A stored audit row's content, as hashed.
pub(super) struct Content<'a> {
    pub seq: i64,
    pub recorded_at: &'a str,
    pub actor: &'a str,
    pub target: &'a str,
    pub operation: &'a str,
    pub key: &'a str,
    pub before: Option<&'a str>,
    pub after: Option<&'a str>,
}

/// The chain head: the last row's sequence number and hash.
pub(super) struct Head {
    pub seq: i64,
    pub hash: String,
}

/// `hex(HMAC-SHA256(key, prev_hash "\n" canonical))`, where `canonical` is the JSON array
/// `[seq, recorded_at, actor, target, operation, key, before, after]` of the stored text.
pub(super) fn row_hash(log: &AuditLog, prev_hash: &str, c: &Content<'_>) -> Result<String> {
    let canonical = serde_json::to_string(&(
        c.seq,
        c.recorded_at,
        c.actor,
        c.target,
        c.operation,
        c.key,
        c.before,
        c.after,
    ))
    .map_err(|e| Error::Audit {
        detail: format!("cannot serialise an audit row: {e}"),
    })?;
    let mut mac = Hmac::<Sha256>::new_from_slice(log.key().bytes()).map_err(|e| Error::Audit {
        detail: format!("the audit HMAC key was refused: {e}"),
    })?;
    mac.update(prev_hash.as_bytes());
    mac.update(b"\n");
    mac.update(canonical.as_bytes());
    Ok(hex(&mac.finalize().into_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Locks the chain head for the rest of the transaction on `ex` and reads it: `SELECT …
/// FOR UPDATE` on servers; on SQLite the transaction holds the write lock already (`BEGIN
/// IMMEDIATE`). Writers of one chain are serialised from here to their commit.
pub(super) async fn lock_head(log: &AuditLog, ex: &Executor) -> Result<Head> {
    let d = ex.dialect();
    let h = d.quote_ident(&log.head_table());
    let lock = match ex.database().kind() {
        BackendKind::Sqlite => "",
        _ => " FOR UPDATE",
    };
    let row = ex
        .fetch_optional(
            &format!("SELECT seq, hash FROM {h} WHERE id = 1{lock}"),
            &[],
        )
        .await?
        .ok_or_else(|| Error::Audit {
            detail: format!(
                "the audit chain head '{}' has no row. Fix: run `AuditLog::create_table` once",
                log.head_table()
            ),
        })?;
    Ok(Head {
        seq: row.get("seq")?,
        hash: row.get("hash")?,
    })
}

/// Appends `entry` after `head` (locked by [`lock_head`] in the same transaction) and moves
/// the head; returns the row's sequence number.
pub(super) async fn append(
    log: &AuditLog,
    ex: &Executor,
    head: Head,
    entry: &AuditEntry,
) -> Result<i64> {
    let now = chrono::Utc::now();
    let recorded_at = now.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let before = entry.before.as_ref().map(|v| v.to_string());
    let after = entry.after.as_ref().map(|v| v.to_string());
    let seq = head.seq + 1;
    let content = Content {
        seq,
        recorded_at: &recorded_at,
        actor: &entry.actor,
        target: &entry.target,
        operation: &entry.operation,
        key: &entry.key,
        before: before.as_deref(),
        after: after.as_deref(),
    };
    let hash = row_hash(log, &head.hash, &content)?;
    let d = ex.dialect();
    let t = d.quote_ident(log.table());
    let phs: Vec<String> = (1..=10).map(|n| ph(d, n)).collect();
    let insert = format!(
        "INSERT INTO {t} (seq, recorded_at, actor, target, operation, row_key, before_json, after_json, prev_hash, hash) VALUES ({})",
        phs.join(", ")
    );
    let text = |s: Option<String>| s.map_or(crate::value::Value::Null, Into::into);
    ex.execute(
        &insert,
        &[
            seq.into(),
            recorded_at.as_str().into(),
            entry.actor.as_str().into(),
            entry.target.as_str().into(),
            entry.operation.as_str().into(),
            entry.key.as_str().into(),
            text(before.clone()),
            text(after.clone()),
            head.hash.as_str().into(),
            hash.as_str().into(),
        ],
    )
    .await?;
    let h = d.quote_ident(&log.head_table());
    let update = format!(
        "UPDATE {h} SET seq = {}, hash = {} WHERE id = 1",
        ph(d, 1),
        ph(d, 2)
    );
    ex.execute(&update, &[seq.into(), hash.into()]).await?;
    Ok(seq)
}

impl AuditLog {
    /// Records an entry for a change made by other code, on `ex`, in the same transaction
    /// as that change (on a pool executor the entry commits alone: begin a transaction
    /// first). Locks the chain head until the transaction ends; returns the row's sequence
    /// number.
    pub async fn record(&self, ex: &Executor, entry: &AuditEntry) -> Result<i64> {
        let head = lock_head(self, ex).await?;
        append(self, ex, head, entry).await
    }
}
