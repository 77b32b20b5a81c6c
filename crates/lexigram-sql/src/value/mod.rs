//! The one value model: [`Value`], [`Row`], and conversions to and from Rust types.
//!
//! Every parameter is bound as a [`Value`]; every result column arrives as one. Backends store
//! some types differently (SQLite keeps UUIDs and timestamps as text, booleans as integers), so
//! [`FromValue`] accepts each backend's representation.

mod array;
mod check;
mod convert;
mod decode_error;
mod encode;
mod exact;
mod interval;
mod numeric;
mod row;

pub use convert::{FromValue, ToValue};
pub use decode_error::{DecodeError, DecodeErrorKind};
pub use interval::{Interval, IntervalError};
pub use row::Row;
pub(crate) use row::column_index;
pub use rust_decimal::Decimal;

pub(crate) use check::ColumnType;
pub(crate) use encode::EncodeError;
pub(crate) use exact::decimal_from_text;
#[cfg(feature = "postgres")]
pub(crate) use exact::{Inexact, exact_decimal, exact_float, exact_integer};
#[cfg(feature = "sqlite")]
pub(crate) use exact::{decimal_to_f64, decimal_to_i64, f64_to_decimal};
#[cfg(any(feature = "postgres", feature = "mysql"))]
pub(crate) use numeric::f32_to_f64;
#[cfg(feature = "postgres")]
pub(crate) use numeric::f64_to_f32;

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};

/// A single SQL value, as bound to a statement or read from a row.
///
/// ```
/// use lexigram_sql::Value;
/// let v: Value = 42i32.into();
/// assert_eq!(v, Value::Int(42));
/// assert_eq!(Value::from(None::<String>), Value::Null);
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Value {
    /// SQL NULL.
    Null,
    /// Boolean (an integer 0/1 on SQLite and MySQL).
    Bool(bool),
    /// Any integer column, widened to 64 bits.
    Int(i64),
    /// Any floating point column.
    Float(f64),
    /// Text.
    Text(String),
    /// Binary data.
    Bytes(Vec<u8>),
    /// A JSON document (text on SQLite and MySQL, `json`/`jsonb` on PostgreSQL).
    Json(serde_json::Value),
    /// A UUID (text on SQLite and MySQL, `uuid` on PostgreSQL).
    Uuid(uuid::Uuid),
    /// A point in time, UTC (`timestamptz` on PostgreSQL).
    Timestamp(DateTime<Utc>),
    /// A date and time without zone (`timestamp` / `datetime`).
    DateTime(NaiveDateTime),
    /// A calendar date.
    Date(NaiveDate),
    /// An exact decimal (`NUMERIC`/`DECIMAL` on every backend; unsigned MySQL `BIGINT` values
    /// above `i64::MAX`; `u64` values above `i64::MAX`).
    Decimal(Decimal),
    /// A time of day without zone (`time` on PostgreSQL, `TIME` on MySQL, text on SQLite).
    Time(NaiveTime),
    /// A span of time: PostgreSQL `interval`; MySQL `TIME` values outside one day.
    Interval(Interval),
    /// An array of values (PostgreSQL arrays, one dimension); `Null` elements allowed.
    Array(Vec<Value>),
}

impl Value {
    /// True for [`Value::Null`].
    ///
    /// ```
    /// assert!(lexigram_sql::Value::Null.is_null());
    /// ```
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// Name of the variant, for error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Int(_) => "integer",
            Value::Float(_) => "float",
            Value::Text(_) => "text",
            Value::Bytes(_) => "bytes",
            Value::Json(_) => "json",
            Value::Uuid(_) => "uuid",
            Value::Timestamp(_) => "timestamp",
            Value::DateTime(_) => "datetime",
            Value::Date(_) => "date",
            Value::Decimal(_) => "decimal",
            Value::Time(_) => "time",
            Value::Interval(_) => "interval",
            Value::Array(_) => "array",
        }
    }

    /// The value as text the way SQLite and MySQL store it (timestamps as RFC 3339 with
    /// microseconds, UUIDs hyphenated, JSON serialised). `None` for non-textual variants.
    pub(crate) fn as_storage_text(&self) -> Option<String> {
        match self {
            Value::Json(j) => Some(j.to_string()),
            Value::Uuid(u) => Some(u.hyphenated().to_string()),
            Value::Timestamp(t) => Some(t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)),
            Value::DateTime(t) => Some(t.format("%Y-%m-%d %H:%M:%S%.6f").to_string()),
            Value::Date(d) => Some(d.format("%Y-%m-%d").to_string()),
            Value::Decimal(d) => Some(d.to_string()),
            Value::Time(t) => Some(t.format("%H:%M:%S%.6f").to_string()),
            Value::Interval(i) => Some(i.to_string()),
            _ => None,
        }
    }
}

impl std::fmt::Display for Value {
    /// Renders the value for people (error messages, logs with parameters shown).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Null => f.write_str("NULL"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => write!(f, "{x}"),
            Value::Text(s) => write!(f, "{s:?}"),
            Value::Bytes(b) => write!(f, "<{} bytes>", b.len()),
            Value::Array(items) => {
                f.write_str("[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str("]")
            }
            other => match other.as_storage_text() {
                Some(s) => f.write_str(&s),
                None => f.write_str("?"),
            },
        }
    }
}
