//! In-process query statistics: per distinct SQL text, calls, errors, rows, total / mean / p95
//! / max time, in bounded memory (the Python edition's `get_query_stats` / `get_slow_queries`).
//!
//! At most [`CAPACITY`] statements are tracked per `Database`, each with its first
//! [`MAX_SQL_CHARS`] characters of SQL and a fixed 128-bucket latency histogram (quarter-octave
//! buckets: p95 is within 19 % of the true value). When a new statement arrives at a full
//! shard, the half of that shard with the least total time (at least half) is dropped ([`QueryStats::evicted`]
//! counts them), so the statements that cost the most stay while memory stays flat however many
//! distinct texts (e.g. SQL with inlined literals) pass.

use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::sync::Mutex;
use std::time::Duration;

use rustc_hash::FxHasher;
use serde::Serialize;

/// The most distinct statements tracked per `Database`.
pub const CAPACITY: usize = 1024;
/// The characters of SQL text kept per statement (longer texts are cut, with `…`).
pub const MAX_SQL_CHARS: usize = 1024;

const SHARDS: usize = 8;
const PER_SHARD: usize = CAPACITY / SHARDS;
/// Buckets start at 2^8 ns (256 ns) and have 4 per octave up to 2^40 ns (~18 min).
const FIRST_OCTAVE: u32 = 8;
const BUCKETS: usize = 128;

type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// The statistics of one `Database`, recorded by every statement.
#[derive(Debug, Default)]
pub(crate) struct StatsRecorder {
    shards: [Mutex<Shard>; SHARDS],
}

#[derive(Debug, Default)]
struct Shard {
    entries: FxMap<u64, Entry>,
    evicted: u64,
}

#[derive(Debug)]
struct Entry {
    sql: Box<str>,
    calls: u64,
    errors: u64,
    rows: u64,
    total_ns: u64,
    max_ns: u64,
    buckets: Box<[u32; BUCKETS]>,
}

impl StatsRecorder {
    /// Records one statement's run.
    pub(crate) fn record(&self, sql: &str, elapsed: Duration, rows: u64, failed: bool) {
        let hash = {
            use std::hash::{BuildHasher, Hasher};
            let mut h = BuildHasherDefault::<FxHasher>::default().build_hasher();
            h.write(sql.as_bytes());
            h.finish()
        };
        let ns = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        let Ok(mut shard) = self.shards[(hash as usize) % SHARDS].lock() else {
            return;
        };
        if !shard.entries.contains_key(&hash) && shard.entries.len() >= PER_SHARD {
            shard.evict_half();
        }
        let entry = shard.entries.entry(hash).or_insert_with(|| Entry::new(sql));
        entry.calls += 1;
        entry.errors += u64::from(failed);
        entry.rows = entry.rows.saturating_add(rows);
        entry.total_ns = entry.total_ns.saturating_add(ns);
        entry.max_ns = entry.max_ns.max(ns);
        let bucket = &mut entry.buckets[bucket_of(ns)];
        *bucket = bucket.saturating_add(1);
    }

    /// Every tracked statement, most total time first.
    pub(crate) fn snapshot(&self) -> QueryStats {
        let mut statements = Vec::new();
        let mut evicted = 0;
        for shard in &self.shards {
            let Ok(shard) = shard.lock() else { continue };
            evicted += shard.evicted;
            statements.extend(shard.entries.values().map(Entry::stats));
        }
        statements.sort_by(|a, b| b.total_ms.total_cmp(&a.total_ms));
        QueryStats {
            tracked: statements.len(),
            capacity: CAPACITY,
            evicted,
            statements,
        }
    }

    /// Forgets everything.
    pub(crate) fn reset(&self) {
        for shard in &self.shards {
            if let Ok(mut shard) = shard.lock() {
                *shard = Shard::default();
            }
        }
    }
}

impl Shard {
    /// Keeps at most the half of the entries with the most total time.
    fn evict_half(&mut self) {
        let mut totals: Vec<u64> = self.entries.values().map(|e| e.total_ns).collect();
        let keep = totals.len() / 2;
        if keep == 0 {
            return;
        }
        let cut = totals.len() - keep;
        let (_, threshold, _) = totals.select_nth_unstable(cut);
        let threshold = *threshold;
        let before = self.entries.len();
        // Ties at the threshold go too, so at least half goes.
        self.entries.retain(|_, e| e.total_ns > threshold);
        self.evicted += (before - self.entries.len()) as u64;
    }
}

impl Entry {
    fn new(sql: &str) -> Entry {
        let sql: Box<str> = match sql.char_indices().nth(MAX_SQL_CHARS) {
            Some((cut, _)) => format!("{}…", &sql[..cut]).into(),
            None => sql.into(),
        };
        Entry {
            sql,
            calls: 0,
            errors: 0,
            rows: 0,
            total_ns: 0,
            max_ns: 0,
            buckets: Box::new([0; BUCKETS]),
        }
    }

    fn stats(&self) -> StatementStats {
        let ms = |ns: u64| ns as f64 / 1_000_000.0;
        let target = (self.calls * 95).div_ceil(100).max(1);
        let mut seen = 0u64;
        let mut p95 = self.max_ns;
        for (i, n) in self.buckets.iter().enumerate() {
            seen += u64::from(*n);
            if seen >= target {
                p95 = upper_bound(i).min(self.max_ns);
                break;
            }
        }
        StatementStats {
            sql: self.sql.to_string(),
            operation: super::operation_name(&self.sql),
            calls: self.calls,
            errors: self.errors,
            rows: self.rows,
            total_ms: ms(self.total_ns),
            mean_ms: ms(self.total_ns / self.calls.max(1)),
            p95_ms: ms(p95),
            max_ms: ms(self.max_ns),
        }
    }
}

/// The histogram bucket of a duration in nanoseconds: 4 per octave from 2^8 ns.
fn bucket_of(ns: u64) -> usize {
    let octave = 63 - ns.max(1).leading_zeros();
    if octave < FIRST_OCTAVE {
        return 0;
    }
    let quarter = (ns >> (octave - 2)) & 3;
    let index = (octave - FIRST_OCTAVE) as usize * 4 + quarter as usize;
    index.min(BUCKETS - 1)
}

/// The largest duration (ns) in bucket `index`.
fn upper_bound(index: usize) -> u64 {
    let octave = FIRST_OCTAVE + (index / 4) as u32;
    let quarter = (index % 4) as u64;
    ((4 + quarter + 1) << octave) / 4
}

/// What [`Database::query_stats`](crate::Database::query_stats) returns: every tracked
/// statement, most total time first.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> lexigram_sql::Result<()> {
/// let db = lexigram_sql::Database::connect_url("sqlite://").await?;
/// db.fetch_all("SELECT 1", &[]).await?;
/// db.fetch_all("SELECT 1", &[]).await?;
/// let stats = db.query_stats();
/// let top = &stats.top(5)[0];
/// assert_eq!((top.sql.as_str(), top.calls, top.errors), ("SELECT 1", 2, 0));
/// assert!(top.p95_ms <= top.max_ms);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Serialize)]
pub struct QueryStats {
    /// Distinct statements tracked now (at most `capacity`).
    pub tracked: usize,
    /// The most distinct statements tracked ([`CAPACITY`]).
    pub capacity: usize,
    /// Statements dropped to stay within `capacity` (the least total time first).
    pub evicted: u64,
    /// The statements, most total time first.
    pub statements: Vec<StatementStats>,
}

impl QueryStats {
    /// The `n` statements with the most total time.
    pub fn top(&self, n: usize) -> &[StatementStats] {
        &self.statements[..n.min(self.statements.len())]
    }

    /// The statements whose p95 is at least `threshold` (e.g. the backend's
    /// `operations.slow_query_threshold`), slowest p95 first: the Python edition's
    /// `get_slow_queries`.
    pub fn slow(&self, threshold: Duration) -> Vec<&StatementStats> {
        let ms = threshold.as_secs_f64() * 1000.0;
        let mut slow: Vec<_> = self.statements.iter().filter(|s| s.p95_ms >= ms).collect();
        slow.sort_by(|a, b| b.p95_ms.total_cmp(&a.p95_ms));
        slow
    }
}

/// The figures of one distinct SQL text.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatementStats {
    /// The SQL with its placeholders (never parameter values), cut at [`MAX_SQL_CHARS`].
    pub sql: String,
    /// Its first keyword (`SELECT`, `INSERT`, …, `OTHER`).
    pub operation: &'static str,
    /// Runs.
    pub calls: u64,
    /// Runs that failed.
    pub errors: u64,
    /// Rows returned or affected, summed.
    pub rows: u64,
    /// Time spent in all runs, in milliseconds.
    pub total_ms: f64,
    /// `total_ms / calls`.
    pub mean_ms: f64,
    /// 95th percentile of a run's time (histogram upper bound, within 19 %).
    pub p95_ms: f64,
    /// The slowest run.
    pub max_ms: f64,
}

#[cfg(test)]
mod tests;
