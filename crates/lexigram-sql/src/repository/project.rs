//! Projections: some columns of an entity's rows, read into a [`Record`], a tuple, or any
//! [`FromRow`] type, with [`Repository::find_columns`] and [`Repository::find_distinct`].

use super::entity::Entity;
use super::query::Query;
use super::record::Record;
use super::repo::Repository;
use super::sql::{SqlBuf, invalid};
use crate::error::{Error, Result};
use crate::value::{FromValue, Row};

/// A type that a row of a projection or an aggregate converts into: [`Record`] (by column
/// name), [`Row`], or a tuple of up to eight [`FromValue`] types (by position; the row must
/// have exactly as many columns).
///
/// ```
/// use lexigram_sql::repository::FromRow;
/// use lexigram_sql::{Row, Value};
/// let row = Row::new(vec!["id".to_string(), "name".to_string()].into(), vec![Value::Int(7), Value::Text("ada".into())]);
/// let (id, name) = <(i64, String)>::from_row(row)?;
/// assert_eq!((id, name.as_str()), (7, "ada"));
/// # Ok::<(), lexigram_sql::Error>(())
/// ```
pub trait FromRow: Sized {
    /// Converts one row; [`Error::Decode`] naming the column that does not fit.
    fn from_row(row: Row) -> Result<Self>;
}

impl FromRow for Row {
    fn from_row(row: Row) -> Result<Self> {
        Ok(row)
    }
}

impl FromRow for Record {
    fn from_row(row: Row) -> Result<Self> {
        Ok(Record::from(row))
    }
}

macro_rules! tuple_from_row {
    ($n:literal; $($t:ident $i:tt),+) => {
        impl<$($t: FromValue),+> FromRow for ($($t,)+) {
            fn from_row(row: Row) -> Result<Self> {
                if row.len() != $n {
                    return Err(Error::Decode {
                        column: row.columns().join(", "),
                        detail: format!(
                            "the row has {} columns, the tuple {}. Fix: select as many columns as the tuple has fields",
                            row.len(),
                            $n
                        ),
                    });
                }
                Ok(($(row.get_at::<$t>($i)?,)+))
            }
        }
    };
}

tuple_from_row!(1; A 0);
tuple_from_row!(2; A 0, B 1);
tuple_from_row!(3; A 0, B 1, C 2);
tuple_from_row!(4; A 0, B 1, C 2, D 3);
tuple_from_row!(5; A 0, B 1, C 2, D 3, E 4);
tuple_from_row!(6; A 0, B 1, C 2, D 3, E 4, F 5);
tuple_from_row!(7; A 0, B 1, C 2, D 3, E 4, F 5, G 6);
tuple_from_row!(8; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);

impl<E: Entity> Repository<E> {
    /// The named columns (column or field names, checked against the entity) of the rows
    /// matching a query, in the query's order, each row converted to `T`: a [`Record`], a
    /// tuple, or any [`FromRow`] type. Soft-deleted rows are skipped unless the query says
    /// [`Query::with_deleted`].
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> lexigram_sql::Result<()> {
    /// use lexigram_sql::{Database, Entity};
    /// use lexigram_sql::repository::{asc, col, Query, Record};
    ///
    /// #[derive(Debug, Clone, Entity)]
    /// struct User { #[entity(key, generated)] id: i64, name: String, bio: String }
    ///
    /// let db = Database::connect_url("sqlite://").await?;
    /// db.execute_batch("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, bio TEXT NOT NULL)").await?;
    /// let users = db.repository::<User>();
    /// users.create(User { id: 0, name: "ada".into(), bio: "a long text".into() }).await?;
    /// let names: Vec<(i64, String)> = users
    ///     .find_columns(Query::new().order_by(asc("id")), &["id", "name"])
    ///     .await?;
    /// assert_eq!(names, [(1, "ada".to_string())]);
    /// let records: Vec<Record> = users.find_columns(col("id").eq(1), &["name"]).await?;
    /// assert_eq!(records[0].get::<String>("name")?, "ada");
    /// # Ok(()) }
    /// ```
    pub async fn find_columns<T: FromRow>(
        &self,
        query: impl Into<Query>,
        columns: &[&str],
    ) -> Result<Vec<T>> {
        self.project(query.into(), columns, false).await
    }

    /// Like [`Repository::find_columns`], with `SELECT DISTINCT`: each combination of the
    /// columns' values once. Ordering may only use the selected columns.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> lexigram_sql::Result<()> {
    /// use lexigram_sql::{Database, Entity};
    /// use lexigram_sql::repository::{asc, Query};
    ///
    /// #[derive(Debug, Clone, Entity)]
    /// struct Order { #[entity(key, generated)] id: i64, country: String }
    ///
    /// let db = Database::connect_url("sqlite://").await?;
    /// db.execute_batch("CREATE TABLE orders (id INTEGER PRIMARY KEY, country TEXT NOT NULL)").await?;
    /// let orders = db.repository::<Order>();
    /// for c in ["fr", "de", "fr"] {
    ///     orders.create(Order { id: 0, country: c.into() }).await?;
    /// }
    /// let countries: Vec<(String,)> = orders
    ///     .find_distinct(Query::new().order_by(asc("country")), &["country"])
    ///     .await?;
    /// assert_eq!(countries, [("de".to_string(),), ("fr".to_string(),)]);
    /// # Ok(()) }
    /// ```
    pub async fn find_distinct<T: FromRow>(
        &self,
        query: impl Into<Query>,
        columns: &[&str],
    ) -> Result<Vec<T>> {
        self.project(query.into(), columns, true).await
    }

    /// The `SELECT` and bound parameters that [`Repository::find_many`] sends for a query
    /// (unsplit), for logging, tests and benchmarks. Column names are checked as for a find.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> lexigram_sql::Result<()> {
    /// use lexigram_sql::{Database, Entity, Value};
    /// use lexigram_sql::repository::{col, Query};
    ///
    /// #[derive(Debug, Clone, Entity)]
    /// struct Tag { #[entity(key)] id: i64, label: String }
    ///
    /// let db = Database::connect_url("sqlite://").await?;
    /// let (sql, params) = db.repository::<Tag>().select_sql(&Query::from(col("label").eq("x")).limit(5))?;
    /// assert_eq!(sql, r#"SELECT "id", "label" FROM "tags" WHERE "label" = ? LIMIT 5"#);
    /// assert_eq!(params, [Value::Text("x".into())]);
    /// # Ok(()) }
    /// ```
    pub fn select_sql(&self, query: &Query) -> Result<(String, Vec<crate::value::Value>)> {
        let buf = self.select(query)?;
        Ok((buf.sql, buf.params))
    }

    async fn project<T: FromRow>(
        &self,
        query: Query,
        columns: &[&str],
        distinct: bool,
    ) -> Result<Vec<T>> {
        let meta = E::meta();
        if columns.is_empty() {
            return Err(invalid(
                meta.name,
                "no columns to select. Fix: name at least one column",
            ));
        }
        let d = self.ex.dialect();
        let mut head = String::from(if distinct {
            "SELECT DISTINCT "
        } else {
            "SELECT "
        });
        for (i, c) in columns.iter().enumerate() {
            if i > 0 {
                head.push_str(", ");
            }
            head.push_str(&d.quote_ident(meta.columns[meta.resolve(c)?].name));
        }
        head.push_str(" FROM ");
        head.push_str(&self.sql.table);
        let buf = SqlBuf::select(d, &head, &query, Self::soft_delete_column(), Self::cols())?;
        let rows = self.ex.fetch_all(&buf.sql, &buf.params).await?;
        rows.into_iter().map(T::from_row).collect()
    }
}
