//! The column-type rule for backends whose parameters carry no declared type (SQLite, MySQL):
//! before `Table` and `Repository` write a value, it is converted exactly to the column's
//! declared type or refused. PostgreSQL applies the same rule in its parameter encoder, with
//! the types the server declares.
//!
//! Without this, SQLite's type affinity and MySQL's implicit conversions change values
//! silently: `i64::MAX` into a `REAL` column becomes `9.223372036854776e18`, `12.34` into an
//! `INT` column becomes `12`, a timestamp into a `BIGINT` column becomes `20240229123456`.

use chrono::{NaiveDateTime, NaiveTime};
use rust_decimal::Decimal;

use super::exact::{Inexact, exact_decimal, exact_float, exact_integer};
use super::numeric::f64_to_f32;
use super::{EncodeError, FromValue, Value};

/// What a column declares, as far as exactness is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ColumnType {
    /// An integer column holding `min..=max`.
    Integer { min: i128, max: i128 },
    /// `NUMERIC(p, s)` / `DECIMAL(p, s)`.
    Decimal {
        precision: Option<u32>,
        scale: Option<u32>,
    },
    /// A binary float; `single` for 4-byte floats.
    Float { single: bool },
    /// A boolean (SQLite `BOOLEAN`).
    Bool,
    /// Text of any length.
    Text,
    /// Binary data.
    Bytes,
    /// A calendar date.
    Date,
    /// A time of day.
    Time,
    /// A date and time (with or without zone).
    DateTime,
    /// A JSON document.
    Json,
    /// A UUID (SQLite `UUID`).
    Uuid,
    /// Anything else: not checked.
    Any,
}

impl ColumnType {
    /// From SQLite's declared type, by the same name rules SQLite uses for affinity.
    pub(crate) fn from_sqlite(decl: &str) -> ColumnType {
        let d = decl.to_ascii_uppercase();
        let has = |s: &str| d.contains(s);
        if has("INT") {
            ColumnType::Integer {
                min: i128::from(i64::MIN),
                max: i128::from(i64::MAX),
            }
        } else if d.starts_with("NUMERIC") || d.starts_with("DECIMAL") {
            let (precision, scale) = precision_scale(&d);
            ColumnType::Decimal { precision, scale }
        } else if has("CHAR") || has("CLOB") || has("TEXT") {
            ColumnType::Text
        } else if has("BLOB") {
            ColumnType::Bytes
        } else if has("REAL") || has("FLOA") || has("DOUB") {
            ColumnType::Float { single: false }
        } else if has("BOOL") {
            ColumnType::Bool
        } else if has("TIMESTAMP") || has("DATETIME") {
            ColumnType::DateTime
        } else if has("DATE") {
            ColumnType::Date
        } else if has("TIME") {
            ColumnType::Time
        } else if has("JSON") {
            ColumnType::Json
        } else if has("UUID") {
            ColumnType::Uuid
        } else {
            ColumnType::Any
        }
    }

    /// From MySQL's `information_schema.COLUMNS` (`DATA_TYPE`, `COLUMN_TYPE`, precision, scale).
    pub(crate) fn from_mysql(
        data_type: &str,
        column_type: &str,
        precision: Option<u32>,
        scale: Option<u32>,
    ) -> ColumnType {
        let unsigned = column_type.to_ascii_lowercase().contains("unsigned");
        let int = |bits: u32| {
            if unsigned {
                ColumnType::Integer {
                    min: 0,
                    max: (1i128 << bits) - 1,
                }
            } else {
                ColumnType::Integer {
                    min: -(1i128 << (bits - 1)),
                    max: (1i128 << (bits - 1)) - 1,
                }
            }
        };
        match data_type.to_ascii_lowercase().as_str() {
            "tinyint" => int(8),
            "smallint" => int(16),
            "mediumint" => int(24),
            "int" | "integer" => int(32),
            "bigint" => int(64),
            "decimal" | "numeric" => ColumnType::Decimal { precision, scale },
            "float" => ColumnType::Float { single: true },
            "double" | "real" => ColumnType::Float { single: false },
            "char" | "varchar" | "tinytext" | "text" | "mediumtext" | "longtext" | "enum"
            | "set" => ColumnType::Text,
            "binary" | "varbinary" | "tinyblob" | "blob" | "mediumblob" | "longblob" => {
                ColumnType::Bytes
            }
            "date" => ColumnType::Date,
            "time" => ColumnType::Time,
            "datetime" | "timestamp" => ColumnType::DateTime,
            "json" => ColumnType::Json,
            _ => ColumnType::Any,
        }
    }

    /// `value` converted exactly to what this column holds, or refused (`parameter` is the
    /// 1-based position, `column` names the column in the refusal).
    pub(crate) fn check(
        self,
        parameter: usize,
        column: &str,
        value: Value,
    ) -> Result<Value, EncodeError> {
        if value.is_null() || self == ColumnType::Any {
            return Ok(value);
        }
        let refuse = |v: &Value, why: String| {
            EncodeError::new(parameter, v, format!("column '{column}' ({self})"), why)
        };
        let no = |v: &Value| {
            refuse(
                v,
                format!(
                    "there is no exact conversion from {} to {self}",
                    v.type_name()
                ),
            )
        };
        let reason = |v: &Value, why: Inexact| match why {
            Some(why) => refuse(v, why),
            None => no(v),
        };
        match self {
            ColumnType::Integer { min, max } => {
                let i = exact_integer(&value).map_err(|why| reason(&value, why))?;
                if i < min || i > max {
                    return Err(refuse(&value, format!("out of range {min}..={max}")));
                }
                Ok(i64::try_from(i).map_or_else(
                    |_| Value::Decimal(Decimal::from_i128_with_scale(i, 0)),
                    Value::Int,
                ))
            }
            ColumnType::Decimal { precision, scale } => {
                let d = exact_decimal(&value).map_err(|why| reason(&value, why))?;
                let normal = d.normalize();
                if let Some(s) = scale
                    && normal.scale() > s
                {
                    return Err(refuse(
                        &value,
                        format!(
                            "it has more than {s} decimal places, which the column would round"
                        ),
                    ));
                }
                if let (Some(p), Some(s)) = (precision, scale) {
                    let digits = normal
                        .trunc()
                        .abs()
                        .to_string()
                        .trim_start_matches('0')
                        .len();
                    if digits > p.saturating_sub(s) as usize {
                        return Err(refuse(
                            &value,
                            format!(
                                "out of range: at most {} digits before the point",
                                p.saturating_sub(s)
                            ),
                        ));
                    }
                }
                Ok(Value::Decimal(d))
            }
            ColumnType::Float { single } => {
                let f = exact_float(&value).map_err(|why| reason(&value, why))?;
                if single && f64_to_f32(f).is_none() {
                    return Err(refuse(
                        &value,
                        "a 4-byte float cannot hold this number exactly; use DOUBLE".into(),
                    ));
                }
                Ok(Value::Float(f))
            }
            ColumnType::Bool => bool::from_value(&value)
                .map(Value::Bool)
                .map_err(|_| no(&value)),
            ColumnType::Text => match &value {
                Value::Bytes(b) if std::str::from_utf8(b).is_err() => {
                    Err(refuse(&value, "the bytes are not UTF-8 text".into()))
                }
                Value::Array(_) | Value::Interval(_) => Err(no(&value)),
                _ => Ok(value),
            },
            ColumnType::Bytes => match value {
                Value::Bytes(_) | Value::Text(_) => Ok(value),
                Value::Uuid(u) => Ok(Value::Bytes(u.as_bytes().to_vec())),
                other => Err(no(&other)),
            },
            ColumnType::Date => match &value {
                Value::Date(_) => Ok(value),
                Value::Text(_) => chrono::NaiveDate::from_value(&value)
                    .map(Value::Date)
                    .map_err(|e| refuse(&value, e.to_string())),
                Value::DateTime(_) | Value::Timestamp(_) => {
                    let t = NaiveDateTime::from_value(&value)
                        .map_err(|e| refuse(&value, e.to_string()))?;
                    if t.time() == NaiveTime::MIN {
                        Ok(Value::Date(t.date()))
                    } else {
                        Err(refuse(
                            &value,
                            "the value has a time of day, which a date would drop".into(),
                        ))
                    }
                }
                _ => Err(no(&value)),
            },
            ColumnType::Time => match &value {
                Value::Time(_) => Ok(value),
                Value::Text(_) => NaiveTime::from_value(&value)
                    .map(Value::Time)
                    .map_err(|e| refuse(&value, e.to_string())),
                _ => Err(no(&value)),
            },
            ColumnType::DateTime => match &value {
                Value::DateTime(_) | Value::Timestamp(_) => Ok(value),
                Value::Date(d) => Ok(Value::DateTime(d.and_time(NaiveTime::MIN))),
                Value::Text(_) => NaiveDateTime::from_value(&value)
                    .map(|_| value.clone())
                    .map_err(|e| refuse(&value, e.to_string())),
                _ => Err(no(&value)),
            },
            ColumnType::Json => match &value {
                Value::Json(_) | Value::Int(_) | Value::Bool(_) | Value::Decimal(_) => Ok(value),
                Value::Float(f) if f.is_finite() => Ok(value),
                Value::Text(s) => serde_json::from_str::<serde_json::Value>(s)
                    .map(|_| value.clone())
                    .map_err(|e| refuse(&value, format!("the text is not JSON: {e}"))),
                _ => Err(no(&value)),
            },
            ColumnType::Uuid => match &value {
                Value::Uuid(_) => Ok(value),
                Value::Text(_) | Value::Bytes(_) => uuid::Uuid::from_value(&value)
                    .map(Value::Uuid)
                    .map_err(|e| refuse(&value, e.to_string())),
                _ => Err(no(&value)),
            },
            ColumnType::Any => Ok(value),
        }
    }
}

impl std::fmt::Display for ColumnType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ColumnType::Integer { .. } => f.write_str("integer"),
            ColumnType::Decimal {
                precision: Some(p),
                scale: Some(s),
            } => write!(f, "decimal({p},{s})"),
            ColumnType::Decimal { .. } => f.write_str("decimal"),
            ColumnType::Float { single: true } => f.write_str("float"),
            ColumnType::Float { single: false } => f.write_str("double"),
            ColumnType::Bool => f.write_str("boolean"),
            ColumnType::Text => f.write_str("text"),
            ColumnType::Bytes => f.write_str("binary"),
            ColumnType::Date => f.write_str("date"),
            ColumnType::Time => f.write_str("time"),
            ColumnType::DateTime => f.write_str("datetime"),
            ColumnType::Json => f.write_str("json"),
            ColumnType::Uuid => f.write_str("uuid"),
            ColumnType::Any => f.write_str("any"),
        }
    }
}

/// `(precision, scale)` from `NUMERIC(p, s)`.
fn precision_scale(decl: &str) -> (Option<u32>, Option<u32>) {
    let Some((_, args)) = decl.split_once('(') else {
        return (None, None);
    };
    let mut parts = args
        .trim_end_matches(')')
        .split(',')
        .map(|p| p.trim().parse::<u32>().ok());
    let precision = parts.next().flatten();
    let scale = parts.next().flatten().or(precision.map(|_| 0));
    (precision, scale)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &str) -> Decimal {
        Decimal::from_str_exact(s).unwrap()
    }

    #[test]
    fn sqlite_declarations_map_like_affinity() {
        assert!(matches!(
            ColumnType::from_sqlite("BIGINT"),
            ColumnType::Integer { .. }
        ));
        assert_eq!(
            ColumnType::from_sqlite("NUMERIC(12,2)"),
            ColumnType::Decimal {
                precision: Some(12),
                scale: Some(2)
            }
        );
        assert_eq!(
            ColumnType::from_sqlite("DOUBLE PRECISION"),
            ColumnType::Float { single: false }
        );
        assert_eq!(ColumnType::from_sqlite("TIMESTAMPTZ"), ColumnType::DateTime);
        assert_eq!(ColumnType::from_sqlite("VARCHAR(64)"), ColumnType::Text);
        assert_eq!(ColumnType::from_sqlite(""), ColumnType::Any);
    }

    #[test]
    fn values_convert_exactly_or_are_refused() {
        let int = ColumnType::from_mysql("smallint", "smallint(6)", None, None);
        assert_eq!(int.check(1, "v", Value::Float(12.0)), Ok(Value::Int(12)));
        assert!(int.check(1, "v", Value::Float(12.34)).is_err());
        assert!(int.check(1, "v", Value::Int(40_000)).is_err());
        let money = ColumnType::Decimal {
            precision: Some(12),
            scale: Some(2),
        };
        assert_eq!(
            money.check(1, "v", Value::Int(12)),
            Ok(Value::Decimal(dec("12")))
        );
        assert!(money.check(1, "v", Value::Decimal(dec("1.234"))).is_err());
        assert!(money.check(1, "v", Value::Int(12_345_678_901)).is_err());
        let real = ColumnType::Float { single: false };
        assert!(real.check(1, "v", Value::Int(i64::MAX)).is_err());
        let big = ColumnType::from_mysql("bigint", "bigint(20)", None, None);
        let err = big
            .check(2, "v", Value::Timestamp(chrono::Utc::now()))
            .unwrap_err();
        assert_eq!(err.parameter, 2);
        assert!(err.target.contains("column 'v'"), "{err}");
        let unsigned = ColumnType::from_mysql("bigint", "bigint(20) unsigned", None, None);
        assert_eq!(
            unsigned.check(1, "v", Value::from(u64::MAX)),
            Ok(Value::Decimal(Decimal::from(u64::MAX)))
        );
    }
}
