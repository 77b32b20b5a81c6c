//! Backend health as application health entries.

use lexigram::{ComponentHealth, ComponentStatus};

use crate::config::BackendSettings;
use crate::database::{BackendHealth, HealthStatus, PoolStats};
use crate::error::Error;

/// The `down` entry of a backend that is not connected (not booted, or boot failed).
pub(super) fn not_connected(settings: &BackendSettings) -> BackendHealth {
    BackendHealth {
        name: settings.name.clone(),
        backend: settings.url.kind().name(),
        status: HealthStatus::Down,
        latency_ms: 0.0,
        pool: PoolStats {
            size: 0,
            idle: 0,
            in_use: 0,
            max: settings.pool.max_size,
        },
        error: Some(
            Error::NotConnected {
                name: settings.name.clone(),
            }
            .to_string(),
        ),
        replicas: Vec::new(),
        statements: Vec::new(),
    }
}

/// One backend's health as an application health entry of provider `provider`: status,
/// latency, error, and the backend kind, pool figures and top statements as details.
pub(super) fn to_component(provider: &str, health: BackendHealth) -> ComponentHealth {
    let mut details = serde_json::json!({
        "backend": health.backend,
        "pool": health.pool,
    });
    if !health.replicas.is_empty() {
        details["replicas"] = serde_json::to_value(&health.replicas).unwrap_or_default();
    }
    if !health.statements.is_empty() {
        details["statements"] = serde_json::json!(health.statements);
    }
    ComponentHealth {
        provider: provider.to_string(),
        name: health.name,
        status: match health.status {
            HealthStatus::Up => ComponentStatus::Up,
            HealthStatus::Down => ComponentStatus::Down,
        },
        latency_ms: Some(health.latency_ms),
        details,
        error: health.error,
    }
}
