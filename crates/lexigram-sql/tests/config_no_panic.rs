//! Accepted configuration never panics: random durations and pool sizes (zero, tiny, at and
//! past the limits, near `u64::MAX` seconds) go through the config loader to
//! `Database::from_config` on SQLite and on an unreachable server. Each either fails
//! validation with a `ConfigurationError` naming the key and its source, or connects (or
//! fails with a typed error) — and no thread of the process panics, including the pool's
//! background tasks.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use lexigram::AppConfig;
use lexigram_sql::config::{MAX_DURATION, MAX_POOL_SIZE, MAX_STATEMENT_TIMEOUT, parse_duration};
use lexigram_sql::{Database, DatabaseConfig, Error};
use proptest::prelude::*;

/// Counts panics on any thread (a panic in a spawned pool task never reaches the test).
fn panics() -> usize {
    static COUNT: AtomicUsize = AtomicUsize::new(0);
    static HOOK: OnceLock<()> = OnceLock::new();
    HOOK.get_or_init(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            COUNT.fetch_add(1, Ordering::SeqCst);
            previous(info);
        }));
    });
    COUNT.load(Ordering::SeqCst)
}

fn duration_text() -> impl Strategy<Value = String> {
    const YEAR: u64 = 365 * 24 * 3600;
    const DAYS24: u64 = 24 * 24 * 3600;
    prop_oneof![
        2 => Just("0".to_string()),
        1 => Just("0ms".to_string()),
        20 => (1u64..1500).prop_map(|ms| format!("{ms}ms")),
        8 => (1u64..3).prop_map(|s| s.to_string()),
        1 => Just("1.5".to_string()),
        1 => (DAYS24 - 1..DAYS24 + 2).prop_map(|s| s.to_string()),
        1 => (YEAR - 1..YEAR + 2).prop_map(|s| s.to_string()),
        1 => (u64::MAX / 2..=u64::MAX).prop_map(|s| s.to_string()),
        1 => Just("500000y".to_string()),
    ]
}

fn min_size() -> impl Strategy<Value = u32> {
    prop_oneof![8 => 0u32..3, 1 => MAX_POOL_SIZE - 1..=MAX_POOL_SIZE + 1, 1 => Just(u32::MAX)]
}

fn max_size() -> impl Strategy<Value = u32> {
    prop_oneof![1 => Just(0), 8 => 2u32..8, 1 => MAX_POOL_SIZE - 1..=MAX_POOL_SIZE + 1, 1 => Just(u32::MAX)]
}

#[derive(Debug, Clone)]
struct Case {
    min_size: u32,
    max_size: u32,
    timeout: String,
    idle_timeout: String,
    max_lifetime: String,
    statement_timeout: String,
    slow_query_threshold: String,
    lock_timeout: String,
}

fn case() -> impl Strategy<Value = Case> {
    (
        min_size(),
        max_size(),
        duration_text(),
        duration_text(),
        duration_text(),
        duration_text(),
        duration_text(),
        duration_text(),
    )
        .prop_map(
            |(min_size, max_size, timeout, idle, lifetime, statement, slow, lock)| Case {
                min_size,
                max_size,
                timeout,
                idle_timeout: idle,
                max_lifetime: lifetime,
                statement_timeout: statement,
                slow_query_threshold: slow,
                lock_timeout: lock,
            },
        )
}

impl Case {
    /// Pool settings in the file, operations and migrations in the environment.
    fn config(&self, url: &str) -> Result<DatabaseConfig, Error> {
        let yaml = format!(
            "sql:\n  backend:\n    url: '{url}'\n  pool:\n    min_size: {}\n    max_size: {}\n    timeout: '{}'\n    idle_timeout: '{}'\n    max_lifetime: '{}'\n",
            self.min_size, self.max_size, self.timeout, self.idle_timeout, self.max_lifetime
        );
        let env = [
            (
                "LEX_SQL__OPERATIONS__STATEMENT_TIMEOUT",
                &self.statement_timeout,
            ),
            (
                "LEX_SQL__OPERATIONS__SLOW_QUERY_THRESHOLD",
                &self.slow_query_threshold,
            ),
            ("LEX_SQL__MIGRATIONS__LOCK_TIMEOUT", &self.lock_timeout),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()));
        let app = AppConfig::from_yaml_and_env(&yaml, "application.yaml", env)?;
        DatabaseConfig::from_app_config(&app)
    }

    /// The offending keys, if this case must be rejected (`None`: a duration that does not
    /// parse at all, which is rejected too but not a subject here).
    fn expected_problems(&self) -> Option<Vec<&'static str>> {
        let d = |text: &str| parse_duration(text);
        let mut problems = Vec::new();
        if self.max_size == 0 || self.max_size > MAX_POOL_SIZE || self.max_size < self.min_size {
            problems.push("max_size");
        }
        let timeout = d(&self.timeout)?;
        if timeout.is_zero() || timeout > MAX_DURATION {
            problems.push("pool.timeout");
        }
        for (key, text, limit) in [
            ("idle_timeout", &self.idle_timeout, MAX_DURATION),
            ("max_lifetime", &self.max_lifetime, MAX_DURATION),
            (
                "statement_timeout",
                &self.statement_timeout,
                MAX_STATEMENT_TIMEOUT,
            ),
            (
                "slow_query_threshold",
                &self.slow_query_threshold,
                MAX_DURATION,
            ),
            ("lock_timeout", &self.lock_timeout, MAX_DURATION),
        ] {
            if d(text)? > limit {
                problems.push(key);
            }
        }
        Some(problems)
    }
}

/// Loads, validates and connects; returns a description of what happened.
async fn drive(case: &Case, url: &str, outer: Duration) -> String {
    let config = match case.config(url) {
        Ok(config) => config,
        Err(Error::Configuration(e)) => {
            let text = e.to_string();
            if let Some(problems) = case.expected_problems() {
                assert!(!problems.is_empty(), "valid config rejected: {text}");
                assert!(
                    problems.iter().any(|key| text.contains(key)),
                    "error names none of {problems:?}: {text}"
                );
                let source = e.source_name.as_deref().unwrap_or_default();
                assert!(
                    source.contains("application.yaml key sql.")
                        || source.starts_with("env LEX_SQL__"),
                    "error names no source: {text}"
                );
            }
            return "rejected".into();
        }
        Err(other) => panic!("not a ConfigurationError: {other}"),
    };
    if let Some(problems) = case.expected_problems() {
        assert!(problems.is_empty(), "accepted {problems:?}: {config:?}");
    }
    let run = async {
        let db = Database::from_config(&config).await?;
        let result = db.fetch_one("SELECT 1 AS one", &[]).await;
        if let Ok(tx) = db.begin().await {
            tx.execute("CREATE TABLE IF NOT EXISTS t (x INTEGER)", &[])
                .await?;
            tx.execute("INSERT INTO t VALUES (1)", &[]).await?;
            tx.commit().await?;
        }
        db.close().await;
        result.map(|_| ())
    };
    match tokio::time::timeout(outer, run).await {
        Ok(Ok(())) => "connected".into(),
        Ok(Err(e)) => format!("typed error {}: {e}", e.code()),
        Err(_) => "still waiting (long pool.timeout)".into(),
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn sqlite_config_never_panics(case in case()) {
        let before = panics();
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite:///{}/p.db", dir.path().display());
        let outcome = runtime().block_on(drive(&case, &url, Duration::from_secs(10)));
        eprintln!("sqlite: {outcome}");
        prop_assert_eq!(panics(), before, "panicked: {:?} → {}", case, outcome);
        prop_assert!(!outcome.starts_with("still"), "{:?} → {}", case, outcome);
    }

    #[test]
    fn unreachable_server_config_never_panics(case in case(), mysql in any::<bool>()) {
        let before = panics();
        let url = if mysql && cfg!(feature = "mysql") {
            "mysql://u:p@127.0.0.1:1/db"
        } else if cfg!(feature = "postgres") {
            "postgresql://u:p@127.0.0.1:1/db"
        } else {
            return Ok(());
        };
        let outcome = runtime().block_on(drive(&case, url, Duration::from_secs(3)));
        eprintln!("server: {outcome}");
        prop_assert_eq!(panics(), before, "panicked: {:?} → {}", case, outcome);
    }
}
