//! The placeholder splitter of [`Portable`](super::Portable): examples per dialect, and a
//! property test over generated statements mixing placeholders with every kind of text that
//! holds placeholder-like characters (strings, quoted identifiers, comments, dollar quotes).

use proptest::prelude::*;

use super::portable::{Piece, Portable, split};
use crate::backend::{Dialect, MySql, Postgres, Sqlite};
use crate::value::Value;

#[test]
fn examples_per_dialect() {
    let p = Portable::new(
        "SELECT a::int, 'it''s ?', \"?col\", `:x` /* ? :y */ FROM t -- :z ?\nWHERE b = ? AND c ?? 'k'",
    )
    .bind(1);
    let (sql, params) = p.to_native(&Postgres).unwrap();
    assert_eq!(
        sql,
        "SELECT a::int, 'it''s ?', \"?col\", `:x` /* ? :y */ FROM t -- :z ?\nWHERE b = $1 AND c ? 'k'"
    );
    assert_eq!(params, [Value::Int(1)]);
    // MySQL: backslash escapes in strings, `#` comments.
    let (sql, _) = Portable::new(r"SELECT 'a\'?' , ? # ?")
        .bind(1)
        .to_native(&MySql)
        .unwrap();
    assert_eq!(sql, r"SELECT 'a\'?' , ? # ?");
    // PostgreSQL: dollar quotes, E-strings, nested comments; `$1` is not a dollar quote.
    let sql = "SELECT $$ ? $$, $f$ :a $f$, E'\\' ?', /* /* ? */ ? */ :a";
    assert_eq!(
        split(sql, "postgresql"),
        [
            Piece::Text("SELECT $$ ? $$, $f$ :a $f$, E'\\' ?', /* /* ? */ ? */ ".into()),
            Piece::Named("a".into())
        ]
    );
    // SQLite: [bracketed] identifiers.
    assert_eq!(
        split("SELECT [a?b] FROM t WHERE x = :v", "sqlite"),
        [
            Piece::Text("SELECT [a?b] FROM t WHERE x = ".into()),
            Piece::Named("v".into())
        ]
    );
}

#[test]
fn mismatches_are_typed_errors() {
    for p in [
        Portable::new("SELECT ?, ?").bind(1),
        Portable::new("SELECT ?").bind(1).bind(2),
        Portable::new("SELECT :a"),
        Portable::new("SELECT ?, :a").bind(1).bind_named("a", 2),
    ] {
        let err = p.to_native(&Sqlite).unwrap_err();
        assert_eq!(err.code(), "LEX_ERR_SQL_021", "{err}");
    }
}

/// One generated piece: opaque text (copied unchanged), or a placeholder.
#[derive(Debug, Clone)]
enum Gen {
    Opaque(String),
    Placeholder,
}

/// Text with every character that could look like a placeholder or end a quote early.
fn content() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just("?"),
            Just("??"),
            Just(":a"),
            Just("::"),
            Just("$1"),
            Just("x"),
            Just(" "),
            Just("-"),
            Just("#"),
            Just("*"),
            Just("/"),
            Just("é"),
        ],
        0..8,
    )
    .prop_map(|v| v.concat())
}

fn opaque(backend: &'static str) -> impl Strategy<Value = String> {
    let mut options: Vec<BoxedStrategy<String>> = vec![
        content()
            .prop_map(|c| format!("'{}'", c.replace('\'', "''")))
            .boxed(),
        content().prop_map(|c| format!("'{c}''{c}'")).boxed(),
        content()
            .prop_map(|c| format!("\"{}\"", c.replace('"', "\"\"")))
            .boxed(),
        content().prop_map(|c| format!("`{c}`")).boxed(),
        content().prop_map(|c| format!("-- {c}\n")).boxed(),
        content()
            .prop_map(|c| format!("/* {} */", c.replace('*', "")))
            .boxed(),
        prop_oneof![
            Just(" = "),
            Just(" AND "),
            Just(" a::int "),
            Just(" (1) "),
            Just(" SELECT "),
        ]
        .prop_map(String::from)
        .boxed(),
    ];
    if backend == "postgresql" {
        options.push(
            content()
                .prop_map(|c| format!("$q${}$q$", c.replace('$', "")))
                .boxed(),
        );
    }
    if backend == "mysql" {
        options.push(content().prop_map(|c| format!("# {c}\n")).boxed());
        options.push(
            content()
                .prop_map(|c| format!("'\\'{}'", c.replace('\'', "''")))
                .boxed(),
        );
    }
    if backend == "sqlite" {
        options.push(content().prop_map(|c| format!("[{c}]")).boxed());
    }
    proptest::strategy::Union::new(options)
}

fn statement(backend: &'static str) -> impl Strategy<Value = Vec<Gen>> {
    proptest::collection::vec(
        prop_oneof![
            3 => opaque(backend).prop_map(Gen::Opaque),
            1 => Just(Gen::Placeholder),
        ],
        0..12,
    )
}

fn check(d: &'static dyn Dialect, pieces: Vec<Gen>, named: bool) {
    let mut sql = String::new();
    let mut expected = String::new();
    let mut n = 0;
    for g in &pieces {
        match g {
            Gen::Opaque(t) => {
                sql.push_str(t);
                expected.push_str(t);
            }
            Gen::Placeholder => {
                n += 1;
                if named {
                    sql.push_str(&format!(":p{n} "));
                } else {
                    sql.push_str("? ");
                }
                d.push_placeholder(&mut expected, n);
                expected.push(' ');
            }
        }
    }
    let mut p = Portable::new(sql.clone());
    for i in 1..=n {
        p = if named {
            p.bind_named(format!("p{i}"), i as i64)
        } else {
            p.bind(i as i64)
        };
    }
    let (native, params) = p.to_native(d).unwrap_or_else(|e| panic!("{sql:?}: {e}"));
    assert_eq!(native, expected, "from {sql:?}");
    assert_eq!(params, (1..=n as i64).map(Value::Int).collect::<Vec<_>>());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn placeholders_outside_literals_only_postgres(pieces in statement("postgresql"), named: bool) {
        check(&Postgres, pieces, named);
    }

    #[test]
    fn placeholders_outside_literals_only_mysql(pieces in statement("mysql"), named: bool) {
        check(&MySql, pieces, named);
    }

    #[test]
    fn placeholders_outside_literals_only_sqlite(pieces in statement("sqlite"), named: bool) {
        check(&Sqlite, pieces, named);
    }
}
