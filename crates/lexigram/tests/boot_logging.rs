//! `boot()` installs the global `tracing` subscriber only when the builder asks for it
//! (`logging_from_env`); one test, since the global subscriber is per process.

use lexigram::{AppConfig, Application};

#[tokio::test]
async fn boot_installs_a_subscriber_only_when_asked() {
    let app = Application::builder("quiet")
        .config(AppConfig::empty())
        .boot()
        .await
        .unwrap();
    app.shutdown().await.unwrap();
    assert!(
        !tracing::dispatcher::has_been_set(),
        "boot() without logging_from_env() installed a global subscriber"
    );

    let app = Application::builder("logged")
        .config(AppConfig::empty())
        .logging_from_env()
        .boot()
        .await
        .unwrap();
    app.shutdown().await.unwrap();
    assert!(tracing::dispatcher::has_been_set());
}
