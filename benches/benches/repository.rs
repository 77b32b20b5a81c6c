//! `Repository<E>` against the raw drivers running the same statements, one run:
//! select by key, insert (returning the row), versioned update, find_many of 100 rows and
//! create_many of 10,000 rows.
//!
//! SQLite always; PostgreSQL and MariaDB when `LEX_TEST_POSTGRES_URL` / `LEX_TEST_MYSQL_URL`
//! are set (`scripts/bench.sh -- repository` starts the servers and sets them).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use criterion::{BenchmarkGroup, Criterion, criterion_group, criterion_main};
use lexigram_sql::repository::{Query, asc, col};
use lexigram_sql::{Database, Repository};
use mysql_async::prelude::Queryable;
use tokio::runtime::Runtime;

#[path = "support/clock.rs"]
mod clock;
#[path = "support/fixture.rs"]
mod fixture;
use clock::Clock;
use fixture::{Item, item, rt};

const ROWS: i64 = 1000;
const BULK: i64 = 10_000;

fn group<'a>(c: &'a mut Criterion<Clock>, name: &str) -> BenchmarkGroup<'a, Clock> {
    let mut g = c.benchmark_group(name);
    g.measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1));
    g
}

async fn seed(db: &Database, ddl: &str) -> Repository<Item> {
    db.execute_batch(ddl).await.unwrap();
    let repo = db.repository::<Item>();
    repo.create_many((1..=ROWS).map(item)).await.unwrap();
    repo
}

/// The operations measured, each against its raw peer in the same group.
#[derive(Clone, Copy)]
enum Op {
    SelectByKey,
    Insert,
    UpdateVersioned,
    FindMany100,
    CreateMany10k,
}

/// The lexigram side of a group, identical on each backend; run right after the raw side so
/// both see the same table and the same server state.
fn lexigram(g: &mut BenchmarkGroup<'_, Clock>, op: Op, rt: &Runtime, repo: &Repository<Item>) {
    match op {
        Op::SelectByKey => {
            let mut k = 0i64;
            g.bench_function("lexigram", |b| {
                b.to_async(rt).iter(|| {
                    k = k % ROWS + 1;
                    let repo = repo.clone();
                    async move { repo.find_one(k).await.unwrap() }
                })
            });
        }
        Op::Insert => {
            g.bench_function("lexigram", |b| {
                b.to_async(rt).iter(|| {
                    let repo = repo.clone();
                    async move { repo.create(item(1)).await.unwrap() }
                })
            });
        }
        Op::UpdateVersioned => {
            let mut it = rt.block_on(repo.find_one(1)).unwrap();
            g.bench_function("lexigram", |b| {
                b.iter(|| {
                    it.n += 1;
                    rt.block_on(repo.update(&mut it)).unwrap();
                })
            });
        }
        Op::FindMany100 => {
            g.bench_function("lexigram", |b| {
                b.to_async(rt).iter(|| {
                    let repo = repo.clone();
                    async move {
                        let q = Query::from(col("id").between(101, 200)).order_by(asc("id"));
                        repo.find_many(q).await.unwrap()
                    }
                })
            });
        }
        Op::CreateMany10k => {
            g.bench_function("lexigram", |b| {
                b.to_async(rt).iter(|| {
                    let repo = repo.clone();
                    async move { repo.create_many((0..BULK).map(item)).await.unwrap() }
                })
            });
        }
    }
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
    let repo = rt.block_on(seed(
        &db,
        "CREATE TABLE bench_entity (id INTEGER PRIMARY KEY, name TEXT NOT NULL, n INTEGER NOT NULL, version INTEGER NOT NULL)",
    ));
    let mut raw = rusqlite::Connection::open(&path).unwrap();
    raw.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
    )
    .unwrap();
    let read = |r: &rusqlite::Row<'_>| {
        Ok(Item {
            id: r.get(0)?,
            name: r.get(1)?,
            n: r.get(2)?,
            version: r.get(3)?,
        })
    };

    let mut k = 0i64;
    let mut g = group(c, "sqlite/repo_select_by_key");
    g.bench_function("raw_rusqlite", |b| {
        b.iter(|| {
            k = k % ROWS + 1;
            let mut s = raw
                .prepare_cached(
                    r#"SELECT "id", "name", "n", "version" FROM "bench_entity" WHERE "id" = ?"#,
                )
                .unwrap();
            s.query_row([k], read).unwrap()
        })
    });
    lexigram(&mut g, Op::SelectByKey, &rt, &repo);
    g.finish();
    let mut g = group(c, "sqlite/repo_insert");
    g.bench_function("raw_rusqlite", |b| {
        b.iter(|| {
            let mut s = raw
                .prepare_cached(r#"INSERT INTO "bench_entity" ("name", "n", "version") VALUES (?, ?, ?) RETURNING "id", "name", "n", "version""#)
                .unwrap();
            let it = item(1);
            s.query_row(rusqlite::params![it.name, it.n, 1i64], read).unwrap()
        })
    });
    lexigram(&mut g, Op::Insert, &rt, &repo);
    g.finish();
    let mut g = group(c, "sqlite/repo_update_versioned");
    let mut version: i64 = raw
        .query_row("SELECT version FROM bench_entity WHERE id = 2", [], |r| {
            r.get(0)
        })
        .unwrap();
    g.bench_function("raw_rusqlite", |b| {
        b.iter(|| {
            let mut s = raw
                .prepare_cached(r#"UPDATE "bench_entity" SET "name" = ?, "n" = ?, "version" = "version" + 1 WHERE "id" = ? AND "version" = ?"#)
                .unwrap();
            assert_eq!(s.execute(rusqlite::params!["item 2", 2i64, 2i64, version]).unwrap(), 1);
            version += 1;
        })
    });
    lexigram(&mut g, Op::UpdateVersioned, &rt, &repo);
    g.finish();
    let mut g = group(c, "sqlite/repo_find_many_100");
    g.bench_function("raw_rusqlite", |b| {
        b.iter(|| {
            let mut s = raw
                .prepare_cached(r#"SELECT "id", "name", "n", "version" FROM "bench_entity" WHERE "id" BETWEEN ? AND ? ORDER BY "id""#)
                .unwrap();
            s.query_map([101i64, 200], read).unwrap().collect::<Result<Vec<_>, _>>().unwrap()
        })
    });
    lexigram(&mut g, Op::FindMany100, &rt, &repo);
    g.finish();
    let mut g = group(c, "sqlite/repo_create_many_10k");
    g.sample_size(10);
    g.bench_function("raw_rusqlite", |b| {
        b.iter(|| {
            let tx = raw.transaction().unwrap();
            {
                let mut s = tx
                    .prepare_cached(
                        r#"INSERT INTO "bench_entity" ("name", "n", "version") VALUES (?, ?, ?)"#,
                    )
                    .unwrap();
                for i in 0..BULK {
                    let it = item(i);
                    s.execute(rusqlite::params![it.name, it.n, 1i64]).unwrap();
                }
            }
            tx.commit().unwrap();
        })
    });
    lexigram(&mut g, Op::CreateMany10k, &rt, &repo);
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
    let repo = rt.block_on(seed(
        &db,
        "DROP TABLE IF EXISTS bench_entity; CREATE TABLE bench_entity (id BIGSERIAL PRIMARY KEY, name TEXT NOT NULL, n BIGINT NOT NULL, version BIGINT NOT NULL)",
    ));
    let raw = rt.block_on(async {
        let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(conn);
        client
    });
    let prep = |sql: &str| rt.block_on(raw.prepare(sql)).unwrap();
    let select = prep(r#"SELECT "id", "name", "n", "version" FROM "bench_entity" WHERE "id" = $1"#);
    let insert = prep(
        r#"INSERT INTO "bench_entity" ("name", "n", "version") VALUES ($1, $2, $3) RETURNING "id", "name", "n", "version""#,
    );
    let update = prep(
        r#"UPDATE "bench_entity" SET "name" = $1, "n" = $2, "version" = "version" + 1 WHERE "id" = $3 AND "version" = $4"#,
    );
    let many = prep(
        r#"SELECT "id", "name", "n", "version" FROM "bench_entity" WHERE "id" BETWEEN $1 AND $2 ORDER BY "id""#,
    );
    let read = |r: &tokio_postgres::Row| Item {
        id: r.get(0),
        name: r.get(1),
        n: r.get(2),
        version: r.get(3),
    };

    let mut k = 0i64;
    let mut g = group(c, "postgres/repo_select_by_key");
    g.bench_function("raw_tokio_postgres", |b| {
        b.iter(|| {
            k = k % ROWS + 1;
            read(&rt.block_on(raw.query_one(&select, &[&k])).unwrap())
        })
    });
    lexigram(&mut g, Op::SelectByKey, &rt, &repo);
    g.finish();
    let mut g = group(c, "postgres/repo_insert");
    g.bench_function("raw_tokio_postgres", |b| {
        b.iter(|| {
            let it = item(1);
            read(
                &rt.block_on(raw.query_one(&insert, &[&it.name, &it.n, &1i64]))
                    .unwrap(),
            )
        })
    });
    lexigram(&mut g, Op::Insert, &rt, &repo);
    g.finish();
    let mut g = group(c, "postgres/repo_update_versioned");
    let mut version: i64 = rt
        .block_on(raw.query_one("SELECT version FROM bench_entity WHERE id = 2", &[]))
        .unwrap()
        .get(0);
    g.bench_function("raw_tokio_postgres", |b| {
        b.iter(|| {
            let n = rt
                .block_on(raw.execute(&update, &[&"item 2", &2i64, &2i64, &version]))
                .unwrap();
            assert_eq!(n, 1);
            version += 1;
        })
    });
    lexigram(&mut g, Op::UpdateVersioned, &rt, &repo);
    g.finish();
    let mut g = group(c, "postgres/repo_find_many_100");
    g.bench_function("raw_tokio_postgres", |b| {
        b.iter(|| {
            rt.block_on(raw.query(&many, &[&101i64, &200i64]))
                .unwrap()
                .iter()
                .map(read)
                .collect::<Vec<_>>()
        })
    });
    lexigram(&mut g, Op::FindMany100, &rt, &repo);
    g.finish();
    // create_many's raw peer: one multi-row INSERT of all 10,000 rows (30,000 parameters).
    let mut g = group(c, "postgres/repo_create_many_10k");
    g.sample_size(10);
    g.bench_function("raw_tokio_postgres_multirow", |b| {
        b.iter(|| {
            let mut sql =
                String::from(r#"INSERT INTO "bench_entity" ("name", "n", "version") VALUES "#);
            let items: Vec<Item> = (0..BULK).map(item).collect();
            let mut params: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = Vec::new();
            for (r, it) in items.iter().enumerate() {
                if r > 0 {
                    sql.push_str(", ");
                }
                sql.push_str(&format!("(${}, ${}, ${})", r * 3 + 1, r * 3 + 2, r * 3 + 3));
                let row: [&(dyn tokio_postgres::types::ToSql + Sync); 3] = [&it.name, &it.n, &1i64];
                params.extend(row);
            }
            rt.block_on(raw.execute(sql.as_str(), &params)).unwrap()
        })
    });
    // The other way to load rows into PostgreSQL: binary COPY, measured to decide whether
    // create_many should use it (it reads no generated keys either).
    g.bench_function("raw_tokio_postgres_copy", |b| {
        use tokio_postgres::binary_copy::BinaryCopyInWriter;
        use tokio_postgres::types::Type;
        b.iter(|| {
            rt.block_on(async {
                let sink = raw
                    .copy_in(r#"COPY "bench_entity" ("name", "n", "version") FROM STDIN BINARY"#)
                    .await
                    .unwrap();
                let writer = BinaryCopyInWriter::new(sink, &[Type::TEXT, Type::INT8, Type::INT8]);
                let mut writer = std::pin::pin!(writer);
                for i in 0..BULK {
                    let it = item(i);
                    writer
                        .as_mut()
                        .write(&[&it.name, &it.n, &1i64])
                        .await
                        .unwrap();
                }
                writer.finish().await.unwrap()
            })
        })
    });
    lexigram(&mut g, Op::CreateMany10k, &rt, &repo);
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
    let repo = rt.block_on(seed(
        &db,
        "DROP TABLE IF EXISTS bench_entity; CREATE TABLE bench_entity (id BIGINT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(100) NOT NULL, n BIGINT NOT NULL, version BIGINT NOT NULL)",
    ));
    let opts = mysql_async::Opts::from_url(&url).unwrap();
    let opts: mysql_async::Opts = mysql_async::OptsBuilder::from_opts(opts)
        .prefer_socket(false)
        .client_found_rows(true)
        .into();
    let mut raw = rt.block_on(mysql_async::Conn::new(opts)).unwrap();
    type R = (i64, String, i64, i64);
    let to_item = |(id, name, n, version): R| Item {
        id,
        name,
        n,
        version,
    };

    let mut k = 0i64;
    let mut g = group(c, "mysql/repo_select_by_key");
    g.bench_function("raw_mysql_async", |b| {
        b.iter(|| {
            k = k % ROWS + 1;
            let r: Option<R> = rt
                .block_on(raw.exec_first(
                    "SELECT `id`, `name`, `n`, `version` FROM `bench_entity` WHERE `id` = ?",
                    (k,),
                ))
                .unwrap();
            r.map(to_item).unwrap()
        })
    });
    lexigram(&mut g, Op::SelectByKey, &rt, &repo);
    g.finish();
    let mut g = group(c, "mysql/repo_insert");
    g.bench_function("raw_mysql_async", |b| {
        b.iter(|| {
            let it = item(1);
            let r: Option<R> = rt
                .block_on(raw.exec_first(
                    "INSERT INTO `bench_entity` (`name`, `n`, `version`) VALUES (?, ?, ?) RETURNING `id`, `name`, `n`, `version`",
                    (it.name, it.n, 1i64),
                ))
                .unwrap();
            r.map(to_item).unwrap()
        })
    });
    lexigram(&mut g, Op::Insert, &rt, &repo);
    g.finish();
    let mut g = group(c, "mysql/repo_update_versioned");
    let mut version: i64 = rt
        .block_on(raw.query_first("SELECT version FROM bench_entity WHERE id = 2"))
        .unwrap()
        .unwrap();
    g.bench_function("raw_mysql_async", |b| {
        b.iter(|| {
            rt.block_on(raw.exec_drop(
                "UPDATE `bench_entity` SET `name` = ?, `n` = ?, `version` = `version` + 1 WHERE `id` = ? AND `version` = ?",
                ("item 2", 2i64, 2i64, version),
            ))
            .unwrap();
            assert_eq!(raw.affected_rows(), 1);
            version += 1;
        })
    });
    lexigram(&mut g, Op::UpdateVersioned, &rt, &repo);
    g.finish();
    let mut g = group(c, "mysql/repo_find_many_100");
    g.bench_function("raw_mysql_async", |b| {
        b.iter(|| {
            let rows: Vec<R> = rt
                .block_on(raw.exec(
                    "SELECT `id`, `name`, `n`, `version` FROM `bench_entity` WHERE `id` BETWEEN ? AND ? ORDER BY `id`",
                    (101i64, 200i64),
                ))
                .unwrap();
            rows.into_iter().map(to_item).collect::<Vec<_>>()
        })
    });
    lexigram(&mut g, Op::FindMany100, &rt, &repo);
    g.finish();
    let mut g = group(c, "mysql/repo_create_many_10k");
    g.sample_size(10);
    lexigram(&mut g, Op::CreateMany10k, &rt, &repo);
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().with_measurement(Clock::from_env());
    targets = sqlite, postgres, mysql
}
criterion_main!(benches);

/// The URL with TLS off, as the raw drivers beside it connect (the data layer's default,
/// `prefer`, would encrypt on the TLS-enabled test servers and skew the comparison).
fn plaintext(url: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}sslmode=disable")
}
