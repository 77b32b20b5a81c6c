//! Tenant scopes on every backend, against real tables holding two tenants' rows: every
//! attempted bypass (an always-true OR, raw `Table` access through the scoped handle, updates
//! changing `tenant_id`, updates/deletes of the other tenant's rows by key, inserts with the
//! other tenant's id, upserts onto its keys, unscoped access to an entity the policy protects)
//! reads and changes 0 rows of the other tenant — counted after each attempt — and fails with
//! the typed error. A proptest crosses random filters with the scope. On PostgreSQL, native
//! row-level security is checked under an ordinary role.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a panic is a failed assertion

mod common;

use chrono::{DateTime, Utc};
use lexigram_sql::repository::{Aggregate, Record, col, not};
use lexigram_sql::scope::{RowLevelSecurityPolicy, ScopedRepository, TenantScope};
use lexigram_sql::{Database, Entity, Error, Filter, Value};
use proptest::prelude::*;

#[derive(Debug, Clone, PartialEq, Entity)]
struct Invoice {
    #[entity(key)]
    id: i64,
    tenant_id: i64,
    total: i64,
    #[entity(version)]
    version: i64,
    #[entity(soft_delete)]
    deleted_at: Option<DateTime<Utc>>,
}

const OTHER: [i64; 3] = [201, 202, 203];
const MINE: [i64; 3] = [101, 102, 103];

fn inv(id: i64, tenant_id: i64, total: i64) -> Invoice {
    Invoice {
        id,
        tenant_id,
        total,
        version: 0,
        deleted_at: None,
    }
}

async fn setup(t: &common::TestDb) -> Database {
    let db = t.connect().await;
    db.execute(
        &common::ddl(
            t.kind,
            "CREATE TABLE invoices (id BIGINT PRIMARY KEY, tenant_id BIGINT NOT NULL, total BIGINT NOT NULL, version BIGINT NOT NULL, deleted_at {ts})",
        ),
        &[],
    )
    .await
    .unwrap();
    for (i, id) in MINE.iter().enumerate() {
        db.repository::<Invoice>()
            .create(inv(*id, 1, 10 * (i as i64 + 1)))
            .await
            .unwrap();
    }
    for (i, id) in OTHER.iter().enumerate() {
        db.repository::<Invoice>()
            .create(inv(*id, 2, 100 * (i as i64 + 1)))
            .await
            .unwrap();
    }
    db
}

/// Tenant 2's rows as stored (raw SQL): id, tenant, total, version, deleted.
async fn other_rows(db: &Database) -> Vec<(i64, i64, i64, i64, bool)> {
    let rows = db
        .fetch_all(
            "SELECT id, tenant_id, total, version, deleted_at FROM invoices WHERE id > 200 OR tenant_id = 2 ORDER BY id",
            &[],
        )
        .await
        .unwrap();
    rows.iter()
        .map(|r| {
            (
                r.get("id").unwrap(),
                r.get("tenant_id").unwrap(),
                r.get("total").unwrap(),
                r.get("version").unwrap(),
                !matches!(r.value("deleted_at"), Some(Value::Null) | None),
            )
        })
        .collect()
}

fn expect_violation(e: Error, needle: &str) {
    assert!(matches!(e, Error::ScopeViolation { .. }), "{e:?}");
    assert_eq!(e.code(), "LEX_ERR_SQL_031");
    let msg = e.to_string();
    assert!(msg.starts_with("ScopeViolationError: "), "{msg}");
    assert!(msg.contains(needle), "{msg} lacks {needle}");
    assert!(msg.contains("nothing was written"), "{msg}");
}

fn expect_not_found(e: Error) {
    assert!(matches!(e, Error::NotFound { .. }), "{e:?}");
    assert_eq!(e.code(), "LEX_ERR_SQL_011");
}

#[tokio::test]
async fn every_bypass_attempt_reads_and_changes_zero_rows_of_the_other_tenant() {
    for t in common::all().await {
        let db = setup(&t).await;
        let before = other_rows(&db).await;
        assert_eq!(before.len(), 3, "{}", t.name());
        let acme = db
            .repository::<Invoice>()
            .scoped(TenantScope::new("tenant_id", 1))
            .unwrap();
        let name = t.name();
        let check = |label: &'static str| {
            let db = db.clone();
            let before = before.clone();
            async move {
                assert_eq!(other_rows(&db).await, before, "{name}: {label}");
            }
        };

        // Reads: an always-true OR, a condition naming the other tenant, every read path.
        let always = col("total").gt(-1).or(col("id").is_not_null());
        let hostile = col("tenant_id").eq(2).or(Filter::all());
        for f in [always.clone(), hostile.clone(), not(col("tenant_id").eq(1))] {
            let rows = acme.find_many(f.clone()).await.unwrap();
            assert!(rows.iter().all(|r| r.tenant_id == 1), "{}", t.name());
            assert!(rows.len() <= 3);
            assert!(acme.count(f.clone()).await.unwrap() <= 3);
        }
        assert_eq!(acme.count(hostile.clone()).await.unwrap(), 3);
        assert!(!acme.exists(col("tenant_id").eq(2)).await.unwrap());
        assert!(
            acme.find_by(col("id").eq(OTHER[0]))
                .await
                .unwrap()
                .is_none()
        );
        expect_not_found(acme.find_one(OTHER[0]).await.unwrap_err());
        let page = acme.page(hostile.clone(), 1, 10).await.unwrap();
        assert_eq!(page.total, 3);
        let ids: Vec<(i64,)> = acme.find_columns(always.clone(), &["id"]).await.unwrap();
        assert!(ids.iter().all(|(id,)| MINE.contains(id)), "{ids:?}");
        let sums: Vec<(i64,)> = acme
            .aggregate(Aggregate::new().filter(hostile.clone()).sum("total", "s"))
            .await
            .unwrap();
        assert_eq!(sums, [(60,)], "{}", t.name());
        let tenants: Vec<(i64,)> = acme
            .find_distinct(hostile.clone(), &["tenant_id"])
            .await
            .unwrap();
        assert_eq!(tenants, [(1,)], "{}", t.name());
        let cursor_page = acme.page_after(hostile.clone(), None, 10).await.unwrap();
        assert_eq!(cursor_page.total, 3);
        assert!(cursor_page.items.iter().all(|r| r.tenant_id == 1));
        let streamed: Vec<Invoice> =
            futures_util::TryStreamExt::try_collect(acme.stream(hostile.clone()).await.unwrap())
                .await
                .unwrap();
        assert_eq!(streamed.len(), 3, "{}", t.name());
        assert!(streamed.iter().all(|r| r.tenant_id == 1));
        check("reads").await;

        // Bulk update with an always-true OR: only own rows.
        let n = acme
            .update_where(always.clone(), Record::new().set("total", 7))
            .await
            .unwrap();
        assert_eq!(n, 3, "{}", t.name());
        check("update_where always-true").await;
        // Bulk update aimed at the other tenant's key: 0 rows.
        let n = acme
            .update_where(col("id").eq(OTHER[1]), Record::new().set("total", 0))
            .await
            .unwrap();
        assert_eq!(n, 0);
        // Bulk update moving rows to the other tenant: refused, own rows untouched.
        let e = acme
            .update_where(Filter::all(), Record::new().set("tenant_id", 2))
            .await
            .unwrap_err();
        expect_violation(e, "would set 'tenant_id' to 2");
        assert_eq!(acme.count(Filter::all()).await.unwrap(), 3);
        check("update_where tenant change").await;

        // Keyed update changing tenant_id: refused.
        let mut mine = acme.find_one(MINE[0]).await.unwrap();
        let mut moved = mine.clone();
        moved.tenant_id = 2;
        expect_violation(acme.update(&mut moved).await.unwrap_err(), "holds 2");
        assert_eq!(acme.find_one(MINE[0]).await.unwrap(), mine);
        // Keyed update of the other tenant's row (claiming to be ours): not found.
        let mut theirs = inv(OTHER[0], 1, 5);
        theirs.version = 1;
        expect_not_found(acme.update(&mut theirs).await.unwrap_err());
        // ... or holding its real tenant: refused.
        let mut theirs2 = inv(OTHER[0], 2, 5);
        theirs2.version = 1;
        expect_violation(acme.update(&mut theirs2).await.unwrap_err(), "holds 2");
        check("keyed updates").await;

        // Deletes by key of the other tenant's row.
        expect_not_found(acme.delete(&theirs).await.unwrap_err());
        expect_violation(
            acme.delete(&theirs2).await.unwrap_err(),
            "delete of Invoice",
        );
        expect_not_found(acme.soft_delete(&mut theirs.clone()).await.unwrap_err());
        assert_eq!(acme.delete_many(col("id").is_in(OTHER)).await.unwrap(), 0);
        check("keyed deletes").await;

        // Inserts with the other tenant's id; upserts onto its keys.
        expect_violation(
            acme.create(inv(151, 2, 1)).await.unwrap_err(),
            "holds 2, which is outside the scope",
        );
        expect_violation(
            acme.create_many([inv(152, 1, 1), inv(153, 2, 1)])
                .await
                .unwrap_err(),
            "holds 2",
        );
        assert_eq!(common::row_count(&db, "invoices").await, 6, "{}", t.name());
        expect_violation(
            acme.upsert(inv(OTHER[2], 1, 1)).await.unwrap_err(),
            "belongs to a row outside the scope",
        );
        let created = acme.create(inv(154, 0, 1)).await.unwrap();
        assert_eq!(created.tenant_id, 1);
        // Upsert inside the scope: inserts, then updates its own row (version raised).
        let up = acme.upsert(inv(156, 0, 5)).await.unwrap();
        assert_eq!(
            (up.tenant_id, up.total, up.version),
            (1, 5, 1),
            "{}",
            t.name()
        );
        let up = acme.upsert(inv(156, 1, 6)).await.unwrap();
        assert_eq!(
            (up.tenant_id, up.total, up.version),
            (1, 6, 2),
            "{}",
            t.name()
        );
        acme.delete(&up).await.unwrap();
        check("inserts").await;

        // Raw Table through the scoped handle.
        let table = db
            .scoped(TenantScope::new("tenant_id", 1))
            .table("invoices")
            .unwrap();
        assert_eq!(table.count(hostile.clone()).await.unwrap(), 4);
        assert!(
            table
                .find_many(always.clone())
                .await
                .unwrap()
                .iter()
                .all(|r| r.get::<i64>("tenant_id").unwrap() == 1)
        );
        expect_not_found(table.find_one(OTHER[0]).await.unwrap_err());
        expect_not_found(
            table
                .update(OTHER[0], Record::new().set("total", 0))
                .await
                .unwrap_err(),
        );
        expect_violation(
            table
                .update(MINE[1], Record::new().set("tenant_id", 2))
                .await
                .unwrap_err(),
            "sets 'tenant_id' to 2",
        );
        expect_not_found(table.delete(OTHER[1]).await.unwrap_err());
        assert_eq!(table.delete_many(col("tenant_id").eq(2)).await.unwrap(), 0);
        expect_violation(
            table
                .create(
                    Record::new()
                        .set("id", 155)
                        .set("tenant_id", 2)
                        .set("total", 1)
                        .set("version", 1),
                )
                .await
                .unwrap_err(),
            "the insert sets 'tenant_id' to 2",
        );
        check("raw table").await;

        // Soft delete of everything through an always-true OR: own rows only.
        assert_eq!(acme.delete_where(hostile.clone()).await.unwrap(), 4);
        assert_eq!(acme.count(Filter::all()).await.unwrap(), 0);
        check("delete_where always-true").await;
        mine.version += 1; // the bulk update raised it
        let _ = mine;

        // A policy that requires the scope: unscoped access refused before any SQL.
        db.set_security_policy(
            RowLevelSecurityPolicy::new()
                .require_entity::<Invoice>("tenant_id")
                .unwrap(),
        );
        db.reset_query_stats();
        let e = db
            .repository::<Invoice>()
            .count(Filter::all())
            .await
            .unwrap_err();
        assert!(matches!(e, Error::ScopeRequired { .. }), "{e:?}");
        assert_eq!(e.code(), "LEX_ERR_SQL_030");
        let msg = e.to_string();
        assert!(
            msg.starts_with(
                "NoSecurityPolicyError: Invoice requires a tenant scope (column 'tenant_id')"
            ),
            "{msg}"
        );
        assert!(msg.contains("nothing was sent"), "{msg}");
        let e = db
            .repository::<Invoice>()
            .delete_many(Filter::all())
            .await
            .unwrap_err();
        assert!(matches!(e, Error::ScopeRequired { .. }), "{e:?}");
        let e = db
            .table("INVOICES")
            .delete_many(Filter::all())
            .await
            .unwrap_err();
        assert!(
            e.to_string()
                .contains("table 'INVOICES' requires a tenant scope"),
            "{e}"
        );
        // Nothing of the refused calls reached the server.
        assert_eq!(db.query_stats().tracked, 0, "{}", t.name());
        let tx = db.begin().await.unwrap();
        let e = tx
            .repository::<Invoice>()
            .find_many(Filter::all())
            .await
            .unwrap_err();
        assert!(matches!(e, Error::ScopeRequired { .. }), "{e:?}");
        // ... the refused repository can still be scoped, on its own transaction.
        let scoped_tx = tx
            .repository::<Invoice>()
            .scoped(TenantScope::new("tenant_id", 2))
            .unwrap();
        assert_eq!(scoped_tx.count(Filter::all()).await.unwrap(), 3);
        tx.rollback().await.unwrap();
        check("unscoped access under a policy").await;
        assert_eq!(common::row_count(&db, "invoices").await, 7);

        // admin_bypass lifts the scope and the policy.
        let all = acme.admin_bypass("test: count every tenant");
        assert_eq!(
            all.count(lexigram_sql::Query::new().with_deleted())
                .await
                .unwrap(),
            7
        );
        assert_eq!(
            db.admin_bypass("test")
                .table("invoices")
                .count(Filter::all())
                .await
                .unwrap(),
            7
        );
        // The statistics do record statements (the zero above is not vacuous).
        assert!(db.query_stats().tracked > 0, "{}", t.name());
    }
}

#[tokio::test]
async fn an_unknown_scope_column_is_a_typed_error() {
    let t = common::sqlite();
    let db = setup(&t).await;
    let e = db
        .repository::<Invoice>()
        .scoped(TenantScope::new("tenant", 1))
        .unwrap_err();
    assert!(matches!(e, Error::UnknownColumn { .. }), "{e:?}");
    assert!(e.to_string().contains("tenant"), "{e}");
    let e = RowLevelSecurityPolicy::new()
        .require_entity::<Invoice>("tenant")
        .unwrap_err();
    assert!(matches!(e, Error::UnknownColumn { .. }), "{e:?}");
    let e = db
        .scoped(TenantScope::new("tenant_id; DROP TABLE invoices", 1))
        .table("invoices")
        .unwrap_err();
    assert!(matches!(e, Error::InvalidIdentifier { .. }), "{e:?}");
    let e = db
        .repository::<Invoice>()
        .scoped(TenantScope::new("tenant_id", Value::Null))
        .unwrap_err();
    assert!(matches!(e, Error::InvalidRequest { .. }), "{e:?}");
}

/// Random filters over the columns, including always-true disjunctions and negations.
fn filter() -> impl Strategy<Value = Filter> {
    let leaf = prop_oneof![
        (0i64..400).prop_map(|v| col("id").gt(v)),
        (0i64..400).prop_map(|v| col("total").lte(v)),
        (0i64..4).prop_map(|v| col("tenant_id").eq(v)),
        (0i64..4).prop_map(|v| col("tenant_id").ne(v)),
        proptest::collection::vec(0i64..400, 0..4).prop_map(|v| col("id").is_in(v)),
        Just(Filter::all()),
        Just(col("id").is_not_null()),
    ];
    leaf.prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| a.or(b)),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| a.and(b)),
            inner.prop_map(not),
        ]
    })
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Each backend's database with the two tenants' rows, set up once for the proptest.
fn proptest_dbs(rt: &tokio::runtime::Runtime) -> &'static Vec<(common::TestDb, Database)> {
    static DBS: std::sync::OnceLock<Vec<(common::TestDb, Database)>> = std::sync::OnceLock::new();
    DBS.get_or_init(|| {
        rt.block_on(async {
            let mut out = Vec::new();
            for t in common::all().await {
                let db = setup(&t).await;
                out.push((t, db));
            }
            out
        })
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, failure_persistence: None, ..ProptestConfig::default() })]

    /// Whatever the filter, the scoped result is exactly the unscoped result restricted to
    /// the tenant: nothing of the other tenant, nothing of its own lost.
    #[test]
    fn random_filters_never_leave_the_scope(f in filter(), tenant in 1i64..=2) {
        let rt = runtime();
        for (t, db) in proptest_dbs(&rt) {
            rt.block_on(async {
                // Pools are bound to the runtime that opened them: reconnect on this one.
                let db = t.connect().await;
                let scoped: ScopedRepository<Invoice> = db
                    .repository::<Invoice>()
                    .scoped(TenantScope::new("tenant_id", tenant))
                    .unwrap();
                let mut got: Vec<i64> = scoped.find_many(f.clone()).await.unwrap().into_iter().map(|i| i.id).collect();
                got.sort_unstable();
                let mut want: Vec<i64> = db
                    .repository::<Invoice>()
                    .find_many(f.clone())
                    .await
                    .unwrap()
                    .into_iter()
                    .filter(|i| i.tenant_id == tenant)
                    .map(|i| i.id)
                    .collect();
                want.sort_unstable();
                assert_eq!(got, want, "{}: {f:?}", t.name());
                assert_eq!(scoped.count(f.clone()).await.unwrap(), want.len() as u64);
                let n = scoped.update_where(f.clone(), Record::new().set("total", 1)).await.unwrap();
                assert_eq!(n, want.len() as u64, "{}: {f:?}", t.name());
                db.close().await;
            });
            let _ = db;
        }
    }
}

/// PostgreSQL native row-level security: policies reading `current_setting('lexigram.tenant')`
/// see only the scoped tenant's rows in transactions of a native-RLS scope, under an ordinary
/// role (the test login may be a superuser or the table's owner, who bypass RLS).
#[tokio::test]
async fn postgres_native_rls_applies_the_tenant_setting() {
    let Some(t) = common::postgres().await else {
        return;
    };
    let db = setup(&t).await;
    let me = db
        .fetch_one("SELECT rolsuper, rolbypassrls, current_schema() AS s FROM pg_roles WHERE rolname = current_user", &[])
        .await
        .unwrap();
    let superuser: bool = me.get("rolsuper").unwrap();
    let schema: String = me.get("s").unwrap();
    eprintln!(
        "native RLS test: login superuser = {superuser}, bypassrls = {:?}",
        me.value("rolbypassrls")
    );
    let role = common::unique("lex_rls_role");
    db.execute_batch(&format!(
        "ALTER TABLE invoices ENABLE ROW LEVEL SECURITY;
         ALTER TABLE invoices FORCE ROW LEVEL SECURITY;
         CREATE POLICY tenant_isolation ON invoices
             USING (tenant_id = NULLIF(current_setting('lexigram.tenant', true), '')::bigint)
             WITH CHECK (tenant_id = NULLIF(current_setting('lexigram.tenant', true), '')::bigint);
         CREATE ROLE {role} NOLOGIN;
         GRANT USAGE ON SCHEMA {schema} TO {role};
         GRANT SELECT, INSERT, UPDATE, DELETE ON invoices TO {role};
         GRANT {role} TO current_user;"
    ))
    .await
    .unwrap();
    let count_as_role = |tx: lexigram_sql::Transaction| {
        let role = role.clone();
        async move {
            tx.execute_batch(&format!("SET LOCAL ROLE {role}"))
                .await
                .unwrap();
            let n: i64 = tx
                .fetch_one("SELECT COUNT(*) FROM invoices", &[])
                .await
                .unwrap()
                .get_at(0)
                .unwrap();
            tx.rollback().await.unwrap();
            n
        }
    };
    let scope = |v: i64| TenantScope::new("tenant_id", v).with_native_rls();
    // Raw SQL with no WHERE at all: the policy filters by the transaction's tenant.
    assert_eq!(
        count_as_role(db.begin_scoped(&scope(1)).await.unwrap()).await,
        3
    );
    assert_eq!(
        count_as_role(db.begin_scoped(&scope(2)).await.unwrap()).await,
        3
    );
    assert_eq!(
        count_as_role(db.begin_scoped(&scope(9)).await.unwrap()).await,
        0
    );
    // No tenant set: NULL setting, no row.
    assert_eq!(count_as_role(db.begin().await.unwrap()).await, 0);
    // A hostile tenant value is bound, not formatted.
    let hostile = TenantScope::new("tenant_id", "1'; DROP TABLE invoices; --").with_native_rls();
    let tx = db.begin_scoped(&hostile).await.unwrap();
    tx.rollback().await.unwrap();
    assert_eq!(common::row_count(&db, "invoices").await, 6);
    // A scoped repository inside a transaction under the role sets the tenant itself; raw
    // SQL later in the same transaction sees the same tenant.
    let tx = db.begin().await.unwrap();
    tx.execute_batch(&format!("SET LOCAL ROLE {role}"))
        .await
        .unwrap();
    let repo = tx.scoped(scope(2)).repository::<Invoice>().unwrap();
    assert_eq!(repo.count(Filter::all()).await.unwrap(), 3);
    let n: i64 = tx
        .fetch_one("SELECT COUNT(*) FROM invoices", &[])
        .await
        .unwrap()
        .get_at(0)
        .unwrap();
    assert_eq!(n, 3);
    // The policy's WITH CHECK refuses, at the server, an insert for another tenant.
    let e = tx
        .execute(
            "INSERT INTO invoices (id, tenant_id, total, version) VALUES (999, 1, 1, 1)",
            &[],
        )
        .await
        .unwrap_err();
    assert!(e.to_string().contains("42501"), "{e}"); // insufficient_privilege: the policy
    eprintln!("native RLS insert for another tenant: {e}");
    tx.rollback().await.unwrap();
    // Pool-level scoped repository with native RLS: runs in its own transaction.
    let pooled = db.repository::<Invoice>().scoped(scope(1)).unwrap();
    assert_eq!(pooled.count(Filter::all()).await.unwrap(), 3);
    db.execute_batch(&format!("DROP OWNED BY {role}; DROP ROLE {role};"))
        .await
        .unwrap();
    // The test login is a superuser (bypasses RLS even with FORCE): only the role sees the
    // policy. Unscoped under the login itself, every row is visible.
    if superuser {
        assert_eq!(common::row_count(&db, "invoices").await, 6);
    }
}
