//! MySQL's and MariaDB's side of the value model: binding [`Value`]s and reading cells back.
//!
//! MySQL takes parameters as values of their own type and converts them to the column's type
//! itself; in strict mode (the default of MySQL 5.7+ and MariaDB 10.2+) a value the column
//! cannot hold is refused by the server (classified as [`Error::Encode`]). Decimals are sent as
//! their exact text. Reading, every cell converts exactly or fails with [`Error::Decode`]:
//! `DECIMAL` reads as [`Value::Decimal`], `BIGINT UNSIGNED` above `i64::MAX` as a decimal,
//! `TIME` as a time of day (or an interval outside one day), and a zero date is an error,
//! never `NULL`.

use std::sync::Arc;

use chrono::{Datelike, NaiveDate, NaiveTime, Timelike};
use mysql_async::consts::ColumnType;
use mysql_async::{Column, Params};
use rust_decimal::Decimal;

use crate::error::{Error, Result};
use crate::value::{EncodeError, Interval, Row, Value, decimal_from_text};

const BINARY_CHARSET: u16 = 63;

fn to_param(position: usize, v: &Value) -> Result<mysql_async::Value> {
    use mysql_async::Value as M;
    Ok(match v {
        Value::Null => M::NULL,
        Value::Bool(b) => M::Int(i64::from(*b)),
        Value::Int(i) => M::Int(*i),
        // As its shortest decimal text: the server then converts it to the column's type
        // exactly or, in strict mode, refuses it (a fraction into an integer column), where a
        // binary double would be rounded silently.
        Value::Float(f) if f.is_finite() => M::Bytes(f.to_string().into_bytes()),
        Value::Float(f) => M::Double(*f),
        Value::Text(s) => M::Bytes(s.as_bytes().to_vec()),
        Value::Bytes(b) => M::Bytes(b.clone()),
        Value::Timestamp(t) => datetime(t.naive_utc()),
        Value::DateTime(t) => datetime(*t),
        // As text: a DATE (or DATETIME) column converts it, and a text column keeps the date.
        Value::Date(d) => M::Bytes(d.format("%Y-%m-%d").to_string().into_bytes()),
        Value::Time(t) => time(0, t.num_seconds_from_midnight(), t.nanosecond() / 1000),
        Value::Interval(i) if i.months == 0 => {
            let micros = i128::from(i.days) * 86_400_000_000 + i128::from(i.microseconds);
            let negative = micros < 0;
            let micros = micros.unsigned_abs();
            let (days, rest) = (micros / 86_400_000_000, micros % 86_400_000_000);
            let days = u32::try_from(days).map_err(|_| {
                EncodeError::new(position, v, "TIME", "the interval is too long for a TIME")
            })?;
            #[allow(clippy::cast_possible_truncation)]
            let (secs, us) = ((rest / 1_000_000) as u32, (rest % 1_000_000) as u32);
            match time(days, secs, us) {
                M::Time(_, d, h, mi, s, us) => M::Time(negative, d, h, mi, s, us),
                other => other,
            }
        }
        Value::Interval(_) => {
            return Err(EncodeError::new(
                position,
                v,
                "TIME",
                "MySQL has no interval type with months; bind days and microseconds only",
            )
            .into());
        }
        Value::Array(_) => {
            return Err(EncodeError::new(
                position,
                v,
                "a MySQL value",
                "MySQL has no array type; store the elements as JSON (Value::Json)",
            )
            .into());
        }
        other => M::Bytes(other.as_storage_text().unwrap_or_default().into_bytes()),
    })
}

#[allow(clippy::cast_possible_truncation)]
fn time(days: u32, secs: u32, micros: u32) -> mysql_async::Value {
    mysql_async::Value::Time(
        false,
        days,
        (secs / 3600) as u8,
        (secs / 60 % 60) as u8,
        (secs % 60) as u8,
        micros,
    )
}

#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
fn datetime(t: chrono::NaiveDateTime) -> mysql_async::Value {
    mysql_async::Value::Date(
        t.year() as u16,
        t.month() as u8,
        t.day() as u8,
        t.hour() as u8,
        t.minute() as u8,
        t.second() as u8,
        t.nanosecond() / 1000,
    )
}

/// The parameters of a statement, or the first one MySQL cannot take.
pub(super) fn params(values: &[Value]) -> Result<Params> {
    if values.is_empty() {
        return Ok(Params::Empty);
    }
    values
        .iter()
        .enumerate()
        .map(|(i, v)| to_param(i + 1, v))
        .collect::<Result<Vec<_>>>()
        .map(Params::Positional)
}

fn read_value(v: mysql_async::Value, col: &Column) -> std::result::Result<Value, String> {
    use mysql_async::Value as M;
    Ok(match v {
        M::NULL => Value::Null,
        M::Int(i) => Value::Int(i),
        M::UInt(u) => {
            i64::try_from(u).map_or_else(|_| Value::Decimal(Decimal::from(u)), Value::Int)
        }
        M::Float(f) => Value::Float(crate::value::f32_to_f64(f)),
        M::Double(f) => Value::Float(f),
        M::Bytes(b) => match col.column_type() {
            ColumnType::MYSQL_TYPE_NEWDECIMAL | ColumnType::MYSQL_TYPE_DECIMAL => {
                let text = String::from_utf8(b).map_err(|_| "invalid DECIMAL text".to_string())?;
                decimal_from_text(&text).map_or(Value::Text(text), Value::Decimal)
            }
            _ if col.character_set() == BINARY_CHARSET => Value::Bytes(b),
            _ => match String::from_utf8(b) {
                Ok(s) => Value::Text(s),
                Err(e) => Value::Bytes(e.into_bytes()),
            },
        },
        M::Date(y, mo, d, h, mi, s, us) => {
            let date = NaiveDate::from_ymd_opt(i32::from(y), u32::from(mo), u32::from(d))
                .ok_or_else(|| {
                    format!(
                        "{y:04}-{mo:02}-{d:02} is not a calendar date (MySQL zero dates have no Rust value). Fix: store NULL instead, or read the column with DATE_FORMAT(..)/CAST(.. AS CHAR)"
                    )
                })?;
            if col.column_type() == ColumnType::MYSQL_TYPE_DATE {
                Value::Date(date)
            } else {
                date.and_hms_micro_opt(u32::from(h), u32::from(mi), u32::from(s), us)
                    .map(Value::DateTime)
                    .ok_or_else(|| format!("invalid time of day {h}:{mi}:{s}.{us:06}"))?
            }
        }
        M::Time(negative, days, h, mi, s, us) => {
            let secs = u32::from(h) * 3600 + u32::from(mi) * 60 + u32::from(s);
            match NaiveTime::from_num_seconds_from_midnight_opt(secs, us * 1000) {
                Some(t) if !negative && days == 0 => Value::Time(t),
                _ => {
                    let micros =
                        (i64::from(days) * 86_400 + i64::from(secs)) * 1_000_000 + i64::from(us);
                    Value::Interval(Interval::from_micros(if negative {
                        -micros
                    } else {
                        micros
                    }))
                }
            }
        }
    })
}

/// Converts a driver row, failing on the first cell that has no exact [`Value`].
pub(super) fn convert_row(row: mysql_async::Row, columns: &Arc<[String]>) -> Result<Row> {
    let cols = row.columns();
    let values = row
        .unwrap()
        .into_iter()
        .zip(cols.iter())
        .map(|(v, c)| {
            read_value(v, c).map_err(|detail| Error::Decode {
                column: c.name_str().into_owned(),
                detail,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Row::new(Arc::clone(columns), values))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_within_mysql_time_become_time_values() {
        let v = Value::Interval(Interval::from_micros(-(90_061_000_001)));
        let param = to_param(1, &v).unwrap();
        assert_eq!(param, mysql_async::Value::Time(true, 1, 1, 1, 1, 1));
        assert!(to_param(1, &Value::Interval(Interval::new(1, 0, 0))).is_err());
        assert!(to_param(1, &Value::Array(vec![])).is_err());
    }
}
