//! The table recording applied migrations (`schema_migrations` unless `migrations.table` says
//! otherwise): version, name, checksum, applied_at, execution time, and a dirty marker.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::backend::{Dialect, SqlType};
use crate::database::Executor;
use crate::error::{Error, Result};
use crate::value::{Row, Value};

/// One row of the migrations table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppliedMigration {
    /// Version of the migration.
    pub version: i64,
    /// Its name, as it was when applied.
    pub name: String,
    /// Checksum of the up script when it was applied.
    pub checksum: String,
    /// When it was applied (UTC).
    pub applied_at: DateTime<Utc>,
    /// How long applying took, in milliseconds.
    pub execution_ms: i64,
    /// True when applying failed halfway on a backend without transactional DDL
    /// (MySQL/MariaDB): the schema is in an unknown state until repaired.
    pub dirty: bool,
}

/// SQL for one migrations table on one backend.
#[derive(Clone)]
pub(crate) struct Store {
    dialect: &'static dyn Dialect,
    /// The table name, quoted for the dialect.
    quoted: String,
}

const COLUMNS: &str = "version, name, checksum, applied_at, execution_ms, dirty";

impl Store {
    /// Checks the table name with the identifier rule of [`crate::ident`] (`table` or
    /// `schema.table`; [`Error::InvalidIdentifier`] otherwise) and quotes it.
    pub(crate) fn new(ex: &Executor, table: &str) -> Result<Store> {
        crate::ident::check_table(table)?;
        Ok(Store {
            dialect: ex.dialect(),
            quoted: crate::ident::quote_table(ex.dialect(), table),
        })
    }

    fn placeholders(&self, n: usize) -> Vec<String> {
        (1..=n).map(|i| self.dialect.placeholders(i, 1)).collect()
    }

    /// `CREATE TABLE IF NOT EXISTS` for the table.
    pub(crate) async fn ensure(&self, ex: &Executor) -> Result<()> {
        let d = self.dialect;
        let (ts, boolean) = (
            d.column_type(SqlType::Timestamp),
            d.column_type(SqlType::Boolean),
        );
        let sql = format!(
            "CREATE TABLE IF NOT EXISTS {} (\
             version BIGINT NOT NULL PRIMARY KEY, \
             name VARCHAR(255) NOT NULL, \
             checksum VARCHAR(64) NOT NULL, \
             applied_at {ts} NOT NULL, \
             execution_ms BIGINT NOT NULL, \
             dirty {boolean} NOT NULL DEFAULT FALSE)",
            self.quoted
        );
        ex.execute(&sql, &[]).await.map(|_| ())
    }

    /// Every recorded migration, by version; an absent table reads as empty.
    pub(crate) async fn list(&self, ex: &Executor) -> Result<Vec<AppliedMigration>> {
        let sql = format!("SELECT {COLUMNS} FROM {} ORDER BY version", self.quoted);
        match ex.fetch_all(&sql, &[]).await {
            Ok(rows) => rows.iter().map(decode).collect(),
            Err(Error::TableMissing { .. }) => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }

    /// The highest recorded version, if any (what a run reports as current afterwards).
    pub(crate) async fn last_version(&self, ex: &Executor) -> Result<Option<i64>> {
        Ok(self.list(ex).await?.iter().map(|a| a.version).max())
    }

    /// Records a migration (dirty when it is about to run outside a transaction).
    pub(crate) async fn insert(&self, ex: &Executor, row: &AppliedMigration) -> Result<()> {
        let sql = format!(
            "INSERT INTO {} ({COLUMNS}) VALUES ({})",
            self.quoted,
            self.placeholders(6).join(", ")
        );
        let params = [
            Value::Int(row.version),
            Value::Text(row.name.clone()),
            Value::Text(row.checksum.clone()),
            Value::Timestamp(row.applied_at),
            Value::Int(row.execution_ms),
            Value::Bool(row.dirty),
        ];
        ex.execute(&sql, &params).await.map(|_| ())
    }

    /// Marks a dirty row clean after its statements succeeded.
    pub(crate) async fn mark_clean(
        &self,
        ex: &Executor,
        version: i64,
        execution_ms: i64,
    ) -> Result<()> {
        let p = self.placeholders(3);
        let sql = format!(
            "UPDATE {} SET dirty = {}, execution_ms = {} WHERE version = {}",
            self.quoted, p[0], p[1], p[2]
        );
        ex.execute(
            &sql,
            &[
                Value::Bool(false),
                Value::Int(execution_ms),
                Value::Int(version),
            ],
        )
        .await
        .map(|_| ())
    }

    /// Marks a recorded row dirty (a revert failed halfway outside a transaction).
    pub(crate) async fn mark_dirty(&self, ex: &Executor, version: i64) -> Result<()> {
        let p = self.placeholders(2);
        let sql = format!(
            "UPDATE {} SET dirty = {} WHERE version = {}",
            self.quoted, p[0], p[1]
        );
        ex.execute(&sql, &[Value::Bool(true), Value::Int(version)])
            .await
            .map(|_| ())
    }

    /// Removes a version's row.
    pub(crate) async fn delete(&self, ex: &Executor, version: i64) -> Result<()> {
        let p = self.placeholders(1);
        let sql = format!("DELETE FROM {} WHERE version = {}", self.quoted, p[0]);
        ex.execute(&sql, &[Value::Int(version)]).await.map(|_| ())
    }

    /// Replaces a version's recorded checksum (repair accepting an edited file).
    pub(crate) async fn set_checksum(
        &self,
        ex: &Executor,
        version: i64,
        checksum: &str,
    ) -> Result<()> {
        let p = self.placeholders(2);
        let sql = format!(
            "UPDATE {} SET checksum = {} WHERE version = {}",
            self.quoted, p[0], p[1]
        );
        ex.execute(
            &sql,
            &[Value::Text(checksum.to_string()), Value::Int(version)],
        )
        .await
        .map(|_| ())
    }
}

fn decode(row: &Row) -> Result<AppliedMigration> {
    Ok(AppliedMigration {
        version: row.get("version")?,
        name: row.get("name")?,
        checksum: row.get("checksum")?,
        applied_at: row.get("applied_at")?,
        execution_ms: row.get("execution_ms")?,
        dirty: row.get("dirty")?,
    })
}
