use lexigram_sql::Entity;

#[derive(Entity)]
struct User {
    #[entity(key, autoincrement)]
    id: i64,
}

fn main() {}
