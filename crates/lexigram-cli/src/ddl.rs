//! DDL for declared tables on each backend: portable column types and the statements
//! `lexigram db migrate --auto` writes (CREATE/DROP TABLE, ADD/DROP COLUMN, CREATE/DROP INDEX).

use lexigram_sql::config::BackendKind;

use crate::entities::{ColumnSpec, IndexSpec, TableSpec};

/// A portable column type of the entities manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
    /// Parses a manifest type name (case-insensitive).
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

    /// The type as the backend declares it.
    pub fn render(self, kind: BackendKind) -> String {
        use BackendKind::{MySql, Postgres, Sqlite};
        match (self, kind) {
            (SqlType::BigInt, _) => "BIGINT".into(),
            (SqlType::Integer, MySql) => "INT".into(),
            (SqlType::Integer, _) => "INTEGER".into(),
            (SqlType::SmallInt, _) => "SMALLINT".into(),
            (SqlType::Boolean, _) => "BOOLEAN".into(),
            (SqlType::Double, Postgres) => "DOUBLE PRECISION".into(),
            (SqlType::Double, _) => "DOUBLE".into(),
            (SqlType::Decimal(p, s), MySql) => format!("DECIMAL({p},{s})"),
            (SqlType::Decimal(p, s), _) => format!("NUMERIC({p},{s})"),
            (SqlType::String(n), _) => format!("VARCHAR({n})"),
            (SqlType::Text, _) => "TEXT".into(),
            (SqlType::Bytes, Postgres) => "BYTEA".into(),
            (SqlType::Bytes, MySql) => "LONGBLOB".into(),
            (SqlType::Bytes, Sqlite) => "BLOB".into(),
            (SqlType::Timestamp, Postgres) => "TIMESTAMPTZ".into(),
            (SqlType::Timestamp, MySql) => "DATETIME(6)".into(),
            (SqlType::Timestamp, Sqlite) => "TIMESTAMP".into(),
            (SqlType::DateTime, Postgres) => "TIMESTAMP".into(),
            (SqlType::DateTime, MySql) => "DATETIME(6)".into(),
            (SqlType::DateTime, Sqlite) => "DATETIME".into(),
            (SqlType::Date, _) => "DATE".into(),
            (SqlType::Uuid, Postgres) => "UUID".into(),
            (SqlType::Uuid, MySql) => "CHAR(36)".into(),
            (SqlType::Uuid, Sqlite) => "UUID".into(),
            (SqlType::Json, Postgres) => "JSONB".into(),
            (SqlType::Json, MySql) => "JSON".into(),
            (SqlType::Json, Sqlite) => "JSON".into(),
        }
    }
}

/// The broad kind of a column type, to tell a changed type from a backend's spelling of the
/// same one (`character varying` / `varchar` / `VARCHAR(40)`; `tinyint` for a MariaDB boolean).
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

/// A quoted identifier (manifest names are checked to be plain identifiers).
pub fn quote(kind: BackendKind, name: &str) -> String {
    match kind {
        BackendKind::MySql => format!("`{name}`"),
        _ => format!("\"{name}\""),
    }
}

fn column_type(kind: BackendKind, c: &ColumnSpec) -> String {
    SqlType::parse(&c.ty)
        .map(|t| t.render(kind))
        .unwrap_or_else(|_| c.ty.clone())
}

/// One column's definition inside CREATE TABLE or ADD COLUMN.
pub fn column_def(kind: BackendKind, c: &ColumnSpec) -> String {
    let name = quote(kind, &c.name);
    if c.is_generated() {
        return match kind {
            BackendKind::Sqlite => format!("{name} INTEGER PRIMARY KEY"),
            BackendKind::Postgres => format!(
                "{name} {} GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
                column_type(kind, c)
            ),
            BackendKind::MySql => {
                format!("{name} {} AUTO_INCREMENT PRIMARY KEY", column_type(kind, c))
            }
        };
    }
    let mut def = format!("{name} {}", column_type(kind, c));
    if c.is_key() {
        def.push_str(" PRIMARY KEY");
    } else if !c.nullable {
        def.push_str(" NOT NULL");
    }
    if let Some(default) = &c.default {
        def.push_str(" DEFAULT ");
        def.push_str(default);
    }
    def
}

/// `CREATE TABLE` for a declared table.
pub fn create_table(kind: BackendKind, t: &TableSpec) -> String {
    let columns: Vec<String> = t
        .columns
        .iter()
        .map(|c| format!("    {}", column_def(kind, c)))
        .collect();
    format!(
        "CREATE TABLE {} (\n{}\n);",
        quote(kind, &t.name),
        columns.join(",\n")
    )
}

/// `DROP TABLE`.
pub fn drop_table(kind: BackendKind, table: &str) -> String {
    format!("DROP TABLE {};", quote(kind, table))
}

/// `ALTER TABLE … ADD COLUMN`.
pub fn add_column(kind: BackendKind, table: &str, c: &ColumnSpec) -> String {
    format!(
        "ALTER TABLE {} ADD COLUMN {};",
        quote(kind, table),
        column_def(kind, c)
    )
}

/// `ALTER TABLE … DROP COLUMN`.
pub fn drop_column(kind: BackendKind, table: &str, column: &str) -> String {
    format!(
        "ALTER TABLE {} DROP COLUMN {};",
        quote(kind, table),
        quote(kind, column)
    )
}

/// `CREATE [UNIQUE] INDEX`.
pub fn create_index(kind: BackendKind, table: &str, ix: &IndexSpec) -> String {
    let columns: Vec<String> = ix.columns.iter().map(|c| quote(kind, c)).collect();
    format!(
        "CREATE {}INDEX {} ON {} ({});",
        if ix.unique { "UNIQUE " } else { "" },
        quote(kind, &ix.name_for(table)),
        quote(kind, table),
        columns.join(", ")
    )
}

/// `DROP INDEX` (MySQL names the table too).
pub fn drop_index(kind: BackendKind, table: &str, name: &str) -> String {
    match kind {
        BackendKind::MySql => format!(
            "DROP INDEX {} ON {};",
            quote(kind, name),
            quote(kind, table)
        ),
        _ => format!("DROP INDEX {};", quote(kind, name)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_declared_type_fits_its_own_rendering_on_every_backend_and_catalog_spellings() {
        use BackendKind::{MySql, Postgres, Sqlite};
        for ty in [
            "bigint",
            "integer",
            "smallint",
            "boolean",
            "double",
            "decimal(10,2)",
            "string(40)",
            "text",
            "bytes",
            "timestamp",
            "datetime",
            "date",
            "uuid",
            "json",
        ] {
            let declared = SqlType::parse(ty).map(SqlType::family).unwrap();
            for kind in [Sqlite, Postgres, MySql] {
                let rendered = SqlType::parse(ty)
                    .map(|t| t.render(kind))
                    .unwrap_or_default();
                let live = TypeFamily::of(&rendered).unwrap_or_else(|| panic!("{rendered}"));
                assert!(declared.fits(live), "{ty} as {rendered} on {kind:?}");
            }
        }
        for (catalog, family) in [
            ("character varying", TypeFamily::Text),
            ("timestamp with time zone", TypeFamily::Timestamp),
            ("double precision", TypeFamily::Float),
            ("tinyint", TypeFamily::Integer),
            ("longtext", TypeFamily::Text),
            ("jsonb", TypeFamily::Json),
        ] {
            assert_eq!(TypeFamily::of(catalog), Some(family), "{catalog}");
        }
        assert!(!TypeFamily::Integer.fits(TypeFamily::Text));
    }

    #[test]
    fn types_parse_case_insensitively_with_arguments() {
        assert_eq!(SqlType::parse("String(40)"), Ok(SqlType::String(40)));
        assert_eq!(
            SqlType::parse("decimal(12, 2)"),
            Ok(SqlType::Decimal(12, 2))
        );
        assert!(SqlType::parse("decimal(2,5)").is_err());
        assert!(SqlType::parse("string(x)").is_err());
    }

    #[test]
    fn a_generated_key_uses_each_backends_identity_form() {
        let c = ColumnSpec {
            name: "id".into(),
            ty: "bigint".into(),
            nullable: false,
            key: Some(crate::entities::KeySpec::Generated(
                crate::entities::Generated::Generated,
            )),
            default: None,
        };
        assert_eq!(
            column_def(BackendKind::Sqlite, &c),
            "\"id\" INTEGER PRIMARY KEY"
        );
        assert_eq!(
            column_def(BackendKind::MySql, &c),
            "`id` BIGINT AUTO_INCREMENT PRIMARY KEY"
        );
    }
}
