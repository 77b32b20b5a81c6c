//! [`DecodeError`]: why a [`Value`] could not be read as a Rust type.

use super::Value;

/// What kind of conversion failure a [`DecodeError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeErrorKind {
    /// The value is of another type than the one asked for (text read as an integer).
    Mismatch,
    /// The value is of a fitting type but outside the target's range or precision (300 read
    /// as `u8`, a fraction read as an integer).
    OutOfRange,
    /// The value's content is malformed for the target (invalid JSON, UUID or date text).
    Invalid,
}

/// Why [`crate::FromValue`] refused a value: its kind, what was expected and found (for a
/// mismatch), and a message saying so. [`crate::Error::Decode`] carries its message with
/// the column name.
///
/// ```
/// use lexigram_sql::value::{DecodeErrorKind, FromValue, Value};
/// let err = i64::from_value(&Value::Text("x".into())).unwrap_err();
/// assert_eq!(err.kind(), DecodeErrorKind::Mismatch);
/// assert_eq!(err.expected(), Some("i64"));
/// assert_eq!(err.found(), Some("text"));
/// assert_eq!(err.to_string(), "expected i64, found text");
/// assert_eq!(u8::from_value(&Value::Int(300)).unwrap_err().kind(), DecodeErrorKind::OutOfRange);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct DecodeError {
    kind: DecodeErrorKind,
    expected: Option<String>,
    found: Option<&'static str>,
    message: String,
}

impl DecodeError {
    /// `found` is not of the `expected` type.
    pub fn mismatch(expected: &str, found: &Value) -> Self {
        DecodeError {
            kind: DecodeErrorKind::Mismatch,
            expected: Some(expected.to_string()),
            found: Some(found.type_name()),
            message: format!("expected {expected}, found {}", found.type_name()),
        }
    }

    /// The value does not fit the target; `message` says which value and which target.
    pub fn out_of_range(message: impl Into<String>) -> Self {
        Self::other(DecodeErrorKind::OutOfRange, message)
    }

    /// The value's content is malformed; `message` says how.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::other(DecodeErrorKind::Invalid, message)
    }

    fn other(kind: DecodeErrorKind, message: impl Into<String>) -> Self {
        DecodeError {
            kind,
            expected: None,
            found: None,
            message: message.into(),
        }
    }

    /// The same failure, located inside a container (`element 2` of an array).
    pub fn within(mut self, place: &str) -> Self {
        self.message = format!("{place}: {}", self.message);
        self
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> DecodeErrorKind {
        self.kind
    }

    /// The type that was asked for, when the value was of another type.
    pub fn expected(&self) -> Option<&str> {
        self.expected.as_deref()
    }

    /// The type of the value found, when it was not the one asked for.
    pub fn found(&self) -> Option<&'static str> {
        self.found
    }
}

impl From<DecodeError> for String {
    /// The message, for code that reports conversion failures as text.
    fn from(err: DecodeError) -> String {
        err.message
    }
}
