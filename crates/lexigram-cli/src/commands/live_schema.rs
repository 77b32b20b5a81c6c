//! The live schema, by name only: each table's columns and indexes, from the catalog.

use std::collections::BTreeMap;

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
    let d = db.dialect();
    let (tables_sql, columns_sql, indexes_sql) = (d.tables_sql(), d.columns_sql(), d.indexes_sql());
    let mut out = BTreeMap::new();
    for row in db.fetch_all(tables_sql, &[]).await? {
        let table: String = row.get_at(0)?;
        let param = [Value::Text(table.clone())];
        let names = |rows: Vec<lexigram_sql::Row>| -> Result<Vec<String>, Error> {
            rows.iter()
                .map(|r| r.get_at::<String>(0).map(|n| n.to_ascii_lowercase()))
                .collect()
        };
        let column_rows = db
            .fetch_all(columns_sql, &[Value::Null, Value::Text(table.clone())])
            .await?;
        let mut not_null = Vec::new();
        let mut types = BTreeMap::new();
        for r in &column_rows {
            let column = r.get_at::<String>(0)?.to_ascii_lowercase();
            if r.get_at::<String>(3)? == "NO" {
                not_null.push(column.clone());
            }
            let ty: Option<String> = r.get_at(1)?;
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
