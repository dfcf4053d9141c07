//! Product inventory (TMF637): the products a customer holds, the [`ProductStore`] port, and
//! the product events billing reads.
//!
//! Products are created by the order-state listener ([`crate::orders::OrderService`]) when
//! order management reports an order `completed`: the products of its `add` items
//! ([`q2c_model::inventory::products_from_order`], at the quoted prices) and one
//! `ProductCreateEvent` each are written in the same write as the order's new state
//! ([`crate::orders::OrderStore::record_state_change`]), so a redelivered notification (the
//! order already completed) creates and announces nothing again.
//!
//! # Events to billing
//! Every product change goes through the outbox to the `billing-updates` queue
//! ([`Destination::BillingUpdates`](crate::ports::Destination::BillingUpdates)) as a TMF637
//! event envelope, `event.product` the product. The order of one product's events is its
//! `sequence` (the product's version: 1 for the create, +1 per change), in the envelope and
//! as a message attribute, which billing checks: the queue is a standard SQS queue (see
//! `docs/billing.md` for why not FIFO).

mod events;

use async_trait::async_trait;
use q2c_model::tmf::Product;

use crate::context::TenantId;
use crate::ports::StoreError;

pub use events::{ProductEventType, SEQUENCE_FIELD, product_event};

/// A product as stored: the TMF637 resource and its version (1 on create, +1 per change),
/// which is also the `sequence` of the events announcing it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredProduct {
    /// The product (id always set).
    pub product: Product,
    /// Optimistic-lock version and event sequence.
    pub version: u64,
}

impl StoredProduct {
    /// The product id.
    pub fn id(&self) -> &str {
        self.product.id()
    }
}

/// Inventory products, partitioned by tenant. Created with their order's completion
/// ([`crate::orders::OrderStore::record_state_change`]).
#[async_trait]
pub trait ProductStore: Send + Sync {
    /// The product with this id in this tenant (`None` for another tenant's).
    async fn get(&self, tenant: &TenantId, id: &str) -> Result<Option<StoredProduct>, StoreError>;
}
