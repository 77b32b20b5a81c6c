//! `DatabaseModule::stub()` used as tests use it: boot, migrate, repositories, isolation, no
//! files; what `DatabaseProvider` binds at register time and how it is connected at boot.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a panic is a failed assertion

use std::collections::BTreeSet;
use std::path::Path;

use lexigram::{AppConfig, Application, BoxError, Container, Provider, async_trait};
use lexigram_sql::repository::Filter;
use lexigram_sql::{Database, DatabaseModule, Databases, Entity, Error, Repository};

#[derive(Debug, Clone, PartialEq, Entity)]
struct User {
    #[entity(key, generated)]
    id: i64,
    name: String,
    #[entity(version)]
    version: i64,
}

#[derive(Debug, Clone, PartialEq, Entity)]
struct Note {
    #[entity(key, generated)]
    id: i64,
    body: String,
}

const USERS: &str =
    "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, version INTEGER NOT NULL);";
const NOTES: &str = "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL);";

fn migrations_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("0001_users.up.sql"), USERS).unwrap();
    std::fs::write(dir.path().join("0001_users.down.sql"), "DROP TABLE users;").unwrap();
    std::fs::write(dir.path().join("0002_notes.up.sql"), NOTES).unwrap();
    dir
}

/// Database-looking files directly in `dir`.
fn db_files(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| {
                    [".db", ".db-wal", ".db-shm", ".sqlite"]
                        .iter()
                        .any(|s| n.ends_with(s))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn builder() -> lexigram::ApplicationBuilder {
    Application::builder("stub-test").config(AppConfig::empty())
}

#[tokio::test]
async fn stub_boots_migrates_and_serves_repositories_without_leaving_files() {
    let cwd = std::env::current_dir().unwrap();
    let tmp = std::env::temp_dir();
    let (cwd_before, tmp_before) = (db_files(&cwd), db_files(&tmp));
    let migrations = migrations_dir();

    let app = builder()
        .module(DatabaseModule::stub().enable_migrations(migrations.path()))
        .module(DatabaseModule::scope::<User>())
        .boot()
        .await
        .unwrap();
    let db = app.resolve::<Database>().unwrap();
    assert_eq!(db.name(), "default");
    assert_eq!(db.settings().url.to_string(), "sqlite://");

    // The repository bound by scope and the one taken from the Database share one pool.
    let users = app.resolve::<Repository<User>>().unwrap();
    let mut ada = users
        .create(User {
            id: 0,
            name: "ada".into(),
            version: 0,
        })
        .await
        .unwrap();
    assert_eq!((ada.id, ada.version), (1, 1));
    ada.name = "Ada".into();
    users.update(&mut ada).await.unwrap();
    let again = db.repository::<User>().find_one(ada.id).await.unwrap();
    assert_eq!(
        again,
        User {
            id: 1,
            name: "Ada".into(),
            version: 2
        }
    );
    let notes = db.repository::<Note>();
    notes
        .create(Note {
            id: 0,
            body: "migrated".into(),
        })
        .await
        .unwrap();
    assert_eq!(notes.count(Filter::all()).await.unwrap(), 1);
    assert_eq!(db.pool_stats().max, 10);

    app.shutdown().await.unwrap();
    assert!(db.is_closed());
    assert_eq!(
        db_files(&cwd),
        cwd_before,
        "no database file in the working directory"
    );
    assert_eq!(
        db_files(&tmp),
        tmp_before,
        "no database file in the temp directory"
    );
    let left: Vec<_> = std::fs::read_dir(migrations.path()).unwrap().collect();
    assert_eq!(left.len(), 3, "only the migration files in their directory");
}

#[tokio::test]
async fn every_stub_is_its_own_database() {
    let a = builder()
        .module(DatabaseModule::stub())
        .boot()
        .await
        .unwrap();
    let b = builder()
        .module(DatabaseModule::stub())
        .boot()
        .await
        .unwrap();
    let (da, db) = (
        a.resolve::<Database>().unwrap(),
        b.resolve::<Database>().unwrap(),
    );
    da.execute_batch(USERS).await.unwrap();
    db.execute_batch(NOTES).await.unwrap();
    let tables = "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name";
    let names = |rows: Vec<lexigram_sql::Row>| -> Vec<String> {
        rows.iter()
            .map(|r| r.get::<String>("name").unwrap())
            .collect()
    };
    assert_eq!(names(da.fetch_all(tables, &[]).await.unwrap()), ["users"]);
    assert_eq!(names(db.fetch_all(tables, &[]).await.unwrap()), ["notes"]);
    // Another connection of the same stub's pool sees the same database.
    let tx = da.begin().await.unwrap();
    assert_eq!(names(da.fetch_all(tables, &[]).await.unwrap()), ["users"]);
    tx.rollback().await.unwrap();
    a.shutdown().await.unwrap();
    b.shutdown().await.unwrap();
}

#[tokio::test]
async fn scope_binds_several_repositories_without_new_pools() {
    let migrations = migrations_dir();
    let app = builder()
        .module(DatabaseModule::scope::<(User, Note)>()) // order of modules does not matter
        .module(DatabaseModule::stub().enable_migrations(migrations.path()))
        .boot()
        .await
        .unwrap();
    let users = app.resolve::<Repository<User>>().unwrap();
    let notes = app.resolve::<Repository<Note>>().unwrap();
    let db = app.resolve::<Database>().unwrap();
    users
        .create(User {
            id: 0,
            name: "bo".into(),
            version: 0,
        })
        .await
        .unwrap();
    notes
        .create(Note {
            id: 0,
            body: "x".into(),
        })
        .await
        .unwrap();
    // The same pool: one Databases registry, one backend, and the rows visible through it.
    assert_eq!(app.resolve::<Databases>().unwrap().all().len(), 1);
    assert_eq!(users.executor().database().name(), db.name());
    let n: i64 = db
        .fetch_one("SELECT count(*) AS n FROM users", &[])
        .await
        .unwrap()
        .get("n")
        .unwrap();
    assert_eq!(n, 1);
    app.shutdown().await.unwrap();
    // After shutdown the repositories' pool is closed too.
    let err = users.count(Filter::all()).await.unwrap_err();
    assert!(matches!(err, Error::Closed { .. }), "{err:?}");
}

#[tokio::test]
async fn scope_without_a_database_module_says_what_is_missing() {
    let err = builder()
        .module(DatabaseModule::scope::<User>())
        .boot()
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("no lexigram_sql::provider::registry::Databases is registered"),
        "{text}"
    );
    assert!(
        text.contains("needs a DatabaseModule or DatabaseProvider"),
        "{text}"
    );
}

/// An application provider that checks what the database provider bound, at register and boot.
struct Probe {
    seen: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

#[async_trait]
impl Provider for Probe {
    fn name(&self) -> &str {
        "probe"
    }

    fn register(&mut self, c: &mut Container, _: &AppConfig) -> Result<(), BoxError> {
        // Bound at register() time: present, but its pool opens at boot.
        assert!(c.contains::<Database>() && c.contains_named::<Database>("default"));
        let err = c.resolve::<Database>().unwrap_err();
        let sql = err.downcast_ref::<Error>().unwrap();
        assert!(matches!(sql, Error::NotConnected { .. }), "{sql:?}");
        assert_eq!(sql.code(), "LEX_ERR_SQL_022");
        self.seen.lock().unwrap().push(err.to_string());
        Ok(())
    }

    async fn boot(&self, c: &Container) -> Result<(), BoxError> {
        let db = c.resolve::<Database>()?;
        let n: i64 = db.fetch_one("SELECT 7 AS n", &[]).await?.get("n")?;
        self.seen.lock().unwrap().push(format!("booted with {n}"));
        Ok(())
    }
}

#[tokio::test]
async fn database_is_bound_at_register_and_connected_before_application_providers_boot() {
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let app = builder()
        .add_provider(Probe { seen: seen.clone() })
        .module(DatabaseModule::stub())
        .boot()
        .await
        .unwrap();
    assert_eq!(app.provider_names(), ["sql", "probe"]);
    let seen = seen.lock().unwrap().clone();
    assert!(
        seen[0].starts_with("DatabaseError: database 'default' is not connected yet"),
        "{}",
        seen[0]
    );
    assert_eq!(seen[1], "booted with 7");
    app.shutdown().await.unwrap();
}

#[tokio::test]
async fn after_shutdown_the_bound_database_is_closed() {
    let app = builder()
        .module(DatabaseModule::stub())
        .boot()
        .await
        .unwrap();
    let db = app.resolve::<Database>().unwrap();
    app.shutdown().await.unwrap();
    let err = db.fetch_all("SELECT 1", &[]).await.unwrap_err();
    assert!(matches!(err, Error::Closed { .. }));
    assert_eq!(err.code(), "LEX_ERR_SQL_019");
    assert!(app.resolve::<Database>().unwrap().is_closed());
    let health = app.health_check().await;
    assert!(!health.is_healthy());
    assert!(
        health.components[0]
            .error
            .as_deref()
            .unwrap()
            .contains("is closed")
    );
}

#[tokio::test]
async fn a_failing_migration_fails_boot_with_the_migration_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("0001_broken.up.sql"), "CREATE TABLE t (;").unwrap();
    let err = builder()
        .module(DatabaseModule::stub().enable_migrations(dir.path()))
        .boot()
        .await
        .unwrap_err();
    let sql = err.downcast_ref::<Error>().unwrap();
    assert!(matches!(sql, Error::Migration(_)), "{sql:?}");
    assert_eq!(sql.code(), "LEX_ERR_SQL_014");
    assert!(err.to_string().starts_with("MigrationError:"), "{err}");
    assert_eq!(err.provider().map(|(p, _)| p), Some("sql"));

    let missing = builder()
        .module(DatabaseModule::stub().enable_migrations(dir.path().join("nope")))
        .boot()
        .await
        .unwrap_err();
    assert!(missing.to_string().contains("nope"), "{missing}");
}

#[tokio::test]
async fn embedded_migrations_apply_on_boot() {
    let source =
        lexigram_sql::MigrationSource::from_static(&[("0001_users.up.sql", USERS)]).unwrap();
    let app = builder()
        .module(DatabaseModule::stub().enable_migrations_from(source))
        .module(DatabaseModule::scope::<User>())
        .boot()
        .await
        .unwrap();
    let users = app.resolve::<Repository<User>>().unwrap();
    assert_eq!(users.count(Filter::all()).await.unwrap(), 0);
    app.shutdown().await.unwrap();
}
