//! Exact read-your-writes through a `Session`, with replicas in use (`scripts/topology.sh`):
//! 8 tasks × 500 times "insert, then read by key through the same session" — every read finds
//! its row — on PostgreSQL (WAL positions) and MariaDB (GTIDs); with WAL replay delayed by
//! `recovery_min_apply_delay` the share of reads served by replicas falls and correctness holds.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a panic is a failed assertion

mod topology;

use std::panic::AssertUnwindSafe;
use std::time::Instant;

use futures_util::FutureExt;
use lexigram_sql::config::{BackendKind, ReplicaConfig};
use lexigram_sql::{Database, DatabaseConfig, PoolConfig, SessionStats};

const TASKS: i64 = 8;
const ITERATIONS: i64 = 500;

async fn with_replicas(primary: &str, replicas: &[String]) -> Database {
    let mut config = DatabaseConfig::from_url(primary)
        .unwrap()
        .with_pool(PoolConfig::default().with_max_size(TASKS as u32));
    for url in replicas {
        config
            .backend
            .replicas
            .push(ReplicaConfig::new(url).unwrap());
    }
    Database::from_config(&config).await.unwrap()
}

/// Runs the workload on `table`; returns how many reads missed their row and the summed
/// session statistics.
async fn workload(db: &Database, table: &str, iterations: i64, offset: i64) -> (u64, SessionStats) {
    let (insert, select) = match db.kind() {
        BackendKind::Postgres => (
            format!("INSERT INTO {table} (id, task) VALUES ($1, $2)"),
            format!("SELECT id FROM {table} WHERE id = $1"),
        ),
        _ => (
            format!("INSERT INTO {table} (id, task) VALUES (?, ?)"),
            format!("SELECT id FROM {table} WHERE id = ?"),
        ),
    };
    let mut tasks = Vec::new();
    for task in 0..TASKS {
        let (db, insert, select) = (db.session(), insert.clone(), select.clone());
        tasks.push(tokio::spawn(async move {
            let mut missed = 0u64;
            for i in 0..iterations {
                let id = offset + task * iterations + i;
                db.execute(&insert, &[id.into(), task.into()])
                    .await
                    .unwrap();
                if db
                    .fetch_optional(&select, &[id.into()])
                    .await
                    .unwrap()
                    .is_none()
                {
                    missed += 1;
                }
            }
            (missed, db.session_token().unwrap().stats())
        }));
    }
    let mut missed = 0;
    let mut stats = SessionStats::default();
    for task in tasks {
        let (m, s) = task.await.unwrap();
        missed += m;
        stats.replica_reads += s.replica_reads;
        stats.primary_reads += s.primary_reads;
    }
    (missed, stats)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_sessions_read_their_writes_and_delayed_replay_lowers_the_replica_share() {
    if !cfg!(feature = "postgres") {
        return;
    }
    let (Some(primary), Some(replicas)) = (
        topology::var("LEX_TEST_PG_PRIMARY_URL"),
        topology::var("LEX_TEST_PG_REPLICA_URLS"),
    ) else {
        return;
    };
    let replicas: Vec<String> = replicas.split(',').map(str::to_string).collect();
    let db = with_replicas(&primary, &replicas).await;
    let table = topology::unique("ryw");
    db.execute(
        &format!("CREATE TABLE {table} (id BIGINT PRIMARY KEY, task BIGINT NOT NULL)"),
        &[],
    )
    .await
    .unwrap();

    let started = Instant::now();
    let (missed, stats) = workload(&db, &table, ITERATIONS, 0).await;
    println!(
        "read-your-writes (PostgreSQL, 2 replicas): {TASKS} tasks x {ITERATIONS}: {missed} reads missed their row; replicas served {} of {} reads ({:.1} %) in {:.2?}",
        stats.replica_reads,
        stats.replica_reads + stats.primary_reads,
        100.0 * stats.replica_share(),
        started.elapsed()
    );
    assert_eq!(missed, 0);
    assert_eq!(
        stats.replica_reads + stats.primary_reads,
        (TASKS * ITERATIONS) as u64
    );
    assert!(stats.replica_reads > 0, "replicas were used");

    topology::apply_delay(&replicas, "200ms").await;
    let delayed = AssertUnwindSafe(workload(&db, &table, ITERATIONS / 5, TASKS * ITERATIONS))
        .catch_unwind()
        .await;
    topology::apply_delay(&replicas, "").await;
    let (missed_delayed, delayed) = delayed.unwrap_or_else(|p| std::panic::resume_unwind(p));
    println!(
        "read-your-writes (PostgreSQL, recovery_min_apply_delay = 200ms): {TASKS} tasks x {}: {missed_delayed} reads missed their row; replicas served {} of {} reads ({:.1} %)",
        ITERATIONS / 5,
        delayed.replica_reads,
        delayed.replica_reads + delayed.primary_reads,
        100.0 * delayed.replica_share()
    );
    assert_eq!(missed_delayed, 0);
    assert!(
        delayed.replica_share() < stats.replica_share(),
        "the replica share falls with delayed replay"
    );
    db.execute(&format!("DROP TABLE {table}"), &[])
        .await
        .unwrap();
    db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mariadb_sessions_read_their_writes_through_gtids() {
    if !cfg!(feature = "mysql") {
        return;
    }
    let (Some(primary), Some(replica)) = (
        topology::var("LEX_TEST_MYSQL_PRIMARY_URL"),
        topology::var("LEX_TEST_MYSQL_REPLICA_URL"),
    ) else {
        return;
    };
    let db = with_replicas(&primary, &[replica]).await;
    let table = topology::unique("ryw");
    db.execute(
        &format!("CREATE TABLE {table} (id BIGINT PRIMARY KEY, task BIGINT NOT NULL)"),
        &[],
    )
    .await
    .unwrap();
    let started = Instant::now();
    let (missed, stats) = workload(&db, &table, ITERATIONS, 0).await;
    println!(
        "read-your-writes (MariaDB GTID, 1 replica): {TASKS} tasks x {ITERATIONS}: {missed} reads missed their row; the replica served {} of {} reads ({:.1} %) in {:.2?}",
        stats.replica_reads,
        stats.replica_reads + stats.primary_reads,
        100.0 * stats.replica_share(),
        started.elapsed()
    );
    assert_eq!(missed, 0);
    assert!(stats.replica_reads > 0, "the replica was used");
    db.execute(&format!("DROP TABLE {table}"), &[])
        .await
        .unwrap();
    db.close().await;
}
