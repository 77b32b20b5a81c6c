//! Support for the tests that need the replication topology of `scripts/topology.sh`
//! (PostgreSQL primary + 2 streaming replicas, PgBouncer, MariaDB primary + GTID replica).
//!
//! Each URL comes from an env var that `scripts/test.sh` exports. When one is missing the test
//! skips and says why, unless `LEX_TEST_REQUIRE_TOPOLOGY=1` (set by `scripts/test.sh`), which
//! makes it fail instead.
#![allow(dead_code, missing_docs, clippy::unwrap_used, clippy::expect_used)]

/// The value of a topology env var, or `None` (with a note on stderr) to skip the test.
pub fn var(name: &str) -> Option<String> {
    match std::env::var(name) {
        Ok(v) if !v.is_empty() => Some(v),
        _ => {
            assert!(
                std::env::var("LEX_TEST_REQUIRE_TOPOLOGY").as_deref() != Ok("1"),
                "{name} is not set but LEX_TEST_REQUIRE_TOPOLOGY=1: run the tests through scripts/test.sh"
            );
            eprintln!(
                "skipped: {name} is not set (scripts/test.sh starts the replication topology and sets it)"
            );
            None
        }
    }
}

/// Runs `scripts/topology.sh <command> <dir>` through `LEX_TEST_TOPOLOGY_CTL`.
pub fn control(command: &str) {
    let ctl = var("LEX_TEST_TOPOLOGY_CTL").expect("LEX_TEST_TOPOLOGY_CTL");
    let (script, dir) = ctl.rsplit_once(' ').expect("script and dir");
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("{script} {command} {dir}"))
        .status()
        .unwrap();
    assert!(status.success(), "topology {command} failed");
}

/// `url` with `param` appended to its query string.
pub fn with_param(url: &str, param: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{param}")
}

/// A unique lower-case identifier.
pub fn unique(prefix: &str) -> String {
    format!(
        "{prefix}_{}",
        uuid::Uuid::new_v4()
            .simple()
            .to_string()
            .get(..12)
            .unwrap_or("x")
    )
}

/// Sets (or, with `""`, resets) `recovery_min_apply_delay` on each replica at `replicas` and
/// waits until each reports the new value.
pub async fn apply_delay(replicas: &[String], delay: &str) {
    for url in replicas {
        let db = lexigram_sql::Database::connect_url(url).await.unwrap();
        let sql = if delay.is_empty() {
            "ALTER SYSTEM RESET recovery_min_apply_delay".to_string()
        } else {
            format!("ALTER SYSTEM SET recovery_min_apply_delay = '{delay}'")
        };
        db.execute(&sql, &[]).await.unwrap();
        db.fetch_one("SELECT pg_reload_conf()", &[]).await.unwrap();
        db.close().await;
        let want = if delay.is_empty() { "0" } else { delay };
        for attempt in 0.. {
            let db = lexigram_sql::Database::connect_url(url).await.unwrap();
            let now: String = db
                .fetch_one(
                    "SELECT current_setting('recovery_min_apply_delay') AS d",
                    &[],
                )
                .await
                .unwrap()
                .get("d")
                .unwrap();
            db.close().await;
            if now == want {
                break;
            }
            assert!(
                attempt < 100,
                "{url}: recovery_min_apply_delay is {now}, not {want}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
}
