//! Honest outage errors, without stopping the shared servers: a server that refuses
//! connections (127.0.0.1:1) and one that accepts the TCP connection but never answers (a
//! local listener that stays silent, like a hung or blackholed server).
//!
//! Calls fail with `Connect` (kind Unreachable, naming host:port) within
//! `pool.connect_timeout` (+10 %), never after the full `pool.timeout` and never as
//! `PoolExhausted`, also for the calls queued behind the ones that are connecting. The
//! stopped-server case (and the recovery within 1 s) is in `provider_faults.rs`, run alone
//! with `LEX_TEST_FAULTS=1`.
#![cfg(feature = "postgres")]
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a panic is a failed assertion

mod common;

use std::time::{Duration, Instant};

use lexigram_sql::{ConnectErrorKind, Database, DatabaseConfig, Error};

/// A PostgreSQL URL whose pool opens no connection up front (`min_size` 0), so the outage
/// shows on the calls, not at start-up.
async fn lazy_pool(address: &str, connect_timeout: Duration) -> Database {
    let mut config = DatabaseConfig::from_url(&format!("postgresql://u:pw@{address}/db")).unwrap();
    config.pool.min_size = 0;
    config.pool.max_size = 2;
    config.pool.timeout = Duration::from_secs(30);
    config.pool.connect_timeout = connect_timeout;
    Database::from_config(&config).await.unwrap()
}

/// Ten concurrent calls on a pool of two; returns each call's error and how long it took.
async fn ten_calls(db: &Database) -> Vec<(Error, Duration)> {
    let calls: Vec<_> = (0..10)
        .map(|_| {
            let db = db.clone();
            tokio::spawn(async move {
                let started = Instant::now();
                let err = db.fetch_all("SELECT 1", &[]).await.unwrap_err();
                (err, started.elapsed())
            })
        })
        .collect();
    let mut out = Vec::new();
    for call in calls {
        out.push(call.await.unwrap());
    }
    out
}

fn assert_unreachable(err: &Error, address: &str) {
    match err {
        Error::Connect(e) => {
            assert_eq!(e.kind, ConnectErrorKind::Unreachable, "{err}");
            assert_eq!(e.target, address, "{err}");
        }
        other => panic!("expected Connect naming {address}, got {other:?}"),
    }
    let msg = err.to_string();
    assert!(msg.contains(address), "{msg}");
    assert!(!msg.contains("pw"), "{msg}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_connection_fails_every_call_at_once_with_connect() {
    let db = lazy_pool("127.0.0.1:1", Duration::from_secs(5)).await;
    let results = ten_calls(&db).await;
    let slowest = results.iter().map(|(_, took)| *took).max().unwrap();
    common::report(
        "outage: refused",
        &format!("10 calls on a pool of 2 failed with Connect, slowest after {slowest:?}"),
    );
    for (err, _) in &results {
        assert_unreachable(err, "127.0.0.1:1");
    }
    assert!(slowest < Duration::from_secs(1), "slowest {slowest:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_server_fails_every_call_within_the_connect_timeout() {
    // Accepts TCP connections and never answers: the PostgreSQL handshake hangs.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let silent = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let connect_timeout = Duration::from_secs(1);
    let db = lazy_pool(&address, connect_timeout).await;
    let results = ten_calls(&db).await;
    let fastest = results.iter().map(|(_, took)| *took).min().unwrap();
    let slowest = results.iter().map(|(_, took)| *took).max().unwrap();
    common::report(
        "outage: silent server",
        &format!(
            "connect_timeout 1s: 10 calls on a pool of 2 failed with Connect after {fastest:?} … {slowest:?}"
        ),
    );
    for (err, _) in &results {
        assert_unreachable(err, &address);
        assert!(
            err.to_string().contains("pool.connect_timeout"),
            "says which limit passed: {err}"
        );
    }
    assert!(fastest >= Duration::from_millis(900), "fastest {fastest:?}");
    assert!(
        slowest <= connect_timeout + connect_timeout / 10,
        "slowest {slowest:?}"
    );
    silent.abort();
}
