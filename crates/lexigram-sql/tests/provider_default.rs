//! `DatabaseModule::configure_default()` with no configuration at all opts into the SQLite
//! default `sqlite:///data.db`: the file `data.db` in the working directory. (Its own test
//! binary: it changes the process's working directory.)
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a panic is a failed assertion

use lexigram::{AppConfig, Application};
use lexigram_sql::{Database, DatabaseModule};

#[tokio::test]
async fn configure_default_without_config_is_sqlite_data_db_in_the_working_directory() {
    let dir = tempfile::tempdir().unwrap();
    let previous = std::env::current_dir().unwrap();
    std::env::set_current_dir(dir.path()).unwrap();
    let result = async {
        let app = Application::builder("shop")
            .config(AppConfig::empty())
            .module(DatabaseModule::configure_default())
            .boot()
            .await
            .unwrap();
        let db = app.resolve::<Database>().unwrap();
        assert_eq!(db.settings().url.to_string(), "sqlite:///data.db");
        db.execute("CREATE TABLE t (n INTEGER)", &[]).await.unwrap();
        let health = app.health_check().await;
        assert!(health.is_healthy(), "{health}");
        assert_eq!(health.components[0].name, "default");
        assert_eq!(health.components[0].details["backend"], "sqlite");
        app.shutdown().await.unwrap();
    };
    let outcome = futures_util::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(result)).await;
    std::env::set_current_dir(previous).unwrap();
    assert!(
        dir.path().join("data.db").is_file(),
        "data.db was created in the working directory"
    );
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}
