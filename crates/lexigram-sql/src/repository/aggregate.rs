//! [`Aggregate`]: `COUNT`, `SUM`, `AVG`, `MIN`, `MAX` over an entity's rows, with `GROUP BY`
//! and `HAVING`, run by [`Repository::aggregate`].

use super::entity::Entity;
use super::filter::Filter;
use super::project::FromRow;
use super::query::Order;
use super::repo::Repository;
use super::sql::{Columns, SqlBuf, invalid};
use crate::error::Result;
use crate::ident;

/// An aggregate function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Func {
    Count,
    CountDistinct,
    Sum,
    Avg,
    Min,
    Max,
}

/// One computed column: a function over a column (or every row, for `COUNT(*)`), named by
/// an alias.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Measure {
    pub(crate) func: Func,
    /// The column's name as given (resolved when the statement is built); `None` for `*`.
    pub(crate) column: Option<String>,
    /// The resolved, quoted-when-written column name.
    pub(crate) resolved: &'static str,
    pub(crate) alias: String,
}

impl Measure {
    /// `SUM("amount")`, `COUNT(*)`, `COUNT(DISTINCT "x")`.
    pub(crate) fn push_expr(&self, buf: &mut SqlBuf) {
        buf.push(match self.func {
            Func::Count | Func::CountDistinct => "COUNT(",
            Func::Sum => "SUM(",
            Func::Avg => "AVG(",
            Func::Min => "MIN(",
            Func::Max => "MAX(",
        });
        if self.func == Func::CountDistinct {
            buf.push("DISTINCT ");
        }
        if self.column.is_some() {
            buf.ident(self.resolved);
        } else {
            buf.push("*");
        }
        buf.push(")");
    }
}

/// An aggregate query: a filter on rows (`WHERE`), grouping columns, measures with aliases,
/// a filter on groups (`HAVING`, naming measures by alias or grouping columns), ordering
/// and a limit. Run it with [`Repository::aggregate`]; each result row holds the grouping
/// columns, then the measures, in the order they were added.
///
/// Column names are checked against the entity; aliases must be plain identifiers
/// (`[A-Za-z_][A-Za-z0-9_]*`). Results keep each backend's numeric type (`SUM` of integers is
/// a decimal on PostgreSQL and MySQL, `AVG` a decimal or a float): read them as `i64`, `f64`
/// or [`Decimal`](crate::Decimal), which convert exactly or fail.
///
/// ```
/// use lexigram_sql::repository::{col, desc, Aggregate};
/// let revenue = Aggregate::new()
///     .filter(col("status").eq("paid"))
///     .group_by("month")
///     .count("orders")
///     .sum("amount", "revenue")
///     .having(col("revenue").gt(1000))
///     .order_by(desc("revenue"))
///     .limit(12);
/// # let _ = revenue;
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Aggregate {
    filter: Filter,
    with_deleted: bool,
    group_by: Vec<String>,
    measures: Vec<Measure>,
    having: Filter,
    order: Vec<Order>,
    limit: Option<u64>,
}

impl Aggregate {
    /// This aggregate with `scope` ANDed around its whole row filter (for `crate::scope`).
    pub(crate) fn within(mut self, scope: Filter) -> Aggregate {
        self.filter = scope.and(self.filter);
        self
    }

    /// No grouping, no measure yet.
    pub fn new() -> Aggregate {
        Aggregate::default()
    }

    /// Only rows matching `filter` (`WHERE`; combined with earlier filters by AND).
    pub fn filter(mut self, filter: Filter) -> Aggregate {
        self.filter = std::mem::take(&mut self.filter).and(filter);
        self
    }

    /// Counts soft-deleted rows too.
    pub fn with_deleted(mut self) -> Aggregate {
        self.with_deleted = true;
        self
    }

    /// Groups by a column (added after earlier grouping columns).
    pub fn group_by(mut self, column: impl Into<String>) -> Aggregate {
        self.group_by.push(column.into());
        self
    }

    fn measure(mut self, func: Func, column: Option<String>, alias: impl Into<String>) -> Self {
        self.measures.push(Measure {
            func,
            column,
            resolved: "",
            alias: alias.into(),
        });
        self
    }

    /// `COUNT(*) AS alias`: rows per group.
    pub fn count(self, alias: impl Into<String>) -> Aggregate {
        self.measure(Func::Count, None, alias)
    }

    /// `COUNT(DISTINCT column) AS alias`.
    pub fn count_distinct(self, column: impl Into<String>, alias: impl Into<String>) -> Self {
        self.measure(Func::CountDistinct, Some(column.into()), alias)
    }

    /// `SUM(column) AS alias` (NULL for a group with no non-null value).
    pub fn sum(self, column: impl Into<String>, alias: impl Into<String>) -> Aggregate {
        self.measure(Func::Sum, Some(column.into()), alias)
    }

    /// `AVG(column) AS alias`.
    pub fn avg(self, column: impl Into<String>, alias: impl Into<String>) -> Aggregate {
        self.measure(Func::Avg, Some(column.into()), alias)
    }

    /// `MIN(column) AS alias`.
    pub fn min(self, column: impl Into<String>, alias: impl Into<String>) -> Aggregate {
        self.measure(Func::Min, Some(column.into()), alias)
    }

    /// `MAX(column) AS alias`.
    pub fn max(self, column: impl Into<String>, alias: impl Into<String>) -> Aggregate {
        self.measure(Func::Max, Some(column.into()), alias)
    }

    /// Only groups matching `filter` (`HAVING`): its column names are measure aliases
    /// (standing for the measure's expression, so it works on every backend) or columns.
    pub fn having(mut self, filter: Filter) -> Aggregate {
        self.having = std::mem::take(&mut self.having).and(filter);
        self
    }

    /// Orders groups by a measure alias or a column.
    pub fn order_by(mut self, order: Order) -> Aggregate {
        self.order.push(order);
        self
    }

    /// At most `n` groups.
    pub fn limit(mut self, n: u64) -> Aggregate {
        self.limit = Some(n);
        self
    }
}

impl<E: Entity> Repository<E> {
    /// Runs an [`Aggregate`] and converts each result row to `T` (a
    /// [`Record`](super::Record), a tuple, or any [`FromRow`] type).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> lexigram_sql::Result<()> {
    /// use lexigram_sql::{Database, Entity};
    /// use lexigram_sql::repository::{asc, col, Aggregate};
    ///
    /// #[derive(Debug, Clone, Entity)]
    /// struct Sale { #[entity(key, generated)] id: i64, month: i64, amount: i64 }
    ///
    /// let db = Database::connect_url("sqlite://").await?;
    /// db.execute_batch("CREATE TABLE sales (id INTEGER PRIMARY KEY, month INTEGER NOT NULL, amount INTEGER NOT NULL)").await?;
    /// let sales = db.repository::<Sale>();
    /// for (month, amount) in [(1, 10), (1, 30), (2, 5), (3, 50)] {
    ///     sales.create(Sale { id: 0, month, amount }).await?;
    /// }
    /// let per_month: Vec<(i64, i64, i64)> = sales
    ///     .aggregate(
    ///         Aggregate::new()
    ///             .group_by("month")
    ///             .count("n")
    ///             .sum("amount", "revenue")
    ///             .having(col("revenue").gte(10))
    ///             .order_by(asc("month")),
    ///     )
    ///     .await?;
    /// assert_eq!(per_month, [(1, 2, 40), (3, 1, 50)]);
    /// # Ok(()) }
    /// ```
    pub async fn aggregate<T: FromRow>(&self, aggregate: Aggregate) -> Result<Vec<T>> {
        let buf = self.aggregate_sql(aggregate)?;
        let rows = self.ex.fetch_all(&buf.sql, &buf.params).await?;
        rows.into_iter().map(T::from_row).collect()
    }

    fn aggregate_sql(&self, mut agg: Aggregate) -> Result<SqlBuf> {
        let meta = E::meta();
        if agg.measures.is_empty() && agg.group_by.is_empty() {
            return Err(invalid(
                meta.name,
                "an aggregate needs a measure (count, sum, avg, min, max) or a grouping column. Fix: add one",
            ));
        }
        let mut group = Vec::with_capacity(agg.group_by.len());
        for g in &agg.group_by {
            group.push(meta.columns[meta.resolve(g)?].name);
        }
        for m in &mut agg.measures {
            ident::check("alias", &m.alias)?;
            if let Some(c) = &m.column {
                m.resolved = meta.columns[meta.resolve(c)?].name;
            }
        }
        let d = self.ex.dialect();
        let mut buf = SqlBuf::new(d, "SELECT ");
        for (i, g) in group.iter().enumerate() {
            if i > 0 {
                buf.push(", ");
            }
            buf.ident(g);
        }
        for (i, m) in agg.measures.iter().enumerate() {
            if i > 0 || !group.is_empty() {
                buf.push(", ");
            }
            m.push_expr(&mut buf);
            buf.push(" AS ");
            buf.ident(&m.alias);
        }
        buf.push(" FROM ");
        buf.table(meta.table);
        let sd = if agg.with_deleted {
            None
        } else {
            Self::soft_delete_column()
        };
        buf.where_clause(&agg.filter.0, sd, Self::cols())?;
        for (i, g) in group.iter().enumerate() {
            buf.push(if i == 0 { " GROUP BY " } else { ", " });
            buf.ident(g);
        }
        let grouped = Columns::Grouped(meta, &agg.measures);
        if !agg.having.is_all() {
            buf.push(" HAVING ");
            buf.node(&agg.having.0, grouped)?;
            buf.check_params(grouped)?;
        }
        buf.order_by(&agg.order, grouped)?;
        buf.limit_offset(agg.limit, None);
        Ok(buf)
    }
}
