use lexigram_sql::Entity;

#[derive(Entity)]
struct User(i64, String);

fn main() {}
