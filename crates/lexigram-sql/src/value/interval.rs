//! [`Interval`]: PostgreSQL's `interval`, months, days and microseconds kept apart as the server
//! keeps them (a month is not a fixed number of days, nor a day of seconds across DST).

use std::fmt;
use std::time::Duration;

/// A span of time as PostgreSQL stores it: months, days and microseconds, each signed.
///
/// ```
/// use lexigram_sql::{Interval, Value};
/// let i = Interval::new(14, 3, 4_000_005);
/// assert_eq!(i.to_string(), "1 year 2 mons 3 days 00:00:04.000005");
/// assert_eq!(Value::from(i), Value::Interval(i));
/// let d = std::time::Duration::from_millis(1500);
/// assert_eq!(std::time::Duration::try_from(Interval::try_from(d)?)?, d);
/// # Ok::<(), lexigram_sql::value::IntervalError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Interval {
    /// Whole months (a year is 12).
    pub months: i32,
    /// Whole days.
    pub days: i32,
    /// Microseconds.
    pub microseconds: i64,
}

/// Why an [`Interval`] and a [`Duration`] could not be converted exactly.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IntervalError {
    /// The interval has months (of varying length) or is negative.
    #[error("interval {0} has months or is negative; a Duration cannot hold it exactly")]
    NotADuration(Interval),
    /// The duration has nanoseconds below a microsecond, or exceeds the interval's range.
    #[error("duration {0:?} is not a whole number of microseconds within i64")]
    NotMicroseconds(Duration),
}

impl Interval {
    /// An interval of months, days and microseconds.
    pub const fn new(months: i32, days: i32, microseconds: i64) -> Interval {
        Interval {
            months,
            days,
            microseconds,
        }
    }

    /// An interval of microseconds only.
    pub const fn from_micros(microseconds: i64) -> Interval {
        Interval::new(0, 0, microseconds)
    }
}

impl TryFrom<Duration> for Interval {
    type Error = IntervalError;

    fn try_from(d: Duration) -> Result<Interval, IntervalError> {
        if !d.subsec_nanos().is_multiple_of(1000) {
            return Err(IntervalError::NotMicroseconds(d));
        }
        i64::try_from(d.as_micros())
            .map(Interval::from_micros)
            .map_err(|_| IntervalError::NotMicroseconds(d))
    }
}

impl TryFrom<Interval> for Duration {
    type Error = IntervalError;

    /// Days count as 24 hours; months and negative intervals are refused.
    fn try_from(i: Interval) -> Result<Duration, IntervalError> {
        let micros = i128::from(i.days) * 86_400_000_000 + i128::from(i.microseconds);
        if i.months != 0 || micros < 0 {
            return Err(IntervalError::NotADuration(i));
        }
        u64::try_from(micros)
            .map(Duration::from_micros)
            .map_err(|_| IntervalError::NotADuration(i))
    }
}

impl fmt::Display for Interval {
    /// PostgreSQL's default output style: `1 year 2 mons 3 days 04:05:06.000007`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (years, months) = (self.months / 12, self.months % 12);
        let mut parts = Vec::new();
        for (n, unit) in [(years, "year"), (months, "mon"), (self.days, "day")] {
            if n != 0 {
                let plural = if n.abs() == 1 { "" } else { "s" };
                parts.push(format!("{n} {unit}{plural}"));
            }
        }
        if self.microseconds != 0 || parts.is_empty() {
            let sign = if self.microseconds < 0 { "-" } else { "" };
            let us = self.microseconds.unsigned_abs();
            let (secs, frac) = (us / 1_000_000, us % 1_000_000);
            let time = format!(
                "{sign}{:02}:{:02}:{:02}",
                secs / 3600,
                secs / 60 % 60,
                secs % 60
            );
            parts.push(if frac == 0 {
                time
            } else {
                format!("{time}.{frac:06}")
            });
        }
        f.write_str(&parts.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_like_postgres() {
        assert_eq!(Interval::default().to_string(), "00:00:00");
        assert_eq!(Interval::new(1, 1, 0).to_string(), "1 mon 1 day");
        assert_eq!(Interval::from_micros(-90_000_000).to_string(), "-00:01:30");
        assert_eq!(Interval::new(-12, 0, 0).to_string(), "-1 year");
    }

    #[test]
    fn durations_convert_only_when_exact() {
        assert!(Interval::try_from(Duration::from_nanos(1500)).is_err());
        assert!(Duration::try_from(Interval::new(1, 0, 0)).is_err());
        assert!(Duration::try_from(Interval::from_micros(-1)).is_err());
        assert_eq!(
            Duration::try_from(Interval::new(0, 1, 1)),
            Ok(Duration::from_micros(86_400_000_001))
        );
    }
}
