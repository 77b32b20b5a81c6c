//! Parameters sent in PostgreSQL's text format with no declared type, for unnamed statements
//! (`backend.statement_cache: false`, behind PgBouncer in transaction mode).
//!
//! Without a prepared statement the client does not learn the type the server gives each
//! parameter, so [`TextParam`] leaves the type open (`unknown`) and sends the value's text: the
//! server infers the parameter's type from the statement and parses the text with that type's
//! own input function. A value that does not fit (`12.5` or `40000` for an `int2`) is refused by
//! the server (SQLSTATE 22P02 / 22003) — never rounded or re-encoded on the way.

use std::fmt::Write as _;

use bytes::{BufMut, BytesMut};
use tokio_postgres::types::{Format, IsNull, ToSql, Type, to_sql_checked};

use super::postgres_values::BoxError;
use crate::value::Value;

/// One parameter of an unnamed statement, sent as text of open type.
#[derive(Debug)]
pub(super) struct TextParam<'a>(pub(super) &'a Value);

impl ToSql for TextParam<'_> {
    fn to_sql(&self, _ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        if self.0.is_null() {
            return Ok(IsNull::Yes);
        }
        let mut text = String::new();
        write_text(self.0, &mut text);
        out.put_slice(text.as_bytes());
        Ok(IsNull::No)
    }

    fn accepts(_ty: &Type) -> bool {
        true
    }

    fn encode_format(&self, _ty: &Type) -> Format {
        Format::Text
    }

    to_sql_checked!();
}

/// The parameters of an unnamed statement, each of open type (`unknown`), in text format.
pub(super) fn text_params(params: &[Value]) -> Vec<(TextParam<'_>, Type)> {
    params
        .iter()
        .map(|v| (TextParam(v), Type::UNKNOWN))
        .collect()
}

/// Writes `v` (not null) in the text form PostgreSQL's input functions read.
fn write_text(v: &Value, out: &mut String) {
    // Writing to a String cannot fail.
    let _ = match v {
        Value::Null => Ok(()),
        Value::Bool(b) => out.write_str(if *b { "true" } else { "false" }),
        Value::Int(i) => write!(out, "{i}"),
        Value::Float(f) if f.is_nan() => out.write_str("NaN"),
        Value::Float(f) if f.is_infinite() => {
            out.write_str(if *f > 0.0 { "Infinity" } else { "-Infinity" })
        }
        // Rust prints the shortest text that reads back as the same double.
        Value::Float(f) => write!(out, "{f}"),
        Value::Text(s) => out.write_str(s),
        Value::Bytes(b) => {
            out.push_str("\\x");
            for byte in b {
                let _ = write!(out, "{byte:02x}");
            }
            Ok(())
        }
        Value::Json(j) => write!(out, "{j}"),
        Value::Uuid(u) => write!(out, "{u}"),
        Value::Timestamp(t) => write!(out, "{}", t.format("%Y-%m-%d %H:%M:%S%.6f+00")),
        Value::DateTime(t) => write!(out, "{}", t.format("%Y-%m-%d %H:%M:%S%.6f")),
        Value::Date(d) => write!(out, "{}", d.format("%Y-%m-%d")),
        Value::Time(t) => write!(out, "{}", t.format("%H:%M:%S%.6f")),
        Value::Decimal(d) => write!(out, "{d}"),
        Value::Interval(i) => write!(
            out,
            "{} mons {} days {} microseconds",
            i.months, i.days, i.microseconds
        ),
        Value::Array(items) => {
            out.push('{');
            for (n, item) in items.iter().enumerate() {
                if n > 0 {
                    out.push(',');
                }
                if item.is_null() {
                    out.push_str("NULL");
                    continue;
                }
                let mut element = String::new();
                write_text(item, &mut element);
                out.push('"');
                for c in element.chars() {
                    if c == '"' || c == '\\' {
                        out.push('\\');
                    }
                    out.push(c);
                }
                out.push('"');
            }
            out.push('}');
            Ok(())
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(v: Value) -> String {
        let mut out = String::new();
        write_text(&v, &mut out);
        out
    }

    #[test]
    fn values_are_written_in_postgresql_input_syntax() {
        assert_eq!(text(Value::Int(-12)), "-12");
        assert_eq!(text(Value::Float(0.1)), "0.1");
        assert_eq!(text(Value::Float(f64::NEG_INFINITY)), "-Infinity");
        assert_eq!(text(Value::Bool(true)), "true");
        assert_eq!(text(Value::Bytes(vec![0, 255])), "\\x00ff");
        assert_eq!(
            text(Value::Array(vec![
                Value::Text("a\"b".into()),
                Value::Null,
                Value::Int(3)
            ])),
            "{\"a\\\"b\",NULL,\"3\"}"
        );
        assert_eq!(
            text(Value::Interval(crate::value::Interval {
                months: 1,
                days: -2,
                microseconds: 3
            })),
            "1 mons -2 days 3 microseconds"
        );
    }
}
