//! The one place that turns an entity's key into a filter, so that scoped writes compose
//! `key AND scope [AND version]` from the existing filter paths.

use crate::repository::{Entity, Filter, col};
use crate::value::Value;

/// `key = value` for an entity of type `E` (today one key column: [`EntityMeta::key_column`]).
///
/// [`EntityMeta::key_column`]: crate::repository::EntityMeta::key_column
pub(crate) fn key_filter<E: Entity>(key: Value) -> Filter {
    col(E::meta().key_column().name).eq(key)
}

/// The key filter of an entity's current key.
pub(crate) fn entity_key<E: Entity>(entity: &E) -> Filter {
    key_filter::<E>(entity.get_column(E::meta().key))
}

/// `key AND version` of an entity: its key, and its version if versioned.
pub(crate) fn entity_at_version<E: Entity>(entity: &E) -> Filter {
    let meta = E::meta();
    let key = entity_key(entity);
    match meta.version {
        Some(v) => key.and(col(meta.columns[v].name).eq(entity.get_column(v))),
        None => key,
    }
}

/// How an error names the entity's key: `id=7`.
pub(crate) fn key_text<E: Entity>(entity: &E) -> String {
    format!(
        "{}={}",
        E::meta().key_column().name,
        entity.get_column(E::meta().key)
    )
}
