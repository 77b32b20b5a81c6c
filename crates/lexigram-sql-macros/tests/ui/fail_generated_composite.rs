use lexigram_sql::Entity;

#[derive(Entity)]
struct Membership {
    #[entity(key, generated)]
    user_id: i64,
    #[entity(key)]
    group_id: i64,
}

fn main() {}
