//! SeaORM 2 (on sqlx), through its pool (of 1 for the single-connection workloads), with the
//! entities and relations written as SeaORM's documentation shows.

use std::time::Duration;

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectOptions, Database, DatabaseConnection, EntityTrait,
    LoaderTrait, QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};

use crate::harness::{POOL_TASKS, Peer, PoolRun, PoolSample, Result, Target};
use crate::work::{BULK, ITEMS, Kind, USERS, Work, new_user};

macro_rules! user_entity {
    ($module:ident, $table:literal) => {
        /// A user-shaped table.
        pub mod $module {
            use sea_orm::entity::prelude::*;

            /// One row.
            #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
            #[sea_orm(table_name = $table)]
            pub struct Model {
                #[sea_orm(primary_key)]
                pub id: i64,
                pub name: String,
                pub hair_color: Option<String>,
            }

            /// No relations.
            #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
            pub enum Relation {}

            impl ActiveModelBehavior for ActiveModel {}
        }
    };
}

user_entity!(user, "peer_users");
user_entity!(ins, "peer_ins");
user_entity!(bulk, "peer_bulk");

/// `peer_jusers`, which has many posts.
pub mod juser {
    use sea_orm::entity::prelude::*;

    /// One row.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "peer_jusers")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub name: String,
        pub hair_color: Option<String>,
    }

    /// Its posts.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(has_many = "super::post::Entity")]
        Post,
    }

    impl Related<super::post::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Post.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

/// `peer_posts`, which belong to a join user.
pub mod post {
    use sea_orm::entity::prelude::*;

    /// One row.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "peer_posts")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub user_id: i64,
        pub title: String,
        pub body: Option<String>,
    }

    /// Its user.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(
            belongs_to = "super::juser::Entity",
            from = "Column::UserId",
            to = "super::juser::Column::Id"
        )]
        JUser,
    }

    impl Related<super::juser::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::JUser.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

/// `peer_items`, versioned.
pub mod item {
    use sea_orm::entity::prelude::*;

    /// One row.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "peer_items")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub name: String,
        pub n: i64,
        pub version: i64,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Rows per statement of the bulk workload.
const BULK_CHUNK: usize = 10_000;

async fn connect_pool(t: &Target, size: u32) -> Result<DatabaseConnection> {
    let url = match t.kind {
        Kind::Sqlite => format!("sqlite://{}?mode=rwc", t.path.display()),
        Kind::Postgres => t.url_with("sslmode=disable"),
        Kind::MySql => t.url_with("ssl-mode=disabled"),
    };
    let mut opts = ConnectOptions::new(url);
    opts.max_connections(size)
        .min_connections(1)
        .sqlx_logging(false);
    if t.kind == Kind::Sqlite {
        opts.map_sqlx_sqlite_opts(|o| {
            o.synchronous(sqlx::sqlite::SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(5))
        });
    }
    Ok(Database::connect(opts).await?)
}

fn user_am<A: Default>(i: u64, make: impl Fn(String, Option<String>) -> A) -> A {
    let (name, hair) = new_user(i);
    make(name, hair)
}

/// SeaORM on any backend.
pub struct SeaOrm {
    db: DatabaseConnection,
    ins: Vec<ins::ActiveModel>,
    bulk: Vec<bulk::ActiveModel>,
    items: Vec<(i64, i64)>,
}

impl Peer for SeaOrm {
    async fn connect(t: &Target) -> Result<Self> {
        Ok(SeaOrm {
            db: connect_pool(t, 1).await?,
            ins: Vec::new(),
            bulk: Vec::new(),
            items: Vec::new(),
        })
    }

    async fn prepare(&mut self, w: Work, n: u64) -> Result<()> {
        let ins = |i| {
            user_am(i, |name, hair| ins::ActiveModel {
                name: Set(name),
                hair_color: Set(hair),
                ..Default::default()
            })
        };
        match w {
            Work::Insert1 => self.ins = (0..n).map(ins).collect(),
            Work::Insert100 => self.ins = (0..100 * n).map(ins).collect(),
            Work::Bulk => {
                self.bulk = (0..BULK as u64)
                    .map(|i| {
                        user_am(i, |name, hair| bulk::ActiveModel {
                            name: Set(name),
                            hair_color: Set(hair),
                            ..Default::default()
                        })
                    })
                    .collect()
            }
            Work::VersionedUpdate => {
                self.items = item::Entity::find()
                    .order_by_asc(item::Column::Id)
                    .all(&self.db)
                    .await?
                    .into_iter()
                    .map(|m| (m.id, m.version))
                    .collect()
            }
            _ => {}
        }
        Ok(())
    }

    async fn run(&mut self, w: Work, iters: u64) -> Result<u64> {
        let db = &self.db;
        let mut seen = 0u64;
        match w {
            Work::SelectKey => {
                for i in 0..iters {
                    let u = user::Entity::find_by_id((i as i64 % USERS) + 1)
                        .one(db)
                        .await?;
                    seen += u.is_some() as u64;
                }
            }
            Work::Load100 | Work::Load10k => {
                let limit = if w == Work::Load100 {
                    100
                } else {
                    USERS as u64
                };
                for _ in 0..iters {
                    let v = user::Entity::find()
                        .order_by_asc(user::Column::Id)
                        .limit(limit)
                        .all(db)
                        .await?;
                    seen += v.len() as u64;
                }
            }
            Work::Insert1 => {
                for am in self.ins.drain(..) {
                    let r = ins::Entity::insert(am).exec(db).await?;
                    seen += (r.last_insert_id > 0) as u64;
                }
            }
            Work::Insert100 => {
                while !self.ins.is_empty() {
                    let rest = self.ins.split_off(self.ins.len().saturating_sub(100));
                    ins::Entity::insert_many(rest).exec(db).await?;
                    seen += 100;
                }
            }
            Work::VersionedUpdate => {
                for i in 0..iters as usize {
                    let it = &mut self.items[i % ITEMS as usize];
                    let n = item::Entity::update_many()
                        .col_expr(item::Column::N, Expr::col(item::Column::N).add(1))
                        .col_expr(
                            item::Column::Version,
                            Expr::col(item::Column::Version).add(1),
                        )
                        .filter(item::Column::Id.eq(it.0))
                        .filter(item::Column::Version.eq(it.1))
                        .exec(db)
                        .await?
                        .rows_affected;
                    if n != 1 {
                        return Err(format!("versioned update matched {n} rows").into());
                    }
                    it.1 += 1;
                    seen += 1;
                }
            }
            Work::Join => {
                for _ in 0..iters {
                    let v = juser::Entity::find()
                        .find_also_related(post::Entity)
                        .filter(juser::Column::HairColor.eq("black"))
                        .all(db)
                        .await?;
                    seen += v.len() as u64;
                }
            }
            Work::Assoc => {
                for _ in 0..iters {
                    let us = juser::Entity::find()
                        .order_by_asc(juser::Column::Id)
                        .all(db)
                        .await?;
                    let ps = us.load_many(post::Entity, db).await?;
                    let g: Vec<(juser::Model, Vec<post::Model>)> = us.into_iter().zip(ps).collect();
                    seen += g.iter().map(|(_, p)| p.len() as u64).sum::<u64>();
                }
            }
            Work::Bulk => {
                let rows = std::mem::take(&mut self.bulk);
                let txn = db.begin().await?;
                let mut rows = rows.into_iter();
                loop {
                    let chunk: Vec<bulk::ActiveModel> = rows.by_ref().take(BULK_CHUNK).collect();
                    if chunk.is_empty() {
                        break;
                    }
                    seen += chunk.len() as u64;
                    bulk::Entity::insert_many(chunk).exec(&txn).await?;
                }
                txn.commit().await?;
            }
        }
        Ok(seen)
    }
}

/// 8 tasks selecting by key on a SeaORM pool of 8, with the 1 ms timer probe.
pub async fn pool8(t: &Target) -> Result<PoolSample> {
    let db = connect_pool(t, POOL_TASKS as u32).await?;
    let run = PoolRun::start();
    let mut tasks = Vec::new();
    for k in 0..POOL_TASKS as i64 {
        let db = db.clone();
        let running = run.flag();
        tasks.push(tokio::spawn(async move {
            let mut n = 0u64;
            while running.on() {
                let id = (k * 1000 + n as i64) % USERS + 1;
                if let Ok(Some(_)) = user::Entity::find_by_id(id).one(&db).await {
                    n += 1;
                }
            }
            n
        }));
    }
    run.finish(tasks).await
}
