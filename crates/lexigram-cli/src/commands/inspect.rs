//! `inspect`: tables and their columns, from the database's catalog.

use std::process::ExitCode;

use lexigram_sql::{Database, Error, Value};
use serde::Serialize;

use super::{print_json, target};
use crate::CliError;
use crate::args::GlobalArgs;
use crate::table;

/// One column of a table.
#[derive(Debug, Serialize)]
struct Column {
    name: String,
    #[serde(rename = "type")]
    data_type: String,
    nullable: bool,
    default: Option<String>,
}

/// One table with its columns.
#[derive(Debug, Serialize)]
struct Table {
    table: String,
    columns: Vec<Column>,
}

/// The tables (all, or only `only`) and their columns, by the dialect's catalog queries.
async fn tables(db: &Database, only: Option<&str>) -> Result<Vec<Table>, Error> {
    let d = db.dialect();
    let mut out = Vec::new();
    for row in db.fetch_all(d.tables_sql(), &[]).await? {
        let table: String = row.get_at(0)?;
        if only.is_some_and(|t| t != table) {
            continue;
        }
        let rows = db
            .fetch_all(d.columns_sql(), &[Value::Null, Value::Text(table.clone())])
            .await?;
        let columns = rows
            .iter()
            .map(|r| {
                Ok(Column {
                    name: r.get_at(0)?,
                    data_type: r.get_at::<Option<String>>(2)?.unwrap_or_default(),
                    nullable: r.get_at::<String>(3)? == "YES",
                    default: r.get_at(4)?,
                })
            })
            .collect::<Result<_, Error>>()?;
        out.push(Table { table, columns });
    }
    Ok(out)
}

/// `lexigram db inspect [--table T]`
pub(crate) async fn run(global: &GlobalArgs, only: Option<&str>) -> Result<ExitCode, CliError> {
    let (backend, _) = target(global)?;
    let db = Database::connect(backend).await?;
    let result = tables(&db, only).await;
    db.close().await;
    let tables = result?;
    if let Some(t) = only.filter(|_| tables.is_empty()) {
        return Err(Error::TableMissing {
            table: t.to_string(),
        }
        .into());
    }
    if global.json {
        return print_json(&tables).map(|()| ExitCode::SUCCESS);
    }
    if tables.is_empty() {
        println!(
            "No tables. Create some with `lexigram db create <name>` and `lexigram db upgrade`."
        );
    }
    for (i, t) in tables.iter().enumerate() {
        if i > 0 {
            println!();
        }
        println!("Table {}", t.table);
        let rows: Vec<Vec<String>> = t
            .columns
            .iter()
            .map(|c| {
                vec![
                    c.name.clone(),
                    c.data_type.clone(),
                    if c.nullable { "yes" } else { "no" }.to_string(),
                    c.default.clone().unwrap_or_default(),
                ]
            })
            .collect();
        print!(
            "{}",
            table::render(&["COLUMN", "TYPE", "NULLABLE", "DEFAULT"], &rows)
        );
    }
    Ok(ExitCode::SUCCESS)
}
