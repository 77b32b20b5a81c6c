//! The outbox relay on every backend: 3 relays publish 10,000 events of 100 aggregates while
//! one of them crashes after handing a batch to its publisher. Every event is published (none
//! lost), the events of each aggregate are published in the order they were stored,
//! duplicates (the crashed relay's batch, published again after its lease) are counted and
//! reported. Also: a refused batch is published again, a short batch waits for
//! `outbox.batch_max_age`, and an outbox table from before the relay gains its columns.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a panic is a failed assertion

mod common;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use lexigram_sql::Database;
use lexigram_sql::config::OutboxConfig;
use lexigram_sql::uow::{Outbox, OutboxEvent, PublishError, Relay};

const AGGREGATES: usize = 100;
const PER_AGGREGATE: usize = 100;

/// What the test's publishers return.
type Published =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), PublishError>> + Send>>;

/// Every publish call's events, in the order the calls happened: `(relay, id, aggregate)`.
type Log = Arc<Mutex<Vec<(usize, i64, Option<String>)>>>;

fn config() -> OutboxConfig {
    OutboxConfig::default()
        .with_batch_size(100)
        .with_poll_interval(Duration::from_millis(20))
        .with_lease(Duration::from_secs(1))
}

/// Stores `AGGREGATES × PER_AGGREGATE` events, interleaving the aggregates.
async fn store_events(db: &Database) {
    let mut uow = db.unit_of_work().await.unwrap();
    for n in 0..PER_AGGREGATE {
        for a in 0..AGGREGATES {
            uow.register_event_for(
                &format!("agg-{a}"),
                "Counted",
                &serde_json::json!({ "n": n }),
            )
            .unwrap();
        }
    }
    uow.commit().await.unwrap();
}

/// A publisher that logs each batch under `relay`. With `crash_on`, the relay's publisher
/// logs that batch (it reached the broker) and then never returns, as a process that died
/// before marking it would; `crashed` is set then.
fn publisher(
    relay: usize,
    log: Log,
    crash_on: Option<u32>,
    crashed: Arc<AtomicBool>,
) -> impl Fn(Vec<OutboxEvent>) -> Published + Send + Sync + 'static {
    let calls = Arc::new(AtomicU32::new(0));
    move |events: Vec<OutboxEvent>| {
        let (log, calls, crashed) = (Arc::clone(&log), Arc::clone(&calls), Arc::clone(&crashed));
        Box::pin(async move {
            let call = calls.fetch_add(1, Ordering::SeqCst) + 1;
            log.lock()
                .unwrap()
                .extend(events.into_iter().map(|e| (relay, e.id, e.aggregate_id)));
            if crash_on == Some(call) {
                crashed.store(true, Ordering::SeqCst);
                std::future::pending::<()>().await;
            }
            Ok(())
        })
    }
}

async fn pending(db: &Database) -> usize {
    Outbox::new(db).pending(1_000_000).await.unwrap().len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_relays_publish_every_event_in_order_per_aggregate_across_a_crash() {
    for t in common::all().await {
        let db = t.connect().await;
        store_events(&db).await;
        let total = AGGREGATES * PER_AGGREGATE;
        let started = Instant::now();

        let log: Log = Arc::default();
        let crashed = Arc::new(AtomicBool::new(false));
        let mut relays = Vec::new();
        for relay in 0..3 {
            let crash_on = (relay == 2).then_some(3);
            let p = publisher(relay, Arc::clone(&log), crash_on, Arc::clone(&crashed));
            relays.push(Relay::new(&db, config()).spawn(p));
        }
        let crasher = relays.pop().unwrap();
        let deadline = Instant::now() + Duration::from_secs(120);
        while !crashed.load(Ordering::SeqCst) {
            assert!(
                Instant::now() < deadline,
                "{}: relay 2 never got its 3rd batch",
                t.name()
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        crasher.abort();
        while pending(&db).await > 0 {
            assert!(
                Instant::now() < deadline,
                "{}: events still pending after 120 s",
                t.name()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let mut marked = 0;
        for relay in relays {
            marked += relay.stop().await.published;
        }
        let took = started.elapsed();

        let log = log.lock().unwrap().clone();
        let distinct: HashSet<i64> = log.iter().map(|(_, id, _)| *id).collect();
        let duplicates = log.len() - distinct.len();
        let stored: Vec<OutboxEvent> = Outbox::new(&db).all().await.unwrap();
        assert_eq!(stored.len(), total, "{}", t.name());
        let lost: Vec<i64> = stored
            .iter()
            .map(|e| e.id)
            .filter(|id| !distinct.contains(id))
            .collect();
        assert!(
            stored.iter().all(|e| e.published_at.is_some()),
            "{}: an event is not marked published",
            t.name()
        );
        // Per aggregate, the ids in publish order never go back.
        let mut last: HashMap<&str, i64> = HashMap::new();
        let mut out_of_order = 0;
        for (_, id, aggregate) in &log {
            let aggregate = aggregate.as_deref().unwrap();
            let previous = last.insert(aggregate, *id).unwrap_or(i64::MIN);
            out_of_order += usize::from(*id < previous);
        }
        let by_relay: Vec<usize> = (0..3)
            .map(|r| log.iter().filter(|(relay, _, _)| *relay == r).count())
            .collect();
        common::report(
            &format!("outbox relay {}", t.name()),
            &format!(
                "3 relays, {total} events of {AGGREGATES} aggregates, one relay crashed after handing over a batch: {} published ({} lost, {duplicates} duplicates), {out_of_order} out of order, publish calls' events per relay {by_relay:?}, {took:.1?}",
                distinct.len(),
                lost.len()
            ),
        );
        assert!(lost.is_empty(), "{}: lost {} events", t.name(), lost.len());
        assert_eq!(
            out_of_order,
            0,
            "{}: events of one aggregate out of order",
            t.name()
        );
        assert!(
            duplicates >= 1,
            "{}: the crashed relay's batch was not published again",
            t.name()
        );
        assert!(marked > 0, "{}: the live relays marked nothing", t.name());
        db.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_batch_is_published_again() {
    for t in common::all().await {
        let db = t.connect().await;
        let mut uow = db.unit_of_work().await.unwrap();
        for n in 0..5 {
            uow.register_event_for("a", "E", &n).unwrap();
        }
        uow.commit().await.unwrap();
        let relay = Relay::new(&db, config());
        let refuse = |_: Vec<OutboxEvent>| async { Err::<(), PublishError>("broker down".into()) };
        assert_eq!(relay.run_once(&refuse).await.unwrap(), 0, "{}", t.name());
        assert_eq!(pending(&db).await, 5, "{}", t.name());
        // Given back at once: the next round (or another relay) publishes it, without
        // waiting for the lease.
        let seen: Arc<Mutex<Vec<i64>>> = Arc::default();
        let log = Arc::clone(&seen);
        let accept = move |events: Vec<OutboxEvent>| {
            let log = Arc::clone(&log);
            async move {
                log.lock().unwrap().extend(events.iter().map(|e| e.id));
                Ok::<(), PublishError>(())
            }
        };
        let other = Relay::new(&db, config());
        // One event per round: only the oldest pending event of an aggregate is claimable.
        let mut rounds = 0;
        while other.run_once(&accept).await.unwrap() > 0 {
            rounds += 1;
        }
        assert_eq!(rounds, 5, "{}", t.name());
        let ids = seen.lock().unwrap().clone();
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "{}: {ids:?}", t.name());
        assert_eq!(pending(&db).await, 0, "{}", t.name());
        db.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_batch_waits_for_batch_max_age() {
    let t = common::sqlite();
    let db = t.connect().await;
    let mut uow = db.unit_of_work().await.unwrap();
    uow.register_event("E", &1).unwrap();
    uow.commit().await.unwrap();
    let relay = Relay::new(
        &db,
        config()
            .with_batch_size(10)
            .with_batch_max_age(Duration::from_millis(500)),
    );
    let accept = |_: Vec<OutboxEvent>| async { Ok::<(), PublishError>(()) };
    assert_eq!(
        relay.run_once(&accept).await.unwrap(),
        0,
        "published a young short batch"
    );
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(relay.run_once(&accept).await.unwrap(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outbox_table_from_before_the_relay_gains_its_columns() {
    for t in common::all().await {
        let db = t.connect().await;
        let (id, time) = match t.kind {
            lexigram_sql::config::BackendKind::Sqlite => {
                ("id INTEGER PRIMARY KEY AUTOINCREMENT", "TEXT")
            }
            lexigram_sql::config::BackendKind::Postgres => {
                ("id BIGSERIAL PRIMARY KEY", "TIMESTAMPTZ")
            }
            lexigram_sql::config::BackendKind::MySql => {
                ("id BIGINT AUTO_INCREMENT PRIMARY KEY", "DATETIME(6)")
            }
        };
        db.execute(
            &format!("CREATE TABLE lexigram_outbox ({id}, event_type VARCHAR(255) NOT NULL, payload TEXT NOT NULL, created_at {time} NOT NULL, published_at {time} NULL)"),
            &[],
        )
        .await
        .unwrap();
        let mut uow = db.unit_of_work().await.unwrap();
        uow.register_event_for("a", "E", &1).unwrap();
        uow.commit().await.unwrap();
        let relay = Relay::new(&db, config());
        let accept = |_: Vec<OutboxEvent>| async { Ok::<(), PublishError>(()) };
        assert_eq!(relay.run_once(&accept).await.unwrap(), 1, "{}", t.name());
        db.close().await;
    }
}

/// An application runs a relay only when `sql.outbox.enabled` is true: with it false, a
/// registered publisher receives nothing; with it true, it receives the events.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_application_relay_follows_outbox_enabled() {
    use lexigram::{AppConfig, Application};
    use lexigram_sql::DatabaseModule;
    for enabled in [false, true] {
        let t = common::sqlite();
        let mut config = t.config();
        config.outbox.enabled = enabled;
        config.outbox.poll_interval = Duration::from_millis(10);
        let (sent, mut received) = tokio::sync::mpsc::unbounded_channel();
        let publisher = move |events: Vec<OutboxEvent>| {
            let sent = sent.clone();
            async move {
                for e in events {
                    sent.send(e.id)?;
                }
                Ok::<(), PublishError>(())
            }
        };
        let app = Application::builder("relay")
            .config(AppConfig::empty())
            .module(DatabaseModule::configure(config).outbox_publisher(publisher))
            .boot()
            .await
            .unwrap();
        let db = app.resolve::<Database>().unwrap();
        let mut uow = db.unit_of_work().await.unwrap();
        uow.register_event("E", &1).unwrap();
        uow.commit().await.unwrap();
        let got = tokio::time::timeout(Duration::from_millis(500), received.recv()).await;
        assert_eq!(got.is_ok(), enabled, "enabled: {enabled}, got {got:?}");
        app.shutdown().await.unwrap();
    }
}
