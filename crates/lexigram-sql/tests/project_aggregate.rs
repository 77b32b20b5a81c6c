//! Projections (some columns into tuples or records, DISTINCT) and aggregates (count, sum,
//! avg, min, max, count distinct, GROUP BY, HAVING, ordering by a measure) on every backend,
//! with soft-deleted rows left out and hostile names refused before any SQL.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a panic is a failed assertion

mod common;

use chrono::{DateTime, Utc};
use lexigram_sql::repository::{Aggregate, Query, Record, asc, col, desc};
use lexigram_sql::{Database, Entity, Error, Row};

#[derive(Debug, Clone, Entity)]
struct Sale {
    #[entity(key, generated)]
    id: i64,
    month: i64,
    region: String,
    amount: i64,
    #[entity(soft_delete)]
    deleted_at: Option<DateTime<Utc>>,
}

/// (month, region, amount); the last row is soft-deleted.
const SALES: &[(i64, &str, i64)] = &[
    (1, "north", 10),
    (1, "south", 30),
    (1, "north", 20),
    (2, "south", 5),
    (3, "north", 50),
    (3, "north", 1000),
];

async fn setup(t: &common::TestDb) -> Database {
    let db = t.connect().await;
    db.execute(
        &common::ddl(
            t.kind,
            "CREATE TABLE sales (id {pk}, month BIGINT NOT NULL, region VARCHAR(10) NOT NULL, amount BIGINT NOT NULL, deleted_at {ts})",
        ),
        &[],
    )
    .await
    .unwrap();
    let sales = db.repository::<Sale>();
    for &(month, region, amount) in SALES {
        sales
            .create(Sale {
                id: 0,
                month,
                region: region.into(),
                amount,
                deleted_at: None,
            })
            .await
            .unwrap();
    }
    let mut last = sales.find_one(SALES.len() as i64).await.unwrap();
    sales.soft_delete(&mut last).await.unwrap();
    db
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn projections_into_tuples_records_and_distinct_on_every_backend() {
    for t in common::all().await {
        let db = setup(&t).await;
        let name = t.name();
        let sales = db.repository::<Sale>();
        let rows: Vec<(i64, String)> = sales
            .find_columns(
                Query::new()
                    .filter(col("month").eq(1))
                    .order_by(desc("amount")),
                &["amount", "region"],
            )
            .await
            .unwrap();
        assert_eq!(
            rows,
            [
                (30, "south".into()),
                (20, "north".into()),
                (10, "north".into())
            ],
            "{name}"
        );
        let records: Vec<Record> = sales
            .find_columns(col("month").eq(3), &["id", "amount"])
            .await
            .unwrap();
        assert_eq!(records.len(), 1, "{name}: the soft-deleted row is left out");
        assert_eq!(records[0].columns().collect::<Vec<_>>(), ["id", "amount"]);
        assert_eq!(records[0].get::<i64>("amount").unwrap(), 50, "{name}");
        let all: Vec<Row> = sales
            .find_columns(Query::new().with_deleted(), &["id"])
            .await
            .unwrap();
        assert_eq!(all.len(), SALES.len(), "{name}");
        let regions: Vec<(String,)> = sales
            .find_distinct(Query::new().order_by(asc("region")), &["region"])
            .await
            .unwrap();
        assert_eq!(
            regions,
            [("north".to_string(),), ("south".to_string(),)],
            "{name}"
        );
        let pairs: Vec<(i64, String)> = sales
            .find_distinct(
                Query::new().order_by(asc("month")).order_by(asc("region")),
                &["month", "region"],
            )
            .await
            .unwrap();
        assert_eq!(pairs.len(), 4, "{name}: {pairs:?}");
        match sales
            .find_columns::<Record>(Query::new(), &["amount", "amount); DROP TABLE sales; --"])
            .await
        {
            Err(Error::UnknownColumn { .. }) => {}
            other => panic!("{name}: {other:?}"),
        }
        match sales
            .find_columns::<(i64, i64)>(Query::new(), &["amount"])
            .await
        {
            Err(Error::Decode { .. }) => {}
            other => panic!("{name}: tuple of the wrong width gave {other:?}"),
        }
        assert_eq!(common::row_count(&db, "sales").await, SALES.len() as i64);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aggregates_with_group_by_and_having_on_every_backend() {
    for t in common::all().await {
        let db = setup(&t).await;
        let name = t.name();
        let sales = db.repository::<Sale>();
        // Revenue per month, live rows only.
        let per_month: Vec<(i64, i64, i64, i64, i64, f64)> = sales
            .aggregate(
                Aggregate::new()
                    .group_by("month")
                    .count("n")
                    .sum("amount", "revenue")
                    .min("amount", "smallest")
                    .max("amount", "largest")
                    .avg("amount", "mean")
                    .order_by(asc("month")),
            )
            .await
            .unwrap();
        assert_eq!(
            per_month,
            [
                (1, 3, 60, 10, 30, 20.0),
                (2, 1, 5, 5, 5, 5.0),
                (3, 1, 50, 50, 50, 50.0)
            ],
            "{name}"
        );
        // HAVING on a measure alias (a bound value), ordered by a measure, limited.
        let big: Vec<Record> = sales
            .aggregate(
                Aggregate::new()
                    .filter(col("region").ne("nowhere"))
                    .group_by("region")
                    .sum("amount", "revenue")
                    .count_distinct("month", "months")
                    .having(col("revenue").gt(20).and(col("months").gte(1)))
                    .order_by(desc("revenue"))
                    .limit(1),
            )
            .await
            .unwrap();
        assert_eq!(big.len(), 1, "{name}");
        assert_eq!(big[0].get::<String>("region").unwrap(), "north", "{name}");
        assert_eq!(big[0].get::<i64>("revenue").unwrap(), 80, "{name}");
        assert_eq!(big[0].get::<i64>("months").unwrap(), 2, "{name}");
        // No grouping: one row; soft-deleted rows on request.
        let (n, total): (i64, i64) = sales
            .aggregate(
                Aggregate::new()
                    .count("n")
                    .sum("amount", "total")
                    .with_deleted(),
            )
            .await
            .unwrap()
            .remove(0);
        assert_eq!((n, total), (6, 1115), "{name}");
        // Hostile aliases and columns never reach SQL.
        match sales
            .aggregate::<Record>(Aggregate::new().count("n\" FROM sales; --"))
            .await
        {
            Err(Error::InvalidIdentifier { .. }) => {}
            other => panic!("{name}: {other:?}"),
        }
        for bad in [
            Aggregate::new().sum("amount; DROP TABLE sales", "s"),
            Aggregate::new().group_by("regoin").count("n"),
            Aggregate::new()
                .count("n")
                .having(col("nn\" > 0 OR \"1").gt(1)),
            Aggregate::new().count("n").order_by(desc("total")),
        ] {
            match sales.aggregate::<Record>(bad).await {
                Err(Error::UnknownColumn { .. }) => {}
                other => panic!("{name}: {other:?}"),
            }
        }
        assert!(
            sales.aggregate::<Record>(Aggregate::new()).await.is_err(),
            "{name}: nothing to compute"
        );
        assert_eq!(common::row_count(&db, "sales").await, SALES.len() as i64);
    }
}
