//! DDL for declared tables on each backend: portable column types and the statements
//! `lexigram db migrate --auto` writes (CREATE/DROP TABLE, ADD/DROP COLUMN, CREATE/DROP INDEX).

use lexigram_sql::backend::dialect_of;
pub use lexigram_sql::backend::{SqlType, TypeFamily};
use lexigram_sql::config::BackendKind;

use crate::entities::{ColumnSpec, IndexSpec, TableSpec};

/// A quoted identifier.
pub fn quote(kind: BackendKind, name: &str) -> String {
    dialect_of(kind).quote_ident(name)
}

fn column_type(kind: BackendKind, c: &ColumnSpec) -> String {
    SqlType::parse(&c.ty)
        .map(|t| dialect_of(kind).column_type(t))
        .unwrap_or_else(|_| c.ty.clone())
}

/// One column's definition inside CREATE TABLE or ADD COLUMN.
pub fn column_def(kind: BackendKind, c: &ColumnSpec) -> String {
    if c.is_generated() {
        let ty = SqlType::parse(&c.ty).unwrap_or(SqlType::BigInt);
        return dialect_of(kind).generated_key(&c.name, ty);
    }
    let name = quote(kind, &c.name);
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
        "{};",
        dialect_of(kind).add_column_sql(table, &column_def(kind, c), false)
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
    let columns: Vec<&str> = ix.columns.iter().map(String::as_str).collect();
    let sql =
        dialect_of(kind).create_index_sql(ix.unique, &ix.name_for(table), table, &columns, false);
    format!("{sql};")
}

/// `DROP INDEX` (MySQL names the table too).
pub fn drop_index(kind: BackendKind, table: &str, name: &str) -> String {
    format!("{};", dialect_of(kind).drop_index_sql(table, name))
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
                    .map(|t| dialect_of(kind).column_type(t))
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
            "\"id\" INTEGER PRIMARY KEY AUTOINCREMENT"
        );
        assert_eq!(
            column_def(BackendKind::MySql, &c),
            "`id` BIGINT AUTO_INCREMENT PRIMARY KEY"
        );
    }
}
