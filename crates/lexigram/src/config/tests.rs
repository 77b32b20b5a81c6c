//! Tests of layered loading, interpolation, list merging and source reporting.

use super::*;

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn yaml(text: &str, pairs: &[(&str, &str)]) -> AppConfig {
    AppConfig::from_yaml_and_env(text, "application.yaml", env(pairs)).unwrap()
}

fn get<T: serde::de::DeserializeOwned>(config: &AppConfig, key: &str) -> T {
    config.get(key).unwrap().unwrap()
}

#[test]
fn empty_has_nothing() {
    let config = AppConfig::empty();
    assert!(!config.has_section("sql"));
    assert_eq!(config.find_value("sql"), None);
    assert_eq!(config.file(), None);
    assert!(format!("{config:?}").contains("AppConfig"));
}

#[test]
fn env_overrides_file() {
    let config = yaml(
        "sql:\n  pool:\n    min_size: 2\n    max_size: 5\n",
        &[("LEX_SQL__POOL__MAX_SIZE", "20")],
    );
    assert_eq!(get::<u32>(&config, "sql.pool.min_size"), 2);
    assert_eq!(get::<u32>(&config, "sql.pool.max_size"), 20);
    assert_eq!(
        config.source_of("sql.pool.min_size").as_deref(),
        Some("application.yaml key sql.pool.min_size")
    );
    assert_eq!(
        config.source_of("sql.pool.max_size").as_deref(),
        Some("env LEX_SQL__POOL__MAX_SIZE")
    );
    assert_eq!(config.source_of("sql.pool.timeout"), None);
}

#[test]
fn only_double_underscore_vars_are_config() {
    let config = yaml(
        "",
        &[
            ("LEX_ENV", "production"),
            ("LEX_LOG_LEVEL", "debug"),
            ("LEX_CONFIG_FILE", "x.yaml"),
            ("OTHER__X", "1"),
        ],
    );
    assert!(!config.has_section("env"));
    assert!(!config.has_section("log_level"));
    assert!(!config.has_section("other"));
    assert_eq!(config.env("LEX_ENV"), Some("production"));
}

#[test]
fn env_values_are_typed_and_lowercased() {
    let config = AppConfig::load_from(
        Some(Path::new("/dev/null")),
        env(&[
            ("LEX_SQL__OPERATIONS__ECHO", "true"),
            (
                "LEX_SQL__BACKEND__URL",
                "postgresql://u:p@h:5432/db?sslmode=require",
            ),
            ("LEX_Sql__Pool__Timeout", "120s"),
        ]),
    )
    .unwrap();
    assert!(get::<bool>(&config, "sql.operations.echo"));
    assert_eq!(
        get::<String>(&config, "sql.backend.url"),
        "postgresql://u:p@h:5432/db?sslmode=require"
    );
    assert_eq!(get::<String>(&config, "sql.pool.timeout"), "120s");
}

#[test]
fn interpolation() {
    let config = yaml(
        concat!(
            "a:\n",
            "  url: postgresql://${DB_USER}:${DB_PASS:secret}@${DB_HOST:localhost}/db\n",
            "  max: ${MAX:10}\n",
            "  flag: ${FLAG:false}\n",
            "  set: ${SET_NUM}\n",
            "  text: ${NAME:plain text}\n",
            "  literal: cost $$5 and $${NOT_A_VAR}\n",
            "  list: ['${DB_USER}', x]\n",
            "  empty: '${EMPTY:}'\n",
        ),
        &[("DB_USER", "app"), ("SET_NUM", "42")],
    );
    assert_eq!(
        get::<String>(&config, "a.url"),
        "postgresql://app:secret@localhost/db"
    );
    assert_eq!(get::<u32>(&config, "a.max"), 10);
    assert!(!get::<bool>(&config, "a.flag"));
    assert_eq!(get::<u64>(&config, "a.set"), 42);
    assert_eq!(get::<String>(&config, "a.text"), "plain text");
    assert_eq!(
        get::<String>(&config, "a.literal"),
        "cost $$5 and ${NOT_A_VAR}"
    );
    assert_eq!(get::<Vec<String>>(&config, "a.list"), vec!["app", "x"]);
    assert_eq!(get::<String>(&config, "a.empty"), "");
}

#[test]
fn unset_variable_names_variable_file_and_key() {
    let err = AppConfig::from_yaml_and_env(
        "sql:\n  backend:\n    url: ${DATABASE_URL}\n",
        "conf/app.yaml",
        env(&[]),
    )
    .unwrap_err();
    assert_eq!(
        err,
        AppConfigError::UnsetVariable {
            variable: "DATABASE_URL".into(),
            path: PathBuf::from("conf/app.yaml"),
            key: "sql.backend.url".into(),
        }
    );
    let text = err.to_string();
    assert!(text.contains("DATABASE_URL"), "{text}");
    assert!(text.contains("conf/app.yaml key sql.backend.url"), "{text}");
    assert!(text.contains("${DATABASE_URL:default}"), "{text}");
}

#[test]
fn bad_placeholders() {
    for text in ["a: ${OPEN\n", "a: ${bad-name}\n", "a: ${}\n"] {
        let err = AppConfig::from_yaml_and_env(text, "x.yaml", env(&[])).unwrap_err();
        assert!(
            matches!(err, AppConfigError::BadPlaceholder { .. }),
            "{text}: {err:?}"
        );
    }
}

#[test]
fn parse_errors_name_the_file() {
    let err = AppConfig::from_yaml_and_env("a: [1, 2\n", "bad.yaml", env(&[])).unwrap_err();
    assert!(matches!(err, AppConfigError::Parse { .. }));
    assert!(err.to_string().contains("bad.yaml"));
    let err = AppConfig::from_yaml_and_env("- 1\n- 2\n", "list.yaml", env(&[])).unwrap_err();
    assert!(err.to_string().contains("not a mapping"), "{err}");
}

#[test]
fn file_loading() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.yaml");
    std::fs::write(&path, "sql:\n  enabled: false\n").unwrap();
    let config = AppConfig::load_from(Some(&path), env(&[])).unwrap();
    assert_eq!(config.file(), Some(path.as_path()));
    assert!(!get::<bool>(&config, "sql.enabled"));
    assert_eq!(
        config.source_of("sql.enabled"),
        Some(format!("{} key sql.enabled", path.display()))
    );

    // LEX_CONFIG_FILE names the file
    let named = env(&[("LEX_CONFIG_FILE", path.to_str().unwrap())]);
    let config = AppConfig::load_from(None, named).unwrap();
    assert!(!get::<bool>(&config, "sql.enabled"));

    // a missing named file is an error, naming it
    let missing = dir.path().join("missing.yaml");
    let err = AppConfig::load_from(None, env(&[("LEX_CONFIG_FILE", missing.to_str().unwrap())]))
        .unwrap_err();
    assert_eq!(
        err,
        AppConfigError::FileNotFound {
            path: missing.clone()
        }
    );
    assert!(err.to_string().contains("missing.yaml"));
    assert!(AppConfig::from_file(&missing).is_err());
    assert!(AppConfig::load_from(Some(&missing), env(&[])).is_err());
}

#[test]
fn missing_default_file_is_empty() {
    // Tests run in the crate directory, which has no application.yaml.
    let config = AppConfig::load_from(None, env(&[])).unwrap();
    assert!(!config.has_section("sql"));
    assert_eq!(config.file(), None);
}

#[test]
fn env_lists() {
    let config = yaml(
        "",
        &[
            ("LEX_SQL__BACKENDS__0__NAME", "main"),
            ("LEX_SQL__BACKENDS__0__BACKEND__URL", "sqlite://"),
            ("LEX_SQL__BACKENDS__1__NAME", "replica"),
        ],
    );
    assert!(matches!(
        config.find_value("sql.backends"),
        Some(serde_json::Value::Array(..))
    ));
    assert_eq!(get::<String>(&config, "sql.backends.1.name"), "replica");
    assert_eq!(
        config.source_of("sql.backends.0.backend.url").as_deref(),
        Some("env LEX_SQL__BACKENDS__0__BACKEND__URL")
    );
    assert!(config.has_section("sql"));
}

#[test]
fn env_list_items_merge_into_file_list() {
    let config = yaml(
        "sql:\n  backends:\n    - name: main\n      primary: true\n      backend:\n        url: sqlite://\n    - name: reports\n",
        &[
            ("LEX_SQL__BACKENDS__0__BACKEND__URL", "postgresql://h/db"),
            ("LEX_SQL__BACKENDS__2__NAME", "extra"),
        ],
    );
    assert_eq!(get::<String>(&config, "sql.backends.0.name"), "main");
    assert!(get::<bool>(&config, "sql.backends.0.primary"));
    assert_eq!(
        get::<String>(&config, "sql.backends.0.backend.url"),
        "postgresql://h/db"
    );
    assert_eq!(get::<String>(&config, "sql.backends.1.name"), "reports");
    assert_eq!(get::<String>(&config, "sql.backends.2.name"), "extra");
    assert_eq!(
        config.source_of("sql.backends.0.name").as_deref(),
        Some("application.yaml key sql.backends.0.name")
    );
    assert_eq!(
        config.source_of("sql.backends.0.backend.url").as_deref(),
        Some("env LEX_SQL__BACKENDS__0__BACKEND__URL")
    );
}

#[test]
fn sections_and_focus() {
    let config = yaml("app:\n  port: 8080\n", &[("LEX_CACHE__TTL", "5")]);
    assert!(config.has_section("app"));
    assert!(config.has_section("cache"));
    assert_eq!(get::<u16>(&config, "app.port"), 8080);
    assert_eq!(get::<u8>(&config, "cache.ttl"), 5);
    assert!(config.contains("cache.ttl"));
    assert!(!config.contains("none.x"));
    let ports: std::collections::BTreeMap<String, u16> = config.extract("app").unwrap();
    assert_eq!(ports["port"], 8080);
    let err = config.extract::<u16>("app").unwrap_err();
    assert_eq!(err.key(), "app");
    assert_eq!(err.kind(), &crate::config::ExtractErrorKind::Invalid);
    let err = config.get::<u16>("cache.ttl.x");
    assert_eq!(err, Ok(None));
}

#[test]
fn debug_hides_values() {
    let config = yaml(
        "sql:\n  backend:\n    url: postgresql://u:hunter2@h/db\n",
        &[("SECRET", "hunter3")],
    );
    let debug = format!("{config:?}");
    assert!(!debug.contains("hunter2"), "{debug}");
    assert!(!debug.contains("hunter3"), "{debug}");
    assert!(debug.contains("sql"), "{debug}");
}

#[test]
fn env_var_names() {
    assert_eq!(env_var_name("sql.backend.url"), "LEX_SQL__BACKEND__URL");
    assert_eq!(
        env_var_name("sql.backends.0.backend.url"),
        "LEX_SQL__BACKENDS__0__BACKEND__URL"
    );
}
