//! The `statement_cache` URL parameter: taken out of a server URL before the driver parses it.

use percent_encoding::percent_decode_str;

use crate::error::{ConfigError, ConfigErrorKind};

/// The URL parameter that overrides `backend.statement_cache`.
pub(crate) const PARAM: &str = "statement_cache";

/// Splits `statement_cache=…` off a URL (given with its password: the result is for the
/// driver only). Returns the URL without it (other parameters kept verbatim) and its value,
/// if given. `true`/`false` (also `on`/`off`, `1`/`0`, `yes`/`no`) are accepted.
pub(crate) fn split(raw: &str) -> Result<(String, Option<bool>), ConfigError> {
    let (head, fragment) = match raw.split_once('#') {
        Some((head, fragment)) => (head, Some(fragment)),
        None => (raw, None),
    };
    let Some((base, query)) = head.split_once('?') else {
        return Ok((raw.to_string(), None));
    };
    let mut kept = Vec::new();
    let mut found = None;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        if percent_decode_str(key).decode_utf8_lossy() != PARAM {
            kept.push(pair);
            continue;
        }
        let value = percent_decode_str(value).decode_utf8_lossy();
        found = Some(parse_bool(&value).ok_or_else(|| ConfigError {
            kind: ConfigErrorKind::InvalidValue,
            headline: "Invalid configuration value".to_string(),
            detail: format!("`{PARAM}={value}` in the database URL is not true or false"),
            source_name: None,
            fix: format!(
                "write {PARAM}=false (behind PgBouncer in transaction mode) or {PARAM}=true"
            ),
        })?);
    }
    let mut url = if kept.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    if let Some(fragment) = fragment {
        url.push('#');
        url.push_str(fragment);
    }
    Ok((url, found))
}

impl crate::config::BackendSettings {
    /// Whether statements are prepared and cached per connection: the URL's
    /// `statement_cache` parameter if given, else `backend.statement_cache`.
    ///
    /// ```
    /// # #[cfg(feature = "postgres")] { // a PostgreSQL URL needs the driver's feature
    /// use lexigram_sql::config::DatabaseConfig;
    /// let url = "postgresql://app@db/shop?statement_cache=false";
    /// let settings = &DatabaseConfig::from_url(url)?.backends()?[0];
    /// assert!(!settings.uses_statement_cache());
    /// # }
    /// # Ok::<(), lexigram_sql::Error>(())
    /// ```
    pub fn uses_statement_cache(&self) -> bool {
        match split(self.url.expose()) {
            Ok((_, Some(cache))) => cache,
            _ => self.statement_cache,
        }
    }
}

fn parse_bool(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "on" | "1" | "yes" => Some(true),
        "false" | "off" | "0" | "no" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_parameter_is_split_off_and_parsed() {
        let (url, cache) =
            split("postgresql://u:p@h/db?sslmode=disable&statement_cache=false&x=1").unwrap();
        assert_eq!(url, "postgresql://u:p@h/db?sslmode=disable&x=1");
        assert_eq!(cache, Some(false));
        let (url, cache) = split("postgresql://u:p@h/db?statement_cache=on").unwrap();
        assert_eq!((url.as_str(), cache), ("postgresql://u:p@h/db", Some(true)));
        let (url, cache) = split("postgresql://u:p@h/db").unwrap();
        assert_eq!((url.as_str(), cache), ("postgresql://u:p@h/db", None));
    }

    #[test]
    #[cfg(feature = "lexigram")]
    fn the_key_has_an_env_var_and_the_url_wins() {
        use crate::config::DatabaseConfig;
        use lexigram::AppConfig;
        let env = [
            ("LEX_SQL__BACKEND__URL".to_string(), "sqlite://".to_string()),
            (
                "LEX_SQL__BACKEND__STATEMENT_CACHE".to_string(),
                "false".to_string(),
            ),
        ];
        let app = AppConfig::from_yaml_and_env("", "application.yaml", env).unwrap();
        let config = DatabaseConfig::from_app_config(&app).unwrap();
        assert!(!config.backend.statement_cache);
        assert!(!config.backends().unwrap()[0].uses_statement_cache());
        assert!(DatabaseConfig::default().backend.statement_cache);

        let yaml = "sql:\n  backend:\n    url: 'sqlite://?statement_cache=true'\n    statement_cache: false\n";
        let app = AppConfig::from_yaml_and_env(yaml, "application.yaml", []).unwrap();
        let settings = DatabaseConfig::from_app_config(&app)
            .unwrap()
            .backends()
            .unwrap();
        assert!(settings[0].uses_statement_cache(), "the URL wins");
    }

    #[cfg(feature = "postgres")]
    #[test]
    fn a_bad_url_value_fails_validation_naming_its_source() {
        let err = crate::config::DatabaseConfig::from_url(
            "postgresql://app:hunter2@db/shop?statement_cache=maybe",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("statement_cache=maybe"), "{err}");
        assert!(err.contains("code (DatabaseConfig::from_url)"), "{err}");
        assert!(!err.contains("hunter2"), "{err}");
    }

    #[test]
    fn a_bad_value_is_a_config_error_naming_the_parameter() {
        let err = split("postgresql://h/db?statement_cache=maybe").unwrap_err();
        assert_eq!(err.kind, ConfigErrorKind::InvalidValue);
        assert!(err.detail.contains("statement_cache=maybe"), "{err}");
    }
}
