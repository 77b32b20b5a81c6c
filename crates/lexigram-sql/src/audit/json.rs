//! Rows as JSON for the audit log's before/after columns.

use crate::repository::Entity;
use crate::value::{Row, Value};

/// A value as JSON: numbers, booleans, text and JSON as themselves, other types as their
/// stored text.
pub(super) fn value(v: &Value) -> serde_json::Value {
    match v {
        Value::Null => serde_json::Value::Null,
        Value::Bool(b) => (*b).into(),
        Value::Int(i) => (*i).into(),
        Value::Float(f) => serde_json::Number::from_f64(*f)
            .map_or(serde_json::Value::Null, serde_json::Value::Number),
        Value::Text(s) => s.clone().into(),
        Value::Json(j) => j.clone(),
        other => other
            .as_storage_text()
            .unwrap_or_else(|| other.to_string())
            .into(),
    }
}

/// An entity's row (as read from the database) as a JSON object keyed by column name.
pub(super) fn row<E: Entity>(row: &Row) -> serde_json::Value {
    let meta = E::meta();
    let mut map = serde_json::Map::new();
    for (i, c) in meta.columns.iter().enumerate() {
        let v = row.value(c.name).or_else(|| row.values().get(i));
        map.insert(c.name.to_string(), v.map_or(serde_json::Value::Null, value));
    }
    serde_json::Value::Object(map)
}
