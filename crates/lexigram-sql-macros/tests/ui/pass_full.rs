use chrono::{DateTime, Utc};
use lexigram_sql::repository::{Entity as _, FromRow as _};
use lexigram_sql::{Entity, FromRow, Row, Value};

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

#[derive(Debug, Entity)]
#[entity(table = "billing.memberships")]
struct Membership {
    #[entity(key)]
    group_id: i64,
    #[entity(key, belongs_to = Person)]
    person: String,
    #[entity(created_at)]
    created_at: DateTime<Utc>,
    #[entity(updated_at)]
    updated_at: Option<DateTime<Utc>>,
}

#[derive(Debug, FromRow)]
struct Summary {
    #[from_row(rename = "qty")]
    quantity: i64,
    note: Option<String>,
    #[from_row(skip)]
    seen: bool,
}

fn main() {
    let meta = OrderLine::meta();
    assert_eq!(meta.table, "order_lines");
    assert_eq!(meta.columns.len(), 5);
    assert_eq!((meta.keys, meta.key_generated, meta.version, meta.soft_delete), (&[0][..], true, Some(3), Some(4)));
    assert_eq!(meta.columns[1].name, "qty");
    assert_eq!(Person::meta().table, "people");
    assert_eq!(Person::meta().columns[0].name, "ref");
    let line = OrderLine::default();
    assert_eq!(line.to_values().len(), 5);

    let m = Membership::meta();
    assert_eq!((m.table, m.keys), ("billing.memberships", &[0, 1][..]));
    assert_eq!((m.created_at, m.updated_at), (Some(2), Some(3)));
    assert_eq!(m.relation_to(Person::meta()), Some(1));

    let row = Row::new(vec!["qty".to_string()].into(), vec![Value::Int(3)]);
    let s = Summary::from_row(row).unwrap();
    assert_eq!((s.quantity, s.note, s.seen), (3, None, false));
}
