//! Conversions between [`Value`] and Rust types.
//!
//! `From<T> for Value` covers parameters; [`FromValue`] reads columns back, accepting the
//! representation each backend uses for the type (text UUIDs on SQLite, 0/1 booleans, ...).

use std::net::IpAddr;

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Timelike, Utc};
use uuid::Uuid;

use super::{DecodeError, Interval, Value};

/// Converts a Rust value into a bound parameter. Implemented for everything `Value: From<T>`.
///
/// ```
/// use lexigram_sql::{ToValue, Value};
/// assert_eq!("ada".to_value(), Value::Text("ada".into()));
/// ```
pub trait ToValue {
    /// The value to bind.
    fn to_value(&self) -> Value;
}

impl<T: Clone + Into<Value>> ToValue for T {
    fn to_value(&self) -> Value {
        self.clone().into()
    }
}

/// Reads a Rust value out of a column [`Value`].
///
/// ```
/// use lexigram_sql::{FromValue, Value};
/// assert_eq!(bool::from_value(&Value::Int(1)), Ok(true));
/// assert_eq!(Option::<i64>::from_value(&Value::Null), Ok(None));
/// ```
pub trait FromValue: Sized {
    /// Converts, or says what was expected and what was found.
    fn from_value(value: &Value) -> Result<Self, DecodeError>;

    /// Converts a value the caller owns; text, bytes and JSON move instead of being copied.
    ///
    /// ```
    /// use lexigram_sql::{FromValue, Value};
    /// assert_eq!(String::from_owned(Value::Text("moved".into())), Ok("moved".to_string()));
    /// ```
    fn from_owned(value: Value) -> Result<Self, DecodeError> {
        Self::from_value(&value)
    }
}

pub(super) fn mismatch(expected: &str, found: &Value) -> DecodeError {
    DecodeError::mismatch(expected, found)
}

impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(v)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(v.to_string())
    }
}
impl From<&String> for Value {
    fn from(v: &String) -> Self {
        Value::Text(v.clone())
    }
}
impl FromValue for String {
    /// Text, UTF-8 bytes, and the text form of every other scalar (a number a backend stored
    /// from text reads back as the same digits: `Float(12.34)` → `"12.34"`).
    fn from_value(value: &Value) -> Result<Self, DecodeError> {
        match value {
            Value::Text(s) => Ok(s.clone()),
            Value::Bytes(b) => {
                String::from_utf8(b.clone()).map_err(|_| DecodeError::invalid("invalid UTF-8"))
            }
            Value::Int(i) => Ok(i.to_string()),
            Value::Float(f) => Ok(f.to_string()),
            Value::Bool(b) => Ok(b.to_string()),
            other => other
                .as_storage_text()
                .ok_or_else(|| mismatch("text", other)),
        }
    }

    fn from_owned(value: Value) -> Result<Self, DecodeError> {
        match value {
            Value::Text(s) => Ok(s),
            other => Self::from_value(&other),
        }
    }
}

impl From<Vec<u8>> for Value {
    fn from(v: Vec<u8>) -> Self {
        Value::Bytes(v)
    }
}
impl From<&[u8]> for Value {
    fn from(v: &[u8]) -> Self {
        Value::Bytes(v.to_vec())
    }
}
impl FromValue for Vec<u8> {
    fn from_value(value: &Value) -> Result<Self, DecodeError> {
        match value {
            Value::Bytes(b) => Ok(b.clone()),
            Value::Text(s) => Ok(s.as_bytes().to_vec()),
            other => Err(mismatch("bytes", other)),
        }
    }

    fn from_owned(value: Value) -> Result<Self, DecodeError> {
        match value {
            Value::Bytes(b) => Ok(b),
            other => Self::from_value(&other),
        }
    }
}

impl From<serde_json::Value> for Value {
    fn from(v: serde_json::Value) -> Self {
        Value::Json(v)
    }
}
impl FromValue for serde_json::Value {
    fn from_value(value: &Value) -> Result<Self, DecodeError> {
        match value {
            Value::Json(j) => Ok(j.clone()),
            Value::Text(s) => serde_json::from_str(s)
                .map_err(|e| DecodeError::invalid(format!("invalid JSON: {e}"))),
            Value::Bytes(b) => serde_json::from_slice(b)
                .map_err(|e| DecodeError::invalid(format!("invalid JSON: {e}"))),
            other => Err(mismatch("json", other)),
        }
    }

    fn from_owned(value: Value) -> Result<Self, DecodeError> {
        match value {
            Value::Json(j) => Ok(j),
            other => Self::from_value(&other),
        }
    }
}

impl From<Uuid> for Value {
    fn from(v: Uuid) -> Self {
        Value::Uuid(v)
    }
}
impl FromValue for Uuid {
    fn from_value(value: &Value) -> Result<Self, DecodeError> {
        match value {
            Value::Uuid(u) => Ok(*u),
            Value::Text(s) => {
                Uuid::parse_str(s).map_err(|e| DecodeError::invalid(format!("invalid UUID: {e}")))
            }
            Value::Bytes(b) => {
                Uuid::from_slice(b).map_err(|e| DecodeError::invalid(format!("invalid UUID: {e}")))
            }
            other => Err(mismatch("uuid", other)),
        }
    }
}

impl From<DateTime<Utc>> for Value {
    fn from(v: DateTime<Utc>) -> Self {
        Value::Timestamp(v)
    }
}
impl FromValue for DateTime<Utc> {
    fn from_value(value: &Value) -> Result<Self, DecodeError> {
        match value {
            Value::Timestamp(t) => Ok(*t),
            Value::DateTime(t) => Ok(t.and_utc()),
            Value::Text(s) => DateTime::parse_from_rfc3339(s)
                .map(|t| t.with_timezone(&Utc))
                .or_else(|_| parse_naive(s).map(|t| t.and_utc()))
                .map_err(|e| DecodeError::invalid(format!("invalid timestamp {s:?}: {e}"))),
            other => Err(mismatch("timestamp", other)),
        }
    }
}

fn parse_naive(s: &str) -> Result<NaiveDateTime, chrono::ParseError> {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f")
        .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f"))
}

impl From<NaiveDateTime> for Value {
    fn from(v: NaiveDateTime) -> Self {
        Value::DateTime(v)
    }
}
impl FromValue for NaiveDateTime {
    fn from_value(value: &Value) -> Result<Self, DecodeError> {
        match value {
            Value::DateTime(t) => Ok(*t),
            Value::Timestamp(t) => Ok(t.naive_utc()),
            Value::Text(s) => parse_naive(s)
                .map_err(|e| DecodeError::invalid(format!("invalid datetime {s:?}: {e}"))),
            other => Err(mismatch("datetime", other)),
        }
    }
}

impl From<NaiveDate> for Value {
    fn from(v: NaiveDate) -> Self {
        Value::Date(v)
    }
}
impl FromValue for NaiveDate {
    /// Dates, and date-times at midnight (a date stored in a timestamp column).
    fn from_value(value: &Value) -> Result<Self, DecodeError> {
        let midnight = |t: NaiveDateTime| {
            if t.time() == NaiveTime::MIN {
                Ok(t.date())
            } else {
                Err(DecodeError::invalid(format!(
                    "{t} has a time of day; read it as a date-time"
                )))
            }
        };
        match value {
            Value::Date(d) => Ok(*d),
            Value::DateTime(t) => midnight(*t),
            Value::Timestamp(t) => midnight(t.naive_utc()),
            Value::Text(s) => match NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d") {
                Ok(d) => Ok(d),
                Err(e) => match parse_naive(s.trim()) {
                    Ok(t) => midnight(t),
                    Err(_) => Err(DecodeError::invalid(format!("invalid date {s:?}: {e}"))),
                },
            },
            other => Err(mismatch("date", other)),
        }
    }
}

impl From<NaiveTime> for Value {
    fn from(v: NaiveTime) -> Self {
        Value::Time(v)
    }
}
impl FromValue for NaiveTime {
    fn from_value(value: &Value) -> Result<Self, DecodeError> {
        match value {
            Value::Time(t) => Ok(*t),
            Value::Text(s) => NaiveTime::parse_from_str(s, "%H:%M:%S%.f")
                .map_err(|e| DecodeError::invalid(format!("invalid time {s:?}: {e}"))),
            Value::Interval(i) => Err(DecodeError::invalid(format!(
                "{i} is not a time of day (MySQL TIME values outside 00:00..24:00 read as intervals)"
            ))),
            other => Err(mismatch("time", other)),
        }
    }
}

impl From<Interval> for Value {
    fn from(v: Interval) -> Self {
        Value::Interval(v)
    }
}
impl FromValue for Interval {
    fn from_value(value: &Value) -> Result<Self, DecodeError> {
        match value {
            Value::Interval(i) => Ok(*i),
            Value::Time(t) => {
                let micros = i64::from(t.num_seconds_from_midnight()) * 1_000_000
                    + i64::from(t.nanosecond() / 1000);
                Ok(Interval::from_micros(micros))
            }
            other => Err(mismatch("interval", other)),
        }
    }
}

impl From<IpAddr> for Value {
    /// Binds as text; PostgreSQL `inet`/`cidr` parameters take it as an address.
    fn from(v: IpAddr) -> Self {
        Value::Text(v.to_string())
    }
}
impl FromValue for IpAddr {
    /// Reads an address from text (`inet`/`cidr` arrive as text); a `/n` suffix is accepted
    /// only when it covers the whole address, since an `IpAddr` cannot hold a network.
    fn from_value(value: &Value) -> Result<Self, DecodeError> {
        let Value::Text(s) = value else {
            return Err(mismatch("ip address", value));
        };
        let (addr, bits) = match s.split_once('/') {
            Some((a, b)) => (a, Some(b)),
            None => (s.as_str(), None),
        };
        let ip: IpAddr = addr
            .parse()
            .map_err(|e| DecodeError::invalid(format!("invalid IP address {s:?}: {e}")))?;
        let full = if ip.is_ipv4() { "32" } else { "128" };
        match bits {
            Some(b) if b != full => Err(DecodeError::invalid(format!(
                "{s:?} is a network, not one address; read it as a String"
            ))),
            _ => Ok(ip),
        }
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}
impl<T: FromValue> FromValue for Option<T> {
    fn from_value(value: &Value) -> Result<Self, DecodeError> {
        match value {
            Value::Null => Ok(None),
            other => T::from_value(other).map(Some),
        }
    }

    fn from_owned(value: Value) -> Result<Self, DecodeError> {
        match value {
            Value::Null => Ok(None),
            other => T::from_owned(other).map(Some),
        }
    }
}

impl FromValue for Value {
    fn from_value(value: &Value) -> Result<Self, DecodeError> {
        Ok(value.clone())
    }

    fn from_owned(value: Value) -> Result<Self, DecodeError> {
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_representations_are_read_back() {
        let id = Uuid::new_v4();
        assert_eq!(Uuid::from_value(&Value::Text(id.to_string())), Ok(id));
        let t = Utc::now();
        let stored = Value::Timestamp(t).as_storage_text().unwrap();
        let back = DateTime::<Utc>::from_value(&Value::Text(stored)).unwrap();
        assert_eq!(back.timestamp_micros(), t.timestamp_micros());
        let j = serde_json::json!({"a": [1, 2]});
        assert_eq!(
            serde_json::Value::from_value(&Value::Text(j.to_string())),
            Ok(j)
        );
    }

    #[test]
    fn mismatches_say_what_was_found() {
        let err = bool::from_value(&Value::Bytes(vec![1])).unwrap_err();
        assert_eq!(err.to_string(), "expected bool, found bytes");
        let err = bool::from_value(&Value::Text("yes".into())).unwrap_err();
        assert_eq!(err.to_string(), "\"yes\" is not a boolean");
    }
}
