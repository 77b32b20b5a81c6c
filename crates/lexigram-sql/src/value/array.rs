//! `Vec<T>` ⇄ [`Value::Array`] for the common scalars (PostgreSQL arrays).
//!
//! `Vec<u8>` is not here: it is [`Value::Bytes`]. Elements may be `Option<T>` for arrays with
//! NULLs.

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::convert::mismatch;
use super::{DecodeError, FromValue, Value};

fn elements<T: FromValue>(value: &Value) -> Result<Vec<T>, DecodeError> {
    let Value::Array(items) = value else {
        return Err(mismatch("array", value));
    };
    items
        .iter()
        .enumerate()
        .map(|(i, v)| T::from_value(v).map_err(|e| e.within(&format!("element {}", i + 1))))
        .collect()
}

macro_rules! array_conversions {
    ($($t:ty),*) => {$(
        impl From<Vec<$t>> for Value {
            fn from(v: Vec<$t>) -> Self {
                Value::Array(v.into_iter().map(Value::from).collect())
            }
        }
        impl FromValue for Vec<$t> {
            fn from_value(value: &Value) -> Result<Self, DecodeError> {
                elements(value)
            }
        }
        impl From<Vec<Option<$t>>> for Value {
            fn from(v: Vec<Option<$t>>) -> Self {
                Value::Array(v.into_iter().map(Value::from).collect())
            }
        }
        impl FromValue for Vec<Option<$t>> {
            fn from_value(value: &Value) -> Result<Self, DecodeError> {
                elements(value)
            }
        }
    )*};
}

array_conversions!(
    i16,
    i32,
    i64,
    f32,
    f64,
    bool,
    String,
    Uuid,
    Decimal,
    NaiveDate,
    NaiveTime,
    NaiveDateTime,
    DateTime<Utc>,
    serde_json::Value
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vectors_round_trip_through_values() {
        let v = vec![Some(1i64), None, Some(3)];
        assert_eq!(
            Vec::<Option<i64>>::from_value(&Value::from(v.clone())),
            Ok(v)
        );
        let err =
            Vec::<i64>::from_value(&Value::Array(vec![Value::Int(1), Value::Null])).unwrap_err();
        assert!(err.to_string().starts_with("element 2:"), "{err}");
    }
}
