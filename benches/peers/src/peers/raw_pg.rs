//! The raw driver on PostgreSQL: tokio-postgres, statements prepared once per connection,
//! rows read by index; the bulk workload by binary `COPY`.

use futures::pin_mut;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::{Client, NoTls, Row, Statement};

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

fn user(r: &Row) -> User {
    User {
        id: r.get(0),
        name: r.get(1),
        hair_color: r.get(2),
    }
}

fn post(r: &Row, o: usize) -> Post {
    Post {
        id: r.get(o),
        user_id: r.get(o + 1),
        title: r.get(o + 2),
        body: r.get(o + 3),
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

/// tokio-postgres, one connection, its task on the bench runtime.
pub struct RawPg {
    client: Client,
    st: Stmts,
    rows: Vec<(String, Option<String>)>,
    items: Vec<(i64, i64)>,
}

/// Connects in plain text, spawning the connection task.
pub async fn connect(t: &Target) -> Result<Client> {
    let (client, conn) = tokio_postgres::connect(&t.url_with("sslmode=disable"), NoTls).await?;
    tokio::spawn(conn);
    Ok(client)
}

impl Peer for RawPg {
    async fn connect(t: &Target) -> Result<Self> {
        let client = connect(t).await?;
        let sql = Sql::new(Kind::Postgres);
        let st = Stmts {
            select_key: client.prepare(&sql.select_key).await?,
            load: client.prepare(&sql.load).await?,
            insert_1: client.prepare(&sql.insert_1).await?,
            insert_100: client
                .prepare(&Sql::insert_rows(Kind::Postgres, "peer_ins", 100))
                .await?,
            update: client.prepare(&sql.update).await?,
            join: client.prepare(&sql.join).await?,
            assoc_users: client.prepare(&sql.assoc_users).await?,
            assoc_posts: client
                .prepare(&Sql::assoc_posts(Kind::Postgres, JUSERS as usize))
                .await?,
        };
        Ok(RawPg {
            client,
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
                let rows = self
                    .client
                    .query("SELECT id, version FROM peer_items ORDER BY id", &[])
                    .await?;
                self.items = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
            }
            _ => {}
        }
        Ok(())
    }

    async fn run(&mut self, w: Work, iters: u64) -> Result<u64> {
        let c = &self.client;
        let st = &self.st;
        let mut seen = 0u64;
        match w {
            Work::SelectKey => {
                for i in 0..iters {
                    let id = (i as i64 % USERS) + 1;
                    let u = user(&c.query_one(&st.select_key, &[&id]).await?);
                    seen += (u.id > 0) as u64;
                }
            }
            Work::Load100 | Work::Load10k => {
                let limit: i64 = if w == Work::Load100 { 100 } else { USERS };
                for _ in 0..iters {
                    let v: Vec<User> = c
                        .query(&st.load, &[&limit])
                        .await?
                        .iter()
                        .map(user)
                        .collect();
                    seen += v.len() as u64;
                }
            }
            Work::Insert1 => {
                for (name, hair) in self.rows.drain(..) {
                    let id: i64 = c.query_one(&st.insert_1, &[&name, &hair]).await?.get(0);
                    seen += (id > 0) as u64;
                }
            }
            Work::Insert100 => {
                for chunk in self.rows.chunks(100) {
                    let ps: Vec<&(dyn ToSql + Sync)> = chunk
                        .iter()
                        .flat_map(|(n, h)| [n as &(dyn ToSql + Sync), h as &(dyn ToSql + Sync)])
                        .collect();
                    seen += c.execute(&st.insert_100, &ps).await?;
                }
            }
            Work::VersionedUpdate => {
                for i in 0..iters as usize {
                    let item = &mut self.items[i % ITEMS as usize];
                    let n = c.execute(&st.update, &[&item.0, &item.1]).await?;
                    if n != 1 {
                        return Err(format!("versioned update matched {n} rows").into());
                    }
                    item.1 += 1;
                    seen += 1;
                }
            }
            Work::Join => {
                for _ in 0..iters {
                    let v: Vec<(User, Option<Post>)> = c
                        .query(&st.join, &[&"black"])
                        .await?
                        .iter()
                        .map(|r| {
                            let p: Option<i64> = r.get(3);
                            (user(r), p.map(|_| post(r, 3)))
                        })
                        .collect();
                    seen += v.len() as u64;
                }
            }
            Work::Assoc => {
                for _ in 0..iters {
                    let us: Vec<User> = c
                        .query(&st.assoc_users, &[])
                        .await?
                        .iter()
                        .map(user)
                        .collect();
                    let ids: Vec<i64> = us.iter().map(|u| u.id).collect();
                    let ps: Vec<&(dyn ToSql + Sync)> =
                        ids.iter().map(|i| i as &(dyn ToSql + Sync)).collect();
                    let posts: Vec<Post> = c
                        .query(&st.assoc_posts, &ps)
                        .await?
                        .iter()
                        .map(|r| post(r, 0))
                        .collect();
                    let g = group_by_user(us, posts, |u| u.id, |p| p.user_id);
                    seen += g.iter().map(|(_, p)| p.len() as u64).sum::<u64>();
                }
            }
            Work::Bulk => {
                let sink = c
                    .copy_in("COPY peer_bulk (name, hair_color) FROM STDIN BINARY")
                    .await?;
                let writer = BinaryCopyInWriter::new(sink, &[Type::TEXT, Type::TEXT]);
                pin_mut!(writer);
                for (name, hair) in self.rows.drain(..) {
                    writer.as_mut().write(&[&name, &hair]).await?;
                }
                seen += writer.finish().await?;
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
        let client = connect(t).await?;
        let st = client.prepare(&Sql::new(Kind::Postgres).select_key).await?;
        let running = run.flag();
        tasks.push(tokio::spawn(async move {
            let mut n = 0u64;
            while running.on() {
                let id = (k * 1000 + n as i64) % USERS + 1;
                if client
                    .query_one(&st, &[&id])
                    .await
                    .map(|r| user(&r))
                    .is_ok()
                {
                    n += 1;
                }
            }
            n
        }));
    }
    run.finish(tasks).await
}
