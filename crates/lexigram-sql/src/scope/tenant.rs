//! [`TenantScope`]: a column and the value every scoped row has in it.

use crate::error::{Error, Result};
use crate::repository::{Filter, col};
use crate::value::Value;

/// The setting native row-level security reads: `current_setting('lexigram.tenant')`.
pub const DEFAULT_RLS_SETTING: &str = "lexigram.tenant";

/// A scope: one column and its value, e.g. `tenant_id = 42`. (`TenantScope` in the Python
/// edition.) Give it to [`Repository::scoped`](crate::Repository::scoped) or
/// [`Database::scoped`](crate::Database::scoped).
///
/// ```
/// use lexigram_sql::scope::TenantScope;
/// let s = TenantScope::new("tenant_id", 42).with_native_rls();
/// assert_eq!(s.column(), "tenant_id");
/// assert_eq!(s.rls_setting(), Some("lexigram.tenant"));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct TenantScope {
    column: String,
    value: Value,
    rls: Option<String>,
}

impl TenantScope {
    /// Rows whose `column` holds `value`.
    pub fn new(column: impl Into<String>, value: impl Into<Value>) -> TenantScope {
        TenantScope {
            column: column.into(),
            value: value.into(),
            rls: None,
        }
    }

    /// Also use PostgreSQL's native row-level security: every statement of the scoped handle
    /// runs in a transaction that first runs `SELECT set_config('lexigram.tenant', $1, true)`
    /// (bound, transaction-local), so policies reading `current_setting('lexigram.tenant')`
    /// apply. Ignored on SQLite and MySQL. See the [module docs](crate::scope) for the DDL.
    pub fn with_native_rls(self) -> TenantScope {
        self.with_rls_setting(DEFAULT_RLS_SETTING)
    }

    /// Like [`TenantScope::with_native_rls`] with another setting name (it must contain a
    /// dot, as PostgreSQL requires of custom settings).
    pub fn with_rls_setting(mut self, setting: impl Into<String>) -> TenantScope {
        self.rls = Some(setting.into());
        self
    }

    /// The scope column as given.
    pub fn column(&self) -> &str {
        &self.column
    }

    /// The scope value.
    pub fn value(&self) -> &Value {
        &self.value
    }

    /// The PostgreSQL setting of native row-level security, if enabled.
    pub fn rls_setting(&self) -> Option<&str> {
        self.rls.as_deref()
    }

    /// `column = value` on the resolved column name.
    pub(crate) fn filter_on(&self, column: &str) -> Filter {
        col(column).eq(self.value.clone())
    }

    /// `scope AND (user filter)`, with the user's whole filter nested as one term so that
    /// nothing in it (an `OR` of an always-true condition) can widen the scope.
    pub(crate) fn around(&self, column: &str, user: Filter) -> Filter {
        self.filter_on(column).and(user)
    }

    /// The value as text for `set_config`.
    pub(crate) fn setting_text(&self) -> Result<String> {
        match &self.value {
            Value::Int(i) => Ok(i.to_string()),
            Value::Text(s) => Ok(s.clone()),
            Value::Uuid(u) => Ok(u.to_string()),
            Value::Bool(b) => Ok(b.to_string()),
            other => Err(Error::InvalidRequest {
                entity: format!("scope '{}'", self.column),
                detail: format!(
                    "native row-level security needs an integer, text or UUID scope value, not {}. Fix: scope by such a column",
                    other.type_name()
                ),
            }),
        }
    }

    /// A NULL scope matches nothing and stamps nothing: refused.
    pub(crate) fn check(&self, target: &str) -> Result<()> {
        if self.value == Value::Null {
            return Err(Error::InvalidRequest {
                entity: target.to_string(),
                detail: format!(
                    "the scope on '{}' has a NULL value, which matches no row. Fix: give the tenant's value",
                    self.column
                ),
            });
        }
        Ok(())
    }

    /// True when `value` is this scope's value.
    pub(crate) fn is_value(&self, value: &Value) -> bool {
        *value == self.value
    }
}

/// A column value that a scoped insert fills in: NULL, 0, empty text or the nil UUID.
pub(crate) fn is_unset(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Int(0) => true,
        Value::Text(s) => s.is_empty(),
        Value::Uuid(u) => u.is_nil(),
        _ => false,
    }
}
