//! The YAML file layer: parsed with `serde_yaml_ng`, `${VAR}` / `${VAR:default}` resolved
//! from the environment, handed to figment with metadata naming the file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use figment::value::{Dict, Empty, Map, Num, Value};
use figment::{Metadata, Profile, Provider, Source};

use super::{AppConfigError, redact_secrets};

/// A parsed, interpolated YAML file as a figment provider; metadata names the file.
pub(super) struct YamlFile {
    path: PathBuf,
    data: Dict,
}

impl YamlFile {
    pub(super) fn parse(
        text: &str,
        path: &Path,
        env: &BTreeMap<String, String>,
    ) -> Result<Self, AppConfigError> {
        // Parser messages and values quoted in them may hold a URL with its password.
        let parse_error = |reason: String| AppConfigError::Parse {
            path: path.to_path_buf(),
            reason: redact_secrets(&reason),
        };
        let yaml: serde_yaml_ng::Value =
            serde_yaml_ng::from_str(text).map_err(|e| parse_error(e.to_string()))?;
        let ctx = Interpolation { path, env };
        let data = match yaml {
            serde_yaml_ng::Value::Null => Dict::new(),
            serde_yaml_ng::Value::Mapping(_) => match ctx.convert(yaml, &mut Vec::new())? {
                Value::Dict(_, dict) => dict,
                _ => Dict::new(),
            },
            _ => return Err(parse_error("the top level is not a mapping".to_string())),
        };
        Ok(YamlFile {
            path: path.to_path_buf(),
            data,
        })
    }
}

impl Provider for YamlFile {
    fn metadata(&self) -> Metadata {
        Metadata::named(format!("YAML file `{}`", self.path.display()))
            .source(Source::File(self.path.clone()))
            .interpolater(|_: &Profile, keys: &[&str]| keys.join("."))
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        Ok(Profile::Default.collect(self.data.clone()))
    }
}

/// Converts YAML values to figment values, resolving `${…}` placeholders in strings.
struct Interpolation<'a> {
    path: &'a Path,
    env: &'a BTreeMap<String, String>,
}

impl Interpolation<'_> {
    fn convert(
        &self,
        yaml: serde_yaml_ng::Value,
        key: &mut Vec<String>,
    ) -> Result<Value, AppConfigError> {
        use serde_yaml_ng::Value as Y;
        Ok(match yaml {
            Y::Null => Value::from(Empty::None),
            Y::Bool(b) => Value::from(b),
            Y::Number(n) => number(&n),
            Y::String(s) => self.string(&s, key)?,
            Y::Sequence(items) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.into_iter().enumerate() {
                    key.push(i.to_string());
                    out.push(self.convert(item, key)?);
                    key.pop();
                }
                Value::from(out)
            }
            Y::Mapping(mapping) => {
                let mut dict = Dict::new();
                for (k, v) in mapping {
                    let name = match k {
                        Y::String(s) => s,
                        Y::Number(n) => n.to_string(),
                        Y::Bool(b) => b.to_string(),
                        other => {
                            return Err(AppConfigError::Parse {
                                path: self.path.to_path_buf(),
                                reason: redact_secrets(&format!(
                                    "unsupported key {other:?} under `{}`",
                                    key.join(".")
                                )),
                            });
                        }
                    };
                    key.push(name.clone());
                    let value = self.convert(v, key)?;
                    key.pop();
                    dict.insert(name, value);
                }
                Value::from(dict)
            }
            Y::Tagged(tagged) => self.convert(tagged.value, key)?,
        })
    }

    fn string(&self, text: &str, key: &[String]) -> Result<Value, AppConfigError> {
        if !text.contains('$') {
            return Ok(Value::from(text.to_string()));
        }
        let (out, whole) = self.substitute(text, key)?;
        if !whole {
            return Ok(Value::from(out));
        }
        // The string was exactly one placeholder: read the substituted text as a YAML scalar
        // so `max_size: ${MAX:10}` is a number and `echo: ${ECHO:false}` a boolean.
        if out.trim().is_empty() {
            return Ok(Value::from(out));
        }
        Ok(
            match serde_yaml_ng::from_str::<serde_yaml_ng::Value>(&out) {
                Ok(serde_yaml_ng::Value::Bool(b)) => Value::from(b),
                Ok(serde_yaml_ng::Value::Number(n)) => number(&n),
                Ok(serde_yaml_ng::Value::Null) => Value::from(Empty::None),
                _ => Value::from(out),
            },
        )
    }

    /// Replaces every placeholder; the flag is true if `text` was exactly one placeholder.
    fn substitute(&self, text: &str, key: &[String]) -> Result<(String, bool), AppConfigError> {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        let mut placeholders = 0;
        let mut literal = false;
        while let Some(pos) = rest.find('$') {
            out.push_str(&rest[..pos]);
            let tail = &rest[pos..];
            if let Some(after) = tail.strip_prefix("$${") {
                out.push_str("${");
                literal = true;
                rest = after;
            } else if let Some(after) = tail.strip_prefix("${") {
                let Some(end) = after.find('}') else {
                    return Err(self.bad(key, "unterminated `${` (missing `}`)".to_string()));
                };
                let inner = &after[..end];
                let (variable, default) = match inner.split_once(':') {
                    Some((variable, default)) => (variable, Some(default)),
                    None => (inner, None),
                };
                if variable.is_empty()
                    || !variable
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_')
                {
                    return Err(self.bad(key, format!("`{variable}` is not a variable name")));
                }
                match (self.env.get(variable), default) {
                    (Some(value), _) => out.push_str(value),
                    (None, Some(default)) => out.push_str(default),
                    (None, None) => {
                        return Err(AppConfigError::UnsetVariable {
                            variable: variable.to_string(),
                            path: self.path.to_path_buf(),
                            key: key.join("."),
                        });
                    }
                }
                placeholders += 1;
                rest = &after[end + 1..];
            } else {
                out.push('$');
                rest = &tail[1..];
            }
        }
        out.push_str(rest);
        let whole = placeholders == 1
            && !literal
            && text.starts_with("${")
            && text.ends_with('}')
            && text.find('}') == Some(text.len() - 1);
        Ok((out, whole))
    }

    fn bad(&self, key: &[String], reason: String) -> AppConfigError {
        AppConfigError::BadPlaceholder {
            path: self.path.to_path_buf(),
            key: key.join("."),
            reason: redact_secrets(&reason),
        }
    }
}

fn number(n: &serde_yaml_ng::Number) -> Value {
    if let Some(u) = n.as_u64() {
        Value::from(Num::U64(u))
    } else if let Some(i) = n.as_i64() {
        Value::from(Num::I64(i))
    } else {
        Value::from(Num::F64(n.as_f64().unwrap_or(f64::NAN)))
    }
}
