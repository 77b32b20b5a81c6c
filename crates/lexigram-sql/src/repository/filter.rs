//! [`Filter`]: conditions on columns, combined with and / or / not.
//!
//! A filter is data, not SQL: column names are checked against the entity's columns (or, for
//! [`Table`](super::Table), against the identifier rule) when the statement is built, are
//! always quoted, and every value is bound as a parameter.

use crate::value::Value;

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cmp {
    Eq,
    Ne,
    Gt,
    Gte,
    Lt,
    Lte,
    Like,
}

impl Cmp {
    pub(crate) fn sql(self) -> &'static str {
        match self {
            Cmp::Eq => " = ",
            Cmp::Ne => " <> ",
            Cmp::Gt => " > ",
            Cmp::Gte => " >= ",
            Cmp::Lt => " < ",
            Cmp::Lte => " <= ",
            Cmp::Like => " LIKE ",
        }
    }
}

/// A condition on rows. Build one from [`col`] and combine with [`Filter::and`],
/// [`Filter::or`] and [`not`]; [`Filter::all`] matches every row. Filters are data, never
/// SQL text.
///
/// ```
/// use lexigram_sql::repository::{col, not, Filter};
/// let adults_named_a = col("age").gte(18).and(col("name").like("a%"));
/// let f: Filter = adults_named_a.or(col("role").is_in(["admin", "owner"]));
/// let g = not(col("deleted").eq(true)).and(col("score").between(1, 10));
/// assert_ne!(f, g);
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Filter(pub(crate) Node);

/// The shape of a filter.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) enum Node {
    /// Every row.
    #[default]
    All,
    /// `column <op> value`.
    Compare {
        column: String,
        op: Cmp,
        value: Value,
    },
    /// `column [NOT] IN (values…)`.
    In {
        column: String,
        values: Vec<Value>,
        negated: bool,
    },
    /// `column BETWEEN low AND high`.
    Between {
        column: String,
        low: Value,
        high: Value,
    },
    /// `column IS [NOT] NULL`.
    Null { column: String, negated: bool },
    /// Every one of the filters.
    And(Vec<Node>),
    /// Any one of the filters.
    Or(Vec<Node>),
    /// Not the filter.
    Not(Box<Node>),
}

/// Starts a condition on a column (the column name, or the struct field name for entities).
///
/// ```
/// use lexigram_sql::repository::col;
/// let f = col("email").eq("ada@example.com");
/// # let _ = f;
/// ```
pub fn col(name: impl Into<String>) -> Col {
    Col(name.into())
}

/// Negates a filter.
///
/// ```
/// use lexigram_sql::repository::{col, not};
/// let f = not(col("active").eq(true));
/// # let _ = f;
/// ```
pub fn not(filter: Filter) -> Filter {
    Filter(Node::Not(Box::new(filter.0)))
}

/// A column, waiting for its condition. Made by [`col`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Col(String);

impl Col {
    fn cmp(self, op: Cmp, value: impl Into<Value>) -> Filter {
        Filter(Node::Compare {
            column: self.0,
            op,
            value: value.into(),
        })
    }

    /// `column = value`. Comparing with `NULL` matches nothing; use [`Col::is_null`].
    pub fn eq(self, value: impl Into<Value>) -> Filter {
        self.cmp(Cmp::Eq, value)
    }

    /// `column <> value`.
    pub fn ne(self, value: impl Into<Value>) -> Filter {
        self.cmp(Cmp::Ne, value)
    }

    /// `column > value`.
    pub fn gt(self, value: impl Into<Value>) -> Filter {
        self.cmp(Cmp::Gt, value)
    }

    /// `column >= value`.
    pub fn gte(self, value: impl Into<Value>) -> Filter {
        self.cmp(Cmp::Gte, value)
    }

    /// `column < value`.
    pub fn lt(self, value: impl Into<Value>) -> Filter {
        self.cmp(Cmp::Lt, value)
    }

    /// `column <= value`.
    pub fn lte(self, value: impl Into<Value>) -> Filter {
        self.cmp(Cmp::Lte, value)
    }

    /// `column LIKE pattern` (`%` any run, `_` one character). Case sensitivity follows the
    /// backend: SQLite and MySQL compare ASCII case-insensitively by default, PostgreSQL does
    /// not.
    pub fn like(self, pattern: impl Into<Value>) -> Filter {
        self.cmp(Cmp::Like, pattern)
    }

    /// `column IN (values…)`; an empty list matches nothing.
    pub fn is_in<V: Into<Value>>(self, values: impl IntoIterator<Item = V>) -> Filter {
        Filter(Node::In {
            column: self.0,
            values: values.into_iter().map(Into::into).collect(),
            negated: false,
        })
    }

    /// `column NOT IN (values…)`; an empty list matches every row.
    pub fn not_in<V: Into<Value>>(self, values: impl IntoIterator<Item = V>) -> Filter {
        Filter(Node::In {
            column: self.0,
            values: values.into_iter().map(Into::into).collect(),
            negated: true,
        })
    }

    /// `column BETWEEN low AND high` (both ends included).
    pub fn between(self, low: impl Into<Value>, high: impl Into<Value>) -> Filter {
        Filter(Node::Between {
            column: self.0,
            low: low.into(),
            high: high.into(),
        })
    }

    /// `column IS NULL`.
    pub fn is_null(self) -> Filter {
        Filter(Node::Null {
            column: self.0,
            negated: false,
        })
    }

    /// `column IS NOT NULL`.
    pub fn is_not_null(self) -> Filter {
        Filter(Node::Null {
            column: self.0,
            negated: true,
        })
    }
}

impl Filter {
    /// Matches every row.
    pub fn all() -> Filter {
        Filter(Node::All)
    }

    /// Both this filter and `other`.
    pub fn and(self, other: Filter) -> Filter {
        Filter(match (self.0, other.0) {
            (Node::All, f) | (f, Node::All) => f,
            (Node::And(mut a), Node::And(b)) => {
                a.extend(b);
                Node::And(a)
            }
            (Node::And(mut a), f) => {
                a.push(f);
                Node::And(a)
            }
            (a, b) => Node::And(vec![a, b]),
        })
    }

    /// This filter or `other`.
    pub fn or(self, other: Filter) -> Filter {
        Filter(match (self.0, other.0) {
            (Node::All, _) | (_, Node::All) => Node::All,
            (Node::Or(mut a), Node::Or(b)) => {
                a.extend(b);
                Node::Or(a)
            }
            (Node::Or(mut a), f) => {
                a.push(f);
                Node::Or(a)
            }
            (a, b) => Node::Or(vec![a, b]),
        })
    }

    /// Not this filter (same as [`not`]).
    #[allow(clippy::should_implement_trait)]
    pub fn not(self) -> Filter {
        not(self)
    }

    /// True when the filter matches every row.
    pub fn is_all(&self) -> bool {
        matches!(self.0, Node::All)
    }
}
