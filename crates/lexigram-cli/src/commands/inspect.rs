//! `inspect`: tables and their columns, from the database's catalog.

use std::process::ExitCode;

use lexigram_sql::config::BackendKind;
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

async fn sqlite_tables(db: &Database, only: Option<&str>) -> Result<Vec<Table>, Error> {
    let names = db
        .fetch_all(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
            &[],
        )
        .await?;
    let mut out = Vec::new();
    for row in names {
        let table: String = row.get("name")?;
        if only.is_some_and(|t| t != table) {
            continue;
        }
        let rows = db
            .fetch_all(
                "SELECT name, type, \"notnull\" AS not_null, dflt_value FROM pragma_table_info(?) ORDER BY cid",
                &[Value::Text(table.clone())],
            )
            .await?;
        let columns = rows
            .iter()
            .map(|r| {
                Ok(Column {
                    name: r.get("name")?,
                    data_type: r.get("type")?,
                    nullable: r.get::<i64>("not_null")? == 0,
                    default: r.get("dflt_value")?,
                })
            })
            .collect::<Result<_, Error>>()?;
        out.push(Table { table, columns });
    }
    Ok(out)
}

async fn catalog_tables(db: &Database, only: Option<&str>) -> Result<Vec<Table>, Error> {
    let (schema, data_type, param) = match db.kind() {
        BackendKind::Postgres => ("current_schema()", "data_type", "$1"),
        _ => ("DATABASE()", "column_type", "?"),
    };
    let mut sql = format!(
        "SELECT CAST(table_name AS CHAR(255)) AS tname, CAST(column_name AS CHAR(255)) AS cname, \
         CAST({data_type} AS CHAR(255)) AS ctype, CAST(is_nullable AS CHAR(3)) AS nullable, \
         CAST(column_default AS CHAR(255)) AS cdefault \
         FROM information_schema.columns WHERE table_schema = {schema}"
    );
    if db.kind() == BackendKind::Postgres {
        sql = sql.replace("CHAR(255)", "TEXT").replace("CHAR(3)", "TEXT");
    }
    let mut params = Vec::new();
    if let Some(t) = only {
        sql.push_str(&format!(" AND table_name = {param}"));
        params.push(Value::Text(t.to_string()));
    }
    sql.push_str(" ORDER BY table_name, ordinal_position");
    let mut out: Vec<Table> = Vec::new();
    for r in db.fetch_all(&sql, &params).await? {
        let table: String = r.get("tname")?;
        let column = Column {
            name: r.get("cname")?,
            data_type: r.get("ctype")?,
            nullable: r.get::<String>("nullable")? == "YES",
            default: r.get("cdefault")?,
        };
        match out.last_mut() {
            Some(last) if last.table == table => last.columns.push(column),
            _ => out.push(Table {
                table,
                columns: vec![column],
            }),
        }
    }
    Ok(out)
}

/// `lexigram db inspect [--table T]`
pub(crate) async fn run(global: &GlobalArgs, only: Option<&str>) -> Result<ExitCode, CliError> {
    let (backend, _) = target(global)?;
    let db = Database::connect(backend).await?;
    let result = match db.kind() {
        BackendKind::Sqlite => sqlite_tables(&db, only).await,
        _ => catalog_tables(&db, only).await,
    };
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
