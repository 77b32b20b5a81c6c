//! `#[entity(created_at)]` / `#[entity(updated_at)]` on every backend: set by create,
//! create_many and upsert (one timestamp per statement), updated_at by update and
//! update_where, created_at kept by the update path of an upsert, and the values returned to
//! the caller equal to the stored ones (microseconds).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a panic is a failed assertion

mod common;

use chrono::{DateTime, Timelike, Utc};
use lexigram_sql::repository::{Record, asc, col};
use lexigram_sql::{Entity, Query};

#[derive(Debug, Clone, PartialEq, Entity)]
struct Note {
    #[entity(key)]
    id: i64,
    body: String,
    #[entity(created_at)]
    created_at: DateTime<Utc>,
    #[entity(updated_at)]
    updated_at: Option<DateTime<Utc>>,
}

fn note(id: i64, body: &str) -> Note {
    Note {
        id,
        body: body.into(),
        created_at: DateTime::UNIX_EPOCH,
        updated_at: None,
    }
}

async fn tick() {
    tokio::time::sleep(std::time::Duration::from_millis(3)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timestamps_on_every_backend() {
    for t in common::all().await {
        let db = t.connect().await;
        let name = t.name();
        db.execute(
            &common::ddl(t.kind, "CREATE TABLE notes (id BIGINT PRIMARY KEY, body VARCHAR(60) NOT NULL, created_at {ts} NOT NULL, updated_at {ts})"),
            &[],
        )
        .await
        .unwrap();
        let notes = db.repository::<Note>();
        let before = Utc::now() - chrono::Duration::seconds(1);

        let mut a = notes
            .create(note(1, "x'); DROP TABLE notes;--"))
            .await
            .unwrap();
        assert!(
            a.created_at > before,
            "{name}: created_at set, not the caller's epoch"
        );
        assert_eq!(
            a.updated_at,
            Some(a.created_at),
            "{name}: one timestamp for both"
        );
        assert_eq!(
            a.created_at.nanosecond() % 1000,
            0,
            "{name}: microsecond precision"
        );
        assert_eq!(
            notes.find_one(1).await.unwrap(),
            a,
            "{name}: returned = stored"
        );

        tick().await;
        a.body = "edited".into();
        let created = a.created_at;
        notes.update(&mut a).await.unwrap();
        assert_eq!(a.created_at, created, "{name}");
        assert!(a.updated_at.unwrap() > created, "{name}: updated_at moved");
        assert_eq!(
            notes.find_one(1).await.unwrap(),
            a,
            "{name}: returned = stored after update"
        );

        notes
            .create_many((2..6).map(|i| note(i, "bulk")))
            .await
            .unwrap();
        let bulk = notes
            .find_many(Query::from(col("body").eq("bulk")).order_by(asc("id")))
            .await
            .unwrap();
        assert_eq!(bulk.len(), 4, "{name}");
        assert!(
            bulk.iter()
                .all(|n| n.created_at == bulk[0].created_at && n.updated_at == Some(n.created_at)),
            "{name}: one timestamp per statement"
        );
        assert!(bulk[0].created_at > before, "{name}");

        tick().await;
        let n = notes
            .update_where(col("body").eq("bulk"), Record::new().set("body", "swept"))
            .await
            .unwrap();
        assert_eq!(n, 4, "{name}");
        let swept = notes.find_many(col("body").eq("swept")).await.unwrap();
        assert!(
            swept.iter().all(|s| s.updated_at.unwrap() > s.created_at),
            "{name}: update_where sets updated_at"
        );

        tick().await;
        let up = notes.upsert(note(1, "upserted")).await.unwrap();
        assert_eq!(
            up.created_at, created,
            "{name}: the update path keeps created_at"
        );
        assert!(up.updated_at.unwrap() > a.updated_at.unwrap(), "{name}");
        assert_eq!(
            notes.find_one(1).await.unwrap(),
            up,
            "{name}: returned = stored after upsert"
        );
        let fresh = notes.upsert(note(9, "new")).await.unwrap();
        assert_eq!(
            fresh.updated_at,
            Some(fresh.created_at),
            "{name}: the insert path sets both"
        );
        assert!(fresh.created_at > created, "{name}");
    }
}
