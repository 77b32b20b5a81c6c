use lexigram_sql::FromRow;

#[derive(FromRow)]
struct Pair(i64, String);

#[derive(FromRow)]
enum Either {
    A { id: i64 },
}

#[derive(FromRow)]
struct Named {
    #[from_row(rename = "x", skip)]
    id: i64,
    #[from_row(column = "y")]
    name: String,
}

fn main() {}
