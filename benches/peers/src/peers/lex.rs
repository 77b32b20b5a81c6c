//! lexigram-sql: repositories of `#[derive(Entity)]` structs, as a service would use them.

use lexigram_sql::config::DatabaseConfig;
use lexigram_sql::repository::{Filter, Query, asc, col};
use lexigram_sql::{Database, Entity, Repository};

use crate::harness::{POOL_TASKS, Peer, PoolRun, PoolSample, Result, Target};
use crate::work::{BULK, ITEMS, Kind, USERS, Work, new_user};

/// `peer_users`.
#[derive(Debug, Clone, Entity)]
#[entity(table = "peer_users")]
pub struct User {
    #[entity(key, generated)]
    pub id: i64,
    pub name: String,
    pub hair_color: Option<String>,
}

/// `peer_jusers`.
#[derive(Debug, Clone, Entity)]
#[entity(table = "peer_jusers")]
pub struct JUser {
    #[entity(key, generated)]
    pub id: i64,
    pub name: String,
    pub hair_color: Option<String>,
}

/// `peer_posts`.
#[derive(Debug, Clone, Entity)]
#[entity(table = "peer_posts")]
pub struct Post {
    #[entity(key, generated)]
    pub id: i64,
    pub user_id: i64,
    pub title: String,
    pub body: Option<String>,
}

/// `peer_items`, versioned.
#[derive(Debug, Clone, Entity)]
#[entity(table = "peer_items")]
pub struct Item {
    #[entity(key, generated)]
    pub id: i64,
    pub name: String,
    pub n: i64,
    #[entity(version)]
    pub version: i64,
}

/// `peer_ins`, the insert workloads' table.
#[derive(Debug, Clone, Entity)]
#[entity(table = "peer_ins")]
pub struct Ins {
    #[entity(key, generated)]
    pub id: i64,
    pub name: String,
    pub hair_color: Option<String>,
}

/// `peer_bulk`.
#[derive(Debug, Clone, Entity)]
#[entity(table = "peer_bulk")]
pub struct Bulk {
    #[entity(key, generated)]
    pub id: i64,
    pub name: String,
    pub hair_color: Option<String>,
}

/// lexigram-sql's URL for the target (TLS off, as the raw drivers connect).
pub fn url(t: &Target) -> String {
    match t.kind {
        Kind::Sqlite => format!("sqlite:///{}", t.path.display()),
        _ => t.url_with("sslmode=disable"),
    }
}

/// A database with a pool of `size`.
pub async fn database(t: &Target, size: u32) -> Result<Database> {
    let mut settings = DatabaseConfig::from_url(&url(t))?.backends()?.remove(0);
    settings.pool.max_size = size;
    settings.pool.min_size = 1;
    Ok(Database::connect(settings).await?)
}

/// A database and its repositories.
pub struct Lex {
    db: Database,
    users: Repository<User>,
    jusers: Repository<JUser>,
    items: Vec<Item>,
    ins: Vec<Ins>,
    bulk: Vec<Bulk>,
}

impl Peer for Lex {
    async fn connect(t: &Target) -> Result<Self> {
        let db = database(t, 1).await?;
        Ok(Lex {
            users: db.repository(),
            jusers: db.repository(),
            db,
            items: Vec::new(),
            ins: Vec::new(),
            bulk: Vec::new(),
        })
    }

    async fn prepare(&mut self, w: Work, n: u64) -> Result<()> {
        let ins = |i| {
            let (name, hair_color) = new_user(i);
            Ins {
                id: 0,
                name,
                hair_color,
            }
        };
        match w {
            Work::Insert1 => self.ins = (0..n).map(ins).collect(),
            Work::Insert100 => self.ins = (0..100 * n).map(ins).collect(),
            Work::Bulk => {
                self.bulk = (0..BULK as u64)
                    .map(|i| {
                        let (name, hair_color) = new_user(i);
                        Bulk {
                            id: 0,
                            name,
                            hair_color,
                        }
                    })
                    .collect()
            }
            Work::VersionedUpdate => {
                self.items = self
                    .db
                    .repository::<Item>()
                    .find_many(Query::new().order_by(asc("id")))
                    .await?
            }
            _ => {}
        }
        Ok(())
    }

    async fn run(&mut self, w: Work, iters: u64) -> Result<u64> {
        let mut seen = 0u64;
        match w {
            Work::SelectKey => {
                for i in 0..iters {
                    let u = self.users.find_one((i as i64 % USERS) + 1).await?;
                    seen += (u.id > 0) as u64;
                }
            }
            Work::Load100 | Work::Load10k => {
                let limit = if w == Work::Load100 {
                    100
                } else {
                    USERS as u64
                };
                for _ in 0..iters {
                    let v = self
                        .users
                        .find_many(Query::new().order_by(asc("id")).limit(limit))
                        .await?;
                    seen += v.len() as u64;
                }
            }
            Work::Insert1 => {
                let repo = self.db.repository::<Ins>();
                for e in self.ins.drain(..) {
                    seen += (repo.create(e).await?.id > 0) as u64;
                }
            }
            Work::Insert100 => {
                let repo = self.db.repository::<Ins>();
                while !self.ins.is_empty() {
                    let rest = self.ins.split_off(self.ins.len().saturating_sub(100));
                    seen += repo.create_many(rest).await?;
                }
            }
            Work::VersionedUpdate => {
                let repo = self.db.repository::<Item>();
                for i in 0..iters as usize {
                    let item = &mut self.items[i % ITEMS as usize];
                    item.n += 1;
                    repo.update(item).await?;
                    seen += 1;
                }
            }
            Work::Join => {
                for _ in 0..iters {
                    let v = self
                        .jusers
                        .join_on::<Post>("id", "user_id")
                        .filter(col("hair_color").eq("black"))
                        .fetch_left()
                        .await?;
                    seen += v.len() as u64;
                }
            }
            Work::Assoc => {
                for _ in 0..iters {
                    let all = self
                        .jusers
                        .find_many(Query::from(Filter::all()).order_by(asc("id")))
                        .await?;
                    let g = self.jusers.load_related::<Post>(all, "user_id").await?;
                    seen += g.iter().map(|(_, p)| p.len() as u64).sum::<u64>();
                }
            }
            Work::Bulk => {
                let repo = self.db.repository::<Bulk>();
                seen += repo.create_many(std::mem::take(&mut self.bulk)).await?;
            }
        }
        Ok(seen)
    }
}

/// 8 tasks selecting by key on a pool of 8, with the 1 ms timer probe beside them.
pub async fn pool8(t: &Target) -> Result<PoolSample> {
    let db = database(t, POOL_TASKS as u32).await?;
    let run = PoolRun::start();
    let mut tasks = Vec::new();
    for k in 0..POOL_TASKS as i64 {
        let users = db.repository::<User>();
        let running = run.flag();
        tasks.push(tokio::spawn(async move {
            let mut n = 0u64;
            while running.on() {
                let id = (k * 1000 + n as i64) % USERS + 1;
                if users.find_one(id).await.is_ok() {
                    n += 1;
                }
            }
            n
        }));
    }
    let sample = run.finish(tasks).await?;
    db.close().await;
    Ok(sample)
}
