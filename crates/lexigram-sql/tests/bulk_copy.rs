//! `create_many` of 1,000 rows or more: binary `COPY` on PostgreSQL, multi-row `INSERT`s
//! elsewhere, with the same exact values either way, all or nothing, and the `INSERT` fallback
//! where `COPY` cannot be used.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a panic is a failed assertion

mod common;

use chrono::{DateTime, TimeZone, Utc};
use lexigram_sql::config::BackendKind;
use lexigram_sql::repository::{Query, asc};
use lexigram_sql::{Database, Decimal, Entity, Error, Filter};

#[derive(Debug, Clone, PartialEq, Entity)]
#[entity(table = "copy_rows")]
struct CopyRow {
    #[entity(key, generated)]
    id: i64,
    name: String,
    note: Option<String>,
    amount: Decimal,
    ratio: f64,
    flag: bool,
    at: DateTime<Utc>,
    #[entity(version)]
    version: i64,
}

const ROWS: i64 = 2_500;

/// Names that would break a text-format COPY or a careless INSERT: delimiters, escapes,
/// quotes, newlines, NUL-free control characters, non-ASCII.
fn name(i: i64) -> String {
    match i % 6 {
        0 => format!("plain {i}"),
        1 => format!("tab\there \\N {i}"),
        2 => format!("line\nbreak\r\n{i}"),
        3 => format!("quote ' \" ; -- {i}"),
        4 => format!("ünïcødé ✓ {i}"),
        _ => format!("back\\slash,comma|{i}"),
    }
}

fn row(i: i64) -> CopyRow {
    CopyRow {
        id: 0,
        name: name(i),
        note: (i % 3 == 0).then(|| format!("note {i}")),
        amount: Decimal::new(i * 101 - 50_000, 2),
        ratio: i as f64 / 8.0,
        flag: i % 2 == 0,
        at: Utc
            .timestamp_micros(1_700_000_000_000_000 + i * 1_000_003)
            .unwrap(),
        version: 0,
    }
}

async fn create_table(db: &Database, kind: BackendKind) {
    db.execute(
        &common::ddl(
            kind,
            "CREATE TABLE copy_rows (id {pk}, name VARCHAR(100) NOT NULL, note VARCHAR(100), \
             amount NUMERIC(12,2) NOT NULL, ratio DOUBLE PRECISION NOT NULL, flag {bool} NOT NULL, \
             at {ts} NOT NULL, version BIGINT NOT NULL)",
        ),
        &[],
    )
    .await
    .unwrap();
}

/// The statements the database ran that start with `prefix` (from its query statistics).
fn ran(db: &Database, prefix: &str) -> Vec<(String, u64)> {
    db.query_stats()
        .statements
        .into_iter()
        .filter(|s| s.sql.starts_with(prefix))
        .map(|s| (s.sql, s.rows))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_many_stores_every_value_exactly_by_copy_or_insert() {
    for t in common::all().await {
        let db = t.connect().await;
        create_table(&db, t.kind).await;
        let repo = db.repository::<CopyRow>();
        let n = repo.create_many((0..ROWS).map(row)).await.unwrap();
        assert_eq!(n, ROWS as u64, "{}", t.name());

        let stored = repo
            .find_many(Query::from(Filter::all()).order_by(asc("id")))
            .await
            .unwrap();
        assert_eq!(stored.len() as i64, ROWS, "{}", t.name());
        for (i, got) in stored.into_iter().enumerate() {
            let want = CopyRow {
                id: got.id,
                version: 1,
                ..row(i as i64)
            };
            assert_eq!(got, want, "{} row {i}", t.name());
        }

        let copies = ran(&db, "COPY");
        if t.kind == BackendKind::Postgres {
            assert_eq!(
                copies,
                vec![(
                    r#"COPY "copy_rows" ("name", "note", "amount", "ratio", "flag", "at", "version") FROM STDIN (FORMAT binary)"#
                        .to_string(),
                    ROWS as u64
                )],
                "PostgreSQL loads 1,000 rows or more by one binary COPY"
            );
            assert!(ran(&db, "INSERT").is_empty(), "no INSERT beside the COPY");
        } else {
            assert!(copies.is_empty(), "{} has no COPY", t.name());
            assert!(!ran(&db, "INSERT").is_empty(), "{} inserts", t.name());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_value_the_column_cannot_hold_fails_the_whole_load_and_keeps_nothing() {
    for t in common::all().await {
        let db = t.connect().await;
        create_table(&db, t.kind).await;
        let repo = db.repository::<CopyRow>();
        // Row 1,700 carries 11 integer digits into NUMERIC(12,2), which holds 10.
        let rows = (0..ROWS).map(|i| {
            let mut r = row(i);
            if i == 1_700 {
                r.amount = Decimal::new(1_234_567_890_100, 2);
            }
            r
        });
        let err = repo.create_many(rows).await.unwrap_err();
        if t.kind == BackendKind::Postgres {
            assert!(
                matches!(err, Error::Encode { .. }),
                "PostgreSQL refuses the value before the server stores it: {err:?}"
            );
            assert_eq!(err.code(), "LEX_ERR_SQL_023");
            assert!(
                err.to_string().contains("amount") || err.to_string().contains("numeric"),
                "{err}"
            );
        }
        assert_eq!(
            common::row_count(&db, "copy_rows").await,
            0,
            "{}: nothing of a failed load is kept",
            t.name()
        );
        // The connection that ran the failed load is fine afterwards.
        assert_eq!(
            repo.create_many((0..ROWS).map(row)).await.unwrap(),
            ROWS as u64
        );
        assert_eq!(common::row_count(&db, "copy_rows").await, ROWS);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_statement_caching_postgres_falls_back_to_insert() {
    let Some(t) = common::postgres().await else {
        return;
    };
    let mut config = t.config();
    config.backend.statement_cache = false;
    let db = Database::from_config(&config).await.unwrap();
    create_table(&db, t.kind).await;
    let n = db
        .repository::<CopyRow>()
        .create_many((0..ROWS).map(row))
        .await
        .unwrap();
    assert_eq!(n, ROWS as u64);
    assert!(
        ran(&db, "COPY").is_empty(),
        "no COPY without statement caching"
    );
    assert!(!ran(&db, "INSERT").is_empty());
    assert_eq!(common::row_count(&db, "copy_rows").await, ROWS);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_column_type_the_encoder_does_not_know_falls_back_to_insert() {
    let Some(t) = common::postgres().await else {
        return;
    };
    let db = t.connect().await;
    // `money` is a type the encoder has no exact rule for: COPY is not tried; the INSERT
    // fallback binds the text form with an explicit cast in the column default's place.
    db.execute_batch(
        "CREATE TABLE copy_rows (id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, \
         name VARCHAR(100) NOT NULL, note VARCHAR(100), amount NUMERIC(12,2) NOT NULL, \
         ratio DOUBLE PRECISION NOT NULL, flag BOOLEAN NOT NULL, at TIMESTAMPTZ NOT NULL, \
         version BIGINT NOT NULL, price MONEY DEFAULT 0)",
    )
    .await
    .unwrap();
    let n = db
        .repository::<CopyRow>()
        .create_many((0..ROWS).map(row))
        .await
        .unwrap();
    assert_eq!(n, ROWS as u64);
    assert!(
        !ran(&db, "COPY").is_empty(),
        "the entity's own columns are all known: COPY"
    );

    // An entity over the money column: COPY is not attempted, INSERT reports the encoder's
    // refusal as a typed error, and nothing is stored.
    #[derive(Debug, Clone, Entity)]
    #[entity(table = "copy_money")]
    struct Priced {
        #[entity(key, generated)]
        id: i64,
        price: String,
    }
    db.execute_batch(
        "CREATE TABLE copy_money (id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, price MONEY)",
    )
    .await
    .unwrap();
    let err = db
        .repository::<Priced>()
        .create_many((0..ROWS).map(|i| Priced {
            id: 0,
            price: format!("{i}.00"),
        }))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Encode { .. }), "{err:?}");
    assert!(
        !ran(&db, "COPY \"copy_money\"").iter().any(|_| true),
        "COPY is not tried for a column type the encoder does not know"
    );
    assert_eq!(common::row_count(&db, "copy_money").await, 0);
}
