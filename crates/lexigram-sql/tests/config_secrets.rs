//! A password never shows: property tests over random URLs (every scheme, password in the
//! userinfo or in the query string, malformed variants) and YAML documents carrying a random
//! marker password, through every public loading path (errors included), plus connecting
//! with a TRACE subscriber capturing every log line.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

#[path = "common/capture.rs"]
mod capture;

use std::error::Error as StdError;
use std::sync::OnceLock;
use std::time::Duration;

use lexigram::AppConfig;
use lexigram_sql::config::{DatabaseUrl, PoolConfig};
use lexigram_sql::{Database, DatabaseConfig};
use proptest::prelude::*;

use capture::Capture;

/// Installs the global TRACE subscriber once, for every log line of this test binary from
/// `tracing` and from the `log` crate (drivers log through `log`); returns its buffer.
fn logs() -> &'static Capture {
    static CAPTURE: OnceLock<Capture> = OnceLock::new();
    CAPTURE.get_or_init(|| {
        let capture = Capture::default();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_writer(capture.clone())
            .with_max_level(tracing::Level::TRACE)
            .finish();
        // try_init also routes the `log` crate (tokio-postgres, mysql_async) into tracing.
        tracing_subscriber::util::SubscriberInitExt::try_init(subscriber).unwrap();
        capture
    })
}

fn logged() -> String {
    String::from_utf8_lossy(&logs().0.lock().unwrap()).into_owned()
}

/// Display, alternate Display, Debug, pretty Debug and every `source()` of an error.
fn renderings(err: &(dyn StdError + 'static)) -> Vec<String> {
    let mut out = vec![
        err.to_string(),
        format!("{err:#}"),
        format!("{err:?}"),
        format!("{err:#?}"),
    ];
    let mut source = err.source();
    while let Some(e) = source {
        out.push(e.to_string());
        out.push(format!("{e:?}"));
        source = e.source();
    }
    out
}

fn assert_hidden(marker: &str, texts: &[String], what: &str) {
    for text in texts {
        assert!(
            !text.contains(marker),
            "marker {marker} leaked through {what}: {text}"
        );
    }
}

const SCHEMES: &[&str] = &[
    "sqlite",
    "postgresql",
    "postgres",
    "postgresql+asyncpg",
    "mysql",
    "mariadb",
    "mysql+aiomysql",
    "MySQL",
    "mydb",
    "http",
];

const HOSTS: &[&str] = &[
    "127.0.0.1:1",
    "localhost",
    "db.internal:5432",
    "[::1]",
    "exa mple",
];

const QUERY_KEYS: &[&str] = &["password", "PASSWORD", "pass", "sslpassword", "pwd"];

/// A URL holding `pw` in one of the ways users write it, valid or not.
fn url_strategy() -> impl Strategy<Value = (String, String)> {
    (
        "pw[A-Za-z0-9]{8,14}",
        prop::sample::select(SCHEMES),
        "[a-z]{1,6}",
        prop::sample::select(HOSTS),
        prop::sample::select(QUERY_KEYS),
        0..14usize,
    )
        .prop_map(|(pw, scheme, user, host, key, form)| {
            let url = match form {
                0 => format!("{scheme}://{user}:{pw}@{host}/db"),
                1 => format!("{scheme}://{user}@{host}/db?{key}={pw}"),
                2 => format!(
                    "{scheme}://{user}@{host}/db?sslmode=disable&{key}={pw}&application_name=x"
                ),
                3 => format!("{scheme}:/{user}:{pw}@{host}/db"),
                4 => format!("{scheme}:{user}:{pw}@{host}/db"),
                5 => format!("{scheme}//{user}:{pw}@{host}/db"),
                6 => format!("{scheme}://{user}:{pw}@x@{host}/db"),
                7 => format!("{scheme}://{user}:{pw}/x@{host}/db"),
                8 => format!("{scheme}://{user}:{pw}#x@{host}/db"),
                9 => format!("{scheme}://{user}:{pw}@{host}:notaport/db"),
                10 => format!("  {scheme}://{user}:{pw}@{host}/db  "),
                11 => format!("{scheme}:/{user}@{host}/db?{key}={pw}"),
                12 => format!("{scheme}://{user}:{pw}?x@{host}/db"),
                _ => format!("{scheme}://:{pw}@{host}/db"),
            };
            (pw, url)
        })
}

/// A YAML document (and environment) carrying the URL in one of the shapes people write,
/// including broken ones.
fn yaml_for(url: &str, pw: &str, shape: usize) -> (String, Vec<(String, String)>) {
    let env = |pairs: &[(&str, &str)]| {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<Vec<_>>()
    };
    let templated = url.replace(pw, "${DB_PASSWORD}");
    match shape {
        0 => (format!("sql:\n  backend:\n    url: {url}\n"), vec![]),
        1 => (format!("sql:\n  backend:\n    url: \"{url}\"\n"), vec![]),
        2 => (format!("sql:\n  backend:\n    url: '{url}'\n"), vec![]),
        3 => (format!("sql:\n  backend: {{url: {url}}}\n"), vec![]),
        // unterminated flow mapping
        4 => (
            format!("sql:\n  backend: {{ url: {url}\n  pool: {{ max_size: 2 }}\n"),
            vec![],
        ),
        // braces around the URL: a mapping whose key is the URL
        5 => (format!("sql:\n  backend:\n    url: {{{url}}}\n"), vec![]),
        // a mapping as a key
        6 => (format!("sql:\n  backend: {{{{url: {url}}}: x}}\n"), vec![]),
        7 => (
            format!("sql:\n  backend: {{url: {url}, url: {url}}}\n"),
            vec![],
        ),
        8 => (
            format!("sql:\n  backend:\n    url: {templated}\n"),
            env(&[("DB_PASSWORD", pw)]),
        ),
        9 => (
            format!("sql:\n  backend:\n    url: \"{templated}\"\n  pool: {{ max_size: x }}\n"),
            env(&[("DB_PASSWORD", pw)]),
        ),
        10 => (
            "sql:\n  pool: { max_size: 2 }\n".to_string(),
            env(&[("LEX_SQL__BACKEND__URL", url)]),
        ),
        11 => (
            format!("sql:\n  backends:\n    - name: main\n      backend: {{ url: {url} }}\n"),
            vec![],
        ),
        12 => (format!("sql:\n  pool: {url}\n"), vec![]),
        // read replicas: in YAML, in the environment, on a named backend, with a bad pool
        15 => (
            format!("sql:\n  backend:\n    url: {url}\n    replicas:\n      - url: {url}\n"),
            vec![],
        ),
        16 => (
            format!("sql:\n  backend:\n    url: \"{url}\"\n"),
            env(&[("LEX_SQL__BACKEND__REPLICAS__0__URL", url)]),
        ),
        17 => (
            format!(
                "sql:\n  backends:\n    - name: main\n      backend: {{ url: '{url}' }}\n      replicas: [{{ url: '{url}', pool: {{ max_size: 0 }} }}]\n"
            ),
            vec![],
        ),
        18 => (
            "sql:\n  backend:\n    url: postgresql://app@db/shop\n".to_string(),
            env(&[
                ("LEX_SQL__BACKEND__REPLICAS__0__URL", url),
                ("LEX_SQL__BACKEND__REPLICAS__0__POOL__TIMEOUT", "0"),
            ]),
        ),
        13 => (
            format!("sql:\n  backend:\n    url: {url}\n\tpool: 1\n"),
            vec![],
        ),
        _ => (
            format!("sql:\n  backend:\n    url: {url}\n  unknown_key: {url}\n"),
            vec![],
        ),
    }
}

/// Everything the public loading paths print for this YAML and environment.
fn load_outputs(yaml: &str, env: Vec<(String, String)>) -> Vec<String> {
    let mut out = Vec::new();
    match AppConfig::from_yaml_and_env(yaml, "application.yaml", env) {
        Err(e) => {
            out.extend(renderings(&e));
            let err: lexigram_sql::Error = e.into();
            out.extend(renderings(&err));
        }
        Ok(app) => {
            out.push(format!("{app:?}"));
            match DatabaseConfig::from_app_config(&app) {
                Ok(config) => {
                    out.push(format!("{config:?}"));
                    out.push(format!("{config:#?}"));
                    match config.backends() {
                        Ok(backends) => out.push(format!("{backends:?}")),
                        Err(e) => out.extend(renderings(&e)),
                    }
                }
                Err(e) => out.extend(renderings(&e)),
            }
        }
    }
    out
}

fn url_outputs(url: &str) -> Vec<String> {
    let mut out = vec![lexigram_sql::config::redact(url)];
    match DatabaseUrl::parse(url) {
        Ok(parsed) => {
            out.push(parsed.to_string());
            out.push(format!("{parsed:?}"));
            out.push(parsed.redacted());
            out.extend(parsed.host_port());
            out.extend(parsed.database().map(str::to_string));
        }
        Err(e) => out.extend(renderings(&e)),
    }
    match DatabaseConfig::from_url(url) {
        Ok(config) => out.push(format!("{config:?}")),
        Err(e) => out.extend(renderings(&e)),
    }
    match DatabaseConfig::default().with_url(url) {
        Ok(config) => out.push(format!("{config:#?}")),
        Err(e) => out.extend(renderings(&e)),
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn urls_never_show_the_password((pw, url) in url_strategy()) {
        logs();
        assert_hidden(&pw, &url_outputs(&url), &format!("URL `{url}`"));
        assert_hidden(&pw, &[logged()], "logs");
    }

    #[test]
    fn yaml_never_shows_the_password((pw, url) in url_strategy(), shape in 0..19usize) {
        logs();
        let (yaml, env) = yaml_for(&url, &pw, shape);
        assert_hidden(&pw, &load_outputs(&yaml, env), &format!("YAML {yaml:?}"));
        assert_hidden(&pw, &[logged()], "logs");
    }
}

/// Connecting (to an unreachable server, a server that rejects the password, or a SQLite
/// file) logs at TRACE and fails or succeeds without showing the password anywhere.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connecting_never_shows_the_password() {
    logs();
    let dir = tempfile::tempdir().unwrap();
    let sqlite = format!("sqlite:///{}/s.db", dir.path().display());
    let mut urls = Vec::new();
    for (i, scheme) in ["postgresql", "mysql", "mariadb"].iter().enumerate() {
        let pw = format!("pwConnect{i}Zq7");
        urls.push((pw.clone(), format!("{scheme}://app:{pw}@127.0.0.1:1/db")));
        urls.push((
            pw.clone(),
            format!("{scheme}://app@127.0.0.1:1/db?password={pw}"),
        ));
    }
    urls.push(("pwSqliteQ1".into(), format!("{sqlite}?password=pwSqliteQ1")));
    urls.push((
        "pwSqliteU2".into(),
        "sqlite://app:pwSqliteU2@nowhere/db.sqlite".into(),
    ));
    // A real server that rejects the password, when one is configured.
    for var in ["LEX_TEST_POSTGRES_URL", "LEX_TEST_MYSQL_URL"] {
        if let Ok(base) = std::env::var(var)
            && let Ok(parsed) = DatabaseUrl::parse(&base)
            && let Some(host) = parsed.host_port()
        {
            let scheme = parsed.kind().name();
            urls.push((
                "pwWrongQ3x".into(),
                format!("{scheme}://lexigram:pwWrongQ3x@{host}/db"),
            ));
        }
    }
    for (pw, url) in &urls {
        let mut out = Vec::new();
        let pool = PoolConfig::default().with_timeout(Duration::from_secs(2));
        let config = DatabaseConfig::from_url(url).map(|c| c.with_pool(pool));
        match config {
            Ok(config) => {
                out.push(format!("{config:?}"));
                match Database::from_config(&config).await {
                    Ok(db) => {
                        out.push(format!("{:?}", db.settings()));
                        out.push(format!("{:?}", db.health_check().await));
                        db.close().await;
                    }
                    Err(e) => out.extend(renderings(&e)),
                }
            }
            Err(e) => out.extend(renderings(&e)),
        }
        match Database::connect_url(url).await {
            Ok(db) => db.close().await,
            Err(e) => out.extend(renderings(&e)),
        }
        assert_hidden(pw, &out, url);
    }
    let logs = logged();
    assert!(logs.contains("TRACE") || logs.contains("DEBUG"), "{logs}");
    for (pw, _) in &urls {
        assert_hidden(pw, std::slice::from_ref(&logs), "logs at TRACE");
    }
}
