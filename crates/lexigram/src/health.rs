//! Application health: one entry per component a provider checks (a database backend, a
//! cache, …), aggregated by [`Application::health_check`](crate::Application::health_check).

use std::fmt;

use serde::Serialize;

/// Up or down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum ComponentStatus {
    /// The component answered.
    Up,
    /// The component did not answer; see the entry's `error`.
    Down,
}

impl fmt::Display for ComponentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            ComponentStatus::Up => "up",
            ComponentStatus::Down => "down",
        })
    }
}

/// The health of one component.
///
/// ```
/// use lexigram::{ComponentHealth, ComponentStatus};
/// let entry = ComponentHealth::up("sql", "primary").with_latency_ms(0.4);
/// assert_eq!(entry.status, ComponentStatus::Up);
/// let down = ComponentHealth::down("sql", "analytics", "connection refused");
/// assert_eq!(down.error.as_deref(), Some("connection refused"));
/// ```
#[derive(Debug, Clone, Serialize)]
pub struct ComponentHealth {
    /// The provider that checked it, e.g. `sql`.
    pub provider: String,
    /// The component's name within the provider, e.g. the backend name `analytics`.
    pub name: String,
    /// Up or down.
    pub status: ComponentStatus,
    /// Round-trip time of the check, in milliseconds, when measured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<f64>,
    /// Provider-specific figures (for a database: backend kind and pool size/idle/in use/max).
    #[serde(skip_serializing_if = "serde_json::Value::is_null")]
    pub details: serde_json::Value,
    /// Why it is down (no secrets).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl ComponentHealth {
    /// An `up` entry with no details.
    pub fn up(provider: impl Into<String>, name: impl Into<String>) -> Self {
        ComponentHealth {
            provider: provider.into(),
            name: name.into(),
            status: ComponentStatus::Up,
            latency_ms: None,
            details: serde_json::Value::Null,
            error: None,
        }
    }

    /// A `down` entry with its error.
    pub fn down(
        provider: impl Into<String>,
        name: impl Into<String>,
        error: impl Into<String>,
    ) -> Self {
        ComponentHealth {
            status: ComponentStatus::Down,
            error: Some(error.into()),
            ..ComponentHealth::up(provider, name)
        }
    }

    /// Sets the measured latency.
    pub fn with_latency_ms(mut self, latency_ms: f64) -> Self {
        self.latency_ms = Some(latency_ms);
        self
    }

    /// Sets provider-specific details.
    pub fn with_details(mut self, details: serde_json::Value) -> Self {
        self.details = details;
        self
    }

    /// True when up.
    pub fn is_up(&self) -> bool {
        self.status == ComponentStatus::Up
    }
}

/// The health of a whole application: every provider's entries, in boot order.
///
/// `Display` prints a table for people; [`ApplicationHealth::to_json`] (or serde) gives JSON,
/// whose shape is stable (fields may be added, none renamed or removed):
///
/// ```json
/// {"application": "shop", "status": "up",
///  "components": [{"provider": "sql", "name": "default", "status": "up", "latency_ms": 0.21,
///                  "details": {"backend": "sqlite",
///                              "pool": {"size": 1, "idle": 1, "in_use": 0, "max": 10},
///                              "statements": [{"sql": "SELECT …", "calls": 3, "…": "…"}]}}]}
/// ```
///
/// `status` is `up` when every component is up, else `down`; a down component has `error`.
///
/// ```
/// use lexigram::{ApplicationHealth, ComponentHealth};
/// let report = ApplicationHealth {
///     application: "shop".into(),
///     components: vec![
///         ComponentHealth::up("sql", "primary").with_latency_ms(0.2),
///         ComponentHealth::down("sql", "analytics", "connection refused"),
///     ],
/// };
/// assert!(!report.is_healthy());
/// assert!(report.component("sql", "analytics").is_some_and(|c| !c.is_up()));
/// let json: serde_json::Value = serde_json::from_str(&report.to_json()).unwrap();
/// assert_eq!(json["status"], "down");
/// assert_eq!(json["components"][1]["error"], "connection refused");
/// assert!(report.to_string().contains("connection refused"));
/// ```
#[derive(Debug, Clone)]
pub struct ApplicationHealth {
    /// The application's name.
    pub application: String,
    /// One entry per checked component.
    pub components: Vec<ComponentHealth>,
}

impl Serialize for ApplicationHealth {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Json<'a> {
            application: &'a str,
            status: ComponentStatus,
            components: &'a [ComponentHealth],
        }
        Json {
            application: &self.application,
            status: self.status(),
            components: &self.components,
        }
        .serialize(serializer)
    }
}

impl ApplicationHealth {
    /// True when every component is up (and vacuously when there are none).
    pub fn is_healthy(&self) -> bool {
        self.components.iter().all(ComponentHealth::is_up)
    }

    /// `Up` when every component is up (and when there are none), else `Down`.
    pub fn status(&self) -> ComponentStatus {
        if self.is_healthy() {
            ComponentStatus::Up
        } else {
            ComponentStatus::Down
        }
    }

    /// The entry of `provider`'s component `name`.
    pub fn component(&self, provider: &str, name: &str) -> Option<&ComponentHealth> {
        self.components
            .iter()
            .find(|c| c.provider == provider && c.name == name)
    }

    /// The report as one line of JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

impl fmt::Display for ApplicationHealth {
    /// A headline, then one row per component (a `comfy-table` table without borders) with
    /// its details as `key=value`, then the errors of the components that are down.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let overall = if self.is_healthy() { "up" } else { "down" };
        writeln!(f, "application {}: {overall}", self.application)?;
        let mut table = comfy_table::Table::new();
        table.load_style(comfy_table::presets::NOTHING);
        let mut errors = Vec::new();
        for c in &self.components {
            let latency = c
                .latency_ms
                .map(|ms| format!("{ms:.2}ms"))
                .unwrap_or_else(|| "-".to_string());
            let mut details = Vec::new();
            flatten_details("", &c.details, &mut details);
            let details: Vec<String> = details
                .into_iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            table.add_row([
                c.provider.to_string(),
                c.name.to_string(),
                c.status.to_string(),
                latency,
                details.join(" "),
            ]);
            if let Some(error) = &c.error {
                errors.push(format!("{} {}: {error}", c.provider, c.name));
            }
        }
        for line in table.lines() {
            writeln!(f, " {}", line.trim_end())?;
        }
        for e in errors {
            writeln!(f, "  error: {e}")?;
        }
        Ok(())
    }
}

/// `{"pool": {"max": 2}}` → `[("pool.max", "2")]`, for the one-line text form.
fn flatten_details(prefix: &str, value: &serde_json::Value, out: &mut Vec<(String, String)>) {
    match value {
        serde_json::Value::Null => {}
        serde_json::Value::Object(map) => {
            for (key, child) in map {
                let key = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                flatten_details(&key, child, out);
            }
        }
        serde_json::Value::String(s) => out.push((prefix.to_string(), s.clone())),
        other => out.push((prefix.to_string(), other.to_string())),
    }
}
