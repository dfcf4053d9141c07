//! [`quote_store_wrapper!`](crate::quote_store_wrapper): a test double over a real
//! [`QuoteStore`](q2c_service::ports::QuoteStore) that changes some of its methods.

/// `impl QuoteStore for $wrapper` with the given methods (at least `get` and `update`);
/// `insert`, `accept`, `delete` and `list` go unchanged to the store in the field `$inner`.
/// The crate using it needs `async-trait` and `q2c-service`.
///
/// ```text
/// q2c_contract::quote_store_wrapper! {
///     Counting, quotes,
///     async fn get(&self, tenant: &TenantId, id: &str) -> Result<Option<StoredQuote>, StoreError> {
///         self.quotes.get(tenant, id).await
///     }
///     // update …
/// }
/// ```
#[macro_export]
macro_rules! quote_store_wrapper {
    ($wrapper:ty, $inner:ident, $($methods:tt)*) => {
        #[::async_trait::async_trait]
        impl ::q2c_service::ports::QuoteStore for $wrapper {
            $($methods)*

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
                self.$inner.delete(tenant, id, expected_version, events).await
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
        }
    };
}
