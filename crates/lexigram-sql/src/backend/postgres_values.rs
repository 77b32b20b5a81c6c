//! PostgreSQL's side of the value model: [`Param`] encodes a [`Value`] as the type the server
//! declared for the parameter, and [`Cell`] decodes a column into a [`Value`].
//!
//! **Encoding is checked against the declared type.** Each (value, parameter type) pair is
//! either converted exactly — an integer into `numeric`, text into `numeric` by parsing it, an
//! integer into `int2` after a range check, a whole float into `int8` — or refused with an
//! [`EncodeError`] naming the parameter, the value's kind and the server type. The encoder never
//! writes one type's bytes for another type, which the server would read as a different value.

use std::error::Error as StdError;
use std::net::IpAddr;

use bytes::{BufMut, BytesMut};
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use rust_decimal::Decimal;
use tokio_postgres::types::{FromSql, IsNull, Kind, ToSql, Type, to_sql_checked};

use crate::value::{
    EncodeError, FromValue, Inexact, Interval, Value, decimal_from_text, exact_decimal,
    exact_float, exact_integer, f32_to_f64, f64_to_f32,
};

pub(super) type BoxError = Box<dyn StdError + Sync + Send>;

/// Binds a [`Value`] (1-based position, value) to the type the server declared for it.
#[derive(Debug)]
pub(super) struct Param<'a>(pub(super) usize, pub(super) &'a Value);

impl ToSql for Param<'_> {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        let start = out.len();
        encode(self.1, ty, out).map_err(|detail| {
            out.truncate(start);
            Box::new(EncodeError::new(self.0, self.1, ty.name(), detail)) as BoxError
        })
    }

    fn accepts(_ty: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

/// Why a value was refused: said once, in words for people.
type Refusal = String;

fn refuse(v: &Value, ty: &Type) -> Refusal {
    format!(
        "there is no exact conversion from {} to {ty}; cast the parameter in SQL (e.g. `$1::text`) or bind the column's type",
        v.type_name()
    )
}

/// Runs a driver encoder, keeping its message if it fails.
fn put<T: ToSql>(v: T, ty: &Type, out: &mut BytesMut) -> Result<IsNull, Refusal> {
    v.to_sql(ty, out).map_err(|e| e.to_string())
}

fn is_text(t: &Type) -> bool {
    matches!(
        *t,
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN
    ) || <&str as ToSql>::accepts(t)
}

/// Whether [`encode`] knows `ty`: binary `COPY` is used only when it knows every column's.
pub(super) fn encodes(ty: &Type) -> bool {
    match ty.kind() {
        Kind::Array(member) => return encodes(member),
        Kind::Domain(base) => return encodes(base),
        Kind::Enum(_) => return true,
        _ => {}
    }
    is_text(ty)
        || matches!(
            *ty,
            Type::BOOL
                | Type::INT2
                | Type::INT4
                | Type::INT8
                | Type::OID
                | Type::FLOAT4
                | Type::FLOAT8
                | Type::NUMERIC
                | Type::BYTEA
                | Type::JSON
                | Type::JSONB
                | Type::UUID
                | Type::TIMESTAMPTZ
                | Type::TIMESTAMP
                | Type::DATE
                | Type::TIME
                | Type::INTERVAL
                | Type::INET
                | Type::CIDR
        )
}

/// Encodes `v` as `ty`, exactly, or says why not.
fn encode(v: &Value, ty: &Type, out: &mut BytesMut) -> Result<IsNull, Refusal> {
    if v.is_null() {
        return Ok(IsNull::Yes);
    }
    match ty.kind() {
        Kind::Array(member) => return encode_array(v, ty, member, out),
        Kind::Domain(base) => return encode(v, base, out),
        // An enum's binary form is its label.
        Kind::Enum(_) => return encode_text(v, ty, out),
        _ => {}
    }
    if is_text(ty) {
        return encode_text(v, ty, out);
    }
    match *ty {
        Type::BOOL => match v {
            Value::Bool(b) => put(*b, ty, out),
            Value::Int(i @ (0 | 1)) => put(*i == 1, ty, out),
            Value::Text(s) if matches!(s.as_str(), "true" | "false") => put(s == "true", ty, out),
            _ => Err(refuse(v, ty)),
        },
        Type::INT2 | Type::INT4 | Type::INT8 | Type::OID => {
            let i = integer(v, ty)?;
            let range = || format!("out of range for {ty}");
            match *ty {
                Type::INT2 => put(i16::try_from(i).map_err(|_| range())?, ty, out),
                Type::INT4 => put(i32::try_from(i).map_err(|_| range())?, ty, out),
                Type::OID => put(u32::try_from(i).map_err(|_| range())?, ty, out),
                _ => put(i64::try_from(i).map_err(|_| range())?, ty, out),
            }
        }
        Type::FLOAT4 | Type::FLOAT8 => {
            let f = float(v, ty)?;
            if *ty == Type::FLOAT4 {
                let narrow = f64_to_f32(f).ok_or_else(|| {
                    "a float4 cannot hold this float exactly; use a float8 (double precision) column".to_string()
                })?;
                put(narrow, ty, out)
            } else {
                put(f, ty, out)
            }
        }
        Type::NUMERIC => put(decimal(v, ty)?, ty, out),
        Type::BYTEA => match v {
            Value::Bytes(b) => put(b.as_slice(), ty, out),
            Value::Text(s) => put(s.as_bytes(), ty, out),
            Value::Uuid(u) => put(u.as_bytes().as_slice(), ty, out),
            _ => Err(refuse(v, ty)),
        },
        Type::JSON | Type::JSONB => match v {
            Value::Json(j) => put(j, ty, out),
            Value::Text(s) => {
                let j: serde_json::Value =
                    serde_json::from_str(s).map_err(|e| format!("the text is not JSON: {e}"))?;
                put(j, ty, out)
            }
            Value::Int(i) => put(serde_json::Value::from(*i), ty, out),
            Value::Bool(b) => put(serde_json::Value::from(*b), ty, out),
            Value::Float(f) if f.is_finite() => put(serde_json::Value::from(*f), ty, out),
            _ => Err(refuse(v, ty)),
        },
        Type::UUID => put(parse::<uuid::Uuid>(v, ty)?, ty, out),
        Type::TIMESTAMPTZ => match v {
            Value::Date(_) | Value::DateTime(_) | Value::Timestamp(_) | Value::Text(_) => {
                put(parse::<DateTime<Utc>>(v, ty)?, ty, out)
            }
            _ => Err(refuse(v, ty)),
        },
        Type::TIMESTAMP => match v {
            Value::Date(d) => put(d.and_time(NaiveTime::MIN), ty, out),
            _ => put(parse::<NaiveDateTime>(v, ty)?, ty, out),
        },
        Type::DATE => match v {
            Value::Timestamp(_) | Value::DateTime(_) => {
                let t = NaiveDateTime::from_value(v).map_err(|_| refuse(v, ty))?;
                if t.time() != NaiveTime::MIN {
                    return Err("the value has a time of day, which a date would drop".into());
                }
                put(t.date(), ty, out)
            }
            _ => put(parse::<NaiveDate>(v, ty)?, ty, out),
        },
        Type::TIME => put(parse::<NaiveTime>(v, ty)?, ty, out),
        Type::INTERVAL => {
            let i = parse::<Interval>(v, ty)?;
            out.put_i64(i.microseconds);
            out.put_i32(i.days);
            out.put_i32(i.months);
            Ok(IsNull::No)
        }
        Type::INET | Type::CIDR => match v {
            Value::Text(s) => encode_inet(s, *ty == Type::CIDR, out),
            _ => Err(refuse(v, ty)),
        },
        _ => Err(refuse(v, ty)),
    }
}

/// Reads `v` as `T` with the crate's own conversions, refusing anything they refuse.
fn parse<T: FromValue>(v: &Value, ty: &Type) -> Result<T, Refusal> {
    match v {
        Value::Text(_) => T::from_value(v).map_err(|e| format!("the text is not a {ty}: {e}")),
        _ => T::from_value(v).map_err(|_| refuse(v, ty)),
    }
}

/// `why` a value has no exact form, or the general refusal when its kind has none.
fn reason(v: &Value, ty: &Type, why: Inexact) -> Refusal {
    why.unwrap_or_else(|| refuse(v, ty))
}

fn integer(v: &Value, ty: &Type) -> Result<i128, Refusal> {
    exact_integer(v).map_err(|why| reason(v, ty, why))
}

fn float(v: &Value, ty: &Type) -> Result<f64, Refusal> {
    exact_float(v).map_err(|why| reason(v, ty, why))
}

fn decimal(v: &Value, ty: &Type) -> Result<Decimal, Refusal> {
    exact_decimal(v).map_err(|why| reason(v, ty, why))
}

/// Text-like targets (text, varchar, char, name, enums, citext, …) take any value's text form.
fn encode_text(v: &Value, ty: &Type, out: &mut BytesMut) -> Result<IsNull, Refusal> {
    match v {
        Value::Text(s) => out.put_slice(s.as_bytes()),
        Value::Bytes(b) => {
            let s =
                std::str::from_utf8(b).map_err(|_| "the bytes are not UTF-8 text".to_string())?;
            out.put_slice(s.as_bytes());
        }
        Value::Bool(b) => out.put_slice(if *b { b"true" } else { b"false" }),
        Value::Int(i) => out.put_slice(i.to_string().as_bytes()),
        Value::Float(f) => out.put_slice(f.to_string().as_bytes()),
        Value::Array(_) | Value::Null => return Err(refuse(v, ty)),
        other => match other.as_storage_text() {
            Some(s) => out.put_slice(s.as_bytes()),
            None => return Err(refuse(v, ty)),
        },
    }
    Ok(IsNull::No)
}

/// A one-dimensional array; each element is encoded (and checked) as the member type.
fn encode_array(
    v: &Value,
    ty: &Type,
    member: &Type,
    out: &mut BytesMut,
) -> Result<IsNull, Refusal> {
    let Value::Array(items) = v else {
        return Err(refuse(v, ty));
    };
    let len = i32::try_from(items.len()).map_err(|_| "too many elements".to_string())?;
    out.put_i32(i32::from(!items.is_empty())); // dimensions
    out.put_i32(i32::from(items.iter().any(Value::is_null)));
    out.put_u32(member.oid());
    if !items.is_empty() {
        out.put_i32(len);
        out.put_i32(1); // lower bound
    }
    for (i, item) in items.iter().enumerate() {
        let at = out.len();
        out.put_i32(0);
        match encode(item, member, out).map_err(|e| format!("element {}: {e}", i + 1))? {
            IsNull::Yes => out[at..at + 4].copy_from_slice(&(-1i32).to_be_bytes()),
            IsNull::No => {
                let size = i32::try_from(out.len() - at - 4)
                    .map_err(|_| "an element is too large".to_string())?;
                out[at..at + 4].copy_from_slice(&size.to_be_bytes());
            }
        }
    }
    Ok(IsNull::No)
}

/// `inet`/`cidr` from `addr` or `addr/bits`.
fn encode_inet(s: &str, cidr: bool, out: &mut BytesMut) -> Result<IsNull, Refusal> {
    let (addr, bits) = s.split_once('/').map_or((s, None), |(a, b)| (a, Some(b)));
    let ip: IpAddr = addr
        .trim()
        .parse()
        .map_err(|e| format!("the text is not an IP address: {e}"))?;
    let full: u8 = if ip.is_ipv4() { 32 } else { 128 };
    let bits = match bits {
        Some(b) => b
            .trim()
            .parse::<u8>()
            .ok()
            .filter(|b| *b <= full)
            .ok_or_else(|| format!("invalid prefix length /{b}"))?,
        None => full,
    };
    let (family, octets): (u8, Vec<u8>) = match ip {
        IpAddr::V4(a) => (2, a.octets().to_vec()),
        IpAddr::V6(a) => (3, a.octets().to_vec()),
    };
    out.put_u8(family);
    out.put_u8(bits);
    out.put_u8(u8::from(cidr));
    out.put_u8(u8::try_from(octets.len()).unwrap_or(16));
    out.put_slice(&octets);
    Ok(IsNull::No)
}

/// OIDs of the built-in types read into [`Value`]s (see `pg_type`); a test checks each
/// against tokio-postgres' `Type` constants.
pub(super) mod oid {
    pub(crate) const BOOL: u32 = 16;
    pub(crate) const BYTEA: u32 = 17;
    pub(crate) const INT8: u32 = 20;
    pub(crate) const INT2: u32 = 21;
    pub(crate) const INT4: u32 = 23;
    pub(crate) const OID: u32 = 26;
    pub(crate) const JSON: u32 = 114;
    pub(crate) const CIDR: u32 = 650;
    pub(crate) const FLOAT4: u32 = 700;
    pub(crate) const FLOAT8: u32 = 701;
    pub(crate) const INET: u32 = 869;
    pub(crate) const DATE: u32 = 1082;
    pub(crate) const TIME: u32 = 1083;
    pub(crate) const TIMESTAMP: u32 = 1114;
    pub(crate) const TIMESTAMPTZ: u32 = 1184;
    pub(crate) const INTERVAL: u32 = 1186;
    pub(crate) const NUMERIC: u32 = 1700;
    pub(crate) const UUID: u32 = 2950;
    pub(crate) const JSONB: u32 = 3802;
}

/// Reads any supported column type into a [`Value`].
pub(super) struct Cell(pub(super) Value);

impl<'a> FromSql<'a> for Cell {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        // One jump on the type's OID (PostgreSQL's fixed catalog numbers, `pg_type.oid`)
        // instead of comparing `Type`s one by one: this runs for every cell read.
        let v = match ty.oid() {
            oid::BOOL => Value::Bool(bool::from_sql(ty, raw)?),
            oid::INT2 => Value::Int(i64::from(i16::from_sql(ty, raw)?)),
            oid::INT4 => Value::Int(i64::from(i32::from_sql(ty, raw)?)),
            oid::INT8 => Value::Int(i64::from_sql(ty, raw)?),
            oid::OID => Value::Int(i64::from(u32::from_sql(ty, raw)?)),
            oid::FLOAT4 => Value::Float(f32_to_f64(f32::from_sql(ty, raw)?)),
            oid::FLOAT8 => Value::Float(f64::from_sql(ty, raw)?),
            oid::BYTEA => Value::Bytes(Vec::<u8>::from_sql(ty, raw)?),
            oid::JSON | oid::JSONB => Value::Json(serde_json::Value::from_sql(ty, raw)?),
            oid::UUID => Value::Uuid(uuid::Uuid::from_sql(ty, raw)?),
            oid::TIMESTAMPTZ => Value::Timestamp(DateTime::<Utc>::from_sql(ty, raw)?),
            oid::TIMESTAMP => Value::DateTime(NaiveDateTime::from_sql(ty, raw)?),
            oid::DATE => Value::Date(NaiveDate::from_sql(ty, raw)?),
            oid::TIME => Value::Time(NaiveTime::from_sql(ty, raw)?),
            oid::INTERVAL => Value::Interval(interval(raw)?),
            oid::NUMERIC => numeric(ty, raw)?,
            oid::INET | oid::CIDR => Value::Text(inet(raw, ty.oid() == oid::CIDR)?),
            _ => match ty.kind() {
                Kind::Array(member) => Value::Array(array(member, raw)?),
                Kind::Domain(base) => Cell::from_sql(base, raw)?.0,
                Kind::Enum(_) => Value::Text(std::str::from_utf8(raw)?.to_string()),
                _ if is_text(ty) || <&str as FromSql>::accepts(ty) => {
                    Value::Text(<&str>::from_sql(ty, raw)?.to_string())
                }
                _ => {
                    return Err(format!(
                        "column type {ty} is not supported; cast it in SQL (e.g. `::text` or `::float8`)"
                    )
                    .into());
                }
            },
        };
        Ok(Cell(v))
    }

    fn from_sql_null(_ty: &Type) -> Result<Self, BoxError> {
        Ok(Cell(Value::Null))
    }

    fn accepts(_ty: &Type) -> bool {
        true
    }
}

fn take<const N: usize>(raw: &mut &[u8]) -> Result<[u8; N], BoxError> {
    let (head, rest) = raw.split_at_checked(N).ok_or("truncated value")?;
    *raw = rest;
    let mut out = [0; N];
    out.copy_from_slice(head);
    Ok(out)
}

fn interval(mut raw: &[u8]) -> Result<Interval, BoxError> {
    let microseconds = i64::from_be_bytes(take(&mut raw)?);
    let days = i32::from_be_bytes(take(&mut raw)?);
    let months = i32::from_be_bytes(take(&mut raw)?);
    Ok(Interval::new(months, days, microseconds))
}

/// `inet` as PostgreSQL prints it (`/n` only when not a single host), `cidr` always with `/n`.
fn inet(mut raw: &[u8], cidr: bool) -> Result<String, BoxError> {
    let [family, bits, _is_cidr, len] = take::<4>(&mut raw)?;
    let ip = match (family, len) {
        (2, 4) => IpAddr::from(take::<4>(&mut raw)?),
        (3, 16) => IpAddr::from(take::<16>(&mut raw)?),
        _ => return Err("invalid inet value".into()),
    };
    let full = if ip.is_ipv4() { 32 } else { 128 };
    Ok(if cidr || bits != full {
        format!("{ip}/{bits}")
    } else {
        ip.to_string()
    })
}

/// A one-dimensional array (PostgreSQL's binary array format), elements decoded as `member`.
fn array(member: &Type, mut raw: &[u8]) -> Result<Vec<Value>, BoxError> {
    let dimensions = i32::from_be_bytes(take(&mut raw)?);
    let _has_nulls = take::<4>(&mut raw)?;
    let _element_oid = take::<4>(&mut raw)?;
    if dimensions == 0 {
        return Ok(Vec::new());
    }
    if dimensions != 1 {
        return Err(format!(
            "{dimensions}-dimensional arrays are not supported; read them with `array_to_json(..)`"
        )
        .into());
    }
    let len = usize::try_from(i32::from_be_bytes(take(&mut raw)?))?;
    let _lower_bound = take::<4>(&mut raw)?;
    let mut items = Vec::with_capacity(len);
    for _ in 0..len {
        let size = i32::from_be_bytes(take(&mut raw)?);
        if size < 0 {
            items.push(Value::Null);
            continue;
        }
        let (element, rest) = raw
            .split_at_checked(usize::try_from(size)?)
            .ok_or("truncated array element")?;
        raw = rest;
        items.push(Cell::from_sql(member, element)?.0);
    }
    Ok(items)
}

/// Decodes PostgreSQL's binary NUMERIC into a [`Value::Decimal`] at the column's scale, or into
/// its exact text when `Decimal` cannot hold it (NaN, infinities, more than 28 digits).
fn numeric(ty: &Type, raw: &[u8]) -> Result<Value, BoxError> {
    let dscale = raw
        .get(6..8)
        .map_or(0, |b| i16::from_be_bytes([b[0], b[1]]));
    // rust_decimal's decoder rounds scales above 28; everything else it reads exactly.
    if (0..=28).contains(&dscale)
        && let Ok(d) = Decimal::from_sql(ty, raw)
    {
        return Ok(Value::Decimal(d));
    }
    let text = numeric_text(raw)?;
    Ok(decimal_from_text(&text).map_or(Value::Text(text), Value::Decimal))
}

/// PostgreSQL's binary NUMERIC as exact decimal text.
fn numeric_text(raw: &[u8]) -> Result<String, BoxError> {
    let word = |i: usize| -> Result<i16, BoxError> {
        let b = raw.get(i * 2..i * 2 + 2).ok_or("truncated NUMERIC")?;
        Ok(i16::from_be_bytes([b[0], b[1]]))
    };
    let (ndigits, weight, sign, dscale) = (word(0)?, word(1)?, word(2)? as u16, word(3)?);
    match sign {
        0xC000 => return Ok("NaN".into()),
        0xD000 => return Ok("Infinity".into()),
        0xF000 => return Ok("-Infinity".into()),
        _ => {}
    }
    let mut int_part = String::new();
    let mut frac_part = String::new();
    for i in 0..ndigits.max(0) as usize {
        let d = word(4 + i)?;
        let pos = weight as i32 - i as i32;
        if pos >= 0 {
            if int_part.is_empty() {
                int_part = d.to_string();
            } else {
                int_part.push_str(&format!("{d:04}"));
            }
        } else {
            frac_part.push_str(&format!("{d:04}"));
        }
    }
    // Trailing base-10000 groups that were zero are not sent: restore them.
    let last_pos = weight as i32 - ndigits as i32 + 1;
    if !int_part.is_empty() && last_pos > 0 {
        for _ in 0..last_pos {
            int_part.push_str("0000");
        }
    }
    if weight < -1 && ndigits > 0 {
        frac_part = "0000".repeat((-weight - 1) as usize) + &frac_part;
    }
    if int_part.is_empty() {
        int_part.push('0');
    }
    let scale = dscale.max(0) as usize;
    frac_part.truncate(scale);
    while frac_part.len() < scale {
        frac_part.push('0');
    }
    let negative = sign == 0x4000;
    Ok(format!(
        "{}{int_part}{}{frac_part}",
        if negative { "-" } else { "" },
        if scale > 0 { "." } else { "" }
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oids_match_the_driver_types() {
        let pairs = [
            (oid::BOOL, Type::BOOL),
            (oid::BYTEA, Type::BYTEA),
            (oid::INT8, Type::INT8),
            (oid::INT2, Type::INT2),
            (oid::INT4, Type::INT4),
            (oid::OID, Type::OID),
            (oid::JSON, Type::JSON),
            (oid::CIDR, Type::CIDR),
            (oid::FLOAT4, Type::FLOAT4),
            (oid::FLOAT8, Type::FLOAT8),
            (oid::INET, Type::INET),
            (oid::DATE, Type::DATE),
            (oid::TIME, Type::TIME),
            (oid::TIMESTAMP, Type::TIMESTAMP),
            (oid::TIMESTAMPTZ, Type::TIMESTAMPTZ),
            (oid::INTERVAL, Type::INTERVAL),
            (oid::NUMERIC, Type::NUMERIC),
            (oid::UUID, Type::UUID),
            (oid::JSONB, Type::JSONB),
        ];
        for (oid, ty) in pairs {
            assert_eq!(oid, ty.oid(), "{ty}");
        }
    }

    fn encoded(v: &Value, ty: &Type) -> Result<Vec<u8>, String> {
        let mut out = BytesMut::new();
        encode(v, ty, &mut out).map(|_| out.to_vec())
    }

    #[test]
    fn integers_become_numeric_values_not_int8_bytes() {
        let twelve = encoded(&Value::Int(12), &Type::NUMERIC).unwrap();
        let mut expected = BytesMut::new();
        Decimal::from(12)
            .to_sql(&Type::NUMERIC, &mut expected)
            .unwrap();
        assert_eq!(twelve, expected.to_vec());
        assert_ne!(twelve, 12i64.to_be_bytes().to_vec());
    }

    #[test]
    fn narrowing_and_fractions_are_refused() {
        assert!(encoded(&Value::Int(40_000), &Type::INT2).is_err());
        assert!(encoded(&Value::Float(1.5), &Type::INT8).is_err());
        assert!(encoded(&Value::from(u64::MAX), &Type::INT8).is_err());
        assert!(encoded(&Value::Int((1 << 53) + 1), &Type::FLOAT8).is_err());
        assert!(encoded(&Value::Text("12.x".into()), &Type::NUMERIC).is_err());
        assert!(encoded(&Value::Bool(true), &Type::UUID).is_err());
        assert_eq!(
            encoded(&Value::Float(3.0), &Type::INT4).unwrap(),
            3i32.to_be_bytes()
        );
    }

    #[test]
    fn arrays_and_intervals_round_trip_through_the_codec() {
        let v = Value::Array(vec![Value::Int(1), Value::Null, Value::Int(-3)]);
        let raw = encoded(&v, &Type::INT8_ARRAY).unwrap();
        assert_eq!(Cell::from_sql(&Type::INT8_ARRAY, &raw).unwrap().0, v);
        let i = Value::Interval(Interval::new(14, -3, 4_000_005));
        let raw = encoded(&i, &Type::INTERVAL).unwrap();
        assert_eq!(Cell::from_sql(&Type::INTERVAL, &raw).unwrap().0, i);
        let net = Value::Text("10.1.0.0/16".into());
        let raw = encoded(&net, &Type::CIDR).unwrap();
        assert_eq!(Cell::from_sql(&Type::CIDR, &raw).unwrap().0, net);
    }
}
