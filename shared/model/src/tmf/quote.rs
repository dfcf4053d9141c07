//! TMF648 v4 Quote resources: Quote, QuoteItem, QuotePrice, Price, PriceAlteration,
//! ProductRefOrValue, and the quote and quote-item states.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::common::{
    Authorization, Characteristic, EntityRef, Extensions, Note, RelatedParty, TimePeriod, TypeInfo,
};
use crate::money::{Money, decimal_number};

tmf_struct! {
    /// A quote: a priced proposal of products to a customer (TMF648 `Quote`).
    ///
    /// Unmodelled fields (agreement, contactMedium, extensions, ...) are kept verbatim in
    /// `extensions`.
    pub struct Quote {
        /// Server-assigned identifier.
        pub id: Option<String>,
        /// Server-assigned hyperlink.
        pub href: Option<String>,
        /// Category (e.g. `residential`, `business`).
        pub category: Option<String>,
        /// Free-text description.
        pub description: Option<String>,
        /// When the quote was completed (accepted, rejected or cancelled).
        #[serde(with = "time::serde::rfc3339::option")]
        pub effective_quote_completion_date: Option<OffsetDateTime>,
        /// When fulfilment is expected to start.
        #[serde(with = "time::serde::rfc3339::option")]
        pub expected_fulfillment_start_date: Option<OffsetDateTime>,
        /// When the quote is expected to be completed.
        #[serde(with = "time::serde::rfc3339::option")]
        pub expected_quote_completion_date: Option<OffsetDateTime>,
        /// Identifier given by the consumer (e.g. the CRM's opportunity id).
        pub external_id: Option<String>,
        /// Whether the consumer asked for a synchronous answer.
        pub instant_sync_quote: Option<bool>,
        /// When the quote was created (server-owned).
        #[serde(with = "time::serde::rfc3339::option")]
        pub quote_date: Option<OffsetDateTime>,
        /// When the consumer wants the quote completed.
        #[serde(with = "time::serde::rfc3339::option")]
        pub requested_quote_completion_date: Option<OffsetDateTime>,
        /// Version of the quote as the consumer tracks it.
        pub version: Option<String>,
        /// Approvals given on the quote (server-owned).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub authorization: Vec<Authorization>,
        /// Billing accounts the quote will be billed to.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub billing_account: Vec<EntityRef>,
        /// Notes.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub note: Vec<Note>,
        /// The items quoted; required on create.
        #[serde(default)]
        pub quote_item: Vec<QuoteItem>,
        /// Totals per price type and recurring period (server-owned).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub quote_total_price: Vec<QuotePrice>,
        /// Parties involved (customer, seller, ...).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub related_party: Vec<RelatedParty>,
        /// Lifecycle state (server-owned on create).
        pub state: Option<QuoteState>,
        /// Period during which the quote can be accepted (server-owned).
        pub valid_for: Option<TimePeriod>,
    }
}

tmf_struct! {
    /// One line of a quote; items nest (TMF648 `QuoteItem`).
    ///
    /// Unmodelled fields (appointment, attachment, quoteItemRelationship, ...) are kept verbatim in
    /// `extensions`.
    pub struct QuoteItem {
        /// Identifier of the item within the quote.
        pub id: Option<String>,
        /// Action on the product (`add`, `modify`, `delete`, `noChange`).
        pub action: Option<String>,
        /// How many; at least 1 (validated by pricing so the error can name the item).
        pub quantity: Option<i64>,
        /// Lifecycle state of the item.
        pub state: Option<QuoteItemState>,
        /// Notes on the item.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub note: Vec<Note>,
        /// The configured product (characteristics, specification).
        pub product: Option<ProductRefOrValue>,
        /// The catalog offering quoted.
        pub product_offering: Option<EntityRef>,
        /// Child items (e.g. the components of a bundle).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub quote_item: Vec<QuoteItem>,
        /// Approvals given on this item.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub quote_item_authorization: Vec<Authorization>,
        /// Prices of the item (computed by the pricing engine; requested discounts are read from
        /// here).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub quote_item_price: Vec<QuotePrice>,
        /// Parties involved in this item.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub related_party: Vec<RelatedParty>,
    }
}

tmf_struct! {
    /// A product as a reference or as a value with its characteristics (TMF `ProductRefOrValue`).
    pub struct ProductRefOrValue {
        /// Identifier of an existing product (for `modify`/`delete` actions).
        pub id: Option<String>,
        /// Hyperlink to an existing product.
        pub href: Option<String>,
        /// Name of the product.
        pub name: Option<String>,
        /// Whether the product is a bundle.
        pub is_bundle: Option<bool>,
        /// Configured characteristic values.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub product_characteristic: Vec<Characteristic>,
        /// The product specification the product realises.
        pub product_specification: Option<EntityRef>,
        /// Class of the referred product (`@referredType`).
        #[serde(rename = "@referredType")]
        pub referred_type: Option<String>,
    }
}

tmf_struct! {
    /// A price line of a quote item or a quote total (TMF648 `QuotePrice`; TMF622 `OrderPrice`
    /// has the same shape plus a billing account, which is kept in the extensions).
    pub struct QuotePrice {
        /// Description of the price.
        pub description: Option<String>,
        /// Name of the price.
        pub name: Option<String>,
        /// `recurring`, `oneTime`, `usage`, or any other catalog price type (carried as is).
        #[serde(default)]
        pub price_type: String,
        /// Charge period of a recurring price (`month`, `year`, ...).
        pub recurring_charge_period: Option<String>,
        /// Unit of a usage price (`GB`, `minute`, ...).
        pub unit_of_measure: Option<String>,
        /// The amounts.
        #[serde(default)]
        pub price: Price,
        /// Discounts and other alterations applied to this price.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub price_alteration: Vec<PriceAlteration>,
        /// The catalog price this line comes from.
        pub product_offering_price: Option<EntityRef>,
    }
}

/// TMF622 `OrderPrice`: the same shape as [`QuotePrice`].
pub type OrderPrice = QuotePrice;

tmf_struct! {
    /// Amounts of a price, before and after tax, or a percentage (TMF `Price`).
    pub struct Price {
        /// Percentage, for percentage alterations (50 means 50%).
        #[serde(with = "decimal_number::option")]
        pub percentage: Option<Decimal>,
        /// Tax rate applied, in percent (20 means 20%).
        #[serde(with = "decimal_number::option")]
        pub tax_rate: Option<Decimal>,
        /// Amount without tax.
        pub duty_free_amount: Option<Money>,
        /// Amount including tax.
        pub tax_included_amount: Option<Money>,
    }
}

tmf_struct! {
    /// A change to a price, such as a discount, possibly for a limited number of periods
    /// (TMF `PriceAlteration`).
    pub struct PriceAlteration {
        /// Number of charge periods the alteration applies for (e.g. 3 for "3 months").
        pub application_duration: Option<i64>,
        /// Description of the alteration.
        pub description: Option<String>,
        /// Name of the alteration.
        pub name: Option<String>,
        /// Kind of alteration, e.g. `discount`.
        #[serde(default)]
        pub price_type: String,
        /// Order in which alterations apply (lower first).
        pub priority: Option<i64>,
        /// Charge period the alteration applies to.
        pub recurring_charge_period: Option<String>,
        /// Unit of measure the alteration applies to.
        pub unit_of_measure: Option<String>,
        /// The alteration's percentage and amounts. For a `discount` the amounts are the (positive)
        /// reduction per charge period; see docs/pricing.md.
        #[serde(default)]
        pub price: Price,
        /// The catalog price of the alteration (a promotion), absent for requested discounts.
        pub product_offering_price: Option<EntityRef>,
    }
}

/// TMF648 v4 quote states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum QuoteState {
    /// Being configured; the initial state.
    InProgress,
    /// Waiting for information from the customer.
    Pending,
    /// Approved internally; offered to the customer; no longer updatable except its state.
    Approved,
    /// Accepted by the customer (final); produces a product order.
    Accepted,
    /// Rejected by the customer (final).
    Rejected,
    /// Cancelled before approval (final).
    Cancelled,
}

/// TMF648 v4 quote item states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum QuoteItemState {
    /// Being configured; the initial state.
    InProgress,
    /// Waiting for information.
    Pending,
    /// Approved.
    Approved,
    /// Rejected (final).
    Rejected,
}
