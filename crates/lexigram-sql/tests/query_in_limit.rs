//! `IN` lists longer than the backend's parameter limit (65,535 on PostgreSQL and MySQL,
//! 32,766 on SQLite), with 70,000 values on every backend: split into several statements
//! where that keeps the meaning (unordered finds, counts, exists, bulk deletes and updates),
//! refused with `TooManyParameters` before any round trip where it does not. PostgreSQL used
//! to report such a list as `ConnectionLost`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a panic is a failed assertion

mod common;

use lexigram_sql::repository::{Query, Record, asc, col};
use lexigram_sql::{Database, Entity, Error, Filter};

#[derive(Debug, Clone, Entity)]
struct Item {
    #[entity(key, generated)]
    id: i64,
    kind: String,
    #[entity(version)]
    version: i64,
}

const VALUES: i64 = 70_000;

/// 70,000 distinct ids (past every backend's limit even without duplicates), the stored
/// ones (1..=300) listed twice.
fn ids() -> Vec<i64> {
    (1..=VALUES).chain(1..=300).collect()
}

async fn setup(t: &common::TestDb) -> Database {
    let db = t.connect().await;
    db.execute(
        &common::ddl(
            t.kind,
            "CREATE TABLE items (id {pk}, kind VARCHAR(10) NOT NULL, version BIGINT NOT NULL)",
        ),
        &[],
    )
    .await
    .unwrap();
    db.repository::<Item>()
        .create_many((0..300).map(|i| Item {
            id: 0,
            kind: if i % 3 == 0 { "a".into() } else { "b".into() },
            version: 0,
        }))
        .await
        .unwrap();
    db
}

fn assert_too_many(r: Result<impl std::fmt::Debug, Error>, what: &str, backend: &str) {
    match r {
        Err(Error::TooManyParameters { needed, limit, .. }) => {
            assert!(
                needed >= VALUES as usize && needed > limit,
                "{backend} {what}"
            );
        }
        other => panic!("{backend} {what}: expected TooManyParameters, got {other:?}"),
    }
}

common::per_backend!(
    async fn in_list_of_70k_values_is_split_for_reads_on_every_backend(t) {
        let db = setup(&t).await;
        let items = db.repository::<Item>();
        let name = t.name();
        let found = items.find_many(col("id").is_in(ids())).await.unwrap();
        assert_eq!(
            found.len(),
            300,
            "{name}: each row once, duplicates ignored"
        );
        let found = items
            .find_many(col("kind").eq("a").and(col("id").is_in(ids())))
            .await
            .unwrap();
        assert_eq!(found.len(), 100, "{name}: other terms kept in every chunk");
        assert!(found.iter().all(|i| i.kind == "a"), "{name}");
        assert_eq!(
            items.count(col("id").is_in(ids())).await.unwrap(),
            300,
            "{name}"
        );
        assert!(
            items
                .exists(col("id").is_in((VALUES..2 * VALUES).chain([150])))
                .await
                .unwrap(),
            "{name}"
        );
        assert!(
            !items
                .exists(col("id").is_in(VALUES..2 * VALUES))
                .await
                .unwrap(),
            "{name}"
        );
        let table = db.table("items");
        assert_eq!(
            table.count(col("id").is_in(ids())).await.unwrap(),
            300,
            "{name}: Table splits too"
        );
        assert_eq!(
            table.find_many(col("id").is_in(ids())).await.unwrap().len(),
            300,
            "{name}"
        );
    }
);

common::per_backend!(
    async fn in_list_of_70k_values_is_split_for_bulk_writes_on_every_backend(t) {
        let db = setup(&t).await;
        let items = db.repository::<Item>();
        let name = t.name();
        let updated = items
            .update_where(
                col("id").is_in((1..=VALUES).filter(|i| i % 2 == 0)),
                Record::new().set("kind", "even"),
            )
            .await
            .unwrap();
        assert_eq!(updated, 150, "{name}");
        assert_eq!(
            items.count(col("version").eq(2)).await.unwrap(),
            150,
            "{name}: raised once per row, even with the list split"
        );
        let deleted = items.delete_many(col("id").is_in(ids())).await.unwrap();
        assert_eq!(deleted, 300, "{name}");
        assert_eq!(items.count(Filter::all()).await.unwrap(), 0, "{name}");
    }
);

common::per_backend!(
    async fn unsplittable_70k_lists_are_refused_before_any_round_trip_on_every_backend(t) {
        let db = setup(&t).await;
        let name = t.name();
        // Closed: a statement that reached the server would fail with a connection error.
        db.close().await;
        let items = db.repository::<Item>();
        let list = || (1..=VALUES).collect::<Vec<_>>();
        assert_too_many(
            items.find_many(col("id").not_in(list())).await,
            "not_in",
            name,
        );
        assert_too_many(
            items
                .find_many(
                    Query::new()
                        .filter(col("id").is_in(list()))
                        .order_by(asc("id")),
                )
                .await,
            "ordered",
            name,
        );
        assert_too_many(
            items
                .find_many(Query::new().filter(col("id").is_in(list())).limit(10))
                .await,
            "limited",
            name,
        );
        assert_too_many(
            items
                .count(col("kind").eq("a").or(col("id").is_in(list())))
                .await,
            "under OR",
            name,
        );
        assert_too_many(
            items.delete_many(col("id").is_in(list()).not()).await,
            "under NOT",
            name,
        );
        assert_too_many(
            items.page(col("id").is_in(list()), 1, 10).await,
            "page",
            name,
        );
        assert_too_many(
            db.table("items")
                .delete_many(col("id").not_in(list()))
                .await,
            "Table not_in",
            name,
        );
    }
);

common::per_backend!(
    /// Raw SQL with more bound parameters than the backend accepts is refused with
    /// `TooManyParameters` before anything is sent (PostgreSQL used to report it as a lost
    /// connection), through every raw method and in a transaction; the connection stays usable.
    async fn raw_sql_with_70k_parameters_is_refused_before_any_round_trip(t) {
        use lexigram_sql::value::Value;
        let db = t.connect().await;
        let name = t.name();
        let n = 70_000;
        let mut sql = String::from("SELECT 1 WHERE 1 IN (");
        for i in 1..=n {
            if i > 1 {
                sql.push_str(", ");
            }
            match t.kind {
                lexigram_sql::config::BackendKind::Postgres => sql.push_str(&format!("${i}")),
                _ => sql.push('?'),
            }
        }
        sql.push(')');
        let params: Vec<Value> = (0..n as i64).map(Value::Int).collect();
        let refused = |e: Error| match e {
            Error::TooManyParameters { needed, limit, .. } => {
                assert_eq!(needed, n, "{name}");
                assert!(limit < n, "{name}");
            }
            other => panic!("{name}: expected TooManyParameters, got {other:?}"),
        };
        refused(db.fetch_all(&sql, &params).await.unwrap_err());
        refused(db.execute(&sql, &params).await.unwrap_err());
        refused(db.fetch_optional(&sql, &params).await.unwrap_err());
        refused(db.fetch_stream(&sql, &params).await.err().unwrap());
        let tx = db.begin().await.unwrap();
        refused(tx.fetch_all(&sql, &params).await.unwrap_err());
        tx.rollback().await.unwrap();
        // Nothing was sent: the pool and its connections are fine.
        let row = db.fetch_one("SELECT 42 AS n", &[]).await.unwrap();
        assert_eq!(row.get::<i64>("n").unwrap(), 42, "{name}");
        assert_eq!(
            Error::TooManyParameters {
                entity: String::new(),
                needed: 0,
                limit: 0,
                backend: "",
                detail: String::new()
            }
            .code(),
            "LEX_ERR_SQL_026"
        );
        db.close().await;
    }
);
