//! SQLite's side of the value model: binding [`Value`]s and reading cells back.
//!
//! SQLite stores integers, doubles, text and blobs. Types it lacks are stored as text
//! (timestamps as RFC 3339 with microseconds, UUIDs hyphenated, JSON serialised); a decimal is
//! bound as its text and stored by the column's affinity, so it is refused when SQLite could
//! not hold it exactly (more digits than a double, beyond `i64`). Columns declared
//! `NUMERIC`/`DECIMAL` read back as [`Value::Decimal`], at the declared scale.

use std::sync::Arc;

use rusqlite::types::{ToSqlOutput, ValueRef};
use rust_decimal::Decimal;

use crate::value::{
    EncodeError, Value, decimal_from_text, decimal_to_f64, decimal_to_i64, f64_to_decimal,
};

/// Binds a [`Value`] (1-based position, value) without copying text or bytes.
pub(super) struct Param<'a>(pub(super) usize, pub(super) &'a Value);

impl rusqlite::ToSql for Param<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        use rusqlite::types::Value as S;
        let refuse = |target: &str, detail: &str| {
            rusqlite::Error::ToSqlConversionFailure(Box::new(EncodeError::new(
                self.0, self.1, target, detail,
            )))
        };
        Ok(match self.1 {
            Value::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            Value::Bool(b) => ToSqlOutput::Owned(S::Integer(i64::from(*b))),
            Value::Int(i) => ToSqlOutput::Owned(S::Integer(*i)),
            Value::Float(f) => ToSqlOutput::Owned(S::Real(*f)),
            Value::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
            Value::Bytes(b) => ToSqlOutput::Borrowed(ValueRef::Blob(b)),
            // Whole decimals as integers (`"5.0"` as text would become a lossy REAL in a
            // NUMERIC column); others as text, when a double holds them exactly.
            Value::Decimal(d) => match decimal_to_i64(*d) {
                Some(i) => ToSqlOutput::Owned(S::Integer(i)),
                None if decimal_to_f64(*d).is_some() => ToSqlOutput::Owned(S::Text(d.to_string())),
                None => {
                    return Err(refuse(
                        "a SQLite number",
                        "SQLite keeps numbers as 64-bit integers or doubles and neither holds this decimal exactly; bind it as text (Value::Text) into a TEXT column",
                    ));
                }
            },
            Value::Interval(_) => {
                return Err(refuse(
                    "SQLite",
                    "SQLite has no interval type; store microseconds as an integer",
                ));
            }
            Value::Array(_) => {
                return Err(refuse(
                    "SQLite",
                    "SQLite has no array type; store the elements as JSON (Value::Json)",
                ));
            }
            other => ToSqlOutput::Owned(S::Text(other.as_storage_text().unwrap_or_default())),
        })
    }
}

/// Per result column: `None` for an ordinary column, `Some(scale)` for a column declared
/// `NUMERIC`/`DECIMAL` (`scale` from `NUMERIC(p,s)`, if given).
pub(super) type Decimals = Option<Arc<[Option<Option<u32>>]>>;

/// The decimal columns of a statement's result, from their declared types.
pub(super) fn decimals_of(stmt: &rusqlite::Statement<'_>) -> Decimals {
    let kinds: Arc<[Option<Option<u32>>]> = stmt
        .columns()
        .iter()
        .map(|c| c.decl_type().and_then(decimal_scale))
        .collect();
    kinds.iter().any(Option::is_some).then_some(kinds)
}

/// `Some(scale)` when a declared type is a decimal: `NUMERIC`, `DECIMAL(10, 2)`, ….
fn decimal_scale(decl: &str) -> Option<Option<u32>> {
    let upper = decl.to_ascii_uppercase();
    if !(upper.starts_with("NUMERIC") || upper.starts_with("DECIMAL")) {
        return None;
    }
    let scale = upper
        .split_once('(')
        .and_then(|(_, args)| args.trim_end_matches(')').split(',').nth(1))
        .and_then(|s| s.trim().parse().ok());
    Some(scale)
}

/// Reads one cell; `decimal` is the column's entry from [`decimals_of`].
pub(super) fn read_value(v: ValueRef<'_>, decimal: Option<Option<u32>>) -> Value {
    let value = match v {
        ValueRef::Null => return Value::Null,
        ValueRef::Integer(i) => Value::Int(i),
        ValueRef::Real(f) => Value::Float(f),
        ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => return Value::Bytes(b.to_vec()),
    };
    match decimal {
        Some(scale) => as_decimal(value, scale),
        None => value,
    }
}

/// A NUMERIC column's value as a decimal at the declared scale; values that are no decimal
/// (text, or a double beyond `Decimal`) stay as they are.
fn as_decimal(value: Value, scale: Option<u32>) -> Value {
    let decimal = match &value {
        Value::Int(i) => Some(Decimal::from(*i)),
        Value::Float(f) => f64_to_decimal(*f),
        Value::Text(s) => decimal_from_text(s),
        _ => None,
    };
    match decimal {
        Some(mut d) => {
            if let Some(s) = scale
                && d.scale() < s
            {
                // Only ever adds zeros: `rescale` to a larger scale is exact.
                d.rescale(s);
            }
            Value::Decimal(d)
        }
        None => value,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_decimals_are_recognised() {
        assert_eq!(decimal_scale("NUMERIC(12,2)"), Some(Some(2)));
        assert_eq!(decimal_scale("decimal(10, 4)"), Some(Some(4)));
        assert_eq!(decimal_scale("NUMERIC"), Some(None));
        assert_eq!(decimal_scale("INTEGER"), None);
        assert_eq!(decimal_scale("REAL"), None);
    }

    #[test]
    fn numeric_cells_read_at_the_declared_scale() {
        let v = read_value(ValueRef::Integer(12), Some(Some(2)));
        assert_eq!(v.to_string(), "12.00");
        let v = read_value(ValueRef::Real(12.34), Some(Some(2)));
        assert_eq!(v, Value::Decimal(Decimal::from_str_exact("12.34").unwrap()));
        assert_eq!(
            read_value(ValueRef::Text(b"abc"), Some(None)),
            Value::Text("abc".into())
        );
    }
}
