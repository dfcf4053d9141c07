//! [`SqliteStore::housekeeping`]: dropping what has expired from every table, the store's
//! and the embedded queues' (a module of its own since it reaches both).

use q2c_service::ports::{IdempotencyStore, OutboxStore, StoreError};
use time::OffsetDateTime;

use crate::queues::SqliteQueues;
use crate::store::SqliteStore;

/// Published outbox rows are kept this long for inspection before housekeeping drops them.
const PUBLISHED_RETENTION: time::Duration = time::Duration::hours(1);

/// What [`SqliteStore::housekeeping`] deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HousekeepingReport {
    /// Expired idempotency records (completed past expiry, abandoned claims).
    pub idempotency_records: u64,
    /// Outbox rows published more than an hour before `now`.
    pub outbox_events: u64,
    /// Queue messages past their queue's retention (4 days; DLQs 14 days).
    pub queue_messages: u64,
    /// Hub delivery records past their expiry.
    pub delivery_records: u64,
}

impl SqliteStore {
    /// Deletes expired idempotency records, outbox rows published more than an hour before
    /// `now`, queue messages past their queue's retention (as SQS drops them) and expired hub
    /// delivery records. Run it periodically; correctness never depends on it.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when SQLite fails.
    pub async fn housekeeping(
        &self,
        now: OffsetDateTime,
    ) -> Result<HousekeepingReport, StoreError> {
        let idempotency_records = IdempotencyStore::purge_expired(self, now).await?;
        let outbox_events = OutboxStore::purge_published(self, now - PUBLISHED_RETENTION).await?;
        let queue_messages = SqliteQueues::new(self)
            .purge_expired(now)
            .await
            .map_err(|e| StoreError::Backend(Box::new(e)))?;
        let delivery_records = self.purge_deliveries(now).await?;
        Ok(HousekeepingReport {
            idempotency_records,
            outbox_events,
            queue_messages,
            delivery_records,
        })
    }
}
