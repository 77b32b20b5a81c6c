//! The live schema, by name only: each table's columns and indexes, from the catalog.

use std::collections::BTreeMap;

use lexigram_sql::config::BackendKind;
use lexigram_sql::{Database, Error, Value};

/// One live table.
#[derive(Debug, Default, Clone)]
pub(crate) struct LiveTable {
    /// Column names, in order.
    pub columns: Vec<String>,
    /// The columns that do not accept NULL (primary keys included).
    pub not_null: Vec<String>,
    /// Each column's type as the catalog names it (lower-case), by column name.
    pub types: BTreeMap<String, String>,
    /// Index names (including those behind keys and unique constraints).
    pub indexes: Vec<String>,
}

/// Every table of the connected database (the current schema on PostgreSQL, the current
/// database on MySQL), lower-cased names.
pub(crate) async fn read(db: &Database) -> Result<BTreeMap<String, LiveTable>, Error> {
    let (tables_sql, columns_sql, indexes_sql) = match db.kind() {
        BackendKind::Sqlite => (
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
            "SELECT name, CASE WHEN \"notnull\" = 1 OR pk > 0 THEN 'NO' ELSE 'YES' END, type \
             FROM pragma_table_info(?) ORDER BY cid",
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?",
        ),
        BackendKind::Postgres => (
            "SELECT CAST(table_name AS TEXT) FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
            "SELECT CAST(column_name AS TEXT), CAST(is_nullable AS TEXT), CAST(data_type AS TEXT) \
             FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
            "SELECT CAST(indexname AS TEXT) FROM pg_indexes \
             WHERE schemaname = current_schema() AND tablename = $1",
        ),
        BackendKind::MySql => (
            "SELECT CAST(table_name AS CHAR(255)) FROM information_schema.tables \
             WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE'",
            "SELECT CAST(column_name AS CHAR(255)), CAST(is_nullable AS CHAR(3)), \
             CAST(data_type AS CHAR(255)) \
             FROM information_schema.columns \
             WHERE table_schema = DATABASE() AND table_name = ? ORDER BY ordinal_position",
            "SELECT DISTINCT CAST(index_name AS CHAR(255)) FROM information_schema.statistics \
             WHERE table_schema = DATABASE() AND table_name = ?",
        ),
    };
    let mut out = BTreeMap::new();
    for row in db.fetch_all(tables_sql, &[]).await? {
        let table: String = row.get_at(0)?;
        let param = [Value::Text(table.clone())];
        let names = |rows: Vec<lexigram_sql::Row>| -> Result<Vec<String>, Error> {
            rows.iter()
                .map(|r| r.get_at::<String>(0).map(|n| n.to_ascii_lowercase()))
                .collect()
        };
        let column_rows = db.fetch_all(columns_sql, &param).await?;
        let mut not_null = Vec::new();
        let mut types = BTreeMap::new();
        for r in &column_rows {
            let column = r.get_at::<String>(0)?.to_ascii_lowercase();
            if r.get_at::<String>(1)? == "NO" {
                not_null.push(column.clone());
            }
            let ty: Option<String> = r.get_at(2)?;
            types.insert(column, ty.unwrap_or_default().to_ascii_lowercase());
        }
        let columns = names(column_rows)?;
        let indexes = names(db.fetch_all(indexes_sql, &param).await?)?;
        out.insert(
            table.to_ascii_lowercase(),
            LiveTable {
                columns,
                not_null,
                types,
                indexes,
            },
        );
    }
    Ok(out)
}
