//! The [`Entity`] trait that `#[derive(Entity)]` implements, and the table metadata it carries.

use std::sync::OnceLock;

use super::sql::EntitySql;
use crate::config::BackendKind;
use crate::error::{Error, Result};
use crate::value::{FromValue, Row, Value};

/// A Rust struct stored as one row of one table. Implement it with `#[derive(Entity)]`; the
/// methods are the glue the [`Repository`](super::Repository) calls and are rarely called
/// directly.
///
/// Column order is the struct's field order (skipped fields left out); every method that takes
/// or returns a column index means a position in [`EntityMeta::columns`].
///
/// ```
/// use lexigram_sql::{Entity, repository::Entity as _};
///
/// #[derive(Debug, Clone, Entity)]
/// struct OrderLine {
///     #[entity(key, generated)]
///     id: i64,
///     #[entity(rename = "qty")]
///     quantity: i32,
///     #[entity(version)]
///     version: i64,
/// }
///
/// let meta = OrderLine::meta();
/// assert_eq!(meta.table, "order_lines"); // snake_case of the struct name + "s"
/// assert_eq!(meta.column_names().collect::<Vec<_>>(), ["id", "qty", "version"]);
/// assert_eq!(meta.key_column().name, "id");
/// assert_eq!(meta.keys, [0]);
/// ```
pub trait Entity: Sized + Send + Sync + 'static {
    /// The table, columns, key, version and soft-delete columns, and the per-backend SQL cache.
    fn meta() -> &'static EntityMeta;

    /// Every column's value, in column order (clones the fields).
    fn to_values(&self) -> Vec<Value>;

    /// Every column's value, in column order, consuming the entity (no clones).
    fn into_values(self) -> Vec<Value>;

    /// Builds the entity from a row whose columns are the entity's columns in column order
    /// (what the repository's `SELECT` and `RETURNING` lists produce). Skipped fields get
    /// `Default::default()`.
    fn from_row(row: &Row) -> Result<Self>;

    /// Like [`Entity::from_row`], consuming the row so text and bytes move into the fields
    /// instead of being copied. `#[derive(Entity)]` implements it; the default borrows.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> lexigram_sql::Result<()> {
    /// use lexigram_sql::{Database, Entity, repository::Entity as _};
    ///
    /// #[derive(Debug, Entity)]
    /// struct Note {
    ///     #[entity(key, generated)]
    ///     id: i64,
    ///     body: String,
    /// }
    ///
    /// let db = Database::connect_url("sqlite://").await?;
    /// db.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)", &[]).await?;
    /// db.execute("INSERT INTO notes (body) VALUES ('kept')", &[]).await?;
    /// let row = db.fetch_one("SELECT id, body FROM notes", &[]).await?;
    /// let note = Note::from_row_owned(row)?;
    /// assert_eq!((note.id, note.body.as_str()), (1, "kept"));
    /// # Ok(()) }
    /// ```
    fn from_row_owned(row: Row) -> Result<Self> {
        Self::from_row(&row)
    }

    /// One column's value by position (`Value::Null` for an index out of range).
    fn get_column(&self, index: usize) -> Value;

    /// Sets one column's field from a value by position; an index out of range is ignored.
    fn set_column(&mut self, index: usize, value: &Value) -> Result<()>;
}

/// One column of an entity.
#[derive(Debug)]
pub struct ColumnMeta {
    /// Column name in the database.
    pub name: &'static str,
    /// Field name in the struct.
    pub field: &'static str,
}

/// A `belongs_to` relation declared with `#[entity(belongs_to = Parent)]` on a foreign-key
/// field: this entity's column `column` holds the key of a `Parent` row.
#[derive(Debug)]
pub struct Relation {
    /// Position of the foreign-key column in this entity's columns.
    pub column: usize,
    /// The parent entity's metadata (`<Parent as Entity>::meta`).
    pub target: fn() -> &'static EntityMeta,
}

/// What `#[derive(Entity)]` knows about a struct's table. Built as a `static` by the derive.
#[derive(Debug)]
pub struct EntityMeta {
    /// The struct's name, used in error messages.
    pub name: &'static str,
    /// The table name: `table` or `schema.table` (see [`crate::ident`]).
    pub table: &'static str,
    /// The stored columns, in field order.
    pub columns: &'static [ColumnMeta],
    /// Positions of the primary-key columns, in field order: one for a simple key, two or
    /// more for a composite key.
    pub keys: &'static [usize],
    /// True when the database generates the key (left out of `INSERT`, read back by
    /// `RETURNING`). Only for a one-column key.
    pub key_generated: bool,
    /// Position of the optimistic-locking version column, if any.
    pub version: Option<usize>,
    /// Position of the soft-delete timestamp column, if any.
    pub soft_delete: Option<usize>,
    /// Position of the `#[entity(created_at)]` column, if any: set to now on insert.
    pub created_at: Option<usize>,
    /// Position of the `#[entity(updated_at)]` column, if any: set to now on every write.
    pub updated_at: Option<usize>,
    /// The `belongs_to` relations of this entity, in field order.
    pub relations: &'static [Relation],
    /// Generated SQL, built once per backend on first use.
    #[doc(hidden)]
    pub cache: SqlCache,
}

impl EntityMeta {
    /// The first (for a simple key: the only) key column.
    pub fn key_column(&self) -> &'static ColumnMeta {
        &self.columns[self.keys[0]]
    }

    /// The key columns, in order.
    pub fn key_columns(&self) -> impl Iterator<Item = &'static ColumnMeta> + use<> {
        let columns = self.columns;
        self.keys.iter().map(move |&i| &columns[i])
    }

    /// True if the column at `index` is part of the primary key.
    pub fn is_key(&self, index: usize) -> bool {
        self.keys.contains(&index)
    }

    /// The position of the foreign-key column of this entity's declared `belongs_to`
    /// relation to `parent`, if it declares one (the first, if several).
    pub fn relation_to(&self, parent: &'static EntityMeta) -> Option<usize> {
        self.relations
            .iter()
            .find(|r| std::ptr::eq((r.target)(), parent))
            .map(|r| r.column)
    }

    /// Column names in order.
    pub fn column_names(&self) -> impl Iterator<Item = &'static str> + use<> {
        self.columns.iter().map(|c| c.name)
    }

    /// Position of a column, found by column name or, failing that, by field name.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.columns
            .iter()
            .position(|c| c.name == name)
            .or_else(|| self.columns.iter().position(|c| c.field == name))
    }

    /// Resolves a caller-supplied column name to the entity's column, or
    /// [`Error::UnknownColumn`] naming the column and the entity.
    pub fn resolve(&self, name: &str) -> Result<usize> {
        self.index_of(name).ok_or_else(|| Error::UnknownColumn {
            column: name.to_string(),
            entity: self.name.to_string(),
            known: self.column_names().collect::<Vec<_>>().join(", "),
        })
    }

    /// The SQL for this entity on one backend, generated on first use and cached.
    pub(crate) fn sql(&'static self, kind: BackendKind) -> &'static EntitySql {
        let slot = match kind {
            BackendKind::Sqlite => &self.cache.slots[0],
            BackendKind::Postgres => &self.cache.slots[1],
            BackendKind::MySql => &self.cache.slots[2],
        };
        slot.get_or_init(|| EntitySql::build(self, crate::backend::dialect_of(kind)))
    }
}

/// Per-backend cache of an entity's generated SQL (one slot per backend kind).
#[doc(hidden)]
#[derive(Debug)]
pub struct SqlCache {
    slots: [OnceLock<EntitySql>; 3],
}

impl SqlCache {
    /// An empty cache, usable in a `static`.
    #[allow(clippy::new_without_default)]
    pub const fn new() -> Self {
        SqlCache {
            slots: [OnceLock::new(), OnceLock::new(), OnceLock::new()],
        }
    }
}

/// Helpers the derive's generated code calls. Not a stable API.
#[doc(hidden)]
pub mod __private {
    use super::*;

    /// Converts a column value into a field, naming the column on failure.
    pub fn decode<T: FromValue>(value: &Value, column: &str) -> Result<T> {
        T::from_value(value).map_err(|detail| Error::Decode {
            column: column.to_string(),
            detail: detail.to_string(),
        })
    }

    /// `#[derive(FromRow)]`: takes the named column out of the row and converts it;
    /// [`Error::Decode`] when the row has no such column.
    pub fn take_named<T: FromValue>(row: &mut Row, column: &str) -> Result<T> {
        match row.index_of(column) {
            Some(i) => row.take_at(i),
            None => Err(Error::Decode {
                column: column.to_string(),
                detail: format!(
                    "no such column in the result (columns: {}). Fix: select it, or make the field an Option",
                    row.columns().join(", ")
                ),
            }),
        }
    }

    /// `#[derive(FromRow)]` for an `Option` field: like [`take_named`], with a missing column
    /// read as NULL.
    pub fn take_named_or_null<T: FromValue>(row: &mut Row, column: &str) -> Result<T> {
        match row.index_of(column) {
            Some(i) => row.take_at(i),
            None => decode(&Value::Null, column),
        }
    }
}
