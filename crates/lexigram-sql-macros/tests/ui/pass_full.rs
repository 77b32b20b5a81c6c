use chrono::{DateTime, Utc};
use lexigram_sql::repository::Entity as _;
use lexigram_sql::Entity;

#[derive(Debug, Default, Entity)]
struct OrderLine {
    #[entity(key, generated)]
    id: i64,
    #[entity(rename = "qty")]
    quantity: i32,
    note: Option<String>,
    #[entity(version)]
    version: i32,
    #[entity(soft_delete)]
    deleted_at: Option<DateTime<Utc>>,
    #[entity(skip)]
    cached: Vec<u8>,
}

#[derive(Debug, Entity)]
#[entity(table = "people")]
struct Person {
    #[entity(key)]
    r#ref: String,
}

fn main() {
    let meta = OrderLine::meta();
    assert_eq!(meta.table, "order_lines");
    assert_eq!(meta.columns.len(), 5);
    assert_eq!((meta.key, meta.key_generated, meta.version, meta.soft_delete), (0, true, Some(3), Some(4)));
    assert_eq!(meta.columns[1].name, "qty");
    assert_eq!(Person::meta().table, "people");
    assert_eq!(Person::meta().columns[0].name, "ref");
    let line = OrderLine::default();
    assert_eq!(line.to_values().len(), 5);
}
