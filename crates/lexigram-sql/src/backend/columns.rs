//! Column names shared by every row of every result of one statement, per connection.
//!
//! Building an `Arc<[String]>` of names costs an allocation per column on every query; a
//! primary-key select spends more time on that than on reading its values. Each connection
//! keeps the names it last saw for each SQL text and reuses them while the statement still
//! reports the same columns (a schema change that alters `SELECT *` is noticed and rebuilt).

use std::sync::Arc;

use super::lru_cache::{SqlCache, sql_cache};

/// Per-connection cache of result column names, keyed by SQL text, with whatever else a
/// backend derives once per result shape (`X`: SQLite keeps the columns' declared decimal
/// scales there).
pub(crate) struct ColumnCache<X = ()> {
    by_sql: SqlCache<(Arc<[String]>, X)>,
}

impl<X> Default for ColumnCache<X> {
    fn default() -> Self {
        ColumnCache {
            by_sql: sql_cache(),
        }
    }
}

#[cfg(any(feature = "mysql", test))]
impl ColumnCache {
    /// The shared names for `sql`, whose statement reports `names` now.
    pub(crate) fn names<'a, I>(&mut self, sql: &str, names: I) -> Arc<[String]>
    where
        I: ExactSizeIterator<Item = &'a str> + Clone,
    {
        self.shape(sql, names, || ()).0
    }
}

impl<X: Clone> ColumnCache<X> {
    /// The shared names for `sql` (whose statement reports `names` now) and the extra data
    /// `derive` builds when the names are new.
    pub(crate) fn shape<'a, I>(
        &mut self,
        sql: &str,
        names: I,
        derive: impl FnOnce() -> X,
    ) -> (Arc<[String]>, X)
    where
        I: ExactSizeIterator<Item = &'a str> + Clone,
    {
        if let Some((cached, extra)) = self.by_sql.get(sql)
            && cached.len() == names.len()
            && cached.iter().map(String::as_str).eq(names.clone())
        {
            return (Arc::clone(cached), extra.clone());
        }
        let fresh: Arc<[String]> = names.map(str::to_string).collect();
        let extra = derive();
        self.by_sql
            .put(sql.into(), (Arc::clone(&fresh), extra.clone()));
        (fresh, extra)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_statement_shares_one_allocation() {
        let mut cache = ColumnCache::default();
        let a = cache.names("SELECT id, name FROM t", ["id", "name"].into_iter());
        let b = cache.names("SELECT id, name FROM t", ["id", "name"].into_iter());
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(&*a, ["id".to_string(), "name".to_string()]);
    }

    #[test]
    fn changed_columns_are_rebuilt() {
        let mut cache = ColumnCache::default();
        let a = cache.names("SELECT * FROM t", ["id"].into_iter());
        let b = cache.names("SELECT * FROM t", ["id", "added"].into_iter());
        assert!(!Arc::ptr_eq(&a, &b));
        assert_eq!(b.len(), 2);
        let c = cache.names("SELECT * FROM t", ["id", "added"].into_iter());
        assert!(Arc::ptr_eq(&b, &c));
    }
}
