//! [`Repository`]: reads and writes of one [`Entity`] type through an [`Executor`].

use std::marker::PhantomData;

use super::entity::{Entity, EntityMeta};
use super::filter::{Filter, Node};
use super::key::{Key, KeyValues};
use super::query::Query;
use super::sql::{Columns, EntitySql, SqlBuf, invalid, upsert};
use crate::database::Executor;
use crate::error::{Error, Result};
use crate::value::{FromValue, Value};

/// Reads and writes entities of type `E`. Get one with [`Database::repository`],
/// [`Transaction::repository`] or [`Executor::repository`]: the same code runs on the pool or
/// inside a transaction. Cheap to clone.
///
/// Fixed-shape statements (by key, insert, update, delete) are generated once per entity and
/// backend and reused; each connection prepares them once.
///
/// [`Database::repository`]: crate::Database::repository
/// [`Transaction::repository`]: crate::Transaction::repository
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> lexigram_sql::Result<()> {
/// use lexigram_sql::{Database, Entity};
/// use lexigram_sql::repository::{col, desc, Query};
///
/// #[derive(Debug, Clone, Entity)]
/// struct User {
///     #[entity(key, generated)]
///     id: i64,
///     name: String,
///     #[entity(version)]
///     version: i64,
/// }
///
/// let db = Database::connect_url("sqlite://").await?;
/// db.execute_batch("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, version INTEGER NOT NULL)").await?;
/// let users = db.repository::<User>();
/// let mut ada = users.create(User { id: 0, name: "ada".into(), version: 0 }).await?;
/// assert_eq!((ada.id, ada.version), (1, 1));
/// ada.name = "Ada".into();
/// users.update(&mut ada).await?;
/// assert_eq!(ada.version, 2);
/// let found = users.find_many(Query::new().filter(col("name").like("A%")).order_by(desc("id"))).await?;
/// assert_eq!(found.len(), 1);
/// # Ok(()) }
/// ```
pub struct Repository<E> {
    pub(super) ex: Executor,
    pub(super) sql: &'static EntitySql,
    _entity: PhantomData<fn() -> E>,
}

impl<E> Repository<E> {
    /// This repository with its reads on the primary, for reading back what it just wrote
    /// (a replica may not have it yet).
    pub(super) fn on_primary(&self) -> Repository<E> {
        Repository {
            ex: self.ex.primary(),
            sql: self.sql,
            _entity: PhantomData,
        }
    }
}

impl<E> Clone for Repository<E> {
    fn clone(&self) -> Self {
        Repository {
            ex: self.ex.clone(),
            sql: self.sql,
            _entity: PhantomData,
        }
    }
}

impl<E: Entity> std::fmt::Debug for Repository<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Repository")
            .field("entity", &E::meta().name)
            .finish_non_exhaustive()
    }
}

impl<E: Entity> Repository<E> {
    /// A repository running its statements on `ex`. If a
    /// [security policy](crate::scope::RowLevelSecurityPolicy) requires a tenant scope for
    /// `E`'s table, every statement of this repository fails with
    /// [`Error::ScopeRequired`]; use [`Repository::scoped`] instead.
    pub fn new(ex: Executor) -> Self {
        Self::unguarded(crate::scope::guard(ex, E::meta().table, || {
            E::meta().name.to_string()
        }))
    }

    /// A repository on `ex` that the scope policy does not check (for `crate::scope`).
    pub(crate) fn unguarded(ex: Executor) -> Self {
        let sql = E::meta().sql(ex.database().kind());
        Repository {
            ex,
            sql,
            _entity: PhantomData,
        }
    }

    /// Where the statements run.
    pub fn executor(&self) -> &Executor {
        &self.ex
    }

    pub(crate) fn cols() -> Columns<'static> {
        Columns::Entity(E::meta())
    }

    pub(crate) fn soft_delete_column() -> Option<&'static str> {
        let meta = E::meta();
        meta.soft_delete.map(|i| meta.columns[i].name)
    }

    /// `SELECT <columns> FROM t WHERE … ORDER BY … LIMIT …` for a query.
    pub(crate) fn select(&self, query: &Query) -> Result<SqlBuf> {
        SqlBuf::select(
            self.ex.dialect(),
            &self.sql.select,
            query,
            Self::soft_delete_column(),
            Self::cols(),
        )
    }

    /// `id=7`, or `order_id=7, line=2` for a composite key.
    fn key_text(key: &[Value]) -> String {
        let mut s = String::new();
        for (column, v) in E::meta().key_columns().zip(key) {
            if !s.is_empty() {
                s.push_str(", ");
            }
            s.push_str(&format!("{}={v}", column.name));
        }
        s
    }

    /// The entity with this key; [`Error::NotFound`] if there is none (or it is soft-deleted).
    /// For a composite key pass a tuple in the key fields' order, e.g. `find_one((order_id,
    /// line))`; a key with the wrong number of values is [`Error::InvalidRequest`].
    pub async fn find_one(&self, key: impl Key) -> Result<E> {
        let params = self.key_params(key.into_key()).await?;
        match self
            .ex
            .fetch_optional(&self.sql.find_key, params.as_slice())
            .await?
        {
            Some(row) => E::from_row_owned(row),
            None => Err(Error::NotFound {
                entity: E::meta().name.to_string(),
                key: Self::key_text(params.as_slice()),
            }),
        }
    }

    /// The first entity matching a filter or query, if any.
    pub async fn find_by(&self, query: impl Into<Query>) -> Result<Option<E>> {
        let buf = self.select(&query.into().limit(1))?;
        self.ex
            .fetch_optional(&buf.sql, &buf.params)
            .await?
            .map(E::from_row_owned)
            .transpose()
    }

    /// Every entity matching a filter or query, in the query's order.
    ///
    /// A single `is_in` list longer than the backend's parameter limit (at the top of the
    /// filter, or ANDed with other terms) is split into several statements when the query has
    /// no ordering, limit or offset; otherwise the call fails with
    /// [`Error::TooManyParameters`] before anything is sent.
    pub async fn find_many(&self, query: impl Into<Query>) -> Result<Vec<E>> {
        let query = query.into();
        if let Some(parts) = self.split_unordered(&query, 0) {
            let mut out = Vec::new();
            for part in parts {
                let q = Query {
                    filter: Filter(part),
                    ..Query::default()
                }
                .with_deleted_if(query.with_deleted);
                let buf = self.select(&q)?;
                let rows = self.ex.fetch_all(&buf.sql, &buf.params).await?;
                out.reserve(rows.len());
                for row in rows {
                    out.push(E::from_row_owned(row)?);
                }
            }
            return Ok(out);
        }
        let buf = self.select(&query)?;
        let rows = self.ex.fetch_all(&buf.sql, &buf.params).await?;
        rows.into_iter().map(E::from_row_owned).collect()
    }

    /// The filter of an unordered, unlimited query split under the parameter limit (less
    /// `reserved` parameters bound elsewhere in the statement), if it needs and allows it.
    pub(super) fn split_unordered(&self, query: &Query, reserved: usize) -> Option<Vec<Node>> {
        if !query.order.is_empty() || query.limit.is_some() || query.offset.is_some() {
            return None;
        }
        self.split_filter(&query.filter, reserved)
    }

    /// The filter split under the parameter limit (less `reserved`), if it needs and allows it.
    pub(super) fn split_filter(&self, filter: &Filter, reserved: usize) -> Option<Vec<Node>> {
        let budget = self.ex.dialect().max_params().saturating_sub(reserved);
        super::chunk::split(&filter.0, budget)
    }

    /// Number of entities matching a filter or query (limit and offset ignored). A long
    /// `is_in` list is split as for [`Repository::find_many`] (its values counted once).
    pub async fn count(&self, query: impl Into<Query>) -> Result<u64> {
        let query = query.into();
        if let Some(parts) = self.split_filter(&query.filter, 0) {
            let mut total = 0;
            for part in parts {
                total += self.count_one(&part, query.with_deleted).await?;
            }
            return Ok(total);
        }
        self.count_one(&query.filter.0, query.with_deleted).await
    }

    async fn count_one(&self, filter: &Node, with_deleted: bool) -> Result<u64> {
        let table = &self.sql.table;
        let mut buf = SqlBuf::new(self.ex.dialect(), &format!("SELECT COUNT(*) FROM {table}"));
        let sd = if with_deleted {
            None
        } else {
            Self::soft_delete_column()
        };
        buf.where_clause(filter, sd, Self::cols())?;
        let row = self.ex.fetch_one(&buf.sql, &buf.params).await?;
        row.get_at::<u64>(0)
    }

    /// True if any entity matches. A long `is_in` list is split as for
    /// [`Repository::find_many`].
    pub async fn exists(&self, query: impl Into<Query>) -> Result<bool> {
        let query = query.into();
        if let Some(parts) = self.split_filter(&query.filter, 0) {
            for part in parts {
                if self.exists_one(&part, query.with_deleted).await? {
                    return Ok(true);
                }
            }
            return Ok(false);
        }
        self.exists_one(&query.filter.0, query.with_deleted).await
    }

    async fn exists_one(&self, filter: &Node, with_deleted: bool) -> Result<bool> {
        let table = &self.sql.table;
        let mut buf = SqlBuf::new(self.ex.dialect(), &format!("SELECT 1 FROM {table}"));
        let sd = if with_deleted {
            None
        } else {
            Self::soft_delete_column()
        };
        buf.where_clause(filter, sd, Self::cols())?;
        buf.limit_offset(Some(1), None);
        Ok(self
            .ex
            .fetch_optional(&buf.sql, &buf.params)
            .await?
            .is_some())
    }

    /// Inserts an entity and returns it as stored: a generated key filled in, the version set
    /// to 1, database defaults applied.
    ///
    /// The row comes back from `INSERT … RETURNING`; on servers without it (Oracle MySQL,
    /// MariaDB < 10.5, or `backend.returning: off`) the insert is followed by a select by key:
    /// the given key, or the `AUTO_INCREMENT` value the insert generated.
    pub async fn create(&self, entity: E) -> Result<E> {
        let meta = E::meta();
        let mut values = entity.into_values();
        prepare_insert(meta, &mut values, &now_micros());
        let params = self.bind(values, &self.sql.insert_cols).await?;
        if self.ex.supports_returning() {
            let row = self.ex.fetch_one(&self.sql.insert, &params).await?;
            return E::from_row_owned(row);
        }
        // Without `generated` every key column is in the insert.
        let given = (!meta.key_generated).then(|| {
            KeyValues::collect(meta.keys, |k| {
                let pos = self.sql.insert_cols.iter().position(|&i| i == k);
                pos.map_or(Value::Null, |pos| params[pos].clone())
            })
        });
        let inserted = self
            .ex
            .execute_insert(&self.sql.insert_plain, &params)
            .await?;
        let key = match (given, inserted.last_insert_id) {
            (Some(key), _) => key,
            (None, Some(id)) => KeyValues::one(Value::Int(id)),
            (None, None) => {
                return Err(invalid(
                    meta.name,
                    "the row was inserted, but the database generated no AUTO_INCREMENT key to read it back by, and this server has no INSERT … RETURNING. Fix: make the key column AUTO_INCREMENT, or give the key and drop `generated`",
                ));
            }
        };
        self.read_back(key).await
    }

    /// The row with this key, soft-deleted or not: an insert read back without `RETURNING`.
    async fn read_back(&self, key: KeyValues) -> Result<E> {
        let params = self.key_params(key).await?;
        match self
            .ex
            .primary()
            .fetch_optional(&self.sql.select_key, params.as_slice())
            .await?
        {
            Some(row) => E::from_row_owned(row),
            None => Err(Error::NotFound {
                entity: E::meta().name.to_string(),
                key: format!(
                    "{} (the row just inserted)",
                    Self::key_text(params.as_slice())
                ),
            }),
        }
    }

    /// Writes every column of an entity by its key. A versioned entity is only written if the
    /// row still has the version that was read; then the version is incremented in the row and
    /// in `entity`. Zero rows matched → [`Error::OptimisticLock`] if the row exists,
    /// [`Error::NotFound`] if not.
    pub async fn update(&self, entity: &mut E) -> Result<()> {
        let meta = E::meta();
        let mut values = entity.to_values();
        let now = meta.updated_at.map(|u| {
            let now = Value::Timestamp(now_micros());
            values[u] = now.clone();
            now
        });
        let key = KeyValues::collect(meta.keys, |k| {
            std::mem::replace(&mut values[k], Value::Null)
        });
        let version = meta
            .version
            .map(|v| std::mem::replace(&mut values[v], Value::Null));
        let mut params = self.bind(values, &self.sql.update_cols).await?;
        let set = params.len();
        params.extend_from_slice(self.key_params(key).await?.as_slice());
        params.extend(version);
        if self.ex.execute(&self.sql.update, &params).await? == 0 {
            let version = meta.version.and(params.last());
            return Err(self
                .no_match(&params[set..set + meta.keys.len()], version)
                .await);
        }
        if let (Some(u), Some(now)) = (meta.updated_at, now) {
            entity.set_column(u, &now)?;
        }
        bump_version(entity)
    }

    /// The values of `cols`, in order, converted exactly to the columns' declared types (on
    /// backends whose parameters carry no type), or [`Error::Encode`] for the first that does
    /// not fit.
    pub(super) async fn bind(&self, values: Vec<Value>, cols: &[usize]) -> Result<Vec<Value>> {
        let meta = E::meta();
        let mut params = pick(values, cols);
        let names = cols.iter().cycle().map(|&i| meta.columns[i].name);
        self.ex
            .check_columns(meta.table, names, &mut params)
            .await?;
        Ok(params)
    }

    /// A key as its columns store it (a UUID as 16 bytes in a MySQL `BINARY(16)` column), on
    /// backends whose parameters carry no type; unchanged where no exact conversion applies.
    /// [`Error::InvalidRequest`] for a key with the wrong number of values.
    pub(super) async fn key_params(&self, mut key: KeyValues) -> Result<KeyValues> {
        let meta = E::meta();
        if key.len() != meta.keys.len() {
            return Err(invalid(
                meta.name,
                format!(
                    "the key has {} value(s) but the entity's key has {} column(s) ({}). Fix: pass one value per key column, as a tuple for a composite key",
                    key.len(),
                    meta.keys.len(),
                    meta.key_columns()
                        .map(|c| c.name)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        for (column, v) in meta.key_columns().zip(key.as_mut_slice()) {
            let value = std::mem::replace(v, Value::Null);
            *v = self.ex.coerce(meta.table, column.name, value).await?;
        }
        Ok(key)
    }

    /// The entity's key values, converted as [`Repository::key_params`] does.
    pub(super) async fn key_of(&self, entity: &E) -> Result<KeyValues> {
        let key = KeyValues::collect(E::meta().keys, |k| entity.get_column(k));
        self.key_params(key).await
    }

    /// Why a keyed write matched no row: optimistic lock if the row exists, not found if not.
    async fn no_match(&self, key: &[Value], version: Option<&Value>) -> Error {
        let meta = E::meta();
        let exists = self.ex.fetch_optional(&self.sql.exists_key, key).await;
        match (exists, meta.version) {
            (Err(e), _) => e,
            (Ok(Some(_)), Some(_)) => Error::OptimisticLock {
                entity: meta.name.to_string(),
                key: Self::key_text(key),
                expected_version: version.and_then(|v| i64::from_value(v).ok()).unwrap_or(0),
            },
            _ => Error::NotFound {
                entity: meta.name.to_string(),
                key: Self::key_text(key),
            },
        }
    }

    /// Inserts the entity, or updates every other column of the row with the same key. The
    /// version of a versioned entity starts at 1 on insert and is incremented on update (no
    /// version check: the caller's values win). Returns the stored row.
    ///
    /// The key is written as given, also for a `generated` key: to insert-or-update rows whose
    /// key the database generates, use [`Repository::upsert_on`] with a unique column.
    pub async fn upsert(&self, entity: E) -> Result<E> {
        let conflict = E::meta().keys;
        let sql = if self.ex.supports_returning() {
            &self.sql.upsert_key
        } else {
            &self.sql.upsert_key_plain
        };
        self.upsert_with(entity, sql, conflict).await
    }

    /// Like [`Repository::upsert`], with the conflict on a unique set of columns (which needs
    /// a unique index on exactly those columns; MySQL resolves conflicts on any unique key).
    /// A generated key is left out of the insert.
    pub async fn upsert_on(&self, entity: E, columns: &[&str]) -> Result<E> {
        let meta = E::meta();
        let conflict: Vec<usize> = columns
            .iter()
            .map(|c| meta.resolve(c))
            .collect::<Result<_>>()?;
        if conflict.is_empty() {
            return Err(invalid(
                meta.name,
                "upsert_on needs at least one conflict column",
            ));
        }
        let cols: Vec<usize> = (0..meta.columns.len())
            .filter(|&i| !(meta.key_generated && meta.is_key(i) && !conflict.contains(&i)))
            .collect();
        let sql = upsert(
            self.ex.dialect(),
            meta,
            &conflict,
            &cols,
            &self.sql.columns,
            self.ex.supports_returning(),
        );
        let mut values = entity.into_values();
        prepare_insert(meta, &mut values, &now_micros());
        let params = self.bind(values, &cols).await?;
        self.run_upsert(&sql, params, &cols, &conflict).await
    }

    async fn upsert_with(&self, entity: E, sql: &str, conflict: &[usize]) -> Result<E> {
        let meta = E::meta();
        let mut values = entity.into_values();
        prepare_insert(meta, &mut values, &now_micros());
        let cols: Vec<usize> = (0..meta.columns.len()).collect();
        let values = self.bind(values, &cols).await?;
        self.run_upsert(sql, values, &cols, conflict).await
    }

    async fn run_upsert(
        &self,
        sql: &str,
        params: Vec<Value>,
        cols: &[usize],
        conflict: &[usize],
    ) -> Result<E> {
        if !self.ex.supports_returning() {
            // No RETURNING: write, then read the row back by the conflict columns below.
            self.ex.execute(sql, &params).await?;
        } else if let Some(row) = self.ex.fetch_optional(sql, &params).await? {
            return E::from_row_owned(row);
        }
        // Nothing to update on conflict (PostgreSQL/SQLite `DO NOTHING` return no row), or no
        // RETURNING: read the row by its conflict columns.
        let meta = E::meta();
        let mut filter = Filter::all();
        for &c in conflict {
            let pos = cols.iter().position(|&i| i == c).unwrap_or(0);
            filter = filter.and(super::col(meta.columns[c].name).eq(params[pos].clone()));
        }
        self.on_primary()
            .find_by(Query::from(filter).with_deleted())
            .await?
            .ok_or_else(|| Error::NotFound {
                entity: meta.name.to_string(),
                key: "the upserted row".into(),
            })
    }

    /// Deletes the entity's row by key (and, if versioned, only at the version read):
    /// [`Error::OptimisticLock`] if the row changed since, [`Error::NotFound`] if it is gone.
    pub async fn delete(&self, entity: &E) -> Result<()> {
        let meta = E::meta();
        let mut params = self.key_of(entity).await?.as_slice().to_vec();
        params.extend(meta.version.map(|v| entity.get_column(v)));
        if self.ex.execute(&self.sql.delete, &params).await? == 0 {
            let n = meta.keys.len();
            return Err(self.no_match(&params[..n], params.get(n)).await);
        }
        Ok(())
    }

    /// Deletes every row matching the filter (soft-deleted rows included: this is a hard
    /// delete); returns how many. A filter with no condition ([`Filter::default`]) is refused;
    /// say [`Filter::all`] to delete every row. A long `is_in` list is split into several
    /// statements run in one transaction.
    pub async fn delete_many(&self, filter: Filter) -> Result<u64> {
        self.refuse_empty(&filter, "delete_many")?;
        let spec = super::write_where::WriteSpec {
            set: Vec::new(),
            bump_version: false,
            only_live: false,
        };
        self.run_write(&spec, filter).await
    }

    /// Marks the entity deleted (its `#[entity(soft_delete)]` column set to now, version
    /// checked and bumped); finds skip it unless the query says [`Query::with_deleted`].
    pub async fn soft_delete(&self, entity: &mut E) -> Result<()> {
        self.set_deleted(entity, Value::Timestamp(now_micros()))
            .await
    }

    /// Undoes [`Repository::soft_delete`].
    pub async fn restore(&self, entity: &mut E) -> Result<()> {
        self.set_deleted(entity, Value::Null).await
    }

    async fn set_deleted(&self, entity: &mut E, at: Value) -> Result<()> {
        let meta = E::meta();
        let (Some(sql), Some(col)) = (&self.sql.set_deleted, meta.soft_delete) else {
            return Err(invalid(
                meta.name,
                "has no soft-delete column. Fix: mark an `Option<DateTime<Utc>>` field `#[entity(soft_delete)]`",
            ));
        };
        let mut params = vec![at];
        params.extend_from_slice(self.key_of(entity).await?.as_slice());
        params.extend(meta.version.map(|v| entity.get_column(v)));
        if self.ex.execute(sql, &params).await? == 0 {
            let n = meta.keys.len();
            return Err(self.no_match(&params[1..=n], params.get(n + 1)).await);
        }
        entity.set_column(col, &params[0])?;
        bump_version(entity)
    }
}

/// The current time at the microsecond precision every backend stores (`TIMESTAMPTZ`,
/// `DATETIME(6)`, SQLite text), so the value returned to the caller is the value stored.
pub(super) fn now_micros() -> chrono::DateTime<chrono::Utc> {
    let now = chrono::Utc::now();
    chrono::DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now)
}

/// Sets what an insert writes for the entity itself: version 1, and `created_at` and
/// `updated_at` to `now` (one timestamp for the whole statement).
pub(super) fn prepare_insert(
    meta: &EntityMeta,
    values: &mut [Value],
    now: &chrono::DateTime<chrono::Utc>,
) {
    if let Some(v) = meta.version {
        values[v] = Value::Int(1);
    }
    for t in [meta.created_at, meta.updated_at].into_iter().flatten() {
        values[t] = Value::Timestamp(*now);
    }
}

/// Adds one to a versioned entity's version field.
pub(crate) fn bump_version<E: Entity>(entity: &mut E) -> Result<()> {
    if let Some(v) = E::meta().version {
        let current = i64::from_value(&entity.get_column(v)).map_err(|detail| Error::Decode {
            column: E::meta().columns[v].name.into(),
            detail: detail.to_string(),
        })?;
        entity.set_column(v, &Value::Int(current + 1))?;
    }
    Ok(())
}

/// Moves the values at `cols` (in that order) out of `values`.
pub(super) fn pick(mut values: Vec<Value>, cols: &[usize]) -> Vec<Value> {
    if cols.len() == values.len() && cols.iter().enumerate().all(|(n, &i)| n == i) {
        return values;
    }
    cols.iter()
        .map(|&i| std::mem::replace(&mut values[i], Value::Null))
        .collect()
}
