//! The workloads, modelled on Diesel's benchmark suite, and the SQL text the raw drivers and
//! sqlx run for them (the same statements the ORMs generate, give or take quoting).

use std::fmt;

/// One workload. Each is timed per operation; `Bulk` is one operation of 100,000 rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Work {
    /// One user by primary key (`peer_users`, 10,000 rows).
    SelectKey,
    /// The first 100 users, in key order.
    Load100,
    /// All 10,000 users, in key order.
    Load10k,
    /// One autocommit `INSERT` of a user, learning its generated key.
    Insert1,
    /// One multi-row `INSERT` of 100 users.
    Insert100,
    /// `UPDATE … SET n = n + 1, version = version + 1 WHERE id = ? AND version = ?`.
    VersionedUpdate,
    /// Diesel's "medium complex query": users LEFT JOIN posts WHERE hair_color = 'black'.
    Join,
    /// Diesel's "loading associations": 100 users, then their 1,000 posts by one `IN` query,
    /// grouped per user.
    Assoc,
    /// 100,000 users inserted in one call (chunked as each peer does best).
    Bulk,
}

impl Work {
    /// Every workload, in report order.
    pub const ALL: [Work; 9] = [
        Work::SelectKey,
        Work::Load100,
        Work::Load10k,
        Work::Insert1,
        Work::Insert100,
        Work::VersionedUpdate,
        Work::Join,
        Work::Assoc,
        Work::Bulk,
    ];

    /// Operations timed per repetition (the server backends take fewer: each is a round trip).
    pub fn iters(self, server: bool) -> u64 {
        let (local, remote) = match self {
            Work::SelectKey => (4000, 1000),
            Work::Load100 => (400, 200),
            Work::Load10k => (8, 6),
            Work::Insert1 => (1000, 400),
            Work::Insert100 => (100, 50),
            Work::VersionedUpdate => (1000, 400),
            Work::Join => (200, 100),
            Work::Assoc => (200, 100),
            Work::Bulk => (1, 1),
        };
        if server { remote } else { local }
    }
}

impl fmt::Display for Work {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Work::SelectKey => "select by key",
            Work::Load100 => "load 100 rows",
            Work::Load10k => "load 10,000 rows",
            Work::Insert1 => "insert 1 (autocommit)",
            Work::Insert100 => "insert 100 (one statement)",
            Work::VersionedUpdate => "versioned update",
            Work::Join => "join (medium complex)",
            Work::Assoc => "loading associations",
            Work::Bulk => "bulk insert 100,000 rows",
        })
    }
}

/// Rows in `peer_users`.
pub const USERS: i64 = 10_000;
/// Users in `peer_jusers` (the join and association workloads).
pub const JUSERS: i64 = 100;
/// Posts per join user.
pub const POSTS_PER_USER: i64 = 10;
/// Rows in `peer_items` (the versioned update).
pub const ITEMS: i64 = 1_000;
/// Rows of the bulk workload.
pub const BULK: usize = 100_000;

/// Which backend a run is against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A SQLite file in WAL mode.
    Sqlite,
    /// PostgreSQL.
    Postgres,
    /// MariaDB / MySQL.
    MySql,
}

impl Kind {
    /// Server backends are timed with fewer iterations.
    pub fn is_server(self) -> bool {
        self != Kind::Sqlite
    }

    /// The n-th (1-based) placeholder.
    pub fn ph(self, n: usize) -> String {
        match self {
            Kind::Postgres => format!("${n}"),
            _ => "?".to_string(),
        }
    }

    /// `count` placeholders from `first`, comma-separated.
    pub fn phs(self, first: usize, count: usize) -> String {
        (first..first + count)
            .map(|i| self.ph(i))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Sqlite => "SQLite",
            Kind::Postgres => "PostgreSQL",
            Kind::MySql => "MariaDB",
        })
    }
}

/// The statements the raw drivers and sqlx run.
pub struct Sql {
    pub select_key: String,
    pub load: String,
    pub insert_1: String,
    pub update: String,
    pub join: String,
    pub assoc_users: String,
}

impl Sql {
    /// The statements for one backend.
    pub fn new(kind: Kind) -> Sql {
        let p = |n| kind.ph(n);
        let returning = if kind == Kind::Postgres {
            " RETURNING id"
        } else {
            ""
        };
        Sql {
            select_key: format!(
                "SELECT id, name, hair_color FROM peer_users WHERE id = {}",
                p(1)
            ),
            load: format!(
                "SELECT id, name, hair_color FROM peer_users ORDER BY id LIMIT {}",
                p(1)
            ),
            insert_1: format!(
                "INSERT INTO peer_ins (name, hair_color) VALUES ({}, {}){returning}",
                p(1),
                p(2)
            ),
            update: format!(
                "UPDATE peer_items SET n = n + 1, version = version + 1 WHERE id = {} AND version = {}",
                p(1),
                p(2)
            ),
            join: format!(
                "SELECT u.id, u.name, u.hair_color, p.id, p.user_id, p.title, p.body FROM peer_jusers u \
                 LEFT JOIN peer_posts p ON p.user_id = u.id WHERE u.hair_color = {}",
                p(1)
            ),
            assoc_users: "SELECT id, name, hair_color FROM peer_jusers ORDER BY id".to_string(),
        }
    }

    /// `SELECT` of the posts of `n` users.
    pub fn assoc_posts(kind: Kind, n: usize) -> String {
        format!(
            "SELECT id, user_id, title, body FROM peer_posts WHERE user_id IN ({})",
            kind.phs(1, n)
        )
    }

    /// A multi-row `INSERT` of `rows` users into `table`.
    pub fn insert_rows(kind: Kind, table: &str, rows: usize) -> String {
        let mut sql = format!("INSERT INTO {table} (name, hair_color) VALUES ");
        for r in 0..rows {
            if r > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("({}, {})", kind.ph(2 * r + 1), kind.ph(2 * r + 2)));
        }
        sql
    }
}

/// The i-th new user's name and hair colour.
pub fn new_user(i: u64) -> (String, Option<String>) {
    (
        format!("user {i}"),
        Some(if i % 2 == 0 { "black" } else { "brown" }.to_string()),
    )
}

/// Groups `(user_id, post)` pairs under the users, in the users' order.
pub fn group_by_user<U, P>(
    users: Vec<U>,
    posts: Vec<P>,
    uid: impl Fn(&U) -> i64,
    pid: impl Fn(&P) -> i64,
) -> Vec<(U, Vec<P>)> {
    let mut by: std::collections::HashMap<i64, Vec<P>> =
        std::collections::HashMap::with_capacity(users.len());
    for p in posts {
        by.entry(pid(&p)).or_default().push(p);
    }
    users
        .into_iter()
        .map(|u| {
            let ps = by.remove(&uid(&u)).unwrap_or_default();
            (u, ps)
        })
        .collect()
}
