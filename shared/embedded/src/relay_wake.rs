//! [`WakingQuotes`]: the quote store of `q2c local`, wrapped so that every successful write
//! (which may have written outbox events) wakes the relay loop at once instead of waiting for
//! its next 200 ms tick.

use std::sync::Arc;

use async_trait::async_trait;
use q2c_service::TenantId;
use q2c_service::listing::{Scan, Scanned};
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

/// `impl QuoteStore for WakingQuotes`, each method named once with its parameters: the
/// `reads` are forwarded as they are; the `writes` (each also takes the outbox `events`, last,
/// not listed) are forwarded and then, when they succeeded with events, wake the relay.
macro_rules! waking_quote_store {
    (
        reads { $(fn $read:ident($($r:ident: $rt:ty),*) -> $out:ty;)* }
        writes { $(fn $write:ident($($w:ident: $wt:ty),*);)* }
    ) => {
        #[async_trait]
        impl QuoteStore for WakingQuotes {
            $(
                async fn $read(&self, $($r: $rt),*) -> Result<$out, StoreError> {
                    self.inner.$read($($r),*).await
                }
            )*
            $(
                async fn $write(
                    &self,
                    $($w: $wt,)*
                    events: &[OutboxEvent],
                ) -> Result<(), StoreError> {
                    let result = self.inner.$write($($w,)* events).await;
                    self.written(result, events)
                }
            )*
        }
    };
}

waking_quote_store! {
    reads {
        fn get(tenant: &TenantId, id: &str) -> Option<StoredQuote>;
        fn get_many(keys: &[(TenantId, String)]) -> Vec<Option<StoredQuote>>;
        fn list(tenant: &TenantId, filter: &QuoteFilter, page: Page) -> Listing<StoredQuote>;
        fn scan(tenant: &TenantId, filter: &QuoteFilter, scan: Scan) -> Scanned<StoredQuote>;
    }
    writes {
        fn insert(tenant: &TenantId, quote: &StoredQuote);
        fn update(tenant: &TenantId, quote: &StoredQuote, expected_version: u64);
        fn update_from(tenant: &TenantId, previous: &StoredQuote, quote: &StoredQuote);
        fn accept(
            tenant: &TenantId, quote: &StoredQuote, expected_version: u64, order: &StoredOrder
        );
        fn delete(tenant: &TenantId, id: &str, expected_version: u64);
    }
}
