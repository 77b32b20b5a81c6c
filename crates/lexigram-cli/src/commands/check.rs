//! `check`: is each configured backend up? Status, latency and pool figures.

use std::process::ExitCode;
use std::time::Instant;

use lexigram_sql::{BackendHealth, Database, HealthReport, HealthStatus, PoolStats};

use super::print_json;
use crate::args::GlobalArgs;
use crate::{CliError, settings};

/// `lexigram db check [--json]`: exits 0 when every backend is up, 1 when any is down or the
/// configuration is invalid (printing the error; with `--json`, also as JSON on stdout), so it
/// serves as a container readiness probe.
pub(crate) async fn run(global: &GlobalArgs) -> Result<ExitCode, CliError> {
    let backends = match settings::load(global).and_then(|config| config.backends()) {
        Ok(backends) => backends,
        Err(e) => {
            if global.json {
                print_json(&serde_json::json!({
                    "status": HealthStatus::Down,
                    "backends": [],
                    "error": { "code": e.code(), "message": e.to_string() },
                }))?;
            }
            return Err(e.into());
        }
    };
    let mut entries = Vec::new();
    let mut first_error: Option<lexigram_sql::Error> = None;
    for backend in backends {
        let started = Instant::now();
        let (name, kind, max) = (
            backend.name.clone(),
            backend.url.kind().name(),
            backend.pool.max_size,
        );
        match Database::connect(backend).await {
            Ok(db) => {
                entries.push(db.health_check().await);
                db.close().await;
            }
            Err(e) => {
                entries.push(BackendHealth {
                    name,
                    backend: kind,
                    status: HealthStatus::Down,
                    latency_ms: started.elapsed().as_secs_f64() * 1000.0,
                    pool: PoolStats {
                        size: 0,
                        idle: 0,
                        in_use: 0,
                        max,
                    },
                    error: Some(e.to_string()),
                    replicas: Vec::new(),
                    statements: Vec::new(),
                });
                first_error.get_or_insert(e);
            }
        }
    }
    let report = HealthReport::new(entries);
    if global.json {
        print_json(&report)?;
    } else {
        print!("{report}");
    }
    if let Some(e) = first_error {
        return Err(e.into());
    }
    if let Some(down) = report.backends.iter().find(|b| !b.is_up()) {
        return Err(CliError::Message(format!(
            "backend `{}` is down: {}",
            down.name,
            down.error.as_deref().unwrap_or("no answer")
        )));
    }
    Ok(ExitCode::SUCCESS)
}
