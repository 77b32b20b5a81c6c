//! The generated SQL, asserted per dialect.

use super::entity::{ColumnMeta, EntityMeta, SqlCache};
use super::sql::{Columns, EntitySql, SqlBuf, upsert};
use super::{Query, asc, col, desc, not};
use crate::backend::{Dialect, MySql, Postgres, Sqlite};
use crate::config::BackendKind;
use crate::value::Value;

/// What `#[derive(Entity)]` generates for
/// `struct User { #[entity(key, generated)] id, name, #[entity(rename = "mail")] email,
/// #[entity(version)] version, #[entity(soft_delete)] deleted_at }`.
static USER: EntityMeta = EntityMeta {
    name: "User",
    table: "users",
    columns: &[
        ColumnMeta {
            name: "id",
            field: "id",
        },
        ColumnMeta {
            name: "name",
            field: "name",
        },
        ColumnMeta {
            name: "mail",
            field: "email",
        },
        ColumnMeta {
            name: "version",
            field: "version",
        },
        ColumnMeta {
            name: "deleted_at",
            field: "deleted_at",
        },
    ],
    keys: &[0],
    key_generated: true,
    version: Some(3),
    soft_delete: Some(4),
    created_at: None,
    updated_at: None,
    relations: &[],
    cache: SqlCache::new(),
};

/// A plain entity: supplied key, no version, no soft delete.
static TAG: EntityMeta = EntityMeta {
    name: "Tag",
    table: "tags",
    columns: &[
        ColumnMeta {
            name: "code",
            field: "code",
        },
        ColumnMeta {
            name: "label",
            field: "label",
        },
    ],
    keys: &[0],
    key_generated: false,
    version: None,
    soft_delete: None,
    created_at: None,
    updated_at: None,
    relations: &[],
    cache: SqlCache::new(),
};

/// A composite key (order_id, line), versioned, in a schema.
static LINE: EntityMeta = EntityMeta {
    name: "Line",
    table: "billing.lines",
    columns: &[
        ColumnMeta {
            name: "order_id",
            field: "order_id",
        },
        ColumnMeta {
            name: "line",
            field: "line",
        },
        ColumnMeta {
            name: "qty",
            field: "qty",
        },
        ColumnMeta {
            name: "version",
            field: "version",
        },
    ],
    keys: &[0, 1],
    key_generated: false,
    version: Some(3),
    soft_delete: None,
    created_at: None,
    updated_at: None,
    relations: &[],
    cache: SqlCache::new(),
};

#[test]
fn composite_key_sql_postgres() {
    let s = EntitySql::build(&LINE, &Postgres);
    let cols = r#""order_id", "line", "qty", "version""#;
    assert_eq!(s.table, r#""billing"."lines""#);
    assert_eq!(
        s.find_key,
        format!(r#"SELECT {cols} FROM "billing"."lines" WHERE "order_id" = $1 AND "line" = $2"#)
    );
    assert_eq!(
        s.update,
        r#"UPDATE "billing"."lines" SET "qty" = $1, "version" = "version" + 1 WHERE "order_id" = $2 AND "line" = $3 AND "version" = $4"#
    );
    assert_eq!(
        s.delete,
        r#"DELETE FROM "billing"."lines" WHERE "order_id" = $1 AND "line" = $2 AND "version" = $3"#
    );
    assert!(
        s.upsert_key
            .contains(r#"ON CONFLICT ("order_id", "line") DO UPDATE SET "qty" = excluded."qty""#),
        "{}",
        s.upsert_key
    );
    assert_eq!(s.update_cols, [2]);
}

#[test]
fn composite_key_sql_mysql() {
    let s = EntitySql::build(&LINE, &MySql);
    assert_eq!(
        s.exists_key,
        "SELECT 1 FROM `billing`.`lines` WHERE `order_id` = ? AND `line` = ?"
    );
}

#[test]
fn user_sql_sqlite() {
    let s = EntitySql::build(&USER, &Sqlite);
    let cols = r#""id", "name", "mail", "version", "deleted_at""#;
    assert_eq!(s.select, format!(r#"SELECT {cols} FROM "users""#));
    assert_eq!(
        s.find_key,
        format!(r#"SELECT {cols} FROM "users" WHERE "id" = ? AND "deleted_at" IS NULL"#)
    );
    assert_eq!(s.exists_key, r#"SELECT 1 FROM "users" WHERE "id" = ?"#);
    assert_eq!(
        s.insert,
        format!(
            r#"INSERT INTO "users" ("name", "mail", "version", "deleted_at") VALUES (?, ?, ?, ?) RETURNING {cols}"#
        )
    );
    assert_eq!(
        s.update,
        r#"UPDATE "users" SET "name" = ?, "mail" = ?, "deleted_at" = ?, "version" = "version" + 1 WHERE "id" = ? AND "version" = ?"#
    );
    assert_eq!(
        s.delete,
        r#"DELETE FROM "users" WHERE "id" = ? AND "version" = ?"#
    );
    assert_eq!(
        s.set_deleted.as_deref(),
        Some(
            r#"UPDATE "users" SET "deleted_at" = ?, "version" = "version" + 1 WHERE "id" = ? AND "version" = ?"#
        )
    );
    assert_eq!(
        s.upsert_key,
        format!(
            r#"INSERT INTO "users" ({cols}) VALUES (?, ?, ?, ?, ?) ON CONFLICT ("id") DO UPDATE SET "name" = excluded."name", "mail" = excluded."mail", "deleted_at" = excluded."deleted_at", "version" = "users"."version" + 1 RETURNING {cols}"#
        )
    );
}

#[test]
fn user_sql_postgres() {
    let s = EntitySql::build(&USER, &Postgres);
    let cols = r#""id", "name", "mail", "version", "deleted_at""#;
    assert_eq!(
        s.find_key,
        format!(r#"SELECT {cols} FROM "users" WHERE "id" = $1 AND "deleted_at" IS NULL"#)
    );
    assert_eq!(
        s.insert,
        format!(
            r#"INSERT INTO "users" ("name", "mail", "version", "deleted_at") VALUES ($1, $2, $3, $4) RETURNING {cols}"#
        )
    );
    assert_eq!(
        s.update,
        r#"UPDATE "users" SET "name" = $1, "mail" = $2, "deleted_at" = $3, "version" = "version" + 1 WHERE "id" = $4 AND "version" = $5"#
    );
    assert_eq!(
        s.delete,
        r#"DELETE FROM "users" WHERE "id" = $1 AND "version" = $2"#
    );
    assert_eq!(
        s.set_deleted.as_deref(),
        Some(
            r#"UPDATE "users" SET "deleted_at" = $1, "version" = "version" + 1 WHERE "id" = $2 AND "version" = $3"#
        )
    );
}

#[test]
fn user_sql_mysql() {
    let s = EntitySql::build(&USER, &MySql);
    let cols = "`id`, `name`, `mail`, `version`, `deleted_at`";
    assert_eq!(
        s.find_key,
        format!("SELECT {cols} FROM `users` WHERE `id` = ? AND `deleted_at` IS NULL")
    );
    assert_eq!(
        s.insert,
        format!(
            "INSERT INTO `users` (`name`, `mail`, `version`, `deleted_at`) VALUES (?, ?, ?, ?) RETURNING {cols}"
        )
    );
    assert_eq!(
        s.update,
        "UPDATE `users` SET `name` = ?, `mail` = ?, `deleted_at` = ?, `version` = `version` + 1 WHERE `id` = ? AND `version` = ?"
    );
    assert_eq!(
        s.upsert_key,
        format!(
            "INSERT INTO `users` ({cols}) VALUES (?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE `name` = VALUES(`name`), `mail` = VALUES(`mail`), `deleted_at` = VALUES(`deleted_at`), `version` = `users`.`version` + 1 RETURNING {cols}"
        )
    );
    // Servers without RETURNING (Oracle MySQL, MariaDB < 10.5): the same writes without it,
    // and the read-back by key that includes soft-deleted rows.
    assert_eq!(
        s.insert_plain,
        "INSERT INTO `users` (`name`, `mail`, `version`, `deleted_at`) VALUES (?, ?, ?, ?)"
    );
    assert_eq!(
        s.upsert_key_plain,
        s.upsert_key.trim_end_matches(&format!(" RETURNING {cols}"))
    );
    assert!(!s.upsert_key_plain.contains("RETURNING"));
    assert_eq!(
        s.select_key,
        format!("SELECT {cols} FROM `users` WHERE `id` = ?")
    );
}

#[test]
fn plain_entity_sql() {
    let s = EntitySql::build(&TAG, &Postgres);
    assert_eq!(
        s.find_key,
        r#"SELECT "code", "label" FROM "tags" WHERE "code" = $1"#
    );
    assert_eq!(
        s.insert,
        r#"INSERT INTO "tags" ("code", "label") VALUES ($1, $2) RETURNING "code", "label""#
    );
    assert_eq!(
        s.update,
        r#"UPDATE "tags" SET "label" = $1 WHERE "code" = $2"#
    );
    assert_eq!(s.delete, r#"DELETE FROM "tags" WHERE "code" = $1"#);
    assert!(s.set_deleted.is_none());
    let by_label = upsert(&Sqlite, &TAG, &[1], &[0, 1], &s.columns, true);
    assert_eq!(
        by_label,
        r#"INSERT INTO "tags" ("code", "label") VALUES (?, ?) ON CONFLICT ("label") DO NOTHING RETURNING "code", "label""#
    );
}

#[test]
fn sql_is_cached_per_backend() {
    let a = USER.sql(BackendKind::Postgres);
    let b = USER.sql(BackendKind::Postgres);
    assert!(std::ptr::eq(a, b));
    assert!(!std::ptr::eq(a, USER.sql(BackendKind::Sqlite)));
}

fn render(d: &'static dyn Dialect, q: &Query) -> (String, Vec<Value>) {
    let s = USER.sql(BackendKind::Sqlite);
    let b = SqlBuf::select(d, &s.select, q, Some("deleted_at"), Columns::Entity(&USER)).unwrap();
    let head = format!("{} ", s.select);
    (b.sql.trim_start_matches(&head).to_string(), b.params)
}

#[test]
fn filters_per_dialect() {
    let q = Query::new()
        .filter(
            col("name")
                .eq("ada")
                .and(col("email").like("%@x").or(col("version").between(1, 3))),
        )
        .filter(not(col("id").is_in([1, 2])).and(col("deleted_at").is_null()))
        .order_by(desc("version"))
        .order_by(asc("name"))
        .limit(10)
        .offset(20);
    let (sql, params) = render(&Postgres, &q);
    assert_eq!(
        sql,
        r#"WHERE "deleted_at" IS NULL AND ("name" = $1 AND ("mail" LIKE $2 OR "version" BETWEEN $3 AND $4) AND NOT ("id" IN ($5, $6)) AND "deleted_at" IS NULL) ORDER BY "version" DESC, "name" LIMIT 10 OFFSET 20"#
    );
    assert_eq!(params.len(), 6);
    let (sql, _) = render(&MySql, &q.clone().with_deleted());
    assert_eq!(
        sql,
        "WHERE (`name` = ? AND (`mail` LIKE ? OR `version` BETWEEN ? AND ?) AND NOT (`id` IN (?, ?)) AND `deleted_at` IS NULL) ORDER BY `version` DESC, `name` LIMIT 10 OFFSET 20"
    );
    let (sql, params) = render(
        &Sqlite,
        &Query::from(
            col("id")
                .not_in(Vec::<i64>::new())
                .and(col("name").gte("b")),
        ),
    );
    assert_eq!(
        sql,
        r#"WHERE "deleted_at" IS NULL AND (1 = 1 AND "name" >= ?)"#
    );
    assert_eq!(params, [Value::Text("b".into())]);
}

#[test]
fn hostile_column_names_never_reach_sql() {
    let s = USER.sql(BackendKind::Sqlite);
    let q = Query::from(col("name; DROP TABLE users--").eq(1));
    let err = SqlBuf::select(&Sqlite, &s.select, &q, None, Columns::Entity(&USER))
        .err()
        .unwrap();
    assert_eq!(err.code(), "LEX_ERR_SQL_012");
    assert!(
        err.to_string()
            .contains("'name; DROP TABLE users--' for User"),
        "{err}"
    );
    let err = SqlBuf::select(&Sqlite, "SELECT * FROM t", &q, None, Columns::Table)
        .err()
        .unwrap();
    assert_eq!(err.code(), "LEX_ERR_SQL_020");
}

#[test]
fn text_operators_per_dialect() {
    let q = Query::from(
        col("name")
            .ilike("ad%")
            .and(col("email").contains("50%_off!\\"))
            .and(col("name").icontains("A_")),
    );
    let (sql, params) = render(&Postgres, &q.clone().with_deleted());
    assert_eq!(
        sql,
        r#"WHERE ("name" ILIKE $1 AND "mail" LIKE $2 ESCAPE '!' AND "name" ILIKE $3 ESCAPE '!')"#
    );
    assert_eq!(params[1], Value::Text("%50!%!_off!!\\%".into()));
    assert_eq!(params[2], Value::Text("%A!_%".into()));
    let (sql, _) = render(&MySql, &q.with_deleted());
    assert_eq!(
        sql,
        "WHERE (LOWER(`name`) LIKE LOWER(?) AND `mail` LIKE ? ESCAPE '!' AND LOWER(`name`) LIKE LOWER(?) ESCAPE '!')"
    );
}
