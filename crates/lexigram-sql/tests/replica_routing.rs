//! Read replicas (`scripts/topology.sh`: a PostgreSQL primary with 2 streaming replicas, a
//! MariaDB primary with 1 GTID replica): where each kind of statement runs, spreading reads
//! over both replicas (the replicas' own `pg_stat_database` counters), skipping replicas that
//! are down, and the health report.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a panic is a failed assertion

#[path = "common/capture.rs"]
mod capture;
mod topology;

use std::time::Duration;

use lexigram_sql::config::ReplicaConfig;
use lexigram_sql::{Database, DatabaseConfig, HealthStatus};

/// The primary at `primary` with these replicas.
async fn with_replicas(primary: &str, replicas: &[String]) -> Database {
    let mut config = DatabaseConfig::from_url(primary).unwrap();
    for url in replicas {
        config
            .backend
            .replicas
            .push(ReplicaConfig::new(url).unwrap());
    }
    Database::from_config(&config).await.unwrap()
}

fn pg_topology() -> Option<(String, Vec<String>)> {
    if !cfg!(feature = "postgres") {
        return None;
    }
    let primary = topology::var("LEX_TEST_PG_PRIMARY_URL")?;
    let replicas = topology::var("LEX_TEST_PG_REPLICA_URLS")?
        .split(',')
        .map(str::to_string)
        .collect();
    Some((primary, replicas))
}

/// Waits until every replica has the table (the test's DDL is replicated asynchronously).
async fn wait_for_table(replicas: &[String], table: &str) {
    for url in replicas {
        let replica = Database::connect_url(url).await.unwrap();
        let sql = format!("SELECT to_regclass('{table}') IS NOT NULL AS there");
        for attempt in 0.. {
            let there: bool = replica
                .fetch_one(&sql, &[])
                .await
                .unwrap()
                .get("there")
                .unwrap();
            if there {
                break;
            }
            assert!(attempt < 500, "{table} never reached {url}");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        replica.close().await;
    }
}

/// `(xact_commit, tup_inserted)` of the test database on the server at `url`, read on a new
/// connection after the server has flushed the statistics of closed sessions.
async fn counters(url: &str) -> (i64, i64) {
    let db = Database::connect_url(url).await.unwrap();
    let row = db
        .fetch_one(
            "SELECT xact_commit, tup_inserted FROM pg_stat_database WHERE datname = current_database()",
            &[],
        )
        .await
        .unwrap();
    db.close().await;
    (
        row.get("xact_commit").unwrap(),
        row.get("tup_inserted").unwrap(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_spread_over_both_replicas_while_writes_reach_only_the_primary() {
    let Some((primary, replicas)) = pg_topology() else {
        return;
    };
    let table = topology::unique("spread");
    let setup = Database::connect_url(&primary).await.unwrap();
    setup
        .execute(
            &format!("CREATE TABLE {table} (id BIGINT PRIMARY KEY, v TEXT)"),
            &[],
        )
        .await
        .unwrap();
    setup
        .execute(&format!("INSERT INTO {table} VALUES (0, 'zero')"), &[])
        .await
        .unwrap();
    setup.close().await;
    wait_for_table(&replicas, &table).await;

    // Sessions that ended have flushed their statistics by the time they are gone.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before: Vec<_> = futures_util::future::join_all(
        std::iter::once(&primary)
            .chain(&replicas)
            .map(|u| counters(u)),
    )
    .await;

    const READS: i64 = 200;
    const WRITES: i64 = 100;
    let db = with_replicas(&primary, &replicas).await;
    for i in 1..=WRITES {
        db.execute(
            &format!("INSERT INTO {table} VALUES ($1, $2)"),
            &[i.into(), format!("v{i}").into()],
        )
        .await
        .unwrap();
    }
    for _ in 0..READS {
        let row = db
            .fetch_one(
                &format!("SELECT v FROM {table} WHERE id = $1"),
                &[0i64.into()],
            )
            .await
            .unwrap();
        assert_eq!(row.get::<String>("v").unwrap(), "zero");
    }
    db.close().await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let after: Vec<_> = futures_util::future::join_all(
        std::iter::once(&primary)
            .chain(&replicas)
            .map(|u| counters(u)),
    )
    .await;

    let inserted = |i: usize| after[i].1 - before[i].1;
    let commits = |i: usize| after[i].0 - before[i].0;
    println!(
        "pg_stat_database deltas: primary xact_commit +{} tup_inserted +{}; replica 1 xact_commit +{} tup_inserted +{}; replica 2 xact_commit +{} tup_inserted +{} ({READS} reads, {WRITES} writes)",
        commits(0),
        inserted(0),
        commits(1),
        inserted(1),
        commits(2),
        inserted(2)
    );
    assert!(inserted(0) >= WRITES, "the writes reached the primary");
    for replica in [1, 2] {
        assert_eq!(inserted(replica), 0, "no write reached replica {replica}");
        // round-robin: about READS / 2 each (plus this test's own few statements)
        assert!(
            commits(replica) >= READS / 2 - 10,
            "replica {replica} served {} reads",
            commits(replica)
        );
    }
    // The reads did not go to the primary: it committed the writes and few else.
    assert!(commits(0) < WRITES + READS / 4, "{}", commits(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_locks_transactions_and_primary_run_on_the_primary() {
    let Some((primary, replicas)) = pg_topology() else {
        return;
    };
    let table = topology::unique("route");
    let db = with_replicas(&primary, &replicas).await;
    db.execute(
        &format!("CREATE TABLE {table} (id BIGINT PRIMARY KEY)"),
        &[],
    )
    .await
    .unwrap();
    db.execute(&format!("INSERT INTO {table} VALUES (1)"), &[])
        .await
        .unwrap();
    wait_for_table(&replicas, &table).await;
    let on_replica = |sql: String| {
        let db = db.clone();
        async move {
            db.fetch_one(&sql, &[])
                .await
                .unwrap()
                .get::<bool>("r")
                .unwrap()
        }
    };
    let probe = format!("SELECT pg_is_in_recovery() AS r FROM {table} WHERE id = 1");
    assert!(
        on_replica(probe.clone()).await,
        "a plain read runs on a replica"
    );
    assert!(
        !on_replica(format!("{probe} FOR UPDATE")).await,
        "FOR UPDATE on the primary"
    );
    assert!(
        !on_replica(format!("{probe} FOR SHARE")).await,
        "FOR SHARE on the primary"
    );
    let forced: bool = db
        .primary()
        .fetch_one(&probe, &[])
        .await
        .unwrap()
        .get("r")
        .unwrap();
    assert!(!forced, "db.primary() reads on the primary");
    let forced: bool = db
        .replica()
        .fetch_one(&probe, &[])
        .await
        .unwrap()
        .get("r")
        .unwrap();
    assert!(forced, "db.replica() reads on a replica");
    // an INSERT … RETURNING through fetch_one is a write
    let row = db
        .fetch_one(
            &format!("INSERT INTO {table} VALUES (2) RETURNING pg_is_in_recovery() AS r"),
            &[],
        )
        .await
        .unwrap();
    assert!(!row.get::<bool>("r").unwrap());
    let tx = db.begin().await.unwrap();
    let r: bool = tx.fetch_one(&probe, &[]).await.unwrap().get("r").unwrap();
    tx.rollback().await.unwrap();
    assert!(!r, "transactions run on the primary");
    let uow = db.unit_of_work().await.unwrap();
    let r: bool = uow
        .executor()
        .fetch_one(&probe, &[])
        .await
        .unwrap()
        .get("r")
        .unwrap();
    drop(uow);
    assert!(!r, "units of work run on the primary");
    // repository reads count as replica reads
    let reads = |db: &Database| {
        let db = db.clone();
        async move {
            db.health_check()
                .await
                .replicas
                .iter()
                .map(|r| r.reads)
                .sum::<u64>()
        }
    };
    let before = reads(&db).await;
    let t = db.table(&table);
    // No session here: a replica may not have the rows yet, so only where the reads ran
    // is checked.
    t.count(lexigram_sql::repository::Query::new())
        .await
        .unwrap();
    t.find_many(lexigram_sql::repository::Query::new())
        .await
        .unwrap();
    assert_eq!(
        reads(&db).await,
        before + 2,
        "repository count and find on replicas"
    );
    db.execute(&format!("DROP TABLE {table}"), &[])
        .await
        .unwrap();
}

#[tokio::test]
async fn replicas_that_are_down_are_skipped_and_with_none_reads_go_to_the_primary_with_one_warn() {
    let Some((primary, replicas)) = pg_topology() else {
        return;
    };
    let capture = capture::Capture::default();
    let subscriber = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_writer(capture.clone())
        .with_max_level(tracing::Level::WARN)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    // Nothing listens on port 1 of the loopback: a replica that is down.
    let down = primary.replacen(
        &primary
            .split('@')
            .nth(1)
            .unwrap()
            .split('/')
            .next()
            .unwrap()
            .to_string(),
        "127.0.0.1:1",
        1,
    );
    let db = with_replicas(&primary, &[down.clone(), replicas[0].clone()]).await;
    for _ in 0..20 {
        let r: bool = db
            .fetch_one("SELECT pg_is_in_recovery() AS r", &[])
            .await
            .unwrap()
            .get("r")
            .unwrap();
        assert!(r, "every read went to the replica that is up");
    }
    let health = db.health_check().await;
    assert_eq!(health.replicas.len(), 2);
    assert_eq!(health.replicas[0].status, HealthStatus::Down);
    assert_eq!(health.replicas[0].target, "127.0.0.1:1");
    assert!(health.replicas[0].error.is_some());
    assert_eq!(health.replicas[1].status, HealthStatus::Up);
    assert!(health.replicas[1].lag_seconds.is_some());
    let json = lexigram_sql::HealthReport::new(vec![health.clone()]).to_json();
    assert!(json.contains("\"lag_seconds\""), "{json}");
    assert!(!json.contains("lexigram_test_pw"), "{json}");
    println!("{}", lexigram_sql::HealthReport::new(vec![health]));
    db.close().await;

    let db = with_replicas(&primary, &[down]).await;
    for _ in 0..20 {
        let r: bool = db
            .fetch_one("SELECT pg_is_in_recovery() AS r", &[])
            .await
            .unwrap()
            .get("r")
            .unwrap();
        assert!(!r, "with no replica up, reads go to the primary");
    }
    db.close().await;
    let logged = String::from_utf8_lossy(&capture.0.lock().unwrap()).into_owned();
    let warns = logged.matches("no read replica is available").count();
    assert_eq!(warns, 1, "one rate-limited WARN for 20 reads:\n{logged}");
    assert!(!logged.contains("lexigram_test_pw"), "{logged}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mariadb_reads_go_to_the_gtid_replica() {
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
    let id = |sql: &'static str, db: Database| async move {
        db.fetch_one(sql, &[])
            .await
            .unwrap()
            .get::<i64>("id")
            .unwrap()
    };
    assert_eq!(id("SELECT @@server_id AS id", db.clone()).await, 2);
    assert_eq!(id("SELECT @@server_id AS id", db.primary()).await, 1);
    let health = db.health_check().await;
    assert_eq!(health.replicas[0].status, HealthStatus::Up, "{health:?}");
    assert!(health.replicas[0].lag_seconds.is_some(), "{health:?}");
    db.close().await;
}
