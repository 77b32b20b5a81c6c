//! Which server a statement may run on: the read-only test behind replica routing.
//!
//! A statement goes to a replica only when it is plainly a read: it starts with `SELECT`,
//! `WITH`, `VALUES`, `TABLE` or `SHOW`, and no word outside quotes and comments writes, locks
//! or reads state that only the primary has (`INSERT`, `UPDATE`, `DELETE`, `MERGE`, `INTO`,
//! `FOR UPDATE`/`FOR SHARE`, `LOCK`, sequence and advisory-lock functions, `LAST_INSERT_ID`,
//! …). Anything else — including what this test cannot tell — goes to the primary, which is
//! always correct.

/// Words that send a statement to the primary wherever they appear (upper case).
const PRIMARY_WORDS: &[&str] = &[
    "INSERT",
    "UPDATE",
    "DELETE",
    "MERGE",
    "INTO",
    "SHARE",
    "LOCK",
    "CALL",
    "NEXTVAL",
    "SETVAL",
    "CURRVAL",
    "LASTVAL",
    "LAST_INSERT_ID",
    "ROW_COUNT",
    "FOUND_ROWS",
    "GET_LOCK",
    "RELEASE_LOCK",
    "RELEASE_ALL_LOCKS",
    "IS_USED_LOCK",
    "IS_FREE_LOCK",
    "TXID_CURRENT",
    "PG_CURRENT_XACT_ID",
    "PG_CURRENT_WAL_LSN",
    "PG_NOTIFY",
];

/// Word prefixes that send a statement to the primary (`pg_advisory_lock`, `pg_try_advisory_…`).
const PRIMARY_PREFIXES: &[&str] = &["PG_ADVISORY", "PG_TRY_ADVISORY"];

/// First words of a statement that may be a plain read.
const READ_STARTS: &[&str] = &["SELECT", "WITH", "VALUES", "TABLE", "SHOW"];

/// True when `sql` is plainly a read that a replica can answer.
///
/// Locking reads (`FOR UPDATE`, `FOR SHARE`, `LOCK IN SHARE MODE`), data-modifying CTEs,
/// `SELECT … INTO`, and functions with side effects or primary-only state are not.
pub(crate) fn is_read_only(sql: &str) -> bool {
    let mut words = Words::new(sql);
    let Some(first) = words.next() else {
        return false;
    };
    if !READ_STARTS.contains(&first.as_str()) {
        return false;
    }
    let mut previous = first;
    for word in words {
        if PRIMARY_WORDS.contains(&word.as_str())
            || PRIMARY_PREFIXES.iter().any(|p| word.starts_with(p))
            || (previous == "FOR" && (word == "NO" || word == "KEY"))
        {
            return false;
        }
        previous = word;
    }
    true
}

/// The upper-cased bare words of SQL text, skipping string literals, quoted identifiers,
/// dollar-quoted strings and comments.
struct Words<'a> {
    rest: &'a str,
}

impl<'a> Words<'a> {
    fn new(sql: &'a str) -> Self {
        Words { rest: sql }
    }

    /// Skips past the closing `close` of a quoted run that starts after its opening quote.
    fn skip_quoted(&mut self, close: char) {
        let mut chars = self.rest.char_indices();
        while let Some((i, c)) = chars.next() {
            if c == '\\' && close != '"' {
                chars.next();
                continue;
            }
            if c == close {
                self.rest = &self.rest[i + c.len_utf8()..];
                return;
            }
        }
        self.rest = "";
    }

    fn skip_until(&mut self, end: &str) {
        self.rest = match self.rest.find(end) {
            Some(i) => &self.rest[i + end.len()..],
            None => "",
        };
    }
}

impl Iterator for Words<'_> {
    type Item = String;

    fn next(&mut self) -> Option<String> {
        loop {
            let mut chars = self.rest.chars();
            let c = chars.next()?;
            let after = chars.as_str();
            match c {
                '\'' | '"' | '`' => {
                    self.rest = after;
                    self.skip_quoted(c);
                }
                '-' if after.starts_with('-') => self.skip_until("\n"),
                '#' => self.skip_until("\n"),
                '/' if after.starts_with('*') => self.skip_until("*/"),
                '$' => {
                    // `$1` placeholders, or a `$tag$ … $tag$` string.
                    let tag_len = after
                        .find(|ch: char| !(ch.is_alphanumeric() || ch == '_'))
                        .unwrap_or(after.len());
                    let tag = &after[..tag_len];
                    if after[tag_len..].starts_with('$')
                        && !tag.starts_with(|d: char| d.is_ascii_digit())
                    {
                        let delimiter = format!("${tag}$");
                        self.rest = &after[tag_len + 1..];
                        self.skip_until(&delimiter);
                    } else {
                        self.rest = &after[tag_len..];
                    }
                }
                c if c.is_alphabetic() || c == '_' => {
                    let len = self
                        .rest
                        .find(|ch: char| !(ch.is_alphanumeric() || ch == '_' || ch == '$'))
                        .unwrap_or(self.rest.len());
                    let word = self.rest[..len].to_ascii_uppercase();
                    self.rest = &self.rest[len..];
                    return Some(word);
                }
                c if c.is_ascii_digit() => {
                    let len = self
                        .rest
                        .find(|ch: char| !(ch.is_alphanumeric() || ch == '_' || ch == '.'))
                        .unwrap_or(self.rest.len());
                    self.rest = &self.rest[len..];
                }
                _ => self.rest = after,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::is_read_only;

    #[test]
    fn plain_reads_go_to_replicas() {
        for sql in [
            "SELECT * FROM users WHERE id = $1",
            "  select count(*) from t",
            "WITH x AS (SELECT 1) SELECT * FROM x",
            "SELECT 'insert into t' AS s, \"update\" FROM t -- delete\n",
            "SELECT $tag$ for update $tag$",
            "/* for update */ SELECT a FROM t ORDER BY a LIMIT 10 OFFSET 5",
            "SHOW server_version",
            "SELECT n FROM t WHERE name LIKE 'a%'",
        ] {
            assert!(is_read_only(sql), "{sql}");
        }
    }

    #[test]
    fn writes_locks_and_primary_state_go_to_the_primary() {
        for sql in [
            "INSERT INTO t VALUES (1) RETURNING id",
            "UPDATE t SET a = 1",
            "DELETE FROM t",
            "SELECT * FROM t WHERE id = 1 FOR UPDATE",
            "SELECT * FROM t FOR NO KEY UPDATE",
            "SELECT * FROM t FOR SHARE SKIP LOCKED",
            "SELECT * FROM t FOR KEY SHARE",
            "SELECT * FROM t LOCK IN SHARE MODE",
            "WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d",
            "SELECT * INTO backup FROM t",
            "SELECT nextval('s')",
            "SELECT pg_try_advisory_lock(1)",
            "SELECT pg_advisory_xact_lock(1)",
            "SELECT GET_LOCK('x', 0)",
            "SELECT LAST_INSERT_ID()",
            "SELECT pg_current_wal_lsn()",
            "CREATE TABLE t (a int)",
            "BEGIN",
            "EXPLAIN ANALYZE SELECT 1",
            "",
        ] {
            assert!(!is_read_only(sql), "{sql}");
        }
    }
}
