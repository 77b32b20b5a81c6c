//! The audit log's settings (`sql.audit`): whether it is on, its table, and the HMAC key of
//! its hash chain (a secret).

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer};

use crate::error::{ConfigError, ConfigErrorKind, Error};

/// The shortest accepted `audit_hmac_key`, in bytes: 32 (256 bits, the HMAC-SHA256 block
/// strength).
pub const MIN_AUDIT_KEY_BYTES: usize = 32;

/// The secret key of the audit hash chain. Never shown: `Debug` prints `AuditKey(<redacted>)`.
///
/// ```
/// let key = lexigram_sql::config::AuditKey::new("0123456789abcdef0123456789abcdef");
/// assert_eq!(format!("{key:?}"), "AuditKey(<redacted>)");
/// ```
#[derive(Clone)]
pub struct AuditKey(SecretString);

impl AuditKey {
    /// A key from its text.
    pub fn new(text: impl Into<String>) -> AuditKey {
        AuditKey(SecretString::from(text.into()))
    }

    /// The key's bytes, for the HMAC.
    pub(crate) fn bytes(&self) -> &[u8] {
        self.0.expose_secret().as_bytes()
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.bytes().len()
    }

    /// True for an empty key.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl std::fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuditKey(<redacted>)")
    }
}

impl PartialEq for AuditKey {
    fn eq(&self, other: &Self) -> bool {
        self.bytes() == other.bytes()
    }
}

impl Eq for AuditKey {}

impl<'de> Deserialize<'de> for AuditKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(AuditKey::new)
    }
}

/// Settings of the audit log (`sql.audit`, env `LEX_SQL__AUDIT__*`); see [`crate::audit`].
///
/// ```
/// let audit = lexigram_sql::config::AuditConfig::default();
/// assert!(!audit.enabled);
/// assert_eq!(audit.table, "lexigram_audit_log");
/// assert!(audit.audit_hmac_key.is_none());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuditConfig {
    /// Whether audited repositories write the log (`audit.enabled`, default false).
    pub enabled: bool,
    /// The log table (`audit.table`, default `lexigram_audit_log`); its chain head is
    /// `<table>_head`.
    pub table: String,
    /// The HMAC key of the hash chain (`audit.audit_hmac_key`, a secret, at least 32
    /// bytes; required when enabled).
    pub audit_hmac_key: Option<AuditKey>,
}

impl Default for AuditConfig {
    fn default() -> Self {
        AuditConfig {
            enabled: false,
            table: "lexigram_audit_log".to_string(),
            audit_hmac_key: None,
        }
    }
}

/// An enabled audit log needs a table name and a key of at least [`MIN_AUDIT_KEY_BYTES`].
pub(crate) fn check_audit(
    audit: &AuditConfig,
    origin: &dyn Fn(&str) -> String,
) -> Result<(), Error> {
    if !audit.enabled {
        return Ok(());
    }
    if let Err(e) = crate::repository::ident_check("table", &audit.table) {
        return Err(invalid(
            format!("`sql.audit.table` is not a plain identifier: {e}"),
            origin("audit.table"),
            "set sql.audit.table to a plain table name (default lexigram_audit_log)".into(),
        ));
    }
    match &audit.audit_hmac_key {
        None => Err(invalid(
            "`sql.audit.enabled` is true but `sql.audit.audit_hmac_key` is not set".into(),
            origin("audit.audit_hmac_key"),
            format!(
                "set sql.audit.audit_hmac_key (env LEX_SQL__AUDIT__AUDIT_HMAC_KEY) to a random secret of at least {MIN_AUDIT_KEY_BYTES} bytes, e.g. `openssl rand -hex 32`"
            ),
        )),
        Some(key) if key.len() < MIN_AUDIT_KEY_BYTES => Err(invalid(
            format!(
                "`sql.audit.audit_hmac_key` is {} bytes long, shorter than {MIN_AUDIT_KEY_BYTES}",
                key.len()
            ),
            origin("audit.audit_hmac_key"),
            format!(
                "use a random secret of at least {MIN_AUDIT_KEY_BYTES} bytes, e.g. `openssl rand -hex 32`"
            ),
        )),
        Some(_) => Ok(()),
    }
}

fn invalid(detail: String, source: String, fix: String) -> Error {
    Error::Configuration(ConfigError {
        kind: ConfigErrorKind::InvalidValue,
        headline: "Invalid audit configuration".to_string(),
        detail,
        source_name: Some(source),
        fix,
    })
}
