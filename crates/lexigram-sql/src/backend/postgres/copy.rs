//! `create_many` on PostgreSQL by binary `COPY … FROM STDIN`: the column types come from the
//! catalog (a cached `SELECT … LIMIT 0` of the columns), and every value is encoded by the same
//! exact rules as a bound parameter ([`Param`]), so a value the column cannot hold exactly is
//! refused with [`Error::Encode`](crate::Error::Encode) and the whole `COPY` is aborted: no row
//! of it is stored.

use futures_util::pin_mut;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::Type;

use super::super::postgres_values::{Param, encodes};
use super::super::{CopyRows, Dialect, Postgres};
use super::PgConn;
use crate::error::Result;

impl PgConn {
    /// The declared types of the columns (read once per connection, by a prepared and cached
    /// `SELECT … LIMIT 0`), or `None` if one is a type the encoder does not know (the caller
    /// then falls back to `INSERT`).
    pub(super) async fn column_types(&mut self, rows: &CopyRows<'_>) -> Result<Option<Vec<Type>>> {
        let d = Postgres;
        let cols: Vec<String> = rows.columns.iter().map(|c| d.quote_ident(c)).collect();
        let probe = format!(
            "SELECT {} FROM {} LIMIT 0",
            cols.join(", "),
            crate::ident::quote_table(&d, rows.table)
        );
        let prepared = self.statement(&probe).await?;
        let types: Vec<Type> = prepared
            .statement
            .columns()
            .iter()
            .map(|c| c.type_().clone())
            .collect();
        Ok(types.iter().all(encodes).then_some(types))
    }

    /// Runs the binary `COPY`; `Ok(None)` without statement caching (behind PgBouncer in
    /// transaction mode the types cannot be looked up once and kept) or for a column type the
    /// encoder does not know.
    pub(super) async fn copy_rows(&mut self, rows: &CopyRows<'_>) -> Result<Option<u64>> {
        if !self.cache || rows.columns.is_empty() {
            return Ok(None);
        }
        let Some(types) = self.column_types(rows).await? else {
            return Ok(None);
        };
        let Some(sql) = Postgres.bulk_copy_sql(rows.table, rows.columns) else {
            return Ok(None);
        };
        self.in_flight = true;
        let result = async {
            let sink = self.client.copy_in(&sql).await?;
            let writer = BinaryCopyInWriter::new(sink, &types);
            pin_mut!(writer);
            for row in rows.values.chunks(rows.columns.len()) {
                let params = row.iter().enumerate().map(|(i, v)| Param(i + 1, v));
                writer.as_mut().write_raw(params).await?;
            }
            writer.finish().await
        }
        .await;
        self.done(result).map(Some)
    }
}
