//! Schema-qualified tables and the one identifier rule, on every backend: an entity in another
//! schema (a PostgreSQL schema, a MariaDB database, an ATTACHed SQLite database), a
//! `schema.table` migrations table end to end from configuration, and hostile names refused
//! with a typed error by every entry point before any SQL is sent.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a panic is a failed assertion

mod common;

use lexigram::AppConfig;
use lexigram_sql::config::{BackendKind, DatabaseConfig};
use lexigram_sql::migrate::{MigrationSource, Migrator};
use lexigram_sql::repository::{Record, asc, col};
use lexigram_sql::{Database, Entity, Error, Filter};

/// The schema the entity lives in: fixed, as entity table names are compile-time constants.
const SCHEMA: &str = "lexh14_billing";

#[derive(Debug, Clone, Entity)]
struct Customer {
    #[entity(key, generated)]
    id: i64,
    name: String,
}

#[derive(Debug, Clone, Entity)]
#[entity(table = "lexh14_billing.invoices")]
struct Invoice {
    #[entity(key, generated)]
    id: i64,
    #[entity(belongs_to = Customer)]
    customer_id: i64,
    number: String,
    total: i64,
    #[entity(version)]
    version: i64,
}

/// Connects with the billing schema in place: created on the servers, ATTACHed on SQLite (one
/// pooled connection, as ATTACH is per connection).
async fn connect_with_schema(t: &common::TestDb) -> Database {
    match t.kind {
        BackendKind::Sqlite => {
            let mut config = t.config();
            config.pool.min_size = 1;
            config.pool.max_size = 1;
            let db = Database::from_config(&config).await.unwrap();
            let path = t.dir.as_ref().unwrap().path().join("billing.db");
            db.execute(
                &format!("ATTACH DATABASE '{}' AS {SCHEMA}", path.display()),
                &[],
            )
            .await
            .unwrap();
            db
        }
        kind => {
            let db = t.connect().await;
            let create = if kind == BackendKind::Postgres {
                "SCHEMA"
            } else {
                "DATABASE"
            };
            db.execute(&format!("CREATE {create} IF NOT EXISTS {SCHEMA}"), &[])
                .await
                .unwrap();
            db.execute(&format!("DROP TABLE IF EXISTS {SCHEMA}.invoices"), &[])
                .await
                .unwrap();
            db
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entity_in_another_schema_on_every_backend() {
    for t in common::all().await {
        let db = connect_with_schema(&t).await;
        let name = t.name();
        for ddl in [
            "CREATE TABLE customers (id {pk}, name VARCHAR(40) NOT NULL)",
            "CREATE TABLE lexh14_billing.invoices (id {pk}, customer_id BIGINT NOT NULL, number VARCHAR(40) NOT NULL, total BIGINT NOT NULL, version BIGINT NOT NULL)",
        ] {
            db.execute(&common::ddl(t.kind, ddl), &[]).await.unwrap();
        }
        let ada = db
            .repository::<Customer>()
            .create(Customer {
                id: 0,
                name: "ada".into(),
            })
            .await
            .unwrap();
        let invoices = db.repository::<Invoice>();
        let hostile = "INV'; DROP TABLE customers;--";
        let mut inv = invoices
            .create(Invoice {
                id: 0,
                customer_id: ada.id,
                number: hostile.into(),
                total: 10,
                version: 0,
            })
            .await
            .unwrap();
        assert_eq!((inv.id, inv.version), (1, 1), "{name}");
        inv.total = 12;
        invoices.update(&mut inv).await.unwrap();
        let up = invoices
            .upsert(Invoice {
                id: 1,
                customer_id: ada.id,
                number: "N1".into(),
                total: 15,
                version: 0,
            })
            .await
            .unwrap();
        assert_eq!(
            (up.total, up.version),
            (15, 3),
            "{name}: upsert bumps the version through the qualified name"
        );
        invoices
            .create_many((0..3).map(|i| Invoice {
                id: 0,
                customer_id: ada.id,
                number: format!("B{i}"),
                total: i,
                version: 0,
            }))
            .await
            .unwrap();
        assert_eq!(invoices.count(Filter::all()).await.unwrap(), 4, "{name}");
        assert_eq!(
            invoices
                .update_where(col("total").lt(5), Record::new().set("number", "small"))
                .await
                .unwrap(),
            3,
            "{name}"
        );
        let joined = invoices
            .join_declared::<Customer>()
            .order_by(asc("id"))
            .fetch()
            .await
            .unwrap();
        assert_eq!(joined.len(), 4, "{name}");
        assert_eq!(joined[0].1.name, "ada", "{name}");
        let (sql, _) = invoices.select_sql(&lexigram_sql::Query::new()).unwrap();
        let quoted = if t.kind == BackendKind::MySql {
            "`lexh14_billing`.`invoices`"
        } else {
            "\"lexh14_billing\".\"invoices\""
        };
        assert!(sql.contains(quoted), "{name}: each part quoted: {sql}");
        // The same table through `Table` with the qualified name.
        let table = db.table("lexh14_billing.invoices");
        assert_eq!(
            table.count(col("number").eq("small")).await.unwrap(),
            3,
            "{name}"
        );
        invoices
            .delete(&invoices.find_one(1).await.unwrap())
            .await
            .unwrap();
        assert_eq!(
            common::row_count(&db, "customers").await,
            1,
            "{name}: the hostile value stayed a value"
        );
        if t.kind != BackendKind::Sqlite {
            db.execute(&format!("DROP TABLE {SCHEMA}.invoices"), &[])
                .await
                .unwrap();
        }
    }
}

/// Names that break the identifier rule, for tables (and columns).
const HOSTILE: [&str; 12] = [
    "a.b.c", "a;drop", "\"x\"", "", ".", "a.", ".b", "a..b", "é", "s.é", "a b", "t`x",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_identifiers_refused_everywhere_on_every_backend() {
    for t in common::all().await {
        let db = t.connect().await;
        let name = t.name();
        db.execute(
            &common::ddl(t.kind, "CREATE TABLE sentinel (id {pk}, v BIGINT)"),
            &[],
        )
        .await
        .unwrap();
        db.execute("INSERT INTO sentinel (v) VALUES (1)", &[])
            .await
            .unwrap();
        let long = format!("{}.t", "x".repeat(64));
        for bad in HOSTILE.iter().copied().chain([long.as_str()]) {
            let is_table = |r: Result<u64, Error>| {
                matches!(r, Err(Error::InvalidIdentifier { what: "table", .. }))
            };
            assert!(
                is_table(db.table(bad).count(Filter::all()).await),
                "{name}: Table {bad:?}"
            );
            assert!(
                matches!(
                    db.table("sentinel").count(col(bad).eq(1)).await,
                    Err(Error::InvalidIdentifier { what: "column", .. })
                ),
                "{name}: column {bad:?}"
            );
            let source = MigrationSource::from_static(&[(
                "0001_t.up.sql",
                "CREATE TABLE never (id INTEGER)",
            )])
            .unwrap();
            let migrated = Migrator::new(&db, source)
                .with_table(bad)
                .upgrade(None)
                .await;
            assert!(
                matches!(
                    migrated,
                    Err(Error::InvalidIdentifier { what: "table", .. })
                ),
                "{name}: migrations table {bad:?}: {migrated:?}"
            );
            let yaml = format!(
                "sql:\n  migrations:\n    table: '{}'\n",
                bad.replace('\'', "''")
            );
            let app = AppConfig::from_yaml_and_env(
                &yaml,
                "application.yaml",
                Vec::<(String, String)>::new(),
            )
            .unwrap();
            let err = DatabaseConfig::from_app_config(&app).unwrap_err();
            assert_eq!(err.code(), "LEX_ERR_SQL_001", "{name}: config {bad:?}");
            assert!(
                err.to_string().contains("migrations.table"),
                "{name}: {err}"
            );
        }
        // A qualified column is not a column.
        assert!(matches!(
            db.table("sentinel").count(col("sentinel.v").eq(1)).await,
            Err(Error::InvalidIdentifier { what: "column", .. })
        ));
        // Nothing reached the database.
        assert!(!common::table_exists(&db, "never").await, "{name}");
        assert_eq!(common::row_count(&db, "sentinel").await, 1, "{name}");
    }
}

/// `migrations.table: <schema>.schema_migrations` from configuration, validated and then
/// migrated: the table is created and filled inside the schema.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schema_qualified_migrations_table_end_to_end_on_every_backend() {
    for t in common::all().await {
        let name = t.name();
        let schema = match t.kind {
            BackendKind::Sqlite => "main".to_string(),
            _ => common::unique("app"),
        };
        let admin = t.connect().await;
        match t.kind {
            BackendKind::Postgres => admin
                .execute(&format!("CREATE SCHEMA {schema}"), &[])
                .await
                .unwrap(),
            BackendKind::MySql => admin
                .execute(&format!("CREATE DATABASE {schema}"), &[])
                .await
                .unwrap(),
            _ => 0,
        };
        let yaml = format!(
            "sql:\n  backend:\n    url: '{}'\n  migrations:\n    table: {schema}.schema_migrations\n",
            t.url
        );
        let app =
            AppConfig::from_yaml_and_env(&yaml, "application.yaml", Vec::<(String, String)>::new())
                .unwrap();
        let config = DatabaseConfig::from_app_config(&app).unwrap();
        assert_eq!(
            config.migrations.table,
            format!("{schema}.schema_migrations")
        );
        let db = Database::from_config(&config).await.unwrap();
        let source = MigrationSource::from_static(&[
            ("0001_a.up.sql", "CREATE TABLE mig_a (id INTEGER)"),
            ("0001_a.down.sql", "DROP TABLE mig_a"),
            ("0002_b.up.sql", "CREATE TABLE mig_b (id INTEGER)"),
            ("0002_b.down.sql", "DROP TABLE mig_b"),
        ])
        .unwrap();
        let migrator = Migrator::new(&db, source);
        let report = migrator.upgrade(None).await.unwrap();
        assert_eq!(report.current_version, Some(2), "{name}");
        assert_eq!(
            common::row_count(&db, &format!("{schema}.schema_migrations")).await,
            2,
            "{name}"
        );
        assert_eq!(
            migrator.status().await.unwrap().pending(),
            Vec::<i64>::new(),
            "{name}"
        );
        migrator
            .downgrade(lexigram_sql::DowngradeTarget::Last)
            .await
            .unwrap();
        assert_eq!(
            common::row_count(&db, &format!("{schema}.schema_migrations")).await,
            1,
            "{name}"
        );
        db.close().await;
        match t.kind {
            BackendKind::Postgres => admin
                .execute(&format!("DROP SCHEMA {schema} CASCADE"), &[])
                .await
                .unwrap(),
            BackendKind::MySql => admin
                .execute(&format!("DROP DATABASE {schema}"), &[])
                .await
                .unwrap(),
            _ => 0,
        };
    }
}
