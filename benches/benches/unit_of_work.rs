//! A unit of work with 10 inserts against the raw driver doing the same 10 statements in one
//! transaction, one run per backend.
//!
//! Two lexigram forms: `register_new` ×10 then `commit()` (change tracking flushes the inserts),
//! and `repository().create()` ×10 inside the unit then `commit()`. The raw peer runs the
//! statement `create` generates (`INSERT … RETURNING` the row) between `BEGIN` and `COMMIT`
//! (SQLite: `BEGIN IMMEDIATE`, as the unit does).
//!
//! SQLite always; PostgreSQL and MariaDB when `LEX_TEST_POSTGRES_URL` / `LEX_TEST_MYSQL_URL`
//! are set (`scripts/bench.sh --bench unit_of_work` starts the servers and sets them).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use criterion::{BenchmarkGroup, Criterion, criterion_group, criterion_main};
use lexigram_sql::Database;
use mysql_async::prelude::Queryable;
use tokio::runtime::Runtime;

#[path = "support/clock.rs"]
mod clock;
#[path = "support/fixture.rs"]
mod fixture;
use clock::Clock;
use fixture::{Item, item, rt};

const INSERTS: i64 = 10;

fn group<'a>(c: &'a mut Criterion<Clock>, backend: &str) -> BenchmarkGroup<'a, Clock> {
    let mut g = c.benchmark_group(format!("{backend}/uow_10_inserts"));
    g.measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1));
    g
}

/// Both lexigram forms, identical on each backend.
fn lexigram_side(g: &mut BenchmarkGroup<'_, Clock>, rt: &Runtime, db: &Database) {
    g.bench_function("lexigram_register_new", |b| {
        b.to_async(rt).iter(|| {
            let db = db.clone();
            async move {
                let mut uow = db.unit_of_work().await.unwrap();
                for i in 0..INSERTS {
                    uow.register_new(item(i));
                }
                uow.commit().await.unwrap();
            }
        })
    });
    g.bench_function("lexigram_repository", |b| {
        b.to_async(rt).iter(|| {
            let db = db.clone();
            async move {
                let mut uow = db.unit_of_work().await.unwrap();
                let items = uow.repository::<Item>();
                for i in 0..INSERTS {
                    items.create(item(i)).await.unwrap();
                }
                uow.commit().await.unwrap();
            }
        })
    });
}

async fn connect(url: &str, ddl: &str) -> Database {
    let db = Database::connect_url(url).await.unwrap();
    db.execute_batch(ddl).await.unwrap();
    // The first unit creates the outbox table; do it before measuring.
    db.unit_of_work().await.unwrap().commit().await.unwrap();
    db
}

fn sqlite(c: &mut Criterion<Clock>) {
    let rt = rt();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bench.db");
    let db = rt.block_on(connect(
        &format!("sqlite:///{}", path.display()),
        "CREATE TABLE bench_entity (id INTEGER PRIMARY KEY, name TEXT NOT NULL, n INTEGER NOT NULL, version INTEGER NOT NULL)",
    ));
    let mut raw = rusqlite::Connection::open(&path).unwrap();
    raw.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
    )
    .unwrap();

    let mut g = group(c, "sqlite");
    g.bench_function("raw_rusqlite", |b| {
        b.iter(|| {
            let tx = raw
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .unwrap();
            {
                let mut s = tx
                    .prepare_cached(r#"INSERT INTO "bench_entity" ("name", "n", "version") VALUES (?, ?, ?) RETURNING "id", "name", "n", "version""#)
                    .unwrap();
                for i in 0..INSERTS {
                    let it = item(i);
                    let stored = s
                        .query_row(rusqlite::params![it.name, it.n, 1i64], |r| {
                            Ok(Item { id: r.get(0)?, name: r.get(1)?, n: r.get(2)?, version: r.get(3)? })
                        })
                        .unwrap();
                    drop(stored);
                }
            }
            tx.commit().unwrap();
        })
    });
    lexigram_side(&mut g, &rt, &db);
    g.finish();
}

fn postgres(c: &mut Criterion<Clock>) {
    let Ok(url) = std::env::var("LEX_TEST_POSTGRES_URL") else {
        return;
    };
    let rt = rt();
    let db = rt.block_on(connect(
        &plaintext(&url),
        "DROP TABLE IF EXISTS bench_entity; CREATE TABLE bench_entity (id BIGSERIAL PRIMARY KEY, name TEXT NOT NULL, n BIGINT NOT NULL, version BIGINT NOT NULL)",
    ));
    let mut raw = rt.block_on(async {
        let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(conn);
        client
    });
    let insert = rt
        .block_on(raw.prepare(r#"INSERT INTO "bench_entity" ("name", "n", "version") VALUES ($1, $2, $3) RETURNING "id", "name", "n", "version""#))
        .unwrap();

    let mut g = group(c, "postgres");
    g.bench_function("raw_tokio_postgres", |b| {
        b.iter(|| {
            rt.block_on(async {
                let tx = raw.transaction().await.unwrap();
                for i in 0..INSERTS {
                    let it = item(i);
                    let r = tx
                        .query_one(&insert, &[&it.name, &it.n, &1i64])
                        .await
                        .unwrap();
                    drop(Item {
                        id: r.get(0),
                        name: r.get(1),
                        n: r.get(2),
                        version: r.get(3),
                    });
                }
                tx.commit().await.unwrap();
            })
        })
    });
    lexigram_side(&mut g, &rt, &db);
    g.finish();
}

fn mysql(c: &mut Criterion<Clock>) {
    let Ok(url) = std::env::var("LEX_TEST_MYSQL_URL") else {
        return;
    };
    let rt = rt();
    let db = rt.block_on(connect(
        &plaintext(&url),
        "DROP TABLE IF EXISTS bench_entity; CREATE TABLE bench_entity (id BIGINT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(100) NOT NULL, n BIGINT NOT NULL, version BIGINT NOT NULL)",
    ));
    let opts = mysql_async::Opts::from_url(&url).unwrap();
    let opts: mysql_async::Opts = mysql_async::OptsBuilder::from_opts(opts)
        .prefer_socket(false)
        .client_found_rows(true)
        .into();
    let mut raw = rt.block_on(mysql_async::Conn::new(opts)).unwrap();

    let mut g = group(c, "mysql");
    g.bench_function("raw_mysql_async", |b| {
        b.iter(|| {
            rt.block_on(async {
                raw.query_drop("BEGIN").await.unwrap();
                for i in 0..INSERTS {
                    let it = item(i);
                    let r: Option<(i64, String, i64, i64)> = raw
                        .exec_first(
                            "INSERT INTO `bench_entity` (`name`, `n`, `version`) VALUES (?, ?, ?) RETURNING `id`, `name`, `n`, `version`",
                            (it.name, it.n, 1i64),
                        )
                        .await
                        .unwrap();
                    let (id, name, n, version) = r.unwrap();
                    drop(Item { id, name, n, version });
                }
                raw.query_drop("COMMIT").await.unwrap();
            })
        })
    });
    lexigram_side(&mut g, &rt, &db);
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
