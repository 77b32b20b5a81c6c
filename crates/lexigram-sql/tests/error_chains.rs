//! Error chains print each message once: walking `source()` from any error of this crate or
//! of the application core never meets a message already shown by an error above it (what
//! `{err:#}` with anyhow, or any error reporter, prints).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::error::Error as StdError;

mod common;

use lexigram::{AppConfig, AppError, Application, Container};
use lexigram_sql::{
    ConfigErrorKind, Database, DatabaseConfig, DatabaseModule, Error, MigrationError,
    MigrationErrorKind,
};

/// The messages of `err` and each error below it.
fn chain(err: &(dyn StdError + 'static)) -> Vec<String> {
    let mut messages = vec![err.to_string()];
    let mut source = err.source();
    while let Some(e) = source {
        messages.push(e.to_string());
        source = e.source();
    }
    messages
}

fn assert_each_message_once(err: &(dyn StdError + 'static)) {
    let messages = chain(err);
    for (i, outer) in messages.iter().enumerate() {
        for inner in &messages[i + 1..] {
            assert!(
                !outer.contains(inner.as_str()),
                "message repeated in the chain:\n  {outer}\ncontains\n  {inner}\nchain: {messages:#?}"
            );
        }
    }
}

/// An error with a cause, as a provider or a factory might return.
#[derive(Debug)]
struct Outer(std::io::Error);

impl std::fmt::Display for Outer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("outer failed")
    }
}

impl StdError for Outer {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        Some(&self.0)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_wrapper_prints_its_cause_once() {
    let mut errors: Vec<Box<dyn StdError + 'static>> = Vec::new();

    // Configuration, from a URL and from a config file that failed to load.
    let config = DatabaseConfig::from_url("mydb://localhost/db").unwrap_err();
    assert!(
        matches!(&config, Error::Configuration(e) if e.kind == ConfigErrorKind::InvalidUrlPrefix)
    );
    errors.push(Box::new(config));
    let file = AppConfig::from_yaml_and_env("a: ${NOPE}\n", "app.yaml", []).unwrap_err();
    errors.push(Box::new(Error::from(file.clone())));
    errors.push(Box::new(AppError::from(file)));

    // Connect: a SQLite file in a missing directory, and an unreachable server.
    let Err(missing) = Database::connect_url("sqlite:////no/such/dir/x.db").await else {
        panic!("a missing directory connects");
    };
    errors.push(Box::new(missing));
    for url in [
        #[cfg(feature = "postgres")]
        "postgresql://u:p@127.0.0.1:1/db",
        #[cfg(feature = "mysql")]
        "mysql://u:p@127.0.0.1:1/db",
    ] {
        let Err(err) = Database::connect_url(url).await else {
            panic!("{url} connects");
        };
        assert!(matches!(err, Error::Connect(_)), "{err}");
        errors.push(Box::new(err));
    }

    // Migration.
    errors.push(Box::new(Error::from(MigrationError::new(
        MigrationErrorKind::Failed,
        Some(1),
        "migration 1 failed",
    ))));

    // A provider failing at boot: the application error wraps the data layer's error.
    let config = DatabaseConfig::from_url("sqlite:////no/such/dir/x.db").unwrap();
    let boot = Application::builder("chains")
        .module(DatabaseModule::configure(config))
        .boot()
        .await;
    let Err(boot) = boot else {
        panic!("boot succeeds");
    };
    assert!(boot.downcast_ref::<Error>().is_some(), "{boot}");
    errors.push(Box::new(boot));

    // A provider and a factory whose own error has a cause.
    errors.push(Box::new(AppError::Provider {
        provider: "p".into(),
        phase: lexigram::Phase::Boot,
        source: Box::new(Outer(std::io::Error::other("disk on fire"))),
    }));
    let mut container = Container::new();
    container.bind_factory(|_: &Container| -> Result<u8, lexigram::BoxError> {
        Err(Box::new(Outer(std::io::Error::other("disk on fire"))))
    });
    let resolve = container.resolve::<u8>().unwrap_err();
    errors.push(Box::new(AppError::from(resolve)));

    for err in &errors {
        assert_each_message_once(err.as_ref());
    }

    // The cause below a wrapper is still reachable.
    let provider = errors.iter().rev().nth(1).unwrap();
    assert_eq!(
        chain(provider.as_ref()),
        [
            "outer failed (provider `p`, phase boot)".to_string(),
            "disk on fire".to_string()
        ]
    );
}

/// A server's own error (one this crate does not classify, a syntax error here) is kept as the
/// `source()` of `Error::Driver`, downcastable to the driver's type, and its message is printed
/// once: by the source, not again by the wrapper.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn driver_errors_keep_the_server_error_as_source() {
    for target in common::all().await {
        let db = target.connect().await;
        let err = db.execute("SELEC 1", &[]).await.unwrap_err();
        let Error::Driver { code, message, .. } = &err else {
            panic!("{}: not a driver error: {err:?}", target.name());
        };
        let code = code.clone().expect("a server error has a native code");
        let source = err.source().expect("the server's error is the source");
        let native_code = match target.kind {
            #[cfg(feature = "sqlite")]
            lexigram_sql::config::BackendKind::Sqlite => {
                let e = source
                    .downcast_ref::<rusqlite::Error>()
                    .expect("rusqlite::Error");
                e.sqlite_error().map(|f| f.extended_code.to_string())
            }
            #[cfg(feature = "postgres")]
            lexigram_sql::config::BackendKind::Postgres => {
                let e = source
                    .downcast_ref::<tokio_postgres::error::DbError>()
                    .expect("DbError");
                Some(e.code().code().to_string())
            }
            #[cfg(feature = "mysql")]
            lexigram_sql::config::BackendKind::MySql => {
                let e = source
                    .downcast_ref::<mysql_async::ServerError>()
                    .expect("ServerError");
                Some(e.code.to_string())
            }
            #[allow(unreachable_patterns)]
            _ => None,
        };
        assert_eq!(
            native_code.as_deref(),
            Some(code.as_str()),
            "{}",
            target.name()
        );
        assert!(
            source.to_string().contains(message.as_str()),
            "{}: the source carries the server's message: {source}",
            target.name()
        );
        assert!(
            !err.to_string().contains(message.as_str()),
            "{}: the wrapper repeats the server's message: {err}",
            target.name()
        );
        assert!(err.to_string().contains(&code), "{err}");
        assert_eq!(err.code(), "LEX_ERR_SQL_018");
        assert_each_message_once(&err);
    }
}
