//! `#[derive(FromRow)]` on every backend: projection structs read by column name (renamed
//! fields, `Option` fields for NULL and missing columns) from `find_columns`, `aggregate`, a
//! join projection (left join NULLs) and raw `fetch_all` rows; a missing non-`Option` column
//! is a typed decode error naming it.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a panic is a failed assertion

mod common;

use lexigram_sql::repository::{Aggregate, Query, asc};
use lexigram_sql::{Decimal, Entity, Error, FromRow};

#[derive(Debug, Clone, Entity)]
struct Customer {
    #[entity(key, generated)]
    id: i64,
    name: String,
    note: Option<String>,
}

#[derive(Debug, Clone, Entity)]
struct Order {
    #[entity(key, generated)]
    id: i64,
    #[entity(belongs_to = Customer)]
    customer_id: Option<i64>,
    total: i64,
}

#[derive(Debug, PartialEq, FromRow)]
struct NameOnly {
    #[from_row(rename = "name")]
    label: String,
    /// Selected, NULL for one row.
    note: Option<String>,
    /// Never selected: reads as None.
    missing: Option<i64>,
    #[from_row(skip)]
    local: u8,
}

#[derive(Debug, PartialEq, FromRow)]
struct Revenue {
    customer_id: Option<i64>,
    orders: i64,
    revenue: Decimal,
}

#[derive(Debug, PartialEq, FromRow)]
struct OrderLine {
    id: i64,
    total: i64,
    name: Option<String>,
}

#[derive(Debug, FromRow)]
struct NeedsTotal {
    #[allow(dead_code)]
    total: i64,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn from_row_structs_on_every_backend() {
    for t in common::all().await {
        let db = t.connect().await;
        let name = t.name();
        for ddl in [
            "CREATE TABLE customers (id {pk}, name VARCHAR(60) NOT NULL, note VARCHAR(60))",
            "CREATE TABLE orders (id {pk}, customer_id BIGINT, total BIGINT NOT NULL)",
        ] {
            db.execute(&common::ddl(t.kind, ddl), &[]).await.unwrap();
        }
        let hostile = "o'brien\"; DROP TABLE orders;--";
        let customers = db.repository::<Customer>();
        customers
            .create(Customer {
                id: 0,
                name: hostile.into(),
                note: Some("vip".into()),
            })
            .await
            .unwrap();
        customers
            .create(Customer {
                id: 0,
                name: "bob".into(),
                note: None,
            })
            .await
            .unwrap();
        let orders = db.repository::<Order>();
        for (c, total) in [(Some(1), 30), (Some(1), 12), (Some(2), 5), (None, 7)] {
            orders
                .create(Order {
                    id: 0,
                    customer_id: c,
                    total,
                })
                .await
                .unwrap();
        }

        let names: Vec<NameOnly> = customers
            .find_columns(Query::new().order_by(asc("id")), &["name", "note"])
            .await
            .unwrap();
        assert_eq!(
            names,
            [
                NameOnly {
                    label: hostile.into(),
                    note: Some("vip".into()),
                    missing: None,
                    local: 0
                },
                NameOnly {
                    label: "bob".into(),
                    note: None,
                    missing: None,
                    local: 0
                },
            ],
            "{name}"
        );

        let revenue: Vec<Revenue> = orders
            .aggregate(
                Aggregate::new()
                    .group_by("customer_id")
                    .count("orders")
                    .sum("total", "revenue")
                    .order_by(asc("customer_id")),
            )
            .await
            .unwrap();
        let got: Vec<(Option<i64>, i64, String)> = revenue
            .iter()
            .map(|r| (r.customer_id, r.orders, r.revenue.to_string()))
            .collect();
        let mut want = vec![
            (Some(1), 2, "42".to_string()),
            (Some(2), 1, "5".to_string()),
            (None, 1, "7".to_string()),
        ];
        // NULL sorts first on SQLite and MySQL, last on PostgreSQL.
        if t.kind != lexigram_sql::config::BackendKind::Postgres {
            want.rotate_right(1);
        }
        assert_eq!(got, want, "{name}");

        let lines: Vec<OrderLine> = orders
            .join_declared::<Customer>()
            .order_by(asc("id"))
            .fetch_left_columns(&["id", "total"], &["name"])
            .await
            .unwrap();
        assert_eq!(lines.len(), 4, "{name}");
        assert_eq!(
            lines[0],
            OrderLine {
                id: 1,
                total: 30,
                name: Some(hostile.into())
            },
            "{name}"
        );
        assert_eq!(
            lines[3],
            OrderLine {
                id: 4,
                total: 7,
                name: None
            },
            "{name}: left join NULL"
        );
        assert!(
            matches!(
                orders
                    .join_declared::<Customer>()
                    .fetch_columns::<OrderLine>(&["id"], &["id"])
                    .await,
                Err(Error::InvalidRequest { .. })
            ),
            "{name}: one name from both sides is refused"
        );

        let raw = db
            .fetch_all("SELECT id, total FROM orders ORDER BY id", &[])
            .await
            .unwrap();
        let raw: Vec<OrderLine> = raw
            .into_iter()
            .map(OrderLine::from_row)
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            raw[2],
            OrderLine {
                id: 3,
                total: 5,
                name: None
            },
            "{name}: raw rows, missing Option column"
        );

        match customers
            .find_columns::<NeedsTotal>(Query::new(), &["name"])
            .await
        {
            Err(Error::Decode { column, .. }) => assert_eq!(column, "total", "{name}"),
            other => panic!("{name}: {other:?}"),
        }
    }
}
