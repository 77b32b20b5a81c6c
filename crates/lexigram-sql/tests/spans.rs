//! One `tracing` span per statement, transaction, unit of work and migration, with
//! OpenTelemetry's database attributes and never a parameter value — on every backend.
#![allow(clippy::unwrap_used, clippy::expect_used)] // helpers outside #[test] fns assert too

mod common;
#[path = "common/spans.rs"]
mod spans;

use lexigram_sql::config::BackendKind;
use lexigram_sql::migrate::{MigrationSource, Migrator};
use lexigram_sql::{Database, Entity};
use spans::{SpanData, Spans};
use tracing_subscriber::layer::SubscriberExt;

#[derive(Debug, Clone, Entity)]
#[entity(table = "span_items")]
struct SpanItem {
    #[entity(key)]
    code: String,
    label: String,
}

const SECRET_KEY: &str = "key-d41d8cd98f00";
const SECRET_LABEL: &str = "label-9e107d9d372b";
const UOW_KEY: &str = "key-e4d909c290d0";

fn no_secret_in(spans: &[SpanData]) {
    for span in spans {
        for (field, value) in &span.fields {
            for secret in [SECRET_KEY, SECRET_LABEL, UOW_KEY] {
                assert!(
                    !value.contains(secret),
                    "parameter value {secret} in {}.{field}: {value}",
                    span.name
                );
            }
        }
    }
}

/// The attributes every span of `db` carries.
fn assert_backend(span: &SpanData, kind: BackendKind, url: &str) {
    assert_eq!(span.target, "lexigram_sql::span", "{span:?}");
    assert_eq!(span.field("db.system"), Some(kind.name()), "{span:?}");
    assert!(
        span.field("db.namespace").is_some_and(|n| !n.is_empty()),
        "{span:?}"
    );
    if kind == BackendKind::Sqlite {
        assert_eq!(span.field("server.address"), None, "{span:?}");
    } else {
        assert_eq!(span.field("server.address"), Some("127.0.0.1"), "{span:?}");
        let port = url.split(':').nth(3).unwrap().split('/').next().unwrap();
        assert_eq!(span.field("server.port"), Some(port), "{span:?}");
    }
}

async fn setup(db: &Database, kind: BackendKind) {
    let key_type = if kind == BackendKind::MySql {
        "VARCHAR(64)"
    } else {
        "TEXT"
    };
    db.execute(
        &format!("CREATE TABLE span_items (code {key_type} PRIMARY KEY, label TEXT NOT NULL)"),
        &[],
    )
    .await
    .unwrap();
}

#[tokio::test(flavor = "current_thread")]
async fn statements_units_of_work_and_migrations_have_spans_with_otel_attributes() {
    for t in common::all().await {
        let spans = Spans::default();
        let subscriber = tracing_subscriber::registry().with(spans.clone());
        let _guard = tracing::subscriber::set_default(subscriber);

        let db = t.connect().await;
        setup(&db, t.kind).await;
        let items = db.repository::<SpanItem>();
        items
            .create(SpanItem {
                code: SECRET_KEY.into(),
                label: SECRET_LABEL.into(),
            })
            .await
            .unwrap();

        // A repository find_one: one SELECT statement span.
        spans.clear();
        let found = items.find_one(SECRET_KEY.to_string()).await.unwrap();
        assert_eq!(found.label, SECRET_LABEL);
        let statements = spans.named("db.statement");
        assert_eq!(statements.len(), 1, "{}: {statements:#?}", t.name());
        let select = &statements[0];
        assert_backend(select, t.kind, &t.url);
        assert_eq!(
            select.field("db.operation.name"),
            Some("SELECT"),
            "{select:?}"
        );
        let text = select.field("db.query.text").unwrap();
        assert!(
            text.contains("SELECT") && text.contains("span_items"),
            "{text}"
        );
        assert_eq!(
            select.field("db.response.returned_rows"),
            Some("1"),
            "{select:?}"
        );
        assert_eq!(select.field("otel.kind"), Some("client"));
        assert_eq!(select.field("error.type"), None);
        no_secret_in(&statements);

        // A unit of work: its span, and its INSERT as a child.
        spans.clear();
        let mut uow = db.unit_of_work().await.unwrap();
        uow.register_new(SpanItem {
            code: UOW_KEY.into(),
            label: SECRET_LABEL.into(),
        });
        uow.commit().await.unwrap();
        let units = spans.named("db.unit_of_work");
        assert_eq!(units.len(), 1, "{}: {:#?}", t.name(), spans.all());
        let unit = &units[0];
        assert_backend(unit, t.kind, &t.url);
        assert_eq!(
            unit.field("db.transaction.outcome"),
            Some("commit"),
            "{unit:?}"
        );
        let inserts: Vec<_> = spans
            .named("db.statement")
            .into_iter()
            .filter(|s| s.field("db.operation.name") == Some("INSERT"))
            .collect();
        assert!(
            inserts.iter().any(|s| s.parent == Some(unit.id)
                && s.field("db.query.text")
                    .is_some_and(|q| q.contains("span_items"))),
            "{}: the INSERT is a child of the unit of work: {:#?}",
            t.name(),
            spans.all()
        );
        no_secret_in(&spans.all());

        // A failing statement records the error's code.
        spans.clear();
        let duplicate = items
            .create(SpanItem {
                code: SECRET_KEY.into(),
                label: SECRET_LABEL.into(),
            })
            .await
            .unwrap_err();
        let failed: Vec<_> = spans
            .named("db.statement")
            .into_iter()
            .filter(|s| s.field("error.type").is_some())
            .collect();
        assert_eq!(failed.len(), 1, "{}: {:#?}", t.name(), spans.all());
        assert_eq!(failed[0].field("error.type"), Some(duplicate.code()));
        assert_eq!(failed[0].field("otel.status_code"), Some("ERROR"));
        no_secret_in(&spans.all());

        // A plain transaction.
        spans.clear();
        db.transaction(
            |tx| async move { tx.execute("DELETE FROM span_items", &[]).await.map(|_| ()) },
        )
        .await
        .unwrap();
        let txs = spans.named("db.transaction");
        assert_eq!(txs.len(), 1, "{}: {:#?}", t.name(), spans.all());
        assert_backend(&txs[0], t.kind, &t.url);

        // One migration: its span is the parent of its statements.
        spans.clear();
        let source = MigrationSource::from_static(&[
            (
                "0001_more.up.sql",
                "CREATE TABLE span_more (id INTEGER PRIMARY KEY);",
            ),
            ("0001_more.down.sql", "DROP TABLE span_more;"),
        ])
        .unwrap();
        Migrator::new(&db, source).upgrade(None).await.unwrap();
        let migrations = spans.named("db.migration");
        assert_eq!(migrations.len(), 1, "{}: {:#?}", t.name(), spans.all());
        let migration = &migrations[0];
        assert_backend(migration, t.kind, &t.url);
        assert_eq!(migration.field("db.migration.version"), Some("1"));
        assert_eq!(migration.field("db.migration.direction"), Some("up"));
        let all = spans.all();
        let create = all
            .iter()
            .find(|s| {
                s.field("db.query.text")
                    .is_some_and(|q| q.contains("CREATE TABLE span_more"))
            })
            .unwrap_or_else(|| panic!("{}: {all:#?}", t.name()));
        let mut ancestor = create.parent;
        let mut under_migration = false;
        while let Some(id) = ancestor {
            under_migration |= id == migration.id;
            ancestor = all.iter().find(|s| s.id == id).and_then(|s| s.parent);
        }
        assert!(under_migration, "{}: {all:#?}", t.name());
        db.close().await;
    }
}

#[test]
fn operation_names() {
    use lexigram_sql::observe::operation_name;
    assert_eq!(operation_name("select 1"), "SELECT");
    assert_eq!(operation_name("\n  -- c\n/* d */ (SELECT 1)"), "SELECT");
    assert_eq!(operation_name("INSERT INTO t VALUES ($1)"), "INSERT");
    assert_eq!(operation_name(""), "OTHER");
    assert_eq!(operation_name("selectx"), "OTHER");
}
