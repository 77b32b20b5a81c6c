use lexigram_sql::Entity;

#[derive(Entity)]
#[entity(table = "a.b.c")]
struct Invoice {
    #[entity(key)]
    id: i64,
}

#[derive(Entity)]
#[entity(table = "billing.invoices")]
struct Ok {
    #[entity(key)]
    id: i64,
    #[entity(rename = "a;drop")]
    total: i64,
}

fn main() {}
