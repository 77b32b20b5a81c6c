//! The text and range operators on every backend, against real tables: `contains`,
//! `starts_with`, `ends_with` match their text literally (the user's `%`, `_`, `!` and `\`
//! escaped), checked against Rust's `str` methods over a generated matrix of hostile values;
//! `ilike`/`icontains` ignore case everywhere; `between`, `is_null`, `is_not_null`; hostile
//! column names are typed errors that change nothing.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a panic is a failed assertion

mod common;

use std::collections::BTreeSet;

use lexigram_sql::repository::{Repository, col};
use lexigram_sql::{Entity, Error, Filter};

#[derive(Debug, Clone, Entity)]
struct Word {
    #[entity(key, generated)]
    id: i64,
    text: String,
    note: Option<String>,
    n: i64,
}

/// Characters that mean something in LIKE patterns or SQL strings on some backend, and two
/// letters (one case only: MySQL's and SQLite's LIKE ignore case, PostgreSQL's does not).
const ALPHABET: &[char] = &['a', 'b', '%', '_', '!', '\\', '\'', '"'];

/// Deterministic pseudo-random strings over [`ALPHABET`] (an LCG: the same matrix every run).
fn generated(count: usize, seed: u64) -> Vec<String> {
    let mut x = seed;
    let mut next = || {
        x = x
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (x >> 33) as usize
    };
    (0..count)
        .map(|_| {
            let len = 1 + next() % 6;
            (0..len)
                .map(|_| ALPHABET[next() % ALPHABET.len()])
                .collect()
        })
        .collect()
}

const FIXED: &[&str] = &[
    "50%_off\\",
    "50%_off",
    "50 off",
    "50xxoff",
    "a_b",
    "axb",
    "100%",
    "100",
    "it's",
    "say \"hi\"",
    "!bang",
    "back\\slash",
];

async fn texts(repo: &Repository<Word>, filter: Filter) -> BTreeSet<String> {
    repo.find_many(filter)
        .await
        .unwrap()
        .into_iter()
        .map(|w| w.text)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn literal_text_operators_match_str_methods_on_every_backend() {
    let mut stored: Vec<String> = FIXED.iter().map(|s| s.to_string()).collect();
    stored.extend(generated(120, 7));
    stored.sort();
    stored.dedup();
    let mut needles: Vec<String> = FIXED.iter().map(|s| s.to_string()).collect();
    needles.extend(["%", "_", "!", "\\", "%_", "0%", "'", "\""].map(String::from));
    needles.extend(
        generated(40, 11)
            .into_iter()
            .map(|s| s.chars().take(3).collect()),
    );
    for t in common::all().await {
        let db = t.connect().await;
        db.execute(
            &common::ddl(
                t.kind,
                "CREATE TABLE words (id {pk}, text VARCHAR(40) NOT NULL, note VARCHAR(40), n BIGINT NOT NULL)",
            ),
            &[],
        )
        .await
        .unwrap();
        let words = db.repository::<Word>();
        words
            .create_many(stored.iter().map(|s| Word {
                id: 0,
                text: s.clone(),
                note: None,
                n: 0,
            }))
            .await
            .unwrap();
        let name = t.name();
        for needle in &needles {
            let want = |f: fn(&str, &str) -> bool| -> BTreeSet<String> {
                stored.iter().filter(|s| f(s, needle)).cloned().collect()
            };
            assert_eq!(
                texts(&words, col("text").contains(needle)).await,
                want(|s, n| s.contains(n)),
                "{name}: contains({needle:?})"
            );
            assert_eq!(
                texts(&words, col("text").starts_with(needle)).await,
                want(|s, n| s.starts_with(n)),
                "{name}: starts_with({needle:?})"
            );
            assert_eq!(
                texts(&words, col("text").ends_with(needle)).await,
                want(|s, n| s.ends_with(n)),
                "{name}: ends_with({needle:?})"
            );
        }
        // The value from the issue: only the exact text, not "50 off" or "50xxoff".
        assert_eq!(
            texts(&words, col("text").contains("50%_off\\")).await,
            BTreeSet::from(["50%_off\\".to_string()]),
            "{name}"
        );
        assert_eq!(
            words.count(Filter::all()).await.unwrap(),
            stored.len() as u64,
            "{name}: nothing written by the queries"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn case_insensitive_range_and_null_operators_on_every_backend() {
    for t in common::all().await {
        let db = t.connect().await;
        db.execute(
            &common::ddl(
                t.kind,
                "CREATE TABLE words (id {pk}, text VARCHAR(40) NOT NULL, note VARCHAR(40), n BIGINT NOT NULL)",
            ),
            &[],
        )
        .await
        .unwrap();
        let words = db.repository::<Word>();
        for (i, text) in [
            "Ada",
            "ADA",
            "ada lovelace",
            "Grace",
            "grace_HOPPER",
            "Alan",
        ]
        .into_iter()
        .enumerate()
        {
            words
                .create(Word {
                    id: 0,
                    text: text.into(),
                    note: (i % 2 == 0).then(|| format!("note {i}")),
                    n: i as i64,
                })
                .await
                .unwrap();
        }
        let name = t.name();
        let set = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
        assert_eq!(
            texts(&words, col("text").ilike("ada%")).await,
            set(&["Ada", "ADA", "ada lovelace"]),
            "{name}: ilike"
        );
        assert_eq!(
            texts(&words, col("text").ilike("a_a")).await,
            set(&["Ada", "ADA"]),
            "{name}: ilike keeps wildcards"
        );
        assert_eq!(
            texts(&words, col("text").icontains("E_h")).await,
            set(&["grace_HOPPER"]),
            "{name}: icontains escapes _"
        );
        assert_eq!(
            texts(&words, col("text").icontains("LOVE")).await,
            set(&["ada lovelace"]),
            "{name}: icontains"
        );
        assert_eq!(
            texts(&words, col("n").between(1, 3)).await,
            set(&["ADA", "ada lovelace", "Grace"]),
            "{name}: between includes both ends"
        );
        assert_eq!(
            texts(&words, col("note").is_null()).await,
            set(&["ADA", "Grace", "Alan"]),
            "{name}: is_null"
        );
        assert_eq!(
            texts(&words, col("note").is_not_null().and(col("n").gt(0))).await,
            set(&["ada lovelace", "grace_HOPPER"]),
            "{name}: is_not_null"
        );
        assert_eq!(
            texts(&words, col("text").starts_with("grace_")).await,
            set(&["grace_HOPPER"]),
            "{name}: starts_with escapes _"
        );
        for hostile in [
            "text\" OR 1=1 --",
            "text` OR 1=1 --",
            "text'); DROP TABLE words; --",
            "LOWER(text)",
        ] {
            for filter in [
                col(hostile).contains("a"),
                col(hostile).ilike("a%"),
                col(hostile).between(1, 2),
                col(hostile).is_null(),
            ] {
                match words.find_many(filter).await {
                    Err(Error::UnknownColumn { column, .. }) => assert_eq!(column, hostile),
                    other => panic!("{name}: {hostile:?} gave {other:?}"),
                }
            }
        }
        assert_eq!(words.count(Filter::all()).await.unwrap(), 6, "{name}");
    }
}
