//! `lexigram db migrate -m NAME [--auto]` end to end through the built binary, on every backend.
#![allow(clippy::unwrap_used, clippy::expect_used)] // helpers outside #[test] fns assert too

#[path = "../../lexigram-sql/tests/common/mod.rs"]
mod common;
mod support;

use std::path::Path;

use lexigram_sql::Entity;
use support::{Run, lexigram};

/// The test servers' password: no output of any command may contain it.
const PASSWORD: &str = "lexigram_test_pw";

/// Runs `lexigram db <args> --url <url>` in `dir`.
fn db(dir: &Path, url: &str, args: &[&str]) -> Run {
    let mut all = vec!["db"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--url", url]);
    let run = lexigram(dir, &all, &[]);
    assert!(!run.all().contains(PASSWORD), "password printed: {run:?}");
    run
}

/// The `.sql` files of `dir`, sorted.
fn files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.unwrap().file_name().into_string().ok())
        .filter(|f| f.ends_with(".sql"))
        .collect();
    names.sort();
    names
}

fn read(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file)).unwrap()
}

const CUSTOMERS: &str = "tables:
  - name: customers
    columns:
      - { name: id, type: bigint, key: generated }
      - { name: name, type: string(100) }
";

const WITH_INVOICES: &str = "tables:
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
      - { columns: [customer] }
";

/// The `invoices` table as an application declares it.
#[derive(Debug, Clone, PartialEq, Entity)]
struct Invoice {
    #[entity(key, generated)]
    id: i64,
    number: String,
    customer: String,
    amount_cents: i64,
    note: Option<String>,
}

#[tokio::test]
async fn migrate_without_auto_creates_an_empty_timestamped_pair() {
    let work = tempfile::tempdir().unwrap();
    let cwd = work.path();
    let url = format!("sqlite:///{}", cwd.join("app.db").display());
    let out = db(cwd, &url, &["migrate", "-m", "add_users"])
        .ok()
        .to_string();
    let mig = cwd.join("migrations");
    let names = files(&mig);
    assert_eq!(names.len(), 2, "{names:?}");
    let (version, rest) = names[0].split_once('_').unwrap();
    assert_eq!(version.len(), 14, "a UTC timestamp version: {version}");
    assert!(version.chars().all(|c| c.is_ascii_digit()));
    assert_eq!(rest, "add_users.down.sql");
    assert_eq!(names[1], format!("{version}_add_users.up.sql"));
    assert!(out.contains(&names[1]) && out.contains(&names[0]), "{out}");
    let err = db(cwd, &url, &["migrate", "-m", "bad name!"])
        .failed()
        .to_string();
    assert!(err.contains("not a valid migration name"), "{err}");
}

#[tokio::test]
async fn auto_writes_a_missing_table_that_upgrade_applies_and_the_entity_then_works() {
    for t in common::all().await {
        let work = tempfile::tempdir().unwrap();
        let cwd = work.path();
        let mig = cwd.join("migrations");
        let url = t.url.as_str();
        let name = t.name();

        // A database with the customers table only, made by --auto and upgrade.
        std::fs::write(cwd.join("entities.yaml"), CUSTOMERS).unwrap();
        db(cwd, url, &["migrate", "-m", "add_customers", "--auto"]).ok();
        db(cwd, url, &["upgrade"]).ok();
        assert_eq!(files(&mig).len(), 2, "{name}");

        // The manifest gains invoices: --auto writes exactly that table and its indexes.
        std::fs::write(cwd.join("entities.yaml"), WITH_INVOICES).unwrap();
        let out = db(cwd, url, &["migrate", "-m", "add_invoices", "--auto"])
            .ok()
            .to_string();
        assert!(
            out.contains("create table invoices")
                && out.contains("create index ux_invoices_number")
                && out.contains("create index ix_invoices_customer")
                && !out.contains("customers"),
            "{name}: {out}"
        );
        let names = files(&mig);
        assert_eq!(names.len(), 4, "{name}: {names:?}");
        let up_file = names
            .iter()
            .find(|f| f.ends_with("_add_invoices.up.sql"))
            .unwrap();
        let down_file = names
            .iter()
            .find(|f| f.ends_with("_add_invoices.down.sql"))
            .unwrap();
        let up = read(&mig, up_file);
        assert!(
            up.contains("CREATE TABLE") && up.contains("invoices"),
            "{name}: {up}"
        );
        assert!(up.contains("CREATE UNIQUE INDEX"), "{name}: {up}");
        assert!(!up.contains("customers"), "{name}: {up}");
        assert!(read(&mig, down_file).contains("DROP TABLE"), "{name}");

        let out = db(cwd, url, &["upgrade"]).ok().to_string();
        assert!(
            out.contains("applied") && out.contains("_add_invoices"),
            "{name}: {out}"
        );

        // The entity works on the table the generated migration created.
        let conn = t.connect().await;
        let invoices = conn.repository::<Invoice>();
        let stored = invoices
            .create(Invoice {
                id: 0,
                number: "INV-1".into(),
                customer: "ada".into(),
                amount_cents: 12_50,
                note: None,
            })
            .await
            .unwrap_or_else(|e| panic!("{name}: create: {e}"));
        assert!(stored.id > 0, "{name}: generated key {}", stored.id);
        assert_eq!(
            invoices.find_one(stored.id).await.unwrap(),
            stored,
            "{name}"
        );
        // The unique index is live.
        let dup = invoices
            .create(Invoice {
                id: 0,
                number: "INV-1".into(),
                customer: "bob".into(),
                amount_cents: 1,
                note: Some("duplicate number".into()),
            })
            .await;
        assert!(dup.is_err(), "{name}: duplicate invoice number accepted");
        conn.close().await;

        // The generated down script reverts it, and upgrade applies it again.
        let out = db(cwd, url, &["downgrade"]).ok().to_string();
        assert!(
            out.contains("reverted") && out.contains("_add_invoices"),
            "{name}: {out}"
        );
        let conn = t.connect().await;
        assert!(!common::table_exists(&conn, "invoices").await, "{name}");
        assert!(common::table_exists(&conn, "customers").await, "{name}");
        conn.close().await;
        db(cwd, url, &["upgrade"]).ok();

        // Nothing left to do: no new files.
        let run = db(cwd, url, &["migrate", "-m", "again", "--auto"]);
        assert!(run.ok().contains("No changes"), "{name}: {run:?}");
        assert!(
            !run.stderr.contains("note:"),
            "{name}: no false drift: {run:?}"
        );
        assert_eq!(files(&mig).len(), 4, "{name}");

        // Nullability drift is reported, not turned into DDL.
        let stricter = WITH_INVOICES.replace(
            "{ name: note, type: text, nullable: true }",
            "{ name: note, type: text }",
        );
        std::fs::write(cwd.join("entities.yaml"), stricter).unwrap();
        let run = db(cwd, url, &["migrate", "-m", "again", "--auto"]);
        assert!(run.ok().contains("No changes"), "{name}: {run:?}");
        assert!(
            run.stderr.contains(
                "note: invoices.note is nullable in the database but NOT NULL in the manifest"
            ),
            "{name}: {run:?}"
        );
        assert_eq!(files(&mig).len(), 4, "{name}");

        // So is a changed type (a backend's own spelling of the same type is not a change,
        // as the runs above show).
        let retyped = WITH_INVOICES.replace(
            "{ name: customer, type: string }",
            "{ name: customer, type: bigint }",
        );
        std::fs::write(cwd.join("entities.yaml"), retyped).unwrap();
        let run = db(cwd, url, &["migrate", "-m", "again", "--auto"]);
        assert!(run.ok().contains("No changes"), "{name}: {run:?}");
        assert!(
            run.stderr.contains(
                "note: invoices.customer is a text column in the database but `bigint` (integer) in the manifest"
            ),
            "{name}: {run:?}"
        );
        assert_eq!(run.stderr.matches("note:").count(), 1, "{name}: {run:?}");
        assert_eq!(files(&mig).len(), 4, "{name}");
    }
}

#[tokio::test]
async fn auto_refuses_destructive_changes_unless_allowed_and_adds_columns() {
    for t in common::all().await {
        let work = tempfile::tempdir().unwrap();
        let cwd = work.path();
        let mig = cwd.join("migrations");
        let url = t.url.as_str();
        let name = t.name();
        std::fs::write(cwd.join("entities.yaml"), WITH_INVOICES).unwrap();
        db(cwd, url, &["migrate", "-m", "init", "--auto"]).ok();
        db(cwd, url, &["upgrade"]).ok();

        // A column the manifest does not declare: dropping it loses data, so it is refused.
        let conn = t.connect().await;
        conn.execute("ALTER TABLE invoices ADD COLUMN legacy VARCHAR(10)", &[])
            .await
            .unwrap();
        let err = db(cwd, url, &["migrate", "-m", "cleanup", "--auto"])
            .failed()
            .to_string();
        assert!(
            err.contains("refusing to write destructive changes")
                && err.contains("drop column invoices.legacy")
                && err.contains("--allow-destructive"),
            "{name}: {err}"
        );
        assert_eq!(files(&mig).len(), 2, "{name}: nothing written on refusal");

        // Allowed, and the manifest adds a column with a default at the same time.
        let with_paid = WITH_INVOICES
            .replace(
                "      - { name: note, type: text, nullable: true }\n",
                "      - { name: note, type: text, nullable: true }\n      - { name: paid, type: boolean, default: \"FALSE\" }\n",
            )
            .replace(
                "      - { columns: [customer] }\n",
                "      - { columns: [customer] }\n      - { columns: [customer, paid], name: ix_unpaid }\n",
            );
        std::fs::write(cwd.join("entities.yaml"), with_paid).unwrap();
        let out = db(
            cwd,
            url,
            &["migrate", "-m", "cleanup", "--auto", "--allow-destructive"],
        )
        .ok()
        .to_string();
        assert!(
            out.contains("add column invoices.paid")
                && out.contains("create index ix_unpaid")
                && out.contains("drop column invoices.legacy (DESTRUCTIVE"),
            "{name}: {out}"
        );
        db(cwd, url, &["upgrade"]).ok();
        let columns: Vec<String> = db(cwd, url, &["inspect", "--table", "invoices", "--json"])
            .ok()
            .parse::<serde_json::Value>()
            .unwrap()[0]["columns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(
            columns,
            ["id", "number", "customer", "amount_cents", "note", "paid"],
            "{name}"
        );

        // Pending migrations first: comparing now would repeat them.
        db(cwd, url, &["migrate", "-m", "pending"]).ok();
        let err = db(cwd, url, &["migrate", "-m", "x", "--auto"])
            .failed()
            .to_string();
        assert!(
            err.contains("not up to date") && err.contains("lexigram db upgrade"),
            "{name}: {err}"
        );
        conn.close().await;
    }
}

#[tokio::test]
async fn auto_without_a_manifest_says_how_to_write_one() {
    let work = tempfile::tempdir().unwrap();
    let cwd = work.path();
    let url = format!("sqlite:///{}", cwd.join("app.db").display());
    let err = db(cwd, &url, &["migrate", "-m", "x", "--auto"])
        .failed()
        .to_string();
    assert!(
        err.contains("entities.yaml") && err.contains("Fix:"),
        "{err}"
    );
}

#[tokio::test]
async fn auto_and_seed_speak_json() {
    let work = tempfile::tempdir().unwrap();
    let cwd = work.path();
    let url = format!("sqlite:///{}", cwd.join("app.db").display());
    std::fs::write(cwd.join("entities.yaml"), CUSTOMERS).unwrap();
    let out = db(cwd, &url, &["migrate", "-m", "init", "--auto", "--json"])
        .ok()
        .to_string();
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["name"], "init");
    assert_eq!(
        json["changes"],
        serde_json::json!(["create table customers"])
    );
    assert!(json["up"].as_str().unwrap().ends_with("_init.up.sql"));
    db(cwd, &url, &["upgrade"]).ok();
    let out = db(cwd, &url, &["migrate", "-m", "x", "--auto", "--json"])
        .ok()
        .to_string();
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["changes"], serde_json::json!([]));
    assert!(json["created"].is_null());

    std::fs::create_dir_all(cwd.join("seeds")).unwrap();
    std::fs::write(
        cwd.join("seeds/001_c.sql"),
        "INSERT INTO customers (name) VALUES ('ada');\n",
    )
    .unwrap();
    let out = db(cwd, &url, &["seed", "--json"]).ok().to_string();
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json[0]["name"], "001_c.sql");
    assert_eq!(json[0]["state"], "applied");
}

#[tokio::test]
async fn every_manifest_type_round_trips_without_a_change_or_a_note() {
    const ALL_TYPES: &str = "tables:
  - name: every_type
    columns:
      - { name: id, type: bigint, key: generated }
      - { name: c_integer, type: integer }
      - { name: c_smallint, type: smallint, nullable: true }
      - { name: c_boolean, type: boolean, default: \"TRUE\" }
      - { name: c_double, type: double, nullable: true }
      - { name: c_decimal, type: \"decimal(12,2)\", nullable: true }
      - { name: c_string, type: string(20) }
      - { name: c_text, type: text, nullable: true }
      - { name: c_bytes, type: bytes, nullable: true }
      - { name: c_timestamp, type: timestamp, nullable: true }
      - { name: c_datetime, type: datetime, nullable: true }
      - { name: c_date, type: date, nullable: true }
      - { name: c_uuid, type: uuid, nullable: true }
      - { name: c_json, type: json, nullable: true }
    indexes:
      - { columns: [c_string, c_integer], unique: true }
";
    for t in common::all().await {
        let work = tempfile::tempdir().unwrap();
        let cwd = work.path();
        let (url, name) = (t.url.as_str(), t.name());
        std::fs::write(cwd.join("entities.yaml"), ALL_TYPES).unwrap();
        db(cwd, url, &["migrate", "-m", "every_type", "--auto"]).ok();
        db(cwd, url, &["upgrade"]).ok();
        let run = db(cwd, url, &["migrate", "-m", "again", "--auto"]);
        assert!(run.ok().contains("No changes"), "{name}: {run:?}");
        assert!(!run.stderr.contains("note:"), "{name}: {run:?}");
    }
}
