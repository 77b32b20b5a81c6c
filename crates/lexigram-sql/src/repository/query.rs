//! [`Query`]: a filter plus ordering, limit/offset and whether soft-deleted rows count.

use super::filter::Filter;

/// One ordering term: a column and a direction. Made by [`asc`] and [`desc`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    pub(crate) column: String,
    pub(crate) desc: bool,
}

impl Order {
    /// The column name as given.
    pub fn column(&self) -> &str {
        &self.column
    }

    /// True for descending order.
    pub fn is_desc(&self) -> bool {
        self.desc
    }
}

/// Ascending order on a column.
///
/// ```
/// use lexigram_sql::repository::asc;
/// assert!(!asc("name").is_desc());
/// ```
pub fn asc(column: impl Into<String>) -> Order {
    Order {
        column: column.into(),
        desc: false,
    }
}

/// Descending order on a column.
///
/// ```
/// use lexigram_sql::repository::desc;
/// assert!(desc("created_at").is_desc());
/// ```
pub fn desc(column: impl Into<String>) -> Order {
    Order {
        column: column.into(),
        desc: true,
    }
}

/// What to read: a [`Filter`], ordering on any number of columns, limit and offset, and
/// whether soft-deleted rows are included (they are not, by default).
///
/// Every repository method that reads takes `impl Into<Query>`, so a plain [`Filter`] works
/// wherever a `Query` does.
///
/// ```
/// use lexigram_sql::repository::{asc, col, desc, Query};
/// let q = Query::new()
///     .filter(col("age").gte(18))
///     .order_by(desc("score"))
///     .order_by(asc("name"))
///     .limit(20)
///     .offset(40);
/// assert_eq!(q.get_limit(), Some(20));
/// let everything: Query = col("name").like("a%").into();
/// assert!(!everything.includes_deleted());
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Query {
    pub(crate) filter: Filter,
    pub(crate) order: Vec<Order>,
    pub(crate) limit: Option<u64>,
    pub(crate) offset: Option<u64>,
    pub(crate) with_deleted: bool,
}

impl Query {
    /// Every row, in no particular order.
    pub fn new() -> Query {
        Query::default()
    }

    /// Adds a condition (combined with earlier ones by AND).
    pub fn filter(mut self, filter: Filter) -> Query {
        self.filter = std::mem::take(&mut self.filter).and(filter);
        self
    }

    /// Adds an ordering term after the earlier ones.
    pub fn order_by(mut self, order: Order) -> Query {
        self.order.push(order);
        self
    }

    /// At most `n` rows.
    pub fn limit(mut self, n: u64) -> Query {
        self.limit = Some(n);
        self
    }

    /// Skips the first `n` rows.
    pub fn offset(mut self, n: u64) -> Query {
        self.offset = Some(n);
        self
    }

    /// Includes soft-deleted rows (entities with a `#[entity(soft_delete)]` column).
    pub fn with_deleted(mut self) -> Query {
        self.with_deleted = true;
        self
    }

    pub(crate) fn with_deleted_if(mut self, yes: bool) -> Query {
        self.with_deleted = yes;
        self
    }

    /// The limit, if set.
    pub fn get_limit(&self) -> Option<u64> {
        self.limit
    }

    /// The offset, if set.
    pub fn get_offset(&self) -> Option<u64> {
        self.offset
    }

    /// The ordering terms.
    pub fn orders(&self) -> &[Order] {
        &self.order
    }

    /// True if soft-deleted rows are included.
    pub fn includes_deleted(&self) -> bool {
        self.with_deleted
    }
}

impl From<Filter> for Query {
    fn from(filter: Filter) -> Query {
        Query {
            filter,
            ..Query::default()
        }
    }
}
