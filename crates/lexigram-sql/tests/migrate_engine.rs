//! The migration engine on every backend: apply/revert, failures (rolled back on PostgreSQL
//! and SQLite, dirty on MySQL/MariaDB), checksums over CRLF/BOM files, the lock, embedded
//! migrations and the "table does not exist" → migrate path.
#![allow(clippy::unwrap_used, clippy::expect_used)] // helpers outside #[test] fns assert too

mod common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use lexigram_sql::config::BackendKind;
use lexigram_sql::migrate::{DowngradeTarget, MigrationSource, MigrationState, Migrator};
use lexigram_sql::{Database, Error, MigrationErrorKind};

fn fixtures(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn migration_error(
    result: Result<impl std::fmt::Debug, Error>,
) -> (MigrationErrorKind, Option<i64>, String) {
    let err = result.expect_err("expected a migration error");
    assert_eq!(err.code(), "LEX_ERR_SQL_014", "{err}");
    let text = err.to_string();
    match err {
        Error::Migration(m) => (m.kind, m.version, text),
        other => panic!("expected Error::Migration, got {other:?}"),
    }
}

async fn count(db: &Database, sql: &str) -> i64 {
    db.fetch_one(sql, &[]).await.unwrap().get_at(0).unwrap()
}

common::per_backend!(
    async fn upgrade_status_history_and_downgrade(t) {
        let db = t.connect().await;
        let migrator = Migrator::new(
            &db,
            MigrationSource::from_dir(fixtures("migrations_lf")).unwrap(),
        );
        assert_eq!(
            migrator.status().await.unwrap().pending(),
            vec![1, 2],
            "{}",
            t.name()
        );

        let plan = migrator.plan_upgrade(None).await.unwrap();
        assert!(plan.dry_run);
        assert_eq!(plan.steps.len(), 2);
        assert!(
            !common::table_exists(&db, "users").await,
            "dry run changed nothing on {}",
            t.name()
        );

        let report = migrator.upgrade(Some(1)).await.unwrap();
        assert_eq!(
            report.steps.iter().map(|s| s.version).collect::<Vec<_>>(),
            vec![1]
        );
        assert_eq!(report.current_version, Some(1));
        assert_eq!(count(&db, "SELECT COUNT(*) FROM users").await, 1);
        assert!(!common::table_exists(&db, "posts").await);

        let report = migrator.upgrade(None).await.unwrap();
        assert_eq!(report.steps.len(), 1, "{}", t.name());
        assert!(common::table_exists(&db, "posts").await);
        let status = migrator.status().await.unwrap();
        assert_eq!(status.current_version, Some(2));
        assert!(status.is_clean() && status.pending().is_empty());
        let history = migrator.history(Some(1)).await.unwrap();
        assert_eq!(history.len(), 1);
        assert_eq!(history[0].version, 2);
        assert!(!history[0].dirty);

        assert!(
            migrator.upgrade(None).await.unwrap().steps.is_empty(),
            "second upgrade is a no-op"
        );

        let report = migrator.downgrade(DowngradeTarget::Last).await.unwrap();
        assert_eq!(report.current_version, Some(1));
        assert!(!common::table_exists(&db, "posts").await, "{}", t.name());
        migrator.upgrade(None).await.unwrap();
        let report = migrator.downgrade(DowngradeTarget::To(0)).await.unwrap();
        assert_eq!(
            report.steps.iter().map(|s| s.version).collect::<Vec<_>>(),
            vec![2, 1]
        );
        assert!(!common::table_exists(&db, "users").await);
        assert_eq!(migrator.status().await.unwrap().current_version, None);
        db.close().await;
    }
);

common::per_backend!(
    async fn failing_migration_rolls_back_or_is_marked_dirty(t) {
        let db = t.connect().await;
        let broken = "CREATE TABLE partial_t (id BIGINT PRIMARY KEY);\nINSERT INTO no_such_table VALUES (1);\n";
        let source = MigrationSource::from_static(&[
            (
                "0001_ok.up.sql",
                "CREATE TABLE ok_t (id BIGINT PRIMARY KEY);",
            ),
            ("0002_broken.up.sql", broken),
        ])
        .unwrap();
        let migrator = Migrator::new(&db, source);
        let (kind, version, text) = migration_error(migrator.upgrade(None).await);
        assert_eq!(kind, MigrationErrorKind::Failed, "{text}");
        assert_eq!(version, Some(2));
        assert!(
            text.contains("0002_broken.up.sql") && text.contains("statement 2"),
            "{text}"
        );
        assert!(text.contains("INSERT INTO no_such_table"), "{text}");
        assert!(
            common::table_exists(&db, "ok_t").await,
            "the migration before the failure stays applied"
        );
        let status = migrator.status().await.unwrap();
        if t.kind == BackendKind::MySql {
            assert!(
                text.contains("dirty") && text.contains("lexigram db repair"),
                "{text}"
            );
            assert_eq!(status.dirty(), vec![2]);
            let (kind, version, text) = migration_error(migrator.upgrade(None).await);
            assert_eq!(
                (kind, version),
                (MigrationErrorKind::Dirty, Some(2)),
                "{text}"
            );
            assert!(text.contains("lexigram db repair"), "{text}");
            assert!(migrator.validate().await.is_err());
            // The manual fix, then repair, then a fixed file applies.
            db.execute("DROP TABLE partial_t", &[]).await.unwrap();
            let repaired = migrator.repair().await.unwrap();
            assert_eq!(repaired.cleared_dirty, vec![2]);
        } else {
            assert!(text.contains("rolled back"), "{text}");
            assert!(
                !common::table_exists(&db, "partial_t").await,
                "nothing of it remains on {}",
                t.name()
            );
            assert_eq!(status.pending(), vec![2], "not recorded on {}", t.name());
            assert_eq!(status.current_version, Some(1));
        }
        let fixed = MigrationSource::from_static(&[
            (
                "0001_ok.up.sql",
                "CREATE TABLE ok_t (id BIGINT PRIMARY KEY);",
            ),
            (
                "0002_broken.up.sql",
                "CREATE TABLE partial_t (id BIGINT PRIMARY KEY);",
            ),
        ])
        .unwrap();
        let report = Migrator::new(&db, fixed).upgrade(None).await.unwrap();
        assert_eq!(report.current_version, Some(2), "{}", t.name());
        db.close().await;
    }
);

#[tokio::test]
async fn checksums_ignore_crlf_and_bom_but_not_edits() {
    let lf = MigrationSource::from_dir(fixtures("migrations_lf")).unwrap();
    let crlf_dir = fixtures("migrations_crlf_bom");
    let raw = std::fs::read(crlf_dir.join("0001_users.up.sql")).unwrap();
    assert!(
        raw.starts_with(b"\xef\xbb\xbf") && raw.windows(2).any(|w| w == b"\r\n"),
        "fixture keeps its BOM and CRLF"
    );
    let crlf = MigrationSource::from_dir(&crlf_dir).unwrap();
    for (a, b) in lf.migrations().iter().zip(crlf.migrations()) {
        assert_eq!(a.checksum, b.checksum);
    }
    for t in common::all().await {
        let db = t.connect().await;
        Migrator::new(&db, lf.clone()).upgrade(None).await.unwrap();
        let status = Migrator::new(&db, crlf.clone()).validate().await.unwrap();
        assert!(status.is_clean(), "CRLF/BOM copy validates on {}", t.name());
        assert!(
            Migrator::new(&db, crlf.clone())
                .upgrade(None)
                .await
                .unwrap()
                .steps
                .is_empty()
        );

        let edited_text = std::fs::read_to_string(fixtures("migrations_lf/0002_posts.up.sql"))
            .unwrap()
            .replace("200", "300");
        let edited = MigrationSource::from_static(&[
            ("0001_users.up.sql", lf.get(1).unwrap().up.as_str()),
            ("0002_posts.up.sql", edited_text.as_str()),
        ])
        .unwrap();
        let migrator = Migrator::new(&db, edited);
        for result in [
            migrator.upgrade(None).await.map(|_| ()),
            migrator.validate().await.map(|_| ()),
        ] {
            let (kind, version, text) = migration_error(result);
            assert_eq!(
                (kind, version),
                (MigrationErrorKind::ChecksumMismatch, Some(2)),
                "{text}"
            );
            assert!(text.contains("migration 2 (posts) was changed"), "{text}");
        }
        assert_eq!(migrator.status().await.unwrap().changed(), vec![2]);
        // Repair accepts the edit.
        assert_eq!(migrator.repair().await.unwrap().realigned, vec![2]);
        assert!(migrator.validate().await.is_ok());

        // An applied version without a file: status and validate report it.
        let only_first =
            MigrationSource::from_static(&[("0001_users.up.sql", lf.get(1).unwrap().up.as_str())])
                .unwrap();
        let migrator = Migrator::new(&db, only_first);
        let status = migrator.status().await.unwrap();
        assert_eq!(status.missing_files(), vec![2]);
        assert_eq!(status.entries[1].state, MigrationState::MissingFile);
        let (kind, version, _) = migration_error(migrator.validate().await);
        assert_eq!((kind, version), (MigrationErrorKind::MissingFile, Some(2)));
        db.close().await;
    }
}

common::per_backend!(
    async fn missing_table_error_names_the_fix_and_migrating_cures_it(t) {
        let db = t.connect().await;
        let err = db
            .fetch_all("SELECT id, name FROM users", &[])
            .await
            .unwrap_err();
        assert!(matches!(err, Error::TableMissing { .. }), "{err:?}");
        assert_eq!(err.code(), "LEX_ERR_SQL_010");
        let text = err.to_string();
        assert!(
            text.starts_with("RepositoryError: Table 'users' does not exist"),
            "{text}"
        );
        assert!(
            text.contains("lexigram db upgrade") && text.contains("enable_migrations"),
            "{text}"
        );
        db.migrate(&MigrationSource::from_dir(fixtures("migrations_lf")).unwrap())
            .await
            .unwrap();
        let rows = db
            .fetch_all("SELECT id, name FROM users", &[])
            .await
            .unwrap();
        assert_eq!(rows[0].get::<String>("name").unwrap(), "ada; lovelace");
        db.close().await;
    }
);

#[tokio::test]
async fn embedded_migrations_apply_without_files() {
    let source = lexigram_sql::embed_migrations!(
        "fixtures/migrations_lf/0001_users.up.sql",
        "fixtures/migrations_lf/0001_users.down.sql",
        "fixtures/migrations_crlf_bom/0002_posts.up.sql",
        "fixtures/migrations_crlf_bom/0002_posts.down.sql",
    )
    .unwrap();
    assert_eq!(source.migrations().len(), 2);
    assert_eq!(source.get(2).unwrap().up_file, "embedded:0002_posts.up.sql");
    for t in common::all().await {
        let db = t.connect().await;
        assert_eq!(db.migrate(&source).await.unwrap().current_version, Some(2));
        // The same files from disk agree: nothing to do, nothing changed.
        let disk = Migrator::new(
            &db,
            MigrationSource::from_dir(fixtures("migrations_lf")).unwrap(),
        );
        assert!(disk.validate().await.unwrap().is_clean());
        db.close().await;
    }
}

common::per_backend!(
    async fn no_transaction_directive_runs_outside_a_transaction(t) {
        let db = t.connect().await;
        let special = match t.kind {
            BackendKind::Postgres => {
                "-- lexigram:no-transaction\nCREATE INDEX CONCURRENTLY idx_nt ON nt (n);"
            }
            BackendKind::Sqlite => "-- lexigram:no-transaction\nVACUUM;",
            _ => "-- lexigram:no-transaction\nCREATE INDEX idx_nt ON nt (n);",
        };
        let source = MigrationSource::from_static(&[
            ("0001_nt.up.sql", "CREATE TABLE nt (n BIGINT);"),
            ("0002_special.up.sql", special),
        ])
        .unwrap();
        let migrator = Migrator::new(&db, source);
        let report = migrator
            .upgrade(None)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", t.name()));
        assert_eq!(report.current_version, Some(2));
        let status = migrator.status().await.unwrap();
        assert!(status.is_clean() && status.dirty().is_empty(), "{status:?}");
        db.close().await;
    }
);

/// Holds the migration lock from outside the engine, the way another migrator would.
async fn hold_lock(t: &common::TestDb) -> (Database, lexigram_sql::Transaction) {
    let db = Database::connect_url(&t.url).await.unwrap();
    let tx = db.begin().await.unwrap();
    match t.kind {
        BackendKind::Postgres => {
            tx.execute_batch("SELECT pg_advisory_xact_lock(hashtextextended(current_schema() || '.schema_migrations', 0))")
                .await
                .unwrap();
        }
        BackendKind::MySql => {
            let row = tx
                .fetch_one("SELECT GET_LOCK(CONCAT('lexigram_migrate_', MD5(CONCAT(DATABASE(), '.schema_migrations'))), 0) AS l", &[])
                .await
                .unwrap();
            assert_eq!(row.get::<i64>("l").unwrap(), 1);
        }
        _ => {} // BEGIN IMMEDIATE already holds SQLite's write lock
    }
    (db, tx)
}

common::per_backend!(
    async fn lock_timeout_is_a_typed_error(t) {
        let (holder, tx) = hold_lock(&t).await;
        let db = t.connect().await;
        let migrator = Migrator::new(
            &db,
            MigrationSource::from_dir(fixtures("migrations_lf")).unwrap(),
        )
        .with_lock_timeout(Duration::from_millis(300));
        let started = Instant::now();
        let (kind, _, text) = migration_error(migrator.upgrade(None).await);
        assert_eq!(kind, MigrationErrorKind::LockTimeout, "{text}");
        assert!(text.contains("lock_timeout"), "{text}");
        // SQLite waits in its busy handler for at least 1 s per attempt.
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
        if t.kind == BackendKind::MySql {
            tx.execute_batch("DO RELEASE_LOCK(CONCAT('lexigram_migrate_', MD5(CONCAT(DATABASE(), '.schema_migrations'))))")
                .await
                .unwrap();
        }
        tx.rollback().await.unwrap();
        holder.close().await;
        assert_eq!(
            migrator.upgrade(None).await.unwrap().current_version,
            Some(2),
            "{}",
            t.name()
        );
        db.close().await;
    }
);

common::per_backend!(
    async fn concurrent_migrators_apply_each_migration_once(t) {
        let mut files: Vec<(String, String)> = vec![(
            "0001_log.up.sql".into(),
            "CREATE TABLE mlog (v BIGINT NOT NULL);".into(),
        )];
        for v in 2..=10 {
            files.push((
                format!("{v:04}_m{v}.up.sql"),
                format!("INSERT INTO mlog (v) VALUES ({v});"),
            ));
        }
        let refs: Vec<(&str, &str)> = files
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        let source = MigrationSource::from_static(&refs).unwrap();
        let mut tasks = Vec::new();
        for _ in 0..4 {
            let (url, source) = (t.url.clone(), source.clone());
            tasks.push(tokio::spawn(async move {
                let db = Database::connect_url(&url).await.unwrap();
                let result = db.migrate(&source).await;
                db.close().await;
                result
            }));
        }
        let mut applied = 0;
        for task in tasks {
            applied += task
                .await
                .unwrap()
                .unwrap_or_else(|e| panic!("{}: {e}", t.name()))
                .steps
                .len();
        }
        assert_eq!(applied, 10, "{}", t.name());
        let db = t.connect().await;
        assert_eq!(count(&db, "SELECT COUNT(*) FROM mlog").await, 9);
        assert_eq!(count(&db, "SELECT COUNT(DISTINCT v) FROM mlog").await, 9);
        db.close().await;
    }
);

common::per_backend!(
    async fn trigger_and_function_bodies_are_not_split(t) {
        let db = t.connect().await;
        let body = match t.kind {
            BackendKind::Postgres => {
                "CREATE TABLE items (n BIGINT);\nCREATE TABLE item_count (c BIGINT);\nINSERT INTO item_count VALUES (0);\n\
                 CREATE FUNCTION bump() RETURNS trigger AS $$ BEGIN UPDATE item_count SET c = c + 1; RETURN NEW; END; $$ LANGUAGE plpgsql;\n\
                 CREATE TRIGGER items_bump AFTER INSERT ON items FOR EACH ROW EXECUTE FUNCTION bump();\n"
            }
            BackendKind::MySql => {
                "CREATE TABLE items (n BIGINT);\nCREATE TABLE item_count (c BIGINT);\nINSERT INTO item_count VALUES (0);\n\
                 CREATE TRIGGER items_bump AFTER INSERT ON items FOR EACH ROW BEGIN UPDATE item_count SET c = c + 1; END;\n"
            }
            _ => {
                "CREATE TABLE items (n BIGINT);\nCREATE TABLE item_count (c BIGINT);\nINSERT INTO item_count VALUES (0);\n\
                 CREATE TRIGGER items_bump AFTER INSERT ON items BEGIN UPDATE item_count SET c = c + 1; END;\n"
            }
        };
        let source = MigrationSource::from_static(&[("0001_items.up.sql", body)]).unwrap();
        db.migrate(&source)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", t.name()));
        db.execute("INSERT INTO items (n) VALUES (1)", &[])
            .await
            .unwrap();
        assert_eq!(
            count(&db, "SELECT c FROM item_count").await,
            1,
            "{}",
            t.name()
        );
        db.close().await;
    }
);
