//! How `DatabaseProvider` reads its configuration: none at all (the seed's
//! `NoPrimaryBackendError`), env only, named backends and their errors, `enabled: false`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a panic is a failed assertion

use lexigram::{AppConfig, AppError, Application, ResolveError};
use lexigram_sql::{
    ConfigErrorKind, Database, DatabaseConfig, DatabaseModule, DatabaseProvider, Error,
};

fn yaml(text: &str) -> AppConfig {
    AppConfig::from_yaml_and_env(text, "application.yaml", []).unwrap()
}

/// Boots an application whose configuration is the YAML `text`, with the SQL module reading it.
async fn boot_yaml(text: &str) -> Result<Application, AppError> {
    Application::builder("shop")
        .config(yaml(text))
        .module(DatabaseModule::from_app_config())
        .boot()
        .await
}

fn sql_error(err: &AppError) -> &Error {
    err.downcast_ref::<Error>()
        .unwrap_or_else(|| panic!("not a lexigram_sql::Error: {err:?}"))
}

fn assert_no_backend_configured(err: &AppError) {
    let sql = sql_error(err);
    assert!(matches!(sql, Error::NoPrimaryBackend { .. }), "{sql:?}");
    assert_eq!(sql.code(), "LEX_ERR_SQL_004");
    let text = err.to_string();
    assert!(
        text.starts_with("NoPrimaryBackendError: No database backend is configured"),
        "{text}"
    );
    // Both fixes from the troubleshooting page: config file, or config in code.
    assert!(text.contains("application.yaml"), "{text}");
    assert!(text.contains("set `sql.backend.url`"), "{text}");
    assert!(text.contains("LEX_SQL__BACKEND__URL"), "{text}");
    assert!(
        text.contains("DatabaseProvider::new(DatabaseConfig::from_url(\"sqlite:///db.sqlite\")?)"),
        "{text}"
    );
    assert_eq!(err.provider().map(|(p, _)| p), Some("sql"));
}

#[tokio::test]
async fn no_configuration_at_all_is_no_primary_backend_error_with_both_fixes() {
    // No file, no LEX_SQL__* variable (an explicit, empty environment).
    let dir = tempfile::tempdir().unwrap();
    let no_file =
        AppConfig::load_from(None, [("LEX_CONFIG_FILE".to_string(), String::new())]).unwrap();
    let empty_file = {
        let path = dir.path().join("application.yaml");
        std::fs::write(&path, "app:\n  name: shop\n").unwrap();
        AppConfig::load_from(Some(&path), []).unwrap()
    };
    for config in [AppConfig::empty(), no_file, empty_file] {
        assert!(!DatabaseConfig::is_configured_in(&config));
        let err = Application::builder("shop")
            .config(config.clone())
            .add_provider(DatabaseProvider::from_app_config())
            .boot()
            .await
            .unwrap_err();
        assert_no_backend_configured(&err);
        let err = Application::builder("shop")
            .config(config)
            .module(DatabaseModule::from_app_config())
            .boot()
            .await
            .unwrap_err();
        assert_no_backend_configured(&err);
    }
}

#[tokio::test]
async fn one_env_variable_is_enough_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:///{}", dir.path().join("env.db").display());
    let config = AppConfig::load_from(
        None,
        [
            ("LEX_CONFIG_FILE".to_string(), String::new()),
            ("LEX_SQL__BACKEND__URL".to_string(), url.clone()),
        ],
    )
    .unwrap();
    let app = Application::builder("shop")
        .config(config)
        .add_provider(DatabaseProvider::from_app_config())
        .boot()
        .await
        .unwrap();
    let db = app.resolve::<Database>().unwrap();
    assert_eq!(db.settings().url.to_string(), url);
    db.execute("CREATE TABLE t (n INTEGER)", &[]).await.unwrap();
    app.shutdown().await.unwrap();
    assert!(dir.path().join("env.db").exists());
}

#[tokio::test]
async fn configure_default_takes_the_app_section_when_there_is_one() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:///{}", dir.path().join("app.db").display());
    let app = Application::builder("shop")
        .config(yaml(&format!(
            "sql:\n  backend:\n    url: '{url}'\n  pool:\n    max_size: 3\n"
        )))
        .module(DatabaseModule::configure_default())
        .boot()
        .await
        .unwrap();
    let db = app.resolve::<Database>().unwrap();
    assert_eq!(db.settings().url.to_string(), url);
    assert_eq!(db.pool_stats().max, 3);
    app.shutdown().await.unwrap();
}

#[tokio::test]
async fn explicit_config_ignores_the_app_section() {
    let app = Application::builder("shop")
        .config(yaml("sql:\n  backend:\n    url: 'mydb://nowhere/x'\n"))
        .add_provider(DatabaseProvider::new(
            DatabaseConfig::from_url("sqlite://").unwrap(),
        ))
        .boot()
        .await
        .unwrap();
    assert_eq!(
        app.resolve::<Database>()
            .unwrap()
            .settings()
            .url
            .to_string(),
        "sqlite://"
    );
    app.shutdown().await.unwrap();
}

#[tokio::test]
async fn invalid_app_config_is_a_configuration_error_at_boot() {
    let err = boot_yaml("sql:\n  backend:\n    url: 'mydb://localhost/db'\n")
        .await
        .unwrap_err();
    let sql = sql_error(&err);
    assert_eq!(sql.code(), "LEX_ERR_SQL_001");
    assert!(
        err.to_string()
            .starts_with("ConfigurationError: Invalid database URL prefix"),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("application.yaml key sql.backend.url"),
        "{err}"
    );
}

#[tokio::test]
async fn two_primaries_or_a_duplicate_name_are_configuration_errors() {
    let two_primaries = "sql:\n  backends:\n    - name: a\n      primary: true\n      backend: { url: 'sqlite://' }\n    - name: b\n      primary: true\n      backend: { url: 'sqlite://' }\n";
    let duplicate = "sql:\n  backends:\n    - name: a\n      backend: { url: 'sqlite://' }\n    - name: a\n      backend: { url: 'sqlite://' }\n";
    for (text, expect) in [
        (two_primaries, "more than one primary backend"),
        (duplicate, "used twice"),
    ] {
        let err = boot_yaml(text).await.unwrap_err();
        let Error::Configuration(config) = sql_error(&err) else {
            panic!("{err:?}")
        };
        assert_eq!(config.kind, ConfigErrorKind::Backends);
        assert_eq!(sql_error(&err).code(), "LEX_ERR_SQL_001");
        assert!(err.to_string().starts_with("ConfigurationError:"), "{err}");
        assert!(err.to_string().contains(expect), "{err}");
    }
}

#[tokio::test]
async fn several_backends_without_a_primary_resolve_by_name_only() {
    let text = "sql:\n  backends:\n    - name: orders\n      backend: { url: 'sqlite://' }\n    - name: audit\n      backend: { url: 'sqlite://' }\n";
    let app = boot_yaml(text).await.unwrap();
    assert_eq!(
        app.resolve_named::<Database>("orders").unwrap().name(),
        "orders"
    );
    assert_eq!(
        app.resolve_named::<Database>("audit").unwrap().name(),
        "audit"
    );

    let err = app.resolve::<Database>().unwrap_err();
    assert!(matches!(err, ResolveError::Failed { .. }), "{err:?}");
    let sql = err.downcast_ref::<Error>().unwrap();
    assert!(matches!(sql, Error::NoPrimaryBackend { .. }));
    assert_eq!(sql.code(), "LEX_ERR_SQL_004");
    let text = err.to_string();
    assert!(
        text.starts_with("NoPrimaryBackendError: 2 backends are configured (orders, audit)"),
        "{text}"
    );
    assert!(text.contains("primary: true"), "{text}");

    let err = app.resolve_named::<Database>("reports").unwrap_err();
    assert!(matches!(err, ResolveError::NotRegistered { .. }));
    assert!(
        err.to_string().contains("Database named \"orders\""),
        "{err}"
    );
    app.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_primary_is_also_the_unnamed_database() {
    let text = "sql:\n  backends:\n    - name: audit\n      backend: { url: 'sqlite://' }\n    - name: main\n      primary: true\n      backend: { url: 'sqlite://' }\n";
    let app = boot_yaml(text).await.unwrap();
    let unnamed = app.resolve::<Database>().unwrap();
    let main = app.resolve_named::<Database>("main").unwrap();
    assert_eq!(unnamed.name(), "main");
    // The same pool: a table made through one handle is seen through the other.
    unnamed
        .execute("CREATE TABLE t (n INTEGER)", &[])
        .await
        .unwrap();
    main.execute("INSERT INTO t VALUES (1)", &[]).await.unwrap();
    let audit = app.resolve_named::<Database>("audit").unwrap();
    assert!(
        audit
            .execute("INSERT INTO t VALUES (1)", &[])
            .await
            .is_err()
    );
    app.shutdown().await.unwrap();
}

#[tokio::test]
async fn disabled_sql_binds_nothing() {
    let app = boot_yaml("sql:\n  enabled: false\n").await.unwrap();
    let err = app.resolve::<Database>().unwrap_err();
    assert!(matches!(err, ResolveError::NotRegistered { .. }));
    assert!(app.health_check().await.components.is_empty());
    app.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_unreachable_backend_fails_boot_and_closes_the_others() {
    let text = "sql:\n  pool: { timeout: 2 }\n  backends:\n    - name: main\n      primary: true\n      backend: { url: 'sqlite://' }\n    - name: gone\n      backend: { url: 'sqlite:////nonexistent-dir/x/y.db' }\n";
    let err = boot_yaml(text).await.unwrap_err();
    let sql = sql_error(&err);
    assert_eq!(sql.code(), "LEX_ERR_SQL_002", "{err}");
    assert!(
        err.to_string()
            .starts_with("DatabaseError: could not connect"),
        "{err}"
    );
    assert_eq!(err.provider(), Some(("sql", lexigram::Phase::Boot)));
}
