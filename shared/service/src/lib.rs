//! q2c use-cases and the ports they need. Adapters (`q2c-local`, `q2c-aws`) implement the
//! ports; the HTTP edge (`q2c-api`) and the functions call the use-cases.
//!
//! # Layout
//! - [`context`]: the verified caller (tenant, subject, scopes, correlation id).
//! - [`error`]: `ServiceError`, one variant per case callers act on.
//! - [`ports`]: store, clock and settings traits, and the records they exchange.
//! - [`quotes`]: the quote use-cases (create, read, list, delete); `quote_patch`: PATCH.
//! - [`orders`]: product orders: the `OrderStore` port, dispatch records, order events,
//!   `OrderService` (reads, the state-change listener).
//! - [`catalog_sync`]: catalog import and diff (validate a TMF620 export, compare, apply).
//! - [`configure`]: loading the catalog slice a quote needs and pricing it.
//! - [`events`]: the TMF event envelopes announcing quote changes.
//! - [`event_versions`]: message schema majors (4, 5), the consumers' `SchemaPolicy`, and
//!   the internal form messages are normalised to and rendered from.
//! - [`messaging`]: the `QueueClient` port, queue names, and the handler contract of consumers.
//! - [`delivery`]: hub delivery: subscription queries, the callback policy, `HubDelivery`
//!   and its ports `DeliveryLog` and `CallbackSender`.
//! - [`relay`]: `relay_once`, moving pending outbox events to their queues.
//! - [`fanout`]: the price fan-out (catalog price events → catalog copy → open quotes).
//! - [`dispatch`]: `OrderDispatch`, the `orders` consumer handing orders to order management.
//! - [`dlq`]: dead-letter operations (list, peek, export, redrive, replay, purge) over the
//!   `DlqBackend` port.
#![warn(missing_docs)]

pub mod catalog_sync;
pub mod configure;
pub mod context;
pub mod delivery;
pub mod dispatch;
pub mod dlq;
pub mod error;
pub mod event_versions;
pub mod events;
#[cfg(test)]
mod extensibility_tests;
pub mod fanout;
pub mod messaging;
pub mod orders;
pub mod ports;
mod quote_patch;
pub mod quotes;
pub mod relay;
#[cfg(test)]
mod testing;

pub use context::{RequestContext, Scope, TenantId};
pub use error::ServiceError;
pub use orders::OrderService;
pub use ports::Ports;
pub use quotes::{QuoteService, QuoteServiceConfig};
