//! Tenant (row-level) scopes: repositories and tables bound to `tenant_id = 42`, a policy
//! that refuses unscoped access to the tables that need a scope, a logged
//! `admin_bypass(reason)`, and PostgreSQL native row-level security.
//!
//! # Scoped repositories
//!
//! [`Repository::scoped`](crate::Repository::scoped) (or [`Database::scoped`](crate::Database::scoped)
//! for repositories and tables of one handle) binds a [`TenantScope`]. Every read, update and
//! delete then has `scope_column = value` ANDed around the caller's *whole* filter — the
//! caller's filter is one nested term, so `OR`-ing an always-true condition cannot escape —
//! and inserts set the scope column. A write that would leave the scope (an entity holding
//! another tenant's value, an update that changes the scope column, an upsert onto a key of
//! another tenant) fails with [`Error::ScopeViolation`](crate::Error::ScopeViolation) and
//! changes nothing; a key of another tenant is simply not found.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> lexigram_sql::Result<()> {
//! use lexigram_sql::{Database, Entity, Error, Filter};
//! use lexigram_sql::repository::{col, Record};
//! use lexigram_sql::scope::{RowLevelSecurityPolicy, TenantScope};
//!
//! #[derive(Debug, Clone, Entity)]
//! struct Invoice { #[entity(key, generated)] id: i64, tenant_id: i64, total: i64 }
//!
//! let db = Database::connect_url("sqlite://").await?;
//! db.execute_batch("CREATE TABLE invoices (id INTEGER PRIMARY KEY, tenant_id INTEGER NOT NULL, total INTEGER NOT NULL)").await?;
//! db.set_security_policy(RowLevelSecurityPolicy::new().require_entity::<Invoice>("tenant_id")?);
//!
//! let acme = db.scoped(TenantScope::new("tenant_id", 1));
//! let invoices = acme.repository::<Invoice>()?;
//! invoices.create(Invoice { id: 0, tenant_id: 0, total: 5 }).await?;
//! assert_eq!(invoices.update_where(Filter::all(), Record::new().set("total", 6)).await?, 1);
//! // Unscoped access to a table the policy protects is refused before any SQL:
//! let err = db.repository::<Invoice>().find_many(Filter::all()).await.unwrap_err();
//! assert_eq!(err.code(), "LEX_ERR_SQL_030");
//! // An administrator may lift the scope, logged at WARN with the reason:
//! let all = invoices.admin_bypass("support ticket 4711").count(Filter::all()).await?;
//! assert_eq!(all, 1);
//! # Ok(()) }
//! ```
//!
//! # PostgreSQL native row-level security
//!
//! With [`TenantScope::with_native_rls`], each statement of a scoped handle on PostgreSQL
//! runs in a transaction (the caller's, or one opened for it) whose first statement is
//! `SELECT set_config('lexigram.tenant', $1, true)` — the tenant bound, never formatted,
//! and local to the transaction. [`Database::begin_scoped`](crate::Database::begin_scoped)
//! opens such a transaction for raw SQL. Policies then read the setting:
//!
//! ```sql
//! ALTER TABLE invoices ENABLE ROW LEVEL SECURITY;
//! ALTER TABLE invoices FORCE ROW LEVEL SECURITY;  -- also for the table's owner
//! CREATE POLICY tenant_isolation ON invoices
//!     USING (tenant_id = NULLIF(current_setting('lexigram.tenant', true), '')::bigint)
//!     WITH CHECK (tenant_id = NULLIF(current_setting('lexigram.tenant', true), '')::bigint);
//! ```
//!
//! Superusers and roles with `BYPASSRLS` are never subject to policies; table owners are
//! only with `FORCE ROW LEVEL SECURITY`. Connect as an ordinary role for the policies to
//! apply. Outside a scoped transaction `current_setting(.., true)` is NULL on a fresh
//! connection but the empty string on a pooled connection that ran a scoped transaction
//! before (the transaction-local value is reset to ''), hence the `NULLIF`: unscoped
//! statements then see no rows instead of failing on `''::bigint`.

mod keys;
mod policy;
mod repo;
mod run;
mod table;
mod tenant;
mod write;

pub(crate) use keys::{key_filter, key_values};
pub(crate) use policy::{PolicySlot, ScopeMark, check_handle, guard};
pub use policy::{RowLevelSecurityPolicy, ScopeColumn};
pub use repo::ScopedRepository;
pub(crate) use run::in_transaction;
pub use table::{ScopedDatabase, ScopedTable};
pub use tenant::{DEFAULT_RLS_SETTING, TenantScope};
