//! The raw driver on SQLite: rusqlite, prepared and cached statements, rows read by index.

use rusqlite::{Connection, params};

use crate::harness::{Peer, Result, Target};
use crate::work::{BULK, ITEMS, JUSERS, Kind, Sql, USERS, Work, group_by_user, new_user};

/// A user row.
#[derive(Debug)]
pub struct User {
    pub id: i64,
    pub name: String,
    pub hair_color: Option<String>,
}

/// A post row.
#[derive(Debug)]
pub struct Post {
    pub id: i64,
    pub user_id: i64,
    pub title: String,
    pub body: Option<String>,
}

fn user(r: &rusqlite::Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        id: r.get(0)?,
        name: r.get(1)?,
        hair_color: r.get(2)?,
    })
}

fn post(r: &rusqlite::Row<'_>, o: usize) -> rusqlite::Result<Post> {
    Ok(Post {
        id: r.get(o)?,
        user_id: r.get(o + 1)?,
        title: r.get(o + 2)?,
        body: r.get(o + 3)?,
    })
}

/// rusqlite on the bench file.
pub struct RawSqlite {
    conn: Connection,
    sql: Sql,
    rows: Vec<(String, Option<String>)>,
    items: Vec<(i64, i64)>,
}

/// Opens a rusqlite connection as the other SQLite peers are set up: WAL (the file's mode),
/// `synchronous = NORMAL`, a busy timeout.
pub fn open(t: &Target) -> Result<Connection> {
    let conn = Connection::open(&t.path)?;
    conn.execute_batch("PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;")?;
    Ok(conn)
}

/// Reads every item's key and version.
pub fn items(conn: &Connection) -> Result<Vec<(i64, i64)>> {
    let mut s = conn.prepare("SELECT id, version FROM peer_items ORDER BY id")?;
    let v = s
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(v)
}

impl Peer for RawSqlite {
    async fn connect(t: &Target) -> Result<Self> {
        Ok(RawSqlite {
            conn: open(t)?,
            sql: Sql::new(Kind::Sqlite),
            rows: Vec::new(),
            items: Vec::new(),
        })
    }

    async fn prepare(&mut self, w: Work, n: u64) -> Result<()> {
        match w {
            Work::Insert1 => self.rows = (0..n).map(new_user).collect(),
            Work::Insert100 => self.rows = (0..100 * n).map(new_user).collect(),
            Work::Bulk => self.rows = (0..BULK as u64).map(new_user).collect(),
            Work::VersionedUpdate => self.items = items(&self.conn)?,
            _ => {}
        }
        Ok(())
    }

    async fn run(&mut self, w: Work, iters: u64) -> Result<u64> {
        let c = &self.conn;
        let mut seen = 0u64;
        match w {
            Work::SelectKey => {
                let mut s = c.prepare_cached(&self.sql.select_key)?;
                for i in 0..iters {
                    let u = s.query_row([(i as i64 % USERS) + 1], user)?;
                    seen += (u.id > 0) as u64;
                }
            }
            Work::Load100 | Work::Load10k => {
                let limit = if w == Work::Load100 { 100 } else { USERS };
                let mut s = c.prepare_cached(&self.sql.load)?;
                for _ in 0..iters {
                    let v = s
                        .query_map([limit], user)?
                        .collect::<rusqlite::Result<Vec<_>>>()?;
                    seen += v.len() as u64;
                }
            }
            Work::Insert1 => {
                let mut s = c.prepare_cached(&self.sql.insert_1)?;
                for (name, hair) in self.rows.drain(..) {
                    s.execute(params![name, hair])?;
                    seen += (c.last_insert_rowid() > 0) as u64;
                }
            }
            Work::Insert100 => {
                let mut s = c.prepare_cached(&Sql::insert_rows(Kind::Sqlite, "peer_ins", 100))?;
                for chunk in self.rows.chunks(100) {
                    let ps: Vec<&dyn rusqlite::ToSql> = chunk
                        .iter()
                        .flat_map(|(n, h)| [n as &dyn rusqlite::ToSql, h as &dyn rusqlite::ToSql])
                        .collect();
                    seen += s.execute(ps.as_slice())? as u64;
                }
            }
            Work::VersionedUpdate => {
                let mut s = c.prepare_cached(&self.sql.update)?;
                for i in 0..iters as usize {
                    let item = &mut self.items[i % ITEMS as usize];
                    let n = s.execute(params![item.0, item.1])?;
                    if n != 1 {
                        return Err(format!("versioned update matched {n} rows").into());
                    }
                    item.1 += 1;
                    seen += 1;
                }
            }
            Work::Join => {
                let mut s = c.prepare_cached(&self.sql.join)?;
                for _ in 0..iters {
                    let v = s
                        .query_map(["black"], |r| {
                            let p: Option<i64> = r.get(3)?;
                            Ok((user(r)?, p.map(|_| post(r, 3)).transpose()?))
                        })?
                        .collect::<rusqlite::Result<Vec<_>>>()?;
                    seen += v.len() as u64;
                }
            }
            Work::Assoc => {
                let posts_sql = Sql::assoc_posts(Kind::Sqlite, JUSERS as usize);
                for _ in 0..iters {
                    let mut s = c.prepare_cached(&self.sql.assoc_users)?;
                    let us = s
                        .query_map([], user)?
                        .collect::<rusqlite::Result<Vec<_>>>()?;
                    let mut s = c.prepare_cached(&posts_sql)?;
                    let ids = us.iter().map(|u| u.id);
                    let ps = s
                        .query_map(rusqlite::params_from_iter(ids), |r| post(r, 0))?
                        .collect::<rusqlite::Result<Vec<_>>>()?;
                    let g = group_by_user(us, ps, |u| u.id, |p| p.user_id);
                    seen += g.iter().map(|(_, p)| p.len() as u64).sum::<u64>();
                }
            }
            Work::Bulk => {
                let tx = self.conn.unchecked_transaction()?;
                {
                    let mut s = tx
                        .prepare_cached("INSERT INTO peer_bulk (name, hair_color) VALUES (?, ?)")?;
                    for (name, hair) in self.rows.drain(..) {
                        seen += s.execute(params![name, hair])? as u64;
                    }
                }
                tx.commit()?;
            }
        }
        Ok(seen)
    }
}

/// 8 OS threads with a connection each, selecting by key; the 1 ms timer probe on the runtime.
pub async fn pool8(t: &Target) -> Result<crate::harness::PoolSample> {
    use crate::harness::{POOL_TASKS, PoolRun};
    let run = PoolRun::start();
    let mut threads = Vec::new();
    for k in 0..POOL_TASKS as i64 {
        let conn = open(t)?;
        let running = run.flag();
        let sql = Sql::new(Kind::Sqlite).select_key;
        threads.push(std::thread::spawn(move || {
            let mut n = 0u64;
            let Ok(mut s) = conn.prepare(&sql) else {
                return 0;
            };
            while running.on() {
                let id = (k * 1000 + n as i64) % USERS + 1;
                if s.query_row([id], user).is_ok() {
                    n += 1;
                }
            }
            n
        }));
    }
    run.finish_threads(threads).await
}
