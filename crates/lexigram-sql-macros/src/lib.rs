//! `#[derive(Entity)]` for lexigram-sql.
