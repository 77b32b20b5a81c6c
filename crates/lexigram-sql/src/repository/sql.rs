//! SQL generation. Fixed-shape statements of an entity ([`EntitySql`]) are generated once per
//! entity and backend and cached in the entity's `static` metadata; filtered queries are built
//! per call by [`SqlBuf`], which quotes every identifier through the dialect and binds every
//! value.

use super::aggregate::Measure;
use super::entity::EntityMeta;
use super::filter::Node;
use super::query::{Order, Query};
use crate::backend::Dialect;
use crate::error::{Error, Result};
use crate::value::Value;

/// The fixed-shape statements of one entity on one backend.
#[derive(Debug)]
pub(crate) struct EntitySql {
    /// The quoted table name (`"schema"."table"` when qualified).
    pub(crate) table: String,
    /// `"a", "b", …` — every column, in column order.
    pub(crate) columns: String,
    /// `SELECT <columns> FROM "table"`.
    pub(crate) select: String,
    /// Select by key, excluding soft-deleted rows.
    pub(crate) find_key: String,
    /// `SELECT 1 … WHERE key = ?` (soft-deleted rows included).
    pub(crate) exists_key: String,
    /// Insert of [`EntitySql::insert_cols`] with `RETURNING <columns>`.
    pub(crate) insert: String,
    /// The same insert without `RETURNING`, for servers that lack it.
    pub(crate) insert_plain: String,
    /// Select by key, soft-deleted rows included: reads back an insert without `RETURNING`.
    pub(crate) select_key: String,
    /// Columns bound by `insert`, in order (the generated key left out).
    pub(crate) insert_cols: Vec<usize>,
    /// Update of every non-key column; versioned: checks and bumps the version.
    pub(crate) update: String,
    /// Columns bound by `update`'s SET list, in order; then the key (and version) follow.
    pub(crate) update_cols: Vec<usize>,
    /// Delete by key (and version).
    pub(crate) delete: String,
    /// Sets the soft-delete column by key (and version, bumping it), if the entity has one.
    pub(crate) set_deleted: Option<String>,
    /// Upsert on the key with `RETURNING <columns>`; binds every column in order.
    pub(crate) upsert_key: String,
    /// The same upsert without `RETURNING`.
    pub(crate) upsert_key_plain: String,
}

impl EntitySql {
    pub(crate) fn build(meta: &EntityMeta, d: &dyn Dialect) -> EntitySql {
        let q = |i: usize| d.quote_ident(meta.columns[i].name);
        let table = crate::ident::quote_table(d, meta.table);
        let all: Vec<usize> = (0..meta.columns.len()).collect();
        let columns = list(d, meta, &all);
        let select = format!("SELECT {columns} FROM {table}");
        let live = meta
            .soft_delete
            .map(|i| format!(" AND {} IS NULL", q(i)))
            .unwrap_or_default();

        let (key_only, _) = key_where(d, meta, 1, false);
        let select_key = format!("{select} WHERE {key_only}");
        let find_key = format!("{select_key}{live}");
        let exists_key = format!("SELECT 1 FROM {table} WHERE {key_only}");

        let insert_cols: Vec<usize> = all
            .iter()
            .copied()
            .filter(|&i| !(meta.key_generated && meta.is_key(i)))
            .collect();
        let insert_plain = format!(
            "INSERT INTO {table} ({}) VALUES ({})",
            list(d, meta, &insert_cols),
            d.placeholders(1, insert_cols.len()),
        );
        let insert = format!("{insert_plain}{}", returning(d, &columns, true));

        let update_cols: Vec<usize> = all
            .iter()
            .copied()
            .filter(|&i| !meta.is_key(i) && Some(i) != meta.version)
            .collect();
        let mut set: Vec<String> = Vec::with_capacity(update_cols.len() + 1);
        let mut n = 0;
        for &i in &update_cols {
            n += 1;
            let mut s = format!("{} = ", q(i));
            d.push_placeholder(&mut s, n);
            set.push(s);
        }
        let bump = meta.version.map(|v| format!("{0} = {0} + 1", q(v)));
        set.extend(bump.clone());
        let (key_where_v, _) = key_where(d, meta, n + 1, true);
        let update = format!("UPDATE {table} SET {} WHERE {key_where_v}", set.join(", "));

        let (key_where_v, _) = key_where(d, meta, 1, true);
        let delete = format!("DELETE FROM {table} WHERE {key_where_v}");

        let set_deleted = meta.soft_delete.map(|sd| {
            let mut s = format!("UPDATE {table} SET {} = ", q(sd));
            d.push_placeholder(&mut s, 1);
            if let Some(b) = &bump {
                s.push_str(", ");
                s.push_str(b);
            }
            let (key_where_v, _) = key_where(d, meta, 2, true);
            format!("{s} WHERE {key_where_v}")
        });

        let upsert_key = upsert(d, meta, meta.keys, &all, &columns, true);
        let upsert_key_plain = upsert(d, meta, meta.keys, &all, &columns, false);
        EntitySql {
            table,
            columns,
            select,
            find_key,
            exists_key,
            insert,
            insert_plain,
            select_key,
            insert_cols,
            update,
            update_cols,
            delete,
            set_deleted,
            upsert_key,
            upsert_key_plain,
        }
    }
}

/// `"k1" = ?n AND "k2" = ?n+1 … [AND "version" = ?]` (the version when `versioned` and the
/// entity has one) and the number of placeholders used.
fn key_where(d: &dyn Dialect, meta: &EntityMeta, first: usize, versioned: bool) -> (String, usize) {
    let mut s = String::new();
    let version = meta.version.filter(|_| versioned);
    for (n, i) in meta.keys.iter().chain(version.iter()).enumerate() {
        if n > 0 {
            s.push_str(" AND ");
        }
        s.push_str(&d.quote_ident(meta.columns[*i].name));
        s.push_str(" = ");
        d.push_placeholder(&mut s, first + n);
    }
    (s, meta.keys.len() + usize::from(version.is_some()))
}

/// Quoted column list of the given positions.
pub(crate) fn list(d: &dyn Dialect, meta: &EntityMeta, cols: &[usize]) -> String {
    cols.iter()
        .map(|&i| d.quote_ident(meta.columns[i].name))
        .collect::<Vec<_>>()
        .join(", ")
}

/// ` RETURNING <columns>` when wanted and the dialect has it, else nothing.
fn returning(d: &dyn Dialect, columns: &str, wanted: bool) -> String {
    if wanted && d.supports_returning() {
        format!(" RETURNING {columns}")
    } else {
        String::new()
    }
}

/// `INSERT … (cols) VALUES (…) ON CONFLICT … [RETURNING …]`: inserts `cols`, and on a conflict
/// on `conflict` updates every other non-key column but `created_at` (bumping the version, if
/// any).
pub(crate) fn upsert(
    d: &dyn Dialect,
    meta: &EntityMeta,
    conflict: &[usize],
    cols: &[usize],
    columns: &str,
    with_returning: bool,
) -> String {
    let table = crate::ident::quote_table(d, meta.table);
    let conflict_names: Vec<&str> = conflict.iter().map(|&i| meta.columns[i].name).collect();
    let update: Vec<&str> = cols
        .iter()
        .copied()
        .filter(|&i| {
            !meta.is_key(i)
                && Some(i) != meta.version
                && Some(i) != meta.created_at
                && !conflict.contains(&i)
        })
        .map(|i| meta.columns[i].name)
        .collect();
    let mut clause = d.upsert_clause(&conflict_names, &update);
    if let (Some(v), false) = (meta.version, update.is_empty()) {
        let qv = d.quote_ident(meta.columns[v].name);
        clause.push_str(&format!(", {qv} = {table}.{qv} + 1"));
    }
    format!(
        "INSERT INTO {table} ({}) VALUES ({}){clause}{}",
        list(d, meta, cols),
        d.placeholders(1, cols.len()),
        returning(d, columns, with_returning),
    )
}

/// How caller-supplied column names are checked.
#[derive(Clone, Copy)]
pub(crate) enum Columns<'a> {
    /// Against an entity's columns (column or field names).
    Entity(&'static EntityMeta),
    /// Against the identifier rule, for a table without a struct.
    Table,
    /// Grouped rows (`HAVING`, ordering of an aggregate): a measure's alias stands for its
    /// expression; other names are the entity's columns.
    Grouped(&'static EntityMeta, &'a [Measure]),
    /// One side of a join: the entity's columns, written `alias."column"`.
    Aliased(&'static EntityMeta, &'static str),
}

impl Columns<'_> {
    /// The entity's name, or `table` for a table without a struct: who an error is about.
    pub(crate) fn owner(&self) -> &'static str {
        match self {
            Columns::Entity(meta) | Columns::Grouped(meta, _) | Columns::Aliased(meta, _) => {
                meta.name
            }
            Columns::Table => "table",
        }
    }

    /// The column name to quote, or a typed error.
    pub(crate) fn resolve<'n>(&self, name: &'n str) -> Result<&'n str> {
        match self {
            Columns::Entity(meta) | Columns::Grouped(meta, _) | Columns::Aliased(meta, _) => {
                Ok(meta.columns[meta.resolve(name)?].name)
            }
            Columns::Table => crate::ident::check("column", name).map(|()| name),
        }
    }
}

/// A statement being built: SQL text plus its bound parameters.
pub(crate) struct SqlBuf {
    pub(crate) sql: String,
    pub(crate) params: Vec<Value>,
    dialect: &'static dyn Dialect,
}

impl SqlBuf {
    pub(crate) fn new(dialect: &'static dyn Dialect, start: &str) -> SqlBuf {
        let mut sql = String::with_capacity(start.len() + 64);
        sql.push_str(start);
        SqlBuf {
            sql,
            params: Vec::new(),
            dialect,
        }
    }

    pub(crate) fn push(&mut self, s: &str) {
        self.sql.push_str(s);
    }

    pub(crate) fn param(&mut self, v: Value) {
        self.params.push(v);
        self.dialect
            .push_placeholder(&mut self.sql, self.params.len());
    }

    pub(crate) fn ident(&mut self, name: &str) {
        self.sql.push_str(&self.dialect.quote_ident(name));
    }

    /// A table name, each part (`schema.table`) quoted.
    pub(crate) fn table(&mut self, name: &str) {
        self.sql
            .push_str(&crate::ident::quote_table(self.dialect, name));
    }

    /// A caller-named column, checked by `cols` and quoted; for grouped rows, a measure's
    /// alias becomes the measure's expression.
    pub(crate) fn column(&mut self, cols: Columns<'_>, name: &str) -> Result<()> {
        if let Columns::Grouped(_, measures) = cols
            && let Some(m) = measures.iter().find(|m| m.alias == name)
        {
            m.push_expr(self);
            return Ok(());
        }
        let resolved = cols.resolve(name)?;
        if let Columns::Aliased(_, alias) = cols {
            self.push(alias);
            self.push(".");
        }
        self.ident(resolved);
        Ok(())
    }

    /// ` WHERE …` for a query: its filter and, unless the query includes them, the exclusion of
    /// soft-deleted rows. Nothing when every row matches.
    pub(crate) fn where_clause(
        &mut self,
        filter: &Node,
        soft_delete: Option<&str>,
        cols: Columns<'_>,
    ) -> Result<()> {
        let all = matches!(filter, Node::All | Node::Empty);
        if all && soft_delete.is_none() {
            return Ok(());
        }
        self.push(" WHERE ");
        if let Some(sd) = soft_delete {
            self.ident(sd);
            self.push(" IS NULL");
            if all {
                return Ok(());
            }
            self.push(" AND ");
        }
        self.node(filter, cols)?;
        self.check_params(cols)
    }

    /// [`Error::TooManyParameters`] when the statement binds more parameters than the backend
    /// accepts, before anything is sent.
    pub(crate) fn check_params(&self, cols: Columns<'_>) -> Result<()> {
        let limit = self.dialect.max_params();
        if self.params.len() <= limit {
            return Ok(());
        }
        Err(Error::TooManyParameters {
            entity: cols.owner().to_string(),
            needed: self.params.len(),
            limit,
            backend: self.dialect.name(),
            detail: "the filter cannot be split: the long list is not a single `is_in` at the top of the filter, or the query orders, limits or pages".into(),
        })
    }

    /// Renders a filter.
    pub(crate) fn node(&mut self, node: &Node, cols: Columns<'_>) -> Result<()> {
        match node {
            Node::All | Node::Empty => self.push("1 = 1"),
            Node::Like {
                column,
                pattern,
                ci,
                escaped,
            } => {
                if *ci && !self.dialect.has_ilike() {
                    self.push("LOWER(");
                    self.column(cols, column)?;
                    self.push(") LIKE LOWER(");
                    self.param(pattern.clone());
                    self.push(")");
                } else {
                    self.column(cols, column)?;
                    self.push(if *ci { " ILIKE " } else { " LIKE " });
                    self.param(pattern.clone());
                }
                if *escaped {
                    self.push(" ESCAPE '");
                    self.sql.push(super::filter::LIKE_ESCAPE);
                    self.push("'");
                }
            }
            Node::Compare { column, op, value } => {
                self.column(cols, column)?;
                self.push(op.sql());
                self.param(value.clone());
            }
            Node::In {
                column,
                values,
                negated,
            } => {
                if values.is_empty() {
                    let alias = matches!(cols, Columns::Grouped(_, ms) if ms.iter().any(|m| m.alias == *column));
                    if !alias {
                        cols.resolve(column)?;
                    }
                    self.push(if *negated { "1 = 1" } else { "1 = 0" });
                } else {
                    self.column(cols, column)?;
                    self.push(if *negated { " NOT IN (" } else { " IN (" });
                    for (i, v) in values.iter().enumerate() {
                        if i > 0 {
                            self.push(", ");
                        }
                        self.param(v.clone());
                    }
                    self.push(")");
                }
            }
            Node::Between { column, low, high } => {
                self.column(cols, column)?;
                self.push(" BETWEEN ");
                self.param(low.clone());
                self.push(" AND ");
                self.param(high.clone());
            }
            Node::Null { column, negated } => {
                self.column(cols, column)?;
                self.push(if *negated { " IS NOT NULL" } else { " IS NULL" });
            }
            Node::And(parts) | Node::Or(parts) => {
                let and = matches!(node, Node::And(_));
                if parts.is_empty() {
                    self.push(if and { "1 = 1" } else { "1 = 0" });
                    return Ok(());
                }
                self.push("(");
                for (i, p) in parts.iter().enumerate() {
                    if i > 0 {
                        self.push(if and { " AND " } else { " OR " });
                    }
                    self.node(p, cols)?;
                }
                self.push(")");
            }
            Node::InSub {
                column,
                sub,
                negated,
            } => {
                self.column(cols, column)?;
                self.push(if *negated { " NOT IN (" } else { " IN (" });
                self.subquery(sub, None, cols)?;
                self.push(")");
            }
            Node::Exists(sub) => {
                self.push("EXISTS (");
                self.subquery(sub, sub.outer.as_deref(), cols)?;
                self.push(")");
            }
            Node::Not(inner) => {
                self.push("NOT (");
                self.node(inner, cols)?;
                self.push(")");
            }
        }
        Ok(())
    }

    /// `SELECT col FROM "t" WHERE …` of a subquery (`SELECT 1 …` with the correlation
    /// `"t"."col" = "outer"."outer_col"` when `outer` is given). The subquery's names are
    /// checked against its entity, the outer name against `cols`.
    fn subquery(
        &mut self,
        sub: &super::subquery::Subquery,
        outer: Option<&str>,
        cols: Columns<'_>,
    ) -> Result<()> {
        let meta = sub.meta;
        let inner = Columns::Entity(meta);
        let column = inner.resolve(&sub.column)?;
        let table = meta.table;
        self.push("SELECT ");
        match outer {
            Some(_) => self.push("1"),
            None => self.ident(column),
        }
        self.push(" FROM ");
        self.table(table);
        let mut terms = 0;
        let mut next = |buf: &mut SqlBuf| {
            buf.push(if terms == 0 { " WHERE " } else { " AND " });
            terms += 1;
        };
        if let Some(outer) = outer {
            let (Columns::Entity(outer_meta) | Columns::Aliased(outer_meta, _)) = cols else {
                return Err(invalid(
                    cols.owner(),
                    "a correlated EXISTS needs an entity on the outside. Fix: use it in a Repository filter",
                ));
            };
            if std::ptr::eq(outer_meta, meta) {
                return Err(invalid(
                    meta.name,
                    "a correlated EXISTS over the same entity cannot tell the two tables apart. Fix: use in_subquery",
                ));
            }
            next(self);
            self.table(table);
            self.push(".");
            self.ident(column);
            self.push(" = ");
            match cols {
                Columns::Aliased(_, alias) => self.push(alias),
                _ => self.ident(outer_meta.table),
            }
            self.push(".");
            self.ident(cols.resolve(outer)?);
        }
        if let Some(sd) = meta.soft_delete {
            next(self);
            self.table(table);
            self.push(".");
            self.ident(meta.columns[sd].name);
            self.push(" IS NULL");
        }
        if !matches!(*sub.filter, Node::All | Node::Empty) {
            next(self);
            self.push("(");
            self.node(&sub.filter, inner)?;
            self.push(")");
        }
        Ok(())
    }

    /// ` ORDER BY …`, nothing for no terms.
    pub(crate) fn order_by(&mut self, order: &[Order], cols: Columns<'_>) -> Result<()> {
        for (i, o) in order.iter().enumerate() {
            self.push(if i == 0 { " ORDER BY " } else { ", " });
            self.column(cols, &o.column)?;
            if o.desc {
                self.push(" DESC");
            }
        }
        Ok(())
    }

    /// ` LIMIT … OFFSET …` (numbers, not parameters).
    pub(crate) fn limit_offset(&mut self, limit: Option<u64>, offset: Option<u64>) {
        let s = self.dialect.limit_offset(limit, offset);
        self.push(&s);
    }

    /// A whole `SELECT` for a query, after `start` (`SELECT … FROM "t"`).
    pub(crate) fn select(
        dialect: &'static dyn Dialect,
        start: &str,
        query: &Query,
        soft_delete: Option<&str>,
        cols: Columns<'_>,
    ) -> Result<SqlBuf> {
        let mut buf = SqlBuf::new(dialect, start);
        let sd = if query.with_deleted {
            None
        } else {
            soft_delete
        };
        buf.where_clause(&query.filter.0, sd, cols)?;
        buf.order_by(&query.order, cols)?;
        buf.limit_offset(query.limit, query.offset);
        Ok(buf)
    }
}

/// Error for a query whose SQL could not be built.
pub(crate) fn invalid(entity: &str, detail: impl Into<String>) -> Error {
    Error::InvalidRequest {
        entity: entity.to_string(),
        detail: detail.into(),
    }
}
