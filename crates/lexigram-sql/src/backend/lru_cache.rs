//! The per-connection caches keyed by SQL text (prepared statements, result column names):
//! bounded, evicting the least recently used statement when full.

use std::num::NonZeroUsize;

use lru::LruCache;
use rustc_hash::FxBuildHasher;

/// How many statements one connection's cache remembers.
const CAPACITY: NonZeroUsize = NonZeroUsize::new(512).unwrap();

/// A per-connection cache by SQL text.
pub(crate) type SqlCache<V> = LruCache<Box<str>, V, FxBuildHasher>;

/// An empty cache of [`CAPACITY`] statements.
pub(crate) fn sql_cache<V>() -> SqlCache<V> {
    LruCache::with_hasher(CAPACITY, FxBuildHasher)
}
