//! The entities manifest: the tables, columns and indexes an application declares, which
//! `lexigram db migrate -m NAME --auto` compares with the live database.
//!
//! `#[derive(Entity)]` types live in the application's binary, out of reach of a standalone
//! `lexigram` binary, and carry no column types; so the declared schema is a small YAML file
//! (`entities.yaml` by default, `--entities FILE` otherwise):
//!
//! ```yaml
//! tables:
//!   - name: invoices
//!     columns:
//!       - { name: id, type: bigint, key: generated }
//!       - { name: number, type: string(40) }
//!       - { name: customer, type: string }
//!       - { name: amount_cents, type: bigint, default: "0" }
//!       - { name: note, type: text, nullable: true }
//!     indexes:
//!       - { columns: [number], unique: true }
//!       - { columns: [customer] }
//! ```
//!
//! ```
//! let manifest = lexigram_cli::Manifest::from_yaml(
//!     "tables:\n  - name: notes\n    columns:\n      - { name: id, type: bigint, key: generated }\n",
//!     "entities.yaml",
//! )?;
//! assert_eq!(manifest.tables[0].columns[0].name, "id");
//! # Ok::<(), lexigram_cli::CliError>(())
//! ```

use std::path::Path;

use serde::Deserialize;

use crate::CliError;

/// The whole manifest.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The declared tables, in the order they are created.
    pub tables: Vec<TableSpec>,
}

/// One declared table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableSpec {
    /// Table name (letters, digits, `_`).
    pub name: String,
    /// Columns, in order.
    pub columns: Vec<ColumnSpec>,
    /// Secondary indexes.
    #[serde(default)]
    pub indexes: Vec<IndexSpec>,
}

/// One declared column.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnSpec {
    /// Column name (letters, digits, `_`).
    pub name: String,
    /// Portable type: `bigint`, `integer`, `smallint`, `boolean`, `double`,
    /// `decimal(P,S)`, `string` / `string(N)`, `text`, `bytes`, `timestamp`, `datetime`,
    /// `date`, `uuid`, `json`.
    #[serde(rename = "type")]
    pub ty: String,
    /// Whether NULL is allowed (default: no).
    #[serde(default)]
    pub nullable: bool,
    /// `true` for the primary key, `generated` for a key the database generates.
    #[serde(default)]
    pub key: Option<KeySpec>,
    /// A default, as SQL text (e.g. `"0"`, `"'draft'"`).
    #[serde(default)]
    pub default: Option<String>,
}

/// How a column is the primary key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum KeySpec {
    /// `key: true` (or `false`, meaning not a key).
    Plain(bool),
    /// `key: generated`.
    Generated(Generated),
}

/// The word `generated`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Generated {
    /// The database generates the key.
    Generated,
}

/// One declared secondary index.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndexSpec {
    /// Its columns, in order.
    pub columns: Vec<String>,
    /// Whether it is a unique index.
    #[serde(default)]
    pub unique: bool,
    /// Its name [default: `ix_<table>_<columns>`, or `ux_…` when unique].
    #[serde(default)]
    pub name: Option<String>,
}

impl ColumnSpec {
    /// Whether this column is the primary key.
    pub fn is_key(&self) -> bool {
        matches!(self.key, Some(KeySpec::Plain(true) | KeySpec::Generated(_)))
    }

    /// Whether the database generates this key.
    pub fn is_generated(&self) -> bool {
        matches!(self.key, Some(KeySpec::Generated(_)))
    }
}

impl IndexSpec {
    /// The index name: as declared, else `ix_<table>_<col>_<col>` (`ux_` when unique).
    pub fn name_for(&self, table: &str) -> String {
        self.name.clone().unwrap_or_else(|| {
            let prefix = if self.unique { "ux" } else { "ix" };
            format!("{prefix}_{table}_{}", self.columns.join("_"))
        })
    }
}

fn is_identifier(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit())
}

impl Manifest {
    /// How the manifest differs from a `#[derive(Entity)]` type: its table missing, columns
    /// missing or extra (by column name, in any order), or another key column. Empty when
    /// they agree.
    pub fn mismatches(&self, meta: &lexigram_sql::repository::EntityMeta) -> Vec<String> {
        let Some(table) = self.tables.iter().find(|t| t.name == meta.table) else {
            return vec![format!(
                "entity {} uses the table `{}`, which the manifest does not declare",
                meta.name, meta.table
            )];
        };
        let mut out = Vec::new();
        for column in meta.column_names() {
            if !table.columns.iter().any(|c| c.name == column) {
                out.push(format!(
                    "entity {} has the column `{}.{column}`, which the manifest does not declare",
                    meta.name, meta.table
                ));
            }
        }
        for c in &table.columns {
            if !meta.column_names().any(|name| name == c.name) {
                out.push(format!(
                    "the manifest declares `{}.{}`, which entity {} does not have",
                    meta.table, c.name, meta.name
                ));
            }
        }
        // Every key column (several for a composite key), in order.
        let keys: Vec<&str> = meta.key_columns().map(|c| c.name).collect();
        let declared: Vec<_> = table.columns.iter().filter(|c| c.is_key()).collect();
        let same = declared.len() == keys.len()
            && declared
                .iter()
                .zip(&keys)
                .all(|(c, k)| c.name == *k && c.is_generated() == meta.key_generated);
        if !same {
            let key = keys.join("`, `");
            out.push(format!(
                "entity {} has the key `{key}`{}; declare each key column in the manifest as `{{ name: <column>, key: {} }}`",
                meta.name,
                if meta.key_generated { " (generated)" } else { "" },
                if meta.key_generated { "generated" } else { "true" }
            ));
        }
        out
    }

    /// Reads and checks a manifest file.
    pub fn load(path: &Path) -> Result<Manifest, CliError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            CliError::Message(format!(
                "cannot read the entities manifest {}: {e}. Fix: write it (see `lexigram db migrate --help` and MIGRATIONS.md) or pass --entities FILE",
                path.display()
            ))
        })?;
        Manifest::from_yaml(&text, &path.display().to_string())
    }

    /// Parses and checks a manifest; `origin` names it in errors.
    pub fn from_yaml(text: &str, origin: &str) -> Result<Manifest, CliError> {
        let manifest: Manifest = serde_yaml_ng::from_str(text).map_err(|e| {
            CliError::Message(format!(
                "the entities manifest {origin} is not valid: {e}. Fix: see the format in MIGRATIONS.md (`tables:` → `name`, `columns`, `indexes`)"
            ))
        })?;
        manifest.check(origin)?;
        Ok(manifest)
    }

    fn check(&self, origin: &str) -> Result<(), CliError> {
        let bad = |what: String| {
            Err(CliError::Message(format!(
                "the entities manifest {origin}: {what}"
            )))
        };
        let mut tables = std::collections::HashSet::new();
        for t in &self.tables {
            if !is_identifier(&t.name) {
                return bad(format!(
                    "table name `{}` is not an identifier. Fix: use letters, digits and `_`",
                    t.name
                ));
            }
            if !tables.insert(t.name.as_str()) {
                return bad(format!(
                    "table `{}` is declared twice. Fix: keep one",
                    t.name
                ));
            }
            if t.columns.is_empty() {
                return bad(format!(
                    "table `{}` has no columns. Fix: declare at least its key",
                    t.name
                ));
            }
            let mut names = std::collections::HashSet::new();
            for c in &t.columns {
                if !is_identifier(&c.name) {
                    return bad(format!(
                        "column `{}.{}` is not an identifier. Fix: use letters, digits and `_`",
                        t.name, c.name
                    ));
                }
                if !names.insert(c.name.as_str()) {
                    return bad(format!(
                        "column `{}.{}` is declared twice. Fix: keep one",
                        t.name, c.name
                    ));
                }
                crate::ddl::SqlType::parse(&c.ty).map_err(|e| {
                    CliError::Message(format!(
                        "the entities manifest {origin}: column `{}.{}`: {e}",
                        t.name, c.name
                    ))
                })?;
            }
            let keys = t.columns.iter().filter(|c| c.is_key()).count();
            if keys > 1 {
                return bad(format!(
                    "table `{}` has {keys} key columns; only single-column keys are supported. Fix: mark one column `key: true` and add a unique index over the others",
                    t.name
                ));
            }
            for ix in &t.indexes {
                if ix.columns.is_empty() {
                    return bad(format!(
                        "an index of `{}` has no columns. Fix: list them under `columns`",
                        t.name
                    ));
                }
                if let Some(missing) = ix.columns.iter().find(|c| !names.contains(c.as_str())) {
                    return bad(format!(
                        "an index of `{}` names the column `{missing}`, which the table does not declare. Fix: declare the column or correct the index",
                        t.name
                    ));
                }
                if !is_identifier(&ix.name_for(&t.name)) {
                    return bad(format!(
                        "index name `{}` is not an identifier (at most 63 characters). Fix: give the index a shorter `name`",
                        ix.name_for(&t.name)
                    ));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::Manifest;

    #[test]
    fn an_index_over_an_undeclared_column_is_refused_with_the_fix() {
        let err = Manifest::from_yaml(
            "tables:\n  - name: t\n    columns:\n      - { name: id, type: bigint, key: true }\n    indexes:\n      - { columns: [nope] }\n",
            "m.yaml",
        )
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(err.contains("`nope`") && err.contains("Fix:"), "{err}");
    }

    #[test]
    fn an_unknown_type_is_refused_naming_the_column() {
        let err = Manifest::from_yaml(
            "tables:\n  - name: t\n    columns:\n      - { name: id, type: int128 }\n",
            "m.yaml",
        )
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(err.contains("`t.id`") && err.contains("int128"), "{err}");
    }
}
