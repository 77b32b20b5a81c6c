//! Bulk work of [`Repository`]: streaming reads and chunked multi-row inserts.

use std::pin::Pin;

use futures_util::{Stream, StreamExt};

use super::entity::Entity;
use super::query::{Query, asc};
use super::repo::{Repository, now_micros, pick, prepare_insert};
use super::sql::list;
use crate::backend::CopyRows;
use crate::database::Executor;
use crate::error::Result;

/// A stream of entities that holds its connection until it ends or is dropped.
pub type EntityStream<E> = Pin<Box<dyn Stream<Item = Result<E>> + Send + 'static>>;

/// Rows read per statement when streaming inside a transaction (which cannot lend out its
/// connection to a stream).
const TX_STREAM_CHUNK: u64 = 1000;

/// Rows from which `create_many` loads by the backend's bulk path where it has one
/// (PostgreSQL's `COPY`): below it, one multi-row `INSERT` costs fewer round trips.
const COPY_MIN_ROWS: usize = 1000;

impl<E: Entity> Repository<E> {
    /// Streams the matching entities in constant memory. On the pool the stream holds one
    /// connection until it ends or is dropped; inside a transaction it reads chunks of 1,000
    /// rows (ordered by the query's terms, then the key).
    pub async fn stream(&self, query: impl Into<Query>) -> Result<EntityStream<E>> {
        let query = query.into();
        match &self.ex {
            Executor::Database(db) => {
                let buf = self.select(&query)?;
                let rows = db.fetch_stream(&buf.sql, &buf.params).await?;
                Ok(Box::pin(rows.map(|r| r.and_then(E::from_row_owned))))
            }
            Executor::Transaction(_) => self.stream_chunked(query),
        }
    }

    fn stream_chunked(&self, mut query: Query) -> Result<EntityStream<E>> {
        let meta = E::meta();
        for k in meta.keys {
            if !query
                .order
                .iter()
                .any(|o| meta.index_of(&o.column) == Some(*k))
            {
                query.order.push(asc(meta.columns[*k].name));
            }
        }
        self.select(&query)?; // reject unknown columns now, not at the first poll
        let repo = self.clone();
        let start = query.offset.unwrap_or(0);
        let limit = query.limit;
        Ok(Box::pin(async_stream::try_stream! {
            let mut read = 0u64;
            loop {
                let want = limit.map_or(TX_STREAM_CHUNK, |l| TX_STREAM_CHUNK.min(l - read));
                if want == 0 { break; }
                let q = Query { limit: Some(want), offset: Some(start + read), ..query.clone() };
                let buf = repo.select(&q)?;
                let rows = repo.ex.fetch_all(&buf.sql, &buf.params).await?;
                let n = rows.len() as u64;
                for row in rows {
                    yield E::from_row_owned(row)?;
                }
                read += n;
                if n < want { break; }
            }
        }))
    }

    /// Inserts many entities with multi-row `INSERT`s, each as large as the backend's parameter
    /// limit allows; on the pool, all chunks run in one transaction. On PostgreSQL, 1,000 rows
    /// or more load by one binary `COPY` instead (the column types read from the catalog, every
    /// value encoded by the same exact rules as a bound parameter; a column type the encoder
    /// does not know, or `statement_cache: false`, falls back to `INSERT`s). Either way the
    /// load is all or nothing. `created_at`/`updated_at` columns get one timestamp for the
    /// whole call. Generated keys are not read back (use [`Repository::create`]
    /// for that). Returns the number of rows inserted.
    pub async fn create_many(&self, entities: impl IntoIterator<Item = E>) -> Result<u64> {
        let meta = E::meta();
        let cols = &self.sql.insert_cols;
        let names: Vec<&str> = cols.iter().map(|&i| meta.columns[i].name).collect();
        let now = now_micros();
        let mut values = Vec::new();
        for e in entities {
            let mut row = e.into_values();
            prepare_insert(meta, &mut row, &now);
            values.extend(pick(row, cols));
        }
        let width = cols.len().max(1);
        let rows = values.len() / width;
        self.ex
            .check_columns(meta.table, names.iter().copied().cycle(), &mut values)
            .await?;
        if rows >= COPY_MIN_ROWS {
            let copy = CopyRows {
                table: meta.table,
                columns: &names,
                values: &values,
            };
            if let Some(n) = self.ex.copy_in(&copy).await? {
                return Ok(n);
            }
        }
        let per_chunk = (self.ex.dialect().max_params() / width).max(1);
        if rows > per_chunk
            && let Executor::Database(db) = &self.ex
        {
            let tx = db.begin().await?;
            let inner = Repository::<E>::new(Executor::Transaction(tx.clone()));
            let n = inner.insert_chunks(&values, per_chunk).await;
            return match n {
                Ok(n) => tx.commit().await.map(|()| n),
                Err(e) => {
                    let _ = tx.rollback().await;
                    Err(e)
                }
            };
        }
        self.insert_chunks(&values, per_chunk).await
    }

    /// Inserts `values` (the insert columns' values, row after row) with one multi-row
    /// `INSERT` per `per_chunk` rows.
    async fn insert_chunks(&self, values: &[crate::value::Value], per_chunk: usize) -> Result<u64> {
        let meta = E::meta();
        let dialect = self.ex.dialect();
        let cols = &self.sql.insert_cols;
        let width = cols.len().max(1);
        let head = format!(
            "INSERT INTO {} ({}) VALUES ",
            self.sql.table,
            list(dialect, meta, cols)
        );
        let build = |rows: usize| {
            let mut sql = head.clone();
            for r in 0..rows {
                if r > 0 {
                    sql.push_str(", ");
                }
                sql.push('(');
                sql.push_str(&dialect.placeholders(r * cols.len() + 1, cols.len()));
                sql.push(')');
            }
            sql
        };
        let mut full_sql: Option<String> = None;
        let mut total = 0u64;
        for chunk in values.chunks(per_chunk * width) {
            let rows = chunk.len() / width;
            let sql = if rows == per_chunk {
                full_sql.get_or_insert_with(|| build(rows)).clone()
            } else {
                build(rows)
            };
            total += self.ex.execute(&sql, chunk).await?;
        }
        Ok(total)
    }
}
