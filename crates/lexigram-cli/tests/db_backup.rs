//! `lexigram db backup` / `db restore` end to end through the built binary and the real
//! client tools (`pg_dump`/`pg_restore`, `mariadb-dump`/`mariadb`; SQLite's backup API), on
//! every backend: backup, wipe, restore, and the row counts and a content checksum match.
#![allow(clippy::unwrap_used, clippy::expect_used)] // helpers outside #[test] fns assert too

#[path = "../../lexigram-sql/tests/common/mod.rs"]
mod common;
mod support;

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use lexigram_sql::config::BackendKind;
use lexigram_sql::{Database, Value};
use support::{Run, lexigram};

/// The test servers' password: no output and no tool command line may contain it.
const PASSWORD: &str = "lexigram_test_pw";

/// Runs `lexigram db <args> --url <url>` in `dir` with extra environment.
fn db_env(dir: &Path, url: &str, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut all = vec!["db"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--url", url]);
    let run = lexigram(dir, &all, env);
    assert!(!run.all().contains(PASSWORD), "password printed: {run:?}");
    run
}

fn db(dir: &Path, url: &str, args: &[&str]) -> Run {
    db_env(dir, url, args, &[])
}

const TABLES: [&str; 2] = ["customers", "items"];

/// Two tables through a migration, so `schema_migrations` is part of what is backed up.
fn migrate(cwd: &Path, url: &str, kind: BackendKind) {
    let mig = cwd.join("migrations");
    std::fs::create_dir_all(&mig).unwrap();
    let blob = match kind {
        BackendKind::Postgres => "BYTEA",
        BackendKind::MySql => "LONGBLOB",
        BackendKind::Sqlite => "BLOB",
    };
    let up = common::ddl(
        kind,
        &format!(
            "CREATE TABLE customers (id {{pk}}, name VARCHAR(100) NOT NULL, note TEXT);\n\
             CREATE TABLE items (id {{pk}}, customer_id BIGINT NOT NULL, price NUMERIC(10,2), \
             data {blob}, created {{ts}});\n\
             CREATE INDEX ix_items_customer ON items (customer_id);\n"
        ),
    );
    std::fs::write(mig.join("20260101000000_init.up.sql"), up).unwrap();
    std::fs::write(
        mig.join("20260101000000_init.down.sql"),
        "DROP TABLE items;\nDROP TABLE customers;\n",
    )
    .unwrap();
    db(cwd, url, &["upgrade"]).ok();
}

/// 200 customers and 600 items with quotes, Unicode, NULLs, decimals, bytes and timestamps.
async fn fill(conn: &Database) {
    let pg = conn.kind() == BackendKind::Postgres;
    let sql = |text: &str| {
        if !pg {
            return text.to_string();
        }
        let mut n = 0;
        text.chars()
            .map(|c| {
                if c == '?' {
                    n += 1;
                    format!("${n}")
                } else {
                    c.to_string()
                }
            })
            .collect::<String>()
    };
    let tx = conn.begin().await.unwrap();
    for i in 0..200i64 {
        let note = if i % 3 == 0 {
            Value::Null
        } else {
            Value::Text(format!("it's \"note\" {i} — ünïcødé ✓\nline 2"))
        };
        tx.execute(
            &sql("INSERT INTO customers (name, note) VALUES (?, ?)"),
            &[Value::Text(format!("customer {i}")), note],
        )
        .await
        .unwrap();
        for j in 0..3i64 {
            tx.execute(
                &sql("INSERT INTO items (customer_id, price, data, created) VALUES (?, ?, ?, ?)"),
                &[
                    Value::Int(i + 1),
                    Value::Decimal(lexigram_sql::Decimal::new(i * 100 + j, 2)),
                    Value::Bytes(vec![0, 1, 2, (i % 256) as u8, 0xff, b'\'', b'\\']),
                    Value::Timestamp(
                        chrono::DateTime::from_timestamp(1_700_000_000 + i * 60 + j, 0).unwrap(),
                    ),
                ],
            )
            .await
            .unwrap();
        }
    }
    tx.commit().await.unwrap();
}

/// Row counts and a checksum over every value of both tables, in key order.
async fn fingerprint(conn: &Database) -> (Vec<i64>, u64) {
    let mut counts = Vec::new();
    let mut hasher = DefaultHasher::new();
    for table in TABLES {
        counts.push(common::row_count(conn, table).await);
        for row in conn
            .fetch_all(&format!("SELECT * FROM {table} ORDER BY id"), &[])
            .await
            .unwrap()
        {
            format!("{:?}", row.values()).hash(&mut hasher);
        }
    }
    (counts, hasher.finish())
}

/// The PostgreSQL schema a test URL pins (`options=-c search_path=S`).
fn pinned_schema(url: &str) -> &str {
    url.rsplit("search_path%3D").next().unwrap()
}

/// Drops everything: the tables and the migrations table (PostgreSQL: the whole schema).
async fn wipe(conn: &Database, kind: BackendKind, url: &str) {
    if kind == BackendKind::Postgres {
        let schema = pinned_schema(url);
        conn.execute(&format!("DROP SCHEMA {schema} CASCADE"), &[])
            .await
            .unwrap();
        return;
    }
    for table in ["items", "customers", "schema_migrations"] {
        conn.execute(&format!("DROP TABLE {table}"), &[])
            .await
            .unwrap();
    }
}

/// A directory of wrappers that log each tool's command line, then run the real tool.
fn shim(dir: &Path, log: &Path) -> String {
    let shim = dir.join("shim");
    std::fs::create_dir_all(&shim).unwrap();
    let path = std::env::var("PATH").unwrap();
    for tool in ["pg_dump", "pg_restore", "mariadb-dump", "mariadb"] {
        let real = std::env::split_paths(&path)
            .map(|d| d.join(tool))
            .find(|p| p.is_file())
            .unwrap_or_else(|| panic!("{tool} not on PATH"));
        // Also logs the permissions of a MariaDB options file while the tool can read it.
        let script = format!(
            "#!/bin/sh\necho \"{tool} $*\" >> '{log}'\nfor a in \"$@\"; do case \"$a\" in --defaults-extra-file=*) echo \"options-file-mode $(stat -c %a \"${{a#--defaults-extra-file=}}\")\" >> '{log}';; esac; done\nexec '{}' \"$@\"\n",
            real.display(),
            log = log.display(),
        );
        let file = shim.join(tool);
        std::fs::write(&file, script).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    format!("{}:{path}", shim.display())
}

fn backup_name(kind: BackendKind) -> PathBuf {
    PathBuf::from(format!("backup-{}.bak", kind.name()))
}

#[tokio::test]
async fn backup_wipe_restore_gives_back_the_same_rows_and_checksum() {
    for t in common::all().await {
        let work = tempfile::tempdir().unwrap();
        let cwd = work.path();
        let (url, kind, name) = (t.url.as_str(), t.kind, t.name());
        migrate(cwd, url, kind);
        let conn = t.connect().await;
        fill(&conn).await;
        let before = fingerprint(&conn).await;
        assert_eq!(before.0, [200, 600], "{name}");

        let log = cwd.join("tools.log");
        let path = shim(cwd, &log);
        let env = [("PATH", path.as_str())];
        let file = backup_name(kind);
        let file_arg = file.to_str().unwrap();
        let out = db_env(cwd, url, &["backup", "--output", file_arg], &env)
            .ok()
            .to_string();
        assert!(
            out.contains("Backed up") && out.contains(file_arg),
            "{name}: {out}"
        );
        assert!(cwd.join(&file).is_file(), "{name}: no backup file");
        assert!(!cwd.join(format!("{file_arg}.partial")).exists(), "{name}");

        // Over the data it came from: refused without --force, nothing changed.
        let err = db_env(cwd, url, &["restore", file_arg], &env)
            .failed()
            .to_string();
        assert!(
            err.contains("not empty")
                && err.contains("customers (200 rows)")
                && err.contains("items (600 rows)")
                && err.contains("--force"),
            "{name}: {err}"
        );
        assert_eq!(fingerprint(&conn).await, before, "{name}");

        wipe(&conn, kind, url).await;
        conn.close().await;
        let out = db_env(cwd, url, &["restore", file_arg], &env)
            .ok()
            .to_string();
        assert!(out.contains("Restored"), "{name}: {out}");
        let conn = t.connect().await;
        assert_eq!(
            fingerprint(&conn).await,
            before,
            "{name}: after wipe + restore"
        );
        let status = db(cwd, url, &["status"]).ok().to_string();
        assert!(
            status.contains("Current version: 20260101000000") && status.contains("Pending: none"),
            "{name}: migrations table restored too: {status}"
        );

        // --force over changed data puts the backup's rows back.
        conn.execute("DELETE FROM items WHERE id <= 10", &[])
            .await
            .unwrap();
        conn.execute("UPDATE customers SET name = 'changed'", &[])
            .await
            .unwrap();
        conn.close().await;
        db_env(cwd, url, &["restore", file_arg, "--force"], &env).ok();
        let conn = t.connect().await;
        assert_eq!(
            fingerprint(&conn).await,
            before,
            "{name}: after restore --force"
        );
        conn.close().await;

        // The tools ran, and the password never was on their command line.
        let lines = std::fs::read_to_string(&log).unwrap_or_default();
        match kind {
            BackendKind::Postgres => assert!(
                lines.contains("pg_dump ") && lines.contains("pg_restore "),
                "{lines}"
            ),
            BackendKind::MySql => {
                assert!(
                    lines.contains("mariadb-dump ") && lines.contains("mariadb "),
                    "{lines}"
                );
                // Readable by its owner only, while the tools ran.
                let modes: Vec<&str> = lines
                    .lines()
                    .filter_map(|l| l.strip_prefix("options-file-mode "))
                    .collect();
                assert!(
                    modes.len() == 3 && modes.iter().all(|m| *m == "600"),
                    "{lines}"
                );
                // The options file that carried the password is gone.
                for arg in lines.split_whitespace() {
                    if let Some(p) = arg.strip_prefix("--defaults-extra-file=") {
                        assert!(!Path::new(p).exists(), "{p} left behind");
                    }
                }
            }
            BackendKind::Sqlite => assert!(lines.is_empty(), "{lines}"),
        }
        assert!(
            !lines.contains(PASSWORD),
            "password on a command line: {lines}"
        );
    }
}

#[tokio::test]
async fn restore_refuses_a_file_that_is_not_a_backup_of_that_kind() {
    for t in common::all().await {
        let work = tempfile::tempdir().unwrap();
        let cwd = work.path();
        let bogus = if t.kind == BackendKind::MySql {
            // A PostgreSQL archive given to MariaDB.
            "PGDMP not really".to_string()
        } else {
            "-- some SQL text\nSELECT 1;\n".to_string()
        };
        std::fs::write(cwd.join("bogus.bak"), bogus).unwrap();
        let err = db(cwd, &t.url, &["restore", "bogus.bak"])
            .failed()
            .to_string();
        assert!(
            err.contains("is not a") && err.contains("backup made by `lexigram db backup`"),
            "{}: {err}",
            t.name()
        );
    }
}

#[tokio::test]
async fn backup_of_a_missing_sqlite_file_says_so_and_leaves_no_file() {
    let work = tempfile::tempdir().unwrap();
    let cwd = work.path();
    let err = db(cwd, "sqlite:///nope.db", &["backup", "-o", "out.bak"])
        .failed()
        .to_string();
    assert!(
        err.contains("no SQLite database file") && err.contains("nope.db"),
        "{err}"
    );
    assert!(!cwd.join("out.bak").exists() && !cwd.join("out.bak.partial").exists());
}

/// Runs the binary under a pseudo-terminal (`script`), returning everything it showed.
fn on_a_terminal(cwd: &Path, args: &[&str]) -> String {
    let quoted: Vec<String> = std::iter::once(env!("CARGO_BIN_EXE_lexigram"))
        .chain(args.iter().copied())
        .map(|a| format!("'{a}'"))
        .collect();
    let out = std::process::Command::new("script")
        .args(["-qec", &quoted.join(" "), "/dev/null"])
        .current_dir(cwd)
        .env_remove("LEX_SQL__BACKEND__URL")
        .env_remove("DATABASE_URL")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run script(1) from util-linux");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test]
async fn backup_and_restore_show_progress_on_a_terminal_and_nowhere_else() {
    for t in common::all().await {
        let work = tempfile::tempdir().unwrap();
        let cwd = work.path();
        let name = t.name();
        let conn = t.connect().await;
        conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY)", &[])
            .await
            .unwrap();
        conn.close().await;

        let shown = on_a_terminal(cwd, &["db", "backup", "-o", "b.bak", "--url", &t.url]);
        assert!(
            shown.contains("Backing up") && shown.contains("Backed up"),
            "{name}: {shown}"
        );
        assert!(!shown.contains(PASSWORD), "{name}: {shown}");
        let shown = on_a_terminal(cwd, &["db", "restore", "b.bak", "--url", &t.url]);
        assert!(
            shown.contains("Restoring b.bak") && shown.contains("Restored b.bak"),
            "{name}: {shown}"
        );
        assert!(!shown.contains(PASSWORD), "{name}: {shown}");

        // Not a terminal: no progress line, only the result.
        let piped = db(cwd, &t.url, &["backup", "-o", "c.bak"]);
        assert!(piped.ok().contains("Backed up"), "{name}");
        assert!(!piped.all().contains("Backing up"), "{name}: {piped:?}");
        // --quiet on a terminal: nothing at all.
        let shown = on_a_terminal(cwd, &["db", "backup", "-o", "d.bak", "-q", "--url", &t.url]);
        assert!(shown.trim().is_empty(), "{name}: {shown:?}");
    }
}

#[tokio::test]
async fn a_failing_tool_is_reported_with_its_message_and_no_password() {
    for t in common::all().await.into_iter().skip(1) {
        let work = tempfile::tempdir().unwrap();
        let cwd = work.path();
        let name = t.name();
        // A wrong password: the tool's own error, and neither password anywhere.
        let wrong = t.url.replace(PASSWORD, "Wr0ng_Secret_77");
        let run = db(cwd, &wrong, &["backup", "-o", "x.bak"]);
        let err = run.failed().to_string();
        assert!(
            err.contains("the backup failed") && err.contains("Fix:"),
            "{name}: {err}"
        );
        assert!(!run.all().contains("Wr0ng_Secret_77"), "{name}: {run:?}");
        assert!(!cwd.join("x.bak").exists() && !cwd.join("x.bak.partial").exists());
        // A database that does not exist.
        let missing = match t.kind {
            BackendKind::Postgres => t.url.replace("/lexigram_test?", "/no_such_db_x?"),
            _ => format!("{}/no_such_db_x", t.url.rsplit_once('/').unwrap().0),
        };
        let err = db(cwd, &missing, &["backup", "-o", "x.bak"])
            .failed()
            .to_string();
        assert!(
            err.contains("the backup failed") && err.contains("no_such_db_x"),
            "{name}: {err}"
        );
    }
}

#[tokio::test]
async fn postgres_without_a_pinned_schema_backs_up_and_restores_the_whole_database() {
    let Some(base) = std::env::var("LEX_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        return; // no PostgreSQL server in this run (scripts/test.sh always has one)
    };
    let name = common::unique("whole");
    let admin = Database::connect_url(&base).await.unwrap();
    admin
        .execute(&format!("CREATE DATABASE {name}"), &[])
        .await
        .unwrap();
    let url = format!("{}/{name}", base.rsplit_once('/').unwrap().0);
    let work = tempfile::tempdir().unwrap();
    let cwd = work.path();
    migrate(cwd, &url, BackendKind::Postgres);
    let conn = Database::connect_url(&url).await.unwrap();
    fill(&conn).await;
    let before = fingerprint(&conn).await;
    db(cwd, &url, &["backup", "-o", "whole.dump"]).ok();
    for table in ["items", "customers", "schema_migrations"] {
        conn.execute(&format!("DROP TABLE {table}"), &[])
            .await
            .unwrap();
    }
    db(cwd, &url, &["restore", "whole.dump"]).ok();
    assert_eq!(fingerprint(&conn).await, before);
    conn.execute("DELETE FROM customers WHERE id > 100", &[])
        .await
        .unwrap();
    db(cwd, &url, &["restore", "whole.dump", "--force"]).ok();
    assert_eq!(fingerprint(&conn).await, before);
    conn.close().await;
    admin
        .execute(&format!("DROP DATABASE {name} WITH (FORCE)"), &[])
        .await
        .unwrap();
    admin.close().await;
}
