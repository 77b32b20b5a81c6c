//! The Markdown report: per backend, a wall-clock table and a CPU table (median per operation,
//! ratio to the raw driver), and the pool table.

use std::fmt::Write;
use std::time::Duration;

use crate::Results;
use crate::harness::{Sample, median};
use crate::work::Work;

fn fmt_dur(d: Duration) -> String {
    let us = d.as_secs_f64() * 1e6;
    if us >= 10_000.0 {
        format!("{:.1} ms", us / 1000.0)
    } else if us >= 100.0 {
        format!("{us:.0} µs")
    } else {
        format!("{us:.2} µs")
    }
}

fn table(out: &mut String, r: &Results, pick: fn(&Sample) -> Duration) {
    let _ = write!(out, "| workload |");
    for p in &r.peers {
        let _ = write!(out, " {p} |");
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "|---|{}", "---:|".repeat(r.peers.len()));
    for (wi, w) in Work::ALL.iter().enumerate() {
        let _ = write!(out, "| {w} |");
        let med = |p: &str| {
            r.samples
                .get(&(wi, p))
                .map(|v| median(v.iter().map(pick).collect()))
        };
        let raw = med("raw");
        for p in &r.peers {
            match (med(p), raw) {
                (Some(d), Some(base)) if *p != "raw" && !base.is_zero() => {
                    let _ = write!(
                        out,
                        " {} ({:.2}×) |",
                        fmt_dur(d),
                        d.as_secs_f64() / base.as_secs_f64()
                    );
                }
                (Some(d), _) => {
                    let _ = write!(out, " {} |", fmt_dur(d));
                }
                (None, _) => {
                    let _ = write!(out, " — |");
                }
            }
        }
        let _ = writeln!(out);
    }
}

/// The report for every backend measured.
pub fn markdown(all: &[Results], reps: usize) -> String {
    let mut out = String::new();
    for r in all {
        let _ = writeln!(out, "## {}\n", r.kind);
        let _ = writeln!(
            out,
            "Median per operation over {reps} repetitions; ratio to the raw driver in brackets.\n"
        );
        let _ = writeln!(out, "Wall clock:\n");
        table(&mut out, r, |s| s.wall);
        let _ = writeln!(out, "\nClient CPU (this process, all threads):\n");
        table(&mut out, r, |s| s.cpu);
        let _ = writeln!(
            out,
            "\n8 tasks selecting by key on a pool of 8 (2 runtime workers; Diesel and raw SQLite: 8 OS threads), \
             2 s, median of {} runs; a 1 ms timer runs beside them:\n",
            reps.min(3)
        );
        let _ = writeln!(
            out,
            "| peer | ops/s | tasks progressing (of 8) | worst timer lateness |"
        );
        let _ = writeln!(out, "|---|---:|---:|---:|");
        for p in &r.peers {
            if let Some(v) = r.pools.get(p) {
                let mut ops: Vec<f64> = v.iter().map(|s| s.ops_per_sec).collect();
                ops.sort_by(f64::total_cmp);
                let ops = ops[(ops.len() - 1) / 2];
                let tasks = v.iter().map(|s| s.tasks_progressing).min().unwrap_or(0);
                let late = v.iter().map(|s| s.timer_late_max).max().unwrap_or_default();
                let _ = writeln!(
                    out,
                    "| {p} | {ops:.0} | {tasks} (fewest) | {} (worst) |",
                    fmt_dur(late)
                );
            }
        }
        if !r.errors.is_empty() {
            let _ = writeln!(out, "\nFailures:\n");
            for e in &r.errors {
                let _ = writeln!(out, "- {e}");
            }
        }
        let _ = writeln!(out);
    }
    out
}
