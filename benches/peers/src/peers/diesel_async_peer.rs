//! diesel-async (pure-Rust tokio-postgres and mysql_async underneath), one connection; the
//! pool workload with its deadpool integration. PostgreSQL and MariaDB only.

use diesel::prelude::*;
use diesel_async::pooled_connection::AsyncDieselConnectionManager;
use diesel_async::pooled_connection::deadpool::Pool;
use diesel_async::{AsyncConnection, AsyncMysqlConnection, AsyncPgConnection, RunQueryDsl};

use super::diesel_models::schema::*;
use super::diesel_models::*;
use crate::harness::{POOL_TASKS, Peer, PoolRun, PoolSample, Result, Target};
use crate::work::{BULK, ITEMS, Kind, USERS, Work};

/// diesel-async's URL for the target: TLS off (tokio-postgres takes `sslmode`; mysql_async
/// without TLS support takes no parameter).
fn url(t: &Target) -> String {
    match t.kind {
        Kind::Postgres => t.url_with("sslmode=disable"),
        _ => t.url.clone(),
    }
}

/// Inserts one row and returns its key (`RETURNING`).
async fn insert_pg(c: &mut AsyncPgConnection, row: &NewIns) -> QueryResult<i64> {
    diesel::insert_into(peer_ins::table)
        .values(row)
        .returning(peer_ins::id)
        .get_result(c)
        .await
}

/// Inserts one row; diesel-async has no `LAST_INSERT_ID()` API short of a second query, so
/// this returns the affected row count.
async fn insert_mysql(c: &mut AsyncMysqlConnection, row: &NewIns) -> QueryResult<i64> {
    diesel::insert_into(peer_ins::table)
        .values(row)
        .execute(c)
        .await
        .map(|n| n as i64)
}

macro_rules! diesel_async_peer {
    ($name:ident, $pool8:ident, $conn:ty, $insert_one:ident) => {
        /// diesel-async on one backend.
        pub struct $name {
            conn: $conn,
            ins: Vec<NewIns>,
            bulk: Vec<NewBulk>,
            items: Vec<(i64, i64)>,
        }

        impl Peer for $name {
            async fn connect(t: &Target) -> Result<Self> {
                let conn = <$conn>::establish(&url(t)).await?;
                Ok($name {
                    conn,
                    ins: Vec::new(),
                    bulk: Vec::new(),
                    items: Vec::new(),
                })
            }

            async fn prepare(&mut self, w: Work, n: u64) -> Result<()> {
                match w {
                    Work::Insert1 => self.ins = (0..n).map(new_ins).collect(),
                    Work::Insert100 => self.ins = (0..100 * n).map(new_ins).collect(),
                    Work::Bulk => self.bulk = (0..BULK as u64).map(new_bulk).collect(),
                    Work::VersionedUpdate => {
                        self.items = peer_items::table
                            .select((peer_items::id, peer_items::version))
                            .order(peer_items::id)
                            .load(&mut self.conn)
                            .await?
                    }
                    _ => {}
                }
                Ok(())
            }

            async fn run(&mut self, w: Work, iters: u64) -> Result<u64> {
                let c = &mut self.conn;
                let mut seen = 0u64;
                match w {
                    Work::SelectKey => {
                        for i in 0..iters {
                            let u: User = peer_users::table
                                .find((i as i64 % USERS) + 1)
                                .select(User::as_select())
                                .first(c)
                                .await?;
                            seen += (u.id > 0) as u64;
                        }
                    }
                    Work::Load100 | Work::Load10k => {
                        let limit = if w == Work::Load100 { 100 } else { USERS };
                        for _ in 0..iters {
                            let v: Vec<User> = peer_users::table
                                .select(User::as_select())
                                .order(peer_users::id)
                                .limit(limit)
                                .load(c)
                                .await?;
                            seen += v.len() as u64;
                        }
                    }
                    Work::Insert1 => {
                        for row in self.ins.drain(..) {
                            seen += ($insert_one(c, &row).await? > 0) as u64;
                        }
                    }
                    Work::Insert100 => {
                        for chunk in self.ins.chunks(100) {
                            seen += diesel::insert_into(peer_ins::table)
                                .values(chunk)
                                .execute(c)
                                .await? as u64;
                        }
                    }
                    Work::VersionedUpdate => {
                        for i in 0..iters as usize {
                            let item = &mut self.items[i % ITEMS as usize];
                            let n = diesel::update(
                                peer_items::table
                                    .filter(peer_items::id.eq(item.0))
                                    .filter(peer_items::version.eq(item.1)),
                            )
                            .set((
                                peer_items::n.eq(peer_items::n + 1),
                                peer_items::version.eq(peer_items::version + 1),
                            ))
                            .execute(c)
                            .await?;
                            if n != 1 {
                                return Err(format!("versioned update matched {n} rows").into());
                            }
                            item.1 += 1;
                            seen += 1;
                        }
                    }
                    Work::Join => {
                        for _ in 0..iters {
                            let v: Vec<(JUser, Option<Post>)> = peer_jusers::table
                                .left_join(peer_posts::table)
                                .filter(peer_jusers::hair_color.eq("black"))
                                .select((JUser::as_select(), Option::<Post>::as_select()))
                                .load(c)
                                .await?;
                            seen += v.len() as u64;
                        }
                    }
                    Work::Assoc => {
                        for _ in 0..iters {
                            let us: Vec<JUser> = peer_jusers::table
                                .select(JUser::as_select())
                                .order(peer_jusers::id)
                                .load(c)
                                .await?;
                            let ps: Vec<Post> = Post::belonging_to(&us)
                                .select(Post::as_select())
                                .load(c)
                                .await?;
                            let g: Vec<(JUser, Vec<Post>)> = ps
                                .grouped_by(&us)
                                .into_iter()
                                .zip(us)
                                .map(|(p, u)| (u, p))
                                .collect();
                            seen += g.iter().map(|(_, p)| p.len() as u64).sum::<u64>();
                        }
                    }
                    Work::Bulk => {
                        // One statement per chunk in autocommit: diesel-async's transaction API
                        // needs a boxed scoped closure; 10 commits cost little next to 100k rows.
                        let rows = std::mem::take(&mut self.bulk);
                        for chunk in rows.chunks(BULK_CHUNK) {
                            seen += diesel::insert_into(peer_bulk::table)
                                .values(chunk)
                                .execute(c)
                                .await? as u64;
                        }
                    }
                }
                Ok(seen)
            }
        }

        /// 8 tasks selecting by key on a deadpool of 8, with the 1 ms timer probe.
        pub async fn $pool8(t: &Target) -> Result<PoolSample> {
            let mgr = AsyncDieselConnectionManager::<$conn>::new(url(t));
            let pool = Pool::builder(mgr).max_size(POOL_TASKS).build()?;
            let run = PoolRun::start();
            let mut tasks = Vec::new();
            for k in 0..POOL_TASKS as i64 {
                let pool = pool.clone();
                let running = run.flag();
                tasks.push(tokio::spawn(async move {
                    let mut n = 0u64;
                    while running.on() {
                        let id = (k * 1000 + n as i64) % USERS + 1;
                        let Ok(mut c) = pool.get().await else {
                            continue;
                        };
                        let r: QueryResult<User> = peer_users::table
                            .find(id)
                            .select(User::as_select())
                            .first(&mut *c)
                            .await;
                        if r.is_ok() {
                            n += 1;
                        }
                    }
                    n
                }));
            }
            run.finish(tasks).await
        }
    };
}

diesel_async_peer!(DieselAsyncPg, pool8_pg, AsyncPgConnection, insert_pg);
diesel_async_peer!(
    DieselAsyncMySql,
    pool8_mysql,
    AsyncMysqlConnection,
    insert_mysql
);
