//! Bulk work of [`Repository`]: streaming reads and chunked multi-row inserts.

use std::pin::Pin;

use futures_util::{Stream, StreamExt};

use super::entity::Entity;
use super::query::{Query, asc};
use super::repo::{Repository, now_micros, pick, prepare_insert};
use super::sql::{list, placeholders};
use crate::database::Executor;
use crate::error::Result;

/// A stream of entities that holds its connection until it ends or is dropped.
pub type EntityStream<E> = Pin<Box<dyn Stream<Item = Result<E>> + Send + 'static>>;

/// Rows read per statement when streaming inside a transaction (which cannot lend out its
/// connection to a stream).
const TX_STREAM_CHUNK: u64 = 1000;

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
    /// limit allows; on the pool, all chunks run in one transaction. Generated keys are not
    /// read back (use [`Repository::create`] for that). `created_at`/`updated_at` columns get
    /// one timestamp for the whole call. Returns the number of rows inserted.
    pub async fn create_many(&self, entities: impl IntoIterator<Item = E>) -> Result<u64> {
        let entities: Vec<E> = entities.into_iter().collect();
        let width = self.sql.insert_cols.len().max(1);
        let per_chunk = (self.ex.dialect().max_params() / width).max(1);
        if entities.len() > per_chunk
            && let Executor::Database(db) = &self.ex
        {
            let tx = db.begin().await?;
            let inner = Repository::<E>::new(Executor::Transaction(tx.clone()));
            let n = inner.insert_chunks(entities, per_chunk).await;
            return match n {
                Ok(n) => tx.commit().await.map(|()| n),
                Err(e) => {
                    let _ = tx.rollback().await;
                    Err(e)
                }
            };
        }
        self.insert_chunks(entities, per_chunk).await
    }

    async fn insert_chunks(&self, entities: Vec<E>, per_chunk: usize) -> Result<u64> {
        let meta = E::meta();
        let dialect = self.ex.dialect();
        let cols = &self.sql.insert_cols;
        let head = format!(
            "INSERT INTO {} ({}) VALUES ",
            self.sql.table,
            list(dialect, meta, cols)
        );
        let mut full_sql: Option<String> = None;
        let now = now_micros();
        let mut total = 0u64;
        let mut iter = entities.into_iter().peekable();
        while iter.peek().is_some() {
            let mut params = Vec::with_capacity(per_chunk * cols.len());
            let mut rows = 0usize;
            for e in iter.by_ref().take(per_chunk) {
                let mut values = e.into_values();
                prepare_insert(meta, &mut values, &now);
                params.extend(pick(values, cols));
                rows += 1;
            }
            let names = cols.iter().cycle().map(|&i| meta.columns[i].name);
            self.ex
                .check_columns(meta.table, names, &mut params)
                .await?;
            let build = |rows: usize| {
                let mut sql = head.clone();
                for r in 0..rows {
                    if r > 0 {
                        sql.push_str(", ");
                    }
                    sql.push('(');
                    sql.push_str(&placeholders(dialect, r * cols.len() + 1, cols.len()));
                    sql.push(')');
                }
                sql
            };
            let sql = if rows == per_chunk {
                full_sql.get_or_insert_with(|| build(rows)).clone()
            } else {
                build(rows)
            };
            total += self.ex.execute(&sql, &params).await?;
        }
        Ok(total)
    }
}
