//! sqlx 0.9, through a pool (of 1 for the single-connection workloads, as lexigram's), rows
//! read by `#[derive(FromRow)]`; PostgreSQL's bulk insert by `UNNEST`, as sqlx recommends.

use std::time::Duration;

use sqlx::pool::{Pool, PoolOptions};
use sqlx::{MySql, Postgres, Sqlite};

use crate::harness::{POOL_TASKS, Peer, PoolRun, PoolSample, Result, Target};
use crate::work::{BULK, ITEMS, JUSERS, Kind, Sql, USERS, Work, group_by_user, new_user};

/// A user.
#[derive(Debug, sqlx::FromRow)]
pub struct User {
    pub id: i64,
    pub name: String,
    pub hair_color: Option<String>,
}

/// A post.
#[derive(Debug, sqlx::FromRow)]
pub struct Post {
    pub id: i64,
    pub user_id: i64,
    pub title: String,
    pub body: Option<String>,
}

type JoinRow = (
    i64,
    String,
    Option<String>,
    Option<i64>,
    Option<i64>,
    Option<String>,
    Option<String>,
);

/// A statement text that lives for the whole run (sqlx 0.9 takes `&'static str` as safe SQL).
fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

/// The statements, leaked once per peer connection.
struct Texts {
    select_key: &'static str,
    load: &'static str,
    insert_1: &'static str,
    insert_100: &'static str,
    update: &'static str,
    join: &'static str,
    assoc_users: &'static str,
    assoc_posts: &'static str,
    bulk: &'static str,
}

/// Rows per statement of the bulk workload on SQLite and MariaDB.
const BULK_CHUNK: usize = 10_000;

fn texts(kind: Kind) -> Texts {
    let sql = Sql::new(kind);
    Texts {
        select_key: leak(sql.select_key),
        load: leak(sql.load),
        insert_1: leak(sql.insert_1),
        insert_100: leak(Sql::insert_rows(kind, "peer_ins", 100)),
        update: leak(sql.update),
        join: leak(sql.join),
        assoc_users: leak(sql.assoc_users),
        assoc_posts: leak(Sql::assoc_posts(kind, JUSERS as usize)),
        bulk: leak(Sql::insert_rows(kind, "peer_bulk", BULK_CHUNK)),
    }
}

async fn pool_sqlite(t: &Target, size: u32) -> Result<Pool<Sqlite>> {
    let opts = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(&t.path)
        .synchronous(sqlx::sqlite::SqliteSynchronous::Normal)
        .busy_timeout(Duration::from_secs(5));
    Ok(PoolOptions::<Sqlite>::new()
        .max_connections(size)
        .connect_with(opts)
        .await?)
}

async fn pool_pg(t: &Target, size: u32) -> Result<Pool<Postgres>> {
    Ok(PoolOptions::<Postgres>::new()
        .max_connections(size)
        .connect(&t.url_with("sslmode=disable"))
        .await?)
}

async fn pool_mysql(t: &Target, size: u32) -> Result<Pool<MySql>> {
    Ok(PoolOptions::<MySql>::new()
        .max_connections(size)
        .connect(&t.url_with("ssl-mode=disabled"))
        .await?)
}

async fn insert_sqlite(
    p: &Pool<Sqlite>,
    sql: &'static str,
    name: String,
    hair: Option<String>,
) -> Result<i64> {
    Ok(sqlx::query(sql)
        .bind(name)
        .bind(hair)
        .execute(p)
        .await?
        .last_insert_rowid())
}

async fn insert_pg(
    p: &Pool<Postgres>,
    sql: &'static str,
    name: String,
    hair: Option<String>,
) -> Result<i64> {
    Ok(sqlx::query_scalar::<_, i64>(sql)
        .bind(name)
        .bind(hair)
        .fetch_one(p)
        .await?)
}

async fn insert_mysql(
    p: &Pool<MySql>,
    sql: &'static str,
    name: String,
    hair: Option<String>,
) -> Result<i64> {
    Ok(sqlx::query(sql)
        .bind(name)
        .bind(hair)
        .execute(p)
        .await?
        .last_insert_id() as i64)
}

async fn bulk_chunks<DB: sqlx::Database>(
    p: &Pool<DB>,
    t: &Texts,
    kind: Kind,
    rows: Vec<(String, Option<String>)>,
) -> Result<u64>
where
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    String: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<String>: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> <DB as sqlx::Database>::Arguments: sqlx::IntoArguments<DB>,
{
    let mut tx = p.begin().await?;
    let mut n = 0;
    for chunk in rows.chunks(BULK_CHUNK) {
        let sql = if chunk.len() == BULK_CHUNK {
            t.bulk
        } else {
            leak(Sql::insert_rows(kind, "peer_bulk", chunk.len()))
        };
        let mut q = sqlx::query::<DB>(sql);
        for (name, hair) in chunk {
            q = q.bind(name.clone()).bind(hair.clone());
        }
        sqlx::Executor::execute(&mut *tx, q).await?;
        n += chunk.len() as u64;
    }
    tx.commit().await?;
    Ok(n)
}

async fn bulk_pg(
    p: &Pool<Postgres>,
    _t: &Texts,
    _kind: Kind,
    rows: Vec<(String, Option<String>)>,
) -> Result<u64> {
    let (names, hairs): (Vec<String>, Vec<Option<String>>) = rows.into_iter().unzip();
    Ok(sqlx::query(
        "INSERT INTO peer_bulk (name, hair_color) SELECT * FROM UNNEST($1::text[], $2::text[])",
    )
    .bind(names)
    .bind(hairs)
    .execute(p)
    .await?
    .rows_affected())
}

macro_rules! sqlx_peer {
    ($name:ident, $pool8:ident, $db:ty, $kind:expr, $connect:ident, $insert:ident, $bulk:expr) => {
        /// sqlx on one backend.
        pub struct $name {
            pool: Pool<$db>,
            t: Texts,
            rows: Vec<(String, Option<String>)>,
            items: Vec<(i64, i64)>,
        }

        impl Peer for $name {
            async fn connect(t: &Target) -> Result<Self> {
                Ok($name {
                    pool: $connect(t, 1).await?,
                    t: texts($kind),
                    rows: Vec::new(),
                    items: Vec::new(),
                })
            }

            async fn prepare(&mut self, w: Work, n: u64) -> Result<()> {
                match w {
                    Work::Insert1 => self.rows = (0..n).map(new_user).collect(),
                    Work::Insert100 => self.rows = (0..100 * n).map(new_user).collect(),
                    Work::Bulk => self.rows = (0..BULK as u64).map(new_user).collect(),
                    Work::VersionedUpdate => {
                        self.items =
                            sqlx::query_as("SELECT id, version FROM peer_items ORDER BY id")
                                .fetch_all(&self.pool)
                                .await?
                    }
                    _ => {}
                }
                Ok(())
            }

            async fn run(&mut self, w: Work, iters: u64) -> Result<u64> {
                let p = &self.pool;
                let t = &self.t;
                let mut seen = 0u64;
                match w {
                    Work::SelectKey => {
                        for i in 0..iters {
                            let u: User = sqlx::query_as(t.select_key)
                                .bind((i as i64 % USERS) + 1)
                                .fetch_one(p)
                                .await?;
                            seen += (u.id > 0) as u64;
                        }
                    }
                    Work::Load100 | Work::Load10k => {
                        let limit: i64 = if w == Work::Load100 { 100 } else { USERS };
                        for _ in 0..iters {
                            let v: Vec<User> =
                                sqlx::query_as(t.load).bind(limit).fetch_all(p).await?;
                            seen += v.len() as u64;
                        }
                    }
                    Work::Insert1 => {
                        for (name, hair) in self.rows.drain(..) {
                            seen += ($insert(p, t.insert_1, name, hair).await? > 0) as u64;
                        }
                    }
                    Work::Insert100 => {
                        while !self.rows.is_empty() {
                            let rest = self.rows.split_off(self.rows.len().saturating_sub(100));
                            let mut q = sqlx::query(t.insert_100);
                            for (name, hair) in rest {
                                q = q.bind(name).bind(hair);
                            }
                            seen += q.execute(p).await?.rows_affected();
                        }
                    }
                    Work::VersionedUpdate => {
                        for i in 0..iters as usize {
                            let item = &mut self.items[i % ITEMS as usize];
                            let n = sqlx::query(t.update)
                                .bind(item.0)
                                .bind(item.1)
                                .execute(p)
                                .await?
                                .rows_affected();
                            if n != 1 {
                                return Err(format!("versioned update matched {n} rows").into());
                            }
                            item.1 += 1;
                            seen += 1;
                        }
                    }
                    Work::Join => {
                        for _ in 0..iters {
                            let v: Vec<(User, Option<Post>)> = sqlx::query_as::<_, JoinRow>(t.join)
                                .bind("black")
                                .fetch_all(p)
                                .await?
                                .into_iter()
                                .map(|(id, name, hair_color, pid, uid, title, body)| {
                                    let post = pid.map(|id| Post {
                                        id,
                                        user_id: uid.unwrap_or_default(),
                                        title: title.unwrap_or_default(),
                                        body,
                                    });
                                    (
                                        User {
                                            id,
                                            name,
                                            hair_color,
                                        },
                                        post,
                                    )
                                })
                                .collect();
                            seen += v.len() as u64;
                        }
                    }
                    Work::Assoc => {
                        for _ in 0..iters {
                            let us: Vec<User> = sqlx::query_as(t.assoc_users).fetch_all(p).await?;
                            let mut q = sqlx::query_as::<_, Post>(t.assoc_posts);
                            for u in &us {
                                q = q.bind(u.id);
                            }
                            let ps: Vec<Post> = q.fetch_all(p).await?;
                            let g = group_by_user(us, ps, |u| u.id, |p| p.user_id);
                            seen += g.iter().map(|(_, p)| p.len() as u64).sum::<u64>();
                        }
                    }
                    Work::Bulk => {
                        seen += $bulk(p, t, $kind, std::mem::take(&mut self.rows)).await?;
                    }
                }
                Ok(seen)
            }
        }

        /// 8 tasks selecting by key on a sqlx pool of 8, with the 1 ms timer probe.
        pub async fn $pool8(tg: &Target) -> Result<PoolSample> {
            let pool = $connect(tg, POOL_TASKS as u32).await?;
            let t = texts($kind);
            let run = PoolRun::start();
            let mut tasks = Vec::new();
            for k in 0..POOL_TASKS as i64 {
                let pool = pool.clone();
                let running = run.flag();
                let sql = t.select_key;
                tasks.push(tokio::spawn(async move {
                    let mut n = 0u64;
                    while running.on() {
                        let id = (k * 1000 + n as i64) % USERS + 1;
                        let r: std::result::Result<User, _> =
                            sqlx::query_as(sql).bind(id).fetch_one(&pool).await;
                        if r.is_ok() {
                            n += 1;
                        }
                    }
                    n
                }));
            }
            let sample = run.finish(tasks).await?;
            pool.close().await;
            Ok(sample)
        }
    };
}

sqlx_peer!(
    SqlxSqlite,
    pool8_sqlite,
    Sqlite,
    Kind::Sqlite,
    pool_sqlite,
    insert_sqlite,
    bulk_chunks::<Sqlite>
);
sqlx_peer!(
    SqlxPg,
    pool8_pg,
    Postgres,
    Kind::Postgres,
    pool_pg,
    insert_pg,
    bulk_pg
);
sqlx_peer!(
    SqlxMySql,
    pool8_mysql,
    MySql,
    Kind::MySql,
    pool_mysql,
    insert_mysql,
    bulk_chunks::<MySql>
);
