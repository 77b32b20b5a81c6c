//! Repositories on every backend: CRUD, filters, ordering, pagination, soft delete, upsert,
//! transactions, and the errors users see.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a panic is a failed assertion

mod common;

use chrono::{DateTime, Utc};
use futures_util::TryStreamExt;
use lexigram_sql::repository::{Query, asc, col, desc, not};
use lexigram_sql::{ConstraintKind, Database, Entity, Error, Filter};

#[derive(Debug, Clone, PartialEq, Entity)]
struct User {
    #[entity(key, generated)]
    id: i64,
    name: String,
    #[entity(rename = "email_address")]
    email: String,
    age: i32,
    active: bool,
    #[entity(version)]
    version: i64,
    #[entity(soft_delete)]
    deleted_at: Option<DateTime<Utc>>,
    #[entity(skip)]
    scratch: String,
}

impl User {
    fn new(name: &str, age: i32) -> User {
        User {
            id: 0,
            name: name.into(),
            email: format!("{name}@example.com"),
            age,
            active: age % 2 == 0,
            version: 0,
            deleted_at: None,
            scratch: "not stored".into(),
        }
    }
}

#[derive(Debug, Clone, Entity)]
#[entity(table = "posts")]
struct Post {
    #[entity(key)]
    code: String,
    user_id: i64,
    title: String,
}

#[derive(Debug, Clone, Entity)]
struct Ghost {
    #[entity(key)]
    id: i64,
}

async fn setup(kind: lexigram_sql::config::BackendKind, db: &Database) {
    db.execute(
        &common::ddl(
            kind,
            "CREATE TABLE users (id {pk}, name VARCHAR(100) NOT NULL, email_address VARCHAR(200) NOT NULL, \
             age INTEGER NOT NULL, active {bool} NOT NULL, version BIGINT NOT NULL, deleted_at {ts} NULL, \
             CONSTRAINT users_email_key UNIQUE (email_address))",
        ),
        &[],
    )
    .await
    .unwrap();
    db.execute(
        "CREATE TABLE posts (code VARCHAR(20) PRIMARY KEY, user_id BIGINT NOT NULL, title VARCHAR(100) NOT NULL, \
         CONSTRAINT posts_user_fk FOREIGN KEY (user_id) REFERENCES users (id))",
        &[],
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn create_find_update_delete_on_every_backend() {
    for t in common::all().await {
        let db = t.connect().await;
        setup(t.kind, &db).await;
        let users = db.repository::<User>();

        let ada = users.create(User::new("ada", 36)).await.unwrap();
        assert!(ada.id > 0, "{}", t.name());
        assert_eq!(ada.version, 1);
        assert_eq!(ada.scratch, "", "skipped fields are Default when read");
        let found = users.find_one(ada.id).await.unwrap();
        assert_eq!(found, ada);

        let missing = users.find_one(999_999).await.unwrap_err();
        assert!(matches!(missing, Error::NotFound { .. }), "{missing}");
        assert_eq!(missing.code(), "LEX_ERR_SQL_011");
        assert!(
            missing
                .to_string()
                .contains("User with id=999999 not found"),
            "{missing}"
        );

        let mut a = found.clone();
        a.name = "Ada".into();
        a.age = 37;
        users.update(&mut a).await.unwrap();
        assert_eq!(a.version, 2);
        let stored = users.find_one(a.id).await.unwrap();
        assert_eq!(
            (stored.name.as_str(), stored.age, stored.version),
            ("Ada", 37, 2)
        );

        // The stale copy (version 1) loses.
        let mut stale = found;
        stale.name = "late".into();
        let err = users.update(&mut stale).await.unwrap_err();
        assert!(
            matches!(
                err,
                Error::OptimisticLock {
                    expected_version: 1,
                    ..
                }
            ),
            "{err}"
        );
        assert_eq!(
            stale.version, 1,
            "a failed update leaves the struct's version alone"
        );
        let err = users.delete(&stale).await.unwrap_err();
        assert_eq!(err.code(), "LEX_ERR_SQL_005");

        users.delete(&a).await.unwrap();
        let err = users.delete(&a).await.unwrap_err();
        assert!(matches!(err, Error::NotFound { .. }), "{err}");
        let mut gone = a.clone();
        let err = users.update(&mut gone).await.unwrap_err();
        assert!(matches!(err, Error::NotFound { .. }), "{}: {err}", t.name());
        db.close().await;
    }
}

#[tokio::test]
async fn filters_ordering_and_pagination_on_every_backend() {
    for t in common::all().await {
        let db = t.connect().await;
        setup(t.kind, &db).await;
        let users = db.repository::<User>();
        let names = [
            "ann", "bob", "cid", "dee", "eve", "fay", "gus", "hal", "ivy", "jon",
        ];
        let n = users
            .create_many(
                names
                    .iter()
                    .enumerate()
                    .map(|(i, n)| User::new(n, 20 + i as i32)),
            )
            .await
            .unwrap();
        assert_eq!(n, 10);

        let name_of = |v: Vec<User>| v.into_iter().map(|u| u.name).collect::<Vec<_>>();
        let q = Query::new()
            .filter(col("age").gte(25))
            .order_by(desc("age"))
            .limit(3);
        assert_eq!(
            name_of(users.find_many(q).await.unwrap()),
            ["jon", "ivy", "hal"]
        );
        let q = Query::new()
            .filter(col("active").eq(true).and(col("name").ne("ann")))
            .order_by(asc("active"))
            .order_by(asc("name"))
            .offset(1)
            .limit(2);
        assert_eq!(name_of(users.find_many(q).await.unwrap()), ["eve", "gus"]);
        let q = Query::from(
            col("name")
                .is_in(["bob", "eve", "zed"])
                .or(col("age").between(28, 29)),
        )
        .order_by(asc("id"));
        assert_eq!(
            name_of(users.find_many(q).await.unwrap()),
            ["bob", "eve", "ivy", "jon"]
        );
        let q = Query::from(not(col("name").not_in(["cid", "dee"])).and(col("email").like("c%")));
        assert_eq!(name_of(users.find_many(q).await.unwrap()), ["cid"]);
        assert_eq!(users.count(col("deleted_at").is_null()).await.unwrap(), 10);
        assert_eq!(
            users.count(col("deleted_at").is_not_null()).await.unwrap(),
            0
        );
        assert_eq!(
            users
                .count(col("age").lt(22).or(col("age").gt(28)))
                .await
                .unwrap(),
            3
        );
        assert_eq!(users.count(col("age").lte(22)).await.unwrap(), 3);
        assert_eq!(
            users
                .count(col("name").is_in(Vec::<String>::new()))
                .await
                .unwrap(),
            0
        );
        assert!(users.exists(col("name").eq("hal")).await.unwrap());
        assert!(!users.exists(col("name").eq("zed")).await.unwrap());
        assert_eq!(
            users
                .find_by(col("name").eq("dee"))
                .await
                .unwrap()
                .unwrap()
                .age,
            23
        );
        assert!(
            users
                .find_by(col("name").eq("zed"))
                .await
                .unwrap()
                .is_none()
        );

        let page = users
            .page(Query::new().order_by(asc("name")), 2, 4)
            .await
            .unwrap();
        assert_eq!((page.total, page.pages(), page.has_next()), (10, 3, true));
        assert_eq!(name_of(page.items), ["eve", "fay", "gus", "hal"]);
        let last = users.page(col("age").gte(21), 3, 4).await.unwrap();
        assert_eq!(
            (last.total, last.items.len(), last.has_next()),
            (9, 1, false)
        );

        // Keyset pages: active first (desc), then by name, key as the tie-breaker.
        let q = Query::new().order_by(desc("active")).order_by(asc("name"));
        let mut seen = Vec::new();
        let mut cursor = None;
        loop {
            let p = users
                .page_after(q.clone(), cursor.as_ref(), 3)
                .await
                .unwrap();
            assert_eq!(p.total, 10);
            seen.extend(p.items.into_iter().map(|u| u.name));
            match p.next {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        assert_eq!(
            seen,
            [
                "ann", "cid", "eve", "gus", "ivy", "bob", "dee", "fay", "hal", "jon"
            ],
            "{}",
            t.name()
        );

        let streamed: Vec<User> = users
            .stream(Query::new().order_by(asc("id")))
            .await
            .unwrap()
            .try_collect()
            .await
            .unwrap();
        assert_eq!(streamed.len(), 10);
        assert_eq!(users.delete_many(col("age").lt(23)).await.unwrap(), 3);
        assert_eq!(users.count(Filter::all()).await.unwrap(), 7);
        db.close().await;
    }
}

#[tokio::test]
async fn soft_delete_restore_and_upsert_on_every_backend() {
    for t in common::all().await {
        let db = t.connect().await;
        setup(t.kind, &db).await;
        let users = db.repository::<User>();
        let mut u = users.create(User::new("sam", 30)).await.unwrap();
        users.create(User::new("kim", 31)).await.unwrap();

        users.soft_delete(&mut u).await.unwrap();
        assert!(u.deleted_at.is_some());
        assert_eq!(u.version, 2);
        assert!(matches!(
            users.find_one(u.id).await,
            Err(Error::NotFound { .. })
        ));
        assert_eq!(users.count(Filter::all()).await.unwrap(), 1);
        assert_eq!(users.count(Query::new().with_deleted()).await.unwrap(), 2);
        let back = users
            .find_by(Query::from(col("id").eq(u.id)).with_deleted())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            back.deleted_at.map(|d| d.timestamp_micros()),
            u.deleted_at.map(|d| d.timestamp_micros())
        );
        users.restore(&mut u).await.unwrap();
        assert_eq!((u.deleted_at, u.version), (None, 3));
        assert_eq!(users.find_one(u.id).await.unwrap().version, 3);

        // Upsert on the key: the existing row is overwritten and its version bumped.
        let mut changed = u.clone();
        changed.name = "Samuel".into();
        let up = users.upsert(changed).await.unwrap();
        assert_eq!(
            (up.id, up.name.as_str(), up.version),
            (u.id, "Samuel", 4),
            "{}",
            t.name()
        );
        // Upsert on a unique column: a new email inserts, a known one updates.
        let fresh = users
            .upsert_on(User::new("lee", 40), &["email_address"])
            .await
            .unwrap();
        assert_eq!((fresh.name.as_str(), fresh.version), ("lee", 1));
        let mut again = User::new("lee", 41);
        again.name = "Lee".into();
        again.email = "lee@example.com".into();
        let updated = users.upsert_on(again, &["email"]).await.unwrap();
        assert_eq!(
            (
                updated.id,
                updated.name.as_str(),
                updated.age,
                updated.version
            ),
            (fresh.id, "Lee", 41, 2)
        );
        assert_eq!(users.count(Filter::all()).await.unwrap(), 3);

        let err = db
            .repository::<Post>()
            .soft_delete(&mut Post {
                code: "x".into(),
                user_id: 1,
                title: "t".into(),
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), "LEX_ERR_SQL_021");
        db.close().await;
    }
}

#[tokio::test]
async fn repositories_inside_transactions_on_every_backend() {
    for t in common::all().await {
        let db = t.connect().await;
        setup(t.kind, &db).await;
        let tx = db.begin().await.unwrap();
        let users = tx.repository::<User>();
        users
            .create_many((0..2500).map(|i| User::new(&format!("u{i}"), i % 90)))
            .await
            .unwrap();
        let mut n = 0usize;
        let mut s = users.stream(col("age").lt(45)).await.unwrap();
        while let Some(u) = s.try_next().await.unwrap() {
            assert!(u.age < 45);
            n += 1;
        }
        assert_eq!(n, users.count(col("age").lt(45)).await.unwrap() as usize);
        tx.rollback().await.unwrap();
        assert_eq!(
            db.repository::<User>().count(Filter::all()).await.unwrap(),
            0,
            "{}",
            t.name()
        );

        let saved = db
            .transaction(|tx| async move {
                let u = tx.repository::<User>().create(User::new("tx", 1)).await?;
                Ok::<_, Error>(u.id)
            })
            .await
            .unwrap();
        assert_eq!(
            db.repository::<User>().find_one(saved).await.unwrap().name,
            "tx"
        );
        db.close().await;
    }
}

#[tokio::test]
async fn hostile_column_names_are_rejected_and_the_table_survives() {
    for t in common::all().await {
        let db = t.connect().await;
        setup(t.kind, &db).await;
        let users = db.repository::<User>();
        users.create(User::new("ada", 36)).await.unwrap();
        for q in [
            Query::from(col("name; DROP TABLE users--").eq(1)),
            Query::new().order_by(asc("name; DROP TABLE users--")),
        ] {
            let err = users.find_many(q).await.unwrap_err();
            assert!(matches!(err, Error::UnknownColumn { .. }), "{err}");
            assert_eq!(err.code(), "LEX_ERR_SQL_012");
            let msg = err.to_string();
            assert!(
                msg.starts_with(
                    "RepositoryError: unknown column 'name; DROP TABLE users--' for User"
                ),
                "{msg}"
            );
            assert!(
                msg.contains("email_address"),
                "lists the known columns: {msg}"
            );
        }
        let err = users
            .delete_many(col("1=1 OR name").eq(1))
            .await
            .unwrap_err();
        assert_eq!(err.code(), "LEX_ERR_SQL_012");
        // Values are bound, never spliced.
        let evil = "x'; DROP TABLE users; --";
        assert!(
            users
                .find_many(col("name").eq(evil))
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            users.count(Filter::all()).await.unwrap(),
            1,
            "{}: table intact",
            t.name()
        );
        db.close().await;
    }
}

#[tokio::test]
async fn missing_tables_and_constraint_violations_are_typed_on_every_backend() {
    for t in common::all().await {
        let db = t.connect().await;
        setup(t.kind, &db).await;

        let err = db
            .repository::<Ghost>()
            .find_many(Filter::all())
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::TableMissing { .. }),
            "{}: {err}",
            t.name()
        );
        assert_eq!(err.code(), "LEX_ERR_SQL_010");
        let msg = err.to_string();
        assert!(
            msg.starts_with("RepositoryError: Table 'ghosts' does not exist"),
            "{msg}"
        );
        assert!(
            msg.contains("lexigram db upgrade") && msg.contains("enable_migrations"),
            "{msg}"
        );
        let err = db
            .repository::<Ghost>()
            .create(Ghost { id: 1 })
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::TableMissing { ref table } if table == "ghosts"),
            "{err}"
        );
        let err = db.table("ghosts").find_one(1).await.unwrap_err();
        assert!(
            err.to_string()
                .starts_with("RepositoryError: Table 'ghosts' does not exist"),
            "{err}"
        );

        let users = db.repository::<User>();
        let ada = users.create(User::new("ada", 36)).await.unwrap();
        let err = users.create(User::new("ada", 1)).await.unwrap_err();
        let Error::Constraint {
            kind, constraint, ..
        } = &err
        else {
            panic!("{}: {err}", t.name())
        };
        assert_eq!(*kind, ConstraintKind::Unique);
        assert_eq!(err.code(), "LEX_ERR_SQL_013");
        let named = constraint.as_deref().unwrap_or_default();
        assert!(
            named.contains("users_email_key") || named.contains("email_address"),
            "{}: unique violation names the constraint or column: {err}",
            t.name()
        );

        let posts = db.repository::<Post>();
        posts
            .create(Post {
                code: "p1".into(),
                user_id: ada.id,
                title: "hello".into(),
            })
            .await
            .unwrap();
        let err = posts
            .create(Post {
                code: "p2".into(),
                user_id: 424_242,
                title: "x".into(),
            })
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                Error::Constraint {
                    kind: ConstraintKind::ForeignKey,
                    ..
                }
            ),
            "{}: {err}",
            t.name()
        );
        assert!(
            err.to_string()
                .starts_with("RepositoryError: foreign key constraint violation"),
            "{err}"
        );

        let err = db
            .table("posts")
            .create(
                lexigram_sql::Record::new()
                    .set("code", "p3")
                    .set("user_id", ada.id),
            )
            .await
            .unwrap_err();
        let Error::Constraint {
            kind: ConstraintKind::NotNull,
            constraint,
            ..
        } = &err
        else {
            panic!("{}: {err}", t.name())
        };
        assert!(
            constraint.as_deref().unwrap_or_default().contains("title"),
            "{}: names the column: {err}",
            t.name()
        );
        db.close().await;
    }
}

#[tokio::test]
async fn records_through_tables_on_every_backend() {
    use lexigram_sql::Record;
    for t in common::all().await {
        let db = t.connect().await;
        setup(t.kind, &db).await;
        let users = db.table("users");
        let rec = |name: &str, age: i64| {
            Record::new()
                .set("name", name)
                .set("email_address", format!("{name}@r.example"))
                .set("age", age)
                .set("active", true)
                .set("version", 1)
        };
        let ada = users.create(rec("ada", 36)).await.unwrap();
        let id: i64 = ada.get("id").unwrap();
        assert!(id > 0);
        assert_eq!(ada.get::<String>("name").unwrap(), "ada");
        assert!(ada.get::<bool>("active").unwrap(), "{}", t.name());
        users.create(rec("bob", 20)).await.unwrap();
        users.create(rec("cat", 50)).await.unwrap();

        users
            .update(id, Record::new().set("name", "Ada").set("age", 37))
            .await
            .unwrap();
        let found = users.find_one(id).await.unwrap();
        assert_eq!(
            (
                found.get::<String>("name").unwrap(),
                found.get::<i64>("age").unwrap()
            ),
            ("Ada".into(), 37)
        );
        let q = Query::from(col("age").gt(30)).order_by(desc("age"));
        let names: Vec<String> = users
            .find_many(q)
            .await
            .unwrap()
            .iter()
            .map(|r| r.get("name").unwrap())
            .collect();
        assert_eq!(names, ["cat", "Ada"]);
        assert_eq!(users.count(col("name").like("%a%")).await.unwrap(), 2);
        assert!(
            users
                .find_by(col("name").eq("zed"))
                .await
                .unwrap()
                .is_none()
        );

        users.delete(id).await.unwrap();
        assert!(matches!(
            users.delete(id).await,
            Err(Error::NotFound { .. })
        ));
        assert!(matches!(
            users.find_one(id).await,
            Err(Error::NotFound { .. })
        ));
        assert!(matches!(
            users.update(id, Record::new().set("age", 1)).await,
            Err(Error::NotFound { .. })
        ));
        assert_eq!(users.delete_many(col("age").lt(30)).await.unwrap(), 1);

        // Runtime identifiers are validated (and quoted): hostile names are typed errors.
        let err = db
            .table("users; DROP TABLE users--")
            .find_many(Filter::all())
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::InvalidIdentifier { what: "table", .. }),
            "{err}"
        );
        assert_eq!(err.code(), "LEX_ERR_SQL_020");
        let err = users
            .find_many(col("name; DROP TABLE users--").eq(1))
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::InvalidIdentifier { what: "column", .. }),
            "{err}"
        );
        let err = users
            .create(Record::new().set("name\") VALUES ('x'); --", "x"))
            .await
            .unwrap_err();
        assert_eq!(err.code(), "LEX_ERR_SQL_020");
        let err = users
            .clone()
            .with_key("id = id OR 1")
            .delete(1)
            .await
            .unwrap_err();
        assert_eq!(err.code(), "LEX_ERR_SQL_020");
        assert_eq!(
            users.count(Filter::all()).await.unwrap(),
            1,
            "{}: table intact",
            t.name()
        );

        // Inside a transaction, too.
        let tx = db.begin().await.unwrap();
        tx.table("users").create(rec("tmp", 1)).await.unwrap();
        assert_eq!(tx.table("users").count(Filter::all()).await.unwrap(), 2);
        tx.rollback().await.unwrap();
        assert_eq!(users.count(Filter::all()).await.unwrap(), 1);
        db.close().await;
    }
}
