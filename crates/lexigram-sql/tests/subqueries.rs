//! `in_subquery`, `not_in_subquery` and correlated `exists` on every backend: users filtered
//! by their posts, in reads and in a bulk write, with soft-deleted posts left out and hostile
//! names in the subquery refused before any SQL.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a panic is a failed assertion

mod common;

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use lexigram_sql::repository::{Record, Repository, Subquery, col, exists, not};
use lexigram_sql::{Entity, Error, Filter};

#[derive(Debug, Clone, Entity)]
struct User {
    #[entity(key, generated)]
    id: i64,
    name: String,
}

#[derive(Debug, Clone, Entity)]
struct Post {
    #[entity(key, generated)]
    id: i64,
    #[entity(rename = "author")]
    user_id: i64,
    title: String,
    #[entity(soft_delete)]
    deleted_at: Option<DateTime<Utc>>,
}

async fn names(users: &Repository<User>, f: Filter) -> BTreeSet<String> {
    users
        .find_many(f)
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.name)
        .collect()
}

common::per_backend!(
    async fn users_filtered_by_their_posts_on_every_backend(t) {
        let db = t.connect().await;
        let name = t.name();
        for ddl in [
            "CREATE TABLE users (id {pk}, name VARCHAR(20) NOT NULL)",
            "CREATE TABLE posts (id {pk}, author BIGINT NOT NULL, title VARCHAR(40) NOT NULL, deleted_at {ts})",
        ] {
            db.execute(&common::ddl(t.kind, ddl), &[]).await.unwrap();
        }
        let users = db.repository::<User>();
        for n in ["ada", "bob", "cy", "dee"] {
            users
                .create(User {
                    id: 0,
                    name: n.into(),
                })
                .await
                .unwrap();
        }
        let posts = db.repository::<Post>();
        for (user_id, title) in [
            (1, "Rust tips"),
            (1, "Go"),
            (2, "rusty nails"),
            (3, "Rust 2024"),
        ] {
            posts
                .create(Post {
                    id: 0,
                    user_id,
                    title: title.into(),
                    deleted_at: None,
                })
                .await
                .unwrap();
        }
        let mut hidden = posts.find_one(4).await.unwrap(); // cy's only post
        posts.soft_delete(&mut hidden).await.unwrap();
        let set = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
        let about_rust = || Subquery::of::<Post>("user_id", col("title").icontains("rust"));

        assert_eq!(
            names(&users, col("id").in_subquery(about_rust())).await,
            set(&["ada", "bob"]),
            "{name}: soft-deleted posts left out"
        );
        assert_eq!(
            names(&users, col("id").not_in_subquery(about_rust())).await,
            set(&["cy", "dee"]),
            "{name}"
        );
        assert_eq!(
            names(&users, exists(about_rust().correlate("id"))).await,
            set(&["ada", "bob"]),
            "{name}: correlated exists"
        );
        assert_eq!(
            names(
                &users,
                not(exists(
                    Subquery::of::<Post>("user_id", Filter::all()).correlate("id")
                ))
                .and(col("name").ne("zed"))
            )
            .await,
            set(&["cy", "dee"]),
            "{name}: users without a live post"
        );
        let n = users
            .update_where(
                col("id").in_subquery(Subquery::of::<Post>("user_id", col("title").eq("Go"))),
                Record::new().set("name", "gopher"),
            )
            .await
            .unwrap();
        assert_eq!(n, 1, "{name}: bulk write by subquery");
        for bad in [
            col("id").in_subquery(Subquery::of::<Post>(
                "author; DROP TABLE users",
                Filter::all(),
            )),
            col("id").in_subquery(Subquery::of::<Post>("user_id", col("titel").eq("x"))),
            exists(Subquery::of::<Post>("user_id", Filter::all()).correlate("uid")),
        ] {
            match users.find_many(bad).await {
                Err(Error::UnknownColumn { .. }) => {}
                other => panic!("{name}: {other:?}"),
            }
        }
        assert_eq!(common::row_count(&db, "users").await, 4, "{name}");
    }
);
