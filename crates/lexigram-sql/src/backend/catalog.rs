//! Schema introspection: the catalog queries that list a database's tables, a table's
//! columns and its indexes, with one result shape on every backend.

use super::sealed::Sealed;
use super::{MySql, Postgres, Sqlite};
use crate::config::BackendKind;
use crate::value::ColumnType;

/// The catalog side of a [`super::Dialect`]. Each query reads the current schema
/// (PostgreSQL) or database (MySQL/MariaDB), or the main database (SQLite).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> lexigram_sql::Result<()> {
/// use lexigram_sql::backend::Catalog;
/// let db = lexigram_sql::Database::connect_url("sqlite://").await?;
/// db.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body VARCHAR(40) NOT NULL)", &[]).await?;
/// let tables = db.fetch_all(db.dialect().tables_sql(), &[]).await?;
/// assert_eq!(tables[0].get_at::<String>(0)?, "notes");
/// let columns = db.fetch_all(db.dialect().columns_sql(), &[lexigram_sql::Value::Null, "notes".into()]).await?;
/// assert_eq!(columns[1].get_at::<String>(0)?, "body");
/// assert_eq!(columns[1].get_at::<String>(2)?, "VARCHAR(40)");
/// assert_eq!(columns[1].get_at::<String>(3)?, "NO");
/// # Ok(()) }
/// ```
pub trait Catalog: Sealed {
    /// The base tables, by name; one column: the table name. No parameters.
    fn tables_sql(&self) -> &'static str;

    /// The columns of a table, in declaration order. Parameters: 1 the schema (PostgreSQL),
    /// database (MySQL/MariaDB) or attached database (SQLite), NULL for the current one; 2 the
    /// table name (see [`crate::ident::split_table`]). Columns:
    /// 0 name, 1 type as the catalog names it (`character varying`, `varchar`), 2 type as
    /// declared (`varchar(40)`; PostgreSQL: as column 1), 3 nullable (`YES`/`NO`; a primary
    /// key is `NO`), 4 default expression or NULL, 5 numeric precision or NULL, 6 numeric
    /// scale or NULL.
    fn columns_sql(&self) -> &'static str;

    /// The index names (those behind keys and unique constraints included) of the table
    /// named by parameter 1; one column: the index name.
    fn indexes_sql(&self) -> &'static str;

    /// Whether the driver sends parameters with their types and the server checks them
    /// (PostgreSQL), so that writes need not read declared column types first.
    fn checks_parameter_types(&self) -> bool {
        false
    }
}

impl Catalog for Sqlite {
    fn tables_sql(&self) -> &'static str {
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
    }

    fn columns_sql(&self) -> &'static str {
        "SELECT name, type, type, CASE WHEN \"notnull\" = 1 OR pk > 0 THEN 'NO' ELSE 'YES' END, \
         dflt_value, NULL, NULL FROM pragma_table_info(?2, ?1) ORDER BY cid"
    }

    fn indexes_sql(&self) -> &'static str {
        "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ? ORDER BY name"
    }
}

impl Catalog for Postgres {
    fn tables_sql(&self) -> &'static str {
        "SELECT CAST(table_name AS TEXT) FROM information_schema.tables \
         WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name"
    }

    fn columns_sql(&self) -> &'static str {
        "SELECT CAST(column_name AS TEXT), CAST(data_type AS TEXT), CAST(data_type AS TEXT), \
         CAST(is_nullable AS TEXT), CAST(column_default AS TEXT), \
         CAST(numeric_precision AS BIGINT), CAST(numeric_scale AS BIGINT) \
         FROM information_schema.columns \
         WHERE table_schema = COALESCE($1, current_schema()) AND table_name = $2 \
         ORDER BY ordinal_position"
    }

    fn indexes_sql(&self) -> &'static str {
        "SELECT CAST(indexname AS TEXT) FROM pg_indexes \
         WHERE schemaname = current_schema() AND tablename = $1 ORDER BY indexname"
    }

    fn checks_parameter_types(&self) -> bool {
        true
    }
}

impl Catalog for MySql {
    fn tables_sql(&self) -> &'static str {
        "SELECT CAST(table_name AS CHAR(255)) FROM information_schema.tables \
         WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE' ORDER BY table_name"
    }

    fn columns_sql(&self) -> &'static str {
        "SELECT CAST(column_name AS CHAR(255)), CAST(data_type AS CHAR(255)), \
         CAST(column_type AS CHAR(255)), CAST(is_nullable AS CHAR(3)), \
         CAST(column_default AS CHAR(255)), numeric_precision, numeric_scale \
         FROM information_schema.columns \
         WHERE table_schema = COALESCE(?, DATABASE()) AND table_name = ? ORDER BY ordinal_position"
    }

    fn indexes_sql(&self) -> &'static str {
        "SELECT DISTINCT CAST(index_name AS CHAR(255)) FROM information_schema.statistics \
         WHERE table_schema = DATABASE() AND table_name = ? ORDER BY 1"
    }
}

/// The value checks for a column, from a [`Catalog::columns_sql`] row's types: MySQL's
/// catalog gives precision, scale and signedness; SQLite has only the declared type.
pub(crate) fn column_type(
    kind: BackendKind,
    data_type: &str,
    declared: &str,
    precision: Option<u32>,
    scale: Option<u32>,
) -> ColumnType {
    match kind {
        BackendKind::MySql => ColumnType::from_mysql(data_type, declared, precision, scale),
        _ => ColumnType::from_sqlite(declared),
    }
}
