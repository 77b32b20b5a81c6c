//! Running a scoped handle's work: directly, or inside a transaction that first sets the
//! PostgreSQL row-level-security setting.

use std::future::Future;

use super::tenant::TenantScope;
use crate::config::BackendKind;
use crate::database::{Database, Executor, Transaction};
use crate::error::{Error, Result};

/// Runs `f` on `ex` inside a transaction: `ex`'s own when it is one, else a new one that is
/// committed when `f` succeeds and rolled back when it fails.
pub(crate) async fn in_transaction<T, F, Fut>(ex: &Executor, f: F) -> Result<T>
where
    F: FnOnce(Executor) -> Fut,
    Fut: Future<Output = Result<T>>,
{
    match ex {
        Executor::Transaction(_) => f(ex.clone()).await,
        Executor::Database(db) => {
            db.transaction(|tx: Transaction| f(Executor::from(&tx)))
                .await
        }
    }
}

/// Runs `f` for a scoped handle: on `ex` as it is, or — with native row-level security on
/// PostgreSQL, or when `tx` asks for one — in a transaction whose first statement sets the
/// tenant.
pub(crate) async fn scoped<T, F, Fut>(
    ex: &Executor,
    scope: &TenantScope,
    tx: bool,
    f: F,
) -> Result<T>
where
    F: FnOnce(Executor) -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let rls = scope
        .rls_setting()
        .filter(|_| ex.database().kind() == BackendKind::Postgres);
    match rls {
        None if !tx => f(ex.clone()).await,
        None => in_transaction(ex, f).await,
        Some(setting) => {
            let value = scope.setting_text()?;
            in_transaction(ex, |inner| async move {
                set_tenant(&inner, setting, &value).await?;
                f(inner).await
            })
            .await
        }
    }
}

/// `SELECT set_config($1, $2, true)`: the setting for the rest of the transaction, both
/// bound as parameters.
pub(crate) async fn set_tenant(ex: &Executor, setting: &str, value: &str) -> Result<()> {
    ex.fetch_one(
        "SELECT set_config($1, $2, true)",
        &[setting.into(), value.into()],
    )
    .await
    .map(drop)
}

impl Database {
    /// Begins a transaction whose tenant is set for PostgreSQL row-level security
    /// (`set_config(setting, value, true)`, bound); on other backends a plain transaction.
    /// For raw SQL under native RLS policies; scoped repositories do this by themselves.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> lexigram_sql::Result<()> {
    /// use lexigram_sql::scope::TenantScope;
    /// let db = lexigram_sql::Database::connect_url("sqlite://").await?;
    /// let tx = db.begin_scoped(&TenantScope::new("tenant_id", 42).with_native_rls()).await?;
    /// tx.commit().await?;
    /// # Ok(()) }
    /// ```
    pub async fn begin_scoped(&self, scope: &TenantScope) -> Result<Transaction> {
        let rls = match (scope.rls_setting(), self.kind()) {
            (Some(setting), BackendKind::Postgres) => Some((setting, scope.setting_text()?)),
            _ => None,
        };
        let tx = self.begin().await?;
        if let Some((setting, value)) = rls
            && let Err(e) = set_tenant(&Executor::from(&tx), setting, &value).await
        {
            let _ = tx.rollback().await;
            return Err(e);
        }
        Ok(tx)
    }
}

/// [`Error::ScopeViolation`] for `target`.
pub(crate) fn violation(target: &str, scope: &TenantScope, column: &str, detail: String) -> Error {
    Error::ScopeViolation {
        target: target.to_string(),
        column: column.to_string(),
        scope: scope.value().to_string(),
        detail,
    }
}
