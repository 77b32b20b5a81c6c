//! Diesel 2 (synchronous: libsqlite3, libpq, libmysqlclient), one connection, as Diesel's own
//! benchmarks use it; the pool workload with r2d2.

use diesel::prelude::*;
use diesel::r2d2::{ConnectionManager, Pool};

use super::diesel_models::schema::*;
use super::diesel_models::*;
use crate::harness::{POOL_TASKS, Peer, PoolRun, PoolSample, Result, Target};
use crate::work::{BULK, ITEMS, Kind, USERS, Work};

/// Diesel's URL for the target (TLS off).
pub fn url(t: &Target) -> String {
    match t.kind {
        Kind::Sqlite => t.path.display().to_string(),
        Kind::Postgres => t.url_with("sslmode=disable"),
        Kind::MySql => t.url_with("ssl_mode=DISABLED"),
    }
}

/// Inserting one row and learning its key, as each backend allows.
pub trait InsertOne {
    /// Inserts `row`; returns its key (MySQL: Diesel has no API for `LAST_INSERT_ID()` short
    /// of a second query, so it returns the affected row count).
    fn insert_one(&mut self, row: &NewIns) -> QueryResult<i64>;
}

impl InsertOne for SqliteConnection {
    fn insert_one(&mut self, row: &NewIns) -> QueryResult<i64> {
        diesel::insert_into(peer_ins::table)
            .values(row)
            .returning(peer_ins::id)
            .get_result(self)
    }
}

impl InsertOne for PgConnection {
    fn insert_one(&mut self, row: &NewIns) -> QueryResult<i64> {
        diesel::insert_into(peer_ins::table)
            .values(row)
            .returning(peer_ins::id)
            .get_result(self)
    }
}

impl InsertOne for MysqlConnection {
    fn insert_one(&mut self, row: &NewIns) -> QueryResult<i64> {
        diesel::insert_into(peer_ins::table)
            .values(row)
            .execute(self)
            .map(|n| n as i64)
    }
}

macro_rules! diesel_peer {
    ($name:ident, $conn:ty) => {
        /// Diesel on one backend.
        pub struct $name {
            conn: $conn,
            ins: Vec<NewIns>,
            bulk: Vec<NewBulk>,
            items: Vec<(i64, i64)>,
        }

        impl Peer for $name {
            async fn connect(t: &Target) -> Result<Self> {
                let mut conn = <$conn>::establish(&url(t))?;
                if t.kind == Kind::Sqlite {
                    diesel::connection::SimpleConnection::batch_execute(
                        &mut conn,
                        "PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;",
                    )?;
                }
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
                            .load(&mut self.conn)?
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
                                .first(c)?;
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
                                .load(c)?;
                            seen += v.len() as u64;
                        }
                    }
                    Work::Insert1 => {
                        for row in self.ins.drain(..) {
                            seen += (c.insert_one(&row)? > 0) as u64;
                        }
                    }
                    Work::Insert100 => {
                        for chunk in self.ins.chunks(100) {
                            seen += diesel::insert_into(peer_ins::table)
                                .values(chunk)
                                .execute(c)? as u64;
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
                            .execute(c)?;
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
                                .load(c)?;
                            seen += v.len() as u64;
                        }
                    }
                    Work::Assoc => {
                        for _ in 0..iters {
                            let us: Vec<JUser> = peer_jusers::table
                                .select(JUser::as_select())
                                .order(peer_jusers::id)
                                .load(c)?;
                            let ps: Vec<Post> =
                                Post::belonging_to(&us).select(Post::as_select()).load(c)?;
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
                        let rows = std::mem::take(&mut self.bulk);
                        seen += c.transaction(|c| {
                            let mut n = 0u64;
                            for chunk in rows.chunks(BULK_CHUNK) {
                                n += diesel::insert_into(peer_bulk::table)
                                    .values(chunk)
                                    .execute(c)? as u64;
                            }
                            Ok::<_, diesel::result::Error>(n)
                        })?;
                    }
                }
                Ok(seen)
            }
        }
    };
}

diesel_peer!(DieselSqlite, SqliteConnection);
diesel_peer!(DieselPg, PgConnection);
diesel_peer!(DieselMySql, MysqlConnection);

macro_rules! diesel_pool8 {
    ($fn:ident, $conn:ty) => {
        /// 8 OS threads selecting by key on an r2d2 pool of 8, the 1 ms timer probe on the runtime.
        pub async fn $fn(t: &Target) -> Result<PoolSample> {
            let pool = Pool::builder()
                .max_size(POOL_TASKS as u32)
                .build(ConnectionManager::<$conn>::new(url(t)))?;
            let run = PoolRun::start();
            let mut threads = Vec::new();
            for k in 0..POOL_TASKS as i64 {
                let pool = pool.clone();
                let running = run.flag();
                threads.push(std::thread::spawn(move || {
                    let mut n = 0u64;
                    while running.on() {
                        let id = (k * 1000 + n as i64) % USERS + 1;
                        let Ok(mut c) = pool.get() else { continue };
                        let r: QueryResult<User> = peer_users::table
                            .find(id)
                            .select(User::as_select())
                            .first(&mut *c);
                        if r.is_ok() {
                            n += 1;
                        }
                    }
                    n
                }));
            }
            run.finish_threads(threads).await
        }
    };
}

diesel_pool8!(pool8_sqlite, SqliteConnection);
diesel_pool8!(pool8_pg, PgConnection);
diesel_pool8!(pool8_mysql, MysqlConnection);
