//! [`Subquery`]: one column of another entity's rows matching a filter, for
//! [`Col::in_subquery`](super::Col::in_subquery) / [`Col::not_in_subquery`](super::Col::not_in_subquery),
//! and [`exists`] over related rows.

use super::entity::{Entity, EntityMeta};
use super::filter::{Filter, Node};

/// `SELECT column FROM <entity's table> WHERE filter`, for use inside a filter. Its column
/// and filter are checked against its own entity when the statement is built; soft-deleted
/// rows of it are left out. Values are bound like any others.
///
/// ```
/// use lexigram_sql::Entity;
/// use lexigram_sql::repository::{col, exists, Subquery};
///
/// #[derive(Debug, Clone, Entity)]
/// struct Post { #[entity(key, generated)] id: i64, user_id: i64, title: String }
///
/// // Users who wrote a post about Rust: `id IN (SELECT user_id FROM posts WHERE …)`.
/// let f = col("id").in_subquery(Subquery::of::<Post>("user_id", col("title").contains("Rust")));
/// // The same with EXISTS, correlated on posts.user_id = users.id.
/// let g = exists(Subquery::of::<Post>("user_id", col("title").contains("Rust")).correlate("id"));
/// # let _ = (f, g);
/// ```
#[derive(Debug, Clone)]
pub struct Subquery {
    pub(crate) meta: &'static EntityMeta,
    pub(crate) column: String,
    pub(crate) filter: Box<Node>,
    /// For EXISTS: the outer column that `column` must equal.
    pub(crate) outer: Option<String>,
}

impl PartialEq for Subquery {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self.meta, other.meta)
            && self.column == other.column
            && self.filter == other.filter
            && self.outer == other.outer
    }
}

impl Subquery {
    /// `column` of the rows of `S` matching `filter`.
    pub fn of<S: Entity>(column: impl Into<String>, filter: Filter) -> Subquery {
        Subquery {
            meta: S::meta(),
            column: column.into(),
            filter: Box::new(filter.0),
            outer: None,
        }
    }

    /// Correlates the subquery for [`exists`]: its column must equal the outer row's
    /// `outer_column` (a column of the entity being filtered).
    pub fn correlate(mut self, outer_column: impl Into<String>) -> Subquery {
        self.outer = Some(outer_column.into());
        self
    }
}

/// `EXISTS (SELECT 1 FROM … WHERE …)`: rows for which the subquery finds a row (correlate it
/// with [`Subquery::correlate`], or it is true for every row or none).
pub fn exists(sub: Subquery) -> Filter {
    Filter(Node::Exists(Box::new(sub)))
}
