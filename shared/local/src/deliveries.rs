//! [`DeliveryLog`] on SQLite: table `deliveries`, one row per (event id, subscriber), kept
//! until `expires_at`; housekeeping drops expired rows ([`SqliteStore::purge_deliveries`]).

use std::collections::BTreeSet;
use std::sync::Arc;

use async_trait::async_trait;
use q2c_service::delivery::DeliveryLog;
use q2c_service::ports::StoreError;
use rusqlite::params;
use time::OffsetDateTime;

use crate::error::ResultExt;
use crate::store::SqliteStore;
use crate::time_codec::encode;

impl SqliteStore {
    /// The delivery log port.
    pub fn delivery_log(&self) -> Arc<dyn DeliveryLog> {
        Arc::new(self.clone())
    }

    /// Deletes delivery records expired at `now`; returns how many.
    ///
    /// # Errors
    /// When SQLite fails.
    pub async fn purge_deliveries(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        self.write(move |conn| {
            let deleted = conn
                .prepare_cached("DELETE FROM deliveries WHERE expires_at <= ?1")
                .store()?
                .execute(params![encode(now)])
                .store()?;
            Ok(u64::try_from(deleted).unwrap_or(u64::MAX))
        })
        .await
    }
}

#[async_trait]
impl DeliveryLog for SqliteStore {
    async fn delivered(
        &self,
        event_id: &str,
        subscribers: &[String],
    ) -> Result<BTreeSet<String>, StoreError> {
        let event_id = event_id.to_owned();
        let wanted: BTreeSet<String> = subscribers.iter().cloned().collect();
        self.read(move |conn| {
            let mut statement = conn
                .prepare_cached("SELECT subscriber FROM deliveries WHERE event_id = ?1")
                .store()?;
            let mut rows = statement.query(params![event_id]).store()?;
            let mut found = BTreeSet::new();
            while let Some(row) = rows.next().store()? {
                let subscriber: String = row.get(0).store()?;
                if wanted.contains(&subscriber) {
                    found.insert(subscriber);
                }
            }
            Ok(found)
        })
        .await
    }

    async fn record(
        &self,
        event_id: &str,
        subscriber: &str,
        expires_at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let (event_id, subscriber) = (event_id.to_owned(), subscriber.to_owned());
        self.write(move |conn| {
            let inserted = conn
                .prepare_cached(
                    "INSERT INTO deliveries (event_id, subscriber, expires_at) VALUES (?1, ?2, ?3)
                     ON CONFLICT (event_id, subscriber) DO NOTHING",
                )
                .store()?
                .execute(params![event_id, subscriber, encode(expires_at)])
                .store()?;
            Ok(inserted > 0)
        })
        .await
    }
}
