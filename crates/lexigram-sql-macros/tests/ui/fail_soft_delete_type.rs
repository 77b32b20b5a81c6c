use lexigram_sql::Entity;

#[derive(Entity)]
struct User {
    #[entity(key)]
    id: i64,
    #[entity(soft_delete)]
    deleted: bool,
}

fn main() {}
