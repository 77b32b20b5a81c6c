//! Associations without N+1 queries: [`Repository::load_related`] (each parent with its
//! children) and [`Repository::load_parents`] (each child with its parent), one `IN` query per
//! relation, split under the backend's parameter limit.

use std::collections::HashMap;

use super::entity::Entity;
use super::filter::col;
use super::repo::Repository;
use crate::error::Result;
use crate::value::Value;

/// A map key for a key value: equal values of one type give equal keys. Integers and text
/// (nearly every key) without formatting; anything else by its debug form.
#[derive(Debug, PartialEq, Eq, Hash)]
enum Key {
    Int(i64),
    Text(String),
    Other(String),
}

fn key_of(v: &Value) -> Key {
    match v {
        Value::Int(i) => Key::Int(*i),
        Value::Text(t) => Key::Text(t.clone()),
        other => Key::Other(format!("{other:?}")),
    }
}

impl<E: Entity> Repository<E> {
    /// Each parent with its children of type `C`: the `C` rows whose `foreign_key` column
    /// (column or field name, checked against `C`) holds the parent's key. One query for all
    /// parents (`foreign_key IN (keys…)`, split into several when the keys outnumber the
    /// backend's parameter limit), never one per parent. Parents keep their order; children
    /// come in no particular order; soft-deleted children are left out.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> lexigram_sql::Result<()> {
    /// use lexigram_sql::{Database, Entity, Filter};
    ///
    /// #[derive(Debug, Clone, Entity)]
    /// struct User { #[entity(key, generated)] id: i64, name: String }
    /// #[derive(Debug, Clone, Entity)]
    /// struct Post { #[entity(key, generated)] id: i64, user_id: i64, title: String }
    ///
    /// let db = Database::connect_url("sqlite://").await?;
    /// db.execute_batch("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
    ///     CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, title TEXT NOT NULL)").await?;
    /// let users = db.repository::<User>();
    /// let ada = users.create(User { id: 0, name: "ada".into() }).await?;
    /// users.create(User { id: 0, name: "bob".into() }).await?;
    /// db.repository::<Post>().create(Post { id: 0, user_id: ada.id, title: "notes".into() }).await?;
    ///
    /// let all = users.find_many(Filter::all()).await?;
    /// let with_posts = users.load_related::<Post>(all, "user_id").await?; // 1 query, not 2
    /// assert_eq!(with_posts[0].1.len(), 1);
    /// assert!(with_posts[1].1.is_empty());
    /// # Ok(()) }
    /// ```
    pub async fn load_related<C: Entity>(
        &self,
        parents: Vec<E>,
        foreign_key: &str,
    ) -> Result<Vec<(E, Vec<C>)>> {
        let fk = C::meta().resolve(foreign_key)?;
        let key = E::meta().key;
        let keys: Vec<Value> = parents.iter().map(|p| p.get_column(key)).collect();
        let children = if keys.is_empty() {
            Vec::new()
        } else {
            Repository::<C>::new(self.ex.clone())
                .find_many(col(C::meta().columns[fk].name).is_in(keys))
                .await?
        };
        let mut by_parent: HashMap<Key, Vec<C>> = HashMap::new();
        for child in children {
            by_parent
                .entry(key_of(&child.get_column(fk)))
                .or_default()
                .push(child);
        }
        Ok(parents
            .into_iter()
            .map(|p| {
                let kids = by_parent
                    .remove(&key_of(&p.get_column(key)))
                    .unwrap_or_default();
                (p, kids)
            })
            .collect())
    }

    /// Each entity with its parent of type `P`: the `P` row whose key is the value of this
    /// entity's `foreign_key` column (`None` when the column is NULL or no such parent is
    /// live). One query for all (`key IN (values…)`, split under the parameter limit).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> lexigram_sql::Result<()> {
    /// use lexigram_sql::{Database, Entity, Filter};
    ///
    /// #[derive(Debug, Clone, Entity)]
    /// struct Customer { #[entity(key, generated)] id: i64, name: String }
    /// #[derive(Debug, Clone, Entity)]
    /// struct Order { #[entity(key, generated)] id: i64, customer_id: Option<i64> }
    ///
    /// let db = Database::connect_url("sqlite://").await?;
    /// db.execute_batch("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
    ///     CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER)").await?;
    /// let ada = db.repository::<Customer>().create(Customer { id: 0, name: "ada".into() }).await?;
    /// let orders = db.repository::<Order>();
    /// orders.create(Order { id: 0, customer_id: Some(ada.id) }).await?;
    /// orders.create(Order { id: 0, customer_id: None }).await?;
    /// let listed = orders.load_parents::<Customer>(orders.find_many(Filter::all()).await?, "customer_id").await?;
    /// assert_eq!(listed[0].1.as_ref().map(|c| c.name.as_str()), Some("ada"));
    /// assert!(listed[1].1.is_none());
    /// # Ok(()) }
    /// ```
    pub async fn load_parents<P: Entity + Clone>(
        &self,
        children: Vec<E>,
        foreign_key: &str,
    ) -> Result<Vec<(E, Option<P>)>> {
        let fk = E::meta().resolve(foreign_key)?;
        let mut seen = HashMap::new();
        let mut refs = Vec::new();
        for c in &children {
            let v = c.get_column(fk);
            if v != Value::Null && seen.insert(key_of(&v), ()).is_none() {
                refs.push(v);
            }
        }
        let parents = if refs.is_empty() {
            Vec::new()
        } else {
            Repository::<P>::new(self.ex.clone())
                .find_many(col(P::meta().key_column().name).is_in(refs))
                .await?
        };
        let pk = P::meta().key;
        let by_key: HashMap<Key, P> = parents
            .into_iter()
            .map(|p| (key_of(&p.get_column(pk)), p))
            .collect();
        Ok(children
            .into_iter()
            .map(|c| {
                let parent = by_key.get(&key_of(&c.get_column(fk))).cloned();
                (c, parent)
            })
            .collect())
    }
}
