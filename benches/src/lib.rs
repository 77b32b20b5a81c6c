//! Criterion benches for lexigram-sql; see `benches/`.
