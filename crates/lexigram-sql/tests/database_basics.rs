//! The `Database` handle on every backend: statements, rows, values, streams, transactions.
#![allow(clippy::unwrap_used, clippy::expect_used)] // helpers outside #[test] fns assert too

mod common;

use futures_util::TryStreamExt;
use lexigram_sql::config::BackendKind;
use lexigram_sql::{Database, Error, Value};

/// `?` on SQLite/MySQL, `$n` on PostgreSQL.
fn ph(db: &Database, n: usize) -> String {
    let mut s = String::new();
    db.dialect().push_placeholder(&mut s, n);
    s
}

fn ddl(kind: BackendKind) -> &'static str {
    match kind {
        BackendKind::Sqlite => {
            "CREATE TABLE items (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE, qty INTEGER NOT NULL CHECK (qty >= 0), price DOUBLE PRECISION, active BOOLEAN NOT NULL, meta TEXT, blob BLOB, seen_at TEXT);
             CREATE TABLE orders (id INTEGER PRIMARY KEY, item_id INTEGER NOT NULL REFERENCES items(id));"
        }
        BackendKind::Postgres => {
            "CREATE TABLE items (id BIGSERIAL PRIMARY KEY, name TEXT NOT NULL UNIQUE, qty INTEGER NOT NULL CHECK (qty >= 0), price DOUBLE PRECISION, active BOOLEAN NOT NULL, meta JSONB, blob BYTEA, seen_at TIMESTAMPTZ);
             CREATE TABLE orders (id BIGINT PRIMARY KEY, item_id BIGINT NOT NULL REFERENCES items(id));"
        }
        BackendKind::MySql => {
            "CREATE TABLE items (id BIGINT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(100) NOT NULL UNIQUE, qty INTEGER NOT NULL CHECK (qty >= 0), price DOUBLE, active BOOLEAN NOT NULL, meta JSON, `blob` BLOB, seen_at DATETIME(6));
             CREATE TABLE orders (id BIGINT PRIMARY KEY, item_id BIGINT NOT NULL, FOREIGN KEY (item_id) REFERENCES items(id)) ENGINE=InnoDB;"
        }
    }
}

async fn setup(t: &common::TestDb) -> Database {
    let db = t.connect().await;
    db.execute_batch(ddl(t.kind)).await.unwrap();
    db
}

fn insert_sql(db: &Database) -> String {
    let q = |c: &str| db.dialect().quote_ident(c);
    format!(
        "INSERT INTO items (name, qty, price, active, meta, {}, seen_at) VALUES ({}, {}, {}, {}, {}, {}, {})",
        q("blob"),
        ph(db, 1),
        ph(db, 2),
        ph(db, 3),
        ph(db, 4),
        ph(db, 5),
        ph(db, 6),
        ph(db, 7)
    )
}

common::per_backend!(
    async fn values_round_trip_on_every_backend(t) {
        let db = setup(&t).await;
        let now = chrono::Utc::now();
        let meta = serde_json::json!({"tags": ["a", "b"], "n": 1});
        let n = db
            .execute(
                &insert_sql(&db),
                &[
                    "widget".into(),
                    3i32.into(),
                    2.5f64.into(),
                    true.into(),
                    meta.clone().into(),
                    vec![0u8, 1, 255].into(),
                    now.into(),
                ],
            )
            .await
            .unwrap();
        assert_eq!(n, 1, "{}", t.name());
        let row = db
            .fetch_one(
                &format!("SELECT * FROM items WHERE name = {}", ph(&db, 1)),
                &["widget".into()],
            )
            .await
            .unwrap();
        assert_eq!(row.get::<i64>("qty").unwrap(), 3, "{}", t.name());
        assert_eq!(row.get::<f64>("price").unwrap(), 2.5);
        assert!(row.get::<bool>("active").unwrap(), "{}", t.name());
        assert_eq!(
            row.get::<serde_json::Value>("meta").unwrap(),
            meta,
            "{}",
            t.name()
        );
        assert_eq!(
            row.get::<Vec<u8>>("blob").unwrap(),
            vec![0u8, 1, 255],
            "{}",
            t.name()
        );
        let seen: chrono::DateTime<chrono::Utc> = row.get("seen_at").unwrap();
        assert_eq!(
            seen.timestamp_micros(),
            now.timestamp_micros(),
            "{}",
            t.name()
        );
        assert_eq!(
            row.get::<Option<String>>("name").unwrap().as_deref(),
            Some("widget")
        );
        let missing = db
            .fetch_optional(
                &format!("SELECT * FROM items WHERE name = {}", ph(&db, 1)),
                &["nope".into()],
            )
            .await
            .unwrap();
        assert!(missing.is_none());
        let err = db
            .fetch_one("SELECT * FROM items WHERE qty < 0", &[])
            .await
            .unwrap_err();
        assert_eq!(err.code(), "LEX_ERR_SQL_011", "{}", t.name());
        db.close().await;
    }
);

common::per_backend!(
    async fn hostile_values_are_bound_not_spliced(t) {
        let db = setup(&t).await;
        let hostile = "x'); DROP TABLE items; --";
        db.execute(
            &insert_sql(&db),
            &[
                hostile.into(),
                1i32.into(),
                Value::Null,
                false.into(),
                Value::Null,
                Value::Null,
                Value::Null,
            ],
        )
        .await
        .unwrap();
        let row = db.fetch_one("SELECT name FROM items", &[]).await.unwrap();
        assert_eq!(row.get::<String>("name").unwrap(), hostile, "{}", t.name());
    }
);

common::per_backend!(
    async fn constraint_violations_are_classified(t) {
        let db = setup(&t).await;
        let ins = insert_sql(&db);
        let row = |name: &str, qty: i64| -> Vec<Value> {
            vec![
                name.into(),
                qty.into(),
                Value::Null,
                true.into(),
                Value::Null,
                Value::Null,
                Value::Null,
            ]
        };
        db.execute(&ins, &row("a", 1)).await.unwrap();

        let dup = db.execute(&ins, &row("a", 1)).await.unwrap_err();
        assert!(
            matches!(
                dup,
                Error::Constraint {
                    kind: lexigram_sql::ConstraintKind::Unique,
                    ..
                }
            ),
            "{}: {dup:?}",
            t.name()
        );
        assert_eq!(dup.code(), "LEX_ERR_SQL_013");
        assert!(
            dup.to_string()
                .starts_with("RepositoryError: unique constraint violation"),
            "{dup}"
        );

        let check = db.execute(&ins, &row("b", -5)).await.unwrap_err();
        assert!(
            matches!(
                check,
                Error::Constraint {
                    kind: lexigram_sql::ConstraintKind::Check,
                    ..
                }
            ),
            "{}: {check:?}",
            t.name()
        );

        let null = db
            .execute(
                &format!(
                    "INSERT INTO items (name, qty, active) VALUES ({}, {}, {})",
                    ph(&db, 1),
                    ph(&db, 2),
                    ph(&db, 3)
                ),
                &["c".into(), Value::Null, true.into()],
            )
            .await
            .unwrap_err();
        assert!(
            matches!(
                null,
                Error::Constraint {
                    kind: lexigram_sql::ConstraintKind::NotNull,
                    ..
                }
            ),
            "{}: {null:?}",
            t.name()
        );

        let fk = db
            .execute(
                &format!(
                    "INSERT INTO orders (id, item_id) VALUES (1, {})",
                    ph(&db, 1)
                ),
                &[Value::Int(999)],
            )
            .await
            .unwrap_err();
        assert!(
            matches!(
                fk,
                Error::Constraint {
                    kind: lexigram_sql::ConstraintKind::ForeignKey,
                    ..
                }
            ),
            "{}: {fk:?}",
            t.name()
        );
        // Nothing of the failed writes is left behind.
        let n: i64 = common::row_count(&db, "items").await;
        assert_eq!(n, 1, "{}", t.name());
    }
);

common::per_backend!(
    async fn missing_table_says_how_to_fix_it(t) {
        let db = t.connect().await;
        let err = db.fetch_all("SELECT * FROM ghosts", &[]).await.unwrap_err();
        assert!(
            matches!(&err, Error::TableMissing { table } if table == "ghosts"),
            "{}: {err:?}",
            t.name()
        );
        assert_eq!(err.code(), "LEX_ERR_SQL_010");
        let msg = err.to_string();
        assert!(
            msg.starts_with("RepositoryError: Table 'ghosts' does not exist"),
            "{msg}"
        );
        assert!(msg.contains("lexigram db upgrade"), "{msg}");
        assert!(msg.contains("enable migrations"), "{msg}");
    }
);

common::per_backend!(
    async fn transactions_commit_on_ok_and_roll_back_on_err_and_panic(t) {
        let db = setup(&t).await;
        let ins = insert_sql(&db);
        let row = |name: &str| -> Vec<Value> {
            vec![
                name.into(),
                1i64.into(),
                Value::Null,
                true.into(),
                Value::Null,
                Value::Null,
                Value::Null,
            ]
        };
        let (ins2, r) = (ins.clone(), row("committed"));
        db.transaction(|tx| async move { tx.execute(&ins2, &r).await.map(|_| ()) })
            .await
            .unwrap();

        let (ins2, r) = (ins.clone(), row("failed"));
        let err: Result<(), Error> = db
            .transaction(|tx| async move {
                tx.execute(&ins2, &r).await?;
                Err(Error::UnitOfWork {
                    detail: "abort".into(),
                })
            })
            .await;
        assert!(err.is_err());

        let (ins2, r, db2) = (ins.clone(), row("panicked"), db.clone());
        let handle = tokio::spawn(async move {
            let _: Result<(), Error> = db2
                .transaction(|tx| async move {
                    tx.execute(&ins2, &r).await?;
                    panic!("boom");
                })
                .await;
        });
        assert!(handle.await.is_err(), "the panic propagates");

        // A transaction dropped without commit is rolled back.
        let tx = db.begin().await.unwrap();
        tx.execute(&ins, &row("dropped")).await.unwrap();
        drop(tx);

        let names: Vec<String> = db
            .fetch_all("SELECT name FROM items ORDER BY name", &[])
            .await
            .unwrap()
            .iter()
            .map(|r| r.get("name").unwrap())
            .collect();
        assert_eq!(names, vec!["committed".to_string()], "{}", t.name());
        // Every connection came back.
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        assert_eq!(db.pool_stats().in_use, 0, "{}", t.name());
    }
);

common::per_backend!(
    async fn transaction_used_after_commit_is_a_typed_error(t) {
        let db = setup(&t).await;
        let tx = db.begin().await.unwrap();
        tx.commit().await.unwrap();
        let err = tx.execute("SELECT 1", &[]).await.unwrap_err();
        assert_eq!(err.code(), "LEX_ERR_SQL_015", "{}", t.name());
        assert!(err.to_string().contains("already committed"), "{err}");
        assert!(tx.commit().await.is_err());
    }
);

common::per_backend!(
    async fn savepoint_rollback_keeps_the_outer_transaction(t) {
        let db = setup(&t).await;
        let ins = insert_sql(&db);
        let row = |name: &str| -> Vec<Value> {
            vec![
                name.into(),
                1i64.into(),
                Value::Null,
                true.into(),
                Value::Null,
                Value::Null,
                Value::Null,
            ]
        };
        let tx = db.begin().await.unwrap();
        tx.execute(&ins, &row("outer")).await.unwrap();
        let sp = tx.savepoint().await.unwrap();
        tx.execute(&ins, &row("inner")).await.unwrap();
        sp.rollback().await.unwrap();
        tx.commit().await.unwrap();
        let rows = db.fetch_all("SELECT name FROM items", &[]).await.unwrap();
        let names: Vec<String> = rows.iter().map(|r| r.get("name").unwrap()).collect();
        assert_eq!(names, vec!["outer".to_string()], "{}", t.name());
    }
);

common::per_backend!(
    async fn stream_yields_every_row(t) {
        let db = setup(&t).await;
        let ins = insert_sql(&db);
        for i in 0..300 {
            db.execute(
                &ins,
                &[
                    format!("n{i}").into(),
                    Value::Int(i),
                    Value::Null,
                    true.into(),
                    Value::Null,
                    Value::Null,
                    Value::Null,
                ],
            )
            .await
            .unwrap();
        }
        let mut stream = db
            .fetch_stream("SELECT qty FROM items ORDER BY qty", &[])
            .await
            .unwrap();
        let mut sum = 0i64;
        let mut count = 0;
        while let Some(row) = stream.try_next().await.unwrap() {
            sum += row.get::<i64>("qty").unwrap();
            count += 1;
        }
        assert_eq!((count, sum), (300, (0..300).sum::<i64>()), "{}", t.name());
        drop(stream);
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        assert_eq!(db.pool_stats().in_use, 0, "{}", t.name());
    }
);

common::per_backend!(
    async fn health_check_reports_up_and_pool_figures(t) {
        let db = t.connect().await;
        let h = db.health_check().await;
        assert!(h.is_up(), "{}: {h:?}", t.name());
        assert_eq!(h.backend, t.kind.name());
        assert_eq!(h.pool.max, 10);
        assert!(h.pool.size >= 1);
        assert!(h.latency_ms >= 0.0);
        db.close().await;
        let after = db.health_check().await;
        assert!(!after.is_up());
        assert!(after.error.unwrap().contains("is closed"));
        let err = db.execute("SELECT 1", &[]).await.unwrap_err();
        assert_eq!(err.code(), "LEX_ERR_SQL_019");
    }
);

#[tokio::test]
async fn in_memory_databases_are_isolated_and_shared_across_connections() {
    let a = Database::connect_url("sqlite:///:memory:").await.unwrap();
    let b = Database::connect_url("sqlite://").await.unwrap();
    a.execute("CREATE TABLE only_a (n INTEGER)", &[])
        .await
        .unwrap();
    a.execute("INSERT INTO only_a VALUES (1)", &[])
        .await
        .unwrap();
    // Another pooled connection of the same Database sees the table.
    let tx = a.begin().await.unwrap();
    let n: i64 = common::row_count(&a, "only_a").await;
    assert_eq!(n, 1);
    tx.rollback().await.unwrap();
    let err = b.fetch_all("SELECT * FROM only_a", &[]).await.unwrap_err();
    assert!(matches!(err, Error::TableMissing { .. }), "{err:?}");
}

common::per_backend!(
    async fn numeric_aggregates_decode(t) {
        if t.kind != BackendKind::Postgres {
            return;
        }
        let db = t.connect().await;
        let row = db
            .fetch_one(
                "SELECT SUM(x) AS s, 12345678.90::numeric AS d, (-0.005)::numeric(10,3) AS neg, 10000::numeric AS big, 0::numeric AS zero FROM (VALUES (1::bigint), (20000::bigint)) v(x)",
                &[],
            )
            .await
            .unwrap();
        assert_eq!(row.get::<i64>("s").unwrap(), 20001);
        assert_eq!(row.get::<String>("d").unwrap(), "12345678.90");
        assert_eq!(row.get::<String>("neg").unwrap(), "-0.005");
        assert_eq!(row.get::<i64>("big").unwrap(), 10000);
        assert_eq!(row.get::<i64>("zero").unwrap(), 0);
        assert_eq!(row.get::<f64>("d").unwrap(), 12345678.90);
    }
);

common::per_backend!(
    async fn a_failed_commit_rolls_back_and_reports_the_commit_error(t) {
        // MySQL/MariaDB check foreign keys per statement; there is no deferred constraint.
        if t.kind == BackendKind::MySql {
            return;
        }
        let db = t.connect().await;
        db.execute_batch(
            "CREATE TABLE parents (id INTEGER PRIMARY KEY);
             CREATE TABLE children (id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL REFERENCES parents(id) DEFERRABLE INITIALLY DEFERRED);",
        )
        .await
        .unwrap();
        let tx = db.begin().await.unwrap();
        tx.execute("INSERT INTO children (id, parent_id) VALUES (1, 42)", &[])
            .await
            .unwrap();
        let err = tx.commit().await.unwrap_err();
        assert!(
            matches!(
                err,
                Error::Constraint {
                    kind: lexigram_sql::ConstraintKind::ForeignKey,
                    ..
                }
            ),
            "{}: the commit's own error, not a rollback failure: {err:?}",
            t.name()
        );
        let n: i64 = common::row_count(&db, "children").await;
        assert_eq!(n, 0, "{}", t.name());
        // The write lock (SQLite) and the connection are free again.
        db.execute("INSERT INTO parents (id) VALUES (1)", &[])
            .await
            .unwrap();
        assert_eq!(db.pool_stats().in_use, 0, "{}", t.name());
    }
);

common::per_backend!(
    async fn select_star_sees_a_column_added_after_it_first_ran(t) {
        let db = t.connect().await;
        db.execute_batch("CREATE TABLE evolving (a INTEGER)")
            .await
            .unwrap();
        db.execute("INSERT INTO evolving (a) VALUES (1)", &[])
            .await
            .unwrap();
        let before = db.fetch_one("SELECT * FROM evolving", &[]).await.unwrap();
        assert_eq!(before.columns(), ["a"], "{}", t.name());

        db.execute_batch("ALTER TABLE evolving ADD COLUMN b INTEGER")
            .await
            .unwrap();
        db.execute("UPDATE evolving SET b = 2", &[]).await.unwrap();
        for _ in 0..3 {
            let after = db
                .fetch_one("SELECT * FROM evolving", &[])
                .await
                .unwrap_or_else(|e| panic!("{}: {e}", t.name()));
            assert_eq!(after.columns(), ["a", "b"], "{}", t.name());
            assert_eq!(after.get::<i64>("b").unwrap(), 2, "{}", t.name());
            let all = db.fetch_all("SELECT * FROM evolving", &[]).await.unwrap();
            assert_eq!(all[0].columns(), ["a", "b"], "{}", t.name());
        }
    }
);

common::per_backend!(
    async fn first_row_fetches_return_the_first_of_many_and_leave_the_connection_clean(t) {
        let db = t.connect().await;
        db.execute_batch("CREATE TABLE many (n INTEGER NOT NULL)")
            .await
            .unwrap();
        for n in 1..=5i64 {
            let sql = format!("INSERT INTO many (n) VALUES ({})", ph(&db, 1));
            db.execute(&sql, &[n.into()]).await.unwrap();
        }
        let top = "SELECT n FROM many ORDER BY n DESC";
        let one = db.fetch_one(top, &[]).await.unwrap();
        assert_eq!(one.get::<i64>("n").unwrap(), 5, "{}", t.name());
        let opt = db.fetch_optional(top, &[]).await.unwrap();
        assert_eq!(opt.unwrap().get::<i64>("n").unwrap(), 5, "{}", t.name());

        // Same connection, inside one transaction: the rows left unread by each first-row
        // fetch must not leak into the next statement's result.
        let tx = db.begin().await.unwrap();
        for _ in 0..3 {
            let first = tx.fetch_one(top, &[]).await.unwrap();
            assert_eq!(first.get::<i64>("n").unwrap(), 5, "{}", t.name());
            let count = tx
                .fetch_one("SELECT COUNT(*) AS c FROM many", &[])
                .await
                .unwrap();
            assert_eq!(count.get::<i64>("c").unwrap(), 5, "{}", t.name());
        }
        tx.execute("DELETE FROM many WHERE n > 3", &[])
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let after = db.fetch_optional(top, &[]).await.unwrap().unwrap();
        assert_eq!(after.get::<i64>("n").unwrap(), 3, "{}", t.name());
        let none = db
            .fetch_optional("SELECT n FROM many WHERE n > 100", &[])
            .await
            .unwrap();
        assert!(none.is_none(), "{}", t.name());
    }
);
