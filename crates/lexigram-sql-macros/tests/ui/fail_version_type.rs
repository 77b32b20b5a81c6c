use lexigram_sql::Entity;

#[derive(Entity)]
struct User {
    #[entity(key)]
    id: i64,
    #[entity(version)]
    version: String,
}

fn main() {}
