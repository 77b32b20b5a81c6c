//! TLS through rustls (ring provider) for the server backends: the PostgreSQL connector with
//! libpq's `sslmode` verifiers, and the classification of TLS failures of either driver into
//! [`TlsFailure`]s.

use std::error::Error as StdError;
use std::path::Path;
#[cfg(feature = "postgres")]
use std::sync::Arc;

use rustls::CertificateError;
use rustls::crypto::CryptoProvider;

use crate::config::Tls;
#[cfg(feature = "postgres")]
use crate::config::TlsMode;
use crate::error::{
    ConfigError, ConfigErrorKind, ConnectError, ConnectErrorKind, Error, TlsFailure,
};

/// The crypto provider every connection of this crate uses.
#[cfg(feature = "postgres")]
pub(crate) fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Makes ring the process default provider if none is set yet (mysql_async builds its
/// `ClientConfig` from the process default, which is ambiguous when an application links
/// several providers). An already installed default is kept.
#[cfg(feature = "mysql")]
pub(crate) fn install_default_provider() {
    if CryptoProvider::get_default().is_none() {
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

fn unreadable(what: &str, path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Configuration(ConfigError {
        kind: ConfigErrorKind::InvalidValue,
        headline: "Invalid TLS setting".to_string(),
        detail: format!("cannot read the {what} `{}`: {e}", path.display()),
        source_name: None,
        fix: "point sslrootcert/sslcert/sslkey (ssl-ca/ssl-cert/ssl-key, backend.tls.*) at readable PEM files".to_string(),
    })
}

/// Checks that the TLS files the settings name can be read, so that a wrong path is a
/// configuration error before any connection (mysql_async reads them only at connect, and
/// reports an I/O error there).
#[cfg(feature = "mysql")]
pub(crate) fn check_files(tls: &Tls) -> Result<(), Error> {
    for (what, path) in [
        ("root certificate", &tls.root_cert),
        ("client certificate", &tls.cert),
        ("client key", &tls.key),
    ] {
        if let Some(path) = path {
            std::fs::File::open(path).map_err(|e| unreadable(what, path, e))?;
        }
    }
    Ok(())
}

/// The client key at `path` as mysql_async needs it: PKCS#1 DER. A PKCS#1 PEM passes as it is,
/// the RSA key inside a PKCS#8 PEM (openssl's default output) is unwrapped, and any other key
/// (EC, Ed25519) is a configuration error: mysql_async's rustls support reads RSA keys only.
#[cfg(feature = "mysql")]
pub(crate) fn mysql_client_key(path: &Path) -> Result<Vec<u8>, Error> {
    use rustls::pki_types::PrivateKeyDer;
    use rustls::pki_types::pem::PemObject;
    /// rsaEncryption, 1.2.840.113549.1.1.1.
    const RSA: pkcs8::ObjectIdentifier =
        pkcs8::ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
    let not_rsa = || {
        unreadable(
            "client key",
            path,
            "MySQL connections accept RSA client keys only (mysql_async); make an RSA key, e.g. `openssl genrsa`",
        )
    };
    match PrivateKeyDer::from_pem_file(path).map_err(|e| unreadable("client key", path, e))? {
        PrivateKeyDer::Pkcs1(key) => Ok(key.secret_pkcs1_der().to_vec()),
        PrivateKeyDer::Pkcs8(key) => {
            let info = pkcs8::PrivateKeyInfo::try_from(key.secret_pkcs8_der())
                .map_err(|e| unreadable("client key", path, e))?;
            if info.algorithm.oid == RSA {
                Ok(info.private_key.to_vec())
            } else {
                Err(not_rsa())
            }
        }
        _ => Err(not_rsa()),
    }
}

/// The first TLS failure found in an error's chain, with a description for the message.
///
/// rustls reports through `std::io::Error`s whose inner error is the `rustls::Error`; an
/// `io::Error`'s `source()` skips that inner error, so it is looked at through `get_ref`.
pub(crate) fn find_failure(err: &(dyn StdError + 'static)) -> Option<(TlsFailure, String)> {
    let mut next: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = next {
        if let Some(r) = e.downcast_ref::<rustls::Error>() {
            return Some(describe(r));
        }
        if let Some(inner) = e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        {
            return Some(describe(inner));
        }
        next = e.source();
    }
    None
}

/// The names a certificate was valid for, when a verify-full check failed on the name.
#[cfg(feature = "mysql")]
pub(crate) fn presented_names(err: &(dyn StdError + 'static)) -> Option<Vec<String>> {
    let mut next: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = next {
        let found = e.downcast_ref::<rustls::Error>().or_else(|| {
            e.downcast_ref::<std::io::Error>()
                .and_then(|io| io.get_ref())
                .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        });
        if let Some(rustls::Error::InvalidCertificate(CertificateError::NotValidForNameContext {
            presented,
            ..
        })) = found
        {
            return Some(presented.clone());
        }
        next = e.source();
    }
    None
}

fn describe(e: &rustls::Error) -> (TlsFailure, String) {
    match e {
        rustls::Error::InvalidCertificate(
            c @ (CertificateError::NotValidForName
            | CertificateError::NotValidForNameContext { .. }),
        ) => (
            TlsFailure::NameMismatch,
            format!("TLS: the server's certificate does not name this host ({c})"),
        ),
        rustls::Error::InvalidCertificate(c) => (
            TlsFailure::Untrusted,
            format!("TLS: the server's certificate is not trusted ({c})"),
        ),
        other => (
            TlsFailure::Handshake,
            format!("TLS handshake failed: {other}"),
        ),
    }
}

/// A connect error of kind [`ConnectErrorKind::Tls`].
pub(crate) fn connect_error(
    failure: TlsFailure,
    backend: &'static str,
    target: &str,
    reason: String,
) -> Error {
    Error::Connect(ConnectError::new(
        ConnectErrorKind::Tls(failure),
        backend,
        target,
        reason,
    ))
}

/// PEM certificates from a file.
#[cfg(feature = "postgres")]
fn load_certs(
    what: &str,
    path: &Path,
) -> Result<Vec<rustls::pki_types::CertificateDer<'static>>, Error> {
    use rustls::pki_types::pem::PemObject;
    let certs = rustls::pki_types::CertificateDer::pem_file_iter(path)
        .map_err(|e| unreadable(what, path, e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| unreadable(what, path, e))?;
    if certs.is_empty() {
        return Err(unreadable(what, path, "no PEM certificate in it"));
    }
    Ok(certs)
}

/// The trusted roots: the root certificate file if given, else the public web PKI roots.
#[cfg(feature = "postgres")]
fn roots(tls: &Tls) -> Result<rustls::RootCertStore, Error> {
    let mut store = rustls::RootCertStore::empty();
    match &tls.root_cert {
        Some(path) => {
            for cert in load_certs("root certificate", path)? {
                store
                    .add(cert)
                    .map_err(|e| unreadable("root certificate", path, e))?;
            }
        }
        None => store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    Ok(store)
}

/// The rustls client configuration for a PostgreSQL connection in `tls.mode` (not called
/// for `disable`).
#[cfg(feature = "postgres")]
pub(crate) fn pg_connector(tls: &Tls) -> Result<tokio_postgres_rustls::MakeRustlsConnect, Error> {
    let provider = provider();
    let check = match tls.mode {
        TlsMode::Disable | TlsMode::Prefer | TlsMode::Require => Check::Nothing,
        TlsMode::VerifyCa => Check::Chain,
        TlsMode::VerifyFull => Check::Full,
    };
    let webpki = match check {
        Check::Nothing => None,
        Check::Chain | Check::Full => Some(
            rustls::client::WebPkiServerVerifier::builder_with_provider(
                Arc::new(roots(tls)?),
                Arc::clone(&provider),
            )
            .build()
            .map_err(|e| {
                unreadable(
                    "root certificate",
                    tls.root_cert.as_deref().unwrap_or(Path::new("")),
                    e,
                )
            })?,
        ),
    };
    let verifier = Arc::new(Verifier {
        check,
        webpki,
        provider: Arc::clone(&provider),
    });
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| connect_error(TlsFailure::Handshake, "postgresql", "", e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let config = match (&tls.cert, &tls.key) {
        (Some(cert), Some(key)) => {
            use rustls::pki_types::pem::PemObject;
            let chain = load_certs("client certificate", cert)?;
            let key = rustls::pki_types::PrivateKeyDer::from_pem_file(key)
                .map_err(|e| unreadable("client key", key, e))?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| unreadable("client certificate", cert, e))?
        }
        _ => builder.with_no_client_auth(),
    };
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
}

/// What a PostgreSQL connection checks of the server's certificate.
#[cfg(feature = "postgres")]
#[derive(Debug, Clone, Copy)]
enum Check {
    /// `prefer` / `require`: encryption only (libpq's meaning of those modes).
    Nothing,
    /// `verify-ca`: signed by a trusted root, any name.
    Chain,
    /// `verify-full`: signed by a trusted root and naming the host.
    Full,
}

/// libpq's `sslmode` checks as a rustls verifier. Handshake signatures are always verified
/// (the server must hold the key of the certificate it sends).
#[cfg(feature = "postgres")]
#[derive(Debug)]
struct Verifier {
    check: Check,
    webpki: Option<Arc<rustls::client::WebPkiServerVerifier>>,
    provider: Arc<CryptoProvider>,
}

#[cfg(feature = "postgres")]
impl rustls::client::danger::ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &rustls::pki_types::CertificateDer<'_>,
        intermediates: &[rustls::pki_types::CertificateDer<'_>],
        server_name: &rustls::pki_types::ServerName<'_>,
        ocsp_response: &[u8],
        now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        let Some(webpki) = &self.webpki else {
            return Ok(rustls::client::danger::ServerCertVerified::assertion());
        };
        let verified =
            webpki.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now);
        match (self.check, verified) {
            // webpki checks the chain before the name: a name error means the chain is good.
            (
                Check::Chain,
                Err(rustls::Error::InvalidCertificate(
                    CertificateError::NotValidForName
                    | CertificateError::NotValidForNameContext { .. },
                )),
            ) => Ok(rustls::client::danger::ServerCertVerified::assertion()),
            (_, verified) => verified,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}
