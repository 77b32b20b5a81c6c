//! `lexigram db seed` and `db reset --seed` end to end through the built binary, on every
//! backend.
#![allow(clippy::unwrap_used, clippy::expect_used)] // helpers outside #[test] fns assert too

#[path = "../../lexigram-sql/tests/common/mod.rs"]
mod common;
mod support;

use std::path::Path;

use lexigram_sql::config::BackendKind;
use support::{Run, lexigram};

/// The test servers' password: no output may contain it.
const PASSWORD: &str = "lexigram_test_pw";

fn db(dir: &Path, url: &str, args: &[&str]) -> Run {
    let mut all = vec!["db"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--url", url]);
    let run = lexigram(dir, &all, &[]);
    assert!(!run.all().contains(PASSWORD), "password printed: {run:?}");
    run
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// A `users` table with a unique email, made by a migration.
fn migrate(cwd: &Path, url: &str, kind: BackendKind) {
    write(
        &cwd.join("migrations/20260101000000_users.up.sql"),
        &common::ddl(
            kind,
            "CREATE TABLE users (id {pk}, email VARCHAR(100) NOT NULL UNIQUE);\n",
        ),
    );
    write(
        &cwd.join("migrations/20260101000000_users.down.sql"),
        "DROP TABLE users;\n",
    );
    db(cwd, url, &["upgrade"]).ok();
}

async fn users(t: &common::TestDb) -> i64 {
    let conn = t.connect().await;
    let n = common::row_count(&conn, "users").await;
    conn.close().await;
    n
}

#[tokio::test]
async fn seeds_apply_once_in_name_order_and_reset_seed_applies_them_again() {
    for t in common::all().await {
        let work = tempfile::tempdir().unwrap();
        let cwd = work.path();
        let (url, name) = (t.url.as_str(), t.name());
        migrate(cwd, url, t.kind);
        write(
            &cwd.join("seeds/001_admins.sql"),
            "INSERT INTO users (email) VALUES ('ada@example.com');\nINSERT INTO users (email) VALUES ('bob@example.com');\n",
        );
        write(
            &cwd.join("seeds/002_guest.sql"),
            "-- depends on 001 having run first\nINSERT INTO users (email) SELECT 'guest@example.com' FROM users WHERE email = 'ada@example.com';\n",
        );

        let out = db(cwd, url, &["seed"]).ok().to_string();
        assert!(
            out.contains("001_admins.sql: applied")
                && out.contains("002_guest.sql: applied")
                && out.contains("Applied 2 seed(s); 0 already applied."),
            "{name}: {out}"
        );
        assert_eq!(users(&t).await, 3, "{name}");

        // Idempotent: nothing runs twice.
        let out = db(cwd, url, &["seed"]).ok().to_string();
        assert!(
            out.contains("001_admins.sql: already applied")
                && out.contains("Applied 0 seed(s); 2 already applied."),
            "{name}: {out}"
        );
        assert_eq!(users(&t).await, 3, "{name}");

        // One file by path, once.
        write(
            &cwd.join("extra/one_more.sql"),
            "INSERT INTO users (email) VALUES ('eve@example.com');\n",
        );
        db(cwd, url, &["seed", "--file", "extra/one_more.sql"]).ok();
        let out = db(cwd, url, &["seed", "--file", "extra/one_more.sql"])
            .ok()
            .to_string();
        assert!(
            out.contains("one_more.sql: already applied"),
            "{name}: {out}"
        );
        assert_eq!(users(&t).await, 4, "{name}");

        // A failing seed keeps nothing and is not recorded.
        write(
            &cwd.join("seeds/003_bad.sql"),
            "INSERT INTO users (email) VALUES ('kept@example.com');\nINSERT INTO users (email) VALUES ('ada@example.com');\n",
        );
        let err = db(cwd, url, &["seed"]).failed().to_string();
        assert!(
            err.contains("003_bad.sql")
                && err.contains("line 2")
                && err.contains("Nothing of this seed was kept"),
            "{name}: {err}"
        );
        assert_eq!(
            users(&t).await,
            4,
            "{name}: the failed seed's first insert was rolled back"
        );
        std::fs::remove_file(cwd.join("seeds/003_bad.sql")).unwrap();

        // An applied seed edited afterwards is reported, not run again.
        write(
            &cwd.join("seeds/001_admins.sql"),
            "INSERT INTO users (email) VALUES ('carol@example.com');\n",
        );
        let out = db(cwd, url, &["seed"]).ok().to_string();
        assert!(
            out.contains("001_admins.sql: changed since applied (not run again)"),
            "{name}: {out}"
        );
        assert_eq!(users(&t).await, 4, "{name}");

        // reset --seed: refused without --force; with it, fresh tables and the seeds of the
        // directory applied again (the --file seed is not in it).
        let err = db(cwd, url, &["reset", "--seed"]).failed().to_string();
        assert!(err.contains("--force"), "{name}: {err}");
        let out = db(cwd, url, &["reset", "--force", "--seed"])
            .ok()
            .to_string();
        assert!(
            out.contains("Reverted 1 and applied 1 migrations")
                && out.contains("Applied 2 seed(s); 0 already applied."),
            "{name}: {out}"
        );
        // 001 is now the edited file (carol) and 002 finds no ada: one row.
        assert_eq!(users(&t).await, 1, "{name}");

        // A plain reset forgets the records too: the next seed run applies them again.
        db(cwd, url, &["reset", "--force"]).ok();
        assert_eq!(users(&t).await, 0, "{name}");
        let out = db(cwd, url, &["seed"]).ok().to_string();
        assert!(out.contains("Applied 2 seed(s)"), "{name}: {out}");
    }
}

#[tokio::test]
async fn seed_without_a_seeds_directory_says_how_to_make_one() {
    let work = tempfile::tempdir().unwrap();
    let cwd = work.path();
    let url = format!("sqlite:///{}", cwd.join("app.db").display());
    let err = db(cwd, &url, &["seed"]).failed().to_string();
    assert!(
        err.contains("seeds directory") && err.contains("Fix:"),
        "{err}"
    );
}

#[tokio::test]
async fn four_runs_at_once_apply_each_seed_exactly_once_and_all_succeed() {
    for t in common::all().await {
        let work = tempfile::tempdir().unwrap();
        let cwd = work.path();
        let (url, name) = (t.url.as_str(), t.name());
        migrate(cwd, url, t.kind);
        for seed in 1..=3 {
            let inserts: String = (0..40)
                .map(|i| format!("INSERT INTO users (email) VALUES ('s{seed}_{i}@example.com');\n"))
                .collect();
            write(&cwd.join(format!("seeds/00{seed}_batch.sql")), &inserts);
        }
        // The table the records go to exists before the race (as after any first run).
        db(cwd, url, &["seed", "--file", "seeds/001_batch.sql"]).ok();
        let children: Vec<_> = (0..4)
            .map(|_| support::spawn(cwd, &["db", "seed", "--url", url]))
            .collect();
        let runs: Vec<Run> = children.into_iter().map(support::wait).collect();
        let mut applied = 0;
        for run in &runs {
            let out = run.ok();
            assert!(!run.all().contains(PASSWORD), "{name}: {run:?}");
            applied += out.matches(": applied").count();
        }
        assert_eq!(
            applied, 2,
            "{name}: 002 and 003 applied once in all: {runs:?}"
        );
        assert_eq!(users(&t).await, 120, "{name}");
    }
}
