use lexigram_sql::Entity;

struct Money(i64);

#[derive(Entity)]
struct Account {
    #[entity(key)]
    id: i64,
    balance: Money,
}

fn main() {}
