//! The outbox relay's settings (`sql.outbox`), with the Python edition's keys.

use std::time::Duration;

use serde::Deserialize;

use super::duration;

/// Settings of the outbox relay (`sql.outbox`, env `LEX_SQL__OUTBOX__*`); see
/// [`crate::uow::Relay`].
///
/// ```
/// use std::time::Duration;
/// let outbox = lexigram_sql::config::OutboxConfig::default();
/// assert!(!outbox.enabled);
/// assert_eq!(outbox.poll_interval, Duration::from_secs(1));
/// assert_eq!(outbox.batch_size, 100);
/// assert_eq!(outbox.batch_max_age, Duration::ZERO);
/// assert_eq!(outbox.lease, Duration::from_secs(30));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct OutboxConfig {
    /// Whether the application starts a relay for the primary backend when a publisher is
    /// registered (`outbox.enabled`, default false).
    pub enabled: bool,
    /// How long a relay sleeps when it found nothing to publish (`outbox.poll_interval`,
    /// default 1s).
    #[serde(deserialize_with = "duration::deserialize")]
    pub poll_interval: Duration,
    /// The most events handed to the publisher at once (`outbox.batch_size`, default 100,
    /// at most 10,000).
    pub batch_size: u32,
    /// How long a relay lets a batch smaller than `batch_size` wait for more events, counted
    /// from its oldest event (`outbox.batch_max_age`, default 0: publish at once).
    #[serde(deserialize_with = "duration::deserialize")]
    pub batch_max_age: Duration,
    /// How long a claimed batch stays a relay's own: a relay that stops (crash, shutdown)
    /// without marking its batch published leaves it to the others after this
    /// (`outbox.lease`, default 30s). It must exceed the time the publisher takes for one
    /// batch, or another relay publishes the batch again.
    #[serde(deserialize_with = "duration::deserialize")]
    pub lease: Duration,
}

super::setters::with_setters!(OutboxConfig {
    with_enabled => enabled: bool,
    with_poll_interval => poll_interval: Duration,
    with_batch_size => batch_size: u32,
    with_batch_max_age => batch_max_age: Duration,
    with_lease => lease: Duration,
});

impl Default for OutboxConfig {
    fn default() -> Self {
        OutboxConfig {
            enabled: false,
            poll_interval: Duration::from_secs(1),
            batch_size: 100,
            batch_max_age: Duration::ZERO,
            lease: Duration::from_secs(30),
        }
    }
}
