//! Declared column types of the tables `Table` and `Repository` write, for the backends whose
//! parameters carry no type (SQLite, MySQL): read once per table from the database's catalog
//! and kept until the schema may have changed (any batch of statements, as migrations run).

use std::sync::{Arc, Mutex};

use rustc_hash::FxHashMap;

use super::{Database, Executor};
use crate::error::Result;
use crate::value::{ColumnType, Value};

/// Column name (as declared, and lower-case) → declared type, for one table.
pub(crate) type TableTypes = FxHashMap<String, ColumnType>;

/// Per-`Database` cache of [`TableTypes`], by table name.
#[derive(Default)]
pub(crate) struct SchemaCache {
    tables: Mutex<FxHashMap<String, Arc<TableTypes>>>,
}

impl SchemaCache {
    /// Forgets every table if `sql` may change the schema (`CREATE`, `ALTER`, `DROP`).
    pub(crate) fn clear_after(&self, sql: &str) {
        let head = sql.trim_start().as_bytes();
        let starts =
            |word: &[u8]| head.len() >= word.len() && head[..word.len()].eq_ignore_ascii_case(word);
        if starts(b"CREATE") || starts(b"ALTER") || starts(b"DROP") {
            self.clear();
        }
    }

    /// Forgets every table (the schema may have changed).
    pub(crate) fn clear(&self) {
        if let Ok(mut t) = self.tables.lock() {
            t.clear();
        }
    }

    fn get(&self, table: &str) -> Option<Arc<TableTypes>> {
        self.tables.lock().ok()?.get(table).cloned()
    }

    fn put(&self, table: &str, types: Arc<TableTypes>) {
        if let Ok(mut t) = self.tables.lock() {
            t.insert(table.to_string(), types);
        }
    }
}

impl Executor {
    /// The declared column types of `table`, or `None` where the backend checks parameters
    /// itself (PostgreSQL) or the table is not visible yet. Read on this executor, so inside a
    /// transaction it needs no second connection.
    pub(crate) async fn column_types(&self, table: &str) -> Result<Option<Arc<TableTypes>>> {
        let db: &Database = self.database();
        if db.dialect().checks_parameter_types() {
            return Ok(None);
        }
        let sql = db.dialect().columns_sql();
        if let Some(known) = db.schema().get(table) {
            return Ok(Some(known));
        }
        // The primary's schema: a replica may not have replayed a table created just now.
        // `schema.table` (see `crate::ident`): the schema is a MySQL database or an SQLite
        // database name.
        let (schema, name) = crate::ident::split_table(table);
        let params = [schema.map_or(Value::Null, Value::from), Value::from(name)];
        let rows = self.primary().fetch_all(sql, &params).await?;
        if rows.is_empty() {
            return Ok(None);
        }
        let mut types = TableTypes::default();
        for row in rows {
            let name: String = row.get_at(0)?;
            let text = |i: usize| {
                row.get_at::<Option<String>>(i)
                    .map(Option::unwrap_or_default)
            };
            let ty = crate::backend::column_type(
                db.kind(),
                &text(1)?,
                &text(2)?,
                row.get_at(5)?,
                row.get_at(6)?,
            );
            let lower = name.to_ascii_lowercase();
            if lower != name {
                types.insert(lower, ty);
            }
            types.insert(name, ty);
        }
        let types = Arc::new(types);
        db.schema().put(table, Arc::clone(&types));
        Ok(Some(types))
    }

    /// `value` as `column` stores it, for comparing against it (a key): converted exactly
    /// where the column's type calls for it, otherwise unchanged.
    pub(crate) async fn coerce(&self, table: &str, column: &str, value: Value) -> Result<Value> {
        let Some(types) = self.column_types(table).await? else {
            return Ok(value);
        };
        Ok(match types.get(column) {
            Some(ty) => ty.check(1, column, value.clone()).unwrap_or(value),
            None => value,
        })
    }

    /// Converts `values` (bound to `columns`, in order) exactly to the columns' declared types,
    /// or refuses the first that does not fit with [`crate::Error::Encode`]. A no-op where the
    /// backend checks parameters itself.
    pub(crate) async fn check_columns<'c>(
        &self,
        table: &str,
        columns: impl IntoIterator<Item = &'c str>,
        values: &mut [Value],
    ) -> Result<()> {
        let Some(types) = self.column_types(table).await? else {
            return Ok(());
        };
        for (i, (column, value)) in columns.into_iter().zip(values.iter_mut()).enumerate() {
            let ty = types
                .get(column)
                .or_else(|| types.get(&column.to_ascii_lowercase()));
            if let Some(ty) = ty {
                let v = std::mem::replace(value, Value::Null);
                *value = ty.check(i + 1, column, v)?;
            }
        }
        Ok(())
    }
}
