//! The cost of building one typical dynamic `SELECT` (five conditions, a 10-value `IN`,
//! two ordering terms, limit and offset) with lexigram's own builder and with `sea-query`,
//! no database round trip: the measurement behind the query-builder decision in
//! `crates/lexigram-sql/src/repository/DESIGN.md`.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use lexigram_sql::Database;
use lexigram_sql::repository::{Query, asc, col, desc};
use sea_query::{Alias, Expr, Order, PostgresQueryBuilder, SqliteQueryBuilder};

#[path = "support/fixture.rs"]
#[allow(dead_code)]
mod fixture;
use fixture::{Item, rt};

fn lexigram_query(min: i64) -> Query {
    Query::new()
        .filter(
            col("name")
                .like("item 1%")
                .and(col("n").gte(min))
                .and(col("n").lt(min + 500))
                .and(col("version").eq(1))
                .and(col("id").is_in((min..min + 10).collect::<Vec<_>>())),
        )
        .order_by(desc("n"))
        .order_by(asc("id"))
        .limit(20)
        .offset(40)
}

fn sea_select(min: i64) -> sea_query::SelectStatement {
    sea_query::Query::select()
        .columns([
            Alias::new("id"),
            Alias::new("name"),
            Alias::new("n"),
            Alias::new("version"),
        ])
        .from(Alias::new("bench_entity"))
        .and_where(Expr::col(Alias::new("name")).like("item 1%"))
        .and_where(Expr::col(Alias::new("n")).gte(min))
        .and_where(Expr::col(Alias::new("n")).lt(min + 500))
        .and_where(Expr::col(Alias::new("version")).eq(1))
        .and_where(Expr::col(Alias::new("id")).is_in(min..min + 10))
        .order_by(Alias::new("n"), Order::Desc)
        .order_by(Alias::new("id"), Order::Asc)
        .limit(20)
        .offset(40)
        .to_owned()
}

fn build(c: &mut Criterion) {
    let rt = rt();
    let db = rt.block_on(Database::connect_url("sqlite://")).unwrap();
    let repo = db.repository::<Item>();
    let mut g = c.benchmark_group("build_select");
    g.bench_function("lexigram (sqlite dialect)", |b| {
        b.iter(|| {
            let (sql, params) = repo.select_sql(&lexigram_query(black_box(7))).unwrap();
            black_box((sql, params))
        })
    });
    g.bench_function("sea-query (sqlite)", |b| {
        b.iter(|| black_box(sea_select(black_box(7)).build(SqliteQueryBuilder)))
    });
    g.bench_function("sea-query (postgres)", |b| {
        b.iter(|| black_box(sea_select(black_box(7)).build(PostgresQueryBuilder)))
    });
    g.finish();
}

criterion_group!(benches, build);
criterion_main!(benches);
