//! Associations without N+1 queries on every backend: `load_related` (users with their
//! posts) and `load_parents` (posts with their user) over 70,000 parents, past every
//! backend's parameter limit, so the one `IN` query per relation is split.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a panic is a failed assertion

mod common;

use lexigram_sql::repository::{Query, asc};
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
    #[entity(rename = "author_id")]
    user_id: Option<i64>,
    title: String,
}

const USERS: i64 = 70_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_with_posts_and_posts_with_users_on_every_backend() {
    for t in common::all().await {
        let db = t.connect().await;
        let name = t.name();
        for ddl in [
            "CREATE TABLE users (id {pk}, name VARCHAR(20) NOT NULL)",
            "CREATE TABLE posts (id {pk}, author_id BIGINT, title VARCHAR(20) NOT NULL)",
        ] {
            db.execute(&common::ddl(t.kind, ddl), &[]).await.unwrap();
        }
        let users = db.repository::<User>();
        users
            .create_many((1..=USERS).map(|i| User {
                id: 0,
                name: format!("u{i}"),
            }))
            .await
            .unwrap();
        let posts = db.repository::<Post>();
        let post = |user_id: Option<i64>, title: &str| Post {
            id: 0,
            user_id,
            title: title.into(),
        };
        posts
            .create_many([
                post(Some(1), "a"),
                post(Some(1), "b"),
                post(Some(USERS), "z"),
                post(Some(1), "c"),
                post(Some(USERS + 5), "orphan"),
                post(None, "anonymous"),
            ])
            .await
            .unwrap();

        let all = users
            .find_many(Query::new().order_by(asc("id")))
            .await
            .unwrap();
        assert_eq!(all.len(), USERS as usize, "{name}");
        db.reset_query_stats();
        let loaded = users.load_related::<Post>(all, "user_id").await.unwrap();
        // No N+1: the 70,000 parents' children come from a few chunked IN queries (the
        // backend's parameter limit), not one query per parent.
        let stats = db.query_stats();
        let calls: u64 = stats.statements.iter().map(|s| s.calls).sum();
        let chunk = db.dialect().max_params() as u64;
        eprintln!("{name}: load_related of {USERS} parents ran {calls} statements");
        assert!(
            (1..=USERS as u64 / chunk + 2).contains(&calls),
            "{name}: load_related ran {calls} statements for {USERS} parents: {:?}",
            stats
                .statements
                .iter()
                .map(|s| (&s.sql, s.calls))
                .collect::<Vec<_>>()
        );
        assert!(
            stats.statements.iter().all(|s| s.operation == "SELECT"),
            "{name}: {:?}",
            stats.statements
        );
        assert_eq!(loaded.len(), USERS as usize, "{name}: parents kept");
        assert_eq!(loaded[0].0.id, 1, "{name}: parents keep their order");
        let mut first: Vec<&str> = loaded[0].1.iter().map(|p| p.title.as_str()).collect();
        first.sort_unstable();
        assert_eq!(first, ["a", "b", "c"], "{name}");
        assert_eq!(loaded[USERS as usize - 1].1.len(), 1, "{name}");
        assert_eq!(
            loaded.iter().map(|(_, p)| p.len()).sum::<usize>(),
            4,
            "{name}: orphan and anonymous posts belong to no loaded user"
        );

        let every_post = posts
            .find_many(Query::new().order_by(asc("id")))
            .await
            .unwrap();
        let with_users = posts
            .load_parents::<User>(every_post, "author_id")
            .await
            .unwrap();
        let authors: Vec<Option<String>> = with_users
            .iter()
            .map(|(_, u)| u.as_ref().map(|u| u.name.clone()))
            .collect();
        let u = |s: &str| Some(s.to_string());
        assert_eq!(
            authors,
            [u("u1"), u("u1"), u("u70000"), u("u1"), None, None],
            "{name}"
        );

        match users
            .load_related::<Post>(users.find_many(Filter::all()).await.unwrap(), "userid")
            .await
        {
            Err(Error::UnknownColumn { column, .. }) => assert_eq!(column, "userid"),
            other => panic!("{name}: {:?}", other.map(|v| v.len())),
        }
        assert!(
            users
                .load_related::<Post>(Vec::new(), "user_id")
                .await
                .unwrap()
                .is_empty()
        );
    }
}
