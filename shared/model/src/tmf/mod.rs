//! TMF Open API resources (TMF648 v4, TMF620 v4, TMF622 v4, TMF637 v4, TMF630, TMF688) as
//! serde types, named and typed exactly as the specs do. Every struct keeps unmodelled fields in
//! `extensions`, so extensions and unknown `@type` subtypes survive a round trip.

/// Declares a TMF structure the way every one is declared: `Debug, Clone, Default, PartialEq`,
/// serde with camelCase names, its own fields, and last the two every TMF structure carries,
/// flattened: `type_info` (`@type`, `@baseType`, `@schemaLocation`) and `extensions` (the
/// unmodelled fields, kept verbatim), so that subtypes and extensions survive a round trip.
///
/// Every `Option` field is optional on the wire the same way: absent reads as `None`, and
/// `None` is left out when written (`#[serde(default, skip_serializing_if =
/// "Option::is_none")]`, added here). Other fields state their serde attributes themselves.
macro_rules! tmf_struct {
    (
        $(#[$meta:meta])*
        pub struct $name:ident { $($fields:tt)* }
    ) => {
        tmf_struct! { @fields [$(#[$meta])*] $name [] $($fields)* }
    };
    // An optional field.
    (
        @fields $metas:tt $name:ident [$($done:tt)*]
        $(#[$field_meta:meta])* pub $field:ident: Option<$ty:ty>, $($rest:tt)*
    ) => {
        tmf_struct! {
            @fields $metas $name [
                $($done)*
                $(#[$field_meta])*
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub $field: Option<$ty>,
            ] $($rest)*
        }
    };
    // Any other field, as written.
    (
        @fields $metas:tt $name:ident [$($done:tt)*]
        $(#[$field_meta:meta])* pub $field:ident: $ty:ty, $($rest:tt)*
    ) => {
        tmf_struct! {
            @fields $metas $name [$($done)* $(#[$field_meta])* pub $field: $ty,] $($rest)*
        }
    };
    (@fields [$(#[$meta:meta])*] $name:ident [$($done:tt)*]) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
        #[serde(rename_all = "camelCase")]
        pub struct $name {
            $($done)*
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
