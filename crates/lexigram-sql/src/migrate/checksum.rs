//! Checksums of migration files that ignore line endings and a UTF-8 byte-order mark.
//!
//! A file saved by an editor on Windows (CRLF line endings, a BOM) must not count as "changed"
//! compared with the same file checked out on Linux, so the text is normalised first: a
//! leading BOM is dropped and every `\r\n` becomes `\n`. Everything else counts.

use sha2::{Digest, Sha256};

/// The UTF-8 byte-order mark.
const BOM: char = '\u{feff}';

/// Text of a migration with a leading BOM removed and CRLF line endings turned into LF.
///
/// ```
/// use lexigram_sql::migrate::internal::normalize;
/// assert_eq!(normalize("\u{feff}CREATE TABLE t (n INT);\r\n"), "CREATE TABLE t (n INT);\n");
/// ```
pub fn normalize(text: &str) -> String {
    text.strip_prefix(BOM).unwrap_or(text).replace("\r\n", "\n")
}

/// SHA-256 of the normalised text, as 64 lower-case hex digits.
///
/// ```
/// use lexigram_sql::migrate::internal::checksum;
/// let lf = checksum("CREATE TABLE t (n INT);\n");
/// assert_eq!(lf, checksum("\u{feff}CREATE TABLE t (n INT);\r\n"));
/// assert_ne!(lf, checksum("CREATE TABLE t (n BIGINT);\n"));
/// assert_eq!(lf.len(), 64);
/// ```
pub fn checksum(text: &str) -> String {
    let digest = Sha256::digest(normalize(text).as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_line_endings_and_bom_are_ignored() {
        let base = checksum("a\nb\n");
        assert_eq!(base, checksum("a\r\nb\r\n"));
        assert_eq!(base, checksum("\u{feff}a\nb\n"));
        assert_ne!(base, checksum("a\nb"));
        assert_ne!(base, checksum("a \nb\n"));
        // A BOM in the middle is content.
        assert_ne!(base, checksum("a\n\u{feff}b\n"));
    }
}
