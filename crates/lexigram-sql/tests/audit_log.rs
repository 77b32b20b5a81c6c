//! The audit log on every backend: audit rows are written in the same transaction as the
//! change (a rollback leaves neither, a failed change leaves no audit row, a failed audit
//! insert undoes the change), before/after JSON is exact, `audit::verify` names an edited and
//! a deleted row, and concurrent audited writers keep one valid chain.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a panic is a failed assertion

mod common;

use lexigram_sql::audit::{self, AuditLog};
use lexigram_sql::config::AuditKey;
use lexigram_sql::{Database, Entity, Error, Value};

#[derive(Debug, Clone, PartialEq, Entity)]
struct Account {
    #[entity(key)]
    id: i64,
    owner: String,
    balance: i64,
    #[entity(version)]
    version: i64,
}

const KEY: &str = "test-audit-key-0123456789abcdef0123456789";

fn acct(id: i64, owner: &str, balance: i64) -> Account {
    Account {
        id,
        owner: owner.into(),
        balance,
        version: 0,
    }
}

async fn setup(t: &common::TestDb) -> (Database, AuditLog) {
    let db = t.connect().await;
    db.execute(
        "CREATE TABLE accounts (id BIGINT PRIMARY KEY, owner VARCHAR(50) NOT NULL, balance BIGINT NOT NULL, version BIGINT NOT NULL)",
        &[],
    )
    .await
    .unwrap();
    let log = AuditLog::new("audit_log", AuditKey::new(KEY)).unwrap();
    log.create_table(&db).await.unwrap();
    (db, log)
}

async fn audit_rows(db: &Database) -> i64 {
    common::row_count(db, "audit_log").await
}

/// (actor, target, operation, row_key, before_json, after_json) of one audit row.
async fn audit_row(
    db: &Database,
    seq: i64,
) -> (
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
) {
    let sql = match db.kind() {
        lexigram_sql::config::BackendKind::Postgres => "SELECT * FROM audit_log WHERE seq = $1",
        _ => "SELECT * FROM audit_log WHERE seq = ?",
    };
    let r = db.fetch_one(sql, &[seq.into()]).await.unwrap();
    (
        r.get("actor").unwrap(),
        r.get("target").unwrap(),
        r.get("operation").unwrap(),
        r.get("row_key").unwrap(),
        r.get("before_json").unwrap(),
        r.get("after_json").unwrap(),
    )
}

#[tokio::test]
async fn before_and_after_json_are_exact_and_written_with_the_change() {
    for t in common::all().await {
        let (db, log) = setup(&t).await;
        let accounts = db.repository::<Account>().audited(&log, "alice");
        let mut a = accounts.create(acct(1, "ada", 10)).await.unwrap();
        a.balance = 25;
        accounts.update(&mut a).await.unwrap();
        assert_eq!(a.version, 2);
        accounts.delete(&a).await.unwrap();
        let created = r#"{"balance":10,"id":1,"owner":"ada","version":1}"#;
        let updated = r#"{"balance":25,"id":1,"owner":"ada","version":2}"#;
        let row = |op: &str, before: Option<&str>, after: Option<&str>| {
            (
                "alice".to_string(),
                "Account".to_string(),
                op.to_string(),
                "1".to_string(),
                before.map(str::to_string),
                after.map(str::to_string),
            )
        };
        assert_eq!(
            audit_row(&db, 1).await,
            row("create", None, Some(created)),
            "{}",
            t.name()
        );
        assert_eq!(
            audit_row(&db, 2).await,
            row("update", Some(created), Some(updated)),
            "{}",
            t.name()
        );
        assert_eq!(
            audit_row(&db, 3).await,
            row("delete", Some(updated), None),
            "{}",
            t.name()
        );
        let report = audit::verify(&db, &log).await.unwrap();
        assert!(report.is_intact(), "{}: {report}", t.name());
        assert_eq!((report.rows, report.head_seq), (3, 3));
        assert_eq!(
            report.to_string(),
            "audit log 'audit_log': 3 rows, chain intact up to seq 3"
        );
    }
}

#[tokio::test]
async fn a_rollback_a_failed_change_and_a_failed_audit_insert_leave_nothing() {
    for t in common::all().await {
        let (db, log) = setup(&t).await;
        let name = t.name();
        // The caller's transaction rolled back: neither the row nor its audit row.
        let tx = db.begin().await.unwrap();
        tx.repository::<Account>()
            .audited(&log, "bob")
            .create(acct(1, "ada", 1))
            .await
            .unwrap();
        assert_eq!(
            common::row_count(&db, "accounts").await,
            0,
            "{name}: uncommitted"
        );
        tx.rollback().await.unwrap();
        assert_eq!(
            (
                common::row_count(&db, "accounts").await,
                audit_rows(&db).await
            ),
            (0, 0),
            "{name}"
        );

        // A failed change (duplicate key): no audit row, the chain head unchanged.
        let accounts = db.repository::<Account>().audited(&log, "bob");
        accounts.create(acct(1, "ada", 1)).await.unwrap();
        let e = accounts.create(acct(1, "eve", 2)).await.unwrap_err();
        assert!(matches!(e, Error::Constraint { .. }), "{name}: {e:?}");
        let mut stale = acct(1, "ada", 5);
        stale.version = 7;
        let e = accounts.update(&mut stale).await.unwrap_err();
        assert!(matches!(e, Error::OptimisticLock { .. }), "{name}: {e:?}");
        assert_eq!(audit_rows(&db).await, 1, "{name}");
        assert!(audit::verify(&db, &log).await.unwrap().is_intact());

        // A failed audit insert (its sequence number taken by a planted row): the change is
        // rolled back with it.
        let plant = match t.kind {
            lexigram_sql::config::BackendKind::Postgres => {
                "INSERT INTO audit_log (seq, recorded_at, actor, target, operation, row_key, prev_hash, hash) VALUES ($1, 'x', 'x', 'x', 'x', 'x', 'x', 'x')"
            }
            _ => {
                "INSERT INTO audit_log (seq, recorded_at, actor, target, operation, row_key, prev_hash, hash) VALUES (?, 'x', 'x', 'x', 'x', 'x', 'x', 'x')"
            }
        };
        db.execute(plant, &[Value::Int(2)]).await.unwrap();
        let e = accounts.create(acct(2, "eve", 3)).await.unwrap_err();
        assert!(matches!(e, Error::Constraint { .. }), "{name}: {e:?}");
        assert_eq!(
            common::row_count(&db, "accounts").await,
            1,
            "{name}: change rolled back"
        );
        let mut a = db.repository::<Account>().find_one(1).await.unwrap();
        a.balance = 9;
        assert!(accounts.update(&mut a).await.is_err());
        assert_eq!(
            db.repository::<Account>()
                .find_one(1)
                .await
                .unwrap()
                .balance,
            1,
            "{name}"
        );
    }
}

#[tokio::test]
async fn verify_names_an_edited_and_a_deleted_row() {
    for t in common::all().await {
        let (db, log) = setup(&t).await;
        let accounts = db.repository::<Account>().audited(&log, "carol");
        for id in 1..=5 {
            accounts.create(acct(id, "x", id)).await.unwrap();
        }
        assert!(audit::verify(&db, &log).await.unwrap().is_intact());
        db.execute(
            "UPDATE audit_log SET after_json = '{\"id\":2,\"owner\":\"x\",\"balance\":999,\"version\":1}' WHERE seq = 2",
            &[],
        )
        .await
        .unwrap();
        db.execute("DELETE FROM audit_log WHERE seq = 4", &[])
            .await
            .unwrap();
        let report = audit::verify(&db, &log).await.unwrap();
        assert!(!report.is_intact());
        assert_eq!(report.first_edited(), Some(2), "{}: {report}", t.name());
        assert_eq!(report.edited, [2]);
        assert_eq!(report.deleted, [4]);
        assert!(report.relinked.is_empty(), "{report}");
        let text = report.to_string();
        assert!(text.contains("first edited row: seq 2"), "{text}");
        assert!(
            text.contains("deleted rows (sequence gap): seq 4"),
            "{text}"
        );
        assert!(!text.contains(KEY));
        // The last row deleted: found against the chain head.
        db.execute("DELETE FROM audit_log WHERE seq = 5", &[])
            .await
            .unwrap();
        assert_eq!(audit::verify(&db, &log).await.unwrap().deleted, [4, 5]);
        // Another key sees every row as edited.
        let other = AuditLog::new(
            "audit_log",
            AuditKey::new("another-key-0123456789abcdef0123456789"),
        )
        .unwrap();
        assert_eq!(audit::verify(&db, &other).await.unwrap().edited, [1, 2, 3]);
    }
}

#[tokio::test]
async fn concurrent_audited_writers_keep_one_chain() {
    const TASKS: i64 = 4;
    const WRITES: i64 = 50;
    for t in common::all().await {
        let (db, log) = setup(&t).await;
        let started = std::time::Instant::now();
        let mut handles = Vec::new();
        for task in 0..TASKS {
            let accounts = db
                .repository::<Account>()
                .audited(&log, format!("task{task}"));
            handles.push(tokio::spawn(async move {
                for i in 0..WRITES {
                    accounts
                        .create(acct(task * 1000 + i, "w", i))
                        .await
                        .unwrap();
                }
            }));
        }
        for h in handles {
            h.await.unwrap();
        }
        let report = audit::verify(&db, &log).await.unwrap();
        assert!(report.is_intact(), "{}: {report}", t.name());
        assert_eq!(
            (report.rows, report.head_seq),
            ((TASKS * WRITES) as u64, TASKS * WRITES),
            "{}",
            t.name()
        );
        let distinct: i64 = db
            .fetch_one("SELECT COUNT(DISTINCT prev_hash) FROM audit_log", &[])
            .await
            .unwrap()
            .get_at(0)
            .unwrap();
        assert_eq!(
            distinct,
            TASKS * WRITES,
            "{}: no two rows share a predecessor (no fork)",
            t.name()
        );
        eprintln!(
            "{}: {} audited writes by {TASKS} tasks in {:?}, chain intact",
            t.name(),
            TASKS * WRITES,
            started.elapsed()
        );
    }
}

#[tokio::test]
async fn the_config_checks_the_key() {
    use lexigram_sql::DatabaseConfig;
    let mut config = DatabaseConfig::from_url("sqlite://").unwrap();
    config.audit.enabled = true;
    let e = config.validate().unwrap_err();
    assert!(e.to_string().contains("sql.audit.audit_hmac_key"), "{e}");
    config.audit.audit_hmac_key = Some(AuditKey::new("short-secret"));
    let e = config.validate().unwrap_err();
    assert!(
        e.to_string().contains("12 bytes long, shorter than 32"),
        "{e}"
    );
    assert!(!e.to_string().contains("short-secret"), "{e}");
    assert!(!format!("{config:?}").contains("short-secret"));
    config.audit.audit_hmac_key = Some(AuditKey::new(KEY));
    config.validate().unwrap();
    assert!(AuditLog::from_config(&config.audit).unwrap().is_some());
    assert!(!format!("{config:?}").contains(KEY));
    // From the file and the environment; the key's source named, the key never shown.
    let load = |yaml: &str, env: &[(&str, &str)]| {
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let app = lexigram::AppConfig::from_yaml_and_env(yaml, "application.yaml", env).unwrap();
        DatabaseConfig::from_app_config(&app)
    };
    let yaml = "sql:\n  audit:\n    enabled: true\n    table: trail\n";
    let config = load(yaml, &[("LEX_SQL__AUDIT__AUDIT_HMAC_KEY", KEY)]).unwrap();
    assert_eq!(config.audit.table, "trail");
    assert_eq!(config.audit.audit_hmac_key, Some(AuditKey::new(KEY)));
    let e = load(yaml, &[("LEX_SQL__AUDIT__AUDIT_HMAC_KEY", "tiny-secret")]).unwrap_err();
    assert!(
        e.to_string().contains("LEX_SQL__AUDIT__AUDIT_HMAC_KEY"),
        "{e}"
    );
    assert!(!e.to_string().contains("tiny-secret"), "{e}");
    let e = load("sql:\n  audit:\n    audit_hmac_kye: x\n", &[]).unwrap_err();
    assert!(
        e.to_string().contains("did you mean `audit_hmac_key`"),
        "{e}"
    );
    let e = load(
        "sql:\n  audit:\n    enabled: true\n    table: 'a; DROP TABLE x'\n",
        &[("LEX_SQL__AUDIT__AUDIT_HMAC_KEY", KEY)],
    )
    .unwrap_err();
    assert!(e.to_string().contains("sql.audit.table"), "{e}");

    let e = AuditLog::new("audit_log", AuditKey::new("short")).unwrap_err();
    assert!(matches!(e, Error::Audit { .. }));
    assert_eq!(e.code(), "LEX_ERR_SQL_032");
}
