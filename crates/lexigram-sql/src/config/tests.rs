//! Loading, precedence and validation of the `sql` section, with explicit environments.

use std::path::PathBuf;
use std::time::Duration;

use lexigram::AppConfig;

use super::*;
use crate::error::{ConfigError, ConfigErrorKind, Error};

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn app(yaml: &str, pairs: &[(&str, &str)]) -> AppConfig {
    AppConfig::from_yaml_and_env(yaml, "application.yaml", env(pairs)).unwrap()
}

fn load(yaml: &str, pairs: &[(&str, &str)]) -> Result<DatabaseConfig, Error> {
    DatabaseConfig::from_app_config(&app(yaml, pairs))
}

fn config_error(result: Result<DatabaseConfig, Error>) -> ConfigError {
    match result {
        Err(Error::Configuration(e)) => e,
        other => panic!("expected a configuration error, got {other:?}"),
    }
}

/// A server URL that passed every check is accepted when its driver is compiled in, and
/// reported as a missing driver (never as anything else) when it is not.
fn assert_server_accepted(result: Result<DatabaseConfig, Error>, kind: BackendKind) {
    match result {
        Ok(config) => assert!(kind.is_compiled_in(), "{config:?}"),
        Err(Error::DriverMissing { feature, .. }) => {
            assert!(!kind.is_compiled_in());
            assert_eq!(feature, kind.feature());
        }
        Err(other) => panic!("{other}"),
    }
}

#[test]
fn defaults() {
    for config in [
        DatabaseConfig::default(),
        DatabaseConfig::from_app_config(&AppConfig::empty()).unwrap(),
        load("other:\n  x: 1\n", &[]).unwrap(),
    ] {
        assert!(config.enabled);
        assert_eq!(config.backend.url.expose(), "sqlite:///data.db");
        assert_eq!(
            config.backend.url.sqlite_target(),
            Some(SqliteTarget::File("data.db".into()))
        );
        assert_eq!(config.pool.min_size, 1);
        assert_eq!(config.pool.max_size, 10);
        assert_eq!(config.pool.timeout, Duration::from_secs(30));
        assert_eq!(config.pool.idle_timeout, Duration::from_secs(300));
        assert_eq!(config.pool.max_lifetime, Duration::from_secs(3600));
        assert!(!config.operations.echo);
        assert_eq!(config.operations.statement_timeout, Duration::from_secs(60));
        assert_eq!(
            config.operations.slow_query_threshold,
            Duration::from_secs(1)
        );
        assert_eq!(config.migrations.dir, PathBuf::from("migrations"));
        assert_eq!(config.migrations.table, "schema_migrations");
        assert_eq!(config.migrations.lock_timeout, Duration::from_secs(30));
        assert!(config.backends.is_empty());
    }
    assert!(!DatabaseConfig::is_configured_in(&AppConfig::empty()));
}

#[test]
fn precedence_yaml_then_env_then_code() {
    let yaml = "sql:\n  pool:\n    min_size: 2\n    max_size: 5\n  operations:\n    echo: true\n    statement_timeout: 10\n";
    let app = app(
        yaml,
        &[
            ("LEX_SQL__POOL__MAX_SIZE", "8"),
            ("LEX_SQL__OPERATIONS__STATEMENT_TIMEOUT", "20s"),
        ],
    );
    assert!(DatabaseConfig::is_configured_in(&app));
    let config = DatabaseConfig::from_app_config(&app).unwrap();
    assert_eq!(config.pool.min_size, 2); // file
    assert_eq!(config.pool.max_size, 8); // env over file
    assert!(config.operations.echo); // file
    assert_eq!(config.operations.statement_timeout, Duration::from_secs(20)); // env
    assert_eq!(config.pool.timeout, Duration::from_secs(30)); // default

    let config = config
        .with_statement_timeout(Duration::from_secs(3))
        .with_echo(false)
        .with_url("sqlite://")
        .unwrap();
    assert_eq!(config.operations.statement_timeout, Duration::from_secs(3)); // code
    assert!(!config.operations.echo);
    assert_eq!(
        config.backend.url.sqlite_target(),
        Some(SqliteTarget::Memory)
    );
    assert_eq!(config.backends().unwrap()[0].pool.max_size, 8);

    // code overrides are named as the source of later errors
    let err = config
        .with_pool(PoolConfig {
            min_size: 3,
            max_size: 2,
            ..PoolConfig::default()
        })
        .validate();
    let err = config_error(err.map(|()| DatabaseConfig::default()));
    assert_eq!(
        err.source_name.as_deref(),
        Some("code (DatabaseConfig::with_pool)")
    );
}

#[test]
fn empty_section_takes_defaults() {
    let app = app("sql:\n", &[]);
    assert!(DatabaseConfig::is_configured_in(&app));
    assert_eq!(
        DatabaseConfig::from_app_config(&app).unwrap(),
        DatabaseConfig::default()
    );
}

#[test]
fn env_only_section() {
    let app = app("", &[("LEX_SQL__ENABLED", "false")]);
    assert!(DatabaseConfig::is_configured_in(&app));
    assert!(!DatabaseConfig::from_app_config(&app).unwrap().enabled);
}

#[test]
fn interpolation() {
    let yaml = "sql:\n  backend:\n    url: sqlite:///${DB_FILE}\n  pool:\n    max_size: ${MAX:12}\n    min_size: ${MIN}\n  migrations:\n    dir: ${MIG_DIR:db/migrations}\n    table: ${TABLE:schema_migrations}\n";
    let config = load(yaml, &[("DB_FILE", "shop.db"), ("MIN", "3")]).unwrap();
    assert_eq!(
        config.backend.url.sqlite_target(),
        Some(SqliteTarget::File("shop.db".into()))
    );
    assert_eq!(config.pool.max_size, 12); // number from a placeholder default
    assert_eq!(config.pool.min_size, 3); // number from a variable
    assert_eq!(config.migrations.dir, PathBuf::from("db/migrations"));

    let err =
        AppConfig::from_yaml_and_env(yaml, "application.yaml", env(&[("MIN", "1")])).unwrap_err();
    assert!(err.to_string().contains("DB_FILE"), "{err}");
    assert!(
        err.to_string()
            .contains("application.yaml key sql.backend.url"),
        "{err}"
    );
    let err = config_error(Err(Error::from(err)));
    assert_eq!(err.kind, ConfigErrorKind::Source);
    assert_eq!(err.source_name.as_deref(), Some("application.yaml"));
}

#[test]
fn durations() {
    let yaml = "sql:\n  pool:\n    timeout: 60\n    idle_timeout: \"120s\"\n    max_lifetime: 5m\n  migrations:\n    lock_timeout: 1h\n  operations:\n    slow_query_threshold: 500ms\n";
    let config = load(yaml, &[("LEX_SQL__OPERATIONS__STATEMENT_TIMEOUT", "90")]).unwrap();
    assert_eq!(config.pool.timeout, Duration::from_secs(60));
    assert_eq!(config.pool.idle_timeout, Duration::from_secs(120));
    assert_eq!(config.pool.max_lifetime, Duration::from_secs(300));
    assert_eq!(config.migrations.lock_timeout, Duration::from_secs(3600));
    assert_eq!(
        config.operations.slow_query_threshold,
        Duration::from_millis(500)
    );
    assert_eq!(config.operations.statement_timeout, Duration::from_secs(90));
}

#[test]
fn bad_duration_names_key_and_source() {
    let err = config_error(load("sql:\n  pool:\n    timeout: 5 parsecs\n", &[]));
    assert_eq!(err.kind, ConfigErrorKind::InvalidValue);
    assert!(err.detail.contains("sql.pool.timeout"), "{err}");
    assert!(err.detail.contains("5 parsecs"), "{err}");
    assert_eq!(
        err.source_name.as_deref(),
        Some("application.yaml key sql.pool.timeout")
    );
    assert!(err.fix.contains("120s"), "{err}");

    let err = config_error(load("", &[("LEX_SQL__MIGRATIONS__LOCK_TIMEOUT", "soon")]));
    assert!(err.detail.contains("sql.migrations.lock_timeout"), "{err}");
    assert_eq!(
        err.source_name.as_deref(),
        Some("env LEX_SQL__MIGRATIONS__LOCK_TIMEOUT")
    );
}

#[test]
fn unknown_keys_and_wrong_types() {
    let err = config_error(load("sql:\n  pool:\n    max_sise: 3\n", &[]));
    assert_eq!(err.kind, ConfigErrorKind::InvalidValue);
    assert!(err.detail.contains("sql.pool.max_sise"), "{err}");
    assert!(err.fix.contains("max_size"), "{err}");
    assert_eq!(
        err.source_name.as_deref(),
        Some("application.yaml key sql.pool.max_sise")
    );

    let err = config_error(load("", &[("LEX_SQL__BACKEND__USER", "x")]));
    assert!(err.detail.contains("sql.backend.user"), "{err}");
    assert_eq!(
        err.source_name.as_deref(),
        Some("env LEX_SQL__BACKEND__USER")
    );

    let err = config_error(load("sql:\n  colour: blue\n", &[]));
    assert!(err.detail.contains("sql.colour"), "{err}");

    let err = config_error(load("sql:\n  pool:\n    max_size: many\n", &[]));
    assert!(err.detail.contains("sql.pool.max_size"), "{err}");
    assert_eq!(
        err.source_name.as_deref(),
        Some("application.yaml key sql.pool.max_size")
    );

    let err = config_error(load("sql:\n  pool:\n", &[]));
    assert_eq!(err.detail, "`sql.pool` is empty");
    assert_eq!(
        err.source_name.as_deref(),
        Some("application.yaml key sql.pool")
    );

    let err = config_error(load("sql: 5\n", &[]));
    assert_eq!(err.kind, ConfigErrorKind::InvalidValue);
}

#[test]
fn max_size_zero() {
    let err = config_error(load(
        "sql:\n  pool:\n    max_size: 0\n    min_size: 0\n",
        &[],
    ));
    assert_eq!(err.kind, ConfigErrorKind::InvalidValue);
    assert!(err.to_string().contains("sql.pool.max_size"), "{err}");
}

#[test]
fn pool_bounds_from_env() {
    let err = config_error(load(
        "",
        &[
            ("LEX_SQL__POOL__MIN_SIZE", "10"),
            ("LEX_SQL__POOL__MAX_SIZE", "2"),
        ],
    ));
    assert_eq!(err.kind, ConfigErrorKind::PoolBounds);
    assert_eq!(err.headline, "max_size must be >= min_size");
    assert!(err.detail.contains("min_size = 10"), "{err}");
    assert!(err.detail.contains("max_size = 2"), "{err}");
    assert_eq!(
        err.source_name.as_deref(),
        Some("env LEX_SQL__POOL__MAX_SIZE")
    );
    assert!(
        err.to_string()
            .starts_with("ConfigurationError: max_size must be >= min_size"),
        "{err}"
    );
}

#[test]
fn pool_bounds_from_file() {
    let err = config_error(load(
        "sql:\n  pool:\n    min_size: 10\n    max_size: 2\n",
        &[],
    ));
    assert_eq!(err.headline, "max_size must be >= min_size");
    assert_eq!(
        err.source_name.as_deref(),
        Some("application.yaml key sql.pool.max_size")
    );

    // mixed sources: both are named
    let err = config_error(load(
        "sql:\n  pool:\n    min_size: 10\n",
        &[("LEX_SQL__POOL__MAX_SIZE", "2")],
    ));
    let source = err.source_name.unwrap();
    assert!(source.contains("env LEX_SQL__POOL__MAX_SIZE"), "{source}");
    assert!(
        source.contains("application.yaml key sql.pool.min_size"),
        "{source}"
    );

    // only min_size set, above the default max_size
    let err = config_error(load("sql:\n  pool:\n    min_size: 11\n", &[]));
    assert_eq!(err.kind, ConfigErrorKind::PoolBounds);
}

#[test]
fn invalid_prefix_from_env() {
    let err = config_error(load(
        "",
        &[("LEX_SQL__BACKEND__URL", "mydb://localhost/db")],
    ));
    assert_eq!(err.kind, ConfigErrorKind::InvalidUrlPrefix);
    let text = err.to_string();
    assert!(text.contains("Invalid database URL prefix"), "{text}");
    assert!(text.contains("mydb://localhost/db"), "{text}");
    assert!(text.contains("LEX_SQL__BACKEND__URL"), "{text}");
    assert!(
        text.contains("postgresql://user:pass@localhost/db"),
        "{text}"
    );
}

#[test]
fn invalid_prefix_from_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("application.yaml");
    std::fs::write(
        &path,
        "sql:\n  backend:\n    url: mydb://admin:hunter2@localhost/db\n",
    )
    .unwrap();
    let app = AppConfig::load_from(Some(&path), env(&[])).unwrap();
    let err = config_error(DatabaseConfig::from_app_config(&app));
    assert_eq!(err.kind, ConfigErrorKind::InvalidUrlPrefix);
    assert_eq!(
        err.source_name,
        Some(format!("{} key sql.backend.url", path.display()))
    );
    let text = err.to_string();
    assert!(text.contains("Invalid database URL prefix"), "{text}");
    assert!(text.contains("mydb://admin:***@localhost/db"), "{text}");
    assert!(!text.contains("hunter2"), "{text}");
}

#[test]
fn from_url() {
    let config = DatabaseConfig::from_url("sqlite:///shop.db").unwrap();
    assert_eq!(
        config.backend.url.sqlite_target(),
        Some(SqliteTarget::File("shop.db".into()))
    );
    let err = config_error(DatabaseConfig::from_url("mydb://localhost/db"));
    assert_eq!(err.kind, ConfigErrorKind::InvalidUrlPrefix);
    assert_eq!(
        err.source_name.as_deref(),
        Some("code (DatabaseConfig::from_url)")
    );

    assert_server_accepted(
        DatabaseConfig::from_url("postgresql+asyncpg://u:p@h/db"),
        BackendKind::Postgres,
    );
    assert_server_accepted(
        DatabaseConfig::from_url("mariadb://u:p@h/db"),
        BackendKind::MySql,
    );
}

#[test]
fn driver_plus_suffix_accepted_from_config() {
    let result = load(
        "",
        &[("LEX_SQL__BACKEND__URL", "postgresql+asyncpg://u:p@h/db")],
    );
    assert_server_accepted(result, BackendKind::Postgres);
}

#[cfg(not(feature = "postgres"))]
#[test]
fn missing_driver_names_the_feature() {
    let err = DatabaseConfig::from_url("postgresql://app:hunter2@db/shop").unwrap_err();
    match &err {
        Error::DriverMissing {
            backend,
            feature,
            url,
        } => {
            assert_eq!(*backend, "postgresql");
            assert_eq!(*feature, "postgres");
            assert_eq!(url, "postgresql://app:***@db/shop");
        }
        other => panic!("{other:?}"),
    }
    assert!(!err.to_string().contains("hunter2"));
    assert!(err.to_string().contains("features = [\"postgres\"]"));

    // a disabled data layer does not need its driver
    let config = load(
        "sql:\n  enabled: false\n  backend:\n    url: postgresql://app@db/shop\n",
        &[],
    );
    assert!(config.is_ok());
}

#[test]
fn production_rejects_default_passwords() {
    for weak in [
        "password", "postgres", "root", "admin", "secret", "", "Password",
    ] {
        let url = format!("postgresql://app:{weak}@db/shop");
        let err = config_error(load(
            "",
            &[("LEX_ENV", "production"), ("LEX_SQL__BACKEND__URL", &url)],
        ));
        assert_eq!(err.kind, ConfigErrorKind::DefaultPassword, "{weak}");
        assert_eq!(
            err.source_name.as_deref(),
            Some("env LEX_SQL__BACKEND__URL")
        );
        assert!(err.detail.contains("postgresql://app:***@db/shop"), "{err}");
        if !weak.is_empty() {
            assert!(!err.to_string().contains(&format!(":{weak}@")), "{err}");
        }
    }
    // strong password accepted
    assert_server_accepted(
        load(
            "",
            &[
                ("LEX_ENV", "production"),
                (
                    "LEX_SQL__BACKEND__URL",
                    "postgresql://app:Xk9-rT2vq@db/shop",
                ),
            ],
        ),
        BackendKind::Postgres,
    );
    // default passwords are fine outside production
    assert_server_accepted(
        load(
            "",
            &[("LEX_SQL__BACKEND__URL", "mysql://root:root@db/shop")],
        ),
        BackendKind::MySql,
    );
    // SQLite has no password
    assert!(load("", &[("LEX_ENV", "production")]).is_ok());
    // with_environment does the same from code
    let err = DatabaseConfig::default()
        .with_url("mysql://root:secret@db/shop")
        .unwrap()
        .with_environment("production")
        .validate()
        .unwrap_err();
    assert!(matches!(
        err,
        Error::Configuration(ConfigError {
            kind: ConfigErrorKind::DefaultPassword,
            ..
        })
    ));
}

#[test]
fn backends_from_env_list() {
    let config = load(
        "",
        &[
            ("LEX_SQL__BACKENDS__0__NAME", "main"),
            ("LEX_SQL__BACKENDS__0__PRIMARY", "true"),
            ("LEX_SQL__BACKENDS__0__BACKEND__URL", "sqlite://"),
            ("LEX_SQL__BACKENDS__1__NAME", "reports"),
            ("LEX_SQL__BACKENDS__1__BACKEND__URL", "sqlite:///reports.db"),
            ("LEX_SQL__BACKENDS__1__POOL__MAX_SIZE", "2"),
            ("LEX_SQL__POOL__MAX_SIZE", "4"),
        ],
    )
    .unwrap();
    let backends = config.backends().unwrap();
    assert_eq!(backends.len(), 2);
    assert_eq!(backends[0].name, "main");
    assert!(backends[0].primary);
    assert_eq!(backends[0].url.sqlite_target(), Some(SqliteTarget::Memory));
    assert_eq!(backends[0].pool.max_size, 4); // inherited
    assert_eq!(backends[1].name, "reports");
    assert!(!backends[1].primary);
    assert_eq!(backends[1].pool.max_size, 2); // own
    assert_eq!(backends[1].pool.min_size, 1);
    assert_eq!(backends[1].migrations, config.migrations);
}

#[test]
fn backends_as_index_map_are_accepted() {
    // Indices that are not 0..n stay a map after loading; they are ordered by index.
    let config = load(
        "",
        &[
            ("LEX_SQL__BACKENDS__3__NAME", "b"),
            ("LEX_SQL__BACKENDS__3__BACKEND__URL", "sqlite://"),
            ("LEX_SQL__BACKENDS__1__NAME", "a"),
            ("LEX_SQL__BACKENDS__1__BACKEND__URL", "sqlite://"),
        ],
    )
    .unwrap();
    let names: Vec<_> = config.backends.iter().map(|b| b.name.as_str()).collect();
    assert_eq!(names, ["a", "b"]);
}

#[test]
fn env_overrides_one_field_of_a_file_backend() {
    let yaml = "sql:\n  backends:\n    - name: main\n      primary: true\n      backend:\n        url: sqlite:///main.db\n";
    let config = load(yaml, &[("LEX_SQL__BACKENDS__0__BACKEND__URL", "sqlite://")]).unwrap();
    assert_eq!(config.backends[0].name, "main");
    assert_eq!(
        config.backends[0].backend.url.sqlite_target(),
        Some(SqliteTarget::Memory)
    );

    let err = config_error(load(
        yaml,
        &[("LEX_SQL__BACKENDS__0__BACKEND__URL", "mydb://x")],
    ));
    assert_eq!(err.kind, ConfigErrorKind::InvalidUrlPrefix);
    assert_eq!(
        err.source_name.as_deref(),
        Some("env LEX_SQL__BACKENDS__0__BACKEND__URL")
    );
}

#[test]
fn named_backend_errors() {
    let two_primaries = "sql:\n  backends:\n    - name: a\n      primary: true\n      backend: { url: 'sqlite://' }\n    - name: b\n      primary: true\n      backend: { url: 'sqlite://' }\n";
    let err = config_error(load(two_primaries, &[]));
    assert_eq!(err.kind, ConfigErrorKind::Backends);
    assert!(
        err.detail.contains("`a`") && err.detail.contains("`b`"),
        "{err}"
    );
    assert_eq!(
        err.source_name.as_deref(),
        Some("application.yaml key sql.backends.1.primary")
    );

    let duplicate = "sql:\n  backends:\n    - name: a\n      backend: { url: 'sqlite://' }\n    - name: a\n      backend: { url: 'sqlite://' }\n";
    let err = config_error(load(duplicate, &[]));
    assert_eq!(err.kind, ConfigErrorKind::Backends);
    assert!(err.detail.contains("used twice"), "{err}");

    // several backends and none primary is resolved later, not a config error
    let none_primary = "sql:\n  backends:\n    - name: a\n      backend: { url: 'sqlite://' }\n    - name: b\n      backend: { url: 'sqlite://' }\n";
    assert_eq!(
        load(none_primary, &[]).unwrap().backends().unwrap().len(),
        2
    );

    // a backend without a URL is named
    let err = config_error(load("sql:\n  backends:\n    - name: a\n", &[]));
    assert!(err.detail.contains("sql.backends.0.backend"), "{err}");

    // a bad pool inside a named backend names its key
    let bad_pool = "sql:\n  backends:\n    - name: a\n      backend: { url: 'sqlite://' }\n      pool: { min_size: 5, max_size: 1 }\n";
    let err = config_error(load(bad_pool, &[]));
    assert_eq!(err.kind, ConfigErrorKind::PoolBounds);
    assert_eq!(
        err.source_name.as_deref(),
        Some("application.yaml key sql.backends.0.pool.max_size")
    );
}

#[test]
fn bad_migration_table() {
    let err = config_error(load(
        "",
        &[("LEX_SQL__MIGRATIONS__TABLE", "x; drop table y")],
    ));
    assert_eq!(err.kind, ConfigErrorKind::InvalidValue);
    assert_eq!(
        err.source_name.as_deref(),
        Some("env LEX_SQL__MIGRATIONS__TABLE")
    );
    assert!(
        load(
            "",
            &[("LEX_SQL__MIGRATIONS__TABLE", "app.schema_migrations")]
        )
        .is_ok()
    );
}

#[test]
fn no_error_or_debug_shows_the_password() {
    let secret = "hunter2";
    let cases = [
        ("LEX_SQL__BACKEND__URL", "mydb://u:hunter2@h/db"),
        (
            "LEX_SQL__BACKEND__URL",
            "postgresql://u:hunter2@exa mple/db",
        ),
        ("LEX_SQL__BACKEND__URL", "postgresql://u:hunter2@h/db"),
    ];
    for (key, value) in cases {
        let result = load("sql:\n  pool:\n    max_size: 0\n", &[(key, value)]);
        let text = match &result {
            Ok(config) => format!("{config:?}"),
            Err(e) => format!("{e} {e:?}"),
        };
        assert!(!text.contains(secret), "{text}");
    }
    let config = DatabaseConfig::default()
        .with_url("postgresql://u:hunter2@h/db")
        .unwrap();
    assert!(!format!("{config:?}").contains(secret));
    assert!(!format!("{}", config.backend.url).contains(secret));
    let settings = config.backends();
    assert!(!format!("{settings:?}").contains(secret));
}

#[test]
fn zero_and_overlong_durations_are_rejected_with_key_and_source() {
    let err = config_error(load("sql:\n  pool:\n    timeout: 0\n", &[]));
    assert_eq!(err.kind, ConfigErrorKind::InvalidValue);
    assert!(err.detail.contains("`sql.pool.timeout` is 0"), "{err}");
    assert_eq!(
        err.source_name.as_deref(),
        Some("application.yaml key sql.pool.timeout")
    );

    let err = config_error(load(
        "",
        &[(
            "LEX_SQL__OPERATIONS__STATEMENT_TIMEOUT",
            "18446744073709551615",
        )],
    ));
    assert!(
        err.detail.contains("`sql.operations.statement_timeout` = "),
        "{err}"
    );
    assert!(
        err.detail.contains("longer than the limit of 24days"),
        "{err}"
    );
    assert_eq!(
        err.source_name.as_deref(),
        Some("env LEX_SQL__OPERATIONS__STATEMENT_TIMEOUT")
    );

    let err = config_error(load(
        "sql:\n  backends:\n    - name: a\n      backend: { url: 'sqlite://' }\n      migrations: { lock_timeout: 400days }\n",
        &[],
    ));
    assert!(
        err.detail
            .contains("sql.backends.0.migrations.lock_timeout"),
        "{err}"
    );

    let err = config_error(load("sql:\n  pool:\n    max_size: 5000\n", &[]));
    assert!(
        err.to_string().contains("max_size must be <= 1000"),
        "{err}"
    );

    // zero turns these off; the limits themselves are accepted
    let config = load(
        "sql:\n  pool: { idle_timeout: 0, max_lifetime: 0, timeout: 365days }\n  operations: { statement_timeout: 0, slow_query_threshold: 0 }\n  migrations: { lock_timeout: 0 }\n",
        &[("LEX_SQL__OPERATIONS__STATEMENT_TIMEOUT", "24days")],
    )
    .unwrap();
    assert_eq!(config.operations.statement_timeout, MAX_STATEMENT_TIMEOUT);
    assert_eq!(config.pool.timeout, MAX_DURATION);
}

#[test]
fn connect_timeout_is_its_own_key_env_var_and_checked_duration() {
    assert_eq!(
        load("", &[]).unwrap().pool.connect_timeout,
        Duration::from_secs(5)
    );
    let config = load(
        "sql:\n  pool:\n    connect_timeout: 2s\n",
        &[("LEX_SQL__POOL__TIMEOUT", "9s")],
    )
    .unwrap();
    assert_eq!(config.pool.connect_timeout, Duration::from_secs(2));
    assert_eq!(config.pool.timeout, Duration::from_secs(9));
    let config = load("", &[("LEX_SQL__POOL__CONNECT_TIMEOUT", "750ms")]).unwrap();
    assert_eq!(config.pool.connect_timeout, Duration::from_millis(750));

    let err = config_error(load("", &[("LEX_SQL__POOL__CONNECT_TIMEOUT", "0")]));
    assert!(
        err.detail.contains("`sql.pool.connect_timeout` is 0"),
        "{err}"
    );
    assert_eq!(
        err.source_name.as_deref(),
        Some("env LEX_SQL__POOL__CONNECT_TIMEOUT")
    );
    let err = config_error(load("sql:\n  pool:\n    connect_timeout: 400days\n", &[]));
    assert!(err.detail.contains("sql.pool.connect_timeout"), "{err}");
}

#[tokio::test(flavor = "current_thread")]
async fn settings_built_in_code_are_checked_before_the_pool_opens() {
    let mut settings = DatabaseConfig::from_url("sqlite://")
        .unwrap()
        .backends()
        .unwrap()
        .remove(0);
    settings.pool.timeout = Duration::ZERO;
    let err = crate::Database::connect(settings.clone()).await.err();
    match err {
        Some(Error::Configuration(e)) => {
            assert!(e.detail.contains("sql.pool.timeout"), "{e}");
            assert_eq!(e.source_name.as_deref(), Some("code (BackendSettings)"));
        }
        other => panic!("{other:?}"),
    }
    settings.pool.timeout = Duration::from_secs(1);
    settings.pool.min_size = 3;
    settings.pool.max_size = 2;
    assert!(matches!(
        crate::Database::connect(settings).await,
        Err(Error::Configuration(_))
    ));
}

#[test]
fn tls_keys_load_from_yaml_and_env() {
    let config = load(
        "sql:\n  backend:\n    url: postgresql://app:pw@db/shop\n    tls: { mode: verify-ca, root_cert: /etc/yaml-ca.pem }\n",
        &[
            ("LEX_SQL__BACKEND__TLS__MODE", "VERIFY_IDENTITY"),
            ("LEX_SQL__BACKEND__TLS__CERT", "/etc/client.pem"),
            ("LEX_SQL__BACKEND__TLS__KEY", "/etc/client.key"),
        ],
    );
    let Ok(config) = config else {
        // Without the postgres driver compiled in the URL is refused; the keys still parse.
        assert!(!BackendKind::Postgres.is_compiled_in());
        return;
    };
    let tls = &config.backend.tls;
    assert_eq!(tls.mode, Some(TlsMode::VerifyFull));
    assert_eq!(tls.root_cert, Some(PathBuf::from("/etc/yaml-ca.pem")));
    assert_eq!(tls.cert, Some(PathBuf::from("/etc/client.pem")));
    assert_eq!(tls.key, Some(PathBuf::from("/etc/client.key")));
    assert_eq!(config.backends().unwrap()[0].tls, *tls);
}

#[test]
fn bad_tls_settings_are_configuration_errors() {
    let err = config_error(load("", &[("LEX_SQL__BACKEND__TLS__MODE", "sometimes")]));
    assert!(err.to_string().contains("unknown TLS mode"), "{err}");

    let err = config_error(load(
        "",
        &[(
            "LEX_SQL__BACKEND__URL",
            "postgresql://app:hunter22@db/shop?sslmode=always",
        )],
    ));
    assert_eq!(err.kind, ConfigErrorKind::InvalidValue);
    assert_eq!(
        err.source_name.as_deref(),
        Some("env LEX_SQL__BACKEND__URL")
    );
    assert!(err.to_string().contains("sslmode=always"), "{err}");
    assert!(!err.to_string().contains("hunter22"), "{err}");
}

/// Everything the closure logs at WARN, as text.
fn warnings(f: impl FnOnce()) -> String {
    use std::sync::{Arc, Mutex};
    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let buf = Buf::default();
    let writer = buf.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::WARN)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::with_default(subscriber, f);
    let bytes = buf.0.lock().unwrap().clone();
    String::from_utf8(bytes).unwrap()
}

#[test]
fn production_warns_below_verify_full_on_remote_hosts() {
    if !BackendKind::Postgres.is_compiled_in() {
        return;
    }
    let settings = |url: &str, env: Option<&str>| {
        let mut config = DatabaseConfig::from_url(url).unwrap();
        if let Some(env) = env {
            config = config.with_environment(env);
        }
        warnings(|| {
            config.backends().unwrap();
        })
    };
    let out = settings(
        "postgresql://app:Xk9-rT2vq@db.internal/shop",
        Some("production"),
    );
    assert!(out.contains("WARN"), "{out}");
    assert!(out.contains("TLS mode prefer"), "{out}");
    assert!(out.contains("sslmode=verify-full"), "{out}");
    assert!(!out.contains("Xk9-rT2vq"), "{out}");
    let out = settings(
        "postgresql://app:Xk9-rT2vq@db.internal/shop?sslmode=require",
        Some("production"),
    );
    assert!(out.contains("TLS mode require"), "{out}");
    for quiet in [
        (
            "postgresql://app:Xk9-rT2vq@db.internal/shop?sslmode=verify-full",
            Some("production"),
        ),
        (
            "postgresql://app:Xk9-rT2vq@127.0.0.1/shop",
            Some("production"),
        ),
        (
            "postgresql://app:Xk9-rT2vq@localhost/shop",
            Some("production"),
        ),
        ("postgresql://app:Xk9-rT2vq@db.internal/shop", None),
    ] {
        let out = settings(quiet.0, quiet.1);
        assert!(out.is_empty(), "{quiet:?}: {out}");
    }
}

/// The Python edition's spellings: `pool.acquire_timeout` and `pool.recycle` are
/// `pool.timeout` and `pool.max_lifetime`, from the file and the environment, at the top level
/// and in a named backend; an error about the value names the key as written.
#[test]
fn python_edition_pool_aliases() {
    let config = load(
        "sql:\n  pool:\n    acquire_timeout: 7s\n    recycle: 10m\n",
        &[],
    )
    .unwrap();
    assert_eq!(config.pool.timeout, Duration::from_secs(7));
    assert_eq!(config.pool.max_lifetime, Duration::from_secs(600));

    let config = load(
        "",
        &[
            ("LEX_SQL__POOL__ACQUIRE_TIMEOUT", "3"),
            ("LEX_SQL__POOL__RECYCLE", "1h"),
        ],
    )
    .unwrap();
    assert_eq!(config.pool.timeout, Duration::from_secs(3));
    assert_eq!(config.pool.max_lifetime, Duration::from_secs(3600));

    let yaml = "sql:\n  backends:\n    - name: main\n      primary: true\n      backend: { url: 'sqlite://' }\n      pool: { acquire_timeout: 2s }\n";
    let backends = load(yaml, &[]).unwrap().backends().unwrap();
    assert_eq!(backends[0].pool.timeout, Duration::from_secs(2));

    // A zero value is refused, naming where it was written.
    let err = config_error(load("sql:\n  pool:\n    acquire_timeout: 0\n", &[]));
    assert!(err.detail.contains("sql.pool.timeout"), "{err}");
    assert_eq!(
        err.source_name.as_deref(),
        Some("application.yaml key sql.pool.acquire_timeout")
    );

    // Both spellings at once is an error, not a silent choice.
    let err = config_error(load(
        "sql:\n  pool:\n    timeout: 5s\n    acquire_timeout: 6s\n",
        &[],
    ));
    assert!(err.detail.contains("duplicate field"), "{err}");
}

/// `backends[].migration_dir` sets that backend's migration directory, over its own or the
/// inherited `migrations.dir`.
#[test]
fn named_backend_migration_dir() {
    let yaml = "sql:\n  migrations: { dir: shared }\n  backends:\n    - name: main\n      primary: true\n      backend: { url: 'sqlite://' }\n      migration_dir: db/main\n    - name: reports\n      backend: { url: 'sqlite://' }\n";
    let backends = load(yaml, &[]).unwrap().backends().unwrap();
    assert_eq!(backends[0].migrations.dir, PathBuf::from("db/main"));
    assert_eq!(backends[1].migrations.dir, PathBuf::from("shared"));
    let config = load(
        "",
        &[
            ("LEX_SQL__BACKENDS__0__NAME", "main"),
            ("LEX_SQL__BACKENDS__0__PRIMARY", "true"),
            ("LEX_SQL__BACKENDS__0__BACKEND__URL", "sqlite://"),
            ("LEX_SQL__BACKENDS__0__MIGRATION_DIR", "m"),
        ],
    )
    .unwrap();
    assert_eq!(
        config.backends().unwrap()[0].migrations.dir,
        PathBuf::from("m")
    );
}

/// `pool.max_overflow` (SQLAlchemy's burst allowance) is refused with what to write instead.
#[test]
fn max_overflow_is_refused_with_the_fix() {
    for (yaml, env) in [
        ("sql:\n  pool:\n    max_overflow: 5\n", vec![]),
        ("", vec![("LEX_SQL__POOL__MAX_OVERFLOW", "5")]),
    ] {
        let err = config_error(load(yaml, &env));
        assert_eq!(err.headline, "Unsupported configuration key");
        assert!(err.detail.contains("sql.pool.max_overflow"), "{err}");
        assert!(err.fix.contains("pool.max_size"), "{err}");
        assert!(err.source_name.is_some(), "{err}");
    }
}

/// Every unknown key suggests the closest known key when one is close, in every section.
#[test]
fn unknown_keys_suggest_the_closest_key() {
    for (yaml, near) in [
        ("sql:\n  pool:\n    max_sise: 3\n", "max_size"),
        ("sql:\n  pool:\n    acquire_timout: 3\n", "acquire_timeout"),
        ("sql:\n  operations:\n    ecco: true\n", "echo"),
        (
            "sql:\n  operations:\n    statement_timout: 3\n",
            "statement_timeout",
        ),
        ("sql:\n  migrations:\n    tabel: x\n", "table"),
        ("sql:\n  backend:\n    ulr: 'sqlite://'\n", "url"),
        ("sql:\n  outbox:\n    pol_interval: 1\n", "poll_interval"),
        ("sql:\n  backendz: []\n", "backends"),
    ] {
        let err = config_error(load(yaml, &[]));
        assert_eq!(err.headline, "Unknown configuration key", "{yaml}");
        assert!(
            err.fix.starts_with(&format!("did you mean `{near}`?")),
            "{yaml}: {}",
            err.fix
        );
    }
    let err = config_error(load("sql:\n  colour: blue\n", &[]));
    assert!(!err.fix.contains("did you mean"), "{}", err.fix);
}

/// The outbox keys of the Python edition, from the file and the environment, and their checks.
#[test]
fn outbox_keys() {
    let config = load(
        "sql:\n  outbox:\n    enabled: true\n    poll_interval: 250ms\n    batch_max_age: 2s\n    batch_size: 50\n",
        &[("LEX_SQL__OUTBOX__LEASE", "10s")],
    )
    .unwrap();
    assert!(config.outbox.enabled);
    assert_eq!(config.outbox.poll_interval, Duration::from_millis(250));
    assert_eq!(config.outbox.batch_max_age, Duration::from_secs(2));
    assert_eq!(config.outbox.batch_size, 50);
    assert_eq!(config.outbox.lease, Duration::from_secs(10));

    let err = config_error(load("sql:\n  outbox:\n    poll_interval: 0\n", &[]));
    assert!(err.detail.contains("sql.outbox.poll_interval"), "{err}");
    let err = config_error(load("", &[("LEX_SQL__OUTBOX__BATCH_SIZE", "0")]));
    assert!(err.detail.contains("sql.outbox.batch_size"), "{err}");
    assert_eq!(
        err.source_name.as_deref(),
        Some("env LEX_SQL__OUTBOX__BATCH_SIZE")
    );
    let err = config_error(load("sql:\n  outbox:\n    lease: 400d\n", &[]));
    assert!(err.detail.contains("sql.outbox.lease"), "{err}");
}

/// A replica's `max_lag`: 10 s unless given, from the file or the environment; zero turns the
/// check off; an overlong value is refused naming the key.
#[test]
fn replica_max_lag() {
    if !cfg!(feature = "postgres") {
        return;
    }
    let yaml = "sql:\n  backend:\n    url: postgresql://app@primary/shop\n    replicas:\n      - url: postgresql://app@r1/shop\n      - url: postgresql://app@r2/shop\n        max_lag: 0\n";
    let config = load(yaml, &[("LEX_SQL__BACKEND__REPLICAS__0__MAX_LAG", "2s")]).unwrap();
    let replicas = &config.backends().unwrap()[0].replicas;
    assert_eq!(replicas[0].max_lag, Duration::from_secs(2));
    assert_eq!(replicas[1].max_lag, Duration::ZERO);
    let config = load(
        "sql:\n  backend:\n    url: postgresql://app@primary/shop\n    replicas:\n      - url: postgresql://app@r1/shop\n",
        &[],
    )
    .unwrap();
    assert_eq!(
        config.backends().unwrap()[0].replicas[0].max_lag,
        crate::config::DEFAULT_MAX_LAG
    );
    let err = config_error(load(
        yaml,
        &[("LEX_SQL__BACKEND__REPLICAS__0__MAX_LAG", "400d")],
    ));
    assert!(err.detail.contains("max_lag"), "{err}");
}
