//! [`Join`]: rows of two entities joined on columns, read as tuples of entities, with filters
//! and ordering on either side. Made by [`Repository::join`] and [`Repository::join_on`].

use std::marker::PhantomData;
use std::sync::Arc;

use super::entity::{Entity, EntityMeta};
use super::filter::{Filter, Node};
use super::project::FromRow;
use super::query::Order;
use super::repo::Repository;
use super::sql::{Columns, SqlBuf, invalid};
use crate::database::Executor;
use crate::error::Result;
use crate::value::{Row, Value};

/// Table aliases of the two sides.
const LEFT: &str = "t0";
const RIGHT: &str = "t1";

/// A join of entity `E` (the repository's) with entity `J`: `E.left_column = J.right_column`.
/// Filters and ordering name columns of one side each ([`Join::filter`] / [`Join::order_by`]
/// for `E`, [`Join::filter_joined`] / [`Join::order_by_joined`] for `J`), checked against that
/// entity; soft-deleted rows of either side are left out. Run it with [`Join::fetch`] (inner
/// join: `Vec<(E, J)>`) or [`Join::fetch_left`] (left join: `Vec<(E, Option<J>)>`).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> lexigram_sql::Result<()> {
/// use lexigram_sql::{Database, Entity};
/// use lexigram_sql::repository::{asc, col};
///
/// #[derive(Debug, Clone, Entity)]
/// struct Customer { #[entity(key, generated)] id: i64, name: String }
/// #[derive(Debug, Clone, Entity)]
/// struct Order { #[entity(key, generated)] id: i64, customer_id: Option<i64>, total: i64 }
///
/// let db = Database::connect_url("sqlite://").await?;
/// db.execute_batch("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
///     CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER, total INTEGER NOT NULL)").await?;
/// let ada = db.repository::<Customer>().create(Customer { id: 0, name: "ada".into() }).await?;
/// let orders = db.repository::<Order>();
/// orders.create(Order { id: 0, customer_id: Some(ada.id), total: 30 }).await?;
/// orders.create(Order { id: 0, customer_id: None, total: 5 }).await?;
///
/// let with_names: Vec<(Order, Customer)> = orders
///     .join::<Customer>("customer_id")
///     .filter(col("total").gt(10))
///     .filter_joined(col("name").starts_with("a"))
///     .order_by_joined(asc("name"))
///     .fetch()
///     .await?;
/// assert_eq!(with_names[0].1.name, "ada");
/// let all = orders.join::<Customer>("customer_id").order_by(asc("id")).fetch_left().await?;
/// assert!(all[1].1.is_none());
/// # Ok(()) }
/// ```
pub struct Join<E, J> {
    ex: Executor,
    /// `E`'s join columns (column or field names).
    left: Vec<String>,
    /// `J`'s join columns; `None`: `J`'s key columns.
    right: Option<Vec<String>>,
    /// Why no join condition could be made (a declared relation that does not exist), reported
    /// when the join runs.
    unrelated: Option<&'static str>,
    filter: Filter,
    filter_joined: Filter,
    order: Vec<(bool, Order)>,
    limit: Option<u64>,
    offset: Option<u64>,
    _types: PhantomData<fn() -> (E, J)>,
}

impl<E: Entity> Repository<E> {
    /// Joins `J` on `E.left_column = J`'s key (a belongs-to relation such as
    /// `orders.customer_id → customers.id`). For a `J` with a composite key use
    /// [`Repository::join_keys`].
    pub fn join<J: Entity>(&self, left_column: &str) -> Join<E, J> {
        self.join_keys(&[left_column])
    }

    /// Joins `J` on `E`'s `left_columns` = `J`'s key columns, pairwise in order: for a `J` with
    /// a composite key (`order_lines (order_id, line)`).
    pub fn join_keys<J: Entity>(&self, left_columns: &[&str]) -> Join<E, J> {
        Join {
            ex: self.ex.clone(),
            left: left_columns.iter().map(|c| c.to_string()).collect(),
            right: None,
            unrelated: None,
            filter: Filter::all(),
            filter_joined: Filter::all(),
            order: Vec::new(),
            limit: None,
            offset: None,
            _types: PhantomData,
        }
    }

    /// Joins `J` on explicit columns: `E.left_column = J.right_column`.
    pub fn join_on<J: Entity>(&self, left_column: &str, right_column: &str) -> Join<E, J> {
        let mut j = self.join::<J>(left_column);
        j.right = Some(vec![right_column.to_string()]);
        j
    }

    /// Joins `J` on the `belongs_to` relation declared between the two entities, in either
    /// direction: `E`'s `#[entity(belongs_to = J)]` field = `J`'s key, or `E`'s key = `J`'s
    /// `#[entity(belongs_to = E)]` field. Without a declared relation the join fails with
    /// [`Error::InvalidRequest`](crate::Error::InvalidRequest) when it runs.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> lexigram_sql::Result<()> {
    /// use lexigram_sql::{Database, Entity};
    /// use lexigram_sql::repository::asc;
    ///
    /// #[derive(Debug, Clone, Entity)]
    /// struct Author { #[entity(key, generated)] id: i64, name: String }
    /// #[derive(Debug, Clone, Entity)]
    /// struct Book { #[entity(key, generated)] id: i64, #[entity(belongs_to = Author)] author_id: i64, title: String }
    ///
    /// let db = Database::connect_url("sqlite://").await?;
    /// db.execute_batch("CREATE TABLE authors (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
    ///     CREATE TABLE books (id INTEGER PRIMARY KEY, author_id INTEGER NOT NULL, title TEXT NOT NULL)").await?;
    /// let ada = db.repository::<Author>().create(Author { id: 0, name: "ada".into() }).await?;
    /// db.repository::<Book>().create(Book { id: 0, author_id: ada.id, title: "notes".into() }).await?;
    /// let books = db.repository::<Book>().join_declared::<Author>().fetch().await?;
    /// assert_eq!(books[0].1.name, "ada");
    /// let authors = db.repository::<Author>().join_declared::<Book>().order_by(asc("id")).fetch().await?;
    /// assert_eq!(authors[0].1.title, "notes");
    /// # Ok(()) }
    /// ```
    pub fn join_declared<J: Entity>(&self) -> Join<E, J> {
        let (em, jm) = (E::meta(), J::meta());
        if let Some(fk) = em.relation_to(jm) {
            return self.join_keys(&[em.columns[fk].name]);
        }
        let mut j = self.join_keys::<J>(&em.key_columns().map(|c| c.name).collect::<Vec<_>>());
        match jm.relation_to(em) {
            Some(fk) => j.right = Some(vec![jm.columns[fk].name.to_string()]),
            None => {
                j.unrelated = Some(
                    "neither entity declares `#[entity(belongs_to = ..)]` to the other. Fix: declare the relation on the foreign-key field, or name the columns with join/join_on",
                )
            }
        }
        j
    }
}

impl<E: Entity, J: Entity> Join<E, J> {
    /// A condition on `E`'s columns (ANDed with earlier ones).
    pub fn filter(mut self, filter: Filter) -> Self {
        self.filter = std::mem::take(&mut self.filter).and(filter);
        self
    }

    /// A condition on `J`'s columns (ANDed with earlier ones). On a left join, rows without a
    /// match have NULL there, so such a condition drops them as an inner join would.
    pub fn filter_joined(mut self, filter: Filter) -> Self {
        self.filter_joined = std::mem::take(&mut self.filter_joined).and(filter);
        self
    }

    /// Orders by a column of `E`.
    pub fn order_by(mut self, order: Order) -> Self {
        self.order.push((false, order));
        self
    }

    /// Orders by a column of `J`.
    pub fn order_by_joined(mut self, order: Order) -> Self {
        self.order.push((true, order));
        self
    }

    /// At most `n` rows.
    pub fn limit(mut self, n: u64) -> Self {
        self.limit = Some(n);
        self
    }

    /// Skips the first `n` rows.
    pub fn offset(mut self, n: u64) -> Self {
        self.offset = Some(n);
        self
    }

    /// The inner join: pairs with a match on both sides.
    pub async fn fetch(self) -> Result<Vec<(E, J)>> {
        let buf = self.sql(false)?;
        let rows = self.ex.fetch_all(&buf.sql, &buf.params).await?;
        let (lc, rc) = (names(E::meta()), names(J::meta()));
        rows.into_iter()
            .map(|row| {
                let (l, r) = halves(row, &lc, &rc);
                Ok((E::from_row_owned(l)?, J::from_row_owned(r)?))
            })
            .collect()
    }

    /// The left join: every `E` row, with its `J` match or `None`.
    pub async fn fetch_left(self) -> Result<Vec<(E, Option<J>)>> {
        let buf = self.sql(true)?;
        let rows = self.ex.fetch_all(&buf.sql, &buf.params).await?;
        let (lc, rc) = (names(E::meta()), names(J::meta()));
        let jkey = J::meta().keys[0];
        rows.into_iter()
            .map(|row| {
                let (l, r) = halves(row, &lc, &rc);
                let right = if r.values()[jkey] == Value::Null {
                    None
                } else {
                    Some(J::from_row_owned(r)?)
                };
                Ok((E::from_row_owned(l)?, right))
            })
            .collect()
    }

    /// The inner join's rows as `T`: the `left` columns of `E`, then the `right` columns of
    /// `J` (column or field names, checked against each entity), each named by its column name,
    /// so a `#[derive(FromRow)]` struct reads them by name. A right column with the same name
    /// as a selected left one is refused ([`Error::InvalidRequest`](crate::Error::InvalidRequest)):
    /// select it on one side.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> lexigram_sql::Result<()> {
    /// use lexigram_sql::{Database, Entity, FromRow};
    ///
    /// #[derive(Debug, Clone, Entity)]
    /// struct Customer { #[entity(key, generated)] id: i64, name: String }
    /// #[derive(Debug, Clone, Entity)]
    /// struct Order { #[entity(key, generated)] id: i64, #[entity(belongs_to = Customer)] customer_id: i64, total: i64 }
    /// #[derive(Debug, FromRow)]
    /// struct Line { id: i64, total: i64, name: String }
    ///
    /// let db = Database::connect_url("sqlite://").await?;
    /// db.execute_batch("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
    ///     CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL, total INTEGER NOT NULL)").await?;
    /// let ada = db.repository::<Customer>().create(Customer { id: 0, name: "ada".into() }).await?;
    /// db.repository::<Order>().create(Order { id: 0, customer_id: ada.id, total: 30 }).await?;
    /// let lines: Vec<Line> = db.repository::<Order>().join_declared::<Customer>()
    ///     .fetch_columns(&["id", "total"], &["name"]).await?;
    /// assert_eq!((lines[0].total, lines[0].name.as_str()), (30, "ada"));
    /// # Ok(()) }
    /// ```
    pub async fn fetch_columns<T: FromRow>(self, left: &[&str], right: &[&str]) -> Result<Vec<T>> {
        self.fetch_projection(false, left, right).await
    }

    /// Like [`Join::fetch_columns`] on the left join: `J`'s columns are NULL for rows without a
    /// match (read them into `Option` fields).
    pub async fn fetch_left_columns<T: FromRow>(
        self,
        left: &[&str],
        right: &[&str],
    ) -> Result<Vec<T>> {
        self.fetch_projection(true, left, right).await
    }

    async fn fetch_projection<T: FromRow>(
        self,
        left_join: bool,
        left: &[&str],
        right: &[&str],
    ) -> Result<Vec<T>> {
        let (em, jm) = (E::meta(), J::meta());
        let mut pick: Vec<(&'static str, &'static str)> = Vec::new();
        for c in left {
            pick.push((LEFT, em.columns[em.resolve(c)?].name));
        }
        for c in right {
            let name = jm.columns[jm.resolve(c)?].name;
            if pick.iter().any(|(_, n)| *n == name) {
                return Err(invalid(
                    em.name,
                    format!(
                        "join with {}: column `{name}` is selected on both sides, and rows are read by column name. Fix: select it on one side only",
                        jm.name
                    ),
                ));
            }
            pick.push((RIGHT, name));
        }
        if pick.is_empty() {
            return Err(invalid(
                em.name,
                "no columns to select. Fix: name at least one column",
            ));
        }
        let buf = self.sql_with(left_join, Some(&pick))?;
        let rows = self.ex.fetch_all(&buf.sql, &buf.params).await?;
        rows.into_iter().map(T::from_row).collect()
    }

    fn sql(&self, left_join: bool) -> Result<SqlBuf> {
        self.sql_with(left_join, None)
    }

    /// The join's statement, selecting every column of both sides, or the `(alias, column)`
    /// pairs of `pick`.
    fn sql_with(&self, left_join: bool, pick: Option<&[(&str, &str)]>) -> Result<SqlBuf> {
        let (em, jm) = (E::meta(), J::meta());
        let d = self.ex.dialect();
        if let Some(why) = self.unrelated {
            return Err(invalid(em.name, format!("join with {}: {why}", jm.name)));
        }
        let lcols = self
            .left
            .iter()
            .map(|c| em.resolve(c).map(|i| em.columns[i].name))
            .collect::<Result<Vec<_>>>()?;
        let rcols = match &self.right {
            Some(cols) => cols
                .iter()
                .map(|c| jm.resolve(c).map(|i| jm.columns[i].name))
                .collect::<Result<Vec<_>>>()?,
            None => jm.key_columns().map(|c| c.name).collect(),
        };
        if lcols.len() != rcols.len() {
            return Err(invalid(
                em.name,
                format!(
                    "join with {}: {} column(s) of {} against {} of {} ({}). Fix: name one column of {} per key column, with join_keys",
                    jm.name,
                    lcols.len(),
                    em.name,
                    rcols.len(),
                    jm.name,
                    rcols.join(", "),
                    em.name
                ),
            ));
        }
        let mut buf = SqlBuf::new(d, "SELECT ");
        let all: Vec<(&str, &str)>;
        let pick = match pick {
            Some(p) => p,
            None => {
                all = [(LEFT, em), (RIGHT, jm)]
                    .iter()
                    .flat_map(|(alias, meta)| meta.columns.iter().map(move |c| (*alias, c.name)))
                    .collect();
                &all
            }
        };
        for (i, (alias, column)) in pick.iter().enumerate() {
            if i > 0 {
                buf.push(", ");
            }
            buf.push(alias);
            buf.push(".");
            buf.ident(column);
        }
        buf.push(" FROM ");
        buf.table(em.table);
        buf.push(" ");
        buf.push(LEFT);
        buf.push(if left_join {
            " LEFT JOIN "
        } else {
            " INNER JOIN "
        });
        buf.table(jm.table);
        buf.push(" ");
        buf.push(RIGHT);
        buf.push(" ON ");
        for (n, (l, r)) in lcols.iter().zip(&rcols).enumerate() {
            if n > 0 {
                buf.push(" AND ");
            }
            buf.push(LEFT);
            buf.push(".");
            buf.ident(l);
            buf.push(" = ");
            buf.push(RIGHT);
            buf.push(".");
            buf.ident(r);
        }
        if let Some(sd) = jm.soft_delete {
            // In ON: a soft-deleted match is no match (kept as NULLs by a left join).
            buf.push(" AND ");
            buf.push(RIGHT);
            buf.push(".");
            buf.ident(jm.columns[sd].name);
            buf.push(" IS NULL");
        }
        let mut terms: Vec<(Columns<'static>, &Node)> = Vec::new();
        let live = em.soft_delete.map(|sd| Node::Null {
            column: em.columns[sd].name.to_string(),
            negated: false,
        });
        if let Some(n) = &live {
            terms.push((Columns::Aliased(em, LEFT), n));
        }
        if !self.filter.is_all() {
            terms.push((Columns::Aliased(em, LEFT), &self.filter.0));
        }
        if !self.filter_joined.is_all() {
            terms.push((Columns::Aliased(jm, RIGHT), &self.filter_joined.0));
        }
        for (i, (cols, node)) in terms.iter().enumerate() {
            buf.push(if i == 0 { " WHERE " } else { " AND " });
            buf.push("(");
            buf.node(node, *cols)?;
            buf.push(")");
        }
        for (i, (joined, o)) in self.order.iter().enumerate() {
            buf.push(if i == 0 { " ORDER BY " } else { ", " });
            let cols = if *joined {
                Columns::Aliased(jm, RIGHT)
            } else {
                Columns::Aliased(em, LEFT)
            };
            buf.column(cols, o.column())?;
            if o.is_desc() {
                buf.push(" DESC");
            }
        }
        buf.limit_offset(self.limit, self.offset);
        buf.check_params(Columns::Entity(em))?;
        Ok(buf)
    }
}

fn names(meta: &EntityMeta) -> Arc<[String]> {
    meta.columns.iter().map(|c| c.name.to_string()).collect()
}

/// Splits a joined row into the left entity's columns and the right's.
fn halves(row: Row, left: &Arc<[String]>, right: &Arc<[String]>) -> (Row, Row) {
    let mut values = row.into_values();
    let r = values.split_off(left.len().min(values.len()));
    (Row::new(left.clone(), values), Row::new(right.clone(), r))
}
