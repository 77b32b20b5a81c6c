//! Writes of a [`ScopedRepository`]: each composes the existing filter paths as
//! `key AND scope [AND version]`, and refuses before anything is sent a write that would
//! leave the scope.

use super::keys;
use super::repo::ScopedRepository;
use super::run::violation;
use super::tenant::is_unset;
use crate::error::{Error, Result};
use crate::repository::{Entity, Filter, Query, Record, Repository, bump_version, not};
use crate::value::{FromValue, Value};

impl<E: Entity> ScopedRepository<E> {
    fn refuse(&self, detail: String) -> Error {
        violation(E::meta().name, &self.scope, self.column(), detail)
    }

    /// The entity with its scope column set to the scope's value when unset (NULL, 0, empty
    /// text, nil UUID); [`Error::ScopeViolation`] when it holds another value.
    fn stamp(&self, mut entity: E) -> Result<E> {
        let v = entity.get_column(self.col);
        if self.scope.is_value(&v) {
            return Ok(entity);
        }
        if is_unset(&v) {
            entity.set_column(self.col, self.scope.value())?;
            return Ok(entity);
        }
        Err(self.refuse(format!(
            "the entity's '{}' holds {v}, which is outside the scope",
            self.column()
        )))
    }

    /// [`Error::ScopeViolation`] unless the entity's scope column holds the scope's value.
    fn in_scope(&self, entity: &E, what: &str) -> Result<()> {
        let v = entity.get_column(self.col);
        if self.scope.is_value(&v) {
            return Ok(());
        }
        Err(self.refuse(format!(
            "{what} of {} {}: its '{}' holds {v}; a scoped repository cannot write rows of another scope or move a row out of its scope",
            E::meta().name,
            keys::entity_key_text(entity),
            self.column()
        )))
    }

    /// Inserts the entity with its scope column set (see [`ScopedRepository`]).
    pub async fn create(&self, entity: E) -> Result<E> {
        let entity = self.stamp(entity)?;
        self.run(false, |r| async move { r.create(entity).await })
            .await
    }

    /// Inserts entities, each with its scope column set; all are checked before any is
    /// written. Returns how many were inserted.
    pub async fn create_many(&self, entities: impl IntoIterator<Item = E>) -> Result<u64> {
        let entities: Vec<E> = entities
            .into_iter()
            .map(|e| self.stamp(e))
            .collect::<Result<_>>()?;
        self.run(false, |r| async move { r.create_many(entities).await })
            .await
    }

    /// Inserts or updates by key, with the scope column set; returns the stored row. In one
    /// transaction: a key that belongs to a row of another scope is refused with
    /// [`Error::ScopeViolation`]; otherwise the row is updated *within the scope* (`UPDATE …
    /// WHERE scope AND key`, version raised, the caller's values win), and only if that
    /// matched nothing is it inserted. The insert never overwrites: if another tenant inserts
    /// the same key concurrently, it fails with the unique-key
    /// [`Error::Constraint`] instead of taking the row over. A soft-deleted row in the scope
    /// is not revived (its insert conflicts).
    pub async fn upsert(&self, entity: E) -> Result<E> {
        let entity = self.stamp(entity)?;
        let meta = E::meta();
        let key = keys::entity_key(&entity);
        let foreign = key.clone().and(not(self.scope.filter_on(self.column())));
        let mine = self.within_filter(key);
        let refused = self.refuse(format!(
            "the key {} belongs to a row outside the scope",
            keys::entity_key_text(&entity)
        ));
        let mut changes = Record::new();
        for (i, (c, v)) in meta.columns.iter().zip(entity.to_values()).enumerate() {
            if !meta.is_key(i) && Some(i) != meta.version {
                changes.insert(c.name, v);
            }
        }
        self.run(true, |r| async move {
            if r.exists(Query::from(foreign).with_deleted()).await? {
                return Err(refused);
            }
            if r.update_where(mine.clone(), changes).await? > 0 {
                return r
                    .find_by(Query::from(mine).with_deleted())
                    .await?
                    .ok_or_else(|| Error::NotFound {
                        entity: meta.name.to_string(),
                        key: "the upserted row".into(),
                    });
            }
            r.create(entity).await
        })
        .await
    }

    /// Writes every column of the entity by key within the scope (version checked and bumped
    /// as [`Repository::update`]). [`Error::ScopeViolation`] if the entity's scope column
    /// holds another value (moving a row out of the scope); [`Error::NotFound`] if the key is
    /// not in the scope; [`Error::OptimisticLock`] on a stale version. Soft-deleted rows are
    /// not updated.
    pub async fn update(&self, entity: &mut E) -> Result<()> {
        self.in_scope(entity, "update")?;
        let meta = E::meta();
        let mut changes = Record::new();
        for (i, (c, v)) in meta.columns.iter().zip(entity.to_values()).enumerate() {
            if !meta.is_key(i) && Some(i) != meta.version && i != self.col {
                changes.insert(c.name, v);
            }
        }
        if changes.is_empty() {
            // Nothing but key, version and scope: the update only checks and bumps.
            changes.insert(self.column(), self.scope.value().clone());
        }
        self.keyed_update(entity, changes).await?;
        bump_version(entity)
    }

    /// `update_where(scope AND key [AND version], changes)` for one entity; no row matched
    /// is [`ScopedRepository::no_match`]'s error.
    async fn keyed_update(&self, entity: &E, changes: Record) -> Result<()> {
        let filter = self.within_filter(keys::entity_at_version(entity));
        let n = self
            .run(
                false,
                |r| async move { r.update_where(filter, changes).await },
            )
            .await?;
        if n == 0 {
            return Err(self.no_match(entity, false).await);
        }
        Ok(())
    }

    /// Sets `changes` on every row in the scope matching `filter`. A change of the scope
    /// column to another value is [`Error::ScopeViolation`]; nothing is sent.
    pub async fn update_where(&self, filter: Filter, changes: Record) -> Result<u64> {
        let meta = E::meta();
        for (c, v) in changes.iter() {
            if meta.index_of(c) == Some(self.col) && !self.scope.is_value(v) {
                return Err(self.refuse(format!(
                    "update_where would set '{}' to {v}, moving rows out of the scope",
                    self.column()
                )));
            }
        }
        let filter = self.within_filter(filter);
        self.run(
            false,
            |r| async move { r.update_where(filter, changes).await },
        )
        .await
    }

    /// Deletes the entity's row by key within the scope (version checked). Errors as
    /// [`ScopedRepository::update`].
    pub async fn delete(&self, entity: &E) -> Result<()> {
        self.in_scope(entity, "delete")?;
        let filter = self.within_filter(keys::entity_at_version(entity));
        let n = self
            .run(false, |r| async move { r.delete_many(filter).await })
            .await?;
        if n == 0 {
            return Err(self.no_match(entity, true).await);
        }
        Ok(())
    }

    /// Deletes (or soft-deletes, see [`Repository::delete_where`]) the scope's rows matching.
    pub async fn delete_where(&self, filter: Filter) -> Result<u64> {
        let filter = self.within_filter(filter);
        self.run(false, |r| async move { r.delete_where(filter).await })
            .await
    }

    /// Hard-deletes the scope's rows matching (see [`Repository::delete_many`]).
    pub async fn delete_many(&self, filter: Filter) -> Result<u64> {
        let filter = self.within_filter(filter);
        self.run(false, |r| async move { r.delete_many(filter).await })
            .await
    }

    /// Marks the entity deleted, by key within the scope (see [`Repository::soft_delete`]).
    pub async fn soft_delete(&self, entity: &mut E) -> Result<()> {
        self.in_scope(entity, "soft_delete")?;
        let meta = E::meta();
        let Some(sd) = meta.soft_delete else {
            return Err(Error::InvalidRequest {
                entity: meta.name.to_string(),
                detail: "has no soft-delete column. Fix: mark an `Option<DateTime<Utc>>` field `#[entity(soft_delete)]`".into(),
            });
        };
        let now = chrono::Utc::now();
        let now = chrono::DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now);
        let at = Value::Timestamp(now);
        let changes = Record::new().set(meta.columns[sd].name, at.clone());
        self.keyed_update(entity, changes).await?;
        entity.set_column(sd, &at)?;
        bump_version(entity)
    }

    /// `scope AND filter`; a filter with no condition stays empty, so the bulk write refuses
    /// it as it would unscoped.
    fn within_filter(&self, filter: Filter) -> Filter {
        if filter.is_empty() {
            return filter;
        }
        self.scope.around(self.column(), filter)
    }

    /// Why a keyed write in the scope matched nothing: [`Error::OptimisticLock`] if the row
    /// is in the scope (at another version), else [`Error::NotFound`] — also when the key
    /// belongs to another tenant, whose rows a scoped handle does not see.
    async fn no_match(&self, entity: &E, with_deleted: bool) -> Error {
        let meta = E::meta();
        let mut query = self.within(keys::entity_key(entity));
        if with_deleted {
            query = query.with_deleted();
        }
        let exists = self
            .run(
                false,
                |r: Repository<E>| async move { r.exists(query).await },
            )
            .await;
        match (exists, meta.version) {
            (Err(e), _) => e,
            (Ok(true), Some(v)) => Error::OptimisticLock {
                entity: meta.name.to_string(),
                key: keys::entity_key_text(entity),
                expected_version: i64::from_value(&entity.get_column(v)).unwrap_or(0),
            },
            _ => Error::NotFound {
                entity: meta.name.to_string(),
                key: keys::entity_key_text(entity),
            },
        }
    }
}
