//! `metrics.prometheus.listen`: the application serves the data layer's metrics in the
//! Prometheus text format; scraped over HTTP after a small load on every backend.
#![allow(clippy::unwrap_used, clippy::expect_used)] // helpers outside #[test] fns assert too

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};

use lexigram::{AppConfig, Application};
use lexigram_sql::{Database, DatabaseModule, Error};

/// A port nobody listens on now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `GET /metrics` over plain HTTP/1.1; the body.
async fn scrape(port: u16) -> String {
    tokio::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream
            .write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        assert!(response.starts_with("HTTP/1.1 200"), "{response}");
        let (_, body) = response.split_once("\r\n\r\n").unwrap();
        body.to_string()
    })
    .await
    .unwrap()
}

/// The value of the series `name{…}` whose labels include every one of `labels`.
fn value(body: &str, name: &str, labels: &[&str]) -> Option<f64> {
    body.lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| l.starts_with(&format!("{name}{{")) || l.starts_with(&format!("{name} ")))
        .find(|l| labels.iter().all(|label| l.contains(label)))
        .and_then(|l| l.rsplit(' ').next())
        .map(|v| v.parse().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_endpoint_serves_pool_statement_and_error_metrics() {
    let port = free_port();
    for t in common::all().await {
        let backend = format!("metrics_{}", t.name());
        let yaml = format!(
            "metrics:\n  prometheus:\n    listen: 127.0.0.1:{port}\nsql:\n  pool: {{ min_size: 1, max_size: 4 }}\n  backends:\n    - name: {backend}\n      primary: true\n      backend:\n        url: '{}'\n",
            t.url
        );
        // Booting again in the same process with the same address keeps the one endpoint.
        let app = Application::builder("metrics")
            .config(AppConfig::from_yaml_and_env(&yaml, "application.yaml", []).unwrap())
            .module(DatabaseModule::from_app_config())
            .boot()
            .await
            .unwrap();
        let db = app.resolve::<Database>().unwrap();
        let b = format!("backend=\"{backend}\"");
        let unique_errors = [b.as_str(), "code=\"LEX_ERR_SQL_013\""];

        db.execute("CREATE TABLE m_items (code VARCHAR(32) PRIMARY KEY)", &[])
            .await
            .unwrap();
        for i in 0..20 {
            db.execute(&format!("INSERT INTO m_items (code) VALUES ('c{i}')"), &[])
                .await
                .unwrap();
        }
        for _ in 0..5 {
            db.fetch_all("SELECT code FROM m_items", &[]).await.unwrap();
        }
        let before = scrape(port).await;
        assert_eq!(
            value(&before, "lexigram_sql_errors_total", &unique_errors),
            None,
            "{before}"
        );

        let err = db
            .execute("INSERT INTO m_items (code) VALUES ('c1')", &[])
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Constraint { .. }), "{err}");
        assert_eq!(err.code(), "LEX_ERR_SQL_013");

        let body = scrape(port).await;
        let name = t.name();
        if std::env::var_os("LEX_TEST_PRINT_METRICS").is_some() {
            println!("{body}");
        }
        // Pool gauges (sampled when the pool opened, then every second).
        for gauge in [
            "lexigram_sql_pool_size",
            "lexigram_sql_pool_idle",
            "lexigram_sql_pool_in_use",
            "lexigram_sql_pool_waiters",
        ] {
            assert!(
                value(&body, gauge, &[&b]).is_some(),
                "{name}: {gauge}: {body}"
            );
        }
        assert_eq!(
            value(&body, "lexigram_sql_pool_max", &[&b]),
            Some(4.0),
            "{body}"
        );
        assert!(value(&body, "lexigram_sql_pool_size", &[&b]).unwrap() >= 1.0);
        // The statement-duration histogram, by backend, system and operation.
        let inserts = [
            b.as_str(),
            "operation=\"INSERT\"",
            &format!("system=\"{name}\""),
        ];
        assert_eq!(
            value(
                &body,
                "lexigram_sql_statement_duration_seconds_count",
                &inserts
            ),
            Some(21.0),
            "{name}: {body}"
        );
        assert!(
            value(
                &body,
                "lexigram_sql_statement_duration_seconds_bucket",
                &[&inserts[..], &["le=\"+Inf\""]].concat()
            )
            .is_some(),
            "{body}"
        );
        let selects = [b.as_str(), "operation=\"SELECT\""];
        assert!(
            value(
                &body,
                "lexigram_sql_statement_duration_seconds_count",
                &selects
            )
            .unwrap()
                >= 5.0,
            "{body}"
        );
        assert!(
            value(&body, "lexigram_sql_pool_acquire_wait_seconds_count", &[&b]).unwrap() >= 27.0,
            "{body}"
        );
        // The error counter went up by the one unique violation.
        assert_eq!(
            value(&body, "lexigram_sql_errors_total", &unique_errors),
            Some(1.0),
            "{name}: {body}"
        );
        db.execute("DROP TABLE m_items", &[]).await.unwrap();
        app.shutdown().await.unwrap();
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_bad_listen_address_fails_boot_naming_its_source() {
    let env = [(
        "LEX_METRICS__PROMETHEUS__LISTEN".to_string(),
        "localhost-ish".to_string(),
    )];
    let err = Application::builder("bad")
        .config(AppConfig::load_from(None, env).unwrap())
        .boot()
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with("MetricsError: cannot serve Prometheus metrics on `localhost-ish`"),
        "{text}"
    );
    assert!(text.contains("LEX_METRICS__PROMETHEUS__LISTEN"), "{text}");
}
