//! `lexigram db` migration commands end to end through the built binary, on every backend.
#![allow(clippy::unwrap_used, clippy::expect_used)] // helpers outside #[test] fns assert too

#[path = "../../lexigram-sql/tests/common/mod.rs"]
mod common;
mod support;

use std::path::Path;

use lexigram_sql::config::BackendKind;
use support::{Run, lexigram, spawn, wait};

/// Runs `lexigram db <args> --url <url>` in `dir`.
fn db(dir: &Path, url: &str, args: &[&str]) -> Run {
    let mut all = vec!["db"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--url", url]);
    lexigram(dir, &all, &[])
}

/// The version of the migration `name` that `create` made in `dir`.
fn version_of(dir: &Path, name: &str) -> String {
    let suffix = format!("_{name}.up.sql");
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.unwrap().file_name().into_string().ok())
        .find_map(|f| f.strip_suffix(&suffix).map(str::to_string))
        .unwrap_or_else(|| panic!("no {name} migration in {}", dir.display()))
}

fn write(dir: &Path, file: &str, text: &str) {
    std::fs::write(dir.join(file), text).unwrap();
}

#[tokio::test]
async fn init_create_upgrade_status_history_downgrade_validate() {
    for t in common::all().await {
        let work = tempfile::tempdir().unwrap();
        let cwd = work.path();
        let url = t.url.as_str();
        assert!(
            db(cwd, url, &["init"])
                .ok()
                .contains("Created migrations directory migrations")
        );
        let mig = cwd.join("migrations");
        assert!(mig.is_dir());

        let out = db(cwd, url, &["create", "add_users"]).ok().to_string();
        let v1 = version_of(&mig, "add_users");
        assert_eq!(v1.len(), 14, "a UTC timestamp version: {v1}");
        assert!(
            out.contains(&format!("{v1}_add_users.up.sql")) && out.contains(".down.sql"),
            "{out}"
        );
        db(cwd, url, &["create", "add_posts"]).ok();
        let v2 = version_of(&mig, "add_posts");
        assert!(v2 > v1, "{v2} sorts after {v1}");
        write(
            &mig,
            &format!("{v1}_add_users.up.sql"),
            "CREATE TABLE users (id BIGINT PRIMARY KEY, name VARCHAR(100) NOT NULL);\n",
        );
        write(
            &mig,
            &format!("{v1}_add_users.down.sql"),
            "DROP TABLE users;\n",
        );
        write(
            &mig,
            &format!("{v2}_add_posts.up.sql"),
            "CREATE TABLE posts (id BIGINT PRIMARY KEY, title VARCHAR(200) NOT NULL);\n",
        );
        write(
            &mig,
            &format!("{v2}_add_posts.down.sql"),
            "DROP TABLE posts;\n",
        );

        let out = db(cwd, url, &["upgrade", "--dry-run"]).ok().to_string();
        assert!(out.contains("Would apply 2 migrations"), "{out}");
        let out = db(cwd, url, &["upgrade"]).ok().to_string();
        assert!(
            out.contains(&format!("[1/2] applied {v1}_add_users")),
            "{out}"
        );
        assert!(
            out.contains(&format!("[2/2] applied {v2}_add_posts")),
            "{out}"
        );
        assert!(
            out.contains("Applied 2 migrations") && out.contains(&format!("Current version: {v2}")),
            "{out}"
        );
        assert!(!out.contains("lexigram_test_pw"), "password printed: {out}");

        let out = db(cwd, url, &["status"]).ok().to_string();
        assert!(
            out.contains(&format!("Current version: {v2}")) && out.contains("Pending: none"),
            "{out}"
        );
        assert!(
            out.lines()
                .any(|l| l.starts_with(&v1) && l.contains("add_users") && l.contains("applied")),
            "{out}"
        );
        let out = db(cwd, url, &["history"]).ok().to_string();
        let lines: Vec<&str> = out.lines().collect();
        assert!(lines[0].starts_with("VERSION") && lines.len() == 3, "{out}");
        let out = db(cwd, url, &["history", "--limit", "1", "--json"])
            .ok()
            .to_string();
        let json: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(json.as_array().unwrap().len(), 1);
        let out = db(cwd, url, &["inspect", "--table", "posts"])
            .ok()
            .to_string();
        assert!(
            out.contains("Table posts") && out.contains("title"),
            "{out}"
        );

        let database = t.connect().await;
        assert!(
            common::table_exists(&database, "users").await
                && common::table_exists(&database, "posts").await
        );
        let out = db(cwd, url, &["downgrade"]).ok().to_string();
        assert!(
            out.contains(&format!("reverted {v2}_add_posts"))
                && out.contains("Reverted 1 migration"),
            "{out}"
        );
        assert!(
            !common::table_exists(&database, "posts").await,
            "{}",
            t.name()
        );
        let out = db(cwd, url, &["status", "--json"]).ok().to_string();
        let json: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(json["current_version"].as_i64().unwrap().to_string(), v1);
        db(cwd, url, &["downgrade", "--steps", "1"]).ok();
        assert!(!common::table_exists(&database, "users").await);

        let out = db(cwd, url, &["upgrade", "--to", &v1]).ok().to_string();
        assert!(
            out.contains("Applied 1 migration") && out.contains(&format!("Current version: {v1}")),
            "{out}"
        );
        assert!(
            common::table_exists(&database, "users").await
                && !common::table_exists(&database, "posts").await
        );
        let out = db(cwd, url, &["validate"]).ok().to_string();
        assert!(
            out.contains("OK: 1 applied migrations match their files; 1 pending"),
            "{out}"
        );

        // reset refuses without --force, then reverts and re-applies everything.
        let err = db(cwd, url, &["reset"]).failed().to_string();
        assert!(err.contains("--force"), "{err}");
        assert!(common::table_exists(&database, "users").await);
        let out = db(cwd, url, &["reset", "--force"]).ok().to_string();
        assert!(out.contains("Reverted 1 and applied 2 migrations"), "{out}");
        assert!(common::table_exists(&database, "posts").await);
        database.close().await;
    }
}

#[tokio::test]
async fn four_processes_upgrade_twenty_migrations_at_once() {
    for t in common::all().await {
        let work = tempfile::tempdir().unwrap();
        let mig = work.path().join("migrations");
        std::fs::create_dir(&mig).unwrap();
        write(
            &mig,
            "0001_log.up.sql",
            "CREATE TABLE applied_log (v BIGINT NOT NULL);\n",
        );
        for v in 2..=20 {
            write(
                &mig,
                &format!("{v:04}_step{v}.up.sql"),
                &format!(
                    "CREATE TABLE t{v} (id BIGINT);\nINSERT INTO applied_log (v) VALUES ({v});\n"
                ),
            );
        }
        let children: Vec<_> = (0..4)
            .map(|_| spawn(work.path(), &["db", "upgrade", "--url", &t.url]))
            .collect();
        let runs: Vec<Run> = children.into_iter().map(wait).collect();
        let mut applied = 0;
        for run in &runs {
            applied += run
                .ok()
                .lines()
                .filter(|l| l.contains("] applied "))
                .count();
        }
        assert_eq!(
            applied,
            20,
            "each migration applied by exactly one process on {}",
            t.name()
        );
        let database = t.connect().await;
        let row = database
            .fetch_one(
                "SELECT COUNT(*) AS n, COUNT(DISTINCT v) AS d FROM applied_log",
                &[],
            )
            .await
            .unwrap();
        assert_eq!(
            (row.get::<i64>("n").unwrap(), row.get::<i64>("d").unwrap()),
            (19, 19)
        );
        let n: i64 = common::row_count(&database, "schema_migrations").await;
        assert_eq!(n, 20);
        database.close().await;
    }
}

#[tokio::test]
async fn a_migration_failing_halfway() {
    for t in common::all().await {
        let work = tempfile::tempdir().unwrap();
        let (cwd, url) = (work.path(), t.url.as_str());
        let mig = cwd.join("migrations");
        std::fs::create_dir(&mig).unwrap();
        write(&mig, "0001_ok.up.sql", "CREATE TABLE ok_t (id BIGINT);\n");
        write(
            &mig,
            "0002_broken.up.sql",
            "CREATE TABLE partial_t (id BIGINT);\n\nINSERT INTO missing_t VALUES (1);\n",
        );
        let err = db(cwd, url, &["upgrade"]).failed().to_string();
        assert!(err.contains("MigrationError: 0002_broken.up.sql failed at statement 2 (line 3) `INSERT INTO missing_t VALUES (1)`"), "{err}");
        assert!(err.contains("LEX_ERR_SQL_014"), "{err}");
        let database = t.connect().await;
        assert!(common::table_exists(&database, "ok_t").await);
        let status = db(cwd, url, &["status"]).ok().to_string();
        if t.kind == BackendKind::MySql {
            assert!(
                err.contains("marked dirty") && err.contains("lexigram db repair"),
                "{err}"
            );
            assert!(
                status.contains("Dirty: 2") && status.contains("DIRTY"),
                "{status}"
            );
            let again = db(cwd, url, &["upgrade"]).failed().to_string();
            assert!(
                again.contains("version 2 (broken) is dirty")
                    && again.contains("`lexigram db repair`"),
                "{again}"
            );
            assert!(db(cwd, url, &["validate"]).failed().contains("is dirty"));
            // The fix the message names: repair the schema by hand, then `repair`, then upgrade.
            database.execute("DROP TABLE partial_t", &[]).await.unwrap();
            assert!(
                db(cwd, url, &["repair"])
                    .ok()
                    .contains("Cleared dirty version 2")
            );
        } else {
            assert!(
                err.contains("rolled back: nothing of it remains and it is not recorded"),
                "{err}"
            );
            assert!(
                !common::table_exists(&database, "partial_t").await,
                "nothing of it remains on {}",
                t.name()
            );
            assert!(
                status.contains("Pending: 2") && status.contains("Current version: 1"),
                "{status}"
            );
        }
        write(
            &mig,
            "0002_broken.up.sql",
            "CREATE TABLE partial_t (id BIGINT);\n",
        );
        assert!(
            db(cwd, url, &["upgrade"])
                .ok()
                .contains("Current version: 2")
        );
        database.close().await;
    }
}

#[tokio::test]
async fn editing_an_applied_migration_is_detected_but_line_endings_are_not() {
    for t in common::all().await {
        let work = tempfile::tempdir().unwrap();
        let (cwd, url) = (work.path(), t.url.as_str());
        let mig = cwd.join("migrations");
        std::fs::create_dir(&mig).unwrap();
        let text = "-- users\nCREATE TABLE users (id BIGINT PRIMARY KEY);\nINSERT INTO users VALUES (1);\n";
        write(&mig, "0001_users.up.sql", text);
        db(cwd, url, &["upgrade"]).ok();

        write(
            &mig,
            "0001_users.up.sql",
            &format!("\u{feff}{}", text.replace('\n', "\r\n")),
        );
        assert!(db(cwd, url, &["validate"]).ok().contains("OK: 1 applied"));
        assert!(db(cwd, url, &["upgrade"]).ok().contains("Nothing to apply"));

        write(
            &mig,
            "0001_users.up.sql",
            &text.replace("VALUES (1)", "VALUES (2)"),
        );
        for cmd in ["upgrade", "validate"] {
            let err = db(cwd, url, &[cmd]).failed().to_string();
            assert!(
                err.contains("migration 1 (users) was changed after it was applied"),
                "{cmd}: {err}"
            );
        }
        assert!(
            db(cwd, url, &["status"])
                .ok()
                .contains("Changed since applied (drift): 1")
        );
    }
}

#[tokio::test]
async fn missing_table_until_upgrade() {
    for t in common::all().await {
        let work = tempfile::tempdir().unwrap();
        let (cwd, url) = (work.path(), t.url.as_str());
        let mig = cwd.join("migrations");
        std::fs::create_dir(&mig).unwrap();
        write(
            &mig,
            "0001_users.up.sql",
            "CREATE TABLE users (id BIGINT PRIMARY KEY, name VARCHAR(50));\n",
        );
        let database = t.connect().await;
        let query = "SELECT id, name FROM users";
        let err = database.fetch_all(query, &[]).await.unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with("RepositoryError: Table 'users' does not exist"),
            "{text}"
        );
        assert!(
            text.contains("run `lexigram db upgrade`") && text.contains("enable_migrations"),
            "{text}"
        );
        let err = db(cwd, url, &["inspect", "--table", "users"])
            .failed()
            .to_string();
        assert!(
            err.contains("Table 'users' does not exist") && err.contains("lexigram db upgrade"),
            "{err}"
        );

        db(cwd, url, &["upgrade"]).ok();
        assert!(database.fetch_all(query, &[]).await.unwrap().is_empty());
        database.close().await;
    }
}
