//! Read replicas of a backend (`sql.backend.replicas`, `sql.backends[i].replicas`): their
//! config, how their pool settings inherit from the primary's, and their checks.

use std::time::Duration;

use serde::Deserialize;
use serde::de::Deserializer;

use super::duration;
use super::model::PoolConfig;
use super::url::DatabaseUrl;

/// One read replica (`sql.backend.replicas[i]`, env `LEX_SQL__BACKEND__REPLICAS__0__URL`).
///
/// It has its own pool, whose settings are the primary's except those given here. The
/// primary's TLS settings and statement cache setting apply too (the replica URL's own
/// parameters win, as for the primary).
///
/// ```
/// # #[cfg(feature = "postgres")] { // the replicas' URLs are PostgreSQL's
/// use lexigram::AppConfig;
/// use lexigram_sql::config::DatabaseConfig;
///
/// let yaml = "sql:\n  backend:\n    url: postgresql://app@primary/shop\n    replicas:\n      - url: postgresql://app@replica1/shop\n      - url: postgresql://app@replica2/shop\n        pool: { max_size: 4 }\n  pool: { max_size: 20, timeout: 5s }\n";
/// let env = [("LEX_SQL__BACKEND__REPLICAS__0__POOL__MIN_SIZE".to_string(), "2".to_string())];
/// let app = AppConfig::from_yaml_and_env(yaml, "application.yaml", env)?;
/// let settings = DatabaseConfig::from_app_config(&app)?.backends()?;
/// let replicas = &settings[0].replicas;
/// assert_eq!(replicas.len(), 2);
/// assert_eq!((replicas[0].pool.min_size, replicas[0].pool.max_size), (2, 20));
/// assert_eq!(replicas[1].pool.max_size, 4);
/// assert_eq!(replicas[1].pool.timeout, std::time::Duration::from_secs(5));
/// # }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ReplicaConfig {
    /// The replica's URL (same backend kind as the primary). Secret: shown redacted.
    pub url: DatabaseUrl,
    /// Pool settings that differ from the primary's.
    #[serde(default)]
    pub pool: PoolOverride,
    /// The most replication lag at which the replica still serves reads
    /// (`replicas[i].max_lag`, default [`DEFAULT_MAX_LAG`]; `0` turns the check off). A
    /// replica further behind is skipped until it catches up; the lag is measured at most once
    /// a second per replica, on a connection it was about to serve a read with.
    #[serde(default, deserialize_with = "some_duration")]
    pub max_lag: Option<Duration>,
}

/// The lag past which a replica stops serving reads unless `max_lag` says otherwise: 10 s.
pub const DEFAULT_MAX_LAG: Duration = Duration::from_secs(10);

impl ReplicaConfig {
    /// A replica at `url` with the primary's pool settings.
    ///
    /// ```
    /// let replica = lexigram_sql::config::ReplicaConfig::new("postgresql://app@replica/shop")?;
    /// assert_eq!(replica.url.to_string(), "postgresql://app@replica/shop");
    /// # Ok::<(), lexigram_sql::ConfigError>(())
    /// ```
    pub fn new(url: &str) -> Result<ReplicaConfig, crate::error::ConfigError> {
        Ok(ReplicaConfig {
            url: DatabaseUrl::parse(url)?,
            pool: PoolOverride::default(),
            max_lag: None,
        })
    }
}

/// Pool settings of a replica that differ from its primary's: every key is optional.
///
/// ```
/// use lexigram_sql::config::{PoolConfig, PoolOverride};
/// let primary = PoolConfig::default().with_max_size(20);
/// let pool = PoolOverride::default().with_max_size(Some(4)).over(&primary);
/// assert_eq!((pool.max_size, pool.timeout), (4, primary.timeout));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct PoolOverride {
    /// `pool.min_size` for this replica.
    pub min_size: Option<u32>,
    /// `pool.max_size` for this replica.
    pub max_size: Option<u32>,
    /// `pool.timeout` for this replica.
    #[serde(deserialize_with = "some_duration")]
    pub timeout: Option<Duration>,
    /// `pool.connect_timeout` for this replica.
    #[serde(deserialize_with = "some_duration")]
    pub connect_timeout: Option<Duration>,
    /// `pool.idle_timeout` for this replica.
    #[serde(deserialize_with = "some_duration")]
    pub idle_timeout: Option<Duration>,
    /// `pool.max_lifetime` for this replica.
    #[serde(deserialize_with = "some_duration")]
    pub max_lifetime: Option<Duration>,
}

super::setters::with_setters!(PoolOverride {
    with_min_size => min_size: Option<u32>,
    with_max_size => max_size: Option<u32>,
    with_timeout => timeout: Option<Duration>,
    with_connect_timeout => connect_timeout: Option<Duration>,
    with_idle_timeout => idle_timeout: Option<Duration>,
    with_max_lifetime => max_lifetime: Option<Duration>,
});

impl PoolOverride {
    /// `base` with the settings given here.
    ///
    /// ```
    /// use lexigram_sql::config::{PoolConfig, PoolOverride};
    /// let base = PoolConfig::default();
    /// assert_eq!(PoolOverride::default().over(&base), base);
    /// ```
    pub fn over(&self, base: &PoolConfig) -> PoolConfig {
        PoolConfig {
            min_size: self.min_size.unwrap_or(base.min_size),
            max_size: self.max_size.unwrap_or(base.max_size),
            timeout: self.timeout.unwrap_or(base.timeout),
            connect_timeout: self.connect_timeout.unwrap_or(base.connect_timeout),
            idle_timeout: self.idle_timeout.unwrap_or(base.idle_timeout),
            max_lifetime: self.max_lifetime.unwrap_or(base.max_lifetime),
        }
    }
}

fn some_duration<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Duration>, D::Error> {
    duration::deserialize(deserializer).map(Some)
}

/// One resolved replica of a [`super::BackendSettings`]: its URL and its full pool settings.
///
/// ```
/// use lexigram_sql::config::DatabaseConfig;
/// let mut config = DatabaseConfig::default().with_url("postgresql://app@primary/shop")?;
/// config.backend.replicas.push(lexigram_sql::config::ReplicaConfig::new("postgresql://app@replica/shop")?);
/// # if cfg!(feature = "postgres") {
/// let settings = config.backends()?;
/// assert_eq!(settings[0].replicas[0].url.host_port().as_deref(), Some("replica:5432"));
/// # }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReplicaSettings {
    /// The replica's URL.
    pub url: DatabaseUrl,
    /// Its pool settings: the primary's, with the replica's own over them.
    pub pool: PoolConfig,
    /// The most replication lag at which it serves reads; zero: no limit.
    pub max_lag: Duration,
}

#[cfg(test)]
#[cfg(feature = "lexigram")]
mod tests {
    use lexigram::AppConfig;

    use crate::config::DatabaseConfig;
    use crate::error::Error;

    fn load(yaml: &str, env: &[(&str, &str)]) -> Result<DatabaseConfig, Error> {
        let env = env.iter().map(|(k, v)| (k.to_string(), v.to_string()));
        let app = AppConfig::from_yaml_and_env(yaml, "application.yaml", env).unwrap();
        DatabaseConfig::from_app_config(&app)
    }

    fn config_error(result: Result<DatabaseConfig, Error>) -> crate::error::ConfigError {
        match result {
            Err(Error::Configuration(e)) => e,
            other => panic!("expected a configuration error, got {other:?}"),
        }
    }

    #[cfg(feature = "postgres")]
    #[test]
    fn replicas_come_from_yaml_env_and_named_backends() {
        let yaml = "sql:\n  backend:\n    url: postgresql://app:pw1@primary/shop\n    replicas:\n      - url: postgresql://app:pw2@r1/shop\n";
        let env = [
            (
                "LEX_SQL__BACKEND__REPLICAS__1__URL",
                "postgresql://app:pw3@r2/shop",
            ),
            ("LEX_SQL__BACKEND__REPLICAS__1__POOL__MAX_SIZE", "3"),
        ];
        // env replaces the YAML list entry by entry (figment merges by index)
        let settings = load(yaml, &env).unwrap().backends().unwrap();
        let hosts: Vec<_> = settings[0]
            .replicas
            .iter()
            .map(|r| r.url.host_port().unwrap())
            .collect();
        assert_eq!(hosts, ["r1:5432", "r2:5432"]);
        assert_eq!(settings[0].replicas[1].pool.max_size, 3);
        assert_eq!(settings[0].replicas[0].pool.max_size, 10);

        let named = "sql:\n  backends:\n    - name: main\n      primary: true\n      pool: { max_size: 6 }\n      backend:\n        url: postgresql://app@p/shop\n        replicas: [{ url: 'postgresql://app@a/shop' }]\n      replicas: [{ url: 'postgresql://app@b/shop', pool: { timeout: 2s } }]\n";
        let settings = load(named, &[]).unwrap().backends().unwrap();
        let replicas = &settings[0].replicas;
        assert_eq!(replicas.len(), 2);
        assert_eq!(replicas[1].url.host_port().as_deref(), Some("b:5432"));
        assert_eq!(
            replicas[0].pool.max_size, 6,
            "inherits the backend's own pool"
        );
        assert_eq!(replicas[1].pool.timeout, std::time::Duration::from_secs(2));
    }

    #[cfg(all(feature = "postgres", feature = "mysql"))]
    #[test]
    fn a_replica_of_another_kind_is_refused_naming_the_key() {
        let e = config_error(load(
            "sql:\n  backend:\n    url: postgresql://app@p/shop\n",
            &[(
                "LEX_SQL__BACKEND__REPLICAS__0__URL",
                "mysql://app:secretpw@r/shop",
            )],
        ));
        assert_eq!(e.headline, "Invalid replica");
        assert!(e.detail.contains("sql.backend.replicas.0.url"), "{e}");
        assert!(e.detail.contains("mysql"), "{e}");
        assert_eq!(
            e.source_name.as_deref(),
            Some("env LEX_SQL__BACKEND__REPLICAS__0__URL")
        );
        assert!(!e.to_string().contains("secretpw"), "{e}");
    }

    #[test]
    fn a_sqlite_primary_has_no_replicas() {
        let e = config_error(load(
            "sql:\n  backend:\n    url: sqlite://\n    replicas: [{ url: 'sqlite:///copy.db' }]\n",
            &[],
        ));
        assert!(e.detail.contains("SQLite"), "{e}");
        assert!(e.source_name.unwrap().contains("application.yaml"));
    }

    #[cfg(feature = "postgres")]
    #[test]
    fn replica_pool_and_url_errors_are_typed() {
        let e = config_error(load(
            "sql:\n  pool: { min_size: 5 }\n  backend:\n    url: postgresql://app@p/shop\n    replicas: [{ url: 'postgresql://app@r/shop', pool: { max_size: 2 } }]\n",
            &[],
        ));
        assert_eq!(e.kind, crate::error::ConfigErrorKind::PoolBounds);
        assert!(e.detail.contains("backend.replicas.0.pool"), "{e}");

        let e = config_error(load(
            "sql:\n  backend:\n    url: postgresql://app@p/shop\n    replicas: [{ url: 'nope://app:pw@r/shop' }]\n",
            &[],
        ));
        assert_eq!(e.kind, crate::error::ConfigErrorKind::InvalidUrlPrefix);
        assert!(!e.to_string().contains(":pw@"), "{e}");

        let e = config_error(load(
            "sql:\n  backend:\n    url: postgresql://app@p/shop\n    replicas: [{ url: 'postgresql://app@r/shop', weight: 2 }]\n",
            &[],
        ));
        assert!(e.detail.contains("weight"), "{e}");
    }
}
