//! The peer suite: lexigram-sql, the raw drivers, Diesel, diesel-async, sqlx and SeaORM on the
//! workloads of Diesel's benchmark suite, on SQLite, PostgreSQL and MariaDB, interleaved in one
//! run. Prints a Markdown report (`scripts/bench.sh --peers` writes it to BENCHMARKS.md).
//!
//! ```text
//! lexigram-peers [--reps N] [--backends sqlite,postgres,mysql] [--work TEXT] [--peer NAME] [--out FILE]
//! ```
//! `--work TEXT` keeps only the workloads whose name contains TEXT (and skips the pool run
//! unless TEXT is `pool`); `--peer NAME` runs one peer beside the raw driver (for profiling). PostgreSQL and MariaDB come from `LEX_TEST_POSTGRES_URL` / `LEX_TEST_MYSQL_URL`.

// The row structs exist to be decoded into, as a service would; most fields are never read.
#![allow(dead_code)]

mod harness;
mod peers;
mod report;
mod schema;
mod work;

use std::collections::BTreeMap;
use std::path::PathBuf;

use harness::{PoolSample, Result, Sample, Target, time};
use peers::*;
use work::{Kind, Work};

/// The peers measured on one backend, the raw driver first.
fn peers_of(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::Sqlite => &["raw", "lexigram", "Diesel", "sqlx", "SeaORM"],
        _ => &[
            "raw",
            "lexigram",
            "Diesel",
            "diesel-async",
            "sqlx",
            "SeaORM",
        ],
    }
}

async fn time_peer(kind: Kind, peer: &str, t: &Target, w: Work) -> Result<Sample> {
    use Kind::*;
    match (kind, peer) {
        (Sqlite, "raw") => time::<raw_sqlite::RawSqlite>(t, w).await,
        (Postgres, "raw") => time::<raw_pg::RawPg>(t, w).await,
        (MySql, "raw") => time::<raw_mysql::RawMySql>(t, w).await,
        (_, "lexigram") => time::<lex::Lex>(t, w).await,
        (Sqlite, "Diesel") => time::<diesel_sync::DieselSqlite>(t, w).await,
        (Postgres, "Diesel") => time::<diesel_sync::DieselPg>(t, w).await,
        (MySql, "Diesel") => time::<diesel_sync::DieselMySql>(t, w).await,
        (Postgres, "diesel-async") => time::<diesel_async_peer::DieselAsyncPg>(t, w).await,
        (MySql, "diesel-async") => time::<diesel_async_peer::DieselAsyncMySql>(t, w).await,
        (Sqlite, "sqlx") => time::<sqlx_peer::SqlxSqlite>(t, w).await,
        (Postgres, "sqlx") => time::<sqlx_peer::SqlxPg>(t, w).await,
        (MySql, "sqlx") => time::<sqlx_peer::SqlxMySql>(t, w).await,
        (_, "SeaORM") => time::<seaorm_peer::SeaOrm>(t, w).await,
        _ => Err(format!("no peer {peer} on {kind}").into()),
    }
}

async fn pool_peer(kind: Kind, peer: &str, t: &Target) -> Result<PoolSample> {
    use Kind::*;
    match (kind, peer) {
        (Sqlite, "raw") => raw_sqlite::pool8(t).await,
        (Postgres, "raw") => raw_pg::pool8(t).await,
        (MySql, "raw") => raw_mysql::pool8(t).await,
        (_, "lexigram") => lex::pool8(t).await,
        (Sqlite, "Diesel") => diesel_sync::pool8_sqlite(t).await,
        (Postgres, "Diesel") => diesel_sync::pool8_pg(t).await,
        (MySql, "Diesel") => diesel_sync::pool8_mysql(t).await,
        (Postgres, "diesel-async") => diesel_async_peer::pool8_pg(t).await,
        (MySql, "diesel-async") => diesel_async_peer::pool8_mysql(t).await,
        (Sqlite, "sqlx") => sqlx_peer::pool8_sqlite(t).await,
        (Postgres, "sqlx") => sqlx_peer::pool8_pg(t).await,
        (MySql, "sqlx") => sqlx_peer::pool8_mysql(t).await,
        (_, "SeaORM") => seaorm_peer::pool8(t).await,
        _ => Err(format!("no peer {peer} on {kind}").into()),
    }
}

/// Everything measured on one backend.
pub struct Results {
    /// The backend.
    pub kind: Kind,
    /// Its peers, in report order.
    pub peers: Vec<&'static str>,
    /// (workload, peer) → one sample per repetition.
    pub samples: BTreeMap<(usize, &'static str), Vec<Sample>>,
    /// peer → one pool sample per repetition.
    pub pools: BTreeMap<&'static str, Vec<PoolSample>>,
    /// Failures, reported rather than hidden.
    pub errors: Vec<String>,
}

fn run_backend(
    kind: Kind,
    url: String,
    reps: usize,
    work: Option<&str>,
    peer: Option<&str>,
) -> Result<Results> {
    let dir = tempfile::tempdir()?;
    let t = Target {
        kind,
        url,
        path: dir.path().join("peers.db"),
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(schema::create(&t))?;
    let peers: Vec<&'static str> = peers_of(kind)
        .iter()
        .copied()
        .filter(|p| peer.is_none_or(|only| *p == "raw" || *p == only))
        .collect();
    let mut res = Results {
        kind,
        peers: peers.clone(),
        samples: BTreeMap::new(),
        pools: BTreeMap::new(),
        errors: Vec::new(),
    };
    for rep in 0..reps {
        eprintln!("{kind}: repetition {} of {reps}", rep + 1);
        for (wi, &w) in Work::ALL.iter().enumerate() {
            if work.is_some_and(|f| !w.to_string().contains(f)) {
                continue;
            }
            // Rotate who goes first, so no peer always runs on a cold or a warm server.
            for k in 0..peers.len() {
                let peer = peers[(k + rep + wi) % peers.len()];
                match rt.block_on(time_peer(kind, peer, &t, w)) {
                    Ok(s) => res.samples.entry((wi, peer)).or_default().push(s),
                    Err(e) => res.errors.push(format!("{peer}, {w}: {e}")),
                }
            }
        }
    }
    let pool_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let pool_runs = if work.is_none_or(|f| f == "pool") {
        reps.min(3)
    } else {
        0
    };
    for rep in 0..pool_runs {
        for k in 0..peers.len() {
            let peer = peers[(k + rep) % peers.len()];
            match pool_rt.block_on(pool_peer(kind, peer, &t)) {
                Ok(s) => res.pools.entry(peer).or_default().push(s),
                Err(e) => res.errors.push(format!("{peer}, pool of 8: {e}")),
            }
        }
    }
    Ok(res)
}

fn main() -> Result<()> {
    let mut reps = 5usize;
    let mut out: Option<PathBuf> = None;
    let mut only: Option<String> = None;
    let mut work: Option<String> = None;
    let mut peer: Option<String> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--reps" => reps = args.next().ok_or("--reps N")?.parse()?,
            "--out" => out = Some(args.next().ok_or("--out FILE")?.into()),
            "--peer" => peer = Some(args.next().ok_or("--peer NAME")?),
            "--work" => work = Some(args.next().ok_or("--work TEXT")?),
            "--backends" => only = Some(args.next().ok_or("--backends LIST")?),
            other => {
                return Err(
                    format!("unknown argument {other}; see the doc comment of main.rs").into(),
                );
            }
        }
    }
    let wanted = |name: &str| {
        only.as_deref()
            .is_none_or(|l| l.split(',').any(|x| x == name))
    };
    let mut all = Vec::new();
    if wanted("sqlite") {
        all.push(run_backend(
            Kind::Sqlite,
            String::new(),
            reps,
            work.as_deref(),
            peer.as_deref(),
        )?);
    }
    for (name, kind, var) in [
        ("postgres", Kind::Postgres, "LEX_TEST_POSTGRES_URL"),
        ("mysql", Kind::MySql, "LEX_TEST_MYSQL_URL"),
    ] {
        if !wanted(name) {
            continue;
        }
        match std::env::var(var) {
            Ok(url) => all.push(run_backend(
                kind,
                url,
                reps,
                work.as_deref(),
                peer.as_deref(),
            )?),
            Err(_) => eprintln!("{var} is not set: {kind} skipped"),
        }
    }
    let md = report::markdown(&all, reps);
    match out {
        Some(path) => std::fs::write(&path, md)?,
        None => print!("{md}"),
    }
    Ok(())
}
