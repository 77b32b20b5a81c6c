//! Race-free first use: 80 units of work start at once on a fresh database (PostgreSQL
//! schema, MariaDB/MySQL database), spread over 4 `Database`s (as 4 processes would be), each
//! storing an outbox event (SQLite too: its 4 `Database`s share the file's write gate). The outbox table is created lazily by the first
//! unit of work; that must happen once, behind an advisory lock on the servers, so that all
//! 80 commit and all 80 events are stored.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a panic is a failed assertion

mod common;

use lexigram_sql::Database;
use lexigram_sql::uow::Outbox;

const DATABASES: usize = 4;
const UNITS_EACH: usize = 20;

async fn first_use(t: &common::TestDb) {
    let mut dbs = Vec::new();
    for _ in 0..DATABASES {
        let mut config = t.config();
        config.pool.max_size = UNITS_EACH as u32;
        // The race is the subject, not connect speed: on a loaded 2-core machine opening 80
        // connections at once can take longer than the default 5 s.
        config.pool.connect_timeout = std::time::Duration::from_secs(30);
        config.pool.timeout = std::time::Duration::from_secs(60);
        dbs.push(Database::from_config(&config).await.unwrap());
    }
    let mut units = Vec::new();
    for db in &dbs {
        for n in 0..UNITS_EACH {
            let db = db.clone();
            units.push(tokio::spawn(async move {
                let mut uow = db.unit_of_work().await?;
                uow.register_event("Started", &serde_json::json!({ "n": n }))?;
                uow.commit().await
            }));
        }
    }
    let mut failures = Vec::new();
    for unit in units {
        if let Err(e) = unit.await.unwrap() {
            failures.push(e.to_string());
        }
    }
    common::report(
        &format!("first use {}", t.name()),
        &format!(
            "{} units of work at once on a fresh database, {} failed",
            DATABASES * UNITS_EACH,
            failures.len()
        ),
    );
    assert!(
        failures.is_empty(),
        "{}: {} failed, e.g. {:?}",
        t.name(),
        failures.len(),
        &failures[..failures.len().min(3)]
    );
    let stored = Outbox::new(&dbs[0]).all().await.unwrap().len();
    assert_eq!(stored, DATABASES * UNITS_EACH, "{}", t.name());
    for db in dbs {
        db.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eighty_first_units_of_work_at_once_all_commit() {
    for t in common::all().await {
        first_use(&t).await;
    }
}
