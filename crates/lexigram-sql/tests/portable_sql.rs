//! Portable raw SQL on every backend: one statement text with `?` or `:name` placeholders runs
//! unchanged on SQLite, PostgreSQL and MariaDB; placeholder-like text inside string literals,
//! quoted identifiers and comments is left alone, and values are bound, never spliced.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a panic is a failed assertion

mod common;

use lexigram_sql::Error;
use lexigram_sql::repository::Portable;

common::per_backend!(
    async fn one_statement_text_runs_on_every_backend(t) {
        let db = t.connect().await;
        let name = t.name();
        db.execute(
            &common::ddl(
                t.kind,
                "CREATE TABLE notes (id {pk}, body VARCHAR(60) NOT NULL, tag VARCHAR(20))",
            ),
            &[],
        )
        .await
        .unwrap();
        let hostile = "x'); DROP TABLE notes; -- ? :body";
        for (body, tag) in [("what? :when", "q"), (hostile, "h"), ("plain", "p")] {
            let n = Portable::new(
                "INSERT INTO notes (body, tag) /* :tag ? */ VALUES (:body, :tag) -- ? :x",
            )
            .bind_named("body", body)
            .bind_named("tag", tag)
            .execute(&db)
            .await
            .unwrap();
            assert_eq!(n, 1, "{name}");
        }
        let rows = Portable::new(
            "SELECT body, 'it''s ? and :x' AS lit FROM notes WHERE tag = ? OR body = ? ORDER BY id",
        )
        .bind("q")
        .bind(hostile)
        .fetch_all(&db)
        .await
        .unwrap();
        assert_eq!(rows.len(), 2, "{name}");
        assert_eq!(rows[0].get::<String>("body").unwrap(), "what? :when");
        assert_eq!(rows[1].get::<String>("body").unwrap(), hostile);
        assert_eq!(rows[0].get::<String>("lit").unwrap(), "it's ? and :x");
        // A name used twice binds its value twice.
        let row = Portable::new("SELECT COUNT(*) AS n FROM notes WHERE tag = :t OR body = :t")
            .bind_named("t", "p")
            .fetch_one(&db)
            .await
            .unwrap();
        assert_eq!(row.get::<i64>("n").unwrap(), 1, "{name}");
        match Portable::new("SELECT ? FROM notes").fetch_all(&db).await {
            Err(Error::InvalidRequest { .. }) => {}
            other => panic!("{name}: {other:?}"),
        }
        assert_eq!(common::row_count(&db, "notes").await, 3, "{name}");
    }
);
