//! Change tracking: entities registered new, dirty or deleted, flushed in a fixed order.

use futures_util::future::BoxFuture;

use crate::database::Executor;
use crate::error::Result;
use crate::repository::{Entity, Repository};

/// A queued write, type-erased so units can hold entities of any type.
type Op = Box<dyn for<'a> FnOnce(&'a Executor) -> BoxFuture<'a, Result<()>> + Send>;

/// Writes queued in a unit of work: inserts, then updates (with version checks), then deletes,
/// each in registration order.
#[derive(Default)]
pub(super) struct Changes {
    inserts: Vec<Op>,
    updates: Vec<Op>,
    deletes: Vec<Op>,
}

impl Changes {
    pub(super) fn new_entity<E: Entity>(&mut self, entity: E) {
        self.inserts.push(Box::new(move |ex| {
            Box::pin(async move {
                Repository::<E>::new(ex.clone())
                    .create(entity)
                    .await
                    .map(drop)
            })
        }));
    }

    pub(super) fn dirty<E: Entity>(&mut self, mut entity: E) {
        self.updates.push(Box::new(move |ex| {
            Box::pin(async move { Repository::<E>::new(ex.clone()).update(&mut entity).await })
        }));
    }

    pub(super) fn deleted<E: Entity>(&mut self, entity: E) {
        self.deletes.push(Box::new(move |ex| {
            Box::pin(async move { Repository::<E>::new(ex.clone()).delete(&entity).await })
        }));
    }

    pub(super) fn len(&self) -> usize {
        self.inserts.len() + self.updates.len() + self.deletes.len()
    }

    /// Runs every queued write, stopping at the first error.
    pub(super) async fn flush(&mut self, ex: &Executor) -> Result<()> {
        let ops = std::mem::take(&mut self.inserts)
            .into_iter()
            .chain(std::mem::take(&mut self.updates))
            .chain(std::mem::take(&mut self.deletes));
        for op in ops {
            op(ex).await?;
        }
        Ok(())
    }
}
