//! Splitting a SQL script (a migration or seed file) into statements, so a failure can name the statement that
//! failed and MySQL/MariaDB runs see exactly how far they got.
//!
//! The splitter understands what can hide a `;`: quoted strings (`'…'` with `''`, and `\'` on
//! MySQL), quoted identifiers (`"…"`, `` `…` ``), comments (`-- …`, `/* … */`), PostgreSQL
//! dollar quoting (`$$ … $$`, `$tag$ … $tag$`) and the `BEGIN … END` bodies of triggers,
//! procedures and functions. A file it cannot split correctly can opt out with the
//! `-- lexigram:single-batch` directive: it is then sent as one batch.

/// One statement of a migration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// The statement text without its terminating `;`.
    pub sql: String,
    /// 1-based line of the file where the statement starts.
    pub line: usize,
}

impl Statement {
    /// The statement shortened to one line of at most `max` characters, for messages.
    pub fn excerpt(&self, max: usize) -> String {
        let flat: String = self.sql.split_whitespace().collect::<Vec<_>>().join(" ");
        if flat.chars().count() <= max {
            flat
        } else {
            let cut: String = flat.chars().take(max).collect();
            format!("{cut}…")
        }
    }
}

/// Splits SQL text into statements. `backslash_escapes` turns on MySQL's `\'` in strings.
///
/// ```
/// use lexigram_sql::migrate::internal::split_statements;
/// let sql = "CREATE TABLE t (s TEXT); -- a; comment\nINSERT INTO t VALUES ('a;b');\n";
/// let parts = split_statements(sql, false);
/// assert_eq!(parts.len(), 2);
/// assert_eq!(parts[1].sql, "INSERT INTO t VALUES ('a;b')");
/// assert_eq!(parts[1].line, 2);
/// ```
pub fn split_statements(sql: &str, backslash_escapes: bool) -> Vec<Statement> {
    Splitter {
        chars: sql.chars().collect(),
        pos: 0,
        line: 1,
        backslash_escapes,
    }
    .run()
}

struct Splitter {
    chars: Vec<char>,
    pos: usize,
    line: usize,
    backslash_escapes: bool,
}

/// The statement being collected.
#[derive(Default)]
struct Current {
    text: String,
    line: usize,
    has_code: bool,
    /// Upper-cased words of code seen so far (only the first few are kept).
    words: Vec<String>,
    word: String,
    /// Open `BEGIN`/`CASE` blocks in a compound statement.
    depth: usize,
    /// The previous word was `END`.
    after_end: bool,
}

impl Current {
    fn is_compound(&self) -> bool {
        self.words.first().is_some_and(|w| w == "CREATE")
            && self
                .words
                .iter()
                .take(6)
                .any(|w| matches!(w.as_str(), "TRIGGER" | "PROCEDURE" | "FUNCTION" | "EVENT"))
    }

    fn finish_word(&mut self) {
        if self.word.is_empty() {
            return;
        }
        let word = std::mem::take(&mut self.word).to_ascii_uppercase();
        let compound = self.is_compound();
        if compound {
            if self.after_end {
                self.after_end = false;
                if matches!(word.as_str(), "IF" | "LOOP" | "WHILE" | "REPEAT" | "CASE") {
                    // `END IF` and friends: the `END` did not close a BEGIN; `END CASE` did
                    // (already counted when END was seen).
                    if word != "CASE" {
                        self.depth += 1;
                    }
                    return self.push_word(word);
                }
            }
            match word.as_str() {
                "BEGIN" | "CASE" => self.depth += 1,
                "END" => {
                    self.depth = self.depth.saturating_sub(1);
                    self.after_end = true;
                }
                _ => {}
            }
        }
        self.push_word(word);
    }

    fn push_word(&mut self, word: String) {
        if self.words.len() < 8 {
            self.words.push(word);
        }
    }
}

impl Splitter {
    fn peek(&self, offset: usize) -> Option<char> {
        self.chars.get(self.pos + offset).copied()
    }

    /// Appends the next char to `cur` and advances.
    fn take(&mut self, cur: &mut Current) -> Option<char> {
        let c = self.peek(0)?;
        if c == '\n' {
            self.line += 1;
        }
        cur.text.push(c);
        self.pos += 1;
        Some(c)
    }

    fn run(mut self) -> Vec<Statement> {
        let mut out = Vec::new();
        let mut cur = Current::default();
        while let Some(c) = self.peek(0) {
            if !cur.has_code && c.is_whitespace() {
                self.take(&mut cur);
                continue;
            }
            match c {
                '-' if self.peek(1) == Some('-') => {
                    cur.finish_word();
                    while let Some(c) = self.peek(0) {
                        if c == '\n' {
                            break;
                        }
                        self.take(&mut cur);
                    }
                }
                '/' if self.peek(1) == Some('*') => {
                    cur.finish_word();
                    self.take(&mut cur);
                    self.take(&mut cur);
                    while self.peek(0).is_some() {
                        if self.peek(0) == Some('*') && self.peek(1) == Some('/') {
                            self.take(&mut cur);
                            self.take(&mut cur);
                            break;
                        }
                        self.take(&mut cur);
                    }
                }
                ';' => {
                    // A word just before `;` (such as END) counts before deciding.
                    cur.finish_word();
                    if cur.is_compound() && cur.depth > 0 {
                        self.take(&mut cur);
                    } else {
                        self.pos += 1;
                        push(&mut out, std::mem::take(&mut cur));
                    }
                }
                _ => {
                    if !cur.has_code {
                        cur.has_code = true;
                        cur.line = self.line;
                        // Comments before the statement are not part of it.
                        cur.text.clear();
                    }
                    self.code(c, &mut cur);
                }
            }
        }
        cur.finish_word();
        push(&mut out, cur);
        out
    }

    /// One piece of code starting at `c`: a quoted run, a dollar-quoted body, or one char.
    fn code(&mut self, c: char, cur: &mut Current) {
        match c {
            '\'' | '"' | '`' => {
                cur.finish_word();
                self.quoted(c, cur);
            }
            '$' if cur.word.is_empty() => match self.dollar_tag() {
                Some(tag) => self.dollar_body(&tag, cur),
                None => {
                    self.take(cur);
                }
            },
            c if c.is_alphanumeric() || c == '_' || c == '$' => {
                cur.word.push(c);
                self.take(cur);
            }
            _ => {
                cur.finish_word();
                self.take(cur);
            }
        }
    }

    fn quoted(&mut self, quote: char, cur: &mut Current) {
        self.take(cur);
        while let Some(c) = self.take(cur) {
            if c == '\\' && quote == '\'' && self.backslash_escapes {
                self.take(cur);
            } else if c == quote {
                if self.peek(0) == Some(quote) {
                    self.take(cur);
                } else {
                    return;
                }
            }
        }
    }

    /// `$tag$` (or `$$`) starting at the current position, if there is one.
    fn dollar_tag(&self) -> Option<String> {
        let mut tag = String::from("$");
        let mut i = 1;
        loop {
            let c = self.peek(i)?;
            if c == '$' {
                tag.push('$');
                return Some(tag);
            }
            let ok = if i == 1 {
                c.is_alphabetic() || c == '_'
            } else {
                c.is_alphanumeric() || c == '_'
            };
            if !ok {
                return None;
            }
            tag.push(c);
            i += 1;
        }
    }

    fn dollar_body(&mut self, tag: &str, cur: &mut Current) {
        for _ in 0..tag.chars().count() {
            self.take(cur);
        }
        let closing: Vec<char> = tag.chars().collect();
        while self.peek(0).is_some() {
            if self.chars[self.pos..].starts_with(&closing) {
                for _ in 0..closing.len() {
                    self.take(cur);
                }
                return;
            }
            self.take(cur);
        }
    }
}

fn push(out: &mut Vec<Statement>, cur: Current) {
    if cur.has_code {
        let sql = cur.text.trim().to_string();
        if !sql.is_empty() {
            out.push(Statement {
                sql,
                line: cur.line,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sqls(text: &str) -> Vec<String> {
        split_statements(text, true)
            .into_iter()
            .map(|s| s.sql)
            .collect()
    }

    #[test]
    fn comments_and_quotes_hide_semicolons() {
        let text = "-- header; here\nCREATE TABLE \"a;b\" (x TEXT DEFAULT 'x;''y');\n/* c; */ SELECT `q;`;\n\n";
        assert_eq!(
            sqls(text),
            vec![
                "CREATE TABLE \"a;b\" (x TEXT DEFAULT 'x;''y')",
                "SELECT `q;`"
            ]
        );
    }

    #[test]
    fn mysql_backslash_escape() {
        assert_eq!(
            sqls("SELECT 'it\\'s; ok'; SELECT 2"),
            vec!["SELECT 'it\\'s; ok'", "SELECT 2"]
        );
        let pg = split_statements("SELECT 'a\\'; SELECT 2", false);
        assert_eq!(pg.len(), 2);
    }

    #[test]
    fn dollar_quoting() {
        let text = "CREATE FUNCTION f() RETURNS int AS $body$ BEGIN RETURN 1; END; $body$ LANGUAGE plpgsql;\nSELECT $$a;b$$;\nSELECT $1";
        let parts = sqls(text);
        assert_eq!(parts.len(), 3, "{parts:?}");
        assert!(parts[0].ends_with("LANGUAGE plpgsql"));
        assert_eq!(parts[1], "SELECT $$a;b$$");
    }

    #[test]
    fn trigger_bodies() {
        let text = "CREATE TRIGGER t AFTER INSERT ON a BEGIN UPDATE b SET n = n + 1; SELECT CASE WHEN 1 THEN 2 END; END;\nINSERT INTO a VALUES (1);";
        let parts = sqls(text);
        assert_eq!(parts.len(), 2, "{parts:?}");
        assert!(parts[0].ends_with("END"));
        let proc = "CREATE PROCEDURE p() BEGIN IF 1 THEN SELECT 1; END IF; END; SELECT 2";
        assert_eq!(sqls(proc).len(), 2);
    }

    #[test]
    fn lines_and_empty_pieces() {
        let parts = split_statements("\n\n-- only a comment;\n;\nSELECT 1;\n  SELECT 2\n", false);
        assert_eq!(parts.iter().map(|s| s.line).collect::<Vec<_>>(), vec![5, 6]);
        assert_eq!(parts[1].excerpt(5), "SELEC…");
    }
}
