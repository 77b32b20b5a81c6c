//! The identifier rule, in one place: which table and column names lexigram-sql accepts, and
//! how a (possibly schema-qualified) table name is quoted.
//!
//! - A **column** (and an alias) is a plain identifier: an ASCII letter or `_`, then ASCII
//!   letters, digits or `_`, at most [`MAX_LEN`] bytes.
//! - A **table** is a plain identifier or `schema.table`: exactly one dot, each part a plain
//!   identifier. The schema is a PostgreSQL schema, a MySQL/MariaDB database, or an SQLite
//!   database name (`main`, `temp` or an `ATTACH`ed one).
//!
//! Every part is still quoted by the dialect when it reaches SQL. `#[derive(Entity)]` checks
//! its table and column names with the same rule at compile time ([`is_table`],
//! [`is_column`]); [`Table`](crate::Table), the migrations table and config validation check
//! them at run time ([`check_table`], [`check_column`]) with [`Error::InvalidIdentifier`].
//!
//! ```
//! use lexigram_sql::backend::{MySql, Postgres};
//! use lexigram_sql::ident;
//!
//! assert!(ident::check_table("billing.invoices").is_ok());
//! assert!(ident::check_table("a.b.c").is_err());
//! assert!(ident::check_column("billing.total").is_err());
//! assert_eq!(ident::quote_table(&Postgres, "billing.invoices"), r#""billing"."invoices""#);
//! assert_eq!(ident::quote_table(&MySql, "invoices"), "`invoices`");
//! ```

use crate::backend::Dialect;
use crate::error::{Error, Result};

/// Longest identifier part accepted, in bytes (PostgreSQL's limit; MySQL allows 64, SQLite
/// more).
pub const MAX_LEN: usize = 63;

/// True if `bytes[start..end]` is a plain identifier. `const` so that the derive can check
/// names at compile time.
const fn plain(bytes: &[u8], start: usize, end: usize) -> bool {
    if end <= start || end - start > MAX_LEN {
        return false;
    }
    let first = bytes[start];
    if !(first.is_ascii_alphabetic() || first == b'_') {
        return false;
    }
    let mut i = start + 1;
    while i < end {
        let b = bytes[i];
        if !(b.is_ascii_alphanumeric() || b == b'_') {
            return false;
        }
        i += 1;
    }
    true
}

/// True if `name` is a valid column name (a plain identifier).
///
/// ```
/// assert!(lexigram_sql::ident::is_column("user_id"));
/// assert!(!lexigram_sql::ident::is_column("user id"));
/// ```
pub const fn is_column(name: &str) -> bool {
    let b = name.as_bytes();
    plain(b, 0, b.len())
}

/// True if `name` is a valid table name: a plain identifier or `schema.table`.
///
/// ```
/// assert!(lexigram_sql::ident::is_table("billing.invoices"));
/// assert!(!lexigram_sql::ident::is_table("billing."));
/// ```
pub const fn is_table(name: &str) -> bool {
    let b = name.as_bytes();
    let mut dot = None;
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'.' {
            if dot.is_some() {
                return false;
            }
            dot = Some(i);
        }
        i += 1;
    }
    match dot {
        Some(d) => plain(b, 0, d) && plain(b, d + 1, b.len()),
        None => plain(b, 0, b.len()),
    }
}

/// A column (or alias) name, or [`Error::InvalidIdentifier`] naming `what` it is.
pub(crate) fn check(what: &'static str, name: &str) -> Result<()> {
    if is_column(name) {
        Ok(())
    } else {
        Err(invalid(what, name))
    }
}

/// `Ok` for a valid column name, else [`Error::InvalidIdentifier`] (`what: "column"`).
///
/// ```
/// assert!(lexigram_sql::ident::check_column("total").is_ok());
/// assert_eq!(lexigram_sql::ident::check_column("a;drop").unwrap_err().code(), "LEX_ERR_SQL_020");
/// ```
pub fn check_column(name: &str) -> Result<()> {
    check("column", name)
}

/// `Ok` for a valid table name (`table` or `schema.table`), else
/// [`Error::InvalidIdentifier`] (`what: "table"`).
///
/// ```
/// assert!(lexigram_sql::ident::check_table("app.schema_migrations").is_ok());
/// assert!(lexigram_sql::ident::check_table("\"x\"").is_err());
/// ```
pub fn check_table(name: &str) -> Result<()> {
    if is_table(name) {
        Ok(())
    } else {
        Err(invalid("table", name))
    }
}

/// The schema (if any) and the table of a table name: `billing.invoices` → `(Some("billing"),
/// "invoices")`. Splits at the first dot; check the name first.
///
/// ```
/// assert_eq!(lexigram_sql::ident::split_table("billing.invoices"), (Some("billing"), "invoices"));
/// assert_eq!(lexigram_sql::ident::split_table("invoices"), (None, "invoices"));
/// ```
pub fn split_table(name: &str) -> (Option<&str>, &str) {
    match name.split_once('.') {
        Some((schema, table)) => (Some(schema), table),
        None => (None, name),
    }
}

/// A table name quoted by the dialect, each part on its own: `"billing"."invoices"`.
pub fn quote_table(d: &dyn Dialect, name: &str) -> String {
    match split_table(name) {
        (Some(schema), table) => format!("{}.{}", d.quote_ident(schema), d.quote_ident(table)),
        (None, table) => d.quote_ident(table),
    }
}

fn invalid(what: &'static str, name: &str) -> Error {
    Error::InvalidIdentifier {
        what,
        name: name.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_plain_identifiers() {
        for good in ["users", "_t", "Order_Lines2", &"x".repeat(63)] {
            assert!(check_column(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "1abc",
            "name; DROP TABLE users--",
            "a b",
            "a\"b",
            "a`b",
            "é",
            "a.b",
            &"x".repeat(64),
        ] {
            let err = check_column(bad).unwrap_err();
            assert_eq!(err.code(), "LEX_ERR_SQL_020", "{bad}");
        }
    }

    #[test]
    fn tables_may_have_one_schema() {
        for good in [
            "users",
            "app.schema_migrations",
            "_a._b",
            &format!("{0}.{0}", "x".repeat(63)),
        ] {
            assert!(check_table(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            ".",
            "a.",
            ".b",
            "a.b.c",
            "a;drop",
            "\"x\"",
            "a. b",
            "é.t",
            "s.é",
            "a..b",
            &format!("{}.t", "x".repeat(64)),
        ] {
            assert!(
                matches!(
                    check_table(bad),
                    Err(Error::InvalidIdentifier { what: "table", .. })
                ),
                "{bad}"
            );
        }
    }
}
