//! The raw driver on MariaDB: mysql_async, statements prepared once per connection, rows
//! read as tuples; the bulk workload as multi-row `INSERT`s of 10,000 rows in one transaction.

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Opts, Statement, TxOpts, Value};

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

type UserRow = (i64, String, Option<String>);
type PostRow = (i64, i64, String, Option<String>);

fn user((id, name, hair_color): UserRow) -> User {
    User {
        id,
        name,
        hair_color,
    }
}

fn post((id, user_id, title, body): PostRow) -> Post {
    Post {
        id,
        user_id,
        title,
        body,
    }
}

struct Stmts {
    select_key: Statement,
    load: Statement,
    insert_1: Statement,
    insert_100: Statement,
    update: Statement,
    join: Statement,
    assoc_users: Statement,
    assoc_posts: Statement,
}

/// mysql_async, one connection.
pub struct RawMySql {
    conn: Conn,
    st: Stmts,
    rows: Vec<(String, Option<String>)>,
    items: Vec<(i64, i64)>,
}

/// Rows per statement of the bulk workload.
pub const BULK_CHUNK: usize = 10_000;

impl Peer for RawMySql {
    async fn connect(t: &Target) -> Result<Self> {
        let mut conn = Conn::new(Opts::from_url(&t.url)?).await?;
        let sql = Sql::new(Kind::MySql);
        let st = Stmts {
            select_key: conn.prep(&sql.select_key).await?,
            load: conn.prep(&sql.load).await?,
            insert_1: conn.prep(&sql.insert_1).await?,
            insert_100: conn
                .prep(Sql::insert_rows(Kind::MySql, "peer_ins", 100))
                .await?,
            update: conn.prep(&sql.update).await?,
            join: conn.prep(&sql.join).await?,
            assoc_users: conn.prep(&sql.assoc_users).await?,
            assoc_posts: conn
                .prep(Sql::assoc_posts(Kind::MySql, JUSERS as usize))
                .await?,
        };
        Ok(RawMySql {
            conn,
            st,
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
                self.items = self
                    .conn
                    .query("SELECT id, version FROM peer_items ORDER BY id")
                    .await?;
            }
            _ => {}
        }
        Ok(())
    }

    async fn run(&mut self, w: Work, iters: u64) -> Result<u64> {
        let c = &mut self.conn;
        let st = &self.st;
        let mut seen = 0u64;
        match w {
            Work::SelectKey => {
                for i in 0..iters {
                    let id = (i as i64 % USERS) + 1;
                    let u = c
                        .exec_first::<UserRow, _, _>(&st.select_key, (id,))
                        .await?
                        .map(user);
                    seen += u.is_some() as u64;
                }
            }
            Work::Load100 | Work::Load10k => {
                let limit: i64 = if w == Work::Load100 { 100 } else { USERS };
                for _ in 0..iters {
                    let v: Vec<User> = c.exec_map(&st.load, (limit,), user).await?;
                    seen += v.len() as u64;
                }
            }
            Work::Insert1 => {
                for (name, hair) in self.rows.drain(..) {
                    c.exec_drop(&st.insert_1, (name, hair)).await?;
                    seen += c.last_insert_id().is_some() as u64;
                }
            }
            Work::Insert100 => {
                for chunk in self.rows.chunks(100) {
                    let ps: Vec<Value> = chunk
                        .iter()
                        .flat_map(|(n, h)| [Value::from(n.as_str()), Value::from(h.as_deref())])
                        .collect();
                    c.exec_drop(&st.insert_100, ps).await?;
                    seen += c.affected_rows();
                }
            }
            Work::VersionedUpdate => {
                for i in 0..iters as usize {
                    let item = &mut self.items[i % ITEMS as usize];
                    c.exec_drop(&st.update, (item.0, item.1)).await?;
                    if c.affected_rows() != 1 {
                        return Err("versioned update matched no row".into());
                    }
                    item.1 += 1;
                    seen += 1;
                }
            }
            Work::Join => {
                for _ in 0..iters {
                    type J = (
                        i64,
                        String,
                        Option<String>,
                        Option<i64>,
                        Option<i64>,
                        Option<String>,
                        Option<String>,
                    );
                    let v: Vec<(User, Option<Post>)> = c
                        .exec_map(
                            &st.join,
                            ("black",),
                            |(id, name, hair, pid, uid, title, body): J| {
                                let p = pid.map(|pid| Post {
                                    id: pid,
                                    user_id: uid.unwrap_or_default(),
                                    title: title.unwrap_or_default(),
                                    body,
                                });
                                (
                                    User {
                                        id,
                                        name,
                                        hair_color: hair,
                                    },
                                    p,
                                )
                            },
                        )
                        .await?;
                    seen += v.len() as u64;
                }
            }
            Work::Assoc => {
                for _ in 0..iters {
                    let us: Vec<User> = c.exec_map(&st.assoc_users, (), user).await?;
                    let ids: Vec<Value> = us.iter().map(|u| Value::from(u.id)).collect();
                    let ps: Vec<Post> = c.exec_map(&st.assoc_posts, ids, post).await?;
                    let g = group_by_user(us, ps, |u| u.id, |p| p.user_id);
                    seen += g.iter().map(|(_, p)| p.len() as u64).sum::<u64>();
                }
            }
            Work::Bulk => {
                let sql = Sql::insert_rows(Kind::MySql, "peer_bulk", BULK_CHUNK);
                let mut tx = c.start_transaction(TxOpts::default()).await?;
                let stmt = tx.prep(&sql).await?;
                for chunk in self.rows.chunks(BULK_CHUNK) {
                    let ps: Vec<Value> = chunk
                        .iter()
                        .flat_map(|(n, h)| [Value::from(n.as_str()), Value::from(h.as_deref())])
                        .collect();
                    if chunk.len() == BULK_CHUNK {
                        tx.exec_drop(&stmt, ps).await?;
                    } else {
                        tx.exec_drop(Sql::insert_rows(Kind::MySql, "peer_bulk", chunk.len()), ps)
                            .await?;
                    }
                    seen += tx.affected_rows();
                }
                tx.commit().await?;
                self.rows.clear();
            }
        }
        Ok(seen)
    }
}

/// 8 tasks with a connection each, selecting by key; the 1 ms timer probe beside them.
pub async fn pool8(t: &Target) -> Result<crate::harness::PoolSample> {
    use crate::harness::{POOL_TASKS, PoolRun};
    let run = PoolRun::start();
    let mut tasks = Vec::new();
    for k in 0..POOL_TASKS as i64 {
        let mut conn = Conn::new(Opts::from_url(&t.url)?).await?;
        let st = conn.prep(Sql::new(Kind::MySql).select_key).await?;
        let running = run.flag();
        tasks.push(tokio::spawn(async move {
            let mut n = 0u64;
            while running.on() {
                let id = (k * 1000 + n as i64) % USERS + 1;
                if let Ok(Some(_)) = conn.exec_first::<UserRow, _, _>(&st, (id,)).await {
                    n += 1;
                }
            }
            n
        }));
    }
    run.finish(tasks).await
}
