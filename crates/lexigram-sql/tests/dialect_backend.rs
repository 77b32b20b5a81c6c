//! The dialect's DDL, catalog and advisory-lock statements, run for real on every backend: the
//! same calls build a table, find it in the catalog with one result shape, repeat idempotent
//! DDL safely, and take a lock that a second session cannot take until it is released.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::time::Duration;

use lexigram_sql::Value;
use lexigram_sql::backend::{LockScope, SqlType};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ddl_and_catalog_have_one_shape_on_every_backend() {
    for target in common::all().await {
        let db = target.connect().await;
        let d = db.dialect();
        let table = common::unique("dia");
        let create = format!(
            "CREATE TABLE {} ({}, name {} NOT NULL, note {} NULL, at {} NULL)",
            d.quote_ident(&table),
            d.generated_key("id", SqlType::BigInt),
            d.column_type(SqlType::String(40)),
            d.column_type(SqlType::Text),
            d.column_type(SqlType::Timestamp),
        );
        db.execute(&create, &[]).await.unwrap();

        // Idempotent DDL: the second index creation and the second column addition succeed
        // (or are told apart as "exists already" where the backend has no IF NOT EXISTS).
        let index = format!("{table}_name");
        for _ in 0..2 {
            let sql = d.create_index_sql(false, &index, &table, &["name"], true);
            match db.execute(&sql, &[]).await {
                Ok(_) => {}
                Err(e) if d.is_duplicate_index(&e) => {}
                Err(e) => panic!("{}: {sql}: {e}", target.name()),
            }
        }
        let def = format!("extra {} NULL", d.column_type(SqlType::Integer));
        if d.has_add_column_if_not_exists() {
            for _ in 0..2 {
                db.execute(&d.add_column_sql(&table, &def, true), &[])
                    .await
                    .unwrap();
            }
        } else {
            db.execute(&d.add_column_sql(&table, &def, false), &[])
                .await
                .unwrap();
        }

        let tables: Vec<String> = db
            .fetch_all(d.tables_sql(), &[])
            .await
            .unwrap()
            .iter()
            .map(|r| r.get_at(0).unwrap())
            .collect();
        assert!(tables.contains(&table), "{}: {tables:?}", target.name());

        let columns = db
            .fetch_all(d.columns_sql(), &[Value::Null, Value::from(table.as_str())])
            .await
            .unwrap();
        let shape: Vec<(String, String)> = columns
            .iter()
            .map(|r| (r.get_at(0).unwrap(), r.get_at(3).unwrap()))
            .collect();
        let expected = [
            ("id", "NO"),
            ("name", "NO"),
            ("note", "YES"),
            ("at", "YES"),
            ("extra", "YES"),
        ];
        assert_eq!(
            shape,
            expected.map(|(c, n)| (c.to_string(), n.to_string())),
            "{}",
            target.name()
        );
        let declared: String = columns[1].get_at(2).unwrap();
        assert!(
            declared.to_ascii_lowercase().contains("char"),
            "{}: {declared}",
            target.name()
        );

        let indexes: Vec<String> = db
            .fetch_all(d.indexes_sql(), &[Value::from(table.as_str())])
            .await
            .unwrap()
            .iter()
            .map(|r| r.get_at(0).unwrap())
            .collect();
        assert!(indexes.contains(&index), "{}: {indexes:?}", target.name());

        // The generated key generates.
        db.execute(
            &format!(
                "INSERT INTO {} (name) VALUES ({})",
                d.quote_ident(&table),
                d.placeholders(1, 1)
            ),
            &[Value::from("a")],
        )
        .await
        .unwrap();
        let id: i64 = db
            .fetch_one(&format!("SELECT id FROM {}", d.quote_ident(&table)), &[])
            .await
            .unwrap()
            .get("id")
            .unwrap();
        assert_eq!(id, 1, "{}", target.name());

        db.execute(&format!("DROP TABLE {}", d.quote_ident(&table)), &[])
            .await
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_lock_excludes_a_second_session_until_released() {
    for target in common::all().await {
        let db = target.connect().await;
        let d = db.dialect();
        let Some(try_lock) = d.try_lock_sql(LockScope::Session) else {
            // SQLite: no advisory locks; its writers are serialized by its own write lock.
            assert!(d.is_embedded(), "{}", target.name());
            continue;
        };
        let unlock = d
            .unlock_sql()
            .expect("a backend with session locks releases them");
        let name = [Value::from(common::unique("lock").as_str())];
        let first = db.begin().await.unwrap();
        let second = db.begin().await.unwrap();
        let taken = |row: lexigram_sql::Row| row.get::<bool>("locked").unwrap();
        assert!(taken(first.fetch_one(&try_lock, &name).await.unwrap()));
        assert!(
            !taken(second.fetch_one(&try_lock, &name).await.unwrap()),
            "{}: a second session took a held lock",
            target.name()
        );
        first.fetch_all(&unlock, &name).await.unwrap();
        assert!(taken(second.fetch_one(&try_lock, &name).await.unwrap()));
        // The waiting form returns once the lock is free.
        let wait = d
            .lock_sql(LockScope::Session, Duration::from_secs(1))
            .unwrap();
        second.fetch_all(&unlock, &name).await.unwrap();
        assert!(taken(first.fetch_one(&wait, &name).await.unwrap()));
        first.fetch_all(&unlock, &name).await.unwrap();
        first.rollback().await.unwrap();
        second.rollback().await.unwrap();
    }
}
