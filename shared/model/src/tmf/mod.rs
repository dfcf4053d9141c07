//! TMF Open API resources (TMF648 v4, TMF620 v4, TMF622 v4, TMF637 v4, TMF630, TMF688) as
//! serde types, named and typed exactly as the specs do. Every struct keeps unmodelled fields in
//! `extensions`, so extensions and unknown `@type` subtypes survive a round trip.

pub mod catalog;
pub mod common;
pub mod error;
pub mod event;
pub mod order;
pub mod product;
pub mod quote;

pub use catalog::{ProductOffering, ProductOfferingPrice, ProductOfferingTerm};
pub use common::{
    Authorization, Characteristic, EntityRef, Extensions, Note, Quantity, RelatedParty, TimePeriod,
    TypeInfo,
};
pub use error::ErrorBody;
pub use event::{EventEnvelope, EventSubscription};
pub use order::{
    ProductOrder, ProductOrderItem, ProductOrderItemState, ProductOrderState, QuoteItemRef,
};
pub use product::{
    Product, ProductPrice, ProductRelationship, ProductStatus, RelatedProductOrderItem,
};
pub use quote::{
    OrderPrice, Price, PriceAlteration, ProductRefOrValue, Quote, QuoteItem, QuoteItemState,
    QuotePrice, QuoteState,
};
