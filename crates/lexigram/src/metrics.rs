//! Metrics: a Prometheus endpoint for everything recorded through the [`metrics`] facade
//! (the data layer's pool gauges, statement durations, errors, retries).
//!
//! Set `metrics.prometheus.listen` (env `LEX_METRICS__PROMETHEUS__LISTEN`) to an address such
//! as `127.0.0.1:9187` and [`Application::boot`](crate::ApplicationBuilder::boot) serves
//! `GET /metrics` (any path) there in the Prometheus text format, on a thread of its own, for
//! the life of the process. Histograms whose names end in `_seconds` get the buckets of
//! [`SECONDS_BUCKETS`]. Without the key nothing is served and recording costs a no-op call.
//!
//! ```yaml
//! metrics:
//!   prometheus:
//!     listen: 127.0.0.1:9187
//! ```
//!
//! ```
//! let config = lexigram::AppConfig::from_yaml_str(
//!     "metrics:\n  prometheus:\n    listen: 127.0.0.1:9187\n",
//!     "application.yaml",
//! )?;
//! let listen = lexigram::metrics::listen_address(&config).unwrap();
//! assert_eq!(listen.map(|a| a.port()), Some(9187));
//! # Ok::<(), lexigram::AppConfigError>(())
//! ```

use std::net::SocketAddr;
use std::sync::{Mutex, OnceLock};

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::config::AppConfig;
use crate::error::AppError;

/// The config key of the Prometheus endpoint's address.
pub const LISTEN_KEY: &str = "metrics.prometheus.listen";
/// Its environment variable.
pub const LISTEN_VAR: &str = "LEX_METRICS__PROMETHEUS__LISTEN";
/// Buckets (seconds) of every histogram named `…_seconds`: 100 µs to 30 s.
pub const SECONDS_BUCKETS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0, 30.0,
];

/// The exporter of this process, once started: its address and handle.
static SERVING: OnceLock<(SocketAddr, PrometheusHandle)> = OnceLock::new();

/// The configured Prometheus address, `None` when `metrics.prometheus.listen` is not set.
///
/// Fails with [`AppError::Metrics`] naming the value and its source when it is not an
/// `ip:port` address.
pub fn listen_address(config: &AppConfig) -> Result<Option<SocketAddr>, AppError> {
    let source = || {
        config
            .source_of(LISTEN_KEY)
            .unwrap_or_else(|| LISTEN_KEY.to_string())
    };
    let raw = match config.get::<String>(LISTEN_KEY) {
        Ok(Some(raw)) if raw.trim().is_empty() => return Ok(None),
        Ok(Some(raw)) => raw,
        Ok(None) => return Ok(None),
        Err(e) => {
            return Err(AppError::Metrics {
                listen: format!("? (from {})", source()),
                detail: format!("{e}. Fix: give an address such as 127.0.0.1:9187"),
            });
        }
    };
    raw.trim()
        .parse::<SocketAddr>()
        .map(Some)
        .map_err(|e| AppError::Metrics {
            listen: format!("`{raw}` (from {})", source()),
            detail: format!("{e}. Fix: give an ip:port address such as 127.0.0.1:9187"),
        })
}

/// Serves the Prometheus endpoint of `config`, if `metrics.prometheus.listen` is set, and
/// installs its recorder as the global `metrics` recorder. Returns the address served.
///
/// Once per process: a second call for the same address does nothing; another address, or a
/// recorder installed by someone else, is an [`AppError::Metrics`].
pub fn serve_from_config(config: &AppConfig) -> Result<Option<SocketAddr>, AppError> {
    let Some(addr) = listen_address(config)? else {
        return Ok(None);
    };
    serve_prometheus(addr).map(Some)
}

/// Serves `GET /metrics` on `addr` on a thread of its own and installs the recorder globally;
/// see [`serve_from_config`].
///
/// ```no_run
/// lexigram::metrics::serve_prometheus("127.0.0.1:9187".parse().unwrap())?;
/// metrics::counter!("jobs_total").increment(1);
/// # Ok::<(), lexigram::AppError>(())
/// ```
pub fn serve_prometheus(addr: SocketAddr) -> Result<SocketAddr, AppError> {
    static STARTING: Mutex<()> = Mutex::new(());
    let _one_at_a_time = STARTING.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((serving, _)) = SERVING.get() {
        return if *serving == addr {
            Ok(*serving)
        } else {
            Err(AppError::Metrics {
                listen: addr.to_string(),
                detail: format!(
                    "this process already serves them on {serving}. Fix: configure one metrics.prometheus.listen per process"
                ),
            })
        };
    }
    let failed = |detail: String| AppError::Metrics {
        listen: addr.to_string(),
        detail,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| failed(format!("cannot start its runtime: {e}")))?;
    let builder = PrometheusBuilder::new()
        .with_http_listener(addr)
        .set_buckets_for_metric(Matcher::Suffix("_seconds".to_string()), SECONDS_BUCKETS)
        .map_err(|e| failed(e.to_string()))?;
    let (recorder, exporter) = {
        let _entered = runtime.enter();
        builder.build().map_err(|e| {
            failed(format!(
                "{e}. Fix: choose a free port, or unset {LISTEN_VAR} / {LISTEN_KEY}"
            ))
        })?
    };
    let handle = recorder.handle();
    metrics::set_global_recorder(recorder).map_err(|_| {
        failed("another metrics recorder is already installed in this process. Fix: unset metrics.prometheus.listen and export through that recorder".to_string())
    })?;
    std::thread::Builder::new()
        .name("lexigram-prometheus".to_string())
        .spawn(move || {
            if let Err(e) = runtime.block_on(exporter) {
                tracing::warn!(error = ?e, "the Prometheus endpoint stopped");
            }
        })
        .map_err(|e| failed(format!("cannot start its thread: {e}")))?;
    let _ = SERVING.set((addr, handle));
    tracing::debug!(%addr, "serving Prometheus metrics");
    Ok(addr)
}

/// The metrics in the Prometheus text format, as the endpoint would serve them now; `None`
/// when this process serves none.
pub fn render() -> Option<String> {
    SERVING.get().map(|(_, handle)| handle.render())
}
