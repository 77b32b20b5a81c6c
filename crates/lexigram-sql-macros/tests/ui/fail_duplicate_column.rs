use lexigram_sql::Entity;

#[derive(Entity)]
struct User {
    #[entity(key)]
    id: i64,
    name: String,
    #[entity(rename = "name")]
    nickname: String,
}

fn main() {}
