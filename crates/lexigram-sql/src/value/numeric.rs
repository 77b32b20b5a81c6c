//! Numbers: integers, floats, booleans and [`Decimal`]s to and from [`Value`].
//!
//! Every conversion is exact or an error: an integer too big for the target, a fraction read
//! into an integer, an integer a float cannot hold, a `u64` above `i64::MAX` — none of them
//! rounds, truncates or saturates. Decimals read into floats are the one approximation (a float
//! is approximate by nature); it is the nearest float.

use std::str::FromStr;

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use super::convert::mismatch;
use super::exact::{decimal_from_text, decimal_to_i64, f64_to_decimal, f64_to_i64, i64_to_f64};
use super::{DecodeError, FromValue, Value};

/// Reads an integer value of any representation as `i64`, exactly.
fn integer(value: &Value, target: &str) -> Result<i64, DecodeError> {
    let whole = |what: String| {
        DecodeError::out_of_range(format!(
            "{what} is not a whole number; it does not fit in {target}"
        ))
    };
    match value {
        Value::Int(i) => Ok(*i),
        Value::Bool(b) => Ok(i64::from(*b)),
        Value::Decimal(d) => decimal_to_i64(*d).ok_or_else(|| {
            if d.fract().is_zero() {
                DecodeError::out_of_range(format!("{d} does not fit in {target}"))
            } else {
                whole(d.to_string())
            }
        }),
        Value::Float(f) => f64_to_i64(*f).ok_or_else(|| {
            if f.fract() == 0.0 {
                DecodeError::out_of_range(format!("{f} does not fit in {target}"))
            } else {
                whole(f.to_string())
            }
        }),
        Value::Json(serde_json::Value::Number(n)) => n.as_i64().ok_or_else(|| {
            DecodeError::out_of_range(format!("JSON number {n} does not fit in {target}"))
        }),
        // Exact decimals some drivers send as text (`CHAR(n)` pads it with spaces).
        Value::Text(s) => s.trim().parse::<i64>().or_else(|_| {
            let d = decimal_from_text(s).ok_or_else(|| mismatch(target, value))?;
            integer(&Value::Decimal(d), target)
        }),
        other => Err(mismatch(target, other)),
    }
}

macro_rules! int_conversions {
    ($($t:ty),*) => {$(
        impl From<$t> for Value {
            fn from(v: $t) -> Self { Value::Int(i64::from(v)) }
        }
        impl FromValue for $t {
            fn from_value(value: &Value) -> Result<Self, DecodeError> {
                let target = stringify!($t);
                if let Value::Decimal(d) = value
                    && d.fract().is_zero()
                {
                    // Wider than i64 (MySQL BIGINT UNSIGNED): try the target directly.
                    return <$t>::try_from(d.trunc())
                        .map_err(|_| DecodeError::out_of_range(format!("{d} does not fit in {target}")));
                }
                let i = integer(value, target)?;
                <$t>::try_from(i).map_err(|_| DecodeError::out_of_range(format!("{i} does not fit in {target}")))
            }
        }
    )*};
}
int_conversions!(i8, i16, i32, i64, u8, u16, u32);

impl From<u64> for Value {
    /// An `Int` up to `i64::MAX`, above it a `Decimal`: nothing saturates. A column that cannot
    /// hold the value refuses it with a typed error when the statement runs.
    ///
    /// ```
    /// use lexigram_sql::{Decimal, Value};
    /// assert_eq!(Value::from(7u64), Value::Int(7));
    /// assert_eq!(Value::from(u64::MAX), Value::Decimal(Decimal::from(u64::MAX)));
    /// ```
    fn from(v: u64) -> Self {
        i64::try_from(v).map_or_else(|_| Value::Decimal(Decimal::from(v)), Value::Int)
    }
}

impl FromValue for u64 {
    fn from_value(value: &Value) -> Result<Self, DecodeError> {
        match value {
            Value::Decimal(d) if d.fract().is_zero() => u64::try_from(d.trunc())
                .map_err(|_| DecodeError::out_of_range(format!("{d} does not fit in u64"))),
            Value::Text(s) if s.parse::<u64>().is_ok() => s
                .parse::<u64>()
                .map_err(|e| DecodeError::invalid(e.to_string())),
            Value::Float(f) if *f >= 9_223_372_036_854_775_808.0 && f.fract() == 0.0 => {
                let d = f64_to_decimal(*f)
                    .ok_or_else(|| DecodeError::out_of_range(format!("{f} does not fit in u64")))?;
                u64::try_from(d)
                    .map_err(|_| DecodeError::out_of_range(format!("{f} does not fit in u64")))
            }
            other => {
                let i = integer(other, "u64")?;
                u64::try_from(i)
                    .map_err(|_| DecodeError::out_of_range(format!("{i} does not fit in u64")))
            }
        }
    }
}

impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Float(v)
    }
}
impl From<f32> for Value {
    /// The `f64` nearest the `f32`'s shortest decimal form (`0.1_f32` binds as `0.1`).
    fn from(v: f32) -> Self {
        Value::Float(f32_to_f64(v))
    }
}

/// Widens an `f32` to the `f64` of the same shortest decimal (`0.1_f32` → `0.1_f64`), which is
/// what a `REAL`/`float4` column means; `f64::from` would give `0.10000000149011612`.
pub(crate) fn f32_to_f64(v: f32) -> f64 {
    if v.is_finite() {
        f64::from_str(&v.to_string()).unwrap_or(f64::from(v))
    } else {
        f64::from(v)
    }
}

/// The `f32` that `f` stands for, if one reads back as `f` (see [`f32_to_f64`]).
pub(crate) fn f64_to_f32(f: f64) -> Option<f32> {
    #[allow(clippy::cast_possible_truncation)]
    let narrow = f as f32;
    (f.is_nan() || f32_to_f64(narrow) == f).then_some(narrow)
}

impl FromValue for f64 {
    fn from_value(value: &Value) -> Result<Self, DecodeError> {
        match value {
            Value::Float(f) => Ok(*f),
            // SQL aggregates often return integers; above 2^53 a float cannot hold every one.
            Value::Int(i) => i64_to_f64(*i).ok_or_else(|| {
                DecodeError::out_of_range(format!("{i} cannot be held exactly by an f64"))
            }),
            Value::Decimal(d) => d.to_f64().ok_or_else(|| {
                DecodeError::out_of_range(format!("{d} is out of the range of f64"))
            }),
            Value::Text(s) => s.trim().parse().map_err(|_| mismatch("float", value)),
            Value::Json(serde_json::Value::Number(n)) => n
                .as_f64()
                .ok_or_else(|| DecodeError::out_of_range(format!("JSON number {n} is not an f64"))),
            other => Err(mismatch("f64", other)),
        }
    }
}
impl FromValue for f32 {
    fn from_value(value: &Value) -> Result<Self, DecodeError> {
        let f = f64::from_value(value)?;
        match value {
            Value::Decimal(_) =>
            {
                #[allow(clippy::cast_possible_truncation)]
                Ok(f as f32)
            }
            _ => f64_to_f32(f).ok_or_else(|| {
                DecodeError::out_of_range(format!("{f} cannot be held exactly by an f32"))
            }),
        }
    }
}

impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}
impl FromValue for bool {
    /// Booleans, and the forms backends store them as: 0/1 (integer, float or decimal) and
    /// the text `true`/`false`/`t`/`f`/`1`/`0`.
    fn from_value(value: &Value) -> Result<Self, DecodeError> {
        match value {
            Value::Bool(b) => Ok(*b),
            Value::Int(0) => Ok(false),
            Value::Int(1) => Ok(true),
            Value::Float(f) if *f == 0.0 || *f == 1.0 => Ok(*f == 1.0),
            Value::Decimal(d) if d.is_zero() || *d == Decimal::ONE => Ok(*d == Decimal::ONE),
            Value::Json(serde_json::Value::Bool(b)) => Ok(*b),
            Value::Text(s) => match s.trim().to_ascii_lowercase().as_str() {
                "true" | "t" | "1" => Ok(true),
                "false" | "f" | "0" => Ok(false),
                _ => Err(DecodeError::invalid(format!("{s:?} is not a boolean"))),
            },
            other => Err(mismatch("bool", other)),
        }
    }
}

impl From<Decimal> for Value {
    fn from(v: Decimal) -> Self {
        Value::Decimal(v)
    }
}
impl FromValue for Decimal {
    /// Decimals, integers, decimal text, and floats (as their shortest decimal form).
    ///
    /// ```
    /// use lexigram_sql::{Decimal, FromValue, Value};
    /// let d = Decimal::from_str_exact("12.34").unwrap();
    /// assert_eq!(Decimal::from_value(&Value::Float(12.34)), Ok(d));
    /// assert_eq!(Decimal::from_value(&Value::Text("12.34".into())), Ok(d));
    /// assert!(Decimal::from_value(&Value::Float(f64::NAN)).is_err());
    /// ```
    fn from_value(value: &Value) -> Result<Self, DecodeError> {
        match value {
            Value::Decimal(d) => Ok(*d),
            Value::Int(i) => Ok(Decimal::from(*i)),
            Value::Float(f) => f64_to_decimal(*f).ok_or_else(|| {
                DecodeError::out_of_range(format!("{f} cannot be held by a Decimal"))
            }),
            Value::Text(s) => decimal_from_text(s)
                .or_else(|| Decimal::from_scientific(s).ok())
                .ok_or_else(|| {
                    DecodeError::invalid(format!(
                        "{s:?} is not a decimal that a Decimal holds exactly"
                    ))
                }),
            other => Err(mismatch("decimal", other)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &str) -> Decimal {
        Decimal::from_str_exact(s).unwrap()
    }

    #[test]
    fn integers_round_trip_and_reject_overflow() {
        assert_eq!(i32::from_value(&Value::from(7i32)), Ok(7));
        assert!(
            i8::from_value(&Value::Int(300))
                .unwrap_err()
                .to_string()
                .contains("does not fit")
        );
        assert!(u32::from_value(&Value::Int(-1)).is_err());
    }

    #[test]
    fn u64_never_saturates() {
        for v in [0, 1, i64::MAX as u64, i64::MAX as u64 + 1, u64::MAX] {
            assert_eq!(u64::from_value(&Value::from(v)), Ok(v));
        }
        assert!(i64::from_value(&Value::from(u64::MAX)).is_err());
    }

    #[test]
    fn integral_decimals_and_floats_read_as_integers_and_fractions_do_not() {
        assert_eq!(i64::from_value(&Value::Decimal(dec("12.00"))), Ok(12));
        assert_eq!(i64::from_value(&Value::Float(12.0)), Ok(12));
        let err = i64::from_value(&Value::Decimal(dec("12.5"))).unwrap_err();
        assert!(err.to_string().contains("not a whole number"), "{err}");
        assert!(i64::from_value(&Value::Float(1e19)).is_err());
        assert_eq!(i64::from_value(&Value::Text("12.00".into())), Ok(12));
    }

    #[test]
    fn floats_refuse_integers_they_cannot_hold() {
        assert_eq!(
            f64::from_value(&Value::Int(1 << 53)),
            Ok(9_007_199_254_740_992.0)
        );
        assert!(f64::from_value(&Value::Int((1 << 53) + 1)).is_err());
        assert_eq!(f32::from_value(&Value::Float(0.1)), Ok(0.1));
        assert!(f32::from_value(&Value::Float(0.123_456_789_012)).is_err());
        assert_eq!(Value::from(0.1f32), Value::Float(0.1));
    }
}
