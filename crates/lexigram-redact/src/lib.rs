//! Hiding passwords in URLs and in free text that may quote them (parse errors, values), for
//! the lexigram crates: their config loaders, errors and logs never show a secret.
//!
//! Both functions work on text shaped like a URL whether or not it is valid — a one-slash
//! typo (`postgresql:/user:pw@host`), a missing scheme (`user:pw@host`), a password with an
//! unencoded `@` or `/` — and when unsure they hide more rather than less.

/// What replaces a hidden secret.
pub const MASK: &str = "***";

/// Replaces the password of a URL-like value with `***`: the userinfo password
/// (`scheme://user:password@host…`, also with one slash, none, or no scheme) and the value of
/// every query or keyword parameter whose name says it is a secret (`password`, `pass`,
/// `pwd`, `sslpassword`, `…secret…`, `…token…`, case-insensitively).
///
/// ```
/// use lexigram_redact::redact_url;
/// assert_eq!(redact_url("postgresql://u:p@ss@h/db"), "postgresql://u:***@h/db");
/// assert_eq!(redact_url("postgresql:/u:pw@h/db"), "postgresql:/u:***@h/db");
/// assert_eq!(redact_url("mysql://u@h/db?PASSWORD=pw&x=1"), "mysql://u@h/db?PASSWORD=***&x=1");
/// assert_eq!(redact_url("sqlite:///data.db"), "sqlite:///data.db");
/// ```
pub fn redact_url(url: &str) -> String {
    redact_params(&redact_userinfo(url))
}

/// Redacts every URL-like word inside free text (an error message quoting a value, a YAML
/// parser's message, a `Debug` rendering of a parsed document), as [`redact_url`] does.
///
/// ```
/// use lexigram_redact::redact_secrets;
/// assert_eq!(
///     redact_secrets("invalid value \"postgresql://u:pw@h/db\", expected x"),
///     "invalid value \"postgresql://u:***@h/db\", expected x"
/// );
/// assert_eq!(redact_secrets("key String(\"u:pw@h\")"), "key String(\"u:***@h\")");
/// ```
pub fn redact_secrets(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut word = String::new();
    for c in text.chars() {
        if is_delimiter(c) {
            flush(&mut out, &mut word);
            out.push(c);
        } else {
            word.push(c);
        }
    }
    flush(&mut out, &mut word);
    out
}

fn flush(out: &mut String, word: &mut String) {
    if word.contains('@') || word.contains('=') {
        out.push_str(&redact_url(word));
    } else {
        out.push_str(word);
    }
    word.clear();
}

fn is_delimiter(c: char) -> bool {
    c.is_whitespace() || "\"'`()<>[]{},".contains(c)
}

/// Where the authority (`user:password@host`) starts: after `://`, else after `scheme:/…`,
/// else after `//`, else at the start.
fn authority_start(url: &str) -> usize {
    if let Some(i) = url.find("://") {
        return i + 3;
    }
    let scheme_end = url
        .char_indices()
        .take_while(|(i, c)| {
            if *i == 0 {
                c.is_ascii_alphabetic()
            } else {
                c.is_ascii_alphanumeric() || "+-.".contains(*c)
            }
        })
        .last()
        .map_or(0, |(i, c)| i + c.len_utf8());
    if scheme_end > 0 && url[scheme_end..].starts_with(":/") {
        let after = &url[scheme_end + 1..];
        return scheme_end + 1 + (after.len() - after.trim_start_matches('/').len());
    }
    if let Some(i) = url.find("//") {
        return i + 2;
    }
    0
}

fn redact_userinfo(url: &str) -> String {
    let start = authority_start(url);
    let rest = &url[start..];
    let Some(at) = rest.rfind('@') else {
        return url.to_string();
    };
    let userinfo = &rest[..at];
    match userinfo.find(':') {
        Some(colon) => format!(
            "{}{}:{MASK}{}",
            &url[..start],
            &userinfo[..colon],
            &rest[at..]
        ),
        None => url.to_string(),
    }
}

/// True for parameter names that hold secrets.
fn is_secret_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    ["pass", "pwd", "secret", "token"]
        .iter()
        .any(|word| key.contains(word))
}

/// Masks the values of secret `key=value` parameters, wherever they appear (after `?`, `&`,
/// `;`, whitespace, or at the start).
fn redact_params(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(eq) = rest.find('=') {
        let key_start = rest[..eq]
            .rfind(|c: char| "?&;".contains(c) || c.is_whitespace())
            .map_or(0, |i| i + 1);
        let key = &rest[key_start..eq];
        let value_end = rest[eq + 1..]
            .find(|c: char| "&;#".contains(c) || c.is_whitespace())
            .map_or(rest.len(), |i| eq + 1 + i);
        out.push_str(&rest[..=eq]);
        if is_secret_key(key) && value_end > eq + 1 {
            out.push_str(MASK);
        } else {
            out.push_str(&rest[eq + 1..value_end]);
        }
        rest = &rest[value_end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn userinfo_in_every_shape() {
        for (raw, want) in [
            ("postgresql://u:pw@h/db", "postgresql://u:***@h/db"),
            ("postgresql:/u:pw@h/db", "postgresql:/u:***@h/db"),
            ("postgresql:u:pw@h/db", "postgresql:***@h/db"),
            ("postgresql//u:pw@h/db", "postgresql//u:***@h/db"),
            ("u:pw@h/db", "u:***@h/db"),
            ("mysql://u:p@w@h/db", "mysql://u:***@h/db"),
            ("mysql://u:p/w@h/db", "mysql://u:***@h/db"),
            ("mysql://u:p?w@h/db", "mysql://u:***@h/db"),
            ("mysql://:pw@h/db", "mysql://:***@h/db"),
            ("mysql://u@h/db", "mysql://u@h/db"),
            ("sqlite:////var/app.db", "sqlite:////var/app.db"),
            ("no url here", "no url here"),
        ] {
            assert_eq!(redact_url(raw), want, "{raw}");
        }
    }

    #[test]
    fn secret_parameters() {
        assert_eq!(
            redact_url("postgresql://u@h/db?sslmode=require&password=pw&application_name=a"),
            "postgresql://u@h/db?sslmode=require&password=***&application_name=a"
        );
        assert_eq!(
            redact_url("host=h Password=pw dbname=x"),
            "host=h Password=*** dbname=x"
        );
        assert_eq!(redact_url("x?sslpassword=pw"), "x?sslpassword=***");
        assert_eq!(redact_url("x?pass=pw#frag"), "x?pass=***#frag");
        assert_eq!(redact_url("x?password="), "x?password=");
    }

    #[test]
    fn free_text() {
        assert_eq!(
            redact_secrets("a mysql://a:b@c and sqlite:///x"),
            "a mysql://a:***@c and sqlite:///x"
        );
        assert_eq!(
            redact_secrets("unsupported key Mapping {\"url\": String(\"sqlite://a:pw@h/db\")}"),
            "unsupported key Mapping {\"url\": String(\"sqlite://a:***@h/db\")}"
        );
        assert_eq!(
            redact_secrets("`mariadb//u:pw@h/db`: it has no"),
            "`mariadb//u:***@h/db`: it has no"
        );
        assert_eq!(redact_secrets("a@b c:d"), "a@b c:d");
    }
}
