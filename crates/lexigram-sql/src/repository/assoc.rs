//! Associations without N+1 queries: [`Repository::load_related`] (each parent with its
//! children) and [`Repository::load_parents`] (each child with its parent), one `IN` query per
//! relation, split under the backend's parameter limit.

use std::collections::HashMap;

use super::entity::{Entity, EntityMeta};
use super::filter::{Cmp, Filter, Node, col};
use super::repo::Repository;
use super::sql::invalid;
use crate::error::Result;
use crate::value::Value;

/// A map key for a key value: equal values of one type give equal keys. Integers and text
/// (nearly every key) without formatting; anything else by its debug form.
#[derive(Debug, PartialEq, Eq, Hash)]
enum Key {
    Int(i64),
    Text(String),
    Other(String),
    /// A composite key's values.
    Tuple(Vec<Key>),
}

fn key_of(v: &Value) -> Key {
    match v {
        Value::Int(i) => Key::Int(*i),
        Value::Text(t) => Key::Text(t.clone()),
        other => Key::Other(format!("{other:?}")),
    }
}

/// The map key of an entity's values at `cols` (one column: no allocation beyond `key_of`).
fn key_at<T: Entity>(e: &T, cols: &[usize]) -> Key {
    match cols {
        [c] => key_of(&e.get_column(*c)),
        _ => Key::Tuple(cols.iter().map(|&c| key_of(&e.get_column(c))).collect()),
    }
}

/// Positions of `names` in `meta` (column or field names).
fn resolve_all(meta: &EntityMeta, names: &[&str]) -> Result<Vec<usize>> {
    names.iter().map(|n| meta.resolve(n)).collect()
}

/// Rows of `T` whose `cols` hold one of the tuples in `values` (flattened: `cols.len()` values
/// per tuple): `col IN (…)` for one column (split under the parameter limit by `find_many`),
/// `(a = ? AND b = ?) OR …` in chunks under the limit for several.
async fn find_matching<T: Entity>(
    repo: &Repository<T>,
    cols: &[usize],
    values: Vec<Value>,
) -> Result<Vec<T>> {
    let meta = T::meta();
    if values.is_empty() {
        return Ok(Vec::new());
    }
    if let [c] = cols {
        return repo
            .find_many(col(meta.columns[*c].name).is_in(values))
            .await;
    }
    let per = (repo.executor().dialect().max_params() / cols.len().max(1)).max(1);
    let mut out = Vec::new();
    for chunk in values.chunks(per * cols.len()) {
        let any = chunk
            .chunks(cols.len())
            .map(|t| {
                Node::And(
                    cols.iter()
                        .zip(t.iter().cloned())
                        .map(|(&c, value)| Node::Compare {
                            column: meta.columns[c].name.to_string(),
                            op: Cmp::Eq,
                            value,
                        })
                        .collect(),
                )
            })
            .collect();
        out.extend(repo.find_many(Filter(Node::Or(any))).await?);
    }
    Ok(out)
}

/// `Ok` when the foreign key `fk` has one column per key column of `parent`; else a typed error
/// about `owner` (the repository's entity) naming the `call`.
fn same_width(
    call: &str,
    owner: &'static EntityMeta,
    fk: &[usize],
    parent: &'static EntityMeta,
) -> Result<()> {
    if fk.len() == parent.keys.len() {
        return Ok(());
    }
    Err(invalid(
        owner.name,
        format!(
            "{call}: {} foreign-key column(s) for {}'s key of {} column(s). Fix: name one column per key column, in key order",
            fk.len(),
            parent.name,
            parent.keys.len()
        ),
    ))
}

/// The declared `belongs_to` relation of `child` to `parent`, or a typed error.
fn declared(child: &'static EntityMeta, parent: &'static EntityMeta) -> Result<usize> {
    child.relation_to(parent).ok_or_else(|| {
        invalid(
            child.name,
            format!(
                "declares no `#[entity(belongs_to = {})]` field. Fix: declare the relation on the foreign-key field, or name the column with load_related/load_parents",
                parent.name
            ),
        )
    })
}

impl<E: Entity> Repository<E> {
    /// Each parent with its children of type `C`: the `C` rows whose `foreign_key` column
    /// (column or field name, checked against `C`) holds the parent's key. One query for all
    /// parents (`foreign_key IN (keys…)`, split into several when the keys outnumber the
    /// backend's parameter limit), never one per parent. Parents keep their order; children
    /// come in no particular order; soft-deleted children are left out. For a parent with a
    /// composite key use [`Repository::load_related_by`].
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
        self.load_related_by(parents, &[foreign_key]).await
    }

    /// Like [`Repository::load_related`], with one foreign-key column of `C` per key column
    /// of `E`, in key order: the children of parents with a composite key.
    pub async fn load_related_by<C: Entity>(
        &self,
        parents: Vec<E>,
        foreign_key: &[&str],
    ) -> Result<Vec<(E, Vec<C>)>> {
        let fk = resolve_all(C::meta(), foreign_key)?;
        self.related(parents, &fk).await
    }

    /// Like [`Repository::load_related`], on the relation `C` declares with
    /// `#[entity(belongs_to = E)]`: the column is not named again.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> lexigram_sql::Result<()> {
    /// use lexigram_sql::{Database, Entity, Filter};
    ///
    /// #[derive(Debug, Clone, Entity)]
    /// struct User { #[entity(key, generated)] id: i64, name: String }
    /// #[derive(Debug, Clone, Entity)]
    /// struct Post { #[entity(key, generated)] id: i64, #[entity(belongs_to = User)] user_id: i64 }
    ///
    /// let db = Database::connect_url("sqlite://").await?;
    /// db.execute_batch("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
    ///     CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL)").await?;
    /// let users = db.repository::<User>();
    /// let ada = users.create(User { id: 0, name: "ada".into() }).await?;
    /// db.repository::<Post>().create(Post { id: 0, user_id: ada.id }).await?;
    /// let loaded = users.load_related_declared::<Post>(users.find_many(Filter::all()).await?).await?;
    /// assert_eq!(loaded[0].1.len(), 1);
    /// # Ok(()) }
    /// ```
    pub async fn load_related_declared<C: Entity>(
        &self,
        parents: Vec<E>,
    ) -> Result<Vec<(E, Vec<C>)>> {
        let fk = declared(C::meta(), E::meta())?;
        self.related(parents, &[fk]).await
    }

    async fn related<C: Entity>(&self, parents: Vec<E>, fk: &[usize]) -> Result<Vec<(E, Vec<C>)>> {
        let keys = E::meta().keys;
        same_width("load_related", E::meta(), fk, E::meta())?;
        let values = parents
            .iter()
            .flat_map(|p| keys.iter().map(|&k| p.get_column(k)))
            .collect();
        let children = find_matching(&Repository::<C>::new(self.ex.clone()), fk, values).await?;
        let mut by_parent: HashMap<Key, Vec<C>> = HashMap::new();
        for child in children {
            by_parent.entry(key_at(&child, fk)).or_default().push(child);
        }
        Ok(parents
            .into_iter()
            .map(|p| {
                let kids = by_parent.remove(&key_at(&p, keys)).unwrap_or_default();
                (p, kids)
            })
            .collect())
    }

    /// Each entity with its parent of type `P`: the `P` row whose key is the value of this
    /// entity's `foreign_key` column (`None` when the column is NULL or no such parent is
    /// live). One query for all (`key IN (values…)`, split under the parameter limit). For a
    /// parent with a composite key use [`Repository::load_parents_by`].
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
        self.load_parents_by(children, &[foreign_key]).await
    }

    /// Like [`Repository::load_parents`], with one column of `E` per key column of `P`, in key
    /// order: the parents of a composite key.
    pub async fn load_parents_by<P: Entity + Clone>(
        &self,
        children: Vec<E>,
        foreign_key: &[&str],
    ) -> Result<Vec<(E, Option<P>)>> {
        let fk = resolve_all(E::meta(), foreign_key)?;
        self.parents(children, &fk).await
    }

    /// Like [`Repository::load_parents`], on the relation `E` declares with
    /// `#[entity(belongs_to = P)]`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> lexigram_sql::Result<()> {
    /// use lexigram_sql::{Database, Entity, Filter};
    ///
    /// #[derive(Debug, Clone, Entity)]
    /// struct Customer { #[entity(key, generated)] id: i64, name: String }
    /// #[derive(Debug, Clone, Entity)]
    /// struct Order { #[entity(key, generated)] id: i64, #[entity(belongs_to = Customer)] customer_id: Option<i64> }
    ///
    /// let db = Database::connect_url("sqlite://").await?;
    /// db.execute_batch("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
    ///     CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER)").await?;
    /// let ada = db.repository::<Customer>().create(Customer { id: 0, name: "ada".into() }).await?;
    /// let orders = db.repository::<Order>();
    /// orders.create(Order { id: 0, customer_id: Some(ada.id) }).await?;
    /// let listed = orders.load_parents_declared::<Customer>(orders.find_many(Filter::all()).await?).await?;
    /// assert_eq!(listed[0].1.as_ref().map(|c| c.name.as_str()), Some("ada"));
    /// # Ok(()) }
    /// ```
    pub async fn load_parents_declared<P: Entity + Clone>(
        &self,
        children: Vec<E>,
    ) -> Result<Vec<(E, Option<P>)>> {
        let fk = declared(E::meta(), P::meta())?;
        self.parents(children, &[fk]).await
    }

    async fn parents<P: Entity + Clone>(
        &self,
        children: Vec<E>,
        fk: &[usize],
    ) -> Result<Vec<(E, Option<P>)>> {
        let pk = P::meta().keys;
        same_width("load_parents", E::meta(), fk, P::meta())?;
        let mut seen = HashMap::new();
        let mut refs = Vec::new();
        for c in &children {
            let null = fk.iter().any(|&i| c.get_column(i) == Value::Null);
            if !null && seen.insert(key_at(c, fk), ()).is_none() {
                refs.extend(fk.iter().map(|&i| c.get_column(i)));
            }
        }
        let parents = find_matching(&Repository::<P>::new(self.ex.clone()), pk, refs).await?;
        let by_key: HashMap<Key, P> = parents.into_iter().map(|p| (key_at(&p, pk), p)).collect();
        Ok(children
            .into_iter()
            .map(|c| {
                let parent = by_key.get(&key_at(&c, fk)).cloned();
                (c, parent)
            })
            .collect())
    }
}
