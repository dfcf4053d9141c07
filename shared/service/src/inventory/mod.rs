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
//! ([`Destination::BillingUpdates`](crate::outbox::Destination::BillingUpdates)) as a TMF637
//! event envelope, `event.product` the product. The order of one product's events is its
//! `sequence` (the product's version: 1 for the create, +1 per change), in the envelope and
//! as a message attribute, which billing checks: the queue is a standard SQS queue (see
//! `docs/billing.md` for why not FIFO).

mod events;
mod service;

use async_trait::async_trait;
use q2c_model::tmf::{Product, ProductStatus};

use crate::context::TenantId;
use crate::store::{Listing, Page, StoreError};

pub use events::{ProductEventType, SEQUENCE_FIELD, product_event};
pub use service::{InventoryPorts, InventoryService};

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

/// The filters of a product listing (`GET /product`). A listing names a billing account or a
/// party (or both): the partitions products are indexed under (see `docs/architecture.md`,
/// "DynamoDB single-table design"); `status` and `offering_id` narrow it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProductFilter {
    /// `billingAccount.id`.
    pub billing_account_id: Option<String>,
    /// `relatedParty.id`: the product's owner party ([`Product::owner_party_id`]).
    pub related_party_id: Option<String>,
    /// `status`.
    pub status: Option<ProductStatus>,
    /// `productOffering.id`.
    pub offering_id: Option<String>,
}

impl ProductFilter {
    /// Whether the filter names a partition (a billing account or a party).
    pub fn is_keyed(&self) -> bool {
        self.billing_account_id.is_some() || self.related_party_id.is_some()
    }

    /// Whether `product` matches every filter (what the stores' queries compute).
    pub fn matches(&self, product: &Product) -> bool {
        self.billing_account_id
            .as_deref()
            .is_none_or(|a| product.billing_account_id() == Some(a))
            && self
                .related_party_id
                .as_deref()
                .is_none_or(|p| product.owner_party_id() == Some(p))
            && self.status.is_none_or(|s| product.status == Some(s))
            && self.offering_id.as_deref().is_none_or(|o| {
                product
                    .product_offering
                    .as_ref()
                    .is_some_and(|offering| offering.id == o)
            })
    }
}

/// Inventory products, partitioned by tenant. Created with their order's completion
/// ([`crate::orders::OrderStore::record_state_change`]).
///
/// An adapter guarantees that a tenant sees only its own products and that a listing is
/// served by an index of the filter's billing account or party, never a tenant-wide scan.
#[async_trait]
pub trait ProductStore: Send + Sync {
    /// The product with this id in this tenant (`None` for another tenant's).
    async fn get(&self, tenant: &TenantId, id: &str) -> Result<Option<StoredProduct>, StoreError>;

    /// A page of the tenant's products matching `filter` (which [`ProductFilter::is_keyed`];
    /// an unkeyed filter lists nothing), newest `startDate` first, ties by id; and how many
    /// match. A page stops early at `maxPageBytes`, as every listing does.
    async fn list(
        &self,
        tenant: &TenantId,
        filter: &ProductFilter,
        page: Page,
    ) -> Result<Listing<StoredProduct>, StoreError>;
}
