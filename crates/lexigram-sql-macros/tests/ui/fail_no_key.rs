use lexigram_sql::Entity;

#[derive(Entity)]
struct User {
    id: i64,
    name: String,
}

fn main() {}
