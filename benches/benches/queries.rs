//! Diesel's benchmark workloads "medium complex query" (users LEFT JOIN posts filtered on
//! the user's hair colour, read as `(User, Option<Post>)`) and "loading associations" (users,
//! then their posts by one `IN` query, grouped per user) through lexigram's `join_on` /
//! `load_related`, next to the raw drivers running the same statements, in one run.
//!
//! 100 users (half with hair colour "black"), 10 posts each. SQLite always; PostgreSQL and
//! MariaDB when `LEX_TEST_POSTGRES_URL` / `LEX_TEST_MYSQL_URL` are set.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::time::Duration;

use criterion::{BenchmarkGroup, Criterion, criterion_group, criterion_main};
use lexigram_sql::repository::{Filter, asc, col};
use lexigram_sql::{Database, Entity, Repository};
use mysql_async::prelude::Queryable;
use tokio::runtime::Runtime;

#[path = "support/clock.rs"]
mod clock;
#[path = "support/fixture.rs"]
#[allow(dead_code)]
mod fixture;
use clock::Clock;
use fixture::rt;

const USERS: i64 = 100;
const POSTS_PER_USER: i64 = 10;

#[derive(Debug, Clone, Entity)]
#[entity(table = "bench_users")]
pub struct User {
    #[entity(key, generated)]
    pub id: i64,
    pub name: String,
    pub hair_color: Option<String>,
}

#[derive(Debug, Clone, Entity)]
#[entity(table = "bench_posts")]
pub struct Post {
    #[entity(key, generated)]
    pub id: i64,
    pub user_id: i64,
    pub title: String,
    pub body: Option<String>,
}

fn group<'a>(c: &'a mut Criterion<Clock>, name: &str) -> BenchmarkGroup<'a, Clock> {
    let mut g = c.benchmark_group(name);
    g.measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1));
    g
}

async fn seed(db: &Database, ddl: &str) -> (Repository<User>, Repository<Post>) {
    db.execute_batch(ddl).await.unwrap();
    let users = db.repository::<User>();
    users
        .create_many((1..=USERS).map(|i| User {
            id: 0,
            name: format!("user {i}"),
            hair_color: Some(if i % 2 == 0 { "black" } else { "brown" }.into()),
        }))
        .await
        .unwrap();
    let posts = db.repository::<Post>();
    posts
        .create_many((1..=USERS).flat_map(|u| {
            (0..POSTS_PER_USER).map(move |p| Post {
                id: 0,
                user_id: u,
                title: format!("post {p} of {u}"),
                body: Some("body".into()),
            })
        }))
        .await
        .unwrap();
    (users, posts)
}

fn lexigram_medium(g: &mut BenchmarkGroup<'_, Clock>, rt: &Runtime, users: &Repository<User>) {
    g.bench_function("lexigram", |b| {
        b.to_async(rt).iter(|| {
            let users = users.clone();
            async move {
                let rows = users
                    .join_on::<Post>("id", "user_id")
                    .filter(col("hair_color").eq("black"))
                    .fetch_left()
                    .await
                    .unwrap();
                assert_eq!(rows.len() as i64, USERS / 2 * POSTS_PER_USER);
                rows
            }
        })
    });
}

fn lexigram_assoc(g: &mut BenchmarkGroup<'_, Clock>, rt: &Runtime, users: &Repository<User>) {
    g.bench_function("lexigram", |b| {
        b.to_async(rt).iter(|| {
            let users = users.clone();
            async move {
                let all = users
                    .find_many(lexigram_sql::Query::from(Filter::all()).order_by(asc("id")))
                    .await
                    .unwrap();
                let loaded = users.load_related::<Post>(all, "user_id").await.unwrap();
                assert_eq!(loaded.len() as i64, USERS);
                loaded
            }
        })
    });
}

/// Groups posts under their users, as the raw peers of `load_related` do.
fn group_posts(users: Vec<User>, posts: Vec<Post>) -> Vec<(User, Vec<Post>)> {
    let mut by_user: HashMap<i64, Vec<Post>> = HashMap::new();
    for p in posts {
        by_user.entry(p.user_id).or_default().push(p);
    }
    users
        .into_iter()
        .map(|u| {
            let posts = by_user.remove(&u.id).unwrap_or_default();
            (u, posts)
        })
        .collect()
}

fn in_list(placeholder: impl Fn(usize) -> String, n: usize) -> String {
    (1..=n).map(placeholder).collect::<Vec<_>>().join(", ")
}

fn sqlite(c: &mut Criterion<Clock>) {
    let rt = rt();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bench.db");
    let db = rt
        .block_on(Database::connect_url(&format!(
            "sqlite:///{}",
            path.display()
        )))
        .unwrap();
    let (users, _) = rt.block_on(seed(
        &db,
        "CREATE TABLE bench_users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, hair_color TEXT);
         CREATE TABLE bench_posts (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, title TEXT NOT NULL, body TEXT)",
    ));
    let raw = rusqlite::Connection::open(&path).unwrap();
    raw.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;")
        .unwrap();
    let user = |r: &rusqlite::Row<'_>| -> rusqlite::Result<User> {
        Ok(User {
            id: r.get(0)?,
            name: r.get(1)?,
            hair_color: r.get(2)?,
        })
    };
    let post_at = |r: &rusqlite::Row<'_>, o: usize| -> rusqlite::Result<Post> {
        Ok(Post {
            id: r.get(o)?,
            user_id: r.get(o + 1)?,
            title: r.get(o + 2)?,
            body: r.get(o + 3)?,
        })
    };

    let mut g = group(c, "sqlite/diesel_medium_complex");
    g.bench_function("raw_rusqlite", |b| {
        b.iter(|| {
            let mut s = raw
                .prepare_cached(r#"SELECT t0."id", t0."name", t0."hair_color", t1."id", t1."user_id", t1."title", t1."body" FROM "bench_users" t0 LEFT JOIN "bench_posts" t1 ON t0."id" = t1."user_id" WHERE (t0."hair_color" = ?)"#)
                .unwrap();
            s.query_map(["black"], |r| {
                let p: Option<i64> = r.get(3)?;
                Ok((user(r)?, p.map(|_| post_at(r, 3)).transpose()?))
            })
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap()
        })
    });
    lexigram_medium(&mut g, &rt, &users);
    g.finish();

    let mut g = group(c, "sqlite/diesel_loading_associations");
    g.bench_function("raw_rusqlite", |b| {
        b.iter(|| {
            let mut s = raw
                .prepare_cached(r#"SELECT "id", "name", "hair_color" FROM "bench_users" ORDER BY "id""#)
                .unwrap();
            let us: Vec<User> = s.query_map([], user).unwrap().collect::<Result<_, _>>().unwrap();
            let sql = format!(
                r#"SELECT "id", "user_id", "title", "body" FROM "bench_posts" WHERE "user_id" IN ({})"#,
                in_list(|_| "?".into(), us.len())
            );
            let mut s = raw.prepare_cached(&sql).unwrap();
            let ids: Vec<i64> = us.iter().map(|u| u.id).collect();
            let ps: Vec<Post> = s
                .query_map(rusqlite::params_from_iter(ids), |r| post_at(r, 0))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            group_posts(us, ps)
        })
    });
    lexigram_assoc(&mut g, &rt, &users);
    g.finish();
}

fn postgres(c: &mut Criterion<Clock>) {
    let Ok(url) = std::env::var("LEX_TEST_POSTGRES_URL") else {
        return;
    };
    let rt = rt();
    let db = rt
        .block_on(Database::connect_url(&plaintext(&url)))
        .unwrap();
    let (users, _) = rt.block_on(seed(
        &db,
        "DROP TABLE IF EXISTS bench_posts; DROP TABLE IF EXISTS bench_users;
         CREATE TABLE bench_users (id BIGSERIAL PRIMARY KEY, name TEXT NOT NULL, hair_color TEXT);
         CREATE TABLE bench_posts (id BIGSERIAL PRIMARY KEY, user_id BIGINT NOT NULL, title TEXT NOT NULL, body TEXT)",
    ));
    let raw = rt.block_on(async {
        let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(conn);
        client
    });
    let medium = rt
        .block_on(raw.prepare(r#"SELECT t0."id", t0."name", t0."hair_color", t1."id", t1."user_id", t1."title", t1."body" FROM "bench_users" t0 LEFT JOIN "bench_posts" t1 ON t0."id" = t1."user_id" WHERE (t0."hair_color" = $1)"#))
        .unwrap();
    let all_users = rt
        .block_on(
            raw.prepare(r#"SELECT "id", "name", "hair_color" FROM "bench_users" ORDER BY "id""#),
        )
        .unwrap();
    let user = |r: &tokio_postgres::Row| User {
        id: r.get(0),
        name: r.get(1),
        hair_color: r.get(2),
    };
    let post_at = |r: &tokio_postgres::Row, o: usize| Post {
        id: r.get(o),
        user_id: r.get(o + 1),
        title: r.get(o + 2),
        body: r.get(o + 3),
    };

    let mut g = group(c, "postgres/diesel_medium_complex");
    g.bench_function("raw_tokio_postgres", |b| {
        b.iter(|| {
            rt.block_on(raw.query(&medium, &[&"black"]))
                .unwrap()
                .iter()
                .map(|r| {
                    let p: Option<i64> = r.get(3);
                    (user(r), p.map(|_| post_at(r, 3)))
                })
                .collect::<Vec<_>>()
        })
    });
    lexigram_medium(&mut g, &rt, &users);
    g.finish();

    let mut g = group(c, "postgres/diesel_loading_associations");
    g.bench_function("raw_tokio_postgres", |b| {
        b.iter(|| {
            rt.block_on(async {
                let us: Vec<User> = raw.query(&all_users, &[]).await.unwrap().iter().map(user).collect();
                let sql = format!(
                    r#"SELECT "id", "user_id", "title", "body" FROM "bench_posts" WHERE "user_id" IN ({})"#,
                    in_list(|n| format!("${n}"), us.len())
                );
                let params: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> =
                    us.iter().map(|u| &u.id as _).collect();
                let ps: Vec<Post> = raw
                    .query(sql.as_str(), &params)
                    .await
                    .unwrap()
                    .iter()
                    .map(|r| post_at(r, 0))
                    .collect();
                group_posts(us, ps)
            })
        })
    });
    lexigram_assoc(&mut g, &rt, &users);
    g.finish();
}

fn mysql(c: &mut Criterion<Clock>) {
    let Ok(url) = std::env::var("LEX_TEST_MYSQL_URL") else {
        return;
    };
    let rt = rt();
    let db = rt
        .block_on(Database::connect_url(&plaintext(&url)))
        .unwrap();
    let (users, _) = rt.block_on(seed(
        &db,
        "DROP TABLE IF EXISTS bench_posts; DROP TABLE IF EXISTS bench_users;
         CREATE TABLE bench_users (id BIGINT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(100) NOT NULL, hair_color VARCHAR(20));
         CREATE TABLE bench_posts (id BIGINT AUTO_INCREMENT PRIMARY KEY, user_id BIGINT NOT NULL, title VARCHAR(100) NOT NULL, body VARCHAR(100))",
    ));
    let opts = mysql_async::Opts::from_url(&url).unwrap();
    let opts: mysql_async::Opts = mysql_async::OptsBuilder::from_opts(opts)
        .prefer_socket(false)
        .into();
    let mut raw = rt.block_on(mysql_async::Conn::new(opts)).unwrap();
    type Joined = (
        i64,
        String,
        Option<String>,
        Option<i64>,
        Option<i64>,
        Option<String>,
        Option<String>,
    );

    let mut g = group(c, "mysql/diesel_medium_complex");
    g.bench_function("raw_mysql_async", |b| {
        b.iter(|| {
            rt.block_on(raw.exec_map(
                "SELECT t0.`id`, t0.`name`, t0.`hair_color`, t1.`id`, t1.`user_id`, t1.`title`, t1.`body` FROM `bench_users` t0 LEFT JOIN `bench_posts` t1 ON t0.`id` = t1.`user_id` WHERE (t0.`hair_color` = ?)",
                ("black",),
                |(id, name, hair_color, pid, user_id, title, body): Joined| {
                    let post = pid.map(|pid| Post {
                        id: pid,
                        user_id: user_id.unwrap_or_default(),
                        title: title.unwrap_or_default(),
                        body,
                    });
                    (User { id, name, hair_color }, post)
                },
            ))
            .unwrap()
        })
    });
    lexigram_medium(&mut g, &rt, &users);
    g.finish();

    let mut g = group(c, "mysql/diesel_loading_associations");
    g.bench_function("raw_mysql_async", |b| {
        b.iter(|| {
            rt.block_on(async {
                let us: Vec<User> = raw
                    .exec_map(
                        "SELECT `id`, `name`, `hair_color` FROM `bench_users` ORDER BY `id`",
                        (),
                        |(id, name, hair_color)| User { id, name, hair_color },
                    )
                    .await
                    .unwrap();
                let sql = format!(
                    "SELECT `id`, `user_id`, `title`, `body` FROM `bench_posts` WHERE `user_id` IN ({})",
                    in_list(|_| "?".into(), us.len())
                );
                let ids: Vec<mysql_async::Value> = us.iter().map(|u| u.id.into()).collect();
                let ps: Vec<Post> = raw
                    .exec_map(sql, mysql_async::Params::Positional(ids), |(id, user_id, title, body)| Post {
                        id,
                        user_id,
                        title,
                        body,
                    })
                    .await
                    .unwrap();
                group_posts(us, ps)
            })
        })
    });
    lexigram_assoc(&mut g, &rt, &users);
    g.finish();
}

fn benches(c: &mut Criterion<Clock>) {
    sqlite(c);
    postgres(c);
    mysql(c);
}

criterion_group! {
    name = queries;
    config = Criterion::default().with_measurement(Clock::from_env());
    targets = benches
}
criterion_main!(queries);

/// The URL with TLS off, as the raw drivers beside it connect.
fn plaintext(url: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}sslmode=disable")
}
