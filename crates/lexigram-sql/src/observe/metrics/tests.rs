use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use metrics::{Counter, Gauge, HistogramFn, Key, KeyName, Metadata, Recorder, SharedString, Unit};

use super::*;

/// Counts registrations and recorded histogram values.
#[derive(Default)]
struct Counting {
    registered: AtomicU64,
    recorded: Arc<AtomicU64>,
}

struct Records(Arc<AtomicU64>);

impl HistogramFn for Records {
    fn record(&self, _value: f64) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

impl Recorder for Counting {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn register_counter(&self, _: &Key, _: &Metadata<'_>) -> Counter {
        Counter::noop()
    }
    fn register_gauge(&self, _: &Key, _: &Metadata<'_>) -> Gauge {
        Gauge::noop()
    }
    fn register_histogram(&self, _: &Key, _: &Metadata<'_>) -> Histogram {
        self.registered.fetch_add(1, Ordering::Relaxed);
        Histogram::from_arc(Arc::new(Records(Arc::clone(&self.recorded))))
    }
}

const MS: Duration = Duration::from_millis(1);

#[test]
fn handles_are_registered_once_per_operation_with_the_current_recorder() {
    let recorder = Counting::default();
    let labels = Labels::new("primary", "sqlite");
    metrics::with_local_recorder(&recorder, || {
        for _ in 0..10 {
            labels.statement(0, MS, None, false);
            labels.acquired(MS, None);
        }
        labels.statement(1, MS, None, false);
    });
    // One SELECT histogram, one acquire histogram, one INSERT histogram; 21 values.
    assert_eq!(recorder.registered.load(Ordering::Relaxed), 3);
    assert_eq!(recorder.recorded.load(Ordering::Relaxed), 21);
}

#[test]
fn a_recorder_installed_after_the_first_statement_still_receives_everything() {
    let labels = Labels::new("primary", "sqlite");
    // First statement with no recorder: the cached handles belong to the no-op recorder.
    labels.statement(0, MS, None, false);
    let recorder = Counting::default();
    metrics::with_local_recorder(&recorder, || {
        labels.statement(0, MS, None, false);
        labels.statement(0, MS, None, false);
        labels.acquired(MS, None);
    });
    assert_eq!(recorder.recorded.load(Ordering::Relaxed), 3);
}
