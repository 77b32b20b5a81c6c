//! Replication: the statements that read a primary's last write position and a replica's lag.

use super::AnyConn;
use crate::config::BackendKind;
use crate::error::Result;

/// The commit position of a primary's last write, as the server spells it.
pub(crate) enum WritePosition {
    /// A PostgreSQL WAL location (`0/16B3748`).
    Lsn(String),
    /// MariaDB GTIDs (`0-1-42,1-1-7`).
    Gtid(String),
}

/// The commit position of the last write on `conn` (a primary connection), if the server
/// tells it.
pub(crate) async fn last_write(
    kind: BackendKind,
    conn: &mut AnyConn,
) -> Result<Option<WritePosition>> {
    match kind {
        BackendKind::Postgres => {
            let row = conn
                .query_first("SELECT pg_current_wal_insert_lsn()::text AS lsn", &[])
                .await?;
            Ok(row
                .and_then(|r| r.get::<String>("lsn").ok())
                .map(WritePosition::Lsn))
        }
        BackendKind::MySql => {
            let row = conn.query_first("SELECT @@last_gtid AS gtid", &[]).await?;
            Ok(row
                .and_then(|r| r.get::<Option<String>>("gtid").ok().flatten())
                .map(WritePosition::Gtid))
        }
        BackendKind::Sqlite => Ok(None),
    }
}

/// The replica's lag in seconds, if it says.
pub(crate) async fn lag(kind: BackendKind, conn: &mut AnyConn) -> Result<Option<f64>> {
    match kind {
        BackendKind::Postgres => {
            let row = conn
                .query_first(
                    "SELECT CASE WHEN NOT pg_is_in_recovery() THEN NULL WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0::float8 ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())::float8, 0) END AS lag",
                    &[],
                )
                .await?;
            Ok(row.and_then(|r| r.get::<Option<f64>>("lag").ok().flatten()))
        }
        BackendKind::MySql => {
            let row = conn.query_first("SHOW SLAVE STATUS", &[]).await?;
            Ok(row
                .and_then(|r| r.get::<Option<i64>>("Seconds_Behind_Master").ok().flatten())
                .map(|s| s as f64))
        }
        BackendKind::Sqlite => Ok(None),
    }
}
