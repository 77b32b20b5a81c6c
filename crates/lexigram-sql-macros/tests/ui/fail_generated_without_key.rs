use lexigram_sql::Entity;

#[derive(Entity)]
struct User {
    #[entity(key)]
    id: i64,
    #[entity(generated)]
    serial: i64,
}

fn main() {}
