use super::*;

#[test]
fn buckets_are_monotonic_and_bound_their_values() {
    let mut last = 0;
    for ns in [
        1u64,
        255,
        256,
        300,
        1_000,
        2_500,
        4_000,
        1_000_000,
        3_000_000_000,
    ] {
        let b = bucket_of(ns);
        assert!(b >= last, "{ns}");
        last = b;
        if ns >= 256 {
            assert!(
                upper_bound(b) >= ns,
                "{ns} in bucket {b} bounded by {}",
                upper_bound(b)
            );
            assert!(
                upper_bound(b) as f64 <= ns as f64 * 1.25 + 1.0,
                "{ns}: {}",
                upper_bound(b)
            );
        }
    }
    assert_eq!(bucket_of(u64::MAX), BUCKETS - 1);
}

#[test]
fn p95_mean_errors_and_order() {
    let stats = StatsRecorder::default();
    for i in 0..100u64 {
        // 95 fast runs of 10 µs, 5 slow runs of 10 ms.
        let d = if i < 95 {
            Duration::from_micros(10)
        } else {
            Duration::from_millis(10)
        };
        stats.record("SELECT a", d, 1, false);
    }
    stats.record("SELECT b", Duration::from_millis(100), 0, true);
    let snap = stats.snapshot();
    assert_eq!(snap.statements[0].sql, "SELECT b", "most total time first");
    let a = &snap.statements[1];
    assert_eq!((a.calls, a.errors, a.rows), (100, 0, 100));
    assert!(a.p95_ms >= 0.010 && a.p95_ms <= 0.0125, "{}", a.p95_ms);
    assert!((a.max_ms - 10.0).abs() < 1e-9);
    assert!(
        (a.mean_ms - (95.0 * 0.010 + 5.0 * 10.0) / 100.0).abs() < 1e-6,
        "{}",
        a.mean_ms
    );
    assert_eq!(snap.statements[1].operation, "SELECT");
    assert_eq!(snap.statements[0].errors, 1);
    assert_eq!(snap.slow(Duration::from_millis(50)).len(), 1);
}

#[test]
fn a_million_distinct_statements_stay_within_capacity_and_keep_the_costly_ones() {
    let stats = StatsRecorder::default();
    let heavy = "SELECT * FROM orders WHERE customer_id = ?";
    for _ in 0..50 {
        stats.record(heavy, Duration::from_millis(5), 1, false);
    }
    let mut max_tracked = 0;
    for i in 0..1_000_000u64 {
        stats.record(&format!("SELECT {i}"), Duration::from_micros(3), 1, false);
        if i % 50_000 == 0 {
            let tracked: usize = stats
                .shards
                .iter()
                .map(|s| s.lock().unwrap().entries.len())
                .sum();
            max_tracked = max_tracked.max(tracked);
        }
    }
    let snap = stats.snapshot();
    assert!(snap.tracked <= CAPACITY, "{}", snap.tracked);
    assert!(max_tracked <= CAPACITY, "{max_tracked}");
    assert!(
        snap.evicted >= 1_000_000 - CAPACITY as u64,
        "{}",
        snap.evicted
    );
    assert_eq!(
        snap.statements[0].sql, heavy,
        "the costly statement survives"
    );
    assert_eq!(snap.statements[0].calls, 50);
}

#[test]
fn long_sql_is_cut() {
    let stats = StatsRecorder::default();
    let long = format!("SELECT '{}'", "é".repeat(5000));
    stats.record(&long, Duration::from_micros(1), 0, false);
    let snap = stats.snapshot();
    assert_eq!(snap.statements[0].sql.chars().count(), MAX_SQL_CHARS + 1);
    assert!(snap.statements[0].sql.ends_with('…'));
}
