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
    /// No condition was given (`Filter::default()`, an empty `Query`): every row for reads,
    /// refused by bulk writes, which need [`Filter::all`] said explicitly.
    #[default]
    Empty,
    /// Every row, asked for explicitly with [`Filter::all`].
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
    /// `column LIKE pattern`, case-insensitive if `ci`, with `ESCAPE '!'` if `escaped`.
    Like {
        column: String,
        pattern: Value,
        ci: bool,
        escaped: bool,
    },
    /// `column [NOT] IN (SELECT …)`.
    InSub {
        column: String,
        sub: Box<super::subquery::Subquery>,
        negated: bool,
    },
    /// `EXISTS (SELECT 1 …)`.
    Exists(Box<super::subquery::Subquery>),
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

    /// Case-insensitive `LIKE`: `ILIKE` on PostgreSQL, `LOWER(column) LIKE LOWER(pattern)` on
    /// MySQL and SQLite (SQLite's `LOWER` folds ASCII letters only). `%` and `_` in the pattern
    /// are wildcards; to match text literally use [`Col::icontains`] and friends.
    ///
    /// ```
    /// use lexigram_sql::repository::col;
    /// let f = col("name").ilike("ada%");
    /// # let _ = f;
    /// ```
    pub fn ilike(self, pattern: impl Into<Value>) -> Filter {
        self.like_node(pattern.into(), true, false)
    }

    /// The column contains `text` literally: `%`, `_` and `!` in `text` match themselves (they
    /// are escaped, with `ESCAPE '!'`). Case sensitivity follows the backend, as for
    /// [`Col::like`].
    ///
    /// ```
    /// use lexigram_sql::repository::col;
    /// let f = col("title").contains("50%_off"); // matches "save 50%_off now", not "50 off"
    /// # let _ = f;
    /// ```
    pub fn contains(self, text: &str) -> Filter {
        self.literal(text, true, true, false)
    }

    /// Like [`Col::contains`], case-insensitive as [`Col::ilike`].
    ///
    /// ```
    /// use lexigram_sql::repository::col;
    /// let f = col("title").icontains("RUST");
    /// # let _ = f;
    /// ```
    pub fn icontains(self, text: &str) -> Filter {
        self.literal(text, true, true, true)
    }

    /// The column starts with `text` literally (wildcards in `text` escaped).
    ///
    /// ```
    /// use lexigram_sql::repository::col;
    /// let f = col("sku").starts_with("A_1");
    /// # let _ = f;
    /// ```
    pub fn starts_with(self, text: &str) -> Filter {
        self.literal(text, false, true, false)
    }

    /// The column ends with `text` literally (wildcards in `text` escaped).
    ///
    /// ```
    /// use lexigram_sql::repository::col;
    /// let f = col("email").ends_with("@example.com");
    /// # let _ = f;
    /// ```
    pub fn ends_with(self, text: &str) -> Filter {
        self.literal(text, true, false, false)
    }

    fn literal(self, text: &str, any_before: bool, any_after: bool, ci: bool) -> Filter {
        let mut p = String::with_capacity(text.len() + 4);
        if any_before {
            p.push('%');
        }
        p.push_str(&escape_like(text));
        if any_after {
            p.push('%');
        }
        self.like_node(Value::Text(p), ci, true)
    }

    fn like_node(self, pattern: Value, ci: bool, escaped: bool) -> Filter {
        Filter(Node::Like {
            column: self.0,
            pattern,
            ci,
            escaped,
        })
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

    /// `column IN (SELECT …)` over a [`Subquery`](super::Subquery).
    pub fn in_subquery(self, sub: super::Subquery) -> Filter {
        Filter(Node::InSub {
            column: self.0,
            sub: Box::new(sub),
            negated: false,
        })
    }

    /// `column NOT IN (SELECT …)`. As in SQL, a NULL in the subquery's column makes it match
    /// nothing.
    pub fn not_in_subquery(self, sub: super::Subquery) -> Filter {
        Filter(Node::InSub {
            column: self.0,
            sub: Box::new(sub),
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

/// The escape character of the literal-text operators ([`Col::contains`] and friends). Not
/// a backslash, whose meaning in string literals differs between backends.
pub(crate) const LIKE_ESCAPE: char = '!';

/// `text` with `%`, `_` and the escape character escaped, for a `LIKE … ESCAPE '!'` pattern.
pub(crate) fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    for c in text.chars() {
        if matches!(c, '%' | '_' | LIKE_ESCAPE) {
            out.push(LIKE_ESCAPE);
        }
        out.push(c);
    }
    out
}

impl Filter {
    /// Matches every row. Bulk writes accept it as the explicit "every row"; a filter with
    /// no condition at all ([`Filter::default`]) they refuse.
    pub fn all() -> Filter {
        Filter(Node::All)
    }

    /// Both this filter and `other`.
    pub fn and(self, other: Filter) -> Filter {
        Filter(match (self.0, other.0) {
            (Node::Empty, f) | (f, Node::Empty) => f,
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
            (Node::Empty, f) | (f, Node::Empty) => f,
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

    /// True when the filter matches every row: [`Filter::all`], or no condition at all
    /// ([`Filter::default`]).
    ///
    /// ```
    /// use lexigram_sql::repository::{col, Filter};
    /// assert!(Filter::all().is_all() && Filter::default().is_all());
    /// assert!(!col("a").eq(1).is_all());
    /// ```
    pub fn is_all(&self) -> bool {
        matches!(self.0, Node::All | Node::Empty)
    }

    /// True when no condition was given at all ([`Filter::default`], or only
    /// [`Filter::and`]/[`Filter::or`] of empty filters). Bulk writes
    /// ([`Repository::update_where`](super::Repository::update_where),
    /// [`Repository::delete_where`](super::Repository::delete_where), `delete_many`) refuse
    /// such a filter; say [`Filter::all`] to touch every row.
    ///
    /// ```
    /// use lexigram_sql::repository::{col, Filter};
    /// assert!(Filter::default().is_empty());
    /// assert!(!Filter::all().is_empty());
    /// let mut f = Filter::default();
    /// for c in Vec::<Filter>::new() { f = f.and(c); } // no conditions collected
    /// assert!(f.is_empty());
    /// assert!(!f.and(col("a").eq(1)).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        matches!(self.0, Node::Empty)
    }
}
