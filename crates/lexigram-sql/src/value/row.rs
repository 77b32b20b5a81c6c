//! A result row: column names shared across the rows of one result, values by position.

use std::sync::Arc;

use super::{FromValue, Value};
use crate::error::{Error, Result};

/// One row of a result. Column names are shared by all rows of the same result.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> lexigram_sql::Result<()> {
/// let db = lexigram_sql::Database::connect_url("sqlite://").await?;
/// let row = db.fetch_one("SELECT 7 AS n, 'x' AS s", &[]).await?;
/// assert_eq!(row.get::<i64>("n")?, 7);
/// assert_eq!(row.get::<String>("s")?, "x");
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    columns: Arc<[String]>,
    values: Vec<Value>,
}

impl Row {
    /// Builds a row from shared column names and its values (same length).
    pub fn new(columns: Arc<[String]>, values: Vec<Value>) -> Self {
        Row { columns, values }
    }

    /// Column names, in result order.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// Values, in result order.
    pub fn values(&self) -> &[Value] {
        &self.values
    }

    /// Number of columns.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// True when the row has no column.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Consumes the row, returning its values.
    pub fn into_values(self) -> Vec<Value> {
        self.values
    }

    /// Position of a column by name (exact match first, then ASCII case-insensitive).
    pub fn index_of(&self, name: &str) -> Option<usize> {
        column_index(&self.columns, name)
    }

    /// The raw value of a column, by name.
    pub fn value(&self, name: &str) -> Option<&Value> {
        self.index_of(name).map(|i| &self.values[i])
    }

    /// Reads a column by name and converts it.
    ///
    /// Errors with [`Error::Decode`] naming the column when it is missing or has another type.
    pub fn get<T: FromValue>(&self, name: &str) -> Result<T> {
        let idx = self.index_of(name).ok_or_else(|| Error::Decode {
            column: name.to_string(),
            detail: format!(
                "no such column in the result (columns: {})",
                self.columns.join(", ")
            ),
        })?;
        self.get_at(idx)
    }

    /// Reads a column by position and converts it.
    pub fn get_at<T: FromValue>(&self, idx: usize) -> Result<T> {
        let value = self.values.get(idx).ok_or_else(|| self.out_of_range(idx))?;
        T::from_value(value).map_err(|e| self.decode_error(idx, e.to_string()))
    }

    /// Takes a column's value out of the row by position and converts it without copying
    /// text or bytes; the column reads as `Null` afterwards.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> lexigram_sql::Result<()> {
    /// let db = lexigram_sql::Database::connect_url("sqlite://").await?;
    /// let mut row = db.fetch_one("SELECT 'moved' AS s", &[]).await?;
    /// assert_eq!(row.take_at::<String>(0)?, "moved");
    /// assert_eq!(row.get_at::<Option<String>>(0)?, None);
    /// # Ok(()) }
    /// ```
    pub fn take_at<T: FromValue>(&mut self, idx: usize) -> Result<T> {
        let slot = self.values.get_mut(idx);
        let Some(slot) = slot else {
            return Err(self.out_of_range(idx));
        };
        let value = std::mem::replace(slot, Value::Null);
        T::from_owned(value).map_err(|e| self.decode_error(idx, e.to_string()))
    }

    fn out_of_range(&self, idx: usize) -> Error {
        let detail = format!("index out of range (row has {} columns)", self.values.len());
        self.decode_error(idx, detail)
    }

    fn decode_error(&self, idx: usize, detail: String) -> Error {
        Error::Decode {
            column: self
                .columns
                .get(idx)
                .cloned()
                .unwrap_or_else(|| idx.to_string()),
            detail,
        }
    }

    /// Takes a column's value out of the row by name, leaving `Null` behind (no clone).
    pub fn take(&mut self, name: &str) -> Option<Value> {
        self.index_of(name)
            .map(|i| std::mem::replace(&mut self.values[i], Value::Null))
    }
}
/// Position of column `name` among `columns`: exact match first, then ASCII
/// case-insensitive (servers fold unquoted names to upper or lower case). The one lookup of
/// rows and records.
pub(crate) fn column_index<S: AsRef<str>>(columns: &[S], name: &str) -> Option<usize> {
    columns.iter().position(|c| c.as_ref() == name).or_else(|| {
        columns
            .iter()
            .position(|c| c.as_ref().eq_ignore_ascii_case(name))
    })
}
