//! Units of work: one transaction, repositories that act inside it, change tracking flushed in
//! order on commit, domain events written to an outbox in the same transaction, and retry of
//! whole transactions on conflicts.
//!
//! The troubleshooting page's contract: *"If commit() is not called, the transaction is rolled
//! back on exit."* A [`UnitOfWork`] dropped without [`UnitOfWork::commit`] is rolled back and
//! logs `unit of work dropped without commit: rolled back` at WARN.

mod outbox;
mod relay;
mod retry;
mod tracking;
mod unit;

pub(crate) use outbox::OutboxReady;
pub use outbox::{OUTBOX_TABLE, Outbox, OutboxEvent};
pub use relay::{PublishError, Publisher, Relay, RelayHandle, RelayStats};
pub use retry::RetryPolicy;
pub use unit::UnitOfWork;
