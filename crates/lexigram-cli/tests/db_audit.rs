//! `lexigram db audit verify` end to end through the built binary, on every backend: audited
//! changes verify (exit 0, summary); after one audit row's JSON is edited and another row is
//! deleted with raw SQL, the command exits 1 naming both.
#![allow(clippy::unwrap_used, clippy::expect_used)] // helpers outside #[test] fns assert too

#[path = "../../lexigram-sql/tests/common/mod.rs"]
mod common;
mod support;

use lexigram_sql::Entity;
use lexigram_sql::audit::AuditLog;
use lexigram_sql::config::AuditKey;
use support::lexigram;

/// The test servers' password and the audit key: no output may contain them.
const PASSWORD: &str = "lexigram_test_pw";
const KEY: &str = "cli-audit-key-0123456789abcdef0123456789";

#[derive(Debug, Clone, Entity)]
struct Account {
    #[entity(key)]
    id: i64,
    balance: i64,
}

#[tokio::test]
async fn audit_verify_passes_then_names_the_edited_and_the_deleted_row() {
    for t in common::all().await {
        let db = t.connect().await;
        db.execute(
            "CREATE TABLE accounts (id BIGINT PRIMARY KEY, balance BIGINT NOT NULL)",
            &[],
        )
        .await
        .unwrap();
        let log = AuditLog::new("audit_trail", AuditKey::new(KEY)).unwrap();
        log.create_table(&db).await.unwrap();
        let accounts = db.repository::<Account>().audited(&log, "cli-test");
        for id in 1..=4 {
            let mut a = accounts.create(Account { id, balance: id }).await.unwrap();
            if id == 2 {
                a.balance = 20;
                accounts.update(&mut a).await.unwrap();
            }
        }
        let work = tempfile::tempdir().unwrap();
        let env = [
            ("LEX_SQL__AUDIT__TABLE", "audit_trail"),
            ("LEX_SQL__AUDIT__AUDIT_HMAC_KEY", KEY),
        ];
        let verify = |env: &[(&str, &str)], json: bool| {
            let mut args = vec!["db", "audit", "verify", "--url", t.url.as_str()];
            if json {
                args.push("--json");
            }
            let run = lexigram(work.path(), &args, env);
            assert!(!run.all().contains(PASSWORD), "password printed: {run:?}");
            assert!(!run.all().contains(KEY), "key printed: {run:?}");
            run
        };
        let run = verify(&env, false);
        assert_eq!(
            run.ok().trim(),
            "audit log 'audit_trail': 5 rows, chain intact up to seq 5",
            "{}",
            t.name()
        );

        // Tamper: edit row 3's after JSON, delete row 4.
        db.execute(
            "UPDATE audit_trail SET after_json = '{\"balance\":1000000,\"id\":2}' WHERE seq = 3",
            &[],
        )
        .await
        .unwrap();
        db.execute("DELETE FROM audit_trail WHERE seq = 4", &[])
            .await
            .unwrap();
        let run = verify(&env, false);
        run.failed();
        let out = run.stdout.clone();
        assert_eq!(run.code, 1, "{}", t.name());
        assert!(
            out.contains("first edited row: seq 3"),
            "{}: {out}",
            t.name()
        );
        assert!(out.contains("edited rows (hash mismatch): seq 3"), "{out}");
        assert!(out.contains("deleted rows (sequence gap): seq 4"), "{out}");
        assert!(run.stderr.contains("was tampered with"), "{run:?}");
        let run = verify(&env, true);
        let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        assert_eq!(json["intact"], false);
        assert_eq!(json["first_edited"], 3);
        assert_eq!(json["deleted"], serde_json::json!([4]));
        assert_eq!(run.code, 1);

        // Without the key: a message saying how to give it.
        let run = verify(&env[..1], false);
        assert!(
            run.failed().contains("sql.audit.audit_hmac_key is not set"),
            "{run:?}"
        );
        db.close().await;
    }
}
