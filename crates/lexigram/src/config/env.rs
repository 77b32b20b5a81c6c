//! The environment layer: `LEX_A__B__C=v` as `a.b.c = v`, aligned with the file's lists.

use std::collections::BTreeMap;

use figment::value::{Dict, Map, Value};
use figment::{Metadata, Profile, Provider, Source};

use super::{ENV_PREFIX, ENV_SEPARATOR, ENV_SOURCE, env_var_name};

/// The `LEX_*__*` variables as a figment provider; metadata maps keys back to variable names.
pub(super) struct EnvLayer {
    pub(super) data: Dict,
}

impl Provider for EnvLayer {
    fn metadata(&self) -> Metadata {
        Metadata::named("environment variable(s) `LEX_*`")
            .source(Source::Custom(ENV_SOURCE.to_string()))
            .interpolater(|_: &Profile, keys: &[&str]| env_var_name(&keys.join(".")))
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        Ok(Profile::Default.collect(self.data.clone()))
    }
}

/// Nests every `LEX_A__B__C=v` as `a.b.c = v`, parsing `v` as figment does for `Env`.
pub(super) fn env_overlay(env: &BTreeMap<String, String>) -> Dict {
    let mut root = Dict::new();
    for (name, raw) in env {
        let Some(rest) = name.strip_prefix(ENV_PREFIX) else {
            continue;
        };
        if !rest.contains(ENV_SEPARATOR) {
            continue;
        }
        let parts: Vec<String> = rest
            .split(ENV_SEPARATOR)
            .map(str::to_ascii_lowercase)
            .collect();
        if parts.iter().any(String::is_empty) {
            continue;
        }
        let value = match raw.parse::<Value>() {
            Ok(value) => value,
            Err(never) => match never {},
        };
        insert_nested(&mut root, &parts, value);
    }
    root
}

fn insert_nested(dict: &mut Dict, parts: &[String], value: Value) {
    match parts {
        [] => {}
        [last] => {
            dict.insert(last.clone(), value);
        }
        [first, rest @ ..] => {
            let entry = dict
                .entry(first.clone())
                .or_insert_with(|| Value::from(Dict::new()));
            if !matches!(entry, Value::Dict(..)) {
                *entry = Value::from(Dict::new());
            }
            if let Value::Dict(_, inner) = entry {
                insert_nested(inner, rest, value);
            }
        }
    }
}

/// Shapes the environment overlay like the file's data: a dict of indices over a file list
/// becomes that list with the indexed items deep-merged, so `LEX_SQL__BACKENDS__0__BACKEND__URL`
/// overrides one field of the file's first backend. A dict whose keys are exactly `0..n`
/// becomes a list. Values copied from the file keep the file's tag (and so its source).
pub(super) fn align_dict(env: Dict, file: Option<&Dict>) -> Dict {
    env.into_iter()
        .map(|(key, value)| {
            let file_value = file.and_then(|f| f.get(&key));
            (key, align(value, file_value))
        })
        .collect()
}

fn align(env: Value, file: Option<&Value>) -> Value {
    match (env, file) {
        (Value::Dict(tag, dict), Some(Value::Array(_, items))) if index_keys(&dict).is_some() => {
            let mut out = items.clone();
            for (index, value) in indexed(dict) {
                match out.get(index) {
                    Some(existing) => {
                        let aligned = align(value, Some(existing));
                        let merged = deep_merge(existing.clone(), aligned);
                        out[index] = merged;
                    }
                    None => out.push(align(value, None)),
                }
            }
            Value::Array(tag, out)
        }
        (Value::Dict(tag, dict), file) => {
            let contiguous = index_keys(&dict).is_some_and(|keys| {
                keys.iter().enumerate().all(|(i, k)| i == *k)
                    && !matches!(file, Some(Value::Dict(..)))
            });
            if contiguous {
                let items = indexed(dict)
                    .into_iter()
                    .map(|(_, v)| align(v, None))
                    .collect();
                Value::Array(tag, items)
            } else {
                let file_dict = match file {
                    Some(Value::Dict(_, d)) => Some(d),
                    _ => None,
                };
                Value::Dict(tag, align_dict(dict, file_dict))
            }
        }
        (value, _) => value,
    }
}

/// The dict's keys as sorted indices, if every key is a non-negative integer.
fn index_keys(dict: &Dict) -> Option<Vec<usize>> {
    if dict.is_empty() {
        return None;
    }
    let mut keys = dict
        .keys()
        .map(|k| k.parse::<usize>().ok())
        .collect::<Option<Vec<_>>>()?;
    keys.sort_unstable();
    Some(keys)
}

fn indexed(dict: Dict) -> Vec<(usize, Value)> {
    let mut items: Vec<(usize, Value)> = dict
        .into_iter()
        .filter_map(|(k, v)| k.parse::<usize>().ok().map(|i| (i, v)))
        .collect();
    items.sort_by_key(|(i, _)| *i);
    items
}

fn deep_merge(base: Value, over: Value) -> Value {
    match (base, over) {
        (Value::Dict(tag, mut base), Value::Dict(_, over)) => {
            for (key, value) in over {
                let merged = match base.remove(&key) {
                    Some(existing) => deep_merge(existing, value),
                    None => value,
                };
                base.insert(key, merged);
            }
            Value::Dict(tag, base)
        }
        (_, over) => over,
    }
}
