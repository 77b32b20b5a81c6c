use lexigram_sql::Entity;

#[derive(Entity)]
struct Post {
    #[entity(key)]
    id: i64,
    #[entity(created_at)]
    created: i64,
}

fn main() {}
