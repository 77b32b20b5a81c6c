//! The one place that turns an entity's key into a filter, so that scoped writes compose
//! `key AND scope [AND version]` from the existing filter paths. Keys may span several
//! columns (composite primary keys): the filter ANDs one equality per key column.

use crate::error::Result;
use crate::repository::{Entity, Filter, KeyValues, col};
use crate::value::Value;

/// `key1 = v1 AND key2 = v2 …` for an entity of type `E`; [`crate::Error::InvalidRequest`]
/// when the number of values is not the number of key columns.
pub(crate) fn key_filter<E: Entity>(key: &[Value]) -> Result<Filter> {
    let meta = E::meta();
    if key.len() != meta.keys.len() {
        return Err(crate::repository::invalid(
            meta.name,
            format!(
                "the key has {} value(s) but the entity's key has {} column(s) ({}). Fix: pass one value per key column, as a tuple for a composite key",
                key.len(),
                meta.keys.len(),
                key_names::<E>()
            ),
        ));
    }
    let mut filters = meta
        .key_columns()
        .zip(key)
        .map(|(c, v)| col(c.name).eq(v.clone()));
    let first = filters.next().unwrap_or_else(Filter::all);
    Ok(filters.fold(first, Filter::and))
}

/// The values of an entity's key columns.
pub(crate) fn key_values<E: Entity>(entity: &E) -> KeyValues {
    KeyValues::collect(E::meta().keys, |k| entity.get_column(k))
}

/// The key filter of an entity's current key.
pub(crate) fn entity_key<E: Entity>(entity: &E) -> Filter {
    let meta = E::meta();
    let mut filters = meta
        .keys
        .iter()
        .map(|&k| col(meta.columns[k].name).eq(entity.get_column(k)));
    let first = filters.next().unwrap_or_else(Filter::all);
    filters.fold(first, Filter::and)
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

/// How an error names a key: `id=7`, or `order_id=7, line=2` for a composite key.
pub(crate) fn key_text<E: Entity>(key: &[Value]) -> String {
    E::meta()
        .key_columns()
        .zip(key)
        .map(|(c, v)| format!("{}={v}", c.name))
        .collect::<Vec<_>>()
        .join(", ")
}

/// How an error names an entity's key.
pub(crate) fn entity_key_text<E: Entity>(entity: &E) -> String {
    key_text::<E>(key_values(entity).as_slice())
}

fn key_names<E: Entity>() -> String {
    E::meta()
        .key_columns()
        .map(|c| c.name)
        .collect::<Vec<_>>()
        .join(", ")
}
