//! [`quote_store_wrapper!`](crate::quote_store_wrapper): a test double over a real
//! [`QuoteStore`](q2c_service::ports::QuoteStore) that sees each `get` and `update` before
//! passing it on ([`BeforeQuoteCall`]): to count calls, or to race them.

use async_trait::async_trait;
use q2c_service::context::TenantId;
use q2c_service::ports::StoredQuote;

/// A call a [`quote_store_wrapper!`](crate::quote_store_wrapper) double sees before the
/// store it wraps does.
#[derive(Debug, Clone, Copy)]
pub enum QuoteCall<'a> {
    /// `get` of the quote `id`.
    Get {
        /// Whose quote.
        tenant: &'a TenantId,
        /// The quote id.
        id: &'a str,
    },
    /// `update` writing `quote`.
    Update {
        /// Whose quote.
        tenant: &'a TenantId,
        /// The quote being written.
        quote: &'a StoredQuote,
    },
}

/// What a double does before passing a call on.
#[async_trait]
pub trait BeforeQuoteCall: Send + Sync {
    /// Runs before `call` reaches the wrapped store.
    async fn before(&self, call: QuoteCall<'_>);
}

/// `impl QuoteStore for $wrapper` over the store in the field `$inner`: every method goes
/// to that store unchanged, `get` and `update` after the wrapper's
/// [`BeforeQuoteCall::before`]. `get` reads strongly consistent (through `get_many`), so a
/// double adds no staleness of its own: a retry after a lost race sees the competitor's
/// write at once. The crate using it needs `async-trait` and `q2c-service`.
///
/// ```text
/// q2c_contract::quote_store_wrapper!(Counting, quotes);
/// ```
#[macro_export]
macro_rules! quote_store_wrapper {
    ($wrapper:ty, $inner:ident) => {
        #[::async_trait::async_trait]
        impl ::q2c_service::ports::QuoteStore for $wrapper {
            async fn get(
                &self,
                tenant: &::q2c_service::context::TenantId,
                id: &str,
            ) -> Result<Option<::q2c_service::ports::StoredQuote>, ::q2c_service::ports::StoreError>
            {
                let call = $crate::wrapper::QuoteCall::Get { tenant, id };
                $crate::wrapper::BeforeQuoteCall::before(self, call).await;
                let key = (tenant.clone(), id.to_owned());
                Ok(self.$inner.get_many(&[key]).await?.pop().flatten())
            }

            async fn update(
                &self,
                tenant: &::q2c_service::context::TenantId,
                quote: &::q2c_service::ports::StoredQuote,
                expected_version: u64,
                events: &[::q2c_service::ports::OutboxEvent],
            ) -> Result<(), ::q2c_service::ports::StoreError> {
                let call = $crate::wrapper::QuoteCall::Update { tenant, quote };
                $crate::wrapper::BeforeQuoteCall::before(self, call).await;
                self.$inner
                    .update(tenant, quote, expected_version, events)
                    .await
            }

            async fn insert(
                &self,
                tenant: &::q2c_service::context::TenantId,
                quote: &::q2c_service::ports::StoredQuote,
                events: &[::q2c_service::ports::OutboxEvent],
            ) -> Result<(), ::q2c_service::ports::StoreError> {
                self.$inner.insert(tenant, quote, events).await
            }

            async fn accept(
                &self,
                tenant: &::q2c_service::context::TenantId,
                quote: &::q2c_service::ports::StoredQuote,
                expected_version: u64,
                order: &::q2c_service::orders::StoredOrder,
                events: &[::q2c_service::ports::OutboxEvent],
            ) -> Result<(), ::q2c_service::ports::StoreError> {
                self.$inner
                    .accept(tenant, quote, expected_version, order, events)
                    .await
            }

            async fn delete(
                &self,
                tenant: &::q2c_service::context::TenantId,
                id: &str,
                expected_version: u64,
                events: &[::q2c_service::ports::OutboxEvent],
            ) -> Result<(), ::q2c_service::ports::StoreError> {
                self.$inner
                    .delete(tenant, id, expected_version, events)
                    .await
            }

            async fn list(
                &self,
                tenant: &::q2c_service::context::TenantId,
                filter: &::q2c_service::ports::QuoteFilter,
                page: ::q2c_service::ports::Page,
            ) -> Result<
                ::q2c_service::ports::Listing<::q2c_service::ports::StoredQuote>,
                ::q2c_service::ports::StoreError,
            > {
                self.$inner.list(tenant, filter, page).await
            }

            async fn scan(
                &self,
                tenant: &::q2c_service::context::TenantId,
                filter: &::q2c_service::ports::QuoteFilter,
                scan: ::q2c_service::listing::Scan,
            ) -> Result<
                ::q2c_service::listing::Scanned<::q2c_service::ports::StoredQuote>,
                ::q2c_service::ports::StoreError,
            > {
                self.$inner.scan(tenant, filter, scan).await
            }
        }
    };
}
