//! What the benches share: the runtime they drive futures on, and the versioned entity the
//! repository and unit-of-work benches write (table `bench_entity`, which each bench creates).

use lexigram_sql::Entity;
use tokio::runtime::Runtime;

/// A single-threaded runtime: the raw drivers and lexigram run on the same thread.
pub fn rt() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// One row of `bench_entity`: generated key, two columns, a version.
#[derive(Debug, Clone, Entity)]
#[entity(table = "bench_entity")]
pub struct Item {
    #[entity(key, generated)]
    pub id: i64,
    pub name: String,
    pub n: i64,
    #[entity(version)]
    pub version: i64,
}

/// A new, unsaved item numbered `i`.
pub fn item(i: i64) -> Item {
    Item {
        id: 0,
        name: format!("item {i}"),
        n: i,
        version: 0,
    }
}
