//! TMF Open API resources (TMF648 v4, TMF620 v4, TMF622 v4, TMF637 v4, TMF630, TMF688) as
//! serde types, named and typed exactly as the specs do. Every struct keeps unmodelled fields in
//! `extensions`, so extensions and unknown `@type` subtypes survive a round trip.

/// Declares a TMF structure the way every one is declared: `Debug, Clone, Default, PartialEq`,
/// serde with camelCase names, its own fields, and last the two every TMF structure carries,
/// flattened: `type_info` (`@type`, `@baseType`, `@schemaLocation`) and `extensions` (the
/// unmodelled fields, kept verbatim), so that subtypes and extensions survive a round trip.
macro_rules! tmf_struct {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $( $(#[$field_meta:meta])* pub $field:ident: $ty:ty, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
        #[serde(rename_all = "camelCase")]
        pub struct $name {
            $( $(#[$field_meta])* pub $field: $ty, )*
            /// `@type`, `@baseType`, `@schemaLocation`.
            #[serde(flatten)]
            pub type_info: TypeInfo,
            /// Unmodelled fields, kept verbatim.
            #[serde(flatten)]
            pub extensions: Extensions,
        }
    };
}

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
