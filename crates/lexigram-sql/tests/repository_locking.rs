//! Optimistic locking on every backend: two writers of one row, and many concurrent writers
//! through the retry helper.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a panic is a failed assertion

mod common;

use std::time::Instant;

use lexigram_sql::config::BackendKind;
use lexigram_sql::{Database, DatabaseConfig, Entity, Error};

#[derive(Debug, Clone, Entity)]
struct Counter {
    #[entity(key)]
    id: i64,
    label: String,
    n: i64,
    #[entity(version)]
    version: i32,
}

async fn setup(db: &Database) {
    db.execute(
        "CREATE TABLE counters (id BIGINT PRIMARY KEY, label VARCHAR(50) NOT NULL, n BIGINT NOT NULL, version INTEGER NOT NULL)",
        &[],
    )
    .await
    .unwrap();
}

common::per_backend!(
    async fn second_writer_gets_version_mismatch_then_refetch_and_retry_succeeds(t) {
        let db = t.connect().await;
        setup(&db).await;
        db.repository::<Counter>()
            .create(Counter {
                id: 7,
                label: "hits".into(),
                n: 0,
                version: 0,
            })
            .await
            .unwrap();

        // Two handles (two pools) read the same row at version 1.
        let other = t.connect().await;
        let first = db.repository::<Counter>();
        let second = other.repository::<Counter>();
        let mut a = first.find_one(7).await.unwrap();
        let mut b = second.find_one(7).await.unwrap();
        assert_eq!((a.version, b.version), (1, 1));

        a.n += 1;
        first.update(&mut a).await.unwrap();
        assert_eq!(a.version, 2);

        b.n += 10;
        let err = second.update(&mut b).await.unwrap_err();
        assert!(
            matches!(err, Error::OptimisticLock { .. }),
            "{}: {err}",
            t.name()
        );
        assert_eq!(err.code(), "LEX_ERR_SQL_005");
        assert!(err.is_retryable());
        let msg = err.to_string();
        assert!(
            msg.starts_with("OptimisticLockError: Version mismatch"),
            "{msg}"
        );
        assert!(
            msg.contains("Counter id=7") && msg.contains("expected version 1"),
            "{msg}"
        );
        assert!(msg.contains("re-fetch the entity and retry"), "{msg}");

        // The page's fix: re-fetch and retry.
        let mut fresh = second.find_one(7).await.unwrap();
        fresh.n += 10;
        second.update(&mut fresh).await.unwrap();
        let stored = first.find_one(7).await.unwrap();
        assert_eq!((stored.n, stored.version), (11, 3), "{}", t.name());

        // The helper does the same in one call.
        let c = second.update_with_retry(7, 3, |c| {
            c.n *= 2;
            Ok(())
        });
        assert_eq!(c.await.unwrap().n, 22);
        // A closure error ends it at once; a missing row is NotFound.
        let err = second
            .update_with_retry(7, 3, |_| {
                Err(Error::InvalidRequest {
                    entity: "Counter".into(),
                    detail: "no".into(),
                })
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), "LEX_ERR_SQL_021");
        let err = second
            .update_with_retry(8, 3, |_| Ok(()))
            .await
            .unwrap_err();
        assert!(matches!(err, Error::NotFound { .. }), "{err}");
        other.close().await;
        db.close().await;
    }
);

common::per_backend!(
    async fn sixteen_tasks_times_two_hundred_increments_through_the_retry_helper(t) {
        const TASKS: i64 = 16;
        const EACH: i64 = 200;
        let mut config: DatabaseConfig = t.config();
        config.pool.max_size = 20;
        let db = Database::from_config(&config).await.unwrap();
        setup(&db).await;
        let repo = db.repository::<Counter>();
        repo.create(Counter {
            id: 1,
            label: "shared".into(),
            n: 0,
            version: 0,
        })
        .await
        .unwrap();

        let started = Instant::now();
        let mut handles = Vec::new();
        for _ in 0..TASKS {
            let repo = repo.clone();
            handles.push(tokio::spawn(async move {
                for _ in 0..EACH {
                    repo.update_with_retry(1, 10_000, |c| {
                        c.n += 1;
                        Ok(())
                    })
                    .await
                    .unwrap();
                }
            }));
        }
        for h in handles {
            h.await.unwrap();
        }
        let elapsed = started.elapsed();
        let c = repo.find_one(1).await.unwrap();
        assert_eq!(c.n, TASKS * EACH, "{}", t.name());
        assert_eq!(i64::from(c.version), TASKS * EACH + 1);
        eprintln!(
            "{}: {} increments by {TASKS} tasks in {:.2?} ({:.0}/s)",
            t.name(),
            TASKS * EACH,
            elapsed,
            (TASKS * EACH) as f64 / elapsed.as_secs_f64()
        );
        if t.kind == BackendKind::Sqlite {
            assert!(elapsed.as_secs() < 120);
        }
        db.close().await;
    }
);
