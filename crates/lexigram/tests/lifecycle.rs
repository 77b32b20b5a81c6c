//! The application lifecycle: register → boot in priority order, shutdown in reverse, errors
//! that keep the provider's message, resolve errors that say what is registered, modules,
//! health, and the scoped `run` that always shuts down.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a panic is a failed assertion

use std::sync::{Arc, Mutex};

use lexigram::{
    AppConfig, AppError, Application, BoxError, Bundle, ComponentHealth, ComponentStatus,
    Container, Phase, Priority, Provider, ResolveError, async_trait,
};

type Log = Arc<Mutex<Vec<String>>>;

fn log() -> Log {
    Arc::new(Mutex::new(Vec::new()))
}

fn events(log: &Log) -> Vec<String> {
    log.lock().unwrap().clone()
}

#[derive(Debug, thiserror::Error)]
#[error("NoPrimaryBackendError: nothing to connect to. Fix: configure one")]
struct SeedError;

/// A provider that records each lifecycle call and can be told to fail.
struct Recorder {
    name: &'static str,
    priority: Priority,
    log: Log,
    fail_in: Option<Phase>,
}

impl Recorder {
    fn new(name: &'static str, priority: Priority, log: &Log) -> Self {
        Recorder {
            name,
            priority,
            log: log.clone(),
            fail_in: None,
        }
    }

    fn failing(mut self, phase: Phase) -> Self {
        self.fail_in = Some(phase);
        self
    }

    fn record(&self, what: &str) -> Result<(), BoxError> {
        self.log
            .lock()
            .unwrap()
            .push(format!("{what} {}", self.name));
        let phase = match what {
            "register" => Phase::Register,
            "boot" => Phase::Boot,
            _ => Phase::Shutdown,
        };
        if self.fail_in == Some(phase) {
            return Err(Box::new(SeedError));
        }
        Ok(())
    }
}

#[async_trait]
impl Provider for Recorder {
    fn name(&self) -> &str {
        self.name
    }

    fn priority(&self) -> Priority {
        self.priority
    }

    fn register(&mut self, container: &mut Container, config: &AppConfig) -> Result<(), BoxError> {
        container.bind_named(self.name, self.name.to_string());
        if let Ok(Some(greeting)) = config.get::<String>(&format!("{}.greeting", self.name)) {
            container.bind_named(format!("{}.greeting", self.name), greeting);
        }
        self.record("register")
    }

    async fn boot(&self, _: &Container) -> Result<(), BoxError> {
        self.record("boot")
    }

    async fn shutdown(&self) -> Result<(), BoxError> {
        self.record("shutdown")
    }

    async fn health_check(&self) -> Vec<ComponentHealth> {
        vec![ComponentHealth::up(self.name, "self").with_latency_ms(0.1)]
    }
}

fn builder() -> lexigram::ApplicationBuilder {
    Application::builder("test").config(AppConfig::empty())
}

#[tokio::test]
async fn infrastructure_boots_first_and_shutdown_runs_in_reverse() {
    let log = log();
    let app = builder()
        .add_provider(Recorder::new("service", Priority::Application, &log))
        .add_provider(Recorder::new("database", Priority::Infrastructure, &log))
        .add_provider(Recorder::new("mailer", Priority::Application, &log))
        .boot()
        .await
        .unwrap();
    assert_eq!(app.provider_names(), ["database", "service", "mailer"]);
    app.shutdown().await.unwrap();
    app.shutdown().await.unwrap(); // idempotent: nothing recorded twice
    assert!(app.is_shut_down());
    assert_eq!(
        events(&log),
        [
            "register database",
            "register service",
            "register mailer",
            "boot database",
            "boot service",
            "boot mailer",
            "shutdown mailer",
            "shutdown service",
            "shutdown database",
        ]
    );
}

/// Binds in register, checks in register and boot that an infrastructure binding is there.
struct Consumer {
    seen: Log,
}

#[async_trait]
impl Provider for Consumer {
    fn name(&self) -> &str {
        "consumer"
    }

    fn register(&mut self, c: &mut Container, _: &AppConfig) -> Result<(), BoxError> {
        let db: String = c.resolve_named("database")?;
        self.seen.lock().unwrap().push(format!("register saw {db}"));
        Ok(())
    }

    async fn boot(&self, c: &Container) -> Result<(), BoxError> {
        let db: String = c.resolve_named("database")?;
        self.seen.lock().unwrap().push(format!("boot saw {db}"));
        Ok(())
    }
}

#[tokio::test]
async fn bindings_are_resolvable_right_after_register() {
    let log = log();
    let app = builder()
        .add_provider(Consumer { seen: log.clone() }) // added first, registers after infra
        .add_provider(Recorder::new("database", Priority::Infrastructure, &log))
        .boot()
        .await
        .unwrap();
    let events = events(&log);
    assert_eq!(events[0], "register database");
    assert_eq!(events[1], "register saw database");
    assert!(events.contains(&"boot saw database".to_string()));
    assert_eq!(app.resolve_named::<String>("database").unwrap(), "database");
    app.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_config_is_handed_to_every_provider() {
    let log = log();
    let config = AppConfig::from_yaml_and_env(
        "mailer:\n  greeting: ${GREETING:hello}\n",
        "application.yaml",
        [("LEX_MAILER__GREETING".to_string(), "bonjour".to_string())],
    )
    .unwrap();
    let app = Application::builder("test")
        .config(config)
        .add_provider(Recorder::new("mailer", Priority::Application, &log))
        .boot()
        .await
        .unwrap();
    assert_eq!(
        app.resolve_named::<String>("mailer.greeting").unwrap(),
        "bonjour"
    );
    assert!(app.config().has_section("mailer"));
    app.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_failed_boot_shuts_down_what_booted_and_keeps_the_message() {
    let log = log();
    let err = builder()
        .add_provider(Recorder::new("database", Priority::Infrastructure, &log))
        .add_provider(Recorder::new("broken", Priority::Application, &log).failing(Phase::Boot))
        .add_provider(Recorder::new("never", Priority::Application, &log))
        .boot()
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("NoPrimaryBackendError: nothing to connect to. Fix: configure one"),
        "{err}"
    );
    assert!(
        err.to_string().contains("provider `broken`, phase boot"),
        "{err}"
    );
    assert_eq!(err.provider(), Some(("broken", Phase::Boot)));
    assert!(err.downcast_ref::<SeedError>().is_some());
    let events = events(&log);
    assert!(
        !events
            .iter()
            .any(|e| e.ends_with("never") && !e.starts_with("register"))
    );
    let tail: Vec<&str> = events.iter().rev().take(2).map(String::as_str).collect();
    assert_eq!(tail, ["shutdown database", "shutdown broken"]);
}

#[tokio::test]
async fn a_failed_register_boots_nothing() {
    let log = log();
    let err = builder()
        .add_provider(Recorder::new("database", Priority::Infrastructure, &log))
        .add_provider(Recorder::new("broken", Priority::Application, &log).failing(Phase::Register))
        .boot()
        .await
        .unwrap_err();
    assert_eq!(err.provider(), Some(("broken", Phase::Register)));
    assert!(events(&log).iter().all(|e| e.starts_with("register")));
}

#[tokio::test]
async fn duplicate_provider_names_are_rejected() {
    let log = log();
    let err = builder()
        .add_provider(Recorder::new("cache", Priority::Application, &log))
        .add_provider(Recorder::new("cache", Priority::Application, &log))
        .boot()
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::DuplicateProvider { ref name } if name == "cache"));
    assert!(
        err.to_string().contains("two providers are named `cache`"),
        "{err}"
    );
    assert!(events(&log).is_empty());
}

#[tokio::test]
async fn resolve_errors_name_the_type_the_name_and_what_is_registered() {
    let log = log();
    let app = builder()
        .add_provider(Recorder::new("database", Priority::Infrastructure, &log))
        .boot()
        .await
        .unwrap();
    let err = app.resolve_named::<String>("analytics").unwrap_err();
    assert!(matches!(err, ResolveError::NotRegistered { .. }));
    let text = err.to_string();
    assert!(
        text.contains("no alloc::string::String named \"analytics\" is registered"),
        "{text}"
    );
    assert!(
        text.contains("Registered: alloc::string::String named \"database\""),
        "{text}"
    );
    let err = app.resolve::<u64>().unwrap_err();
    assert!(err.to_string().contains("no u64 is registered"), "{err}");
    app.shutdown().await.unwrap();
}

#[tokio::test]
async fn modules_bundle_providers_and_an_imported_module_is_added_once() {
    let log = log();
    let infra =
        || Bundle::new("infra").provider(Recorder::new("database", Priority::Infrastructure, &log));
    let app = builder()
        .module(
            Bundle::new("orders")
                .import(infra())
                .provider(Recorder::new("orders", Priority::Application, &log)),
        )
        .module(
            Bundle::new("billing")
                .import(infra())
                .provider(Recorder::new("billing", Priority::Application, &log)),
        )
        .boot()
        .await
        .unwrap();
    assert_eq!(app.provider_names(), ["database", "orders", "billing"]);
    app.shutdown().await.unwrap();
}

#[tokio::test]
async fn health_aggregates_every_provider_and_serialises_to_json() {
    let log = log();
    let app = builder()
        .add_provider(Recorder::new("database", Priority::Infrastructure, &log))
        .add_provider(Recorder::new("mailer", Priority::Application, &log))
        .boot()
        .await
        .unwrap();
    let health = app.health_check().await;
    assert!(health.is_healthy());
    assert_eq!(health.components.len(), 2);
    assert_eq!(health.components[0].provider, "database");
    assert_eq!(
        health.component("mailer", "self").unwrap().status,
        ComponentStatus::Up
    );
    let json: serde_json::Value = serde_json::from_str(&health.to_json()).unwrap();
    assert_eq!(json["application"], "test");
    assert_eq!(json["components"][1]["provider"], "mailer");
    assert_eq!(json["components"][1]["status"], "up");
    app.shutdown().await.unwrap();
}

#[tokio::test]
async fn run_shuts_down_after_ok_err_and_panic() {
    let log = log();
    let value = builder()
        .add_provider(Recorder::new("ok", Priority::Application, &log))
        .run(|app| async move { Ok::<_, AppError>(app.provider_names().len()) })
        .await
        .unwrap();
    assert_eq!(value, 1);
    assert_eq!(events(&log).last().unwrap(), "shutdown ok");

    let err = builder()
        .add_provider(Recorder::new("err", Priority::Application, &log))
        .run(|_| async move { Err::<(), BoxError>("body failed".into()) })
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "body failed");
    assert_eq!(events(&log).last().unwrap(), "shutdown err");

    let inner = log.clone();
    let joined = tokio::spawn(async move {
        Application::run(
            builder().add_provider(Recorder::new("panic", Priority::Application, &inner)),
            |_| async move {
                panic!("body panicked");
                #[allow(unreachable_code)]
                Ok::<(), AppError>(())
            },
        )
        .await
    })
    .await;
    assert!(joined.unwrap_err().is_panic());
    assert_eq!(events(&log).last().unwrap(), "shutdown panic");
}

#[tokio::test]
async fn shutdown_asks_every_provider_and_returns_the_first_failure() {
    let log = log();
    let app = builder()
        .add_provider(Recorder::new("database", Priority::Infrastructure, &log))
        .add_provider(Recorder::new("flaky", Priority::Application, &log).failing(Phase::Shutdown))
        .boot()
        .await
        .unwrap();
    let err = app.shutdown().await.unwrap_err();
    assert_eq!(err.provider(), Some(("flaky", Phase::Shutdown)));
    assert_eq!(events(&log).last().unwrap(), "shutdown database");
}

#[test]
fn application_is_send_and_sync() {
    fn check<T: Send + Sync + Clone>() {}
    check::<Application>();
}
