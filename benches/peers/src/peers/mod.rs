//! The peers: one module each.

pub mod diesel_async_peer;
pub mod diesel_models;
pub mod diesel_sync;
pub mod lex;
pub mod raw_mysql;
pub mod raw_pg;
pub mod raw_sqlite;
pub mod seaorm_peer;
pub mod sqlx_peer;
