//! [`DeliveryLog`] on DynamoDB: one item per (event, subscriber), `DELIVERY#<eventId>` /
//! `<subscriber key>`, written with a conditional `PutItem` (`attribute_not_exists`) and
//! reclaimed by TTL (`expires_at`). Which subscribers have an event is one Query of its
//! partition (strongly consistent, so a record just written is seen by the retry).

use std::collections::BTreeSet;
use std::sync::Arc;

use async_trait::async_trait;
use q2c_service::delivery::DeliveryLog;
use q2c_service::ports::StoreError;
use time::OffsetDateTime;

use super::DynamoStore;
use super::item::{self, n, s};
use super::keys;
use super::query::QuerySpec;
use super::transact::Expr;

impl DynamoStore {
    /// The delivery log port.
    pub fn delivery_log(&self) -> Arc<dyn DeliveryLog> {
        Arc::new(self.clone())
    }
}

#[async_trait]
impl DeliveryLog for DynamoStore {
    #[tracing::instrument(skip_all, fields(event_id), err)]
    async fn delivered(
        &self,
        event_id: &str,
        subscribers: &[String],
    ) -> Result<BTreeSet<String>, StoreError> {
        if subscribers.is_empty() {
            return Ok(BTreeSet::new());
        }
        let mut spec =
            QuerySpec::new(None, "pk = :pk").value(":pk", s(keys::delivery_pk(event_id)));
        spec.consistent = true;
        let items = self.query_all(&spec).await?;
        Ok(items
            .iter()
            .filter_map(|entry| item::opt_s(entry, keys::SK))
            .filter(|subscriber| subscribers.contains(subscriber))
            .collect())
    }

    #[tracing::instrument(skip_all, fields(event_id, subscriber), err)]
    async fn record(
        &self,
        event_id: &str,
        subscriber: &str,
        expires_at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let mut entry = item::item_with_key(&keys::delivery_pk(event_id), subscriber);
        entry.insert(keys::EXPIRES_AT.into(), n(keys::epoch_seconds(expires_at)));
        let absent = Expr::new("attribute_not_exists(pk)");
        Ok(self.put_item(entry, Some(absent)).await?)
    }
}
