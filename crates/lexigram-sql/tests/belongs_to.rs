//! `#[entity(belongs_to = Parent)]` on every backend: joins and associations on the declared
//! relation in both directions without naming columns, the explicit-column forms giving the
//! same rows, and a missing relation refused with a typed error.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a panic is a failed assertion

mod common;

use lexigram_sql::repository::{asc, col};
use lexigram_sql::{Entity, Error, Filter};

#[derive(Debug, Clone, PartialEq, Entity)]
struct Author {
    #[entity(key, generated)]
    id: i64,
    name: String,
}

#[derive(Debug, Clone, PartialEq, Entity)]
struct Book {
    #[entity(key, generated)]
    id: i64,
    #[entity(belongs_to = Author, rename = "writer")]
    author_id: Option<i64>,
    title: String,
}

/// No relation declared to anything.
#[derive(Debug, Clone, PartialEq, Entity)]
struct Shelf {
    #[entity(key, generated)]
    id: i64,
    label: String,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn declared_relations_on_every_backend() {
    for t in common::all().await {
        let db = t.connect().await;
        let name = t.name();
        for ddl in [
            "CREATE TABLE authors (id {pk}, name VARCHAR(60) NOT NULL)",
            "CREATE TABLE books (id {pk}, writer BIGINT, title VARCHAR(60) NOT NULL)",
            "CREATE TABLE shelfs (id {pk}, label VARCHAR(20) NOT NULL)",
        ] {
            db.execute(&common::ddl(t.kind, ddl), &[]).await.unwrap();
        }
        let authors = db.repository::<Author>();
        let hostile = "ada'); DELETE FROM books;--";
        let ada = authors
            .create(Author {
                id: 0,
                name: hostile.into(),
            })
            .await
            .unwrap();
        let bob = authors
            .create(Author {
                id: 0,
                name: "bob".into(),
            })
            .await
            .unwrap();
        let books = db.repository::<Book>();
        for (a, title) in [
            (Some(ada.id), "one"),
            (Some(ada.id), "two"),
            (Some(bob.id), "three"),
            (None, "orphan"),
        ] {
            books
                .create(Book {
                    id: 0,
                    author_id: a,
                    title: title.into(),
                })
                .await
                .unwrap();
        }

        // child → parent join, without naming the column; same rows as the explicit form.
        let declared = books
            .join_declared::<Author>()
            .order_by(asc("id"))
            .fetch()
            .await
            .unwrap();
        let explicit = books
            .join::<Author>("writer")
            .order_by(asc("id"))
            .fetch()
            .await
            .unwrap();
        assert_eq!(declared, explicit, "{name}");
        assert_eq!(declared.len(), 3, "{name}");
        assert_eq!(declared[0].1.name, hostile, "{name}");
        let left = books
            .join_declared::<Author>()
            .order_by(asc("id"))
            .fetch_left()
            .await
            .unwrap();
        assert_eq!(left.len(), 4, "{name}");
        assert!(left[3].1.is_none(), "{name}: the orphan has no author");

        // parent → children join, the relation read from the child's declaration.
        let by_author = authors
            .join_declared::<Book>()
            .filter_joined(col("title").ne("two"))
            .order_by(asc("id"))
            .order_by_joined(asc("id"))
            .fetch()
            .await
            .unwrap();
        let titles: Vec<&str> = by_author.iter().map(|(_, b)| b.title.as_str()).collect();
        assert_eq!(titles, ["one", "three"], "{name}");

        // associations both ways.
        let all_authors = authors
            .find_many(lexigram_sql::Query::new().order_by(asc("id")))
            .await
            .unwrap();
        let with_books = authors
            .load_related_declared::<Book>(all_authors.clone())
            .await
            .unwrap();
        assert_eq!(
            with_books.iter().map(|(_, b)| b.len()).collect::<Vec<_>>(),
            [2, 1],
            "{name}"
        );
        assert_eq!(
            with_books,
            authors
                .load_related::<Book>(all_authors, "author_id")
                .await
                .unwrap(),
            "{name}"
        );
        let all_books = books
            .find_many(lexigram_sql::Query::new().order_by(asc("id")))
            .await
            .unwrap();
        let parents = books
            .load_parents_declared::<Author>(all_books)
            .await
            .unwrap();
        let names: Vec<Option<&str>> = parents
            .iter()
            .map(|(_, a)| a.as_ref().map(|a| a.name.as_str()))
            .collect();
        assert_eq!(
            names,
            [Some(hostile), Some(hostile), Some("bob"), None],
            "{name}"
        );

        // No declared relation: a typed error, nothing sent.
        assert!(
            matches!(
                books.join_declared::<Shelf>().fetch().await,
                Err(Error::InvalidRequest { .. })
            ),
            "{name}"
        );
        assert!(
            matches!(
                db.repository::<Shelf>()
                    .load_related_declared::<Book>(Vec::new())
                    .await,
                Err(Error::InvalidRequest { .. })
            ),
            "{name}"
        );
        assert!(
            matches!(
                books.load_parents_declared::<Shelf>(Vec::new()).await,
                Err(Error::InvalidRequest { .. })
            ),
            "{name}"
        );
        assert_eq!(
            books.count(Filter::all()).await.unwrap(),
            4,
            "{name}: the hostile value stayed a value"
        );
    }
}
