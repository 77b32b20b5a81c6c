//! Splitting a filter whose `IN` list is longer than the backend's parameter limit into
//! several filters that together mean the same, for the statements where running them one
//! after the other has the same meaning (unordered reads, counts, bulk writes).
//!
//! Only one shape splits: a positive `IN` list at the top of the filter, or one such list
//! among the terms of a top-level `AND`. `NOT IN`, a list under `OR`/`NOT`, and more than one
//! long list do not split; building their statement fails with
//! [`Error::TooManyParameters`](crate::Error::TooManyParameters) before any round trip.

use std::collections::HashSet;

use super::filter::Node;
use crate::value::Value;

/// Parameters a filter binds.
pub(crate) fn param_count(node: &Node) -> usize {
    match node {
        Node::Empty | Node::All | Node::Null { .. } => 0,
        Node::Compare { .. } | Node::Like { .. } => 1,
        Node::In { values, .. } => values.len(),
        Node::Between { .. } => 2,
        Node::And(parts) | Node::Or(parts) => parts.iter().map(param_count).sum(),
        Node::Not(inner) => param_count(inner),
        Node::InSub { sub, .. } | Node::Exists(sub) => param_count(&sub.filter),
    }
}

/// The filter as several filters whose matches together are the original's matches, each
/// binding at most `budget` parameters, and no row matching two of them; `None` when the
/// filter already fits, or has no shape that splits.
pub(crate) fn split(node: &Node, budget: usize) -> Option<Vec<Node>> {
    if param_count(node) <= budget {
        return None;
    }
    match node {
        Node::In {
            column,
            values,
            negated: false,
        } => Some(
            chunks(values, budget)?
                .into_iter()
                .map(|v| in_node(column, v))
                .collect(),
        ),
        Node::And(parts) => {
            let (at, _) = parts
                .iter()
                .enumerate()
                .max_by_key(|(_, p)| param_count(p))?;
            let Node::In {
                column,
                values,
                negated: false,
            } = &parts[at]
            else {
                return None;
            };
            let rest: usize = parts
                .iter()
                .enumerate()
                .filter(|&(i, _)| i != at)
                .map(|(_, p)| param_count(p))
                .sum();
            let room = budget.checked_sub(rest).filter(|&r| r > 0)?;
            Some(
                chunks(values, room)?
                    .into_iter()
                    .map(|v| {
                        let mut terms = parts.clone();
                        terms[at] = in_node(column, v);
                        Node::And(terms)
                    })
                    .collect(),
            )
        }
        _ => None,
    }
}

fn in_node(column: &str, values: Vec<Value>) -> Node {
    Node::In {
        column: column.to_string(),
        values,
        negated: false,
    }
}

/// The distinct values (so that no row matches two chunks), `size` at a time.
fn chunks(values: &[Value], size: usize) -> Option<Vec<Vec<Value>>> {
    if size == 0 {
        return None;
    }
    let mut seen = HashSet::with_capacity(values.len());
    let distinct: Vec<Value> = values
        .iter()
        .filter(|v| seen.insert(format!("{v:?}")))
        .cloned()
        .collect();
    Some(distinct.chunks(size).map(<[Value]>::to_vec).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::repository::{Filter, col};

    fn node(f: Filter) -> Node {
        f.0
    }

    #[test]
    fn long_in_splits_into_distinct_chunks() {
        let f = node(col("id").is_in((0..10).chain(0..10)));
        let parts = split(&f, 4).unwrap();
        assert_eq!(parts.len(), 3); // 10 distinct values, 4 + 4 + 2
        assert_eq!(parts.iter().map(param_count).sum::<usize>(), 10);
    }

    #[test]
    fn in_under_and_keeps_other_terms_in_every_chunk() {
        let f = node(col("kind").eq("a").and(col("id").is_in(0..10)));
        let parts = split(&f, 5).unwrap();
        assert_eq!(parts.len(), 3); // 4 ids + 1 kind per chunk
        assert!(parts.iter().all(|p| param_count(p) <= 5));
    }

    #[test]
    fn shapes_that_do_not_split() {
        assert!(split(&node(col("id").is_in(0..3)), 5).is_none()); // fits
        assert!(split(&node(col("id").not_in(0..10)), 4).is_none());
        assert!(split(&node(col("a").eq(1).or(col("id").is_in(0..10))), 4).is_none());
        assert!(split(&node(col("id").is_in(0..10).not()), 4).is_none());
        let two = col("a").is_in(0..10).and(col("b").is_in(0..10));
        assert!(split(&node(two), 10).is_none()); // no room left beside the other list
    }
}
