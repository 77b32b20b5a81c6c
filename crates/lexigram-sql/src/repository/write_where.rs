//! Bulk writes by filter: [`Repository::update_where`], [`Repository::delete_where`] (and the
//! statement runner `delete_many` shares with them).

use super::entity::Entity;
use super::filter::{Filter, Node};
use super::record::Record;
use super::repo::Repository;
use super::sql::{SqlBuf, invalid};
use crate::database::Executor;
use crate::error::Result;
use crate::value::Value;

/// One bulk write: a `DELETE` when `set` is empty, else an `UPDATE` of `set`.
pub(super) struct WriteSpec {
    /// Columns and values to assign.
    pub(super) set: Vec<(&'static str, Value)>,
    /// Also `version = version + 1`.
    pub(super) bump_version: bool,
    /// Only rows that are not soft-deleted.
    pub(super) only_live: bool,
}

impl<E: Entity> Repository<E> {
    /// Sets the columns in `changes` on every row matching `filter`, and returns how many rows
    /// were updated. Column names (or field names) are checked against the entity first: an
    /// unknown one is [`Error::UnknownColumn`](crate::Error::UnknownColumn) and nothing is
    /// sent. On a versioned entity every updated row's version is raised by one; the version
    /// column itself cannot be set. An `#[entity(updated_at)]` column not in `changes` is set to
    /// now. Soft-deleted rows are left alone.
    ///
    /// A filter with no condition ([`Filter::default`]) is refused with
    /// [`Error::InvalidRequest`](crate::Error::InvalidRequest); say [`Filter::all`] to update
    /// every row. A long `is_in` list is split under the parameter limit into several
    /// statements run in one transaction.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> lexigram_sql::Result<()> {
    /// use lexigram_sql::{Database, Entity};
    /// use lexigram_sql::repository::{col, Filter, Record};
    ///
    /// #[derive(Debug, Clone, Entity)]
    /// struct Invoice {
    ///     #[entity(key, generated)]
    ///     id: i64,
    ///     due: i64,
    ///     status: String,
    ///     #[entity(version)]
    ///     version: i64,
    /// }
    ///
    /// let db = Database::connect_url("sqlite://").await?;
    /// db.execute_batch("CREATE TABLE invoices (id INTEGER PRIMARY KEY, due INTEGER NOT NULL, status TEXT NOT NULL, version INTEGER NOT NULL)").await?;
    /// let invoices = db.repository::<Invoice>();
    /// for due in [1, 5, 9] {
    ///     invoices.create(Invoice { id: 0, due, status: "open".into(), version: 0 }).await?;
    /// }
    /// let marked = invoices
    ///     .update_where(col("due").lt(6), Record::new().set("status", "overdue"))
    ///     .await?;
    /// assert_eq!(marked, 2);
    /// assert_eq!(invoices.count(col("version").eq(2)).await?, 2);
    /// // No condition at all is refused; every row must be asked for.
    /// assert!(invoices.update_where(Filter::default(), Record::new().set("status", "x")).await.is_err());
    /// assert_eq!(invoices.update_where(Filter::all(), Record::new().set("status", "paid")).await?, 3);
    /// # Ok(()) }
    /// ```
    pub async fn update_where(&self, filter: Filter, changes: Record) -> Result<u64> {
        let meta = E::meta();
        self.refuse_empty(&filter, "update_where")?;
        if changes.is_empty() {
            return Err(invalid(
                meta.name,
                "update_where: nothing to update: the record of changes is empty. Fix: set at least one column",
            ));
        }
        let (columns, mut values) = changes.into_parts();
        let mut names = Vec::with_capacity(columns.len());
        for c in &columns {
            let i = meta.resolve(c)?;
            if Some(i) == meta.version {
                return Err(invalid(
                    meta.name,
                    format!(
                        "update_where cannot set the version column '{}': it is raised by one on every updated row. Fix: leave it out of the changes",
                        meta.columns[i].name
                    ),
                ));
            }
            names.push(meta.columns[i].name);
        }
        if let Some(u) = meta.updated_at
            && !names.contains(&meta.columns[u].name)
        {
            names.push(meta.columns[u].name);
            values.push(Value::Timestamp(super::repo::now_micros()));
        }
        self.ex
            .check_columns(meta.table, names.iter().copied(), &mut values)
            .await?;
        let spec = WriteSpec {
            set: names.into_iter().zip(values).collect(),
            bump_version: meta.version.is_some(),
            only_live: true,
        };
        self.run_write(&spec, filter).await
    }

    /// Deletes every row matching `filter` and returns how many. On an entity with a
    /// `#[entity(soft_delete)]` column the rows are marked deleted (set to now; rows already
    /// marked are left alone) instead of removed, and a versioned entity's version is raised
    /// by one; use [`Repository::delete_many`] to remove rows for good.
    ///
    /// Unknown columns are [`Error::UnknownColumn`](crate::Error::UnknownColumn) before any SQL
    /// is sent. A filter with no condition ([`Filter::default`]) is refused; say
    /// [`Filter::all`] to delete every row.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> lexigram_sql::Result<()> {
    /// use chrono::{DateTime, Utc};
    /// use lexigram_sql::{Database, Entity};
    /// use lexigram_sql::repository::{col, Query};
    ///
    /// #[derive(Debug, Clone, Entity)]
    /// struct Post {
    ///     #[entity(key, generated)]
    ///     id: i64,
    ///     spam: bool,
    ///     #[entity(soft_delete)]
    ///     deleted_at: Option<DateTime<Utc>>,
    /// }
    ///
    /// let db = Database::connect_url("sqlite://").await?;
    /// db.execute_batch("CREATE TABLE posts (id INTEGER PRIMARY KEY, spam BOOLEAN NOT NULL, deleted_at TIMESTAMP)").await?;
    /// let posts = db.repository::<Post>();
    /// for spam in [true, true, false] {
    ///     posts.create(Post { id: 0, spam, deleted_at: None }).await?;
    /// }
    /// assert_eq!(posts.delete_where(col("spam").eq(true)).await?, 2);
    /// assert_eq!(posts.count(Query::new()).await?, 1); // the two are hidden…
    /// assert_eq!(posts.count(Query::new().with_deleted()).await?, 3); // …not removed
    /// # Ok(()) }
    /// ```
    pub async fn delete_where(&self, filter: Filter) -> Result<u64> {
        let meta = E::meta();
        self.refuse_empty(&filter, "delete_where")?;
        let spec = match meta.soft_delete {
            Some(sd) => {
                let now = chrono::Utc::now();
                let now =
                    chrono::DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now);
                let mut at = vec![Value::Timestamp(now)];
                let name = meta.columns[sd].name;
                self.ex.check_columns(meta.table, [name], &mut at).await?;
                WriteSpec {
                    set: vec![(name, at.remove(0))],
                    bump_version: meta.version.is_some(),
                    only_live: true,
                }
            }
            None => WriteSpec {
                set: Vec::new(),
                bump_version: false,
                only_live: false,
            },
        };
        self.run_write(&spec, filter).await
    }

    /// [`Error::InvalidRequest`](crate::Error::InvalidRequest) for a filter with no condition.
    pub(super) fn refuse_empty(&self, filter: &Filter, method: &str) -> Result<()> {
        if filter.is_empty() {
            return Err(invalid(
                E::meta().name,
                format!(
                    "{method} was given a filter with no condition, which would touch every row. Fix: pass a condition, or `Filter::all()` to mean every row"
                ),
            ));
        }
        Ok(())
    }

    /// The statement of `spec` for one filter.
    fn build_write(&self, spec: &WriteSpec, filter: &Node) -> Result<SqlBuf> {
        let meta = E::meta();
        let d = self.ex.dialect();
        let table = &self.sql.table;
        let mut buf = if spec.set.is_empty() {
            SqlBuf::new(d, &format!("DELETE FROM {table}"))
        } else {
            let mut buf = SqlBuf::new(d, &format!("UPDATE {table} SET "));
            for (i, (column, value)) in spec.set.iter().enumerate() {
                if i > 0 {
                    buf.push(", ");
                }
                buf.ident(column);
                buf.push(" = ");
                buf.param(value.clone());
            }
            if let (true, Some(v)) = (spec.bump_version, meta.version) {
                let qv = d.quote_ident(meta.columns[v].name);
                buf.push(&format!(", {qv} = {qv} + 1"));
            }
            buf
        };
        let live = if spec.only_live {
            Self::soft_delete_column()
        } else {
            None
        };
        buf.where_clause(filter, live, Self::cols())?;
        Ok(buf)
    }

    /// Runs `spec` for `filter`: one statement, or — for a long `is_in` list — one per chunk,
    /// all in one transaction (the caller's, or one begun here). Returns rows affected.
    pub(super) async fn run_write(&self, spec: &WriteSpec, filter: Filter) -> Result<u64> {
        let Some(parts) = self.split_filter(&filter, spec.set.len()) else {
            let buf = self.build_write(spec, &filter.0)?;
            return self.ex.execute(&buf.sql, &buf.params).await;
        };
        // Build every statement first: a bad column fails before anything runs.
        let bufs: Vec<SqlBuf> = parts
            .iter()
            .map(|p| self.build_write(spec, p))
            .collect::<Result<_>>()?;
        let tx = match &self.ex {
            Executor::Database(db) => Some(db.begin().await?),
            Executor::Transaction(_) => None,
        };
        let ex = match &tx {
            Some(tx) => Executor::Transaction(tx.clone()),
            None => self.ex.clone(),
        };
        let mut total = 0u64;
        for buf in &bufs {
            match ex.execute(&buf.sql, &buf.params).await {
                Ok(n) => total += n,
                Err(e) => {
                    if let Some(tx) = &tx {
                        let _ = tx.rollback().await;
                    }
                    return Err(e);
                }
            }
        }
        if let Some(tx) = tx {
            tx.commit().await?;
        }
        Ok(total)
    }
}
