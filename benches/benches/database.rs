//! `Database` against the raw drivers, same statements, same settings, one run.
//!
//! SQLite always; PostgreSQL and MariaDB when `LEX_TEST_POSTGRES_URL` / `LEX_TEST_MYSQL_URL`
//! are set (`scripts/bench.sh` starts the servers and sets them).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use criterion::{Criterion, criterion_group, criterion_main};
use lexigram_sql::{Database, Value};

#[path = "support/clock.rs"]
mod clock;
#[allow(dead_code)] // this bench uses only the runtime
#[path = "support/fixture.rs"]
mod fixture;
use clock::Clock;
use fixture::rt;

const ROWS: i64 = 1000;

fn sqlite(c: &mut Criterion<Clock>) {
    let rt = rt();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bench.db");
    let db = rt.block_on(async {
        let db = Database::connect_url(&format!("sqlite:///{}", path.display()))
            .await
            .unwrap();
        db.execute_batch(
            "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL, n INTEGER NOT NULL)",
        )
        .await
        .unwrap();
        for i in 0..ROWS {
            db.execute(
                "INSERT INTO items (id, name, n) VALUES (?, ?, ?)",
                &[i.into(), format!("item {i}").into(), i.into()],
            )
            .await
            .unwrap();
        }
        db
    });
    let raw = rusqlite::Connection::open(&path).unwrap();
    raw.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
    )
    .unwrap();

    let mut g = c.benchmark_group("sqlite/select_by_pk");
    let mut k = 0i64;
    g.bench_function("raw_rusqlite", |b| {
        b.iter(|| {
            k = (k + 7) % ROWS;
            let mut stmt = raw
                .prepare_cached("SELECT id, name, n FROM items WHERE id = ?")
                .unwrap();
            let row: (i64, String, i64) = stmt
                .query_row([k], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .unwrap();
            row
        })
    });
    g.bench_function("lexigram", |b| {
        b.to_async(&rt).iter(|| {
            k = (k + 7) % ROWS;
            let db = db.clone();
            async move {
                let row = db
                    .fetch_one(
                        "SELECT id, name, n FROM items WHERE id = ?",
                        &[Value::Int(k)],
                    )
                    .await
                    .unwrap();
                (
                    row.get::<i64>("id").unwrap(),
                    row.get::<String>("name").unwrap(),
                    row.get::<i64>("n").unwrap(),
                )
            }
        })
    });
    g.finish();

    let mut g = c.benchmark_group("sqlite/insert");
    g.bench_function("raw_rusqlite", |b| {
        b.iter(|| {
            let mut stmt = raw
                .prepare_cached("INSERT INTO items (name, n) VALUES (?, ?)")
                .unwrap();
            stmt.execute(rusqlite::params!["bench", 1i64]).unwrap()
        })
    });
    g.bench_function("lexigram", |b| {
        b.to_async(&rt).iter(|| {
            let db = db.clone();
            async move {
                db.execute(
                    "INSERT INTO items (name, n) VALUES (?, ?)",
                    &["bench".into(), Value::Int(1)],
                )
                .await
                .unwrap()
            }
        })
    });
    g.finish();
}

fn postgres(c: &mut Criterion<Clock>) {
    let Ok(url) = std::env::var("LEX_TEST_POSTGRES_URL") else {
        return;
    };
    let rt = rt();
    let db = rt.block_on(async {
        let db = Database::connect_url(&plaintext(&url)).await.unwrap();
        db.execute_batch(
            "DROP TABLE IF EXISTS bench_items; CREATE TABLE bench_items (id BIGSERIAL PRIMARY KEY, name TEXT NOT NULL, n BIGINT NOT NULL);
             INSERT INTO bench_items (name, n) SELECT 'item ' || g, g FROM generate_series(1, 1000) g;",
        )
        .await
        .unwrap();
        db
    });
    let raw = rt.block_on(async {
        let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(conn);
        client
    });
    let select = rt
        .block_on(raw.prepare("SELECT id, name, n FROM bench_items WHERE id = $1"))
        .unwrap();
    let insert = rt
        .block_on(raw.prepare("INSERT INTO bench_items (name, n) VALUES ($1, $2)"))
        .unwrap();

    let mut g = c.benchmark_group("postgres/select_by_pk");
    let mut k = 0i64;
    g.bench_function("raw_tokio_postgres", |b| {
        b.to_async(&rt).iter(|| {
            k = k % ROWS + 1;
            let (raw, select) = (&raw, &select);
            async move {
                let row = raw.query_one(select, &[&k]).await.unwrap();
                (
                    row.get::<_, i64>(0),
                    row.get::<_, String>(1),
                    row.get::<_, i64>(2),
                )
            }
        })
    });
    g.bench_function("lexigram", |b| {
        b.to_async(&rt).iter(|| {
            k = k % ROWS + 1;
            let db = db.clone();
            async move {
                let row = db
                    .fetch_one(
                        "SELECT id, name, n FROM bench_items WHERE id = $1",
                        &[Value::Int(k)],
                    )
                    .await
                    .unwrap();
                (
                    row.get::<i64>("id").unwrap(),
                    row.get::<String>("name").unwrap(),
                    row.get::<i64>("n").unwrap(),
                )
            }
        })
    });
    g.finish();

    let mut g = c.benchmark_group("postgres/insert");
    g.bench_function("raw_tokio_postgres", |b| {
        b.to_async(&rt).iter(|| {
            let (raw, insert) = (&raw, &insert);
            async move { raw.execute(insert, &[&"bench", &1i64]).await.unwrap() }
        })
    });
    g.bench_function("lexigram", |b| {
        b.to_async(&rt).iter(|| {
            let db = db.clone();
            async move {
                db.execute(
                    "INSERT INTO bench_items (name, n) VALUES ($1, $2)",
                    &["bench".into(), Value::Int(1)],
                )
                .await
                .unwrap()
            }
        })
    });
    g.finish();
}

fn mysql(c: &mut Criterion<Clock>) {
    use mysql_async::prelude::Queryable;
    let Ok(url) = std::env::var("LEX_TEST_MYSQL_URL") else {
        return;
    };
    let rt = rt();
    let db = rt.block_on(async {
        let db = Database::connect_url(&plaintext(&url)).await.unwrap();
        db.execute_batch(
            "DROP TABLE IF EXISTS bench_items; CREATE TABLE bench_items (id BIGINT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(100) NOT NULL, n BIGINT NOT NULL)",
        )
        .await
        .unwrap();
        for i in 1..=ROWS {
            db.execute("INSERT INTO bench_items (name, n) VALUES (?, ?)", &[format!("item {i}").into(), i.into()])
                .await
                .unwrap();
        }
        db
    });
    let opts = mysql_async::OptsBuilder::from_opts(mysql_async::Opts::from_url(&url).unwrap())
        .prefer_socket(false)
        .client_found_rows(true);
    let raw = tokio::sync::Mutex::new(rt.block_on(mysql_async::Conn::new(opts)).unwrap());

    let mut g = c.benchmark_group("mysql/select_by_pk");
    let mut k = 0i64;
    g.bench_function("raw_mysql_async", |b| {
        b.to_async(&rt).iter(|| {
            k = k % ROWS + 1;
            let raw = &raw;
            async move {
                let mut conn = raw.lock().await;
                let row: Option<(i64, String, i64)> = conn
                    .exec_first("SELECT id, name, n FROM bench_items WHERE id = ?", (k,))
                    .await
                    .unwrap();
                row
            }
        })
    });
    g.bench_function("lexigram", |b| {
        b.to_async(&rt).iter(|| {
            k = k % ROWS + 1;
            let db = db.clone();
            async move {
                let row = db
                    .fetch_one(
                        "SELECT id, name, n FROM bench_items WHERE id = ?",
                        &[Value::Int(k)],
                    )
                    .await
                    .unwrap();
                (
                    row.get::<i64>("id").unwrap(),
                    row.get::<String>("name").unwrap(),
                    row.get::<i64>("n").unwrap(),
                )
            }
        })
    });
    g.finish();

    let mut g = c.benchmark_group("mysql/insert");
    g.bench_function("raw_mysql_async", |b| {
        b.to_async(&rt).iter(|| {
            let raw = &raw;
            async move {
                let mut conn = raw.lock().await;
                conn.exec_drop(
                    "INSERT INTO bench_items (name, n) VALUES (?, ?)",
                    ("bench", 1i64),
                )
                .await
                .unwrap();
            }
        })
    });
    g.bench_function("lexigram", |b| {
        b.to_async(&rt).iter(|| {
            let db = db.clone();
            async move {
                db.execute(
                    "INSERT INTO bench_items (name, n) VALUES (?, ?)",
                    &["bench".into(), Value::Int(1)],
                )
                .await
                .unwrap()
            }
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().with_measurement(Clock::from_env()).sample_size(30).measurement_time(std::time::Duration::from_secs(3)).warm_up_time(std::time::Duration::from_secs(1));
    targets = sqlite, postgres, mysql
}
criterion_main!(benches);

/// The URL with TLS off, as the raw drivers beside it connect (the data layer's default,
/// `prefer`, would encrypt on the TLS-enabled test servers and skew the comparison).
fn plaintext(url: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}sslmode=disable")
}
