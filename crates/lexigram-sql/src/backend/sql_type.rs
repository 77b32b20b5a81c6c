//! Portable column types, as a manifest or a bookkeeping table declares them, and the broad
//! families a database catalog's spellings fall into. How each backend spells a type is
//! [`super::Dialect::column_type`].

/// A portable column type (the entities manifest's, and the bookkeeping tables').
///
/// ```
/// use lexigram_sql::backend::{Ddl, MySql, Postgres, SqlType};
/// let ty = SqlType::parse("decimal(10, 2)").unwrap();
/// assert_eq!(Postgres.column_type(ty), "NUMERIC(10,2)");
/// assert_eq!(MySql.column_type(SqlType::Timestamp), "DATETIME(6)");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SqlType {
    /// 64-bit integer.
    BigInt,
    /// 32-bit integer.
    Integer,
    /// 16-bit integer.
    SmallInt,
    /// Boolean.
    Boolean,
    /// Double-precision float.
    Double,
    /// Exact decimal with precision and scale.
    Decimal(u32, u32),
    /// Text up to N characters (`string` alone: 255).
    String(u32),
    /// Text of any length.
    Text,
    /// Binary data.
    Bytes,
    /// A point in time with time zone (UTC).
    Timestamp,
    /// A date and time without time zone.
    DateTime,
    /// A calendar date.
    Date,
    /// A UUID.
    Uuid,
    /// A JSON document.
    Json,
}

const TYPES: &str = "bigint, integer, smallint, boolean, double, decimal(P,S), string, string(N), text, bytes, timestamp, datetime, date, uuid, json";

fn numbers(args: &str) -> Option<Vec<u32>> {
    args.split(',').map(|n| n.trim().parse().ok()).collect()
}

impl SqlType {
    /// Parses a type name (case-insensitive), with its arguments: `string(40)`,
    /// `decimal(10,2)`; the error says what is accepted.
    pub fn parse(text: &str) -> Result<SqlType, String> {
        let t = text.trim().to_ascii_lowercase();
        let (head, args) = match t.split_once('(') {
            Some((head, rest)) => (head.trim(), rest.strip_suffix(')').and_then(numbers)),
            None => (t.as_str(), Some(Vec::new())),
        };
        let unknown = || format!("unknown type `{text}`. Fix: use one of {TYPES}");
        let args = args.ok_or_else(unknown)?;
        Ok(match (head, args.as_slice()) {
            ("bigint", []) => SqlType::BigInt,
            ("integer" | "int", []) => SqlType::Integer,
            ("smallint", []) => SqlType::SmallInt,
            ("boolean" | "bool", []) => SqlType::Boolean,
            ("double" | "float", []) => SqlType::Double,
            ("decimal" | "numeric", [p, s]) if *p >= 1 && s <= p => SqlType::Decimal(*p, *s),
            ("string" | "varchar", []) => SqlType::String(255),
            ("string" | "varchar", [n]) if *n >= 1 => SqlType::String(*n),
            ("text", []) => SqlType::Text,
            ("bytes" | "blob", []) => SqlType::Bytes,
            ("timestamp", []) => SqlType::Timestamp,
            ("datetime", []) => SqlType::DateTime,
            ("date", []) => SqlType::Date,
            ("uuid", []) => SqlType::Uuid,
            ("json", []) => SqlType::Json,
            _ => return Err(unknown()),
        })
    }

    /// The broad kind of this type.
    pub fn family(self) -> TypeFamily {
        match self {
            SqlType::BigInt | SqlType::Integer | SqlType::SmallInt => TypeFamily::Integer,
            SqlType::Boolean => TypeFamily::Boolean,
            SqlType::Double => TypeFamily::Float,
            SqlType::Decimal(..) => TypeFamily::Decimal,
            SqlType::String(_) | SqlType::Text => TypeFamily::Text,
            SqlType::Bytes => TypeFamily::Bytes,
            SqlType::Timestamp | SqlType::DateTime => TypeFamily::Timestamp,
            SqlType::Date => TypeFamily::Date,
            SqlType::Uuid => TypeFamily::Uuid,
            SqlType::Json => TypeFamily::Json,
        }
    }
}

/// The broad kind of a column type, to tell a changed type from a backend's spelling of the
/// same one (`character varying` / `varchar` / `VARCHAR(40)`; `tinyint` for a MariaDB boolean).
///
/// ```
/// use lexigram_sql::backend::TypeFamily;
/// assert_eq!(TypeFamily::of("character varying"), Some(TypeFamily::Text));
/// assert!(TypeFamily::Boolean.fits(TypeFamily::Integer));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypeFamily {
    /// Integers.
    Integer,
    /// Booleans.
    Boolean,
    /// Floating point.
    Float,
    /// Exact decimals.
    Decimal,
    /// Text.
    Text,
    /// Binary.
    Bytes,
    /// Date and time.
    Timestamp,
    /// Calendar dates.
    Date,
    /// UUIDs.
    Uuid,
    /// JSON.
    Json,
}

impl TypeFamily {
    /// The family of a type as a database catalog or a DDL statement names it; `None` when
    /// unsure.
    pub fn of(type_name: &str) -> Option<TypeFamily> {
        let t = type_name.to_ascii_lowercase();
        let has = |s: &str| t.contains(s);
        Some(if has("interval") || has("point") || t.is_empty() {
            return None;
        } else if has("bool") {
            TypeFamily::Boolean
        } else if has("int") {
            TypeFamily::Integer
        } else if has("json") {
            TypeFamily::Json
        } else if has("uuid") {
            TypeFamily::Uuid
        } else if has("char") || has("text") || has("clob") {
            TypeFamily::Text
        } else if has("blob") || has("bytea") || has("binary") {
            TypeFamily::Bytes
        } else if has("double") || has("real") || has("float") {
            TypeFamily::Float
        } else if has("numeric") || has("decimal") {
            TypeFamily::Decimal
        } else if has("timestamp") || has("datetime") {
            TypeFamily::Timestamp
        } else if has("date") {
            TypeFamily::Date
        } else {
            return None;
        })
    }

    /// Whether a live column of family `live` can hold what `self` declares: the same family,
    /// or a backend's stand-in (booleans as `tinyint`, UUIDs as `char(36)`, JSON as
    /// `longtext` on MariaDB).
    pub fn fits(self, live: TypeFamily) -> bool {
        use TypeFamily::*;
        self == live
            || matches!(
                (self, live),
                (Boolean, Integer) | (Uuid, Text) | (Json, Text)
            )
    }

    /// The family's name in messages.
    pub fn name(self) -> &'static str {
        match self {
            TypeFamily::Integer => "integer",
            TypeFamily::Boolean => "boolean",
            TypeFamily::Float => "float",
            TypeFamily::Decimal => "decimal",
            TypeFamily::Text => "text",
            TypeFamily::Bytes => "binary",
            TypeFamily::Timestamp => "timestamp",
            TypeFamily::Date => "date",
            TypeFamily::Uuid => "uuid",
            TypeFamily::Json => "json",
        }
    }
}
