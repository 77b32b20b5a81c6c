//! The difference between the entities manifest and the live schema, as up/down DDL.
//!
//! Creates missing tables, adds missing columns, creates missing indexes. Columns that exist
//! in a declared table but not in the manifest are dropped only when destructive changes are
//! allowed. Tables the manifest does not name are never touched (the migrations table, an
//! outbox, tables of other services). A column whose nullability or broad type (integer,
//! text, timestamp, …) differs is reported as a note, not changed.

use std::collections::BTreeMap;

use lexigram_sql::config::BackendKind;

use super::live_schema::LiveTable;
use crate::CliError;
use crate::ddl;
use crate::entities::Manifest;

/// What `--auto` would write.
#[derive(Debug, Default)]
pub(crate) struct Plan {
    /// Statements of the `.up.sql` file, in order.
    pub up: Vec<String>,
    /// Statements (and comments) of the `.down.sql` file, in order.
    pub down: Vec<String>,
    /// One line per change, for the summary.
    pub changes: Vec<String>,
    /// The destructive changes among them (data is lost).
    pub destructive: Vec<String>,
    /// Differences found but not turned into DDL (write those by hand).
    pub notes: Vec<String>,
}

/// Compares the manifest with the live tables and plans the DDL for `kind`.
pub(crate) fn plan(
    kind: BackendKind,
    manifest: &Manifest,
    live: &BTreeMap<String, LiveTable>,
) -> Result<Plan, CliError> {
    let mut plan = Plan::default();
    let mut down_rev: Vec<String> = Vec::new();
    for t in &manifest.tables {
        let Some(existing) = live.get(&t.name.to_ascii_lowercase()) else {
            plan.up.push(ddl::create_table(kind, t));
            plan.changes.push(format!("create table {}", t.name));
            for ix in &t.indexes {
                plan.up.push(ddl::create_index(kind, &t.name, ix));
                plan.changes
                    .push(format!("create index {}", ix.name_for(&t.name)));
            }
            down_rev.push(ddl::drop_table(kind, &t.name));
            continue;
        };
        for c in &t.columns {
            let lower = c.name.to_ascii_lowercase();
            if existing.columns.contains(&lower) {
                let live_not_null = existing.not_null.contains(&lower);
                let declared_not_null = c.is_key() || !c.nullable;
                let declared_family = crate::ddl::SqlType::parse(&c.ty)
                    .ok()
                    .map(crate::ddl::SqlType::family);
                let live_family = existing
                    .types
                    .get(&lower)
                    .and_then(|t| crate::ddl::TypeFamily::of(t));
                if let (Some(declared), Some(live)) = (declared_family, live_family)
                    && !declared.fits(live)
                {
                    plan.notes.push(format!(
                        "{}.{} is a {} column in the database but `{}` ({}) in the manifest; not changed (write that ALTER by hand)",
                        t.name,
                        c.name,
                        live.name(),
                        c.ty,
                        declared.name()
                    ));
                }
                if live_not_null != declared_not_null {
                    let (db_says, manifest_says) = if live_not_null {
                        ("NOT NULL", "nullable")
                    } else {
                        ("nullable", "NOT NULL")
                    };
                    plan.notes.push(format!(
                        "{}.{} is {db_says} in the database but {manifest_says} in the manifest; not changed (write that ALTER by hand)",
                        t.name, c.name
                    ));
                }
                continue;
            }
            if c.is_key() {
                return Err(CliError::Message(format!(
                    "the key column `{}.{}` is missing from the existing table `{}`; a key cannot be added automatically. Fix: write this migration by hand (`lexigram db migrate -m NAME` without --auto)",
                    t.name, c.name, t.name
                )));
            }
            if !c.nullable && c.default.is_none() {
                return Err(CliError::Message(format!(
                    "the new column `{}.{}` is NOT NULL without a default, so it cannot be added to the existing table `{}` (its rows would have no value). Fix: give it a `default` in the manifest, or declare it `nullable: true`",
                    t.name, c.name, t.name
                )));
            }
            plan.up.push(ddl::add_column(kind, &t.name, c));
            plan.changes
                .push(format!("add column {}.{}", t.name, c.name));
            down_rev.push(ddl::drop_column(kind, &t.name, &c.name));
        }
        for ix in &t.indexes {
            let name = ix.name_for(&t.name);
            if existing.indexes.contains(&name.to_ascii_lowercase()) {
                continue;
            }
            plan.up.push(ddl::create_index(kind, &t.name, ix));
            plan.changes.push(format!("create index {name}"));
            down_rev.push(ddl::drop_index(kind, &t.name, &name));
        }
        for live_column in &existing.columns {
            if t.columns
                .iter()
                .any(|c| c.name.eq_ignore_ascii_case(live_column))
            {
                continue;
            }
            let what = format!("drop column {}.{live_column}", t.name);
            plan.up.push(ddl::drop_column(kind, &t.name, live_column));
            plan.changes
                .push(format!("{what} (DESTRUCTIVE: its data is lost)"));
            plan.destructive.push(what);
            down_rev.push(format!(
                "-- {}.{live_column} was dropped by the up migration; its data cannot be restored. Re-add the column here by hand if this migration must be reversible.",
                t.name
            ));
        }
    }
    down_rev.reverse();
    plan.down = down_rev;
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest() -> Manifest {
        Manifest::from_yaml(
            "tables:\n  - name: invoices\n    columns:\n      - { name: id, type: bigint, key: generated }\n      - { name: total, type: bigint, default: \"0\" }\n    indexes:\n      - { columns: [total] }\n",
            "test",
        )
        .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn an_extra_live_column_is_a_destructive_drop() {
        let mut live = BTreeMap::new();
        live.insert(
            "invoices".to_string(),
            LiveTable {
                columns: vec!["id".into(), "total".into(), "legacy".into()],
                not_null: vec!["id".into()],
                types: BTreeMap::new(),
                indexes: vec!["ix_invoices_total".into()],
            },
        );
        let plan = plan(BackendKind::Postgres, &manifest(), &live).unwrap_or_default();
        assert_eq!(plan.destructive, ["drop column invoices.legacy"]);
        assert_eq!(
            plan.notes,
            [
                "invoices.total is nullable in the database but NOT NULL in the manifest; not changed (write that ALTER by hand)"
            ]
        );
        assert_eq!(
            plan.up,
            ["ALTER TABLE \"invoices\" DROP COLUMN \"legacy\";"]
        );
    }

    #[test]
    fn a_missing_table_is_created_with_its_indexes_and_dropped_on_down() {
        let plan = plan(BackendKind::MySql, &manifest(), &BTreeMap::new()).unwrap_or_default();
        assert_eq!(plan.up.len(), 2);
        assert!(plan.up[1].starts_with("CREATE INDEX `ix_invoices_total`"));
        assert_eq!(plan.down, ["DROP TABLE `invoices`;"]);
        assert!(plan.destructive.is_empty());
    }
}
