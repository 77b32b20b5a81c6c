//! [`EncodeError`]: a parameter refused by a backend's encoder, carried through the driver's
//! error to become [`Error::Encode`](crate::Error::Encode).

use std::fmt;

use super::Value;

/// A value that cannot be bound as the type the database expects. Backends return it from
/// their parameter encoders (boxed in the driver's error) and map it back when classifying.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EncodeError {
    /// 1-based parameter position.
    pub(crate) parameter: usize,
    /// [`Value::type_name`] of the refused value.
    pub(crate) value: &'static str,
    /// The server type (or storage class) that refused it.
    pub(crate) target: String,
    /// Why.
    pub(crate) detail: String,
}

impl EncodeError {
    /// Refuses `value` at `parameter` (1-based) as `target`, because `detail`.
    pub(crate) fn new(
        parameter: usize,
        value: &Value,
        target: impl Into<String>,
        detail: impl Into<String>,
    ) -> EncodeError {
        EncodeError {
            parameter,
            value: value.type_name(),
            target: target.into(),
            detail: detail.into(),
        }
    }

    /// Finds an `EncodeError` in an error's source chain.
    #[cfg(any(feature = "sqlite", feature = "postgres"))]
    pub(crate) fn find<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a EncodeError> {
        let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
        while let Some(err) = cur {
            if let Some(found) = err.downcast_ref::<EncodeError>() {
                return Some(found);
            }
            cur = err.source();
        }
        None
    }
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "parameter {} ({} value) cannot be stored as {}: {}",
            self.parameter, self.value, self.target, self.detail
        )
    }
}

impl std::error::Error for EncodeError {}

impl From<EncodeError> for crate::Error {
    fn from(e: EncodeError) -> Self {
        crate::Error::Encode {
            parameter: Some(e.parameter),
            value: e.value.to_string(),
            target: e.target,
            detail: e.detail,
        }
    }
}
