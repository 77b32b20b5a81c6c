//! The spans: one per statement, transaction, unit of work and migration.

use tracing::Span;
use tracing::field::Empty;

use super::Observer;
use crate::error::Error;

/// The `tracing` target of every span of the data layer (`lexigram::logging` leaves them out
/// of log lines; an OpenTelemetry layer exports them).
pub const SPAN_TARGET: &str = "lexigram_sql::span";

/// `db.operation.name` of a statement: its first keyword in upper case (`SELECT`, `INSERT`,
/// `BEGIN`, …), or `OTHER`. A fixed set, so it is also a safe metric label.
///
/// ```
/// use lexigram_sql::observe::operation_name;
/// assert_eq!(operation_name("  -- find\n select 1"), "SELECT");
/// assert_eq!(operation_name("/* x */ INSERT INTO t VALUES (?)"), "INSERT");
/// assert_eq!(operation_name("WITH n AS (SELECT 1) SELECT * FROM n"), "WITH");
/// assert_eq!(operation_name("frobnicate"), "OTHER");
/// ```
pub fn operation_name(sql: &str) -> &'static str {
    OPERATIONS[operation_index(sql)]
}

/// Every value of [`operation_name`]; `OTHER` last.
pub(crate) const OPERATIONS: [&str; 27] = [
    "SELECT",
    "INSERT",
    "UPDATE",
    "DELETE",
    "WITH",
    "CREATE",
    "DROP",
    "ALTER",
    "BEGIN",
    "COMMIT",
    "ROLLBACK",
    "SAVEPOINT",
    "RELEASE",
    "SET",
    "SHOW",
    "PRAGMA",
    "TRUNCATE",
    "REPLACE",
    "CALL",
    "EXPLAIN",
    "VALUES",
    "GRANT",
    "REVOKE",
    "LOCK",
    "DO",
    "START",
    "OTHER",
];

/// The index of `sql`'s operation in [`OPERATIONS`].
pub(crate) fn operation_index(sql: &str) -> usize {
    let sql = skip_comments(sql);
    let end = sql
        .find(|c: char| !c.is_ascii_alphabetic())
        .unwrap_or(sql.len());
    let word = &sql[..end];
    let last = OPERATIONS.len() - 1;
    OPERATIONS[..last]
        .iter()
        .position(|k| k.eq_ignore_ascii_case(word))
        .unwrap_or(last)
}

/// `sql` from its first token: leading whitespace, `--` and `/* */` comments and `(` skipped.
fn skip_comments(mut sql: &str) -> &str {
    loop {
        sql = sql.trim_start_matches(|c: char| c.is_whitespace() || c == '(');
        if let Some(rest) = sql.strip_prefix("--") {
            sql = rest.split_once('\n').map_or("", |(_, after)| after);
        } else if let Some(rest) = sql.strip_prefix("/*") {
            sql = rest.split_once("*/").map_or("", |(_, after)| after);
        } else {
            return sql;
        }
    }
}

/// The span of one statement (`Span::none()` when no subscriber wants it: the fields are then
/// not even computed).
pub(crate) fn statement(o: &Observer, sql: &str) -> Span {
    tracing::info_span!(
        target: SPAN_TARGET,
        "db.statement",
        otel.name = operation_name(sql),
        otel.kind = "client",
        otel.status_code = Empty,
        db.system = o.system,
        db.namespace = &*o.namespace,
        db.operation.name = operation_name(sql),
        db.query.text = sql,
        server.address = o.address.as_deref(),
        server.port = o.port,
        db.response.returned_rows = Empty,
        error.type = Empty,
    )
}

/// Records a statement's outcome on its span: rows returned or affected, or the error code.
pub(crate) fn finish(span: &Span, outcome: &std::result::Result<u64, &Error>) {
    if span.is_disabled() {
        return;
    }
    match outcome {
        Ok(rows) => {
            span.record("db.response.returned_rows", rows);
        }
        Err(e) => failed(span, e),
    }
}

/// Marks a span failed with the error's stable code.
pub(crate) fn failed(span: &Span, e: &Error) {
    span.record("error.type", e.code());
    span.record("otel.status_code", "ERROR");
}

/// The span of a transaction or (for `label` "unit of work") a unit of work; its statements
/// are its children.
pub(crate) fn transaction(o: &Observer, label: &str) -> Span {
    if label == "unit of work" {
        tracing::info_span!(
            target: SPAN_TARGET,
            "db.unit_of_work",
            otel.name = "unit of work",
            otel.kind = "client",
            otel.status_code = Empty,
            db.system = o.system,
            db.namespace = &*o.namespace,
            server.address = o.address.as_deref(),
            server.port = o.port,
            db.transaction.outcome = Empty,
            error.type = Empty,
        )
    } else {
        tracing::info_span!(
            target: SPAN_TARGET,
            "db.transaction",
            otel.name = "transaction",
            otel.kind = "client",
            otel.status_code = Empty,
            db.system = o.system,
            db.namespace = &*o.namespace,
            server.address = o.address.as_deref(),
            server.port = o.port,
            db.transaction.outcome = Empty,
            error.type = Empty,
        )
    }
}

/// Records how a transaction ended: `commit`, `rollback` or `dropped`, and the error if any.
pub(crate) fn ended(span: &Span, outcome: &'static str, error: Option<&Error>) {
    if span.is_disabled() {
        return;
    }
    span.record("db.transaction.outcome", outcome);
    if let Some(e) = error {
        failed(span, e);
    }
}

/// The span of one migration step (version, name, `up` or `down`).
pub(crate) fn migration(o: &Observer, version: i64, name: &str, direction: &str) -> Span {
    tracing::info_span!(
        target: SPAN_TARGET,
        "db.migration",
        otel.name = "migration",
        otel.status_code = Empty,
        db.system = o.system,
        db.namespace = &*o.namespace,
        server.address = o.address.as_deref(),
        server.port = o.port,
        db.migration.version = version,
        db.migration.name = name,
        db.migration.direction = direction,
        error.type = Empty,
    )
}
