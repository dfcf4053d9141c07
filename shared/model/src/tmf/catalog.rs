//! TMF620 v4 catalog resources: ProductOffering and ProductOfferingPrice.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::common::{EntityRef, Extensions, Quantity, TimePeriod, TypeInfo};
use crate::money::{Money, decimal_number};

tmf_struct! {
    /// Something the operator sells (TMF620 `ProductOffering`).
    ///
    /// Unmodelled fields (prodSpecCharValueUse, category, channel, ...) are kept verbatim in
    /// `extensions`.
    pub struct ProductOffering {
        /// Catalog identifier.
        pub id: String,
        /// Hyperlink.
        pub href: Option<String>,
        /// Name.
        pub name: Option<String>,
        /// Description.
        pub description: Option<String>,
        /// Whether this offering is a bundle of other offerings.
        pub is_bundle: Option<bool>,
        /// Whether it can be sold on its own (`false` for offerings sold only inside bundles).
        pub is_sellable: Option<bool>,
        /// Free-string lifecycle status (`Active`, `Launched`, `Retired`, `Obsolete`, ...).
        pub lifecycle_status: Option<String>,
        /// Last change in the catalog; orders change events (older never overwrites newer).
        #[serde(with = "time::serde::rfc3339::option")]
        pub last_update: Option<OffsetDateTime>,
        /// Catalog version string.
        pub version: Option<String>,
        /// When it can be sold.
        pub valid_for: Option<TimePeriod>,
        /// The offerings bundled in this one.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub bundled_product_offering: Vec<EntityRef>,
        /// Its prices.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub product_offering_price: Vec<EntityRef>,
        /// Commitment terms (e.g. 24 months).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub product_offering_term: Vec<ProductOfferingTerm>,
        /// The specification it sells.
        pub product_specification: Option<EntityRef>,
    }
}

tmf_struct! {
    /// A price of an offering: recurring, one-time, usage, discount, or any other type
    /// (TMF620 `ProductOfferingPrice`).
    ///
    /// Unmodelled fields (tax, constraint, pricingLogicAlgorithm, ...) are kept verbatim in
    /// `extensions`.
    pub struct ProductOfferingPrice {
        /// Catalog identifier.
        pub id: String,
        /// Hyperlink.
        pub href: Option<String>,
        /// Name.
        pub name: Option<String>,
        /// Description.
        pub description: Option<String>,
        /// Whether the price is composed of other prices.
        pub is_bundle: Option<bool>,
        /// Free-string lifecycle status.
        pub lifecycle_status: Option<String>,
        /// Last change in the catalog.
        #[serde(with = "time::serde::rfc3339::option")]
        pub last_update: Option<OffsetDateTime>,
        /// Percentage for percentage prices (discounts): 50 means 50%.
        #[serde(with = "decimal_number::option")]
        pub percentage: Option<Decimal>,
        /// Free-string price type: `recurring`, `oneTime`, `usage`, `discount`, or others.
        #[serde(default)]
        pub price_type: String,
        /// Number of periods per charge (1 for "every month").
        pub recurring_charge_period_length: Option<i64>,
        /// Charge period of a recurring price (`month`, `year`, ...).
        pub recurring_charge_period_type: Option<String>,
        /// Catalog version string.
        pub version: Option<String>,
        /// Prices this one relates to (a discount points at the price it alters).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub pop_relationship: Vec<EntityRef>,
        /// The amount, excluding tax.
        pub price: Option<Money>,
        /// Terms such as a promotion's duration (`{"duration": {"amount": 3, "units": "month"}}`).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub product_offering_term: Vec<ProductOfferingTerm>,
        /// Unit of a usage price, e.g. `{"amount": 1, "units": "GB"}`.
        pub unit_of_measure: Option<Quantity>,
        /// When the price applies.
        pub valid_for: Option<TimePeriod>,
    }
}

tmf_struct! {
    /// A term of an offering or price, such as a commitment or promotion length
    /// (TMF620 `ProductOfferingTerm`).
    pub struct ProductOfferingTerm {
        /// Name of the term.
        pub name: Option<String>,
        /// Description.
        pub description: Option<String>,
        /// How long it lasts.
        pub duration: Option<Quantity>,
        /// When the term applies.
        pub valid_for: Option<TimePeriod>,
    }
}
