//! The outbox relay an application runs for its primary backend (`sql.outbox.enabled` and a
//! publisher given to [`crate::DatabaseModule::outbox_publisher`]).

use std::sync::{Arc, Mutex};

use crate::config::OutboxConfig;
use crate::database::Database;
use crate::uow::{OutboxEvent, PublishError, Publisher, Relay, RelayHandle};

/// A publisher shared between the provider and the relay task it starts.
struct Shared<P>(Arc<P>);

impl<P: Publisher> Publisher for Shared<P> {
    fn publish(
        &self,
        events: Vec<OutboxEvent>,
    ) -> impl std::future::Future<Output = Result<(), PublishError>> + Send {
        self.0.publish(events)
    }
}

type Start = Box<dyn Fn(Relay) -> RelayHandle + Send + Sync>;

/// Starts and stops the application's relay.
pub(super) struct AppRelay {
    start: Start,
    running: Mutex<Option<RelayHandle>>,
}

impl std::fmt::Debug for AppRelay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppRelay")
            .field(
                "running",
                &self.running.lock().map(|r| r.is_some()).unwrap_or(false),
            )
            .finish_non_exhaustive()
    }
}

impl AppRelay {
    pub(super) fn new<P: Publisher>(publisher: P) -> Self {
        let publisher = Arc::new(publisher);
        AppRelay {
            start: Box::new(move |relay| relay.spawn(Shared(Arc::clone(&publisher)))),
            running: Mutex::new(None),
        }
    }

    /// Starts a relay of `db`'s outbox with `config`, if none runs.
    pub(super) fn start(&self, db: &Database, config: &OutboxConfig) {
        if let Ok(mut running) = self.running.lock()
            && running.is_none()
        {
            let relay = Relay::new(db, config.clone());
            tracing::debug!(relay = relay.id(), "outbox relay started");
            *running = Some((self.start)(relay));
        }
    }

    /// Stops the relay after the batch it is publishing.
    pub(super) async fn stop(&self) {
        let handle = self.running.lock().ok().and_then(|mut r| r.take());
        if let Some(handle) = handle {
            let stats = handle.stop().await;
            tracing::debug!(
                published = stats.published,
                batches = stats.batches,
                "outbox relay stopped"
            );
        }
    }
}
