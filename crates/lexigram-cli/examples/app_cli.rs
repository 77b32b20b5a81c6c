//! An application's own `lexigram` binary (see [`lexigram_cli::App`]): the standard command
//! line plus the application's entities and a Rust seeder. `tests/app_binary.rs` runs it.
//!
//! `APP_CLI_STALE_MANIFEST=1` embeds a manifest that lacks a column of `Invoice`, to show the
//! check that keeps the manifest and the Rust types in step.

use std::process::ExitCode;

use lexigram_cli::{App, Manifest};
use lexigram_sql::{Database, Entity};

/// The manifest an application would keep beside its code (`include_str!("entities.yaml")`).
const MANIFEST: &str = "tables:
  - name: customers
    columns:
      - { name: id, type: bigint, key: generated }
      - { name: name, type: string(100) }
  - name: invoices
    columns:
      - { name: id, type: bigint, key: generated }
      - { name: number, type: string(40) }
      - { name: customer, type: string }
      - { name: amount_cents, type: bigint }
      - { name: note, type: text, nullable: true }
    indexes:
      - { columns: [number], unique: true }
";

/// A customer.
#[derive(Debug, Clone, Entity)]
struct Customer {
    #[entity(key, generated)]
    id: i64,
    name: String,
}

/// An invoice.
#[derive(Debug, Clone, Entity)]
struct Invoice {
    #[entity(key, generated)]
    id: i64,
    number: String,
    customer: String,
    amount_cents: i64,
    note: Option<String>,
}

/// Two demo customers, through the repository, in one transaction.
async fn demo_customers(db: Database) -> Result<(), lexigram_sql::Error> {
    let mut uow = db.unit_of_work().await?;
    for name in ["Ada", "Grace"] {
        uow.repository::<Customer>()
            .create(Customer {
                id: 0,
                name: name.to_string(),
            })
            .await?;
    }
    uow.commit().await
}

fn main() -> ExitCode {
    let text = if std::env::var_os("APP_CLI_STALE_MANIFEST").is_some() {
        MANIFEST.replace("      - { name: amount_cents, type: bigint }\n", "")
    } else {
        MANIFEST.to_string()
    };
    let manifest = match Manifest::from_yaml(&text, "app_cli's embedded entities manifest") {
        Ok(m) => m,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    App::new()
        .entities(manifest)
        .entity::<Customer>()
        .entity::<Invoice>()
        .seeder("demo_customers", demo_customers)
        .main()
}
