//! The identifier rule for names given at runtime (tables and columns of [`Table`](super::Table)).

use crate::error::{Error, Result};

/// Longest identifier accepted (PostgreSQL's limit; MySQL allows 64, SQLite more).
pub(crate) const MAX_LEN: usize = 63;

/// Accepts `[A-Za-z_][A-Za-z0-9_]*` of at most [`MAX_LEN`] characters; anything else is an
/// [`Error::InvalidIdentifier`]. Accepted names are still quoted when they reach SQL.
pub(crate) fn check(what: &'static str, name: &str) -> Result<()> {
    let mut chars = name.chars();
    let ok = name.len() <= MAX_LEN
        && chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidIdentifier {
            what,
            name: name.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn plain_identifiers_only() {
        for good in ["users", "_t", "Order_Lines2"] {
            assert!(check("table", good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "1abc",
            "name; DROP TABLE users--",
            "a b",
            "a\"b",
            "a`b",
            "é",
            &"x".repeat(64),
        ] {
            let err = check("column", bad).unwrap_err();
            assert_eq!(err.code(), "LEX_ERR_SQL_020", "{bad}");
        }
    }
}
