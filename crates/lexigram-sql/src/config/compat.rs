//! Spellings of the Python edition's documentation, and near misses: the keys accepted as
//! aliases, the keys refused with what to use instead, and the "did you mean" of an unknown
//! key.

/// Keys accepted under another name, as the Python edition spells them: `(alias, key)`, by
/// the last segment of the dotted key inside a pool section.
///
/// `pool.acquire_timeout` is `pool.timeout`; `pool.recycle` is `pool.max_lifetime`. (A named
/// backend's `migration_dir` is a field of its own, see `NamedBackendConfig::migration_dir`.)
pub(crate) const POOL_ALIASES: [(&str, &str); 2] =
    [("acquire_timeout", "timeout"), ("recycle", "max_lifetime")];

/// The canonical spelling of a dotted key relative to `sql` (`pool.acquire_timeout` →
/// `pool.timeout`, also under `backends.N.pool`), so that errors about the value find where
/// it was written.
pub(crate) fn canonical_key(relative: &str) -> String {
    if let Some((section, last)) = relative.rsplit_once('.')
        && (section == "pool" || section.ends_with(".pool"))
        && let Some((_, key)) = POOL_ALIASES.iter().find(|(alias, _)| *alias == last)
    {
        return format!("{section}.{key}");
    }
    relative.to_string()
}

/// A key this crate refuses on purpose, with why and what to write instead.
pub(crate) struct Refused {
    /// Why the key is not accepted.
    pub(crate) why: &'static str,
    /// What to write instead.
    pub(crate) fix: &'static str,
}

/// Whether `field` is a key of the Python edition that has no meaning here.
pub(crate) fn refused(field: &str) -> Option<Refused> {
    match field {
        "max_overflow" => Some(Refused {
            why: "a burst allowance above max_size (SQLAlchemy's max_overflow) is not supported: the pool never opens more than max_size connections, so that saturation shows as waiting, not as extra sessions on the server",
            fix: "remove pool.max_overflow and set pool.max_size to the most connections you want open at once (max_size + max_overflow)",
        }),
        _ => None,
    }
}

/// The known key closest to `unknown`, if one is close enough to be a likely typo: one edit
/// away (a transposition counts as one), two edits away from a key of 5 letters or more, or
/// sharing most of its letters in order (Jaro-Winkler ≥ 0.9). Ties go to the key of the same
/// length (a substitution rather than a dropped letter), then to the key more alike.
pub(crate) fn did_you_mean<'a>(unknown: &str, known: &[&'a str]) -> Option<&'a str> {
    let unknown = unknown.to_ascii_lowercase();
    known
        .iter()
        .filter_map(|k| {
            let edits = strsim::damerau_levenshtein(&unknown, k);
            let alike = strsim::jaro_winkler(&unknown, k);
            let close = edits <= 1 || (edits <= 2 && k.len() >= 5) || alike >= 0.9;
            let length = k.len().abs_diff(unknown.len());
            close.then_some((edits, length, alike, *k))
        })
        .min_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)).then(b.2.total_cmp(&a.2)))
        .map(|(_, _, _, k)| k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_map_to_their_key_in_every_pool_section() {
        assert_eq!(canonical_key("pool.acquire_timeout"), "pool.timeout");
        assert_eq!(canonical_key("pool.recycle"), "pool.max_lifetime");
        assert_eq!(
            canonical_key("backends.1.pool.acquire_timeout"),
            "backends.1.pool.timeout"
        );
        assert_eq!(canonical_key("pool.timeout"), "pool.timeout");
        assert_eq!(canonical_key("operations.recycle"), "operations.recycle");
        assert_eq!(canonical_key("recycle"), "recycle");
    }

    #[test]
    fn near_misses_suggest_the_key_and_strangers_do_not() {
        let pool = [
            "min_size",
            "max_size",
            "timeout",
            "connect_timeout",
            "idle_timeout",
            "max_lifetime",
        ];
        assert_eq!(did_you_mean("max_sise", &pool), Some("max_size"));
        assert_eq!(did_you_mean("MAX_SIZE", &pool), Some("max_size"));
        assert_eq!(did_you_mean("idle_timout", &pool), Some("idle_timeout"));
        assert_eq!(
            did_you_mean("conect_timeout", &pool),
            Some("connect_timeout")
        );
        assert_eq!(did_you_mean("colour", &pool), None);
        assert_eq!(
            did_you_mean("ulr", &["url", "returning", "tls"]),
            Some("url")
        );
        assert_eq!(
            did_you_mean("backendz", &["backend", "backends"]),
            Some("backends")
        );
        assert_eq!(did_you_mean("x", &pool), None);
        assert_eq!(did_you_mean("anything", &[]), None);
    }
}
