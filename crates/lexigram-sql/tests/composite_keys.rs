//! Composite primary keys on every backend: every repository method keyed by two columns
//! (an integer and a text part, with hostile text), versioned updates with the optimistic-lock
//! / not-found distinction, upsert on both key columns, soft delete, bulk insert, keyset paging
//! over the composite key, joins and associations on it.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a panic is a failed assertion

mod common;

use chrono::{DateTime, Utc};
use futures_util::TryStreamExt;
use lexigram_sql::repository::{Query, asc, col};
use lexigram_sql::{Entity, Error, Filter};

#[derive(Debug, Clone, PartialEq, Entity)]
struct OrderLine {
    #[entity(key)]
    order_id: i64,
    #[entity(key)]
    sku: String,
    qty: i64,
    #[entity(version)]
    version: i64,
    #[entity(soft_delete)]
    deleted_at: Option<DateTime<Utc>>,
}

/// A child of a line: its foreign key is both key columns of the line.
#[derive(Debug, Clone, PartialEq, Entity)]
struct LineNote {
    #[entity(key, generated)]
    id: i64,
    order_id: i64,
    line_sku: String,
    body: String,
}

const HOSTILE: &str = "x'); DROP TABLE order_lines;--\"`";

fn line(order_id: i64, sku: &str, qty: i64) -> OrderLine {
    OrderLine {
        order_id,
        sku: sku.into(),
        qty,
        version: 0,
        deleted_at: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn composite_keys_on_every_backend() {
    for t in common::all().await {
        let db = t.connect().await;
        let name = t.name();
        for ddl in [
            "CREATE TABLE order_lines (order_id BIGINT NOT NULL, sku VARCHAR(64) NOT NULL, qty BIGINT NOT NULL, version BIGINT NOT NULL, deleted_at {ts}, PRIMARY KEY (order_id, sku))",
            "CREATE TABLE line_notes (id {pk}, order_id BIGINT NOT NULL, line_sku VARCHAR(64) NOT NULL, body VARCHAR(64) NOT NULL)",
        ] {
            db.execute(&common::ddl(t.kind, ddl), &[]).await.unwrap();
        }
        let lines = db.repository::<OrderLine>();

        // create and find by the tuple key; the same order id with another sku is another row.
        let a = lines.create(line(1, "a", 2)).await.unwrap();
        assert_eq!((a.version, a.qty), (1, 2), "{name}");
        lines.create(line(1, HOSTILE, 3)).await.unwrap();
        lines.create(line(2, "a", 4)).await.unwrap();
        assert_eq!(lines.find_one((1i64, "a")).await.unwrap(), a, "{name}");
        assert_eq!(
            lines.find_one((1i64, HOSTILE)).await.unwrap().qty,
            3,
            "{name}"
        );
        assert_eq!(lines.find_one((2i64, "a")).await.unwrap().qty, 4, "{name}");
        match lines.find_one((2i64, "b")).await {
            Err(Error::NotFound { key, .. }) => assert!(
                key.contains("order_id=2") && key.contains("sku="),
                "{name}: {key}"
            ),
            other => panic!("{name}: {other:?}"),
        }
        // A one-value key for a two-column key is refused before any SQL.
        assert!(
            matches!(
                lines.find_one(1i64).await,
                Err(Error::InvalidRequest { .. })
            ),
            "{name}"
        );
        // Inserting the same composite key twice is a unique violation.
        assert!(
            matches!(
                lines.create(line(1, "a", 9)).await,
                Err(Error::Constraint { .. })
            ),
            "{name}"
        );

        // versioned update by both key columns; a stale copy is an optimistic-lock conflict.
        let mut fresh = lines.find_one((1i64, "a")).await.unwrap();
        let mut stale = fresh.clone();
        fresh.qty = 20;
        lines.update(&mut fresh).await.unwrap();
        assert_eq!(fresh.version, 2, "{name}");
        assert_eq!(lines.find_one((1i64, "a")).await.unwrap().qty, 20, "{name}");
        assert_eq!(
            lines.find_one((2i64, "a")).await.unwrap().qty,
            4,
            "{name}: other row untouched"
        );
        stale.qty = 99;
        match lines.update(&mut stale).await {
            Err(Error::OptimisticLock {
                key,
                expected_version,
                ..
            }) => {
                assert!(key.starts_with("order_id=1, sku="), "{name}: {key}");
                assert_eq!(expected_version, 1, "{name}");
            }
            other => panic!("{name}: {other:?}"),
        }
        let mut ghost = line(7, "zz", 1);
        ghost.version = 1;
        assert!(
            matches!(lines.update(&mut ghost).await, Err(Error::NotFound { .. })),
            "{name}"
        );

        // upsert: the conflict target is both key columns.
        let up = lines.upsert(line(1, "a", 50)).await.unwrap();
        assert_eq!((up.qty, up.version), (50, 3), "{name}: updated in place");
        let new = lines.upsert(line(3, "a", 5)).await.unwrap();
        assert_eq!((new.qty, new.version), (5, 1), "{name}: inserted");
        assert_eq!(lines.count(Filter::all()).await.unwrap(), 4, "{name}");

        // soft delete and restore by both key columns.
        let mut h = lines.find_one((1i64, HOSTILE)).await.unwrap();
        lines.soft_delete(&mut h).await.unwrap();
        assert!(lines.find_one((1i64, HOSTILE)).await.is_err(), "{name}");
        assert_eq!(lines.count(Filter::all()).await.unwrap(), 3, "{name}");
        lines.restore(&mut h).await.unwrap();
        assert_eq!(
            lines.find_one((1i64, HOSTILE)).await.unwrap().version,
            3,
            "{name}"
        );

        // delete by both key columns, versioned.
        let gone = lines.find_one((3i64, "a")).await.unwrap();
        lines.delete(&gone).await.unwrap();
        assert!(
            matches!(lines.delete(&gone).await, Err(Error::NotFound { .. })),
            "{name}"
        );
        assert_eq!(lines.count(Filter::all()).await.unwrap(), 3, "{name}");

        // bulk insert, then keyset pages over the composite key (no duplicates, no gaps).
        let n = lines
            .create_many((10..40).map(|i| line(10 + i % 3, &format!("s{i:02}"), i)))
            .await
            .unwrap();
        assert_eq!(n, 30, "{name}");
        let mut seen = Vec::new();
        let mut after = None;
        loop {
            let page = lines
                .page_after(Query::new(), after.as_ref(), 7)
                .await
                .unwrap();
            seen.extend(page.items.iter().map(|l| (l.order_id, l.sku.clone())));
            match page.next {
                Some(c) => {
                    assert_eq!(
                        c.values().len(),
                        2,
                        "{name}: cursor carries both key columns"
                    );
                    after = Some(c);
                }
                None => break,
            }
        }
        let mut sorted = seen.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(
            seen, sorted,
            "{name}: ordered by (order_id, sku), no duplicates"
        );
        assert_eq!(seen.len(), 33, "{name}");
        // Inside a transaction a stream reads chunks ordered by both key columns.
        let tx = db.begin().await.unwrap();
        let streamed: Vec<(i64, String)> = tx
            .repository::<OrderLine>()
            .stream(Query::new())
            .await
            .unwrap()
            .map_ok(|l| (l.order_id, l.sku))
            .try_collect()
            .await
            .unwrap();
        tx.rollback().await.unwrap();
        assert_eq!(streamed, seen, "{name}");
        let page = lines.page(Query::new(), 1, 2).await.unwrap();
        assert_eq!(
            page.items
                .iter()
                .map(|l| (l.order_id, l.sku.as_str()))
                .collect::<Vec<_>>(),
            [(1, "a"), (1, HOSTILE)].map(|(o, s)| (o, s)).to_vec(),
            "{name}: offset pages ordered by both key columns"
        );

        // associations and joins on the composite key.
        let notes = db.repository::<LineNote>();
        for (o, s, b) in [(1, "a", "first"), (1, "a", "second"), (1, HOSTILE, HOSTILE)] {
            notes
                .create(LineNote {
                    id: 0,
                    order_id: o,
                    line_sku: s.into(),
                    body: b.into(),
                })
                .await
                .unwrap();
        }
        let parents = lines
            .find_many(Query::from(col("order_id").eq(1)).order_by(asc("sku")))
            .await
            .unwrap();
        let loaded = lines
            .load_related_by::<LineNote>(parents, &["order_id", "line_sku"])
            .await
            .unwrap();
        assert_eq!(loaded.len(), 2, "{name}");
        assert_eq!(loaded[0].1.len(), 2, "{name}: line (1, a) has two notes");
        assert_eq!(loaded[1].1[0].body, HOSTILE, "{name}");
        let with_lines = notes
            .load_parents_by::<OrderLine>(
                notes.find_many(Filter::all()).await.unwrap(),
                &["order_id", "line_sku"],
            )
            .await
            .unwrap();
        assert!(
            with_lines
                .iter()
                .all(|(n, l)| l.as_ref().map(|l| &l.sku) == Some(&n.line_sku)),
            "{name}"
        );
        let joined = notes
            .join_keys::<OrderLine>(&["order_id", "line_sku"])
            .filter_joined(col("qty").eq(50))
            .fetch()
            .await
            .unwrap();
        assert_eq!(joined.len(), 2, "{name}: the two notes of line (1, a)");
        assert!(
            matches!(
                notes.join::<OrderLine>("order_id").fetch().await,
                Err(Error::InvalidRequest { .. })
            ),
            "{name}: one column against a two-column key is refused"
        );
        assert!(
            matches!(
                lines.load_related::<LineNote>(Vec::new(), "order_id").await,
                Err(Error::InvalidRequest { .. })
            ),
            "{name}"
        );
    }
}
