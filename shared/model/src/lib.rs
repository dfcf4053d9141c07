//! q2c's domain model: the TMF resources as types, decimal money, the pricing engine and the
//! lifecycles of quotes and orders.
//!
//! Pure by design: no I/O, no async, no AWS or HTTP types, and no clock reads — every function
//! that depends on time takes `now` from its caller.
//!
//! # Layout
//! - [`money`]: `Money`, `Currency` and the rounding rule (the only place amounts are rounded).
//! - [`tmf`]: TMF648/620/622/637/630/688 resources, serialised as the specs name them.
//! - [`settings`]: `TenantSettings` (tax rate, approval threshold, quote validity, currency).
//! - [`pricing`]: the pricing engine, `price_quote` over a [`pricing::CatalogView`].
//! - [`characteristics`]: requested product characteristics checked against the offering.
//! - [`lifecycle`]: the quote, quote item, product order and order item state machines.
//! - [`limits`]: the resource model: every limit on input and stored size, and its budget.
//! - [`inventory`]: the TMF637 products a completed order creates, at the quoted prices.
//! - [`ordering`]: the product order made from an accepted quote, and order state changes.
//! - [`sample_catalog`]: the TMF620 sample catalog that seeds `q2c local` and the docs' examples.
#![warn(missing_docs)]

pub mod characteristics;
pub mod filter;
pub mod inventory;
pub mod lifecycle;
pub mod limits;
pub mod money;
pub mod ordering;
pub mod pricing;
pub mod sample_catalog;
pub mod settings;
pub mod tmf;
