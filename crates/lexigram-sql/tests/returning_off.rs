//! Inserts without `INSERT … RETURNING`: Oracle MySQL and MariaDB < 10.5 lack it, so inserts
//! there are read back by key or by `LAST_INSERT_ID()`. `backend.returning: off` forces that
//! path on MariaDB (and SQLite); every insert path must give exactly what RETURNING gives.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a panic is a failed assertion

mod common;

use chrono::{DateTime, TimeZone, Utc};
use lexigram_sql::config::{BackendKind, Returning};
use lexigram_sql::repository::{Query, asc, col};
use lexigram_sql::{Database, DatabaseConfig, Entity, Error, Filter, Record};

#[derive(Debug, Clone, PartialEq, Entity)]
#[entity(table = "items")]
struct Item {
    #[entity(key, generated)]
    id: i64,
    name: String,
    qty: i64,
    #[entity(version)]
    version: i64,
    #[entity(soft_delete)]
    deleted_at: Option<DateTime<Utc>>,
}

impl Item {
    fn new(name: &str, qty: i64) -> Item {
        Item {
            id: 0,
            name: name.into(),
            qty,
            version: 0,
            deleted_at: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Entity)]
#[entity(table = "codes")]
struct Code {
    #[entity(key)]
    code: String,
    label: String,
    #[entity(version)]
    version: i64,
}

async fn fresh(kind: BackendKind) -> common::TestDb {
    match kind {
        BackendKind::Sqlite => common::sqlite(),
        BackendKind::Postgres => common::postgres().await.unwrap(),
        BackendKind::MySql => common::mysql().await.unwrap(),
    }
}

async fn connect(t: &common::TestDb, returning: Returning) -> Database {
    let mut config: DatabaseConfig = t.config();
    config.backend.returning = returning;
    let db = Database::from_config(&config).await.unwrap();
    for ddl in [
        "CREATE TABLE items (id {pk}, name VARCHAR(50) NOT NULL UNIQUE, qty BIGINT NOT NULL, \
         version BIGINT NOT NULL, deleted_at {ts} NULL, note VARCHAR(20) NOT NULL DEFAULT 'fresh')",
        "CREATE TABLE codes (code VARCHAR(20) PRIMARY KEY, label VARCHAR(50) NOT NULL, version BIGINT NOT NULL)",
        "CREATE TABLE tags (label VARCHAR(20) PRIMARY KEY, n INTEGER NOT NULL DEFAULT 7)",
    ] {
        db.execute(&common::ddl(t.kind, ddl), &[]).await.unwrap();
    }
    db
}

fn show<T: std::fmt::Debug>(r: &Result<T, Error>) -> String {
    match r {
        Ok(v) => format!("{v:?}"),
        Err(e) => format!("error {}", e.code()),
    }
}

fn rec(r: &Record) -> String {
    // Backends differ in how a DATE/TIMESTAMP column reads back; compare the portable columns.
    let mut out: Vec<String> = r
        .iter()
        .filter(|(c, _)| *c != "deleted_at")
        .map(|(c, v)| format!("{c}={v}"))
        .collect();
    out.sort();
    out.join(" ")
}

/// Every insert path, with what it returned and what is stored at the end.
async fn scenario(db: &Database) -> Vec<String> {
    let mut log = Vec::new();
    let items = db.repository::<Item>();
    let gone_at = Utc.with_ymd_and_hms(2024, 1, 2, 3, 4, 5).unwrap();

    // create: generated key and version come back.
    let a = items.create(Item::new("a", 1)).await;
    log.push(format!("create a: {}", show(&a)));
    let a = a.unwrap();
    assert!(a.id > 0 && a.version == 1, "{a:?}");
    // A row inserted soft-deleted is still read back.
    let gone = items
        .create(Item {
            deleted_at: Some(gone_at),
            ..Item::new("gone", 2)
        })
        .await;
    log.push(format!("create gone: {}", show(&gone)));
    // A unique violation stays typed.
    log.push(format!(
        "create a again: {}",
        show(&items.create(Item::new("a", 9)).await)
    ));

    // create_many: rows counted, keys consecutive after the ones above.
    let many = items
        .create_many((0..3).map(|i| Item::new(&format!("m{i}"), i)))
        .await;
    log.push(format!("create_many: {}", show(&many)));

    // upsert on a given key: insert, then update (version bumped).
    let codes = db.repository::<Code>();
    let code = |label: &str| Code {
        code: "c1".into(),
        label: label.into(),
        version: 0,
    };
    log.push(format!(
        "upsert new: {}",
        show(&codes.upsert(code("first")).await)
    ));
    log.push(format!(
        "upsert existing: {}",
        show(&codes.upsert(code("second")).await)
    ));
    // upsert_on a unique column of an entity with a generated key.
    log.push(format!(
        "upsert_on existing: {}",
        show(&items.upsert_on(Item::new("a", 10), &["name"]).await)
    ));
    log.push(format!(
        "upsert_on new: {}",
        show(&items.upsert_on(Item::new("b", 11), &["name"]).await)
    ));

    // Table::create: generated key and defaults, a given key, and a keyed table.
    let t = db.table("items");
    let r = t
        .create(
            Record::new()
                .set("name", "t1")
                .set("qty", 5)
                .set("version", 1),
        )
        .await;
    log.push(format!(
        "table create: {}",
        r.as_ref().map_or_else(|e| e.code().to_string(), rec)
    ));
    let r = r.unwrap();
    assert_eq!(r.get::<String>("note").unwrap(), "fresh");
    assert!(r.get::<i64>("id").unwrap() > 0);
    let r = t
        .create(
            Record::new()
                .set("id", 100)
                .set("name", "t100")
                .set("qty", 6)
                .set("version", 1),
        )
        .await;
    log.push(format!(
        "table create id 100: {}",
        r.as_ref().map_or_else(|e| e.code().to_string(), rec)
    ));
    let tags = db.table("tags").with_key("label");
    let r = tags.create(Record::new().set("label", "x")).await;
    log.push(format!(
        "table create tag: {}",
        r.as_ref().map_or_else(|e| e.code().to_string(), rec)
    ));
    assert_eq!(r.unwrap().get::<i64>("n").unwrap(), 7);

    // Inside a transaction, and through a unit of work.
    let tx = db.begin().await.unwrap();
    let in_tx = tx.repository::<Item>().create(Item::new("tx", 7)).await;
    log.push(format!("create in tx: {}", show(&in_tx)));
    let r = tx
        .table("items")
        .create(
            Record::new()
                .set("name", "tx-t")
                .set("qty", 8)
                .set("version", 1),
        )
        .await;
    log.push(format!(
        "table create in tx: {}",
        r.as_ref().map_or_else(|e| e.code().to_string(), rec)
    ));
    tx.commit().await.unwrap();

    let mut uow = db.unit_of_work().await.unwrap();
    uow.register_new(Item::new("uow1", 12));
    uow.register_new(Item::new("uow2", 13));
    uow.register_new(Code {
        code: "c2".into(),
        label: "from uow".into(),
        version: 0,
    });
    uow.commit().await.unwrap();

    // What is stored.
    let stored = items
        .find_many(Query::new().with_deleted().order_by(asc("id")))
        .await;
    log.push(format!("items: {}", show(&stored)));
    let stored = codes.find_many(Query::new().order_by(asc("code"))).await;
    log.push(format!("codes: {}", show(&stored)));
    let notes: Vec<String> = t
        .find_many(Query::from(Filter::all()).order_by(asc("id")))
        .await
        .unwrap()
        .iter()
        .map(rec)
        .collect();
    log.push(format!("item rows: {notes:?}"));
    log.push(format!(
        "tagged: {}",
        show(&db.table("tags").count(col("n").eq(7)).await)
    ));
    log
}

common::per_backend!(
    async fn inserts_without_returning_match_inserts_with_it_on_every_backend(t) {
        let kind = t.kind;
        let backend = t.name();
        let with = connect(&t, Returning::Auto).await;
        assert!(with.supports_returning(), "{backend}: auto");
        let expected = scenario(&with).await;
        with.close().await;

        let other = fresh(kind).await;
        let without = connect(&other, Returning::Off).await;
        // PostgreSQL always has RETURNING; MariaDB and SQLite honour `off`.
        assert_eq!(
            without.supports_returning(),
            kind == BackendKind::Postgres,
            "{backend}: off"
        );
        let got = scenario(&without).await;
        without.close().await;
        for (e, g) in expected.iter().zip(&got) {
            assert_eq!(e, g, "{backend}: with RETURNING vs without");
        }
        assert_eq!(expected.len(), got.len(), "{backend}");
        println!(
            "{backend}: {} insert paths identical without RETURNING",
            got.len()
        );
        if std::env::var_os("LEX_TEST_SHOW").is_some() {
            println!("{}", got.join("\n"));
        }
    }
);

#[tokio::test]
async fn a_generated_key_without_auto_increment_cannot_be_read_back_without_returning() {
    let Some(t) = common::mysql().await else {
        return;
    };
    let mut config = t.config();
    config.backend.returning = Returning::Off;
    let db = Database::from_config(&config).await.unwrap();
    // A key the server fills with a default, not AUTO_INCREMENT: nothing to read it back by.
    db.execute(
        "CREATE TABLE items (id BIGINT NOT NULL DEFAULT 0 PRIMARY KEY, name VARCHAR(50) NOT NULL, \
         qty BIGINT NOT NULL, version BIGINT NOT NULL, deleted_at DATETIME(6) NULL)",
        &[],
    )
    .await
    .unwrap();
    let err = db
        .repository::<Item>()
        .create(Item::new("a", 1))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidRequest { .. }), "{err:?}");
    assert!(err.to_string().contains("AUTO_INCREMENT"), "{err}");
}

#[test]
fn returning_is_a_config_key_with_an_env_var() {
    use lexigram::AppConfig;
    let yaml = "sql:\n  backend:\n    url: sqlite://\n    returning: off\n";
    let app = AppConfig::from_yaml_and_env(yaml, "application.yaml", []).unwrap();
    let config = DatabaseConfig::from_app_config(&app).unwrap();
    assert_eq!(config.backend.returning, Returning::Off);
    assert_eq!(config.backends().unwrap()[0].returning, Returning::Off);

    let env = [(
        "LEX_SQL__BACKEND__RETURNING".to_string(),
        "auto".to_string(),
    )];
    let app = AppConfig::from_yaml_and_env(yaml, "application.yaml", env).unwrap();
    let config = DatabaseConfig::from_app_config(&app).unwrap();
    assert_eq!(config.backend.returning, Returning::Auto);

    let env = [(
        "LEX_SQL__BACKEND__RETURNING".to_string(),
        "sometimes".to_string(),
    )];
    let app = AppConfig::from_yaml_and_env("", "application.yaml", env).unwrap();
    let err = DatabaseConfig::from_app_config(&app).unwrap_err();
    assert_eq!(err.code(), "LEX_ERR_SQL_001", "{err}");
    assert!(
        err.to_string().contains("LEX_SQL__BACKEND__RETURNING"),
        "{err}"
    );

    let yaml = "sql:\n  backends:\n    - name: main\n      backend: { url: 'sqlite://', returning: off }\n";
    let app = AppConfig::from_yaml_and_env(yaml, "application.yaml", []).unwrap();
    let backends = DatabaseConfig::from_app_config(&app)
        .unwrap()
        .backends()
        .unwrap();
    assert_eq!(backends[0].returning, Returning::Off);
}
