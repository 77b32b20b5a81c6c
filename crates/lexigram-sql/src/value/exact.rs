//! Exact conversions between the numeric kinds: each returns `None` instead of changing the
//! number. Used when binding a value to a column of another numeric type and when reading a
//! column into a Rust type, so that no conversion rounds, truncates or saturates silently.
//!
//! A float stands for the shortest decimal that reads back as the same float (what `{}` prints):
//! `0.1_f64` is the decimal `0.1`, not `0.1000000000000000055511151231257827…`.

use std::str::FromStr;

use rust_decimal::Decimal;

use super::{FromValue, Value};

/// `f` as an integer, if it has no fractional part and fits.
pub(crate) fn f64_to_i64(f: f64) -> Option<i64> {
    // -2^63 is exact in f64; 2^63 is the first float above i64::MAX.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    if f.fract() != 0.0 || !(-LIMIT..LIMIT).contains(&f) {
        return None;
    }
    #[allow(clippy::cast_possible_truncation)]
    Some(f as i64)
}

/// `i` as a float, if the float holds it exactly (always for |i| ≤ 2^53).
pub(crate) fn i64_to_f64(i: i64) -> Option<f64> {
    #[allow(clippy::cast_precision_loss)]
    let f = i as f64;
    // Compare in i128: `f as i64` would saturate 2^63 back to i64::MAX.
    #[allow(clippy::cast_possible_truncation)]
    (f as i128 == i128::from(i)).then_some(f)
}

/// The shortest decimal that reads back as `f`; `None` for NaN, infinities and floats outside
/// `Decimal`'s range or scale (28 digits).
pub(crate) fn f64_to_decimal(f: f64) -> Option<Decimal> {
    if !f.is_finite() {
        return None;
    }
    // Rust's `Display` for floats prints the shortest round-trip form, never an exponent.
    Decimal::from_str_exact(&f.to_string()).ok()
}

/// `d` as a float, if the float reads back as `d` (shortest form, compared by value).
pub(crate) fn decimal_to_f64(d: Decimal) -> Option<f64> {
    let f = f64::from_str(&d.to_string()).ok()?;
    (f64_to_decimal(f)? == d).then_some(f)
}

/// Parses decimal text exactly. Trailing zeros of the fraction, which a fixed-scale column
/// pads with (`DECIMAL(65,28)`), are dropped when the number is otherwise too long for a
/// `Decimal`: the value stays the same, only its scale shrinks.
pub(crate) fn decimal_from_text(s: &str) -> Option<Decimal> {
    let s = s.trim();
    Decimal::from_str_exact(s).ok().or_else(|| {
        let trimmed = s
            .contains('.')
            .then(|| s.trim_end_matches('0').trim_end_matches('.'))?;
        Decimal::from_str_exact(trimmed).ok()
    })
}

/// Why a value has no exact form of the wanted kind: `None` when its kind has none at all (a
/// date for an integer), else the reason (a fraction, a number a float cannot hold).
pub(crate) type Inexact = Option<String>;

/// A value as the integer it stands for exactly: integers, booleans, whole decimals and
/// floats, and integer text. The caller checks the range of its target.
pub(crate) fn exact_integer(v: &Value) -> Result<i128, Inexact> {
    match v {
        Value::Int(i) => Ok(i128::from(*i)),
        Value::Bool(b) => Ok(i128::from(*b)),
        Value::Decimal(d) if d.fract().is_zero() => {
            i128::try_from(d.trunc()).map_err(|_| Some("out of range".into()))
        }
        Value::Float(f) if f.fract() == 0.0 => f64_to_i64(*f)
            .map(i128::from)
            .ok_or_else(|| Some("out of range".into())),
        Value::Decimal(_) | Value::Float(_) => Err(Some(
            "the number has a fraction, which the column would drop".into(),
        )),
        Value::Text(s) => s
            .trim()
            .parse()
            .map_err(|_| Some("the text is not an integer".into())),
        _ => Err(None),
    }
}

/// A value as the float it stands for exactly: floats, integers and decimals a float holds
/// exactly, and number text.
pub(crate) fn exact_float(v: &Value) -> Result<f64, Inexact> {
    match v {
        Value::Float(f) => Ok(*f),
        Value::Int(i) => {
            i64_to_f64(*i).ok_or_else(|| Some("a float cannot hold this integer exactly".into()))
        }
        Value::Decimal(d) => decimal_to_f64(*d)
            .ok_or_else(|| Some("a float cannot hold this decimal exactly".into())),
        Value::Text(s) => s
            .trim()
            .parse()
            .map_err(|_| Some("the text is not a number".into())),
        _ => Err(None),
    }
}

/// A value as the decimal it stands for exactly: decimals, integers, floats (their shortest
/// decimal form), and decimal text.
pub(crate) fn exact_decimal(v: &Value) -> Result<Decimal, Inexact> {
    match v {
        Value::Decimal(d) => Ok(*d),
        Value::Int(i) => Ok(Decimal::from(*i)),
        Value::Float(f) => f64_to_decimal(*f).ok_or_else(|| {
            Some("the float has no exact decimal form (NaN, infinite, or beyond 28 digits)".into())
        }),
        Value::Text(_) => Decimal::from_value(v).map_err(|e| Some(e.to_string())),
        _ => Err(None),
    }
}

/// `d` as an integer, if it is integral and fits.
pub(crate) fn decimal_to_i64(d: Decimal) -> Option<i64> {
    if !d.fract().is_zero() {
        return None;
    }
    i64::try_from(d.trunc()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_and_integers_convert_only_when_exact() {
        assert_eq!(f64_to_i64(12.0), Some(12));
        assert_eq!(f64_to_i64(12.5), None);
        assert_eq!(f64_to_i64(9_223_372_036_854_775_808.0), None);
        assert_eq!(f64_to_i64(-9_223_372_036_854_775_808.0), Some(i64::MIN));
        assert_eq!(f64_to_i64(f64::NAN), None);
        assert_eq!(i64_to_f64(1 << 53), Some(9_007_199_254_740_992.0));
        assert_eq!(i64_to_f64((1 << 53) + 1), None);
        assert_eq!(i64_to_f64(i64::MAX), None);
        assert_eq!(i64_to_f64(i64::MIN), Some(-9_223_372_036_854_775_808.0));
    }

    #[test]
    fn decimals_convert_only_when_exact() {
        let d = |s: &str| Decimal::from_str_exact(s).unwrap();
        assert_eq!(f64_to_decimal(12.34), Some(d("12.34")));
        assert_eq!(f64_to_decimal(0.1), Some(d("0.1")));
        assert_eq!(f64_to_decimal(f64::INFINITY), None);
        assert_eq!(f64_to_decimal(1e300), None);
        assert_eq!(decimal_to_f64(d("12.34")), Some(12.34));
        assert_eq!(decimal_to_f64(d("12.00")), Some(12.0));
        assert_eq!(decimal_to_f64(d("0.12345678901234567890")), None);
        assert_eq!(decimal_to_i64(d("12.00")), Some(12));
        let long = "-1234567890.1234567890123456789000000000";
        assert_eq!(
            decimal_from_text(long),
            Some(d("-1234567890.1234567890123456789"))
        );
        assert_eq!(decimal_from_text("100"), Some(d("100")));
        assert_eq!(decimal_from_text("1e5"), None);
        assert_eq!(decimal_to_i64(d("12.5")), None);
        assert_eq!(decimal_to_i64(d("18446744073709551615")), None);
    }
}
