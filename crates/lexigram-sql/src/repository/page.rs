//! Pagination: offset pages with totals ([`Page`]) and keyset (cursor) pages ([`CursorPage`]).

use super::entity::Entity;
use super::filter::{Cmp, Filter, Node};
use super::query::{Query, asc};
use super::repo::Repository;
use super::sql::invalid;
use crate::error::Result;
use crate::value::Value;

/// One page of an offset-paginated query, with the total number of matching rows.
///
/// ```
/// let page = lexigram_sql::repository::Page { items: vec![1, 2], total: 5, page: 1, per_page: 2 };
/// assert_eq!(page.pages(), 3);
/// assert!(page.has_next());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The rows of this page.
    pub items: Vec<T>,
    /// Rows matching the query, over all pages.
    pub total: u64,
    /// This page's number, from 1.
    pub page: u64,
    /// Page size.
    pub per_page: u64,
}

impl<T> Page<T> {
    /// Number of pages (0 when nothing matches).
    pub fn pages(&self) -> u64 {
        self.total.div_ceil(self.per_page.max(1))
    }

    /// True if a later page has rows.
    pub fn has_next(&self) -> bool {
        self.page < self.pages()
    }
}

/// Where a keyset page ends: the values of the ordering columns (then the key columns not
/// among them) of its last row. Pass it to [`Repository::page_after`] for the next page.
#[derive(Debug, Clone, PartialEq)]
pub struct Cursor(Vec<Value>);

impl Cursor {
    /// Builds a cursor from ordering values (e.g. decoded from an API token).
    pub fn new(values: Vec<Value>) -> Cursor {
        Cursor(values)
    }

    /// The ordering values, in ordering order (the key last).
    pub fn values(&self) -> &[Value] {
        &self.0
    }
}

/// One page of a keyset-paginated query.
#[derive(Debug, Clone, PartialEq)]
pub struct CursorPage<T> {
    /// The rows of this page.
    pub items: Vec<T>,
    /// Cursor for the next page; `None` on the last page.
    pub next: Option<Cursor>,
    /// Rows matching the query, over all pages.
    pub total: u64,
}

impl<E: Entity> Repository<E> {
    /// Page `page` (from 1) of `per_page` rows, with the total. Without ordering terms the
    /// query is ordered by key, so pages are stable.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> lexigram_sql::Result<()> {
    /// # use lexigram_sql::{Database, Entity};
    /// # use lexigram_sql::repository::Query;
    /// #[derive(Debug, Clone, Entity)]
    /// struct Item { #[entity(key)] id: i64 }
    /// let db = Database::connect_url("sqlite://").await?;
    /// db.execute_batch("CREATE TABLE items (id INTEGER PRIMARY KEY)").await?;
    /// let items = db.repository::<Item>();
    /// items.create_many((1..=5).map(|id| Item { id })).await?;
    /// let page = items.page(Query::new(), 3, 2).await?;
    /// assert_eq!((page.items.len(), page.total, page.pages()), (1, 5, 3));
    /// # Ok(()) }
    /// ```
    pub async fn page(&self, query: impl Into<Query>, page: u64, per_page: u64) -> Result<Page<E>> {
        if per_page == 0 {
            return Err(invalid(E::meta().name, "per_page must be at least 1"));
        }
        let page = page.max(1);
        let mut query = query.into();
        if query.order.is_empty() {
            query
                .order
                .extend(E::meta().key_columns().map(|c| asc(c.name)));
        }
        let page_query = query
            .clone()
            .limit(per_page)
            .offset((page - 1).saturating_mul(per_page));
        self.select(&page_query)?; // unknown columns, too many parameters: before any round trip
        let total = self.count(query).await?;
        let items = self.find_many(page_query).await?;
        Ok(Page {
            items,
            total,
            page,
            per_page,
        })
    }

    /// Keyset pagination: the `per_page` rows after `after` (from the start for `None`), in
    /// the query's order with the key (every column of a composite key) as the last
    /// tie-breaker. Unlike offsets, pages stay
    /// correct while rows are inserted and cost the same however deep. Ordering columns should
    /// be NOT NULL.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> lexigram_sql::Result<()> {
    /// # use lexigram_sql::{Database, Entity};
    /// # use lexigram_sql::repository::{desc, Query};
    /// #[derive(Debug, Clone, Entity)]
    /// struct Item { #[entity(key)] id: i64, score: i64 }
    /// let db = Database::connect_url("sqlite://").await?;
    /// db.execute_batch("CREATE TABLE items (id INTEGER PRIMARY KEY, score INTEGER NOT NULL)").await?;
    /// let items = db.repository::<Item>();
    /// items.create_many((1..=5).map(|id| Item { id, score: id % 2 })).await?;
    /// let q = Query::new().order_by(desc("score"));
    /// let first = items.page_after(q.clone(), None, 3).await?;
    /// let rest = items.page_after(q, first.next.as_ref(), 3).await?;
    /// let ids: Vec<i64> = first.items.iter().chain(&rest.items).map(|i| i.id).collect();
    /// assert_eq!(ids, [1, 3, 5, 2, 4]);
    /// assert!(rest.next.is_none());
    /// # Ok(()) }
    /// ```
    pub async fn page_after(
        &self,
        query: impl Into<Query>,
        after: Option<&Cursor>,
        per_page: u64,
    ) -> Result<CursorPage<E>> {
        let meta = E::meta();
        if per_page == 0 {
            return Err(invalid(meta.name, "per_page must be at least 1"));
        }
        let mut query = query.into();
        query.limit = None;
        query.offset = None;
        let mut terms: Vec<(usize, bool)> = Vec::with_capacity(query.order.len() + 1);
        for o in &query.order {
            terms.push((meta.resolve(&o.column)?, o.desc));
        }
        for &k in meta.keys {
            if !terms.iter().any(|&(i, _)| i == k) {
                terms.push((k, false));
                query.order.push(asc(meta.columns[k].name));
            }
        }
        let total = self.count(query.clone()).await?;
        let mut page_query = query.limit(per_page + 1);
        if let Some(cursor) = after {
            if cursor.0.len() != terms.len() {
                return Err(invalid(
                    meta.name,
                    format!(
                        "the cursor has {} values but the query orders by {} columns. Fix: pass the cursor returned by the same query",
                        cursor.0.len(),
                        terms.len()
                    ),
                ));
            }
            page_query.filter =
                std::mem::take(&mut page_query.filter).and(after_filter(meta, &terms, cursor));
        }
        let mut items = self.find_many(page_query).await?;
        let next = if items.len() as u64 > per_page {
            items.truncate(per_page as usize);
            items
                .last()
                .map(|last| Cursor(terms.iter().map(|&(i, _)| last.get_column(i)).collect()))
        } else {
            None
        };
        Ok(CursorPage { items, next, total })
    }
}

/// `(a > ?) OR (a = ? AND b < ?) OR …`: rows strictly after the cursor in the given order.
fn after_filter(meta: &super::EntityMeta, terms: &[(usize, bool)], cursor: &Cursor) -> Filter {
    let mut any = Vec::with_capacity(terms.len());
    for (n, &(i, desc)) in terms.iter().enumerate() {
        let mut all = Vec::with_capacity(n + 1);
        for (m, &(j, _)) in terms.iter().enumerate().take(n) {
            all.push(cmp(meta.columns[j].name, Cmp::Eq, &cursor.0[m]));
        }
        all.push(cmp(
            meta.columns[i].name,
            if desc { Cmp::Lt } else { Cmp::Gt },
            &cursor.0[n],
        ));
        any.push(Node::And(all));
    }
    Filter(Node::Or(any))
}

fn cmp(column: &str, op: Cmp, value: &Value) -> Node {
    Node::Compare {
        column: column.to_string(),
        op,
        value: value.clone(),
    }
}
