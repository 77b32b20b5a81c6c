//! A column the table does not have is an error on every backend, never a silent match.
//!
//! SQLite used to read an unknown double-quoted name as a string literal, so `delete_many`
//! with a misspelled column deleted every row. Connections now turn that legacy behaviour
//! off, and every backend's "no such column" is classified as `Error::UnknownColumn`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a panic is a failed assertion

mod common;

use lexigram_sql::repository::{Query, asc, col, desc, not};
use lexigram_sql::{Database, Entity, Error, Filter, Record, Table};

const MISSING: &str = "nmae";

async fn setup(t: &common::TestDb) -> Database {
    let db = t.connect().await;
    db.execute(
        &common::ddl(
            t.kind,
            "CREATE TABLE people (id {pk}, name VARCHAR(50) NOT NULL, age INTEGER NULL)",
        ),
        &[],
    )
    .await
    .unwrap();
    let people = db.table("people");
    for (name, age) in [("ada", Some(36)), ("bob", None), ("cat", Some(50))] {
        let age = age.map_or(lexigram_sql::Value::Null, lexigram_sql::Value::from);
        people
            .create(Record::new().set("name", name).set("age", age))
            .await
            .unwrap();
    }
    db
}

/// Filter shapes × where the missing column sits in them.
fn filters() -> Vec<(&'static str, Filter)> {
    let m = || col(MISSING);
    vec![
        ("eq", m().eq("x")),
        ("ne", m().ne("x")),
        ("in", m().is_in(["ada", "bob"])),
        ("not in", m().not_in(["x"])),
        ("between", m().between(1, 100)),
        ("is null", m().is_null()),
        ("is not null", m().is_not_null()),
        ("like", m().like("%a%")),
        ("and, first", m().eq("x").and(col("name").eq("ada"))),
        ("and, last", col("age").gt(1).and(m().is_not_null())),
        ("or, first", m().eq("x").or(col("name").eq("zed"))),
        ("or, last", col("name").eq("zed").or(m().ne("x"))),
        ("not", not(m().eq("x"))),
        (
            "nested",
            not(col("age")
                .gt(100)
                .and(col("name").eq("zed").or(m().is_null()))),
        ),
    ]
}

#[track_caller]
fn assert_unknown(result: Result<impl std::fmt::Debug, Error>, backend: &str, what: &str) {
    let err = match result {
        Ok(v) => panic!("{backend}: {what}: expected UnknownColumn, got Ok({v:?})"),
        Err(e) => e,
    };
    assert!(
        matches!(&err, Error::UnknownColumn { column, .. } if column == MISSING),
        "{backend}: {what}: expected UnknownColumn for '{MISSING}', got {err:?}"
    );
    assert_eq!(err.code(), "LEX_ERR_SQL_012", "{backend}: {what}");
    let text = err.to_string();
    assert!(
        text.starts_with("RepositoryError: unknown column 'nmae'"),
        "{backend}: {what}: {text}"
    );
    assert!(text.contains("table 'people'"), "{backend}: {what}: {text}");
    assert!(
        !text.contains("known columns: ."),
        "{backend}: {what}: {text}"
    );
}

async fn check_table(people: &Table, backend: &str) {
    for (shape, filter) in filters() {
        assert_unknown(
            people.delete_many(filter.clone()).await,
            backend,
            &format!("delete_many({shape})"),
        );
        assert_unknown(
            people.find_many(filter.clone()).await,
            backend,
            &format!("find_many({shape})"),
        );
        assert_unknown(
            people.find_by(filter.clone()).await,
            backend,
            &format!("find_by({shape})"),
        );
        assert_unknown(
            people.count(filter.clone()).await,
            backend,
            &format!("count({shape})"),
        );
        // The missing column in ORDER BY after a valid filter.
        let q = Query::from(col("name").eq("ada"))
            .order_by(asc("name"))
            .order_by(desc(MISSING));
        assert_unknown(
            people.find_many(q).await,
            backend,
            &format!("find_many(order by, {shape})"),
        );
    }
    assert_unknown(
        people.find_many(Query::new().order_by(asc(MISSING))).await,
        backend,
        "find_many(order by only)",
    );
    // Writes: a missing column to set, and a missing key column.
    assert_unknown(
        people.update(1, Record::new().set(MISSING, "x")).await,
        backend,
        "update(set missing)",
    );
    assert_unknown(
        people
            .update(1, Record::new().set("name", "x").set(MISSING, "y"))
            .await,
        backend,
        "update(set valid, missing)",
    );
    assert_unknown(
        people
            .clone()
            .with_key(MISSING)
            .update("ada", Record::new().set("name", "x"))
            .await,
        backend,
        "update(by missing key)",
    );
    assert_unknown(
        people.clone().with_key(MISSING).delete("ada").await,
        backend,
        "delete(by missing key)",
    );
    assert_unknown(
        people.clone().with_key(MISSING).find_one("ada").await,
        backend,
        "find_one(by missing key)",
    );
    assert_unknown(
        people
            .create(Record::new().set("name", "dan").set(MISSING, "x"))
            .await,
        backend,
        "create(missing column)",
    );
}

common::per_backend!(
    async fn unknown_columns_are_errors_and_change_nothing_on_every_backend(t) {
        let db = setup(&t).await;
        let backend = t.name();
        check_table(&db.table("people"), backend).await;
        let err = db
            .table("people")
            .delete_many(col(MISSING).eq("x"))
            .await
            .unwrap_err();
        println!("{backend}: {err}");
        assert_eq!(common::row_count(&db, "people").await, 3, "{backend}");

        // Inside a transaction the same holds, and the transaction stays usable on backends
        // that allow it after an error (every one but PostgreSQL, which aborts it).
        let tx = db.begin().await.unwrap();
        assert_unknown(
            tx.table("people").delete_many(col(MISSING).eq("x")).await,
            backend,
            "delete_many in a transaction",
        );
        tx.rollback().await.unwrap();
        assert_eq!(common::row_count(&db, "people").await, 3, "{backend}");

        // Valid filters still work, and the rows are all there.
        let people = db.table("people");
        assert_eq!(people.count(Filter::all()).await.unwrap(), 3, "{backend}");
        assert_eq!(people.count(col("age").is_null()).await.unwrap(), 1);
        assert_eq!(
            people
                .delete_many(col("name").eq("bob").or(col("age").gt(40)))
                .await
                .unwrap(),
            2,
            "{backend}"
        );
        db.close().await;
    }
);

/// An entity that names a column its table lacks (schema older than the code).
#[derive(Debug, Clone, Entity)]
#[entity(table = "people")]
struct Person {
    #[entity(key, generated)]
    id: i64,
    name: String,
    nickname: Option<String>,
}

common::per_backend!(
    async fn an_entity_ahead_of_its_table_gets_unknown_column(t) {
        let db = setup(&t).await;
        let backend = t.name();
        let err = db.repository::<Person>().find_one(1).await.unwrap_err();
        assert!(
            matches!(&err, Error::UnknownColumn { column, .. } if column == "nickname"),
            "{backend}: {err:?}"
        );
        assert_eq!(err.code(), "LEX_ERR_SQL_012", "{backend}");
        let err = db
            .repository::<Person>()
            .delete_many(col("name").eq("ada"))
            .await;
        assert!(
            err.is_ok(),
            "{backend}: a valid filter on valid columns runs"
        );
        assert_eq!(common::row_count(&db, "people").await, 2, "{backend}");
        db.close().await;
    }
);

#[tokio::test]
async fn double_quoted_strings_are_identifiers_on_sqlite() {
    let t = common::sqlite();
    let db = setup(&t).await;
    // A double-quoted name is a column, never a string: a typo is an error.
    let err = db
        .fetch_all("SELECT * FROM people WHERE \"nmae\" = 'x'", &[])
        .await
        .unwrap_err();
    assert!(matches!(err, Error::UnknownColumn { .. }), "{err:?}");
    // In DDL too (SQLITE_DBCONFIG_DQS_DDL).
    let err = db
        .execute("CREATE INDEX people_typo ON people (\"nmae\")", &[])
        .await
        .unwrap_err();
    assert!(matches!(err, Error::UnknownColumn { .. }), "{err:?}");
    // Single-quoted strings and double-quoted identifiers work as before.
    let n: i64 = db
        .fetch_one(
            "SELECT COUNT(*) FROM \"people\" WHERE \"name\" = 'ada'",
            &[],
        )
        .await
        .unwrap()
        .get_at(0)
        .unwrap();
    assert_eq!(n, 1);
}
