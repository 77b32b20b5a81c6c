//! Advisory locks: application-defined locks held by a session or a transaction, keyed by a
//! name and the current schema (PostgreSQL) or database (MySQL/MariaDB). SQLite has none: its
//! writers are serialized by its own write lock.

use std::time::Duration;

use super::sealed::Sealed;
use super::{MySql, Postgres, Sqlite};

/// Who holds an advisory lock until it is released.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockScope {
    /// The connection, until released or disconnected.
    Session,
    /// The open transaction, until it ends.
    Transaction,
}

/// The advisory-lock side of a [`super::Dialect`]. Each statement takes the lock's name as
/// parameter 1 and returns one row.
///
/// ```
/// use lexigram_sql::backend::{AdvisoryLocks, LockScope, MySql, Postgres, Sqlite};
/// assert!(Sqlite.try_lock_sql(LockScope::Session).is_none());
/// assert!(MySql.try_lock_sql(LockScope::Transaction).is_none());
/// assert!(Postgres.try_lock_sql(LockScope::Transaction).is_some());
/// ```
pub trait AdvisoryLocks: Sealed {
    /// A statement that takes the lock without waiting; its column `locked` is true (or 1)
    /// when it was taken. `None` when the backend has no such lock.
    fn try_lock_sql(&self, _scope: LockScope) -> Option<String> {
        None
    }

    /// A statement that waits for the lock (at most `wait` where the backend bounds the
    /// wait: MySQL; PostgreSQL waits for as long as its `lock_timeout` allows). `None` when
    /// the backend has no such lock.
    fn lock_sql(&self, _scope: LockScope, _wait: Duration) -> Option<String> {
        None
    }

    /// A statement that releases a session lock; `None` when the backend has none.
    fn unlock_sql(&self) -> Option<String> {
        None
    }
}

impl AdvisoryLocks for Sqlite {}

/// The PostgreSQL key: schema and name hashed to a bigint.
const PG_KEY: &str = "hashtextextended(current_schema() || '.' || $1::text, 0)";

impl AdvisoryLocks for Postgres {
    fn try_lock_sql(&self, scope: LockScope) -> Option<String> {
        Some(format!(
            "SELECT {}({PG_KEY}) AS locked",
            pg_function(scope, "try_")
        ))
    }

    fn lock_sql(&self, scope: LockScope, _wait: Duration) -> Option<String> {
        // The waiting functions return `void`: select a value beside the call.
        Some(format!(
            "SELECT 1 AS locked FROM (SELECT {}({PG_KEY})) AS l",
            pg_function(scope, "")
        ))
    }

    fn unlock_sql(&self) -> Option<String> {
        Some(format!("SELECT pg_advisory_unlock({PG_KEY}) AS released"))
    }
}

fn pg_function(scope: LockScope, attempt: &str) -> String {
    match scope {
        LockScope::Session => format!("pg_{attempt}advisory_lock"),
        LockScope::Transaction => format!("pg_{attempt}advisory_xact_lock"),
    }
}

/// The MySQL lock name: `GET_LOCK` names are limited to 64 characters, so database and name
/// are hashed into one.
const MYSQL_KEY: &str = "CONCAT('lexigram_migrate_', MD5(CONCAT(DATABASE(), '.', ?)))";

/// MySQL/MariaDB have session locks only (`GET_LOCK`).
impl AdvisoryLocks for MySql {
    fn try_lock_sql(&self, scope: LockScope) -> Option<String> {
        self.lock_sql(scope, Duration::ZERO)
    }

    fn lock_sql(&self, scope: LockScope, wait: Duration) -> Option<String> {
        (scope == LockScope::Session).then(|| {
            format!(
                "SELECT COALESCE(GET_LOCK({MYSQL_KEY}, {}), 0) AS locked",
                wait.as_secs()
            )
        })
    }

    fn unlock_sql(&self) -> Option<String> {
        Some(format!("SELECT RELEASE_LOCK({MYSQL_KEY}) AS released"))
    }
}
