//! TLS settings of a server backend: libpq's `sslmode` family and MySQL's `ssl-mode` family in
//! the URL, mirrored by the `backend.tls.*` config keys.
//!
//! **The URL wins, parameter by parameter**: `?sslmode=verify-full` in the URL overrides
//! `backend.tls.mode`, and a key the URL does not give comes from the config (the URL is the
//! most specific thing a deployment hands over, as with libpq's connection string over its
//! environment variables).

use std::fmt;
use std::path::PathBuf;

use percent_encoding::percent_decode_str;
use serde::Deserialize;

use crate::error::{ConfigError, ConfigErrorKind};

/// How much TLS a connection demands, in libpq's terms (MySQL's names map onto them).
///
/// | mode | libpq `sslmode` | MySQL `ssl-mode` | encrypts | checks the CA | checks the host name |
/// |---|---|---|---|---|---|
/// | `Disable` | `disable` | `DISABLED` | no | – | – |
/// | `Prefer` (default) | `prefer` | `PREFERRED` | if the server offers it | no | no |
/// | `Require` | `require` | `REQUIRED` | yes | no (yes with a root cert: then as `VerifyCa`) | no |
/// | `VerifyCa` | `verify-ca` | `VERIFY_CA` | yes | yes | no |
/// | `VerifyFull` | `verify-full` | `VERIFY_IDENTITY` | yes | yes | yes |
///
/// ```
/// use lexigram_sql::config::TlsMode;
/// assert_eq!(TlsMode::parse("verify-full"), Some(TlsMode::VerifyFull));
/// assert_eq!(TlsMode::parse("VERIFY_IDENTITY"), Some(TlsMode::VerifyFull));
/// assert_eq!(TlsMode::parse("REQUIRED"), Some(TlsMode::Require));
/// assert_eq!(TlsMode::default(), TlsMode::Prefer);
/// assert!(TlsMode::VerifyCa < TlsMode::VerifyFull);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TlsMode {
    /// Plain text only.
    Disable,
    /// TLS when the server offers it, without checking its certificate; plain text otherwise.
    #[default]
    Prefer,
    /// TLS or fail; the certificate is not checked (libpq's meaning), unless a root
    /// certificate is given, which makes it [`TlsMode::VerifyCa`] as in libpq.
    Require,
    /// TLS, the server certificate signed by a trusted CA; the host name is not checked.
    VerifyCa,
    /// TLS, a trusted certificate that names the host connected to.
    VerifyFull,
}

impl TlsMode {
    /// Parses libpq's (`disable`, `prefer`, `require`, `verify-ca`, `verify-full`) and
    /// MySQL's (`DISABLED`, `PREFERRED`, `REQUIRED`, `VERIFY_CA`, `VERIFY_IDENTITY`) names,
    /// ignoring case and treating `-` and `_` alike.
    pub fn parse(text: &str) -> Option<TlsMode> {
        let name = text.trim().to_ascii_lowercase().replace('_', "-");
        Some(match name.as_str() {
            "disable" | "disabled" => TlsMode::Disable,
            "prefer" | "preferred" => TlsMode::Prefer,
            "require" | "required" => TlsMode::Require,
            "verify-ca" => TlsMode::VerifyCa,
            "verify-full" | "verify-identity" => TlsMode::VerifyFull,
            _ => return None,
        })
    }

    /// libpq's name of the mode (`verify-full`, …).
    pub fn name(&self) -> &'static str {
        match self {
            TlsMode::Disable => "disable",
            TlsMode::Prefer => "prefer",
            TlsMode::Require => "require",
            TlsMode::VerifyCa => "verify-ca",
            TlsMode::VerifyFull => "verify-full",
        }
    }
}

impl fmt::Display for TlsMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl<'de> Deserialize<'de> for TlsMode {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        TlsMode::parse(&text).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "unknown TLS mode `{text}`, expected one of disable, prefer, require, verify-ca, verify-full (or MySQL's DISABLED, PREFERRED, REQUIRED, VERIFY_CA, VERIFY_IDENTITY)"
            ))
        })
    }
}

/// TLS settings of a backend (`backend.tls`, env `LEX_SQL__BACKEND__TLS__MODE`, …). Each key
/// a URL parameter also gives is overridden by the URL (see the module docs).
///
/// ```
/// use lexigram_sql::config::{TlsConfig, TlsMode};
/// let tls: TlsConfig = serde_json::from_str(r#"{"mode": "verify-full", "root_cert": "/etc/ca.pem"}"#).unwrap();
/// assert_eq!(tls.mode, Some(TlsMode::VerifyFull));
/// assert_eq!(TlsConfig::default().mode, None); // the URL's, else prefer
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct TlsConfig {
    /// `backend.tls.mode`: the [`TlsMode`]; unset means the URL's `sslmode`/`ssl-mode`, else
    /// `prefer`.
    pub mode: Option<TlsMode>,
    /// `backend.tls.root_cert`: PEM file of the CA(s) to trust (`sslrootcert`, `ssl-ca`).
    /// Without it, verifying modes trust the public web PKI roots.
    pub root_cert: Option<PathBuf>,
    /// `backend.tls.cert`: PEM client certificate chain (`sslcert`, `ssl-cert`).
    pub cert: Option<PathBuf>,
    /// `backend.tls.key`: PEM private key of the client certificate (`sslkey`, `ssl-key`).
    pub key: Option<PathBuf>,
}

super::setters::with_setters!(TlsConfig {
    with_mode => mode: Option<TlsMode>,
    with_root_cert => root_cert: Option<PathBuf>,
    with_cert => cert: Option<PathBuf>,
    with_key => key: Option<PathBuf>,
});

/// The TLS settings a connection uses: URL parameters over `backend.tls`, defaults applied.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Tls {
    /// The effective mode (`require` with a root certificate is already `VerifyCa`).
    pub(crate) mode: TlsMode,
    pub(crate) root_cert: Option<PathBuf>,
    pub(crate) cert: Option<PathBuf>,
    pub(crate) key: Option<PathBuf>,
}

/// URL parameter names (lowercase, `_` as `-`) and the setting each one gives.
#[derive(Clone, Copy)]
enum Param {
    Mode,
    RootCert,
    Cert,
    Key,
}

fn param(key: &str) -> Option<Param> {
    let key = key.to_ascii_lowercase().replace('_', "-");
    Some(match key.as_str() {
        "sslmode" | "ssl-mode" => Param::Mode,
        "sslrootcert" | "ssl-ca" => Param::RootCert,
        "sslcert" | "ssl-cert" => Param::Cert,
        "sslkey" | "ssl-key" => Param::Key,
        _ => return None,
    })
}

fn invalid(detail: String, fix: &str) -> ConfigError {
    ConfigError {
        kind: ConfigErrorKind::InvalidValue,
        headline: "Invalid TLS setting".to_string(),
        detail,
        source_name: None,
        fix: fix.to_string(),
    }
}

/// Splits the TLS parameters off a server URL (given with its password: the result is for
/// the driver only) and merges them over `config`. Returns the URL without those parameters
/// (other parameters kept verbatim) and the effective settings.
pub(crate) fn resolve(raw: &str, config: &TlsConfig) -> Result<(String, Tls), ConfigError> {
    let (head, fragment) = match raw.split_once('#') {
        Some((head, fragment)) => (head, Some(fragment)),
        None => (raw, None),
    };
    let mut tls = Tls {
        mode: TlsMode::Prefer,
        root_cert: config.root_cert.clone(),
        cert: config.cert.clone(),
        key: config.key.clone(),
    };
    let mut mode = config.mode;
    let mut url = head.to_string();
    if let Some((base, query)) = head.split_once('?') {
        let mut kept = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let key = percent_decode_str(key).decode_utf8_lossy();
            let Some(which) = param(&key) else {
                kept.push(pair);
                continue;
            };
            let value = percent_decode_str(value).decode_utf8_lossy().into_owned();
            match which {
                Param::Mode => {
                    mode = Some(TlsMode::parse(&value).ok_or_else(|| {
                        invalid(
                            format!("`{key}={value}` in the database URL is not a TLS mode"),
                            "use sslmode=disable|prefer|require|verify-ca|verify-full (or ssl-mode=DISABLED|PREFERRED|REQUIRED|VERIFY_CA|VERIFY_IDENTITY)",
                        )
                    })?);
                }
                Param::RootCert => tls.root_cert = Some(PathBuf::from(value)),
                Param::Cert => tls.cert = Some(PathBuf::from(value)),
                Param::Key => tls.key = Some(PathBuf::from(value)),
            }
        }
        url = if kept.is_empty() {
            base.to_string()
        } else {
            format!("{base}?{}", kept.join("&"))
        };
    }
    if let Some(fragment) = fragment {
        url.push('#');
        url.push_str(fragment);
    }
    tls.mode = match mode.unwrap_or_default() {
        // libpq: "if a root CA file exists, require behaves like verify-ca".
        TlsMode::Require if tls.root_cert.is_some() => TlsMode::VerifyCa,
        other => other,
    };
    if tls.cert.is_some() != tls.key.is_some() {
        return Err(invalid(
            "a client certificate needs both sslcert and sslkey (backend.tls.cert and backend.tls.key); only one is set".to_string(),
            "set both the client certificate and its private key, or neither",
        ));
    }
    Ok((url, tls))
}

/// True for `localhost`, `127.0.0.0/8`, `::1` (with or without brackets), and a missing host.
pub(crate) fn is_loopback(host: Option<&str>) -> bool {
    let Some(host) = host else { return true };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    host.parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_parameters_are_split_off_and_win() {
        let config = TlsConfig {
            mode: Some(TlsMode::Disable),
            root_cert: Some("/cfg/ca.pem".into()),
            ..TlsConfig::default()
        };
        let (url, tls) = resolve(
            "postgresql://u:p@h/db?options=-c%20search_path%3Dapp&sslmode=verify-full&application_name=x",
            &config,
        )
        .unwrap();
        assert_eq!(
            url,
            "postgresql://u:p@h/db?options=-c%20search_path%3Dapp&application_name=x"
        );
        assert_eq!(tls.mode, TlsMode::VerifyFull);
        assert_eq!(tls.root_cert, Some("/cfg/ca.pem".into()));

        let (url, tls) = resolve(
            "mysql://u@h/db?ssl-mode=VERIFY_CA&ssl-ca=%2Ftmp%2Fca.pem",
            &config,
        )
        .unwrap();
        assert_eq!(url, "mysql://u@h/db");
        assert_eq!(tls.mode, TlsMode::VerifyCa);
        assert_eq!(tls.root_cert, Some("/tmp/ca.pem".into()));

        let (_, tls) = resolve("postgresql://h/db", &config).unwrap();
        assert_eq!(tls.mode, TlsMode::Disable);
        let (_, tls) = resolve("postgresql://h/db", &TlsConfig::default()).unwrap();
        assert_eq!(tls.mode, TlsMode::Prefer);
    }

    #[test]
    fn require_with_a_root_cert_verifies_the_ca() {
        let (_, tls) = resolve(
            "postgresql://h/db?sslmode=require&sslrootcert=/ca.pem",
            &TlsConfig::default(),
        )
        .unwrap();
        assert_eq!(tls.mode, TlsMode::VerifyCa);
        let (_, tls) = resolve("postgresql://h/db?sslmode=require", &TlsConfig::default()).unwrap();
        assert_eq!(tls.mode, TlsMode::Require);
    }

    #[test]
    fn bad_values_are_config_errors() {
        let err = resolve("postgresql://h/db?sslmode=always", &TlsConfig::default()).unwrap_err();
        assert_eq!(err.kind, ConfigErrorKind::InvalidValue);
        assert!(err.fix.contains("verify-full"), "{err}");
        let err = resolve("postgresql://h/db?sslcert=/c.pem", &TlsConfig::default()).unwrap_err();
        assert!(err.detail.contains("sslkey"), "{err}");
    }

    #[test]
    fn loopback_hosts() {
        for host in ["localhost", "127.0.0.1", "127.1.2.3", "[::1]", "::1"] {
            assert!(is_loopback(Some(host)), "{host}");
        }
        for host in ["db.internal", "10.0.0.1", "[2001:db8::1]"] {
            assert!(!is_loopback(Some(host)), "{host}");
        }
    }
}
