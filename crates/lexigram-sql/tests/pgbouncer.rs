//! Behind PgBouncer in transaction pooling mode (`scripts/topology.sh`):
//! with `statement_cache=false` repositories, units of work, streams and migrations run
//! 16 tasks × 200 operations without one "prepared statement" error; with the cache on, the
//! error PgBouncer causes is `Error::PreparedStatementLost`, whose message names the option.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a panic is a failed assertion
#![cfg(feature = "postgres")]

mod topology;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use futures_util::TryStreamExt;
use lexigram_sql::migrate::{MigrationSource, Migrator};
use lexigram_sql::repository::{Query, Record, col};
use lexigram_sql::{Database, DatabaseConfig, Error, PoolConfig};

const TASKS: usize = 16;
const OPERATIONS: usize = 200;

async fn bouncer(cache: bool, max_size: u32) -> Option<Database> {
    let url = topology::var("LEX_TEST_PGBOUNCER_URL")?;
    let url = topology::with_param(&url, &format!("statement_cache={cache}"));
    let config = DatabaseConfig::from_url(&url).unwrap().with_pool(
        PoolConfig::default()
            .with_max_size(max_size)
            .with_min_size(1),
    );
    Some(Database::from_config(&config).await.unwrap())
}

/// One of eight kinds of operation, by `i % 8`.
async fn operation(db: &Database, table: &str, task: usize, i: usize) -> lexigram_sql::Result<()> {
    let t = db.table(table);
    let key = (task * OPERATIONS + i) as i64;
    match i % 8 {
        0 => {
            t.create(
                Record::new()
                    .set("id", key)
                    .set("task", task as i64)
                    .set("name", format!("n{key}"))
                    .set("price", rust_decimal::Decimal::new(key * 7 + 1, 2)),
            )
            .await?;
        }
        1 => {
            let row = t.find_one(key - 1).await?;
            assert_eq!(row.get::<String>("name")?, format!("n{}", key - 1));
        }
        2 => {
            t.update(key - 2, Record::new().set("name", format!("u{}", key - 2)))
                .await?;
        }
        3 => {
            t.count(Query::new().filter(col("task").eq(task as i64)))
                .await?;
        }
        4 => {
            let mut uow = db.unit_of_work().await?;
            uow.table(table)
                .create(
                    Record::new()
                        .set("id", -key)
                        .set("task", task as i64)
                        .set("name", "uow")
                        .set("price", rust_decimal::Decimal::new(1, 0)),
                )
                .await?;
            uow.commit().await?;
        }
        5 => {
            let rows: Vec<_> = db
                .fetch_stream(
                    &format!("SELECT id, name FROM {table} WHERE task = $1 ORDER BY id"),
                    &[(task as i64).into()],
                )
                .await?
                .try_collect()
                .await?;
            assert!(!rows.is_empty());
        }
        6 => {
            t.find_many(Query::new().filter(col("task").eq(task as i64)).limit(5))
                .await?;
        }
        _ => {
            let row = db
                .fetch_one(
                    "SELECT $1::int8 + 1 AS n, $2::numeric(10,2) AS d, $3 || 'x' AS s, $4::timestamptz AS ts",
                    &[
                        key.into(),
                        rust_decimal::Decimal::new(1234, 2).into(),
                        "a'b".into(),
                        chrono::Utc::now().into(),
                    ],
                )
                .await?;
            assert_eq!(row.get::<i64>("n")?, key + 1);
            assert_eq!(row.get::<String>("s")?, "a'bx");
        }
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statement_cache_off_behind_pgbouncer_runs_16_tasks_of_200_operations() {
    let Some(db) = bouncer(false, TASKS as u32).await else {
        return;
    };
    let table = topology::unique("pb_items");
    db.execute(
        &format!(
            "CREATE TABLE {table} (id BIGINT PRIMARY KEY, task BIGINT NOT NULL, name TEXT NOT NULL, price NUMERIC(12,2) NOT NULL)"
        ),
        &[],
    )
    .await
    .unwrap();

    let errors = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for task in 0..TASKS {
        let (db, table, errors) = (db.clone(), table.clone(), Arc::clone(&errors));
        tasks.push(tokio::spawn(async move {
            for i in 0..OPERATIONS {
                if let Err(e) = operation(&db, &table, task, i).await {
                    errors.fetch_add(1, Ordering::Relaxed);
                    eprintln!("task {task} op {i}: {e}");
                }
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let elapsed = started.elapsed();
    let errors = errors.load(Ordering::Relaxed);
    println!(
        "pgbouncer (transaction mode, statement_cache=false): {TASKS} tasks x {OPERATIONS} operations in {elapsed:.2?}, {errors} errors"
    );
    assert_eq!(errors, 0);
    let stored: i64 = db
        .fetch_one(&format!("SELECT COUNT(*) AS n FROM {table}"), &[])
        .await
        .unwrap()
        .get("n")
        .unwrap();
    assert_eq!(stored, (TASKS * OPERATIONS / 8 * 2) as i64);
    db.execute(&format!("DROP TABLE {table}"), &[])
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrations_behind_pgbouncer_apply_once_with_two_migrators() {
    let (Some(a), Some(b)) = (bouncer(false, 3).await, bouncer(false, 3).await) else {
        return;
    };
    let name = topology::unique("pb_mig");
    let files = [
        (
            "1_first.up.sql".to_string(),
            format!("CREATE TABLE {name}_a (id BIGINT PRIMARY KEY);"),
        ),
        (
            "1_first.down.sql".to_string(),
            format!("DROP TABLE {name}_a;"),
        ),
        (
            "2_second.up.sql".to_string(),
            format!("CREATE TABLE {name}_b (id BIGINT PRIMARY KEY);"),
        ),
        (
            "2_second.down.sql".to_string(),
            format!("DROP TABLE {name}_b;"),
        ),
    ];
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(f, s)| (f.as_str(), s.as_str()))
        .collect();
    let source = MigrationSource::from_static(&refs).unwrap();
    let table = format!("{name}_versions");
    let run = |db: Database| {
        let (source, table) = (source.clone(), table.clone());
        async move {
            Migrator::new(&db, source)
                .with_table(table)
                .upgrade(None)
                .await
        }
    };
    let (ra, rb) = tokio::join!(run(a.clone()), run(b.clone()));
    let applied = ra.unwrap().steps.len() + rb.unwrap().steps.len();
    assert_eq!(applied, 2, "each migration applied exactly once");
    let status = Migrator::new(&a, source.clone())
        .with_table(table.clone())
        .status()
        .await
        .unwrap();
    assert!(status.pending().is_empty());
    // The lock was released: a third run takes it at once and has nothing to do.
    let again = run(b.clone()).await.unwrap();
    assert!(again.steps.is_empty());
    for t in ["a", "b"] {
        a.execute(&format!("DROP TABLE {name}_{t}"), &[])
            .await
            .unwrap();
    }
    a.execute(&format!("DROP TABLE {table}"), &[])
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statement_cache_on_behind_pgbouncer_fails_typed_naming_the_option() {
    let Some(db) = bouncer(true, TASKS as u32).await else {
        return;
    };
    let mut tasks = Vec::new();
    for task in 0..TASKS {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            let mut errors = Vec::new();
            for i in 0..40 {
                // a new SQL text each time: each is prepared (named) and then executed
                let sql = format!("SELECT $1::int8 + {} AS n", task * 1000 + i);
                if let Err(e) = db.fetch_one(&sql, &[1i64.into()]).await {
                    errors.push(e);
                }
            }
            errors
        }));
    }
    let mut errors = Vec::new();
    for task in tasks {
        errors.extend(task.await.unwrap());
    }
    println!(
        "pgbouncer (transaction mode, statement_cache=true): {} of {} statements failed",
        errors.len(),
        TASKS * 40
    );
    assert!(
        !errors.is_empty(),
        "named statements behind a transaction-mode pooler should fail"
    );
    for e in &errors {
        assert!(
            matches!(e, Error::PreparedStatementLost { .. }),
            "unexpected error: {e}"
        );
        assert_eq!(e.code(), "LEX_ERR_SQL_025");
        let text = e.to_string();
        assert!(text.contains("statement_cache: false"), "{text}");
        assert!(text.contains("LEX_SQL__BACKEND__STATEMENT_CACHE"), "{text}");
        assert!(!text.contains("lexigram_test_pw"), "{text}");
    }
}
