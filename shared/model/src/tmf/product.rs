//! TMF637 v4 `Product`: what a customer holds once an order item is delivered (the product
//! inventory), with the prices agreed on the quote.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::common::{Characteristic, EntityRef, Extensions, RelatedParty, TypeInfo};
use super::quote::{Price, PriceAlteration};

tmf_struct! {
    /// A product in the inventory (TMF637 `Product`).
    pub struct Product {
        /// Identifier (assigned by q2c).
        pub id: Option<String>,
        /// Hyperlink.
        pub href: Option<String>,
        /// Description.
        pub description: Option<String>,
        /// Whether the product is a bundle (its components are related products).
        pub is_bundle: Option<bool>,
        /// Name.
        pub name: Option<String>,
        /// When the order that created it was placed.
        #[serde(with = "time::serde::rfc3339::option")]
        pub order_date: Option<OffsetDateTime>,
        /// When the customer started holding it.
        #[serde(with = "time::serde::rfc3339::option")]
        pub start_date: Option<OffsetDateTime>,
        /// When it was terminated.
        #[serde(with = "time::serde::rfc3339::option")]
        pub termination_date: Option<OffsetDateTime>,
        /// The account billing charges it to (TMF `BillingAccountRef`).
        pub billing_account: Option<EntityRef>,
        /// Characteristics as ordered.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub product_characteristic: Vec<Characteristic>,
        /// The offering it was sold as.
        pub product_offering: Option<EntityRef>,
        /// The order items that created or changed it.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub product_order_item: Vec<RelatedProductOrderItem>,
        /// The prices agreed (the quoted prices, never the catalog's current ones).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub product_price: Vec<ProductPrice>,
        /// Related products (a bundle's components: `bundles`).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub product_relationship: Vec<ProductRelationship>,
        /// The specification.
        pub product_specification: Option<EntityRef>,
        /// Parties (the customer, ...).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub related_party: Vec<RelatedParty>,
        /// Lifecycle status.
        pub status: Option<ProductStatus>,
    }
}

impl Product {
    /// The product id (always set on a stored product).
    pub fn id(&self) -> &str {
        self.id.as_deref().unwrap_or_default()
    }

    /// The id of its billing account, if it has one.
    pub fn billing_account_id(&self) -> Option<&str> {
        self.billing_account.as_ref().map(|a| a.id.as_str())
    }

    /// The party the product is listed under (`relatedParty.id` of the TMF637 listing): the
    /// related party whose `role` is `customer` (any case), else the first one.
    pub fn owner_party_id(&self) -> Option<&str> {
        self.related_party
            .iter()
            .find(|p| {
                p.role
                    .as_deref()
                    .is_some_and(|r| r.eq_ignore_ascii_case("customer"))
            })
            .or_else(|| self.related_party.first())
            .map(|p| p.id.as_str())
    }
}

tmf_struct! {
    /// A price of a product (TMF637 `ProductPrice`).
    pub struct ProductPrice {
        /// Description.
        pub description: Option<String>,
        /// Name.
        pub name: Option<String>,
        /// `recurring`, `oneTime`, `usage`, ...
        pub price_type: String,
        /// Charge period of a recurring price.
        pub recurring_charge_period: Option<String>,
        /// Unit of a usage price.
        pub unit_of_measure: Option<String>,
        /// The amounts.
        pub price: Price,
        /// The catalog price it comes from.
        pub product_offering_price: Option<EntityRef>,
        /// Alterations (a promotion keeps its `applicationDuration`).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub product_price_alteration: Vec<PriceAlteration>,
    }
}

/// The order item that created or changed a product (TMF637 `RelatedProductOrderItem`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RelatedProductOrderItem {
    /// The item's action (`add`, `modify`, `delete`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_item_action: Option<String>,
    /// The item id within its order.
    pub order_item_id: String,
    /// Hyperlink to the order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_order_href: Option<String>,
    /// The order id.
    pub product_order_id: String,
    /// Role of the item for the product.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// `@referredType`.
    #[serde(
        rename = "@referredType",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub referred_type: Option<String>,
    /// `@type`, `@baseType`, `@schemaLocation`.
    #[serde(flatten)]
    pub type_info: TypeInfo,
}

/// A relationship to another product (TMF637 `ProductRelationship`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductRelationship {
    /// e.g. `bundles` (from a bundle to each of its components).
    pub relationship_type: String,
    /// The related product (a reference).
    pub product: EntityRef,
    /// `@type`, `@baseType`, `@schemaLocation`.
    #[serde(flatten)]
    pub type_info: TypeInfo,
}

/// TMF637 product statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ProductStatus {
    /// Created, not yet active.
    Created,
    /// Being activated.
    PendingActive,
    /// Cancelled before activation.
    Cancelled,
    /// Held by the customer and billed.
    Active,
    /// Being terminated.
    PendingTerminate,
    /// No longer held (final).
    Terminated,
    /// Suspended.
    Suspended,
    /// Aborted. The v4 enum spells it `"aborted "` (trailing space); q2c writes the v5
    /// spelling and reads both.
    #[serde(alias = "aborted ")]
    Aborted,
}

impl ProductStatus {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            ProductStatus::Created => "created",
            ProductStatus::PendingActive => "pendingActive",
            ProductStatus::Cancelled => "cancelled",
            ProductStatus::Active => "active",
            ProductStatus::PendingTerminate => "pendingTerminate",
            ProductStatus::Terminated => "terminated",
            ProductStatus::Suspended => "suspended",
            ProductStatus::Aborted => "aborted",
        }
    }
}
