//! What each listing lets a client filter on, by the names of the representation it serves
//! (TMF648 v4 and v5 quotes, TMF622 product orders, TMF620 offerings and prices). The
//! OpenAPI documents and docs/versioning.md list the same tables.

use super::Kind::{Boolean, DateTime, Enum, Number, Text};
use super::{Attribute, attr};

const QUOTE_V4_STATES: &[&str] = &[
    "inProgress",
    "pending",
    "approved",
    "accepted",
    "rejected",
    "cancelled",
];

/// The TMF648 v5 `QuoteStateType` values (q2c-wire maps them onto the model's states).
pub const QUOTE_V5_STATES: [&str; 8] = [
    "acknowledged",
    "rejected",
    "pending",
    "inProgress",
    "cancelled",
    "approved",
    "accepted",
    "declined",
];

const ITEM_ACTIONS: &[&str] = &["add", "modify", "delete", "noChange"];

/// The attributes both quote versions share, by name.
macro_rules! quote_common {
    ($($extra:expr),* $(,)?) => {
        &[
            attr("id", Text),
            attr("externalId", Text),
            attr("category", Text),
            attr("version", Text),
            attr("instantSyncQuote", Boolean),
            attr("requestedQuoteCompletionDate", DateTime),
            attr("expectedQuoteCompletionDate", DateTime),
            attr("effectiveQuoteCompletionDate", DateTime),
            attr("expectedFulfillmentStartDate", DateTime),
            attr("validFor.startDateTime", DateTime),
            attr("validFor.endDateTime", DateTime),
            attr("relatedParty.id", Text),
            attr("relatedParty.role", Text),
            attr("billingAccount.id", Text),
            attr("quoteItem.id", Text),
            attr("quoteItem.action", Enum(ITEM_ACTIONS)),
            attr("quoteItem.quantity", Number),
            attr("quoteItem.productOffering.id", Text),
            attr("quoteTotalPrice.priceType", Text),
            attr("productOrder.id", Text),
            $($extra),*
        ]
    };
}

/// `GET /quoteManagement/v4/quote`.
pub const QUOTE_V4: &[Attribute] = quote_common!(
    attr("state", Enum(QUOTE_V4_STATES)),
    attr("quoteDate", DateTime),
    attr("quoteItem.state", Enum(QUOTE_V4_STATES)),
);

/// `GET /quoteManagement/v5/quote` (`creationDate` is v4's `quoteDate`).
pub const QUOTE_V5: &[Attribute] = quote_common!(
    attr("state", Enum(&QUOTE_V5_STATES)),
    attr("creationDate", DateTime),
    attr("quoteItem.state", Enum(&QUOTE_V5_STATES)),
    attr("@type", Text),
);

const ORDER_STATES: &[&str] = &[
    "acknowledged",
    "rejected",
    "pending",
    "held",
    "inProgress",
    "cancelled",
    "completed",
    "failed",
    "partial",
    "assessingCancellation",
    "pendingCancellation",
];

/// `GET /productOrderingManagement/v4/productOrder`.
pub const PRODUCT_ORDER: &[Attribute] = &[
    attr("id", Text),
    attr("externalId", Text),
    attr("category", Text),
    attr("state", Enum(ORDER_STATES)),
    attr("orderDate", DateTime),
    attr("completionDate", DateTime),
    attr("quote.id", Text),
    attr("relatedParty.id", Text),
    attr("relatedParty.role", Text),
    attr("billingAccount.id", Text),
    attr("productOrderItem.id", Text),
    attr("productOrderItem.action", Enum(ITEM_ACTIONS)),
    attr("productOrderItem.state", Enum(ORDER_STATES)),
    attr("productOrderItem.productOffering.id", Text),
];

/// `GET /productCatalogManagement/v4/productOffering`.
pub const PRODUCT_OFFERING: &[Attribute] = &[
    attr("id", Text),
    attr("name", Text),
    attr("version", Text),
    attr("lifecycleStatus", Text),
    attr("isBundle", Boolean),
    attr("isSellable", Boolean),
    attr("lastUpdate", DateTime),
    attr("validFor.startDateTime", DateTime),
    attr("validFor.endDateTime", DateTime),
    attr("productOfferingPrice.id", Text),
    attr("bundledProductOffering.id", Text),
    attr("productSpecification.id", Text),
];

/// `GET /productCatalogManagement/v4/productOfferingPrice`.
pub const PRODUCT_OFFERING_PRICE: &[Attribute] = &[
    attr("id", Text),
    attr("name", Text),
    attr("version", Text),
    attr("lifecycleStatus", Text),
    attr("priceType", Text),
    attr("isBundle", Boolean),
    attr("lastUpdate", DateTime),
    attr("recurringChargePeriodType", Text),
    attr("recurringChargePeriodLength", Number),
    attr("percentage", Number),
    attr("price.unit", Text),
    attr("price.value", Number),
    attr("validFor.startDateTime", DateTime),
    attr("validFor.endDateTime", DateTime),
];
