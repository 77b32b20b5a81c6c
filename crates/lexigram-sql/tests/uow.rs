//! Units of work on every backend: commit or roll back, drop, savepoints, change tracking,
//! outbox, retry of whole transactions, cancellation.
#![allow(clippy::unwrap_used, clippy::expect_used)] // helpers outside #[test] fns assert too

mod common;

use std::time::Duration;

use lexigram_sql::config::BackendKind;
use lexigram_sql::repository::Filter;
use lexigram_sql::uow::{Outbox, RetryPolicy};
use lexigram_sql::{Database, Entity, Error};

#[derive(Debug, Clone, PartialEq, Entity)]
#[entity(table = "accounts")]
struct Account {
    #[entity(key)]
    id: i64,
    owner: String,
    balance: i64,
    #[entity(version)]
    version: i64,
}

fn ddl(kind: BackendKind) -> &'static str {
    match kind {
        BackendKind::MySql => {
            "CREATE TABLE accounts (id BIGINT PRIMARY KEY, owner VARCHAR(100) NOT NULL, balance BIGINT NOT NULL, version BIGINT NOT NULL) ENGINE=InnoDB"
        }
        _ => {
            "CREATE TABLE accounts (id BIGINT PRIMARY KEY, owner TEXT NOT NULL, balance BIGINT NOT NULL, version BIGINT NOT NULL)"
        }
    }
}

async fn setup(t: &common::TestDb) -> Database {
    let mut settings = t.config().backends().unwrap().remove(0);
    settings.pool.max_size = 12;
    let db = Database::connect(settings).await.unwrap();
    db.execute_batch(ddl(t.kind)).await.unwrap();
    db
}

fn account(id: i64, balance: i64) -> Account {
    Account {
        id,
        owner: format!("owner{id}"),
        balance,
        version: 0,
    }
}

async fn count(db: &Database) -> u64 {
    db.repository::<Account>()
        .count(Filter::all())
        .await
        .unwrap()
}

async fn settle(db: &Database) {
    for _ in 0..100 {
        if db.pool_stats().in_use == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

common::per_backend!(
    async fn dropped_without_commit_rolls_back_and_commit_persists(t) {
        let db = setup(&t).await;
        {
            let uow = db.unit_of_work().await.unwrap();
            let repo = uow.repository::<Account>();
            repo.create(account(1, 10)).await.unwrap();
            repo.create(account(2, 10)).await.unwrap();
        }
        settle(&db).await;
        assert_eq!(
            count(&db).await,
            0,
            "{}: nothing persisted without commit",
            t.name()
        );

        let mut uow = db.unit_of_work().await.unwrap();
        uow.repository::<Account>()
            .create(account(1, 10))
            .await
            .unwrap();
        uow.repository::<Account>()
            .create(account(2, 10))
            .await
            .unwrap();
        uow.commit().await.unwrap();
        assert_eq!(count(&db).await, 2, "{}", t.name());

        let err = uow
            .repository::<Account>()
            .create(account(3, 1))
            .await
            .unwrap_err();
        assert_eq!(err.code(), "LEX_ERR_SQL_015", "{}: {err}", t.name());
        let err = uow.commit().await.unwrap_err();
        assert!(err.to_string().contains("already committed"), "{err}");
    }
);

common::per_backend!(
    async fn registered_changes_flush_in_order_and_a_conflict_rolls_everything_back(t) {
        let db = setup(&t).await;
        let repo = db.repository::<Account>();
        let a = repo.create(account(1, 100)).await.unwrap();
        let b = repo.create(account(2, 100)).await.unwrap();

        let mut uow = db.unit_of_work().await.unwrap();
        uow.register_new(account(3, 5));
        let mut a2 = a.clone();
        a2.balance = 50;
        uow.register_dirty(a2);
        uow.register_deleted(b.clone());
        uow.commit().await.unwrap();
        assert_eq!(repo.find_one(1).await.unwrap().balance, 50, "{}", t.name());
        assert_eq!(repo.find_one(1).await.unwrap().version, 2);
        assert!(
            repo.find_by(lexigram_sql::repository::col("id").eq(2))
                .await
                .unwrap()
                .is_none()
        );
        assert_eq!(repo.find_one(3).await.unwrap().balance, 5);

        // `a` is stale (version 1): its update conflicts and the insert queued before it is undone.
        let mut uow = db.unit_of_work().await.unwrap();
        uow.register_new(account(4, 1));
        uow.register_dirty(a.clone());
        let err = uow.commit().await.unwrap_err();
        assert!(
            matches!(err, Error::OptimisticLock { .. }),
            "{}: {err:?}",
            t.name()
        );
        assert!(err.to_string().contains("Version mismatch"));
        assert!(
            repo.find_by(lexigram_sql::repository::col("id").eq(4))
                .await
                .unwrap()
                .is_none(),
            "{}",
            t.name()
        );
    }
);

common::per_backend!(
    async fn savepoint_rolled_back_keeps_the_outer_writes(t) {
        let db = setup(&t).await;
        let mut uow = db.unit_of_work().await.unwrap();
        uow.repository::<Account>()
            .create(account(1, 1))
            .await
            .unwrap();
        let inner = uow.savepoint().await.unwrap();
        uow.repository::<Account>()
            .create(account(2, 1))
            .await
            .unwrap();
        inner.rollback().await.unwrap();
        uow.commit().await.unwrap();
        let ids: Vec<i64> = db
            .repository::<Account>()
            .find_many(Filter::all())
            .await
            .unwrap()
            .iter()
            .map(|a| a.id)
            .collect();
        assert_eq!(ids, vec![1], "{}", t.name());
    }
);

common::per_backend!(
    async fn events_reach_the_outbox_exactly_once_and_only_on_commit(t) {
        let db = setup(&t).await;
        let outbox = Outbox::new(&db);
        let before = outbox.all().await.unwrap().len();

        let mut uow = db.unit_of_work().await.unwrap();
        uow.repository::<Account>()
            .create(account(1, 1))
            .await
            .unwrap();
        uow.register_event("AccountOpened", &serde_json::json!({"id": 1}))
            .unwrap();
        uow.rollback().await.unwrap();
        {
            let mut dropped = db.unit_of_work().await.unwrap();
            dropped
                .register_event("AccountOpened", &serde_json::json!({"id": 2}))
                .unwrap();
        }
        settle(&db).await;
        assert_eq!(outbox.all().await.unwrap().len(), before, "{}", t.name());

        let mut uow = db.unit_of_work().await.unwrap();
        uow.repository::<Account>()
            .create(account(3, 1))
            .await
            .unwrap();
        uow.register_event("AccountOpened", &serde_json::json!({"id": 3}))
            .unwrap();
        uow.commit().await.unwrap();
        let events = outbox.pending(100).await.unwrap();
        let ours: Vec<_> = events
            .iter()
            .filter(|e| e.payload == serde_json::json!({"id": 3}))
            .collect();
        assert_eq!(ours.len(), 1, "{}", t.name());
        assert_eq!(ours[0].event_type, "AccountOpened");
        assert_eq!(outbox.mark_published(&[ours[0].id]).await.unwrap(), 1);
        assert_eq!(
            outbox.mark_published(&[ours[0].id]).await.unwrap(),
            0,
            "published once"
        );
    }
);

common::per_backend!(
    async fn concurrent_transfers_with_retry_keep_the_total(t) {
        let db = setup(&t).await;
        const ACCOUNTS: i64 = 5;
        for id in 1..=ACCOUNTS {
            db.repository::<Account>()
                .create(account(id, 1000))
                .await
                .unwrap();
        }
        let ph = |n| {
            let mut s = String::new();
            db.dialect().push_placeholder(&mut s, n);
            s
        };
        let debit = format!(
            "UPDATE accounts SET balance = balance - {} WHERE id = {}",
            ph(1),
            ph(2)
        );
        let credit = format!(
            "UPDATE accounts SET balance = balance + {} WHERE id = {}",
            ph(1),
            ph(2)
        );
        let log_ddl = match t.kind {
            BackendKind::MySql => "CREATE TABLE transfers (id BIGINT PRIMARY KEY) ENGINE=InnoDB",
            _ => "CREATE TABLE transfers (id BIGINT PRIMARY KEY)",
        };
        db.execute_batch(log_ddl).await.unwrap();
        let record = format!("INSERT INTO transfers (id) VALUES ({})", ph(1));

        let mut tasks = Vec::new();
        for task in 0..8i64 {
            let (db, debit, credit, record) =
                (db.clone(), debit.clone(), credit.clone(), record.clone());
            tasks.push(tokio::spawn(async move {
                let mut seed = task as u64 * 7919 + 1;
                for i in 0..100i64 {
                    seed = seed
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    let from = (seed >> 33) as i64 % ACCOUNTS + 1;
                    let to = (from + (seed >> 40) as i64 % (ACCOUNTS - 1)) % ACCOUNTS + 1;
                    let amount = (seed >> 50) as i64 % 50 + 1;
                    let id = task * 1000 + i;
                    let (debit, credit, record) = (debit.clone(), credit.clone(), record.clone());
                    db.retry_transaction(RetryPolicy::attempts(50), move |tx| {
                        let (debit, credit, record) =
                            (debit.clone(), credit.clone(), record.clone());
                        async move {
                            tx.execute(&debit, &[amount.into(), from.into()]).await?;
                            tx.execute(&credit, &[amount.into(), to.into()]).await?;
                            tx.execute(&record, &[id.into()]).await?;
                            Ok(())
                        }
                    })
                    .await
                    .unwrap();
                }
            }));
        }
        let started = std::time::Instant::now();
        for task in tasks {
            task.await.unwrap();
        }
        eprintln!("{}: 800 transfers in {:?}", t.name(), started.elapsed());
        let total: i64 = db
            .fetch_one("SELECT SUM(balance) AS s FROM accounts", &[])
            .await
            .unwrap()
            .get("s")
            .unwrap();
        assert_eq!(total, ACCOUNTS * 1000, "{}", t.name());
        let applied: i64 = common::row_count(&db, "transfers").await;
        assert_eq!(
            applied,
            800,
            "{}: every transfer applied exactly once",
            t.name()
        );
    }
);

common::per_backend!(
    async fn retry_gives_up_after_the_bound_and_other_errors_return_at_once(t) {
        let db = setup(&t).await;
        let mut calls = 0;
        let err = db
            .retry_transaction(RetryPolicy::attempts(3), |_tx| {
                calls += 1;
                async {
                    Err::<(), _>(Error::Conflict {
                        kind: lexigram_sql::ConflictKind::Deadlock,
                        detail: "test".into(),
                    })
                }
            })
            .await
            .unwrap_err();
        assert_eq!(calls, 3);
        assert_eq!(err.code(), "LEX_ERR_SQL_006");
        let mut calls = 0;
        let err = db
            .retry_transaction(RetryPolicy::attempts(3), |tx| {
                calls += 1;
                async move {
                    tx.execute("SELECT * FROM no_such_table_here", &[])
                        .await
                        .map(drop)
                }
            })
            .await
            .unwrap_err();
        assert_eq!(calls, 1, "{}", t.name());
        assert_eq!(err.code(), "LEX_ERR_SQL_010");
    }
);

common::per_backend!(
    async fn a_thousand_cancelled_units_leak_nothing(t) {
        let db = setup(&t).await;
        let slow = match t.kind {
            BackendKind::Sqlite => {
                "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 20000) SELECT SUM(x) FROM n"
            }
            BackendKind::Postgres => "SELECT pg_sleep(0.05)",
            BackendKind::MySql => "SELECT SLEEP(0.05)",
        };
        let mut cancelled = 0;
        for i in 0..1000i64 {
            let db2 = db.clone();
            let work = async move {
                let uow = db2.unit_of_work().await?;
                uow.repository::<Account>().create(account(i, 1)).await?;
                uow.transaction().fetch_all(slow, &[]).await?;
                Ok::<_, Error>(uow)
            };
            // Cancel mid-statement: the future is dropped while the unit is open.
            if tokio::time::timeout(Duration::from_micros(200 + (i as u64 % 7) * 100), work)
                .await
                .is_err()
            {
                cancelled += 1;
            }
        }
        // SQLite statements run to completion on the calling task, so its units can only be
        // cancelled between statements; server statements are cancelled mid-flight.
        // (Either way every unit ends uncommitted: cancelled, or returned and dropped.)
        if t.kind != BackendKind::Sqlite {
            assert!(
                cancelled > 500,
                "{}: units were cancelled ({cancelled})",
                t.name()
            );
        }
        settle(&db).await;
        assert_eq!(
            db.pool_stats().in_use,
            0,
            "{}: no leaked connection",
            t.name()
        );
        settle(&db).await;
        let kept = count(&db).await;
        assert_eq!(kept, 0, "{}: no cancelled unit committed", t.name());
        let mut uow = db.unit_of_work().await.unwrap();
        uow.repository::<Account>()
            .create(account(-1, 1))
            .await
            .unwrap();
        uow.commit().await.unwrap();
        assert_eq!(count(&db).await, 1, "{}", t.name());
    }
);
