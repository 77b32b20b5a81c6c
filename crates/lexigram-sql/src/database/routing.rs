//! Read routing of a [`Database`]: primary or replica, and read-your-writes sessions.

use super::session::Session;
use super::{Database, Route, route};
use crate::backend::AnyConn;
use crate::error::{Error, Result};

impl Database {
    /// This database with every statement on the primary: reads that must see the latest
    /// data regardless of sessions. Shares the pools.
    ///
    /// Without replicas every handle already uses only the primary.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> lexigram_sql::Result<()> {
    /// let db = lexigram_sql::Database::connect_url("sqlite://").await?;
    /// let n: i64 = db.primary().fetch_one("SELECT 1 AS n", &[]).await?.get("n")?;
    /// assert_eq!(n, 1);
    /// # Ok(()) }
    /// ```
    pub fn primary(&self) -> Database {
        Database {
            route: Route::Primary,
            ..self.clone()
        }
    }

    /// This database with its reads (`fetch_*`, repository finds) forced onto a replica, even
    /// locking reads and reads a session would send to the primary; the caller accepts
    /// replication lag. Writes still go to the primary. With no replica available (none
    /// configured, all down), reads go to the primary.
    ///
    /// ```no_run
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> lexigram_sql::Result<()> {
    /// let db = lexigram_sql::Database::connect_url("postgresql://app@primary/shop").await?;
    /// let report = db.replica().fetch_all("SELECT day, total FROM daily_sales", &[]).await?;
    /// # Ok(()) }
    /// ```
    pub fn replica(&self) -> Database {
        Database {
            route: Route::Replica,
            ..self.clone()
        }
    }

    /// This database with a new read-your-writes [`Session`]: see
    /// [`Database::with_session`]. Keep the returned handle (or its
    /// [`Database::session_token`]) for the session's later reads.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> lexigram_sql::Result<()> {
    /// let db = lexigram_sql::Database::connect_url("sqlite://").await?.session();
    /// db.execute("CREATE TABLE t (n INTEGER)", &[]).await?;
    /// db.execute("INSERT INTO t VALUES (1)", &[]).await?;
    /// let n: i64 = db.fetch_one("SELECT n FROM t", &[]).await?.get("n")?;
    /// assert_eq!(n, 1);
    /// assert!(db.session_token().is_some());
    /// # Ok(()) }
    /// ```
    pub fn session(&self) -> Database {
        self.with_session(&Session::new())
    }

    /// This database with `session`: after each write through it (and every handle, repository
    /// and unit of work made from it) the session remembers the primary's commit position,
    /// and its later reads go only to a replica that has replayed that position, else to the
    /// primary. Reads see every write made through the same session and never go back in
    /// time.
    ///
    /// ```no_run
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> lexigram_sql::Result<()> {
    /// use lexigram_sql::{Database, Session};
    /// let db = Database::connect_url("postgresql://app@primary/shop").await?;
    /// let session = Session::new();
    /// db.with_session(&session).execute("UPDATE carts SET n = n + 1 WHERE id = $1", &[7i64.into()]).await?;
    /// // later, e.g. in another handler of the same user session:
    /// let cart = db.with_session(&session).fetch_one("SELECT n FROM carts WHERE id = $1", &[7i64.into()]).await?;
    /// # Ok(()) }
    /// ```
    pub fn with_session(&self, session: &Session) -> Database {
        Database {
            session: Some(session.clone()),
            ..self.clone()
        }
    }

    /// The read-your-writes session of this handle, if it has one.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> lexigram_sql::Result<()> {
    /// let db = lexigram_sql::Database::connect_url("sqlite://").await?;
    /// assert!(db.session_token().is_none());
    /// let session = db.session();
    /// assert_eq!(session.session_token().map(|s| s.stats().replica_reads), Some(0));
    /// # Ok(()) }
    /// ```
    pub fn session_token(&self) -> Option<&Session> {
        self.session.as_ref()
    }

    /// The number of configured read replicas.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> lexigram_sql::Result<()> {
    /// assert_eq!(lexigram_sql::Database::connect_url("sqlite://").await?.replica_count(), 0);
    /// # Ok(()) }
    /// ```
    pub fn replica_count(&self) -> usize {
        self.inner.replicas.replicas.len()
    }

    /// The connection a read runs on: a replica's (with its index) or the primary's.
    pub(super) async fn read_conn(&self, sql: &str) -> Result<(AnyConn, Option<usize>)> {
        let replicas = &self.inner.replicas;
        if replicas.is_empty() || self.route == Route::Primary {
            return Ok((self.acquire().await?, None));
        }
        let read_only = route::is_read_only(sql);
        if self.route == Route::Replica || read_only {
            let required = match (&self.session, self.route) {
                (Some(session), Route::Auto) => session.required(),
                _ => Ok(None),
            };
            if let Ok(position) = required
                && let Some((conn, index)) = replicas.acquire(position.as_ref()).await
            {
                if let Some(session) = &self.session {
                    session.count(true);
                }
                return Ok((conn, Some(index)));
            }
        }
        if read_only && let Some(session) = &self.session {
            session.count(false);
        }
        Ok((self.acquire().await?, None))
    }

    /// After a write on the primary connection `conn`: a session remembers its position.
    pub(super) async fn after_write(&self, conn: &mut AnyConn) {
        if let Some(session) = &self.session
            && !self.inner.replicas.is_empty()
        {
            session.record(self.kind(), conn).await;
        }
    }

    /// After a `fetch_*` on the primary: one that wrote (`INSERT … RETURNING`) is a write.
    pub(super) async fn after_read_on_primary(&self, conn: &mut AnyConn, sql: &str) {
        if self.session.is_some() && !self.inner.replicas.is_empty() && !route::is_read_only(sql) {
            self.after_write(conn).await;
        }
    }

    /// A read on replica `index` failed with `error`, which makes it skip that replica.
    pub(super) fn replica_failed(&self, index: usize, error: &Error) {
        if let Some(replica) = self.inner.replicas.replicas.get(index) {
            tracing::debug!(replica = %replica.target, error = %error, "read failed on a replica; retrying on the primary");
            replica.failed(error);
        }
    }
}
