//! What you write is what you read: values bound to columns of other types are converted
//! exactly or refused with a typed error, on every backend, and nothing is stored changed.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::IpAddr;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use lexigram_sql::config::BackendKind;
use lexigram_sql::{Database, Decimal, Error, Interval, Value};

fn ph(db: &Database, n: usize) -> String {
    let mut s = String::new();
    db.dialect().push_placeholder(&mut s, n);
    s
}

fn dec(s: &str) -> Decimal {
    Decimal::from_str_exact(s).unwrap()
}

/// The server's own text for a stored value (`CAST(.. AS CHAR)` on MySQL).
fn as_text(kind: BackendKind, col: &str) -> String {
    match kind {
        BackendKind::MySql => format!("CAST({col} AS CHAR)"),
        _ => format!("CAST({col} AS TEXT)"),
    }
}

async fn table(db: &Database, kind: BackendKind, name: &str, column_type: &str) {
    let id = if kind == BackendKind::Sqlite {
        "INTEGER PRIMARY KEY"
    } else {
        "BIGINT PRIMARY KEY"
    };
    db.execute_batch(&format!("CREATE TABLE {name} (id {id}, v {column_type})"))
        .await
        .unwrap();
}

#[tokio::test]
async fn numeric_12_2_stores_each_binding_exactly_and_never_zero() {
    // 12345678901 has 11 integer digits and NUMERIC(12,2) holds 10: stored exactly (SQLite,
    // which does not enforce precision) or refused with a typed error, never changed.
    let cases: [(Value, &str); 6] = [
        (Value::Int(12), "12.00"),
        (Value::Int(1), "1.00"),
        (Value::Int(12_345_678_901), "12345678901.00"),
        (Value::Float(12.34), "12.34"),
        (Value::Text("12.34".into()), "12.34"),
        (Value::Decimal(dec("12.34")), "12.34"),
    ];
    for t in common::all().await {
        let db = t.connect().await;
        table(&db, t.kind, "money", "NUMERIC(12,2)").await;
        let insert = format!(
            "INSERT INTO money (id, v) VALUES ({}, {})",
            ph(&db, 1),
            ph(&db, 2)
        );
        for (i, (value, expected)) in cases.iter().enumerate() {
            let id = i as i64 + 1;
            match db.execute(&insert, &[Value::Int(id), value.clone()]).await {
                Ok(_) => {}
                Err(e @ Error::Encode { .. }) if *expected == "12345678901.00" => {
                    assert!(
                        e.to_string().contains("overflow") || e.to_string().contains("range"),
                        "{e}"
                    );
                    assert_eq!(
                        db.fetch_optional(
                            &format!("SELECT v FROM money WHERE id = {}", ph(&db, 1)),
                            &[Value::Int(id)]
                        )
                        .await
                        .unwrap(),
                        None
                    );
                    continue;
                }
                Err(e) => panic!("{}: {value:?}: {e}", t.name()),
            }
            let row = db
                .fetch_one(
                    &format!(
                        "SELECT v, {} AS text FROM money WHERE id = {}",
                        as_text(t.kind, "v"),
                        ph(&db, 1)
                    ),
                    &[Value::Int(id)],
                )
                .await
                .unwrap();
            let read: Decimal = row.get("v").unwrap();
            assert_eq!(
                read.to_string(),
                *expected,
                "{}: {value:?} read back as {read}",
                t.name()
            );
            if t.kind != BackendKind::Sqlite {
                // The server's own rendering: PostgreSQL and MariaDB keep the declared scale.
                assert_eq!(
                    row.get::<String>("text").unwrap(),
                    *expected,
                    "{}",
                    t.name()
                );
            }
        }
        let zeros = db
            .fetch_one("SELECT COUNT(*) FROM money WHERE v = 0", &[])
            .await
            .unwrap()
            .get_at::<i64>(0)
            .unwrap();
        assert_eq!(zeros, 0, "{}", t.name());
    }
}

common::per_backend!(
    async fn u64_max_into_bigint_is_a_typed_error_and_stores_nothing(t) {
        let db = t.connect().await;
        table(&db, t.kind, "big", "BIGINT").await;
        let sql = format!(
            "INSERT INTO big (id, v) VALUES ({}, {})",
            ph(&db, 1),
            ph(&db, 2)
        );
        let err = db
            .execute(&sql, &[Value::Int(1), Value::from(u64::MAX)])
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::Encode { .. }),
            "{}: expected Encode, got {err:?}",
            t.name()
        );
        assert_eq!(err.code(), "LEX_ERR_SQL_023");
        assert!(err.to_string().starts_with("EncodeError: "), "{err}");
        assert_eq!(common::row_count(&db, "big").await, 0, "{}", t.name());
        // The largest u64 a BIGINT holds goes in and comes back.
        db.execute(&sql, &[Value::Int(2), Value::from(i64::MAX as u64)])
            .await
            .unwrap();
        let back: u64 = db
            .fetch_one("SELECT v FROM big", &[])
            .await
            .unwrap()
            .get("v")
            .unwrap();
        assert_eq!(back, i64::MAX as u64);
    }
);

#[tokio::test]
async fn postgres_refusals_name_the_parameter_the_value_kind_and_the_server_type() {
    let Some(t) = common::postgres().await else {
        return;
    };
    let db = t.connect().await;
    db.execute_batch("CREATE TABLE p (a TEXT, b SMALLINT, c NUMERIC(12,2), d BIGINT)")
        .await
        .unwrap();
    let sql = "INSERT INTO p (a, b, c, d) VALUES ($1, $2, $3, $4)";
    let cases = [
        (
            2,
            vec!["x".into(), Value::Int(40_000), Value::Null, Value::Null],
            "integer",
            "int2",
        ),
        (
            3,
            vec!["x".into(), Value::Null, "12.x".into(), Value::Null],
            "text",
            "numeric",
        ),
        (
            4,
            vec!["x".into(), Value::Null, Value::Null, Value::Float(1.5)],
            "float",
            "int8",
        ),
        (
            3,
            vec!["x".into(), Value::Null, Value::Bool(true), Value::Null],
            "bool",
            "numeric",
        ),
    ];
    for (position, params, kind, server_type) in cases {
        let err = db.execute(sql, &params).await.unwrap_err();
        match &err {
            Error::Encode {
                parameter,
                value,
                target,
                ..
            } => {
                assert_eq!(*parameter, Some(position), "{err}");
                assert_eq!(value, kind, "{err}");
                assert_eq!(target, server_type, "{err}");
            }
            other => panic!("expected Encode, got {other:?}"),
        }
        assert!(
            err.to_string().contains(&format!(
                "parameter {position} ({kind} value) cannot be stored as {server_type}"
            )),
            "{err}"
        );
    }
    // The connection that refused them is fine, and nothing was written.
    assert_eq!(common::row_count(&db, "p").await, 0);
    db.execute(
        sql,
        &["x".into(), Value::Int(7), "12.5".into(), Value::Float(3.0)],
    )
    .await
    .unwrap();
    let row = db.fetch_one("SELECT b, c, d FROM p", &[]).await.unwrap();
    assert_eq!(row.get::<i16>("b").unwrap(), 7);
    assert_eq!(row.get::<Decimal>("c").unwrap().to_string(), "12.50");
    assert_eq!(row.get::<i64>("d").unwrap(), 3);
}

#[tokio::test]
async fn mysql_zero_dates_and_unsigned_bigints_never_change_silently() {
    let Some(t) = common::mysql().await else {
        return;
    };
    let db = t.connect().await;
    db.execute_batch(
        "SET SESSION sql_mode = ''; CREATE TABLE z (id INT PRIMARY KEY, d DATE, dt DATETIME, u BIGINT UNSIGNED); \
         INSERT INTO z VALUES (1, '0000-00-00', '0000-00-00 00:00:00', 18446744073709551615)",
    )
    .await
    .unwrap();
    for col in ["d", "dt"] {
        let err = db
            .fetch_one(&format!("SELECT {col} FROM z"), &[])
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Decode { .. }), "{err:?}");
        assert!(err.to_string().contains("not a calendar date"), "{err}");
    }
    let row = db.fetch_one("SELECT u FROM z", &[]).await.unwrap();
    assert_eq!(row.get::<u64>("u").unwrap(), u64::MAX);
    assert_eq!(row.get::<Decimal>("u").unwrap(), Decimal::from(u64::MAX));
    let err = row.get::<i64>("u").unwrap_err();
    assert!(err.to_string().contains("does not fit in i64"), "{err}");
}

common::per_backend!(
    async fn integral_decimals_read_as_integers_and_sums_too(t) {
        let db = t.connect().await;
        table(&db, t.kind, "n", "NUMERIC(12,2)").await;
        let sql = format!(
            "INSERT INTO n (id, v) VALUES ({}, {})",
            ph(&db, 1),
            ph(&db, 2)
        );
        db.execute(&sql, &[Value::Int(1), Value::Int(20)])
            .await
            .unwrap();
        db.execute(&sql, &[Value::Int(2), Value::Decimal(dec("0.5"))])
            .await
            .unwrap();
        let row = db
            .fetch_one("SELECT v FROM n WHERE id = 1", &[])
            .await
            .unwrap();
        assert_eq!(row.get::<i64>("v").unwrap(), 20, "{}", t.name());
        let half = db
            .fetch_one("SELECT v FROM n WHERE id = 2", &[])
            .await
            .unwrap();
        let err = half.get::<i64>("v").unwrap_err();
        assert!(
            err.to_string().contains("not a whole number"),
            "{}: {err}",
            t.name()
        );
        let sum = db
            .fetch_one("SELECT SUM(id) AS s FROM n", &[])
            .await
            .unwrap();
        assert_eq!(sum.get::<i64>("s").unwrap(), 3, "{}", t.name());
    }
);

/// One column type per backend and a value that must come back exactly.
struct RoundTrip {
    name: &'static str,
    types: [&'static str; 3], // sqlite, postgres, mysql ("" = not on that backend)
    value: Value,
    check: fn(&Value) -> bool,
}

fn kind_index(kind: BackendKind) -> usize {
    match kind {
        BackendKind::Sqlite => 0,
        BackendKind::Postgres => 1,
        BackendKind::MySql => 2,
    }
}

#[tokio::test]
async fn service_column_types_round_trip_exactly() {
    let ts = DateTime::<Utc>::from_str("2024-02-29T23:59:58.123456Z").unwrap();
    let cases = vec![
        RoundTrip {
            name: "time of day",
            types: ["TIME", "TIME", "TIME(6)"],
            value: NaiveTime::from_hms_micro_opt(23, 59, 58, 123_456)
                .unwrap()
                .into(),
            check: |v| {
                NaiveTime::from_value_or(v) == NaiveTime::from_hms_micro_opt(23, 59, 58, 123_456)
            },
        },
        RoundTrip {
            name: "interval",
            types: ["", "INTERVAL", ""],
            value: Interval::new(14, -3, 4_000_005).into(),
            check: |v| *v == Value::Interval(Interval::new(14, -3, 4_000_005)),
        },
        RoundTrip {
            name: "bigint array",
            types: ["", "BIGINT[]", ""],
            value: vec![Some(1i64), None, Some(i64::MIN)].into(),
            check: |v| {
                lexigram_sql::FromValue::from_value(v) == Ok(vec![Some(1i64), None, Some(i64::MIN)])
            },
        },
        RoundTrip {
            name: "text array",
            types: ["", "TEXT[]", ""],
            value: vec!["a".to_string(), "ü,\"}".to_string(), String::new()].into(),
            check: |v| {
                lexigram_sql::FromValue::from_value(v)
                    == Ok(vec!["a".to_string(), "ü,\"}".to_string(), String::new()])
            },
        },
        RoundTrip {
            name: "enum as text",
            types: ["TEXT", "mood", "ENUM('sad','happy')"],
            value: "happy".into(),
            check: |v| *v == Value::Text("happy".into()),
        },
        RoundTrip {
            name: "inet as IpAddr",
            types: ["TEXT", "INET", "VARCHAR(45)"],
            value: IpAddr::from_str("2001:db8::1").unwrap().into(),
            check: |v| {
                lexigram_sql::FromValue::from_value(v)
                    == Ok(IpAddr::from_str("2001:db8::1").unwrap())
            },
        },
        RoundTrip {
            name: "cidr as text",
            types: ["TEXT", "CIDR", "VARCHAR(49)"],
            value: "10.1.0.0/16".into(),
            check: |v| *v == Value::Text("10.1.0.0/16".into()),
        },
        RoundTrip {
            name: "json value",
            types: ["TEXT", "JSONB", "JSON"],
            value: serde_json::json!({"a": [1, "x", null], "b": 2.5}).into(),
            check: |v| {
                lexigram_sql::FromValue::from_value(v)
                    == Ok(serde_json::json!({"a": [1, "x", null], "b": 2.5}))
            },
        },
        RoundTrip {
            name: "json from text",
            types: ["TEXT", "JSON", "JSON"],
            value: "{\"k\": true}".into(),
            check: |v| lexigram_sql::FromValue::from_value(v) == Ok(serde_json::json!({"k": true})),
        },
        RoundTrip {
            name: "uuid as char(36)",
            types: ["TEXT", "UUID", "CHAR(36)"],
            value: uuid::Uuid::from_u128(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef).into(),
            check: |v| {
                lexigram_sql::FromValue::from_value(v)
                    == Ok(uuid::Uuid::from_u128(
                        0x0123_4567_89ab_cdef_0123_4567_89ab_cdef,
                    ))
            },
        },
        RoundTrip {
            name: "uuid as binary(16)",
            types: ["BLOB", "BYTEA", "BINARY(16)"],
            value: Value::Bytes(uuid::Uuid::from_u128(0xfeed_u128 << 64).as_bytes().to_vec()),
            check: |v| {
                lexigram_sql::FromValue::from_value(v)
                    == Ok(uuid::Uuid::from_u128(0xfeed_u128 << 64))
            },
        },
        RoundTrip {
            name: "timestamp with time zone",
            types: ["TEXT", "TIMESTAMPTZ", "DATETIME(6)"],
            value: ts.into(),
            check: |v| {
                lexigram_sql::FromValue::from_value(v)
                    == Ok(DateTime::<Utc>::from_str("2024-02-29T23:59:58.123456Z").unwrap())
            },
        },
        RoundTrip {
            name: "timestamp without time zone",
            types: ["TEXT", "TIMESTAMP", "DATETIME(6)"],
            value: ts.naive_utc().into(),
            check: |v| {
                lexigram_sql::FromValue::from_value(v)
                    == Ok(NaiveDateTime::from_str("2024-02-29T23:59:58.123456").unwrap())
            },
        },
        RoundTrip {
            name: "date",
            types: ["TEXT", "DATE", "DATE"],
            value: NaiveDate::from_ymd_opt(1999, 12, 31).unwrap().into(),
            check: |v| {
                lexigram_sql::FromValue::from_value(v)
                    == Ok(NaiveDate::from_ymd_opt(1999, 12, 31).unwrap())
            },
        },
        RoundTrip {
            name: "decimal at full precision",
            // SQLite keeps numbers as doubles: a decimal this long is refused there (below).
            types: ["", "NUMERIC", "DECIMAL(65,28)"],
            value: dec("-1234567890.1234567890123456789").into(),
            check: |v| {
                lexigram_sql::FromValue::from_value(v) == Ok(dec("-1234567890.1234567890123456789"))
            },
        },
    ];
    for t in common::all().await {
        let db = t.connect().await;
        if t.kind == BackendKind::Postgres {
            db.execute_batch("CREATE TYPE mood AS ENUM ('sad', 'happy')")
                .await
                .unwrap();
        }
        for (n, case) in cases.iter().enumerate() {
            let ty = case.types[kind_index(t.kind)];
            if ty.is_empty() {
                continue;
            }
            let name = format!("rt{n}");
            table(&db, t.kind, &name, ty).await;
            db.execute(
                &format!(
                    "INSERT INTO {name} (id, v) VALUES ({}, {})",
                    ph(&db, 1),
                    ph(&db, 2)
                ),
                &[Value::Int(1), case.value.clone()],
            )
            .await
            .unwrap_or_else(|e| panic!("{} {}: {e}", t.name(), case.name));
            let read = db
                .fetch_one(&format!("SELECT v FROM {name}"), &[])
                .await
                .unwrap_or_else(|e| panic!("{} {}: {e}", t.name(), case.name));
            let v = read.value("v").unwrap();
            assert!(
                (case.check)(v),
                "{} {}: read back {v:?}",
                t.name(),
                case.name
            );
        }
    }
}

/// An entity with a UUID key stored as BINARY(16) on MySQL (CHAR(36)/uuid elsewhere).
#[derive(Debug, Clone, PartialEq, lexigram_sql::Entity)]
#[entity(table = "tokens")]
struct Token {
    #[entity(key)]
    id: uuid::Uuid,
    label: String,
}

common::per_backend!(
    async fn uuid_keys_round_trip_as_binary_16_on_mysql_and_natively_elsewhere(t) {
        let db = t.connect().await;
        let ty = match t.kind {
            BackendKind::MySql => "BINARY(16)",
            BackendKind::Postgres => "UUID",
            BackendKind::Sqlite => "TEXT",
        };
        db.execute_batch(&format!(
            "CREATE TABLE tokens (id {ty} PRIMARY KEY, label VARCHAR(20) NOT NULL)"
        ))
        .await
        .unwrap();
        let repo = db.repository::<Token>();
        let token = Token {
            id: uuid::Uuid::from_u128(0x00ff_1234_5678_9abc_def0_0011_2233_4455),
            label: "a".into(),
        };
        let stored = repo.create(token.clone()).await.unwrap();
        assert_eq!(stored, token, "{}", t.name());
        assert_eq!(
            repo.find_one(token.id).await.unwrap(),
            token,
            "{}",
            t.name()
        );
        let via_table = db
            .table("tokens")
            .create(
                lexigram_sql::Record::new()
                    .set("id", uuid::Uuid::from_u128(7))
                    .set("label", "b"),
            )
            .await
            .unwrap();
        assert_eq!(
            via_table.get::<uuid::Uuid>("id").unwrap(),
            uuid::Uuid::from_u128(7),
            "{}",
            t.name()
        );
        if t.kind == BackendKind::MySql {
            let len: i64 = db
                .fetch_one("SELECT LENGTH(id) FROM tokens WHERE label = 'a'", &[])
                .await
                .unwrap()
                .get_at(0)
                .unwrap();
            assert_eq!(len, 16);
        }
    }
);

#[tokio::test]
async fn sqlite_refuses_decimals_a_double_cannot_hold() {
    let t = common::sqlite();
    let db = t.connect().await;
    table(&db, t.kind, "d", "NUMERIC(38,19)").await;
    let err = db
        .execute(
            "INSERT INTO d (id, v) VALUES (1, ?)",
            &[Value::Decimal(dec("-1234567890.1234567890123456789"))],
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Encode {
                parameter: Some(1),
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(common::row_count(&db, "d").await, 0);
}

trait FromValueOr: Sized {
    fn from_value_or(v: &Value) -> Option<Self>;
}
impl<T: lexigram_sql::FromValue> FromValueOr for T {
    fn from_value_or(v: &Value) -> Option<Self> {
        T::from_value(v).ok()
    }
}

#[tokio::test]
async fn mysql_sessions_run_in_utc_so_timestamp_columns_keep_the_instant() {
    let Some(t) = common::mysql().await else {
        return;
    };
    let db = t.connect().await;
    let zone: String = db
        .fetch_one("SELECT @@session.time_zone", &[])
        .await
        .unwrap()
        .get_at(0)
        .unwrap();
    assert_eq!(zone, "+00:00");
    db.execute_batch("CREATE TABLE ts (id INT PRIMARY KEY, at TIMESTAMP(6) NULL)")
        .await
        .unwrap();
    let at = DateTime::<Utc>::from_str("2024-03-31T01:30:00.000001Z").unwrap();
    db.execute("INSERT INTO ts VALUES (1, ?)", &[at.into()])
        .await
        .unwrap();
    let epoch: i64 = db
        .fetch_one("SELECT UNIX_TIMESTAMP(at) FROM ts", &[])
        .await
        .unwrap()
        .get::<Decimal>("UNIX_TIMESTAMP(at)")
        .unwrap()
        .trunc()
        .try_into()
        .unwrap();
    assert_eq!(epoch, at.timestamp());
    let back: DateTime<Utc> = db
        .fetch_one("SELECT at FROM ts", &[])
        .await
        .unwrap()
        .get("at")
        .unwrap();
    assert_eq!(back, at);
}

common::per_backend!(
    async fn column_types_are_read_again_after_the_schema_changes(t) {
        if t.kind == BackendKind::Postgres {
            return; // PostgreSQL checks against the server's parameter types every time.
        }
        let db = t.connect().await;
        db.execute(
            "CREATE TABLE shifty (id INTEGER PRIMARY KEY, v INTEGER)",
            &[],
        )
        .await
        .unwrap();
        let shifty = db.table("shifty");
        let err = shifty
            .create(lexigram_sql::Record::new().set("id", 1).set("v", 12.5))
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Encode { .. }), "{}: {err:?}", t.name());
        db.execute("DROP TABLE shifty", &[]).await.unwrap();
        db.execute("CREATE TABLE shifty (id INTEGER PRIMARY KEY, v TEXT)", &[])
            .await
            .unwrap();
        let row = shifty
            .create(lexigram_sql::Record::new().set("id", 1).set("v", 12.5))
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", t.name()));
        assert_eq!(row.get::<f64>("v").unwrap(), 12.5, "{}", t.name());
    }
);
