//! Read-your-writes sessions: the commit position a session's writes reached, and the test
//! that a replica has replayed it.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::backend::AnyConn;
use crate::backend::replication::{WritePosition, last_write};
use crate::config::BackendKind;
use crate::error::Result;
use crate::value::Value;

/// How long a MariaDB/MySQL replica may take to reach a session's position before the read
/// goes elsewhere (`MASTER_GTID_WAIT`'s timeout, in seconds).
const GTID_WAIT_SECONDS: f64 = 0.02;

/// A position in the primary's commit history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Position {
    /// PostgreSQL: a WAL location (`pg_current_wal_insert_lsn()` after the commit).
    Lsn(u64),
    /// MariaDB: the highest GTID sequence number per replication domain, with the server id
    /// that wrote it (`@@last_gtid` after the commit).
    Gtid(BTreeMap<u32, (u32, u64)>),
}

impl Position {
    /// True when `self` is at or past `other`.
    pub(crate) fn covers(&self, other: &Position) -> bool {
        match (self, other) {
            (Position::Lsn(a), Position::Lsn(b)) => a >= b,
            (Position::Gtid(a), Position::Gtid(b)) => b
                .iter()
                .all(|(domain, (_, seq))| a.get(domain).is_some_and(|(_, s)| s >= seq)),
            _ => false,
        }
    }

    /// Takes the later of `self` and `other`, per domain.
    pub(crate) fn merge(&mut self, other: &Position) {
        match (self, other) {
            (Position::Lsn(a), Position::Lsn(b)) => *a = (*a).max(*b),
            (Position::Gtid(a), Position::Gtid(b)) => {
                for (domain, (server, seq)) in b {
                    let entry = a.entry(*domain).or_insert((*server, *seq));
                    if *seq > entry.1 {
                        *entry = (*server, *seq);
                    }
                }
            }
            (this, other) => *this = other.clone(),
        }
    }

    /// The commit position of the last write on `conn` (a primary connection), if the server
    /// tells it.
    pub(crate) async fn after_write(
        kind: BackendKind,
        conn: &mut AnyConn,
    ) -> Result<Option<Position>> {
        Ok(match last_write(kind, conn).await? {
            Some(WritePosition::Lsn(text)) => parse_lsn(&text).map(Position::Lsn),
            Some(WritePosition::Gtid(text)) => parse_gtids(&text),
            None => None,
        })
    }

    /// What the replica behind `conn` has replayed, as far as it answers for `self`:
    /// PostgreSQL reports its replay location; MariaDB waits up to a short timeout
    /// (`MASTER_GTID_WAIT`) and reports `self` if it got there.
    pub(crate) async fn replayed_on(&self, conn: &mut AnyConn) -> Result<Option<Position>> {
        match self {
            Position::Lsn(_) => {
                let row = conn
                    .query_first("SELECT pg_last_wal_replay_lsn()::text AS lsn", &[])
                    .await?;
                Ok(row
                    .and_then(|r| r.get::<Option<String>>("lsn").ok().flatten())
                    .and_then(|text| parse_lsn(&text))
                    .map(Position::Lsn))
            }
            Position::Gtid(gtids) => {
                let text = gtids
                    .iter()
                    .map(|(domain, (server, seq))| format!("{domain}-{server}-{seq}"))
                    .collect::<Vec<_>>()
                    .join(",");
                let row = conn
                    .query_first(
                        "SELECT MASTER_GTID_WAIT(?, ?) AS waited",
                        &[Value::Text(text), Value::Float(GTID_WAIT_SECONDS)],
                    )
                    .await?;
                let reached = row
                    .and_then(|r| r.get::<Option<i64>>("waited").ok().flatten())
                    .is_some_and(|w| w == 0);
                Ok(reached.then(|| self.clone()))
            }
        }
    }
}

/// `16/B374D848` → the 64-bit WAL location.
fn parse_lsn(text: &str) -> Option<u64> {
    let (high, low) = text.trim().split_once('/')?;
    let high = u64::from_str_radix(high, 16).ok()?;
    let low = u64::from_str_radix(low, 16).ok()?;
    Some((high << 32) | low)
}

/// `0-1-42` or `0-1-42,1-2-7` → GTIDs by domain; `None` when empty.
fn parse_gtids(text: &str) -> Option<Position> {
    let mut out = BTreeMap::new();
    for gtid in text.split(',').map(str::trim).filter(|g| !g.is_empty()) {
        let mut parts = gtid.split('-');
        let (Some(domain), Some(server), Some(seq), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return None;
        };
        out.insert(
            domain.parse().ok()?,
            (server.parse().ok()?, seq.parse().ok()?),
        );
    }
    (!out.is_empty()).then_some(Position::Gtid(out))
}

/// A read-your-writes token: a web request or user session carries one, and every
/// [`crate::Database`] handle made with it ([`crate::Database::with_session`],
/// [`crate::Database::session`]) shares what it remembers.
///
/// After each write through such a handle (a statement, or a committed transaction or unit of
/// work) the session remembers the primary's commit position. A later read through it goes
/// only to a replica that has replayed that position — else to the primary. So a session
/// reads every write it made, and never goes back in time (reads that have seen a position
/// never go to a replica behind it). Cheap to clone; clones share the memory.
///
/// ```no_run
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> lexigram_sql::Result<()> {
/// use lexigram_sql::{Database, Session};
/// let db = Database::connect_url("postgresql://app@primary/shop").await?;
/// let session = Session::new();                 // e.g. one per web request
/// let db = db.with_session(&session);
/// db.execute("INSERT INTO notes (id, body) VALUES ($1, $2)", &[1i64.into(), "hi".into()]).await?;
/// let row = db.fetch_one("SELECT body FROM notes WHERE id = $1", &[1i64.into()]).await?;
/// println!("{} reads on replicas", session.stats().replica_reads);
/// # Ok(()) }
/// ```
#[derive(Clone, Default)]
pub struct Session {
    inner: Arc<SessionState>,
}

#[derive(Default)]
struct SessionState {
    position: Mutex<Option<Position>>,
    /// A write whose position could not be read: reads stay on the primary.
    pinned: AtomicBool,
    replica_reads: AtomicU64,
    primary_reads: AtomicU64,
}

/// Where a [`Session`]'s reads went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SessionStats {
    /// Reads a replica served.
    pub replica_reads: u64,
    /// Reads the primary served.
    pub primary_reads: u64,
}

impl SessionStats {
    /// The share of reads replicas served, from 0 to 1 (0 without reads).
    ///
    /// ```
    /// let stats = lexigram_sql::SessionStats { replica_reads: 3, primary_reads: 1 };
    /// assert_eq!(stats.replica_share(), 0.75);
    /// ```
    pub fn replica_share(&self) -> f64 {
        let total = self.replica_reads + self.primary_reads;
        if total == 0 {
            0.0
        } else {
            self.replica_reads as f64 / total as f64
        }
    }
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("position", &self.position())
            .field("stats", &self.stats())
            .finish()
    }
}

impl Session {
    /// A session that has written nothing yet.
    ///
    /// ```
    /// let session = lexigram_sql::Session::new();
    /// assert_eq!(session.stats().replica_reads, 0);
    /// ```
    pub fn new() -> Session {
        Session::default()
    }

    /// Where this session's reads went so far (counted on every handle sharing it).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> lexigram_sql::Result<()> {
    /// let session = lexigram_sql::Session::new();
    /// let db = lexigram_sql::Database::connect_url("sqlite://").await?.with_session(&session);
    /// db.fetch_one("SELECT 1 AS n", &[]).await?;
    /// // without replicas every read is the primary's, and not counted as routed
    /// assert_eq!(session.stats().replica_reads, 0);
    /// # Ok(()) }
    /// ```
    pub fn stats(&self) -> SessionStats {
        SessionStats {
            replica_reads: self.inner.replica_reads.load(Ordering::Relaxed),
            primary_reads: self.inner.primary_reads.load(Ordering::Relaxed),
        }
    }

    /// The position reads must see; `Err(())` when reads must go to the primary.
    pub(crate) fn required(&self) -> std::result::Result<Option<Position>, ()> {
        if self.inner.pinned.load(Ordering::Relaxed) {
            return Err(());
        }
        Ok(self.position())
    }

    fn position(&self) -> Option<Position> {
        self.inner.position.lock().ok().and_then(|p| p.clone())
    }

    /// Remembers the position after a write on `conn` (a primary connection).
    pub(crate) async fn record(&self, kind: BackendKind, conn: &mut AnyConn) {
        match Position::after_write(kind, conn).await {
            Ok(Some(position)) => {
                if let Ok(mut known) = self.inner.position.lock() {
                    match known.as_mut() {
                        Some(k) => k.merge(&position),
                        None => *known = Some(position),
                    }
                }
            }
            other => {
                tracing::debug!(
                    result = ?other.err().map(|e| e.to_string()),
                    "the primary did not report a commit position: this session reads from the primary"
                );
                self.inner.pinned.store(true, Ordering::Relaxed);
            }
        }
    }

    /// Counts a read.
    pub(crate) fn count(&self, on_replica: bool) {
        let counter = if on_replica {
            &self.inner.replica_reads
        } else {
            &self.inner.primary_reads
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lsns_and_gtids_parse_and_compare() {
        assert_eq!(parse_lsn("16/B374D848"), Some(0x16_B374_D848));
        assert_eq!(parse_lsn("nope"), None);
        let a = parse_gtids("0-1-42").unwrap();
        let b = parse_gtids("0-1-41,1-2-7").unwrap();
        assert!(a.covers(&parse_gtids("0-1-40").unwrap()));
        assert!(!a.covers(&b), "domain 1 unknown to a");
        let mut m = a.clone();
        m.merge(&b);
        assert!(m.covers(&a) && m.covers(&b));
        assert_eq!(parse_gtids(""), None);
        assert!(Position::Lsn(10).covers(&Position::Lsn(10)));
        assert!(!Position::Lsn(9).covers(&Position::Lsn(10)));
    }
}
