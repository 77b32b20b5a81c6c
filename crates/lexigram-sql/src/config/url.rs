//! The database URL: scheme check, SQLite targets, and a password that never shows.

use std::fmt;
use std::path::PathBuf;

use percent_encoding::percent_decode_str;
use secrecy::{ExposeSecret, SecretString};

use crate::error::{ConfigError, ConfigErrorKind};

/// Headline of the error for an unsupported URL scheme, in the troubleshooting page's words.
pub(crate) const INVALID_PREFIX: &str = "Invalid database URL prefix";

/// The default URL: a SQLite file `data.db` in the current directory.
pub const DEFAULT_URL: &str = "sqlite:///data.db";

/// The schemes we accept, for error messages.
const SUPPORTED: &str = "sqlite, postgresql, postgres, mysql, mariadb";

/// Passwords that `LEX_ENV=production` rejects (compared case-insensitively).
pub(crate) const DEFAULT_PASSWORDS: &[&str] =
    &["password", "postgres", "root", "admin", "secret", ""];

/// The database server families a URL can name.
///
/// ```
/// use lexigram_sql::config::{BackendKind, DatabaseUrl};
/// let url = DatabaseUrl::parse("mariadb://app:pw@db/shop")?;
/// assert_eq!(url.kind(), BackendKind::MySql);
/// assert_eq!(url.kind().name(), "mysql");
/// assert_eq!(BackendKind::Postgres.feature(), "postgres");
/// # Ok::<(), lexigram_sql::ConfigError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BackendKind {
    /// SQLite (`sqlite://`), through `rusqlite`.
    Sqlite,
    /// PostgreSQL (`postgresql://`, `postgres://`), through `tokio-postgres`.
    Postgres,
    /// MySQL and MariaDB (`mysql://`, `mariadb://`), through `mysql_async`.
    MySql,
}

impl BackendKind {
    /// Canonical name: `sqlite`, `postgresql` or `mysql`.
    pub fn name(&self) -> &'static str {
        match self {
            BackendKind::Sqlite => "sqlite",
            BackendKind::Postgres => "postgresql",
            BackendKind::MySql => "mysql",
        }
    }

    /// The cargo feature of `lexigram-sql` that compiles this backend's driver in.
    pub fn feature(&self) -> &'static str {
        match self {
            BackendKind::Sqlite => "sqlite",
            BackendKind::Postgres => "postgres",
            BackendKind::MySql => "mysql",
        }
    }

    /// True if this build of `lexigram-sql` has the driver (its cargo feature is enabled).
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")]
    /// assert!(lexigram_sql::config::BackendKind::Sqlite.is_compiled_in());
    /// ```
    pub fn is_compiled_in(&self) -> bool {
        match self {
            BackendKind::Sqlite => cfg!(feature = "sqlite"),
            BackendKind::Postgres => cfg!(feature = "postgres"),
            BackendKind::MySql => cfg!(feature = "mysql"),
        }
    }

    /// Default TCP port of a server backend; `None` for SQLite.
    pub fn default_port(&self) -> Option<u16> {
        match self {
            BackendKind::Sqlite => None,
            BackendKind::Postgres => Some(5432),
            BackendKind::MySql => Some(3306),
        }
    }

    /// The kind a scheme names, ignoring case and any `+driver` suffix.
    fn from_scheme(scheme: &str) -> Option<BackendKind> {
        let base = scheme.split('+').next().unwrap_or(scheme);
        match base.to_ascii_lowercase().as_str() {
            "sqlite" => Some(BackendKind::Sqlite),
            "postgresql" | "postgres" => Some(BackendKind::Postgres),
            "mysql" | "mariadb" => Some(BackendKind::MySql),
            _ => None,
        }
    }
}

impl fmt::Display for BackendKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Where a SQLite URL points. The forms follow SQLAlchemy's convention:
///
/// | URL | target |
/// |---|---|
/// | `sqlite:///data.db` | relative file `data.db` |
/// | `sqlite:////var/app.db` | absolute file `/var/app.db` |
/// | `sqlite://data.db` | relative file `data.db` |
/// | `sqlite://`, `sqlite:///:memory:`, `sqlite://:memory:` | a private in-memory database |
///
/// A query string (`?mode=ro`) is not part of the path.
///
/// ```
/// use lexigram_sql::config::{DatabaseUrl, SqliteTarget};
/// let url = DatabaseUrl::parse("sqlite:////var/app.db")?;
/// assert_eq!(url.sqlite_target(), Some(SqliteTarget::File("/var/app.db".into())));
/// assert_eq!(DatabaseUrl::parse("sqlite://")?.sqlite_target(), Some(SqliteTarget::Memory));
/// # Ok::<(), lexigram_sql::ConfigError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SqliteTarget {
    /// An in-memory database, private to its connection.
    Memory,
    /// A database file, relative to the current directory unless absolute.
    File(PathBuf),
}

/// A database URL. The password is a secret: it is held only in [`SecretString`]s (zeroed on
/// drop, never formatted), `Debug` and `Display` show it as `***` — whether it was given as
/// `user:password@` or as a `?password=` query parameter — and only [`DatabaseUrl::expose`]
/// returns it.
///
/// ```
/// use lexigram_sql::config::{BackendKind, DatabaseUrl};
/// let url = DatabaseUrl::parse("postgresql+asyncpg://app:s3cret@db.internal/shop")?;
/// assert_eq!(url.kind(), BackendKind::Postgres);
/// assert_eq!(url.to_string(), "postgresql+asyncpg://app:***@db.internal/shop");
/// assert!(!format!("{url:?}").contains("s3cret"));
/// assert_eq!(url.host_port().as_deref(), Some("db.internal:5432"));
/// # Ok::<(), lexigram_sql::ConfigError>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl {
    /// As written, password replaced by `***`: what `Display` and `Debug` show.
    redacted: String,
    /// Canonical scheme, `+driver` removed, password included: what drivers receive.
    normalized: Secret,
    kind: BackendKind,
    details: Details,
}

/// A [`SecretString`] that compares by value (for `DatabaseUrl: PartialEq`).
#[derive(Clone)]
struct Secret(SecretString);

impl Secret {
    fn new(text: String) -> Self {
        Secret(SecretString::from(text))
    }

    fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        self.expose() == other.expose()
    }
}

impl Eq for Secret {}

#[derive(Clone, PartialEq, Eq)]
enum Details {
    Sqlite(SqliteTarget),
    Server {
        host: Option<String>,
        port: Option<u16>,
        /// Further `host[:port]` entries of a multi-host URL (failover), in order.
        others: Vec<String>,
        username: Option<String>,
        /// From `user:password@`, else from a `password=` query parameter.
        password: Option<Secret>,
        database: Option<String>,
    },
}

/// Passwords at least this long are also masked wherever they appear verbatim, as a whole
/// word, in text shown about their URL (shorter ones would mask unrelated text).
const SCRUB_MIN_LEN: usize = 4;

/// `text` with every occurrence of `word` that is not part of a longer alphanumeric run
/// replaced by `***` (so the password `postgres` leaves `postgresql://` alone).
fn mask_word(text: &str, word: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find(word) {
        let end = pos + word.len();
        let before = rest[..pos].chars().next_back();
        let after = rest[end..].chars().next();
        let joined = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
        out.push_str(&rest[..pos]);
        if joined(before) || joined(after) {
            out.push_str(word);
        } else {
            out.push_str(lexigram_redact::MASK);
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

impl DatabaseUrl {
    /// Parses and checks a URL. The scheme must be `sqlite`, `postgresql`, `postgres`, `mysql`
    /// or `mariadb`, optionally with a `+driver` suffix that is accepted and ignored.
    ///
    /// Errors are [`ConfigError`]s without a source (the caller knows where the URL came
    /// from); the URL in them has its password redacted.
    ///
    /// ```
    /// use lexigram_sql::config::DatabaseUrl;
    /// use lexigram_sql::ConfigErrorKind;
    /// let err = DatabaseUrl::parse("mydb://user:pw@localhost/db").unwrap_err();
    /// assert_eq!(err.kind, ConfigErrorKind::InvalidUrlPrefix);
    /// assert_eq!(err.headline, "Invalid database URL prefix");
    /// assert!(err.detail.contains("mydb://user:***@localhost/db"));
    /// ```
    pub fn parse(raw: &str) -> Result<DatabaseUrl, ConfigError> {
        let raw = raw.trim();
        let Some((scheme, rest)) = raw.split_once("://") else {
            return Err(prefix_error(raw, None));
        };
        let Some(kind) = BackendKind::from_scheme(scheme) else {
            return Err(prefix_error(raw, Some(scheme)));
        };
        let normalized = Secret::new(format!("{}://{rest}", kind.name()));
        let details = match kind {
            BackendKind::Sqlite => Details::Sqlite(sqlite_target(rest)),
            BackendKind::Postgres | BackendKind::MySql => server_details(raw, normalized.expose())?,
        };
        let mut url = DatabaseUrl {
            redacted: String::new(),
            normalized,
            kind,
            details,
        };
        url.redacted = url.scrub(raw);
        Ok(url)
    }

    /// `text` with this URL's password masked: every URL-like word redacted as [`redact`]
    /// does, and the password itself wherever it still appears verbatim. For messages that
    /// may quote the URL (driver errors).
    pub(crate) fn scrub(&self, text: &str) -> String {
        let redacted = lexigram_redact::redact_secrets(text);
        match self.password() {
            Some(password) if password.len() >= SCRUB_MIN_LEN => mask_word(&redacted, password),
            _ => redacted,
        }
    }

    /// Which backend the scheme names.
    pub fn kind(&self) -> BackendKind {
        self.kind
    }

    /// The full URL **with its password**, the scheme made canonical (`sqlite`, `postgresql`
    /// or `mysql`; `+driver` removed, `mariadb` → `mysql`). For handing to a driver only:
    /// never log it or put it in an error.
    ///
    /// ```
    /// let url = lexigram_sql::config::DatabaseUrl::parse("mariadb://app:pw@db/shop")?;
    /// assert_eq!(url.expose(), "mysql://app:pw@db/shop");
    /// # Ok::<(), lexigram_sql::ConfigError>(())
    /// ```
    pub fn expose(&self) -> &str {
        self.normalized.expose()
    }

    /// The URL as written, with the password replaced by `***`.
    ///
    /// ```
    /// let url = lexigram_sql::config::DatabaseUrl::parse("mysql://root:toor@localhost:3306/app")?;
    /// assert_eq!(url.redacted(), "mysql://root:***@localhost:3306/app");
    /// # Ok::<(), lexigram_sql::ConfigError>(())
    /// ```
    pub fn redacted(&self) -> String {
        self.redacted.clone()
    }

    /// The database SQLite opens, for `sqlite` URLs; `None` for server URLs.
    ///
    /// ```
    /// use lexigram_sql::config::{DatabaseUrl, SqliteTarget};
    /// let url = DatabaseUrl::parse("sqlite:///data.db")?;
    /// assert_eq!(url.sqlite_target(), Some(SqliteTarget::File("data.db".into())));
    /// # Ok::<(), lexigram_sql::ConfigError>(())
    /// ```
    pub fn sqlite_target(&self) -> Option<SqliteTarget> {
        match &self.details {
            Details::Sqlite(target) => Some(target.clone()),
            Details::Server { .. } => None,
        }
    }

    /// `host:port` of a server URL, with the backend's default port (5432, 3306) when the
    /// URL has none; `None` for SQLite or a URL without a host. A multi-host URL (failover,
    /// `postgresql://app@h1:5432,h2:5433/shop?target_session_attrs=read-write`) gives its
    /// host list.
    ///
    /// ```
    /// let url = lexigram_sql::config::DatabaseUrl::parse("postgresql://app:pw@127.0.0.1/shop")?;
    /// assert_eq!(url.host_port().as_deref(), Some("127.0.0.1:5432"));
    /// let url = lexigram_sql::config::DatabaseUrl::parse("postgresql://app:pw@h1:5432,h2:5433/shop?target_session_attrs=read-write")?;
    /// assert_eq!(url.host_port().as_deref(), Some("h1:5432,h2:5433"));
    /// assert_eq!(url.database(), Some("shop"));
    /// assert!(!url.to_string().contains(":pw@"));
    /// # Ok::<(), lexigram_sql::ConfigError>(())
    /// ```
    pub fn host_port(&self) -> Option<String> {
        match &self.details {
            Details::Server {
                host: Some(host),
                port,
                others,
                ..
            } => {
                let port = port.or(self.kind.default_port())?;
                let mut out = format!("{host}:{port}");
                for other in others {
                    out.push(',');
                    out.push_str(other);
                }
                Some(out)
            }
            _ => None,
        }
    }

    /// The host of a server URL (`[::1]` keeps its brackets); `None` for SQLite or no host.
    pub(crate) fn host(&self) -> Option<&str> {
        match &self.details {
            Details::Server { host, .. } => host.as_deref(),
            Details::Sqlite(_) => None,
        }
    }

    /// The user name of a server URL, percent-decoded.
    pub fn username(&self) -> Option<&str> {
        match &self.details {
            Details::Server { username, .. } => username.as_deref(),
            Details::Sqlite(_) => None,
        }
    }

    /// The database name of a server URL (its path without the leading `/`).
    pub fn database(&self) -> Option<&str> {
        match &self.details {
            Details::Server { database, .. } => database.as_deref(),
            Details::Sqlite(_) => None,
        }
    }

    /// The percent-decoded password of a server URL (`user:password@`, else a `password=`
    /// query parameter). Secret: for drivers and checks only.
    pub(crate) fn password(&self) -> Option<&str> {
        match &self.details {
            Details::Server { password, .. } => password.as_ref().map(Secret::expose),
            Details::Sqlite(_) => None,
        }
    }

    /// True if the URL has a user and a well-known default password (or an empty one).
    pub(crate) fn has_default_password(&self) -> bool {
        if self.username().is_none_or(str::is_empty) {
            return false;
        }
        self.password().is_some_and(|password| {
            DEFAULT_PASSWORDS
                .iter()
                .any(|weak| password.eq_ignore_ascii_case(weak))
        })
    }
}

impl Default for DatabaseUrl {
    /// [`DEFAULT_URL`], `sqlite:///data.db`.
    fn default() -> Self {
        DatabaseUrl {
            redacted: DEFAULT_URL.to_string(),
            normalized: Secret::new(DEFAULT_URL.to_string()),
            kind: BackendKind::Sqlite,
            details: Details::Sqlite(sqlite_target("/data.db")),
        }
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("DatabaseUrl")
            .field(&self.redacted())
            .finish()
    }
}

impl std::str::FromStr for DatabaseUrl {
    type Err = ConfigError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DatabaseUrl::parse(s)
    }
}

impl<'de> serde::Deserialize<'de> for DatabaseUrl {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        DatabaseUrl::parse(&raw)
            .map_err(|e| serde::de::Error::custom(format!("{}: {}", e.headline, e.detail)))
    }
}

/// `sqlite://` followed by `rest`; see [`SqliteTarget`] for the forms.
fn sqlite_target(rest: &str) -> SqliteTarget {
    let path = rest.split(['?', '#']).next().unwrap_or_default();
    // `sqlite:///data.db` → `/data.db` → `data.db`; `sqlite:////abs` → `//abs` → `/abs`.
    let path = path.strip_prefix('/').unwrap_or(path);
    if path.is_empty() || path == ":memory:" {
        SqliteTarget::Memory
    } else {
        SqliteTarget::File(PathBuf::from(path))
    }
}

/// A multi-host URL (`postgresql://u:p@h1:5432,h2:5433/db`, as libpq and tokio-postgres take
/// for failover) with only its first host, and the other `host[:port]` entries; other URLs
/// unchanged.
fn first_host(normalized: &str) -> (String, Vec<String>) {
    let Some((scheme, rest)) = normalized.split_once("://") else {
        return (normalized.to_string(), Vec::new());
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let (userinfo, hosts) = match authority.rfind('@') {
        Some(at) => authority.split_at(at + 1),
        None => ("", authority),
    };
    let mut list = hosts.split(',');
    let first = list.next().unwrap_or_default();
    let others: Vec<String> = list.map(str::to_string).collect();
    if others.is_empty() {
        return (normalized.to_string(), others);
    }
    (format!("{scheme}://{userinfo}{first}{tail}"), others)
}

fn server_details(raw: &str, normalized: &str) -> Result<Details, ConfigError> {
    let (single, others) = first_host(normalized);
    if others.iter().any(|h| h.trim().is_empty()) {
        return Err(ConfigError {
            kind: ConfigErrorKind::InvalidValue,
            headline: "Invalid database URL".to_string(),
            detail: format!("`{}` has an empty host in its host list", redact(raw)),
            source_name: None,
            fix: "list hosts as host1:port1,host2:port2 without empty entries".to_string(),
        });
    }
    let url = url::Url::parse(&single).map_err(|e| ConfigError {
        kind: ConfigErrorKind::InvalidValue,
        headline: "Invalid database URL".to_string(),
        detail: format!("`{}` is not a valid URL: {e}", redact(raw)),
        source_name: None,
        fix: "write the URL as scheme://user:password@host:port/database, percent-encoding special characters in the user and password (e.g. @ as %40)".to_string(),
    })?;
    let decode = |s: &str| percent_decode_str(s).decode_utf8_lossy().into_owned();
    let username = Some(url.username()).filter(|u| !u.is_empty()).map(decode);
    // `user:@host` has an empty password, which `url` reports as none.
    let empty_password = raw
        .split_once("://")
        .and_then(|(_, rest)| rest.rfind('@').map(|at| &rest[..at]))
        .is_some_and(|userinfo| userinfo.ends_with(':'));
    let password = url
        .password()
        .map(decode)
        .or_else(|| empty_password.then(String::new))
        .or_else(|| {
            url.query_pairs()
                .find(|(key, _)| key.eq_ignore_ascii_case("password"))
                .map(|(_, value)| value.into_owned())
        })
        .map(Secret::new);
    let host = url.host_str().filter(|h| !h.is_empty()).map(str::to_string);
    let database = Some(url.path().trim_start_matches('/'))
        .filter(|d| !d.is_empty())
        .map(decode);
    Ok(Details::Server {
        host,
        port: url.port(),
        others,
        username,
        password,
        database,
    })
}

fn prefix_error(raw: &str, scheme: Option<&str>) -> ConfigError {
    let what = match scheme {
        Some(scheme) => format!("scheme `{}` is not supported", redact(scheme)),
        None => "it has no `scheme://`".to_string(),
    };
    ConfigError {
        kind: ConfigErrorKind::InvalidUrlPrefix,
        headline: INVALID_PREFIX.to_string(),
        detail: format!("`{}`: {what}", redact(raw)),
        source_name: None,
        fix: format!(
            "start the URL with a supported scheme: {SUPPORTED} (a +driver suffix such as postgresql+asyncpg is accepted and ignored), e.g. postgresql://user:pass@localhost/db or sqlite:///data.db"
        ),
    }
}

/// Replaces the password of a URL with `***`: the `user:password@` part and secret query
/// parameters (`password=`, `pass=`, `sslpassword=`, …). Works on any text shaped like a URL,
/// valid or not (`postgresql:/user:pw@host` with one slash, no scheme, an unencoded `@` in the
/// password); if unsure it hides more rather than less. The same function as
/// [`lexigram_redact::redact_url`].
///
/// ```
/// # use lexigram_sql::config::redact;
/// assert_eq!(redact("postgresql://u:p@ss@h/db"), "postgresql://u:***@h/db");
/// assert_eq!(redact("postgresql:/u:pw@h/db"), "postgresql:/u:***@h/db");
/// assert_eq!(redact("mysql://u@h/db?password=pw"), "mysql://u@h/db?password=***");
/// assert_eq!(redact("sqlite:///data.db"), "sqlite:///data.db");
/// ```
pub fn redact(url: &str) -> String {
    lexigram_redact::redact_url(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(url: &str) -> SqliteTarget {
        DatabaseUrl::parse(url).unwrap().sqlite_target().unwrap()
    }

    #[test]
    fn multi_host_urls_keep_their_host_list_and_hide_the_password() {
        let url = DatabaseUrl::parse(
            "postgresql://app:s3cretpw@10.0.0.1:5432,10.0.0.2:5433,db3/shop?target_session_attrs=read-write",
        )
        .unwrap();
        assert_eq!(
            url.host_port().as_deref(),
            Some("10.0.0.1:5432,10.0.0.2:5433,db3")
        );
        assert_eq!(url.host(), Some("10.0.0.1"));
        assert_eq!(url.username(), Some("app"));
        assert_eq!(url.database(), Some("shop"));
        for text in [url.to_string(), format!("{url:?}"), url.redacted()] {
            assert!(!text.contains("s3cretpw"), "{text}");
        }
        assert!(
            url.expose().contains("10.0.0.2:5433"),
            "the driver gets every host"
        );
        let err = DatabaseUrl::parse("postgresql://app:s3cretpw@h1,,h2/shop").unwrap_err();
        assert!(err.detail.contains("empty host"), "{err}");
        assert!(!err.to_string().contains("s3cretpw"), "{err}");
    }

    #[test]
    fn sqlite_forms() {
        assert_eq!(
            target("sqlite:///data.db"),
            SqliteTarget::File("data.db".into())
        );
        assert_eq!(
            target("sqlite:////var/app.db"),
            SqliteTarget::File("/var/app.db".into())
        );
        assert_eq!(
            target("sqlite://data.db"),
            SqliteTarget::File("data.db".into())
        );
        assert_eq!(
            target("sqlite:///dir/sub/x.sqlite?mode=ro"),
            SqliteTarget::File("dir/sub/x.sqlite".into())
        );
        for memory in [
            "sqlite://",
            "sqlite:///:memory:",
            "sqlite://:memory:",
            "sqlite:///",
        ] {
            assert_eq!(target(memory), SqliteTarget::Memory, "{memory}");
        }
        let url = DatabaseUrl::parse("sqlite+aiosqlite:///data.db").unwrap();
        assert_eq!(url.kind(), BackendKind::Sqlite);
        assert_eq!(url.expose(), "sqlite:///data.db");
        assert_eq!(url.host_port(), None);
        assert_eq!(url.password(), None);
    }

    #[test]
    fn default_is_the_parsed_default() {
        assert_eq!(
            DatabaseUrl::default(),
            DatabaseUrl::parse(DEFAULT_URL).unwrap()
        );
    }

    #[test]
    fn server_urls() {
        let url = DatabaseUrl::parse("postgresql+asyncpg://u:p@h/db").unwrap();
        assert_eq!(url.kind(), BackendKind::Postgres);
        assert_eq!(url.expose(), "postgresql://u:p@h/db");
        assert_eq!(url.host_port().as_deref(), Some("h:5432"));
        assert_eq!(url.username(), Some("u"));
        assert_eq!(url.password(), Some("p"));
        assert_eq!(url.database(), Some("db"));
        assert_eq!(url.sqlite_target(), None);

        let url = DatabaseUrl::parse("postgres://h:6543/db").unwrap();
        assert_eq!(url.host_port().as_deref(), Some("h:6543"));
        assert_eq!(url.username(), None);

        let url = DatabaseUrl::parse("MySQL://app:p%40ss%3Aw@[::1]/shop").unwrap();
        assert_eq!(url.kind(), BackendKind::MySql);
        assert_eq!(url.password(), Some("p@ss:w"));
        assert_eq!(url.host_port().as_deref(), Some("[::1]:3306"));
        assert_eq!(url.to_string(), "MySQL://app:***@[::1]/shop");

        let url = DatabaseUrl::parse("mariadb://app@db:3307/shop").unwrap();
        assert_eq!(url.expose(), "mysql://app@db:3307/shop");
        assert_eq!(url.host_port().as_deref(), Some("db:3307"));
    }

    #[test]
    fn invalid_prefixes() {
        for raw in [
            "mydb://localhost/db",
            "data.db",
            "http://x",
            "oracle+cx://u:pw@h/db",
        ] {
            let err = DatabaseUrl::parse(raw).unwrap_err();
            assert_eq!(err.kind, ConfigErrorKind::InvalidUrlPrefix, "{raw}");
            assert_eq!(err.headline, "Invalid database URL prefix");
            assert!(err.fix.contains("postgresql://user:pass@localhost/db"));
            assert!(!err.to_string().contains("pw@"), "{err}");
        }
        let err = DatabaseUrl::parse("mydb://localhost/db").unwrap_err();
        assert!(err.detail.contains("mydb://localhost/db"), "{}", err.detail);
        assert!(
            err.to_string()
                .starts_with("ConfigurationError: Invalid database URL prefix")
        );
    }

    #[test]
    fn unparseable_server_url_is_redacted() {
        let err = DatabaseUrl::parse("postgresql://u:hunter2@exa mple/db").unwrap_err();
        assert_eq!(err.kind, ConfigErrorKind::InvalidValue);
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }

    #[test]
    fn password_never_shows() {
        let url = DatabaseUrl::parse("postgresql://app:hunter2@db/shop").unwrap();
        assert!(!format!("{url}").contains("hunter2"));
        assert!(!format!("{url:?}").contains("hunter2"));
        assert!(!url.redacted().contains("hunter2"));
        assert!(format!("{url:?}").contains("app:***@db"));
        assert!(url.expose().contains("hunter2"));
    }

    #[test]
    fn default_passwords() {
        let weak = |u: &str| DatabaseUrl::parse(u).unwrap().has_default_password();
        assert!(weak("postgresql://postgres:postgres@h/db"));
        assert!(weak("mysql://root:ROOT@h/db"));
        assert!(weak("mysql://root:@h/db"));
        assert!(!weak("mysql://root@h/db"));
        assert!(!weak("postgresql://app:Xk9!rT2vq@h/db"));
        assert!(!weak("sqlite:///data.db"));
    }

    #[test]
    fn query_password_is_the_password_and_hidden() {
        let url = DatabaseUrl::parse("postgresql://app@db/shop?sslmode=disable&password=hunter2")
            .unwrap();
        assert_eq!(url.password(), Some("hunter2"));
        assert_eq!(
            url.to_string(),
            "postgresql://app@db/shop?sslmode=disable&password=***"
        );
        assert!(url.expose().contains("hunter2"));
        assert_eq!(
            url.scrub("driver said: hunter2 rejected; hunter22 kept"),
            "driver said: *** rejected; hunter22 kept"
        );
        let url = DatabaseUrl::parse("postgresql://app:postgres@db/shop").unwrap();
        assert_eq!(url.to_string(), "postgresql://app:***@db/shop");
    }

    #[test]
    fn redaction() {
        assert_eq!(
            redact("mydb://user:pw@localhost/db"),
            "mydb://user:***@localhost/db"
        );
        assert_eq!(redact("postgresql://user@h/db"), "postgresql://user@h/db");
        assert_eq!(redact("no url here"), "no url here");
        assert_eq!(
            lexigram_redact::redact_secrets(
                "invalid value string \"postgresql://u:pw@h/db\", expected x"
            ),
            "invalid value string \"postgresql://u:***@h/db\", expected x"
        );
        assert_eq!(
            lexigram_redact::redact_secrets("a mysql://a:b@c and sqlite:///x"),
            "a mysql://a:***@c and sqlite:///x"
        );
    }
}
