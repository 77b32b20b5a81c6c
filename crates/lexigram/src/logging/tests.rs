use std::io::Write;
use std::sync::{Arc, Mutex};

use tracing_subscriber::layer::SubscriberExt;

use super::*;

/// Everything the layer wrote, for assertions.
#[derive(Clone, Default)]
struct Sink(Arc<Mutex<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Sink {
    type Writer = Sink;
    fn make_writer(&'a self) -> Sink {
        self.clone()
    }
}

impl Sink {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(|p| p.into_inner())).into_owned()
    }
}

/// Emits one event of each kind the data layer emits, plus ordinary ones, through the layer
/// for `level`, and returns what was printed.
fn printed(level: Option<&str>, ansi: bool) -> String {
    let sink = Sink::default();
    let (layer, _) = layer(level, false, ansi, sink.clone());
    let subscriber = tracing_subscriber::registry().with(layer);
    tracing::subscriber::with_default(subscriber, || {
        tracing::info!(target: "lexigram_sql::query", sql = "SELECT echoed", "statement");
        tracing::debug!(target: "lexigram_sql::query", sql = "SELECT debugged", "statement");
        tracing::warn!(target: "lexigram_sql::query", sql = "SELECT slow", "slow statement");
        tracing::info!(target: "lexigram_sql::pool", "an ordinary info event");
        tracing::debug!(target: "lexigram_sql::pool", "pool opened");
        let span = tracing::info_span!(target: "lexigram_sql::span", "db.statement", db.query.text = "SELECT in span");
        span.in_scope(|| tracing::warn!(target: "lexigram_sql::pool", "inside a span"));
    });
    sink.text()
}

#[test]
fn echo_events_print_whatever_the_level() {
    for level in [
        None,
        Some("warn"),
        Some("error"),
        Some("off"),
        Some("ERROR"),
    ] {
        let out = printed(level, false);
        assert!(out.contains("SELECT echoed"), "{level:?}: {out}");
        assert!(out.contains("SELECT slow"), "{level:?}: {out}");
        assert!(!out.contains("SELECT debugged"), "{level:?}: {out}");
        assert!(!out.contains("an ordinary info event"), "{level:?}: {out}");
        assert!(!out.contains("pool opened"), "{level:?}: {out}");
    }
}

#[test]
fn debug_level_shows_every_statement_and_lifecycle() {
    let out = printed(Some("DEBUG"), false);
    for expected in [
        "SELECT echoed",
        "SELECT debugged",
        "SELECT slow",
        "pool opened",
    ] {
        assert!(out.contains(expected), "{expected}: {out}");
    }
    assert!(out.contains("DEBUG lexigram_sql::query"), "{out}");
}

#[test]
fn spans_of_the_data_layer_are_not_printed_as_context() {
    let out = printed(Some("trace"), false);
    assert!(out.contains("inside a span"), "{out}");
    assert!(!out.contains("SELECT in span"), "{out}");
    assert!(!out.contains("db.statement"), "{out}");
}

#[test]
fn colours_only_when_asked() {
    assert!(!printed(None, false).contains('\u{1b}'));
    assert!(printed(None, true).contains('\u{1b}'));
    assert!(!use_colour(false, None));
    assert!(!use_colour(true, Some(std::ffi::OsStr::new("1"))));
    assert!(use_colour(true, None));
}

#[test]
fn levels_are_case_insensitive() {
    assert_eq!(normalize("DEBUG").as_deref(), Some("debug"));
    assert_eq!(normalize("Info").as_deref(), Some("info"));
    assert_eq!(normalize("WARNING").as_deref(), Some("warn"));
    assert_eq!(
        normalize("INFO, lexigram_sql=debug").as_deref(),
        Some("info,lexigram_sql=debug")
    );
    assert_eq!(normalize("DEBG"), None);
}

#[test]
fn filters() {
    assert_eq!(filter_for(None).0.to_string(), "warn");
    assert_eq!(filter_for(Some("  ")).0.to_string(), "warn");
    assert_eq!(filter_for(Some("DEBUG")).0.to_string(), "debug");
    let (filter, rejected) = filter_for(Some("warn,lexigram_sql=debug"));
    assert!(rejected.is_none());
    assert!(filter.to_string().contains("lexigram_sql=debug"));
    for bad in ["not a level!!", "DEBG", "lexigram_sql=loud"] {
        let (filter, rejected) = filter_for(Some(bad));
        assert_eq!(filter.to_string(), "warn", "{bad}");
        assert_eq!(rejected.as_deref(), Some(bad));
    }
}

#[test]
fn init_is_idempotent() {
    let first = init(Some("info"), false);
    let second = init(Some("debug"), true);
    assert!(!second || !first);
    assert!(!init(None, false));
}
