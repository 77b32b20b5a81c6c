//! Diesel's schema and models of the peer tables, shared by the sync and async Diesel peers.

use diesel::prelude::*;

/// The `table!` declarations.
pub mod schema {
    diesel::table! { peer_users (id) { id -> BigInt, name -> Text, hair_color -> Nullable<Text>, } }
    diesel::table! { peer_jusers (id) { id -> BigInt, name -> Text, hair_color -> Nullable<Text>, } }
    diesel::table! { peer_posts (id) { id -> BigInt, user_id -> BigInt, title -> Text, body -> Nullable<Text>, } }
    diesel::table! { peer_items (id) { id -> BigInt, name -> Text, n -> BigInt, version -> BigInt, } }
    diesel::table! { peer_ins (id) { id -> BigInt, name -> Text, hair_color -> Nullable<Text>, } }
    diesel::table! { peer_bulk (id) { id -> BigInt, name -> Text, hair_color -> Nullable<Text>, } }
    diesel::joinable!(peer_posts -> peer_jusers (user_id));
    diesel::allow_tables_to_appear_in_same_query!(peer_jusers, peer_posts);
}

use schema::*;

/// A user.
#[derive(Debug, Queryable, Selectable, Identifiable)]
#[diesel(table_name = peer_users)]
pub struct User {
    pub id: i64,
    pub name: String,
    pub hair_color: Option<String>,
}

/// A user of the join workloads.
#[derive(Debug, Queryable, Selectable, Identifiable)]
#[diesel(table_name = peer_jusers)]
pub struct JUser {
    pub id: i64,
    pub name: String,
    pub hair_color: Option<String>,
}

/// A post.
#[derive(Debug, Queryable, Selectable, Identifiable, Associations)]
#[diesel(table_name = peer_posts, belongs_to(JUser, foreign_key = user_id))]
pub struct Post {
    pub id: i64,
    pub user_id: i64,
    pub title: String,
    pub body: Option<String>,
}

/// A new row of `peer_ins`.
#[derive(Debug, Insertable)]
#[diesel(table_name = peer_ins)]
pub struct NewIns {
    pub name: String,
    pub hair_color: Option<String>,
}

/// A new row of `peer_bulk`.
#[derive(Debug, Insertable)]
#[diesel(table_name = peer_bulk)]
pub struct NewBulk {
    pub name: String,
    pub hair_color: Option<String>,
}

/// The i-th new `peer_ins` row.
pub fn new_ins(i: u64) -> NewIns {
    let (name, hair_color) = crate::work::new_user(i);
    NewIns { name, hair_color }
}

/// The i-th new `peer_bulk` row.
pub fn new_bulk(i: u64) -> NewBulk {
    let (name, hair_color) = crate::work::new_user(i);
    NewBulk { name, hair_color }
}

/// Rows per statement of the bulk workload (2 binds each, under every backend's limit).
pub const BULK_CHUNK: usize = 10_000;
