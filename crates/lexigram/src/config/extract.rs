//! Why a value of the configuration could not be read as the type asked for, without exposing
//! the loader behind [`AppConfig`](super::AppConfig).

use std::fmt;

/// A value (or a section) of the configuration does not have the shape its type expects.
///
/// Returned by [`AppConfig::get`](super::AppConfig::get) and
/// [`AppConfig::extract`](super::AppConfig::extract). [`ExtractError::key`] is the full
/// dotted key of the offending value; [`AppConfig::source_of`](super::AppConfig::source_of)
/// of that key says where it came from.
///
/// ```
/// use lexigram::config::ExtractErrorKind;
///
/// let config = lexigram::AppConfig::from_yaml_str("app:\n  port: eighty\n", "a.yaml")?;
/// let err = config.get::<u16>("app.port").unwrap_err();
/// assert_eq!(err.key(), "app.port");
/// assert_eq!(err.kind(), &ExtractErrorKind::Invalid);
/// assert!(err.to_string().contains("app.port"));
/// # Ok::<(), lexigram::AppConfigError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtractError {
    key: String,
    kind: ExtractErrorKind,
    message: String,
    source: Option<String>,
}

/// What is wrong with the value; see [`ExtractError::kind`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExtractErrorKind {
    /// A key the type does not have (a typo, or a removed key).
    UnknownKey {
        /// The key as written.
        key: String,
        /// The keys the type accepts at that place.
        expected: Vec<String>,
    },
    /// A key the type requires is absent.
    MissingKey {
        /// The missing key, relative to [`ExtractError::key`].
        key: String,
    },
    /// The key is present with no value (`key:` in YAML).
    Empty,
    /// The value has the wrong type or is out of range; [`ExtractError::message`] says how.
    Invalid,
}

impl ExtractError {
    pub(super) fn from_figment(prefix: &str, error: figment::Error) -> Self {
        use figment::error::{Actual, Kind};

        let key = prefix
            .split('.')
            .map(str::to_string)
            .chain(error.path.iter().cloned())
            .filter(|k| !k.is_empty())
            .collect::<Vec<_>>()
            .join(".");
        let kind = match &error.kind {
            Kind::UnknownField(field, expected) => ExtractErrorKind::UnknownKey {
                key: field.clone(),
                expected: expected.iter().map(|k| k.to_string()).collect(),
            },
            Kind::MissingField(field) => ExtractErrorKind::MissingKey {
                key: field.to_string(),
            },
            Kind::InvalidType(Actual::Option | Actual::Unit, _) => ExtractErrorKind::Empty,
            _ => ExtractErrorKind::Invalid,
        };
        ExtractError {
            key,
            kind,
            message: lexigram_redact::redact_secrets(&error.kind.to_string()),
            source: error.metadata.as_ref().map(|m| m.name.to_string()),
        }
    }

    /// The full dotted key of the value that could not be read (`sql.pool.max_size`).
    pub fn key(&self) -> &str {
        &self.key
    }

    /// What is wrong with it.
    pub fn kind(&self) -> &ExtractErrorKind {
        &self.kind
    }

    /// The reader's message (`invalid type: found string "x", expected u32`), with any
    /// password in a quoted value hidden.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The name of the layer that gave the value, when known (a file or the environment).
    /// [`AppConfig::source_of`](super::AppConfig::source_of) is more precise.
    pub fn origin(&self) -> Option<&str> {
        self.source.as_deref()
    }
}

impl fmt::Display for ExtractError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.key.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "`{}`: {}", self.key, self.message)
        }
    }
}

impl std::error::Error for ExtractError {}
