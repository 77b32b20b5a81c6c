//! TLS on the real servers of `scripts/test.sh`: each mode connects (or fails with the typed
//! error) and the server itself confirms whether the session is encrypted.
//!
//! The servers' certificate names `localhost` only, signed by the CA in `LEX_TEST_TLS_CA`;
//! `LEX_TEST_TLS_WRONG_CA` is another CA. The test URLs use `127.0.0.1`, which the
//! certificate does not name. Skipped when those variables are absent, unless
//! `LEX_TEST_REQUIRE_SERVERS=1`.
#![cfg(any(feature = "postgres", feature = "mysql"))]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use lexigram_sql::config::{TlsConfig, TlsMode};
use lexigram_sql::{ConnectErrorKind, Database, DatabaseConfig, Error, TlsFailure};

const PASSWORD: &str = "lexigram_test_pw";

struct Server {
    /// `postgresql://…@127.0.0.1:port/db`
    url: String,
    ca: String,
    wrong_ca: String,
    postgres: bool,
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn server(url_var: &str, postgres: bool) -> Option<Server> {
    let found = (|| {
        Some(Server {
            url: var(url_var)?,
            ca: var("LEX_TEST_TLS_CA")?,
            wrong_ca: var("LEX_TEST_TLS_WRONG_CA")?,
            postgres,
        })
    })();
    if found.is_none() {
        assert!(
            var("LEX_TEST_REQUIRE_SERVERS").as_deref() != Some("1"),
            "{url_var}, LEX_TEST_TLS_CA or LEX_TEST_TLS_WRONG_CA is not set but LEX_TEST_REQUIRE_SERVERS=1: run the tests through scripts/test.sh"
        );
        eprintln!("skipped: {url_var} / LEX_TEST_TLS_CA not set (run scripts/test.sh)");
    }
    found
}

impl Server {
    /// The URL with TLS parameters in the backend's own spelling, on host `127.0.0.1`
    /// (`localhost: false`) or `localhost`.
    fn url(&self, localhost: bool, mode: &str, ca: Option<&str>) -> String {
        let mut url = self.url.clone();
        if localhost {
            url = url.replace("@127.0.0.1:", "@localhost:");
        }
        let (mode_key, ca_key, mode) = if self.postgres {
            ("sslmode", "sslrootcert", mode.to_string())
        } else {
            let mysql = match mode {
                "disable" => "DISABLED",
                "prefer" => "PREFERRED",
                "require" => "REQUIRED",
                "verify-ca" => "VERIFY_CA",
                _ => "VERIFY_IDENTITY",
            };
            ("ssl-mode", "ssl-ca", mysql.to_string())
        };
        let sep = if url.contains('?') { '&' } else { '?' };
        url.push_str(&format!("{sep}{mode_key}={mode}"));
        if let Some(ca) = ca {
            url.push_str(&format!("&{ca_key}={ca}"));
        }
        url
    }

    fn name(&self) -> &'static str {
        if self.postgres { "postgresql" } else { "mysql" }
    }
}

fn servers() -> Vec<Server> {
    let mut all = Vec::new();
    if cfg!(feature = "postgres") {
        all.extend(server("LEX_TEST_POSTGRES_URL", true));
    }
    if cfg!(feature = "mysql") {
        all.extend(server("LEX_TEST_MYSQL_URL", false));
    }
    all
}

/// Whether the server says this session is encrypted.
async fn encrypted(db: &Database, s: &Server) -> bool {
    if s.postgres {
        let row = db
            .fetch_one(
                "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
                &[],
            )
            .await
            .unwrap();
        row.get::<bool>("ssl").unwrap()
    } else {
        let row = db
            .fetch_one("SHOW SESSION STATUS LIKE 'Ssl_cipher'", &[])
            .await
            .unwrap();
        let cipher: String = row.get("Value").unwrap();
        !cipher.is_empty()
    }
}

async fn connects_encrypted(s: &Server, url: &str) -> bool {
    let db = Database::connect_url(url)
        .await
        .unwrap_or_else(|e| panic!("{}: {url}: {e}", s.name()));
    let on = encrypted(&db, s).await;
    db.close().await;
    on
}

/// Connecting fails with `Connect` of kind `Tls(expected)`, and the message says why and
/// how to fix it, without the password.
async fn fails_with(s: &Server, url: &str, expected: TlsFailure, words: &[&str]) {
    let err = match Database::connect_url(url).await {
        Ok(_) => panic!("{}: {url} connected, expected {expected:?}", s.name()),
        Err(e) => e,
    };
    let text = err.to_string();
    eprintln!("{}: {expected:?}: {text}", s.name());
    match &err {
        Error::Connect(c) => assert_eq!(
            c.kind,
            ConnectErrorKind::Tls(expected),
            "{}: {url}: {text}",
            s.name()
        ),
        other => panic!(
            "{}: {url}: expected a connect error, got {other:?}",
            s.name()
        ),
    }
    assert_eq!(err.code(), "LEX_ERR_SQL_002");
    for word in words {
        assert!(text.contains(word), "{}: `{word}` not in: {text}", s.name());
    }
    assert!(!text.contains(PASSWORD), "{text}");
    assert!(!format!("{err:?}").contains(PASSWORD), "{err:?}");
}

#[tokio::test]
async fn require_and_verify_full_encrypt_and_disable_does_not() {
    for s in servers() {
        assert!(
            connects_encrypted(&s, &s.url(false, "require", None)).await,
            "{}: require",
            s.name()
        );
        assert!(
            connects_encrypted(&s, &s.url(true, "verify-full", Some(&s.ca))).await,
            "{}: verify-full",
            s.name()
        );
        assert!(
            connects_encrypted(&s, &s.url(false, "prefer", None)).await,
            "{}: prefer, on a server that offers TLS",
            s.name()
        );
        assert!(
            connects_encrypted(&s, &s.url).await,
            "{}: the default is prefer",
            s.name()
        );
        assert!(
            !connects_encrypted(&s, &s.url(false, "disable", None)).await,
            "{}: disable",
            s.name()
        );
    }
}

#[tokio::test]
async fn an_untrusted_certificate_is_a_typed_error() {
    for s in servers() {
        let ca_key = if s.postgres { "sslrootcert" } else { "ssl-ca" };
        fails_with(
            &s,
            &s.url(true, "verify-full", Some(&s.wrong_ca)),
            TlsFailure::Untrusted,
            &["not trusted", ca_key, "Fix:"],
        )
        .await;
        fails_with(
            &s,
            &s.url(false, "verify-ca", Some(&s.wrong_ca)),
            TlsFailure::Untrusted,
            &["not trusted"],
        )
        .await;
        // Without a root certificate, verifying modes trust only the public roots.
        fails_with(
            &s,
            &s.url(true, "verify-full", None),
            TlsFailure::Untrusted,
            &["not trusted"],
        )
        .await;
    }
    // libpq: require with a root certificate checks the CA, as verify-ca (on both backends).
    for s in servers() {
        fails_with(
            &s,
            &s.url(false, "require", Some(&s.wrong_ca)),
            TlsFailure::Untrusted,
            &["not trusted"],
        )
        .await;
        assert!(connects_encrypted(&s, &s.url(false, "require", Some(&s.ca))).await);
    }
}

#[tokio::test]
async fn an_unreadable_certificate_file_is_a_configuration_error() {
    for s in servers() {
        let url = s.url(true, "verify-full", Some("/nonexistent/ca.pem"));
        let err = match Database::connect_url(&url).await {
            Ok(_) => panic!("{}: connected with a missing CA file", s.name()),
            Err(e) => e,
        };
        assert!(
            matches!(&err, Error::Configuration(_)),
            "{}: {err:?}",
            s.name()
        );
        let text = err.to_string();
        assert!(text.contains("/nonexistent/ca.pem"), "{text}");
        assert!(!text.contains(PASSWORD), "{text}");
    }
}

#[tokio::test]
async fn verify_full_checks_the_host_name_and_verify_ca_does_not() {
    for s in servers() {
        // The certificate names `localhost`; the URL says 127.0.0.1.
        fails_with(
            &s,
            &s.url(false, "verify-full", Some(&s.ca)),
            TlsFailure::NameMismatch,
            &[
                "does not name this host",
                "127.0.0.1",
                "localhost",
                "verify-ca",
            ],
        )
        .await;
        assert!(
            connects_encrypted(&s, &s.url(false, "verify-ca", Some(&s.ca))).await,
            "{}: verify-ca on a host the certificate does not name",
            s.name()
        );
    }
}

#[tokio::test]
async fn config_keys_give_the_mode_and_the_url_wins() {
    for s in servers() {
        let localhost = s.url.replace("@127.0.0.1:", "@localhost:");
        let mut config = DatabaseConfig::from_url(&localhost).unwrap();
        config.backend.tls = TlsConfig::default()
            .with_mode(Some(TlsMode::VerifyFull))
            .with_root_cert(Some(s.ca.clone().into()));
        let db = Database::from_config(&config).await.unwrap();
        assert!(encrypted(&db, &s).await, "{}: backend.tls.*", s.name());
        db.close().await;

        // The URL's mode overrides backend.tls.mode.
        let mut config = DatabaseConfig::from_url(&s.url(false, "disable", None)).unwrap();
        config.backend.tls.mode = Some(TlsMode::VerifyFull);
        let db = Database::from_config(&config).await.unwrap();
        assert!(!encrypted(&db, &s).await, "{}: URL wins", s.name());
        db.close().await;

        // The config's wrong CA is used by the URL's mode.
        let mut config = DatabaseConfig::from_url(&s.url(true, "verify-full", None)).unwrap();
        config.backend.tls.root_cert = Some(s.wrong_ca.clone().into());
        let err = Database::from_config(&config).await.unwrap_err();
        assert!(
            matches!(&err, Error::Connect(c) if c.kind == ConnectErrorKind::Tls(TlsFailure::Untrusted)),
            "{}: {err}",
            s.name()
        );
    }
}

/// Through the TLS-breaking proxy `proxy` makes in front of `s`, `prefer` (`PREFERRED`)
/// connects in plain text and `require` fails with `Tls(Handshake)`; straight to the server,
/// `prefer` still encrypts.
async fn prefer_falls_back_through<F, Fut>(s: &Server, proxy: F)
where
    F: FnOnce(String) -> Fut,
    Fut: std::future::Future<Output = u16>,
{
    let upstream = s
        .url
        .split_once('@')
        .and_then(|(_, rest)| rest.split('/').next())
        .unwrap()
        .to_string();
    let port = proxy(upstream.clone()).await;
    let through = Server {
        url: s.url.replace(&upstream, &format!("127.0.0.1:{port}")),
        ca: s.ca.clone(),
        wrong_ca: s.wrong_ca.clone(),
        postgres: s.postgres,
    };
    assert!(
        !connects_encrypted(&through, &through.url(false, "prefer", None)).await,
        "{}: prefer connected through the TLS-breaking proxy, but the session is encrypted",
        s.name()
    );
    fails_with(
        &through,
        &through.url(false, "require", None),
        TlsFailure::Handshake,
        &["TLS handshake failed"],
    )
    .await;
    assert!(connects_encrypted(s, &s.url(false, "prefer", None)).await);
}

/// A fake PostgreSQL server on 127.0.0.1 that answers the client's `SSLRequest` with `reply`
/// and then closes; returns its port.
#[cfg(feature = "postgres")]
async fn fake_postgres(reply: &'static [u8]) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut request = [0u8; 8];
                if socket.read_exact(&mut request).await.is_ok() {
                    let _ = socket.write_all(reply).await;
                }
            });
        }
    });
    port
}

#[cfg(feature = "postgres")]
#[tokio::test]
async fn a_server_without_tls_and_a_broken_handshake_are_told_apart() {
    let url = |port: u16, mode: &str| {
        format!("postgresql://u:{PASSWORD}@127.0.0.1:{port}/db?sslmode={mode}")
    };
    // 'N': the server does not do TLS.
    let port = fake_postgres(b"N").await;
    let err = Database::connect_url(&url(port, "require"))
        .await
        .err()
        .unwrap();
    assert!(
        matches!(&err, Error::Connect(c) if c.kind == ConnectErrorKind::Tls(TlsFailure::Unsupported)),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("enable TLS on the server"),
        "{err}"
    );
    assert!(!err.to_string().contains(PASSWORD), "{err}");

    // 'S', then not TLS at all.
    let port = fake_postgres(b"Snot a TLS server hello at all").await;
    let err = Database::connect_url(&url(port, "verify-full"))
        .await
        .err()
        .unwrap();
    assert!(
        matches!(&err, Error::Connect(c) if c.kind == ConnectErrorKind::Tls(TlsFailure::Handshake)),
        "{err:?}"
    );
    assert!(err.to_string().contains("TLS handshake failed"), "{err}");
    assert!(!err.to_string().contains(PASSWORD), "{err}");
}

/// A TCP proxy on 127.0.0.1 in front of the real PostgreSQL server at `upstream`: it answers
/// every `SSLRequest` with 'S' and then breaks the handshake, and forwards every other
/// connection (a plain startup) to the server untouched. Returns its port.
#[cfg(feature = "postgres")]
async fn tls_breaking_proxy(upstream: String) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    const SSL_REQUEST: [u8; 8] = [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f];
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let upstream = upstream.clone();
            tokio::spawn(async move {
                let mut first = [0u8; 8];
                if client.read_exact(&mut first).await.is_err() {
                    return;
                }
                if first == SSL_REQUEST {
                    let _ = client.write_all(b"S\x15\x03\x03\x00\x02\x02\x28").await;
                    return;
                }
                let Ok(mut server) = tokio::net::TcpStream::connect(&upstream).await else {
                    return;
                };
                if server.write_all(&first).await.is_ok() {
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                }
            });
        }
    });
    port
}

/// `sslmode=prefer` means what it means in libpq: when the server offers TLS but the
/// handshake fails, connect again without TLS; `require` fails with the typed error instead.
#[cfg(feature = "postgres")]
#[tokio::test]
async fn prefer_falls_back_to_plain_text_when_the_handshake_fails() {
    let Some(s) = server("LEX_TEST_POSTGRES_URL", true) else {
        return;
    };
    prefer_falls_back_through(&s, tls_breaking_proxy).await;
}

/// A TCP proxy on 127.0.0.1 in front of the real MariaDB server at `upstream`: it passes the
/// server's greeting through, breaks the connection when the client's first packet is an
/// SSL request (32 bytes), and forwards everything else untouched. Returns its port.
#[cfg(feature = "mysql")]
async fn mysql_tls_breaking_proxy(upstream: String) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let upstream = upstream.clone();
            tokio::spawn(async move {
                let Ok(mut server) = tokio::net::TcpStream::connect(&upstream).await else {
                    return;
                };
                // The greeting: a 4-byte header (3-byte length, sequence) and its payload.
                let mut header = [0u8; 4];
                if server.read_exact(&mut header).await.is_err() {
                    return;
                }
                let len = u32::from_le_bytes([header[0], header[1], header[2], 0]) as usize;
                let mut greeting = vec![0u8; len];
                if server.read_exact(&mut greeting).await.is_err()
                    || client.write_all(&header).await.is_err()
                    || client.write_all(&greeting).await.is_err()
                {
                    return;
                }
                let mut first = [0u8; 4];
                if client.read_exact(&mut first).await.is_err() {
                    return;
                }
                if u32::from_le_bytes([first[0], first[1], first[2], 0]) == 32 {
                    let mut request = [0u8; 32];
                    let _ = client.read_exact(&mut request).await;
                    let _ = client.write_all(b"\x15\x03\x03\x00\x02\x02\x28").await;
                    return;
                }
                if server.write_all(&first).await.is_ok() {
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                }
            });
        }
    });
    port
}

/// `ssl-mode=PREFERRED` falls back to plain text when the handshake fails, as MySQL's client
/// does; `REQUIRED` fails with the typed error instead.
#[cfg(feature = "mysql")]
#[tokio::test]
async fn mysql_preferred_falls_back_to_plain_text_when_the_handshake_fails() {
    let Some(s) = server("LEX_TEST_MYSQL_URL", false) else {
        return;
    };
    prefer_falls_back_through(&s, mysql_tls_breaking_proxy).await;
}

/// A user that the server admits only with a client certificate signed by the test CA
/// (`scripts/db-servers.sh` makes `lexigram_cert` so) logs in with `sslcert`/`sslkey`
/// (`ssl-cert`/`ssl-key`), and without them is refused with a typed connect error.
#[tokio::test]
async fn a_client_certificate_logs_in_a_user_that_requires_one() {
    let (Some(user), Some(cert), Some(key)) = (
        var("LEX_TEST_TLS_CLIENT_USER"),
        var("LEX_TEST_TLS_CLIENT_CERT"),
        var("LEX_TEST_TLS_CLIENT_KEY"),
    ) else {
        assert!(
            var("LEX_TEST_REQUIRE_SERVERS").as_deref() != Some("1"),
            "LEX_TEST_TLS_CLIENT_* are not set but LEX_TEST_REQUIRE_SERVERS=1: run the tests through scripts/test.sh"
        );
        return;
    };
    for s in servers() {
        // `lexigram:password@` becomes the certificate user, with no password.
        let base = s.url(true, "verify-full", Some(&s.ca)).replacen(
            &format!("lexigram:{PASSWORD}@"),
            &format!("{user}@"),
            1,
        );
        let (cert_key, key_key) = if s.postgres {
            ("sslcert", "sslkey")
        } else {
            ("ssl-cert", "ssl-key")
        };
        let with_cert = format!("{base}&{cert_key}={cert}&{key_key}={key}");
        let db = Database::connect_url(&with_cert)
            .await
            .unwrap_or_else(|e| panic!("{}: {with_cert}: {e}", s.name()));
        let who: String = db
            .fetch_one(
                if s.postgres {
                    "SELECT current_user AS who"
                } else {
                    "SELECT CURRENT_USER() AS who"
                },
                &[],
            )
            .await
            .unwrap()
            .get("who")
            .unwrap();
        assert!(who.starts_with(&user), "{}: logged in as {who}", s.name());
        assert!(encrypted(&db, &s).await, "{}", s.name());
        db.close().await;

        let err = match Database::connect_url(&base).await {
            Ok(_) => panic!(
                "{}: {base} connected without a client certificate",
                s.name()
            ),
            Err(e) => e,
        };
        eprintln!("{}: without a client certificate: {err}", s.name());
        assert!(
            matches!(&err, Error::Connect(c) if c.kind == ConnectErrorKind::Authentication),
            "{}: {err:?}",
            s.name()
        );
        assert!(err.to_string().contains("sslcert/sslkey"), "{err}");
    }
}
