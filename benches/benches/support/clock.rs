//! The clock the benches measure with: wall time by default, or with `LEX_BENCH_CLOCK=cpu` the
//! CPU time of the bench process.
//!
//! Against a server on the same 2-core machine, wall time is mostly the round trip and the
//! scheduler waking each side, and it drifts by tens of microseconds between runs. CPU time of
//! the client process (the drivers' connection tasks run on the bench thread) leaves the server
//! and the wake-ups out, and measures just what a layer over the driver adds.

use std::time::{Duration, Instant};

use cpu_time::ProcessTime;
use criterion::measurement::{Measurement, ValueFormatter, WallTime};

/// Wall or process-CPU time, chosen once from `LEX_BENCH_CLOCK`.
pub struct Clock {
    cpu: bool,
    epoch: Instant,
    /// Formats durations the way criterion's wall clock does.
    wall: WallTime,
}

impl Clock {
    /// `LEX_BENCH_CLOCK=cpu` selects process CPU time; anything else wall time.
    pub fn from_env() -> Clock {
        let cpu = std::env::var("LEX_BENCH_CLOCK").as_deref() == Ok("cpu");
        if cpu {
            eprintln!("bench clock: CPU time of this process (LEX_BENCH_CLOCK=cpu)");
        }
        Clock {
            cpu,
            epoch: Instant::now(),
            wall: WallTime,
        }
    }

    fn now(&self) -> Duration {
        if self.cpu {
            ProcessTime::now().as_duration()
        } else {
            self.epoch.elapsed()
        }
    }
}

impl Measurement for Clock {
    type Intermediate = Duration;
    type Value = Duration;

    fn start(&self) -> Duration {
        self.now()
    }

    fn end(&self, started: Duration) -> Duration {
        self.now().saturating_sub(started)
    }

    fn add(&self, a: &Duration, b: &Duration) -> Duration {
        *a + *b
    }

    fn zero(&self) -> Duration {
        Duration::ZERO
    }

    fn to_f64(&self, value: &Duration) -> f64 {
        value.as_nanos() as f64
    }

    fn formatter(&self) -> &dyn ValueFormatter {
        self.wall.formatter()
    }
}
