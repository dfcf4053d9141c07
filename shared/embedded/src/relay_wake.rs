//! [`WakingQuotes`]: the quote store of `q2c local`, wrapped so that every successful write
//! (which may have written outbox events) wakes the relay loop at once instead of waiting for
//! its next 200 ms tick.

use std::sync::Arc;

use async_trait::async_trait;
use q2c_service::TenantId;
use q2c_service::orders::StoredOrder;
use q2c_service::ports::{
    Listing, OutboxEvent, Page, QuoteFilter, QuoteStore, StoreError, StoredQuote,
};
use tokio::sync::Notify;

/// A [`QuoteStore`] that notifies `wake` after each successful write with events.
pub struct WakingQuotes {
    inner: Arc<dyn QuoteStore>,
    wake: Arc<Notify>,
}

impl WakingQuotes {
    /// Wraps `inner`; the relay loop waits on `wake`.
    pub fn new(inner: Arc<dyn QuoteStore>, wake: Arc<Notify>) -> Self {
        WakingQuotes { inner, wake }
    }

    fn written<T>(
        &self,
        result: Result<T, StoreError>,
        events: &[OutboxEvent],
    ) -> Result<T, StoreError> {
        if result.is_ok() && !events.is_empty() {
            // Stores a permit when the loop is busy, so a write during a round is not missed.
            self.wake.notify_one();
        }
        result
    }
}

#[async_trait]
impl QuoteStore for WakingQuotes {
    async fn insert(
        &self,
        tenant: &TenantId,
        quote: &StoredQuote,
        events: &[OutboxEvent],
    ) -> Result<(), StoreError> {
        let result = self.inner.insert(tenant, quote, events).await;
        self.written(result, events)
    }

    async fn get(&self, tenant: &TenantId, id: &str) -> Result<Option<StoredQuote>, StoreError> {
        self.inner.get(tenant, id).await
    }

    async fn update(
        &self,
        tenant: &TenantId,
        quote: &StoredQuote,
        expected_version: u64,
        events: &[OutboxEvent],
    ) -> Result<(), StoreError> {
        let result = self
            .inner
            .update(tenant, quote, expected_version, events)
            .await;
        self.written(result, events)
    }

    async fn get_many(
        &self,
        keys: &[(TenantId, String)],
    ) -> Result<Vec<Option<StoredQuote>>, StoreError> {
        self.inner.get_many(keys).await
    }

    async fn update_from(
        &self,
        tenant: &TenantId,
        previous: &StoredQuote,
        quote: &StoredQuote,
        events: &[OutboxEvent],
    ) -> Result<(), StoreError> {
        let result = self
            .inner
            .update_from(tenant, previous, quote, events)
            .await;
        self.written(result, events)
    }

    async fn accept(
        &self,
        tenant: &TenantId,
        quote: &StoredQuote,
        expected_version: u64,
        order: &StoredOrder,
        events: &[OutboxEvent],
    ) -> Result<(), StoreError> {
        let result = self
            .inner
            .accept(tenant, quote, expected_version, order, events)
            .await;
        self.written(result, events)
    }

    async fn delete(
        &self,
        tenant: &TenantId,
        id: &str,
        expected_version: u64,
        events: &[OutboxEvent],
    ) -> Result<(), StoreError> {
        let result = self
            .inner
            .delete(tenant, id, expected_version, events)
            .await;
        self.written(result, events)
    }

    async fn list(
        &self,
        tenant: &TenantId,
        filter: &QuoteFilter,
        page: Page,
    ) -> Result<Listing<StoredQuote>, StoreError> {
        self.inner.list(tenant, filter, page).await
    }
}
