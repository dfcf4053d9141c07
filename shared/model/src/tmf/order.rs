//! TMF622 v4 ProductOrder as q2c sends it to order management, and the order states.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::common::{EntityRef, Extensions, Note, RelatedParty, TypeInfo};
use super::quote::{OrderPrice, ProductRefOrValue};

tmf_struct! {
    /// A product order (TMF622 `ProductOrder`). On create we send no `state`: the order system
    /// assigns it, and it arrives later through the listener.
    pub struct ProductOrder {
        /// Identifier (ours on create; the downstream's id is kept separately).
        pub id: Option<String>,
        /// Hyperlink.
        pub href: Option<String>,
        /// Our order id as seen by order management (makes the POST de-duplicable).
        pub external_id: Option<String>,
        /// Category.
        pub category: Option<String>,
        /// Description.
        pub description: Option<String>,
        /// When the order was created.
        #[serde(with = "time::serde::rfc3339::option")]
        pub order_date: Option<OffsetDateTime>,
        /// The quotes this order realises.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub quote: Vec<EntityRef>,
        /// The items.
        #[serde(default)]
        pub product_order_item: Vec<ProductOrderItem>,
        /// Parties involved.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub related_party: Vec<RelatedParty>,
        /// The single billing account (TMF622 has one, where the quote has an array).
        pub billing_account: Option<EntityRef>,
        /// Notes.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub note: Vec<Note>,
        /// Agreed totals.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub order_total_price: Vec<OrderPrice>,
        /// State assigned by order management; absent on create.
        pub state: Option<ProductOrderState>,
        /// When order management reported the order `completed` (TMF622 `completionDate`).
        #[serde(with = "time::serde::rfc3339::option")]
        pub completion_date: Option<OffsetDateTime>,
    }
}

tmf_struct! {
    /// One item of a product order (TMF622 `ProductOrderItem`).
    pub struct ProductOrderItem {
        /// Identifier within the order.
        pub id: String,
        /// `add` for everything q2c creates from a quote.
        pub action: String,
        /// How many.
        pub quantity: Option<i64>,
        /// The product to provide, with its characteristics.
        pub product: Option<ProductRefOrValue>,
        /// The offering ordered.
        pub product_offering: Option<EntityRef>,
        /// The quote item this order item comes from.
        pub quote_item: Option<QuoteItemRef>,
        /// Agreed prices.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub item_price: Vec<OrderPrice>,
        /// Child items.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub product_order_item: Vec<ProductOrderItem>,
        /// State assigned by order management.
        pub state: Option<ProductOrderItemState>,
    }
}

tmf_struct! {
    /// A reference to a quote item (TMF622 `QuoteItemRef`).
    pub struct QuoteItemRef {
        /// The quote item's id.
        pub id: String,
        /// The quote's id.
        pub quote_id: String,
        /// Hyperlink to the quote.
        pub quote_href: Option<String>,
        /// `@referredType`.
        #[serde(rename = "@referredType")]
        pub referred_type: Option<String>,
    }
}

/// TMF622 v4 product order states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ProductOrderState {
    /// Passed the business checks.
    Acknowledged,
    /// Failed the business checks (final).
    Rejected,
    /// Waiting for something.
    Pending,
    /// Held (e.g. waiting for the customer).
    Held,
    /// Being fulfilled.
    InProgress,
    /// Cancelled (final).
    Cancelled,
    /// Fulfilled (final).
    Completed,
    /// Failed (final).
    Failed,
    /// Partly fulfilled (final).
    Partial,
    /// A cancellation request is being assessed.
    AssessingCancellation,
    /// Cancellation accepted, in progress.
    PendingCancellation,
}

/// TMF622 v4 product order item states (the order states without `partial`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ProductOrderItemState {
    /// Passed the business checks.
    Acknowledged,
    /// Failed the business checks (final).
    Rejected,
    /// Waiting for something.
    Pending,
    /// Held.
    Held,
    /// Being fulfilled.
    InProgress,
    /// Cancelled (final).
    Cancelled,
    /// Fulfilled (final).
    Completed,
    /// Failed (final).
    Failed,
    /// A cancellation request is being assessed.
    AssessingCancellation,
    /// Cancellation accepted, in progress.
    PendingCancellation,
}
