//! Bulk writes by filter on every backend: `update_where` and `delete_where` return rows
//! affected, raise versions, mark soft-delete entities instead of removing them, refuse a
//! filter with no condition unless `Filter::all()` says so, and reject unknown or hostile
//! column names before any SQL (a misspelled column in a bulk delete once emptied a table).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a panic is a failed assertion

mod common;

use chrono::{DateTime, Utc};
use lexigram_sql::repository::{Query, Record, col};
use lexigram_sql::{Database, Entity, Error, Filter};

#[derive(Debug, Clone, Entity)]
struct Invoice {
    #[entity(key, generated)]
    id: i64,
    due: i64,
    #[entity(rename = "state")]
    status: String,
    #[entity(version)]
    version: i64,
}

#[derive(Debug, Clone, Entity)]
struct Post {
    #[entity(key, generated)]
    id: i64,
    spam: bool,
    #[entity(version)]
    version: i64,
    #[entity(soft_delete)]
    deleted_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Entity)]
struct Tag {
    #[entity(key, generated)]
    id: i64,
    label: String,
}

async fn setup(t: &common::TestDb) -> Database {
    let db = t.connect().await;
    for ddl in [
        "CREATE TABLE invoices (id {pk}, due BIGINT NOT NULL, state VARCHAR(20) NOT NULL, version BIGINT NOT NULL)",
        "CREATE TABLE posts (id {pk}, spam {bool} NOT NULL, version BIGINT NOT NULL, deleted_at {ts})",
        "CREATE TABLE tags (id {pk}, label VARCHAR(20) NOT NULL)",
    ] {
        db.execute(&common::ddl(t.kind, ddl), &[]).await.unwrap();
    }
    let invoices = db.repository::<Invoice>();
    for due in 1..=10 {
        invoices
            .create(Invoice {
                id: 0,
                due,
                status: "open".into(),
                version: 0,
            })
            .await
            .unwrap();
    }
    let posts = db.repository::<Post>();
    for i in 0..6 {
        posts
            .create(Post {
                id: 0,
                spam: i % 2 == 0,
                version: 0,
                deleted_at: None,
            })
            .await
            .unwrap();
    }
    db.repository::<Tag>()
        .create_many(["a", "b", "c"].map(|l| Tag {
            id: 0,
            label: l.into(),
        }))
        .await
        .unwrap();
    db
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_where_sets_columns_and_raises_versions_on_every_backend() {
    for t in common::all().await {
        let db = setup(&t).await;
        let name = t.name();
        let invoices = db.repository::<Invoice>();
        let n = invoices
            .update_where(col("due").lt(4), Record::new().set("status", "overdue"))
            .await
            .unwrap();
        assert_eq!(n, 3, "{name}: rows affected");
        let overdue = invoices
            .find_many(col("state").eq("overdue"))
            .await
            .unwrap();
        assert_eq!(
            overdue.len(),
            3,
            "{name}: field name resolves to the column"
        );
        assert!(
            overdue.iter().all(|i| i.version == 2 && i.due < 4),
            "{name}"
        );
        assert_eq!(
            invoices.count(col("version").eq(1)).await.unwrap(),
            7,
            "{name}: other rows untouched"
        );
        // Soft-deleted rows are left alone by update_where.
        let posts = db.repository::<Post>();
        let mut first = posts.find_one(1).await.unwrap();
        posts.soft_delete(&mut first).await.unwrap();
        let n = posts
            .update_where(Filter::all(), Record::new().set("spam", false))
            .await
            .unwrap();
        assert_eq!(n, 5, "{name}: Filter::all() means every live row");
        let again = posts
            .find_one(1)
            .await
            .map(|_| ())
            .expect_err("soft-deleted");
        assert_eq!(again.code(), "LEX_ERR_SQL_011", "{name}");
        let hidden = posts
            .find_many(Query::new().with_deleted().filter(col("id").eq(1)))
            .await
            .unwrap();
        assert_eq!(
            (hidden[0].spam, hidden[0].version),
            (true, 2),
            "{name}: the soft-deleted row kept its values"
        );
        // Inside a transaction, rolled back: nothing stays.
        let tx = db.begin().await.unwrap();
        let n = tx
            .repository::<Invoice>()
            .update_where(col("due").gte(1), Record::new().set("due", 0))
            .await
            .unwrap();
        assert_eq!(n, 10, "{name}");
        tx.rollback().await.unwrap();
        assert_eq!(invoices.count(col("due").eq(0)).await.unwrap(), 0, "{name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_where_marks_soft_delete_rows_and_removes_others_on_every_backend() {
    for t in common::all().await {
        let db = setup(&t).await;
        let name = t.name();
        let posts = db.repository::<Post>();
        assert_eq!(
            posts.delete_where(col("spam").eq(true)).await.unwrap(),
            3,
            "{name}"
        );
        assert_eq!(
            common::row_count(&db, "posts").await,
            6,
            "{name}: marked, not removed"
        );
        assert_eq!(posts.count(Filter::all()).await.unwrap(), 3, "{name}");
        let marked = posts
            .find_many(Query::new().with_deleted().filter(col("spam").eq(true)))
            .await
            .unwrap();
        assert!(
            marked
                .iter()
                .all(|p| p.deleted_at.is_some() && p.version == 2),
            "{name}: {marked:?}"
        );
        assert_eq!(
            posts.delete_where(col("spam").eq(true)).await.unwrap(),
            0,
            "{name}: rows already marked are not marked again"
        );
        let tags = db.repository::<Tag>();
        assert_eq!(
            tags.delete_where(col("label").is_in(["a", "c", "zz"]))
                .await
                .unwrap(),
            2,
            "{name}"
        );
        assert_eq!(common::row_count(&db, "tags").await, 1, "{name}: removed");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_filters_unknown_columns_and_the_version_are_refused_on_every_backend() {
    for t in common::all().await {
        let db = setup(&t).await;
        let name = t.name();
        let invoices = db.repository::<Invoice>();
        let tags = db.repository::<Tag>();
        let mut collected = Filter::default();
        for f in Vec::<Filter>::new() {
            collected = collected.and(f);
        }
        let invalid = |r: Result<u64, Error>, what: &str| match r {
            Err(Error::InvalidRequest { detail, .. }) => {
                assert!(detail.contains("Filter::all()"), "{name} {what}: {detail}")
            }
            other => panic!("{name} {what}: expected InvalidRequest, got {other:?}"),
        };
        invalid(
            invoices
                .update_where(collected.clone(), Record::new().set("due", 0))
                .await,
            "update_where",
        );
        invalid(
            invoices.delete_where(collected.clone()).await,
            "delete_where",
        );
        invalid(tags.delete_many(Filter::default()).await, "delete_many");
        invalid(
            db.table("tags").delete_many(Filter::default()).await,
            "Table::delete_many",
        );
        match invoices
            .update_where(col("due").eq(1), Record::new().set("version", 9))
            .await
        {
            Err(Error::InvalidRequest { detail, .. }) => {
                assert!(detail.contains("version"), "{name}: {detail}")
            }
            other => panic!("{name}: setting the version gave {other:?}"),
        }
        for hostile in [
            "lable",
            "label; DROP TABLE tags --",
            "label\" = label OR \"1",
        ] {
            for r in [
                tags.delete_where(col(hostile).eq("a")).await,
                tags.delete_many(col(hostile).eq("a")).await,
                tags.update_where(col(hostile).eq("a"), Record::new().set("label", "x"))
                    .await,
                tags.update_where(col("label").eq("a"), Record::new().set(hostile, "x"))
                    .await,
            ] {
                match r {
                    Err(Error::UnknownColumn { column, .. }) => assert_eq!(column, hostile),
                    other => panic!("{name} {hostile:?}: {other:?}"),
                }
            }
        }
        assert_eq!(
            common::row_count(&db, "tags").await,
            3,
            "{name}: nothing deleted"
        );
        assert_eq!(
            invoices.count(col("version").eq(1)).await.unwrap(),
            10,
            "{name}: nothing updated"
        );
        assert_eq!(
            tags.delete_where(Filter::all()).await.unwrap(),
            3,
            "{name}: Filter::all() is the explicit every row"
        );
    }
}
