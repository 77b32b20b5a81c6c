//! [`Record`] (an ordered column → [`Value`] map) and [`Table`], a repository over records for
//! tables without a struct.

use super::filter::{Filter, Node};
use super::query::Query;
use super::sql::{Columns, SqlBuf, invalid};
use crate::database::Executor;
use crate::error::{Error, Result};
use crate::ident;
use crate::value::{FromValue, Row, Value};

/// A row as an ordered map from column name to [`Value`]. Lookups match the exact name first,
/// then ignoring ASCII case.
///
/// ```
/// use lexigram_sql::repository::Record;
/// let r = Record::new().set("name", "ada").set("age", 36);
/// assert_eq!(r.get::<String>("name")?, "ada");
/// assert_eq!(r.columns().collect::<Vec<_>>(), ["name", "age"]);
/// # Ok::<(), lexigram_sql::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Record {
    columns: Vec<String>,
    values: Vec<Value>,
}

impl Record {
    /// An empty record.
    pub fn new() -> Record {
        Record::default()
    }

    /// Sets a column (replacing an earlier value), builder style.
    pub fn set(mut self, column: impl Into<String>, value: impl Into<Value>) -> Record {
        self.insert(column, value);
        self
    }

    /// Sets a column, returning the value it replaces.
    pub fn insert(&mut self, column: impl Into<String>, value: impl Into<Value>) -> Option<Value> {
        let column = column.into();
        match self.columns.iter().position(|c| *c == column) {
            Some(i) => Some(std::mem::replace(&mut self.values[i], value.into())),
            None => {
                self.columns.push(column);
                self.values.push(value.into());
                None
            }
        }
    }

    fn index_of(&self, column: &str) -> Option<usize> {
        crate::value::column_index(&self.columns, column)
    }

    /// The raw value of a column.
    pub fn value(&self, column: &str) -> Option<&Value> {
        self.index_of(column).map(|i| &self.values[i])
    }

    /// Reads a column and converts it; [`Error::Decode`] naming the column if it is missing or
    /// of another type.
    pub fn get<T: FromValue>(&self, column: &str) -> Result<T> {
        let v = self.value(column).ok_or_else(|| Error::Decode {
            column: column.to_string(),
            detail: format!(
                "no such column in the record (columns: {})",
                self.columns.join(", ")
            ),
        })?;
        T::from_value(v).map_err(|detail| Error::Decode {
            column: column.to_string(),
            detail: detail.to_string(),
        })
    }

    /// Removes a column, returning its value.
    pub fn remove(&mut self, column: &str) -> Option<Value> {
        let i = self.index_of(column)?;
        self.columns.remove(i);
        Some(self.values.remove(i))
    }

    /// Column names, in order.
    pub fn columns(&self) -> impl Iterator<Item = &str> {
        self.columns.iter().map(String::as_str)
    }

    /// `(column, value)` pairs, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.columns.iter().map(String::as_str).zip(&self.values)
    }

    /// The column names and values, in order.
    pub(crate) fn into_parts(self) -> (Vec<String>, Vec<Value>) {
        (self.columns, self.values)
    }

    /// Number of columns.
    pub fn len(&self) -> usize {
        self.columns.len()
    }

    /// True when the record has no column.
    pub fn is_empty(&self) -> bool {
        self.columns.is_empty()
    }
}

impl From<Row> for Record {
    fn from(row: Row) -> Record {
        let columns = row.columns().to_vec();
        Record {
            columns,
            values: row.into_values(),
        }
    }
}

/// A repository over [`Record`]s of one table, for tables without a struct. Table and column
/// names come at runtime, so each must be a plain identifier (`[A-Za-z_][A-Za-z0-9_]*`,
/// otherwise [`Error::InvalidIdentifier`]) and is quoted as well. The key column is `id`
/// unless [`Table::with_key`] says otherwise. Get one with [`Database::table`](crate::Database::table).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> lexigram_sql::Result<()> {
/// use lexigram_sql::Database;
/// use lexigram_sql::repository::{col, Record};
/// let db = Database::connect_url("sqlite://").await?;
/// db.execute_batch("CREATE TABLE tags (id INTEGER PRIMARY KEY, label TEXT NOT NULL)").await?;
/// let tags = db.table("tags");
/// let rust = tags.create(Record::new().set("label", "rust")).await?;
/// let id: i64 = rust.get("id")?;
/// tags.update(id, Record::new().set("label", "Rust")).await?;
/// assert_eq!(tags.find_one(id).await?.get::<String>("label")?, "Rust");
/// assert_eq!(tags.count(col("label").like("R%")).await?, 1);
/// assert!(db.table("tags; DROP TABLE tags").find_one(1).await.is_err());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Table {
    ex: Executor,
    name: String,
    key: String,
}

impl Table {
    /// This table with its reads on the primary.
    fn on_primary(&self) -> Table {
        Table {
            ex: self.ex.primary(),
            ..self.clone()
        }
    }

    /// A table repository running on `ex`; names are checked when a statement is built.
    ///
    /// If a [security policy](crate::scope::RowLevelSecurityPolicy) requires a tenant scope
    /// for the table, every statement fails with [`Error::ScopeRequired`].
    pub fn new(ex: Executor, name: impl Into<String>) -> Table {
        let name = name.into();
        let ex = crate::scope::guard(ex, &name, || format!("table '{name}'"));
        Table::unguarded(ex, name)
    }

    /// A table repository that the scope policy does not check (for `crate::scope`).
    pub(crate) fn unguarded(ex: Executor, name: String) -> Table {
        Table {
            ex,
            name,
            key: "id".into(),
        }
    }

    /// Where the statements run.
    pub(crate) fn executor(&self) -> &Executor {
        &self.ex
    }

    /// This table on another executor (for `crate::scope`).
    pub(crate) fn on(&self, ex: Executor) -> Table {
        Table { ex, ..self.clone() }
    }

    /// Uses `key` as the key column for `find_one`, `update` and `delete`.
    pub fn with_key(mut self, key: impl Into<String>) -> Table {
        self.key = key.into();
        self
    }

    /// The table name as given.
    pub fn name(&self) -> &str {
        &self.name
    }

    fn start(&self, head: &str) -> Result<SqlBuf> {
        ident::check_table(&self.name)?;
        ident::check_column(&self.key)?;
        let table = ident::quote_table(self.ex.dialect(), &self.name);
        Ok(SqlBuf::new(self.ex.dialect(), &format!("{head}{table}")))
    }

    fn cols(&self) -> Columns<'static> {
        Columns::Table
    }

    pub(crate) fn key_filter(&self, key: Value) -> Filter {
        super::col(self.key.clone()).eq(key)
    }

    /// Names this table in an unknown-column error the database raised.
    fn named(&self, e: Error) -> Error {
        e.in_table(&self.name)
    }

    pub(crate) fn not_found(&self, key: &Value) -> Error {
        Error::NotFound {
            entity: format!("table '{}' row", self.name),
            key: format!("{}={key}", self.key),
        }
    }

    /// Inserts a record and returns the stored row (with generated keys and defaults).
    ///
    /// The row comes back from `INSERT … RETURNING`. On servers without it (Oracle MySQL,
    /// MariaDB < 10.5, or `backend.returning: off`) the insert is followed by a select by the
    /// key column: its value in the record, else the `AUTO_INCREMENT` value the insert
    /// generated; when there is neither, the record is returned as written.
    pub async fn create(&self, record: Record) -> Result<Record> {
        if record.is_empty() {
            return Err(invalid(&self.name, "cannot insert an empty record"));
        }
        let returning = self.ex.supports_returning();
        let given = match record.value(&self.key) {
            Some(Value::Null) | None => None,
            Some(v) => Some(v.clone()),
        };
        let written = (!returning).then(|| record.clone());
        let mut buf = self.start("INSERT INTO ")?;
        buf.push(" (");
        for (i, c) in record.columns.iter().enumerate() {
            ident::check("column", c)?;
            if i > 0 {
                buf.push(", ");
            }
            buf.ident(c);
        }
        buf.push(") VALUES (");
        let mut values = record.values;
        self.ex
            .check_columns(
                &self.name,
                record.columns.iter().map(String::as_str),
                &mut values,
            )
            .await?;
        for (i, v) in values.into_iter().enumerate() {
            if i > 0 {
                buf.push(", ");
            }
            buf.param(v);
        }
        buf.push(")");
        let Some(written) = written else {
            buf.push(" RETURNING *");
            return self
                .ex
                .fetch_one(&buf.sql, &buf.params)
                .await
                .map(Record::from)
                .map_err(|e| self.named(e));
        };
        let inserted = self
            .ex
            .execute_insert(&buf.sql, &buf.params)
            .await
            .map_err(|e| self.named(e))?;
        match given.or(inserted.last_insert_id.map(Value::Int)) {
            // Read back on the primary: a replica may not have the row yet.
            Some(key) => self.on_primary().find_one(key).await,
            None => Ok(written),
        }
    }

    /// The row with this key; [`Error::NotFound`] if there is none.
    pub async fn find_one(&self, key: impl Into<Value>) -> Result<Record> {
        let key = key.into();
        match self.find_by(self.key_filter(key.clone())).await? {
            Some(r) => Ok(r),
            None => Err(self.not_found(&key)),
        }
    }

    /// The first row matching a filter or query, if any.
    pub async fn find_by(&self, query: impl Into<Query>) -> Result<Option<Record>> {
        let buf = self.select(&query.into().limit(1))?;
        Ok(self
            .ex
            .fetch_optional(&buf.sql, &buf.params)
            .await
            .map_err(|e| self.named(e))?
            .map(Record::from))
    }

    /// The filter split under the parameter limit, if a long `is_in` list needs and allows it
    /// (see [`Repository::find_many`](super::Repository::find_many)).
    fn split(&self, filter: &Filter) -> Option<Vec<Node>> {
        super::chunk::split(&filter.0, self.ex.dialect().max_params())
    }

    /// Every row matching a filter or query. A single `is_in` list longer than the backend's
    /// parameter limit is split as for [`Repository::find_many`](super::Repository::find_many).
    pub async fn find_many(&self, query: impl Into<Query>) -> Result<Vec<Record>> {
        let query = query.into();
        if query.order.is_empty()
            && query.limit.is_none()
            && query.offset.is_none()
            && let Some(parts) = self.split(&query.filter)
        {
            let mut out = Vec::new();
            for part in parts {
                out.extend(Box::pin(self.find_many(Filter(part))).await?);
            }
            return Ok(out);
        }
        let buf = self.select(&query)?;
        Ok(self
            .ex
            .fetch_all(&buf.sql, &buf.params)
            .await
            .map_err(|e| self.named(e))?
            .into_iter()
            .map(Record::from)
            .collect())
    }

    fn select(&self, query: &Query) -> Result<SqlBuf> {
        let mut buf = self.start("SELECT * FROM ")?;
        buf.where_clause(&query.filter.0, None, self.cols())?;
        buf.order_by(&query.order, self.cols())?;
        buf.limit_offset(query.limit, query.offset);
        Ok(buf)
    }

    /// Number of rows matching (a long `is_in` list split, its values counted once).
    pub async fn count(&self, query: impl Into<Query>) -> Result<u64> {
        let query = query.into();
        if let Some(parts) = self.split(&query.filter) {
            let mut total = 0;
            for part in parts {
                total += Box::pin(self.count(Filter(part))).await?;
            }
            return Ok(total);
        }
        let mut buf = self.start("SELECT COUNT(*) FROM ")?;
        buf.where_clause(&query.filter.0, None, self.cols())?;
        self.ex
            .fetch_one(&buf.sql, &buf.params)
            .await
            .map_err(|e| self.named(e))?
            .get_at::<u64>(0)
    }

    /// Sets the given columns of the row with this key; [`Error::NotFound`] if there is none.
    pub async fn update(&self, key: impl Into<Value>, changes: Record) -> Result<()> {
        let key = key.into();
        match self
            .update_where(self.key_filter(key.clone()), changes)
            .await?
        {
            0 => Err(self.not_found(&key)),
            _ => Ok(()),
        }
    }

    /// Sets the given columns of every row matching `filter`; rows updated.
    pub(crate) async fn update_where(&self, filter: Filter, changes: Record) -> Result<u64> {
        if changes.is_empty() {
            return Err(invalid(
                &self.name,
                "nothing to update: the record is empty",
            ));
        }
        let mut buf = self.start("UPDATE ")?;
        buf.push(" SET ");
        let mut values = changes.values;
        self.ex
            .check_columns(
                &self.name,
                changes.columns.iter().map(String::as_str),
                &mut values,
            )
            .await?;
        for (i, (c, v)) in changes.columns.iter().zip(values).enumerate() {
            ident::check("column", c)?;
            if i > 0 {
                buf.push(", ");
            }
            buf.ident(c);
            buf.push(" = ");
            buf.param(v);
        }
        buf.where_clause(&filter.0, None, self.cols())?;
        self.ex
            .execute(&buf.sql, &buf.params)
            .await
            .map_err(|e| self.named(e))
    }

    /// Deletes the row with this key; [`Error::NotFound`] if there is none.
    pub async fn delete(&self, key: impl Into<Value>) -> Result<()> {
        let key = key.into();
        match self.delete_many(self.key_filter(key.clone())).await? {
            0 => Err(self.not_found(&key)),
            _ => Ok(()),
        }
    }

    /// Deletes every row matching the filter; returns how many. A filter with no condition
    /// ([`Filter::default`]) is refused; say [`Filter::all`] to delete every row. A long
    /// `is_in` list is split into several statements run in one transaction.
    pub async fn delete_many(&self, filter: Filter) -> Result<u64> {
        if filter.is_empty() {
            return Err(invalid(
                &self.name,
                "delete_many was given a filter with no condition, which would delete every row. Fix: pass a condition, or `Filter::all()` to mean every row",
            ));
        }
        if let Some(parts) = self.split(&filter) {
            let mut bufs = Vec::with_capacity(parts.len());
            for part in &parts {
                let mut buf = self.start("DELETE FROM ")?;
                buf.where_clause(part, None, self.cols())?;
                bufs.push(buf);
            }
            let tx = match &self.ex {
                Executor::Database(db) => Some(db.begin().await?),
                Executor::Transaction(_) => None,
            };
            let ex = match &tx {
                Some(tx) => Executor::Transaction(tx.clone()),
                None => self.ex.clone(),
            };
            let mut total = 0;
            for buf in &bufs {
                match ex.execute(&buf.sql, &buf.params).await {
                    Ok(n) => total += n,
                    Err(e) => {
                        if let Some(tx) = &tx {
                            let _ = tx.rollback().await;
                        }
                        return Err(self.named(e));
                    }
                }
            }
            if let Some(tx) = tx {
                tx.commit().await?;
            }
            return Ok(total);
        }
        let mut buf = self.start("DELETE FROM ")?;
        buf.where_clause(&filter.0, None, self.cols())?;
        self.ex
            .execute(&buf.sql, &buf.params)
            .await
            .map_err(|e| self.named(e))
    }
}
