//! Bulk insert of 100,000 rows on every backend (chunked under each backend's parameter limit)
//! and a streamed read of them, counted without collecting.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a panic is a failed assertion

mod common;

use std::time::Instant;

use futures_util::TryStreamExt;
use lexigram_sql::repository::{Query, asc, col};
use lexigram_sql::{Entity, Filter};

#[derive(Debug, Clone, Entity)]
struct Event {
    #[entity(key, generated)]
    id: i64,
    kind: String,
    payload: String,
    amount: i64,
    #[entity(version)]
    version: i64,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_many_100k_rows_and_stream_them_on_every_backend() {
    const ROWS: i64 = 100_000;
    for t in common::all().await {
        let db = t.connect().await;
        db.execute(
            &common::ddl(
                t.kind,
                "CREATE TABLE events (id {pk}, kind VARCHAR(20) NOT NULL, payload VARCHAR(100) NOT NULL, amount BIGINT NOT NULL, version BIGINT NOT NULL)",
            ),
            &[],
        )
        .await
        .unwrap();
        let events = db.repository::<Event>();

        let started = Instant::now();
        let inserted = events
            .create_many((0..ROWS).map(|i| Event {
                id: 0,
                kind: if i % 2 == 0 {
                    "even".into()
                } else {
                    "odd".into()
                },
                payload: format!("event number {i}"),
                amount: i,
                version: 0,
            }))
            .await
            .unwrap();
        let insert_time = started.elapsed();
        assert_eq!(inserted, ROWS as u64, "{}", t.name());
        assert_eq!(events.count(Filter::all()).await.unwrap(), ROWS as u64);
        assert_eq!(
            events.count(col("version").eq(1)).await.unwrap(),
            ROWS as u64
        );

        // Stream every row: counted and summed, never collected.
        let started = Instant::now();
        let stream = events
            .stream(Query::new().order_by(asc("id")))
            .await
            .unwrap();
        let (count, sum) = stream
            .try_fold((0i64, 0i64), |(n, s), e| async move {
                Ok((n + 1, s + e.amount))
            })
            .await
            .unwrap();
        let stream_time = started.elapsed();
        assert_eq!((count, sum), (ROWS, ROWS * (ROWS - 1) / 2), "{}", t.name());
        let odd = events.stream(col("kind").eq("odd")).await.unwrap();
        assert_eq!(
            odd.try_fold(0u64, |n, _| async move { Ok(n + 1) })
                .await
                .unwrap(),
            ROWS as u64 / 2
        );
        eprintln!(
            "{}: create_many {ROWS} rows in {insert_time:.2?}, streamed them in {stream_time:.2?}",
            t.name()
        );
        db.close().await;
    }
}
