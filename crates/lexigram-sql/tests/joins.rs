//! Joins on every backend: orders with their customers (inner and left), filters and
//! ordering on either side, explicit join columns, soft-deleted rows left out, hostile names
//! refused before any SQL.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a panic is a failed assertion

mod common;

use chrono::{DateTime, Utc};
use lexigram_sql::repository::{asc, col, desc};
use lexigram_sql::{Entity, Error};

#[derive(Debug, Clone, Entity)]
struct Customer {
    #[entity(key, generated)]
    id: i64,
    name: String,
    #[entity(soft_delete)]
    deleted_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Entity)]
struct Order {
    #[entity(key, generated)]
    id: i64,
    customer_id: Option<i64>,
    total: i64,
    #[entity(rename = "state")]
    status: String,
}

#[derive(Debug, Clone, Entity)]
#[entity(table = "statuses")]
struct Status {
    #[entity(key)]
    code: String,
    label: String,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_with_customers_on_every_backend() {
    for t in common::all().await {
        let db = t.connect().await;
        let name = t.name();
        for ddl in [
            "CREATE TABLE customers (id {pk}, name VARCHAR(20) NOT NULL, deleted_at {ts})",
            "CREATE TABLE orders (id {pk}, customer_id BIGINT, total BIGINT NOT NULL, state VARCHAR(10) NOT NULL)",
            "CREATE TABLE statuses (code VARCHAR(10) PRIMARY KEY, label VARCHAR(20) NOT NULL)",
        ] {
            db.execute(&common::ddl(t.kind, ddl), &[]).await.unwrap();
        }
        let customers = db.repository::<Customer>();
        for n in ["ada", "bob", "gone"] {
            customers
                .create(Customer {
                    id: 0,
                    name: n.into(),
                    deleted_at: None,
                })
                .await
                .unwrap();
        }
        let mut gone = customers.find_one(3).await.unwrap();
        customers.soft_delete(&mut gone).await.unwrap();
        db.repository::<Status>()
            .create_many([("paid", "Paid"), ("open", "Open")].map(|(c, l)| Status {
                code: c.into(),
                label: l.into(),
            }))
            .await
            .unwrap();
        let orders = db.repository::<Order>();
        for (customer_id, total, status) in [
            (Some(1), 30, "paid"),
            (Some(2), 50, "paid"),
            (Some(1), 10, "open"),
            (None, 70, "paid"),
            (Some(3), 90, "paid"),
        ] {
            orders
                .create(Order {
                    id: 0,
                    customer_id,
                    total,
                    status: status.into(),
                })
                .await
                .unwrap();
        }

        // Inner join, filters on both sides, ordering on both sides.
        let rows = orders
            .join::<Customer>("customer_id")
            .filter(col("status").eq("paid").or(col("total").lt(20)))
            .filter_joined(col("name").ne("nobody"))
            .order_by_joined(asc("name"))
            .order_by(desc("total"))
            .fetch()
            .await
            .unwrap();
        let got: Vec<(i64, &str)> = rows
            .iter()
            .map(|(o, c)| (o.total, c.name.as_str()))
            .collect();
        assert_eq!(
            got,
            [(30, "ada"), (10, "ada"), (50, "bob")],
            "{name}: no order without a live customer"
        );
        // Left join: every order, None for no customer or a soft-deleted one.
        let rows = orders
            .join::<Customer>("customer_id")
            .order_by(asc("id"))
            .fetch_left()
            .await
            .unwrap();
        let got: Vec<Option<&str>> = rows
            .iter()
            .map(|(_, c)| c.as_ref().map(|c| c.name.as_str()))
            .collect();
        assert_eq!(
            got,
            [Some("ada"), Some("bob"), Some("ada"), None, None],
            "{name}"
        );
        // Explicit columns, limit and offset.
        let rows = orders
            .join_on::<Status>("status", "code")
            .filter_joined(col("label").eq("Paid"))
            .order_by(asc("total"))
            .limit(2)
            .offset(1)
            .fetch()
            .await
            .unwrap();
        let got: Vec<(i64, &str)> = rows
            .iter()
            .map(|(o, s)| (o.total, s.label.as_str()))
            .collect();
        assert_eq!(got, [(50, "Paid"), (70, "Paid")], "{name}");

        // Hostile names are typed errors before any SQL.
        let hostile = "name\" OR 1=1 --";
        for r in [
            orders
                .join::<Customer>("customer_id")
                .filter_joined(col(hostile).eq(1))
                .fetch()
                .await
                .map(|v| v.len()),
            orders
                .join::<Customer>("customer_id")
                .filter(col("name").eq("ada")) // a Customer column, not an Order one
                .fetch()
                .await
                .map(|v| v.len()),
            orders
                .join::<Customer>(hostile)
                .fetch()
                .await
                .map(|v| v.len()),
            orders
                .join_on::<Status>("status", hostile)
                .fetch()
                .await
                .map(|v| v.len()),
            orders
                .join::<Customer>("customer_id")
                .order_by_joined(asc(hostile))
                .fetch_left()
                .await
                .map(|v| v.len()),
        ] {
            match r {
                Err(Error::UnknownColumn { .. }) => {}
                other => panic!("{name}: {other:?}"),
            }
        }
        assert_eq!(common::row_count(&db, "orders").await, 5, "{name}");
    }
}
