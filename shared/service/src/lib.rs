//! q2c use-cases and the ports they need. Adapters (`q2c-local`, `q2c-aws`) implement the
//! ports; the HTTP edge (`q2c-api`) and the functions call the use-cases.
//!
//! # Layering
//! The modules form layers; code (`use` and paths, not doc links) names only modules of its
//! own layer listed before it or of a layer below, so no two modules depend on each other.
//!
//! 1. **Foundation**, names nothing above it:
//!    - [`context`]: the verified caller (tenant, subject, scopes, correlation id).
//!    - [`store`]: `StoreError`, `BoxError`, `Page`, `Listing`, shared by every store port.
//!    - [`clock`]: `Clock`, `SystemClock`, `Sleeper`.
//!    - [`error`]: `ServiceError`, one variant per case callers act on (→ `context`, `store`).
//!    - [`hrefs`]: the hrefs of the catalog resources this server serves, and a quote's
//!      catalog references on them.
//!    - [`event_versions`]: message schema majors (4, 5), the consumers' `SchemaPolicy`, and
//!      the internal form envelopes are normalised to and rendered from (→ `hrefs`).
//!    - [`outbox`]: `OutboxEvent`, `Destination`, the `OutboxStore` port the relay reads
//!      (→ `event_versions`, `store`).
//! 2. **Shared ports**, used by several use-cases, name only the foundation:
//!    - [`catalog`]: `CatalogStore` (the operator's catalog), `ServedCatalog` (it with this
//!      server's hrefs) and `SettingsSource`.
//!    - [`hubs`]: `HubStore`, the subscriptions of each API's hub, and `HubApi`.
//!    - [`idempotency`]: `IdempotencyStore` (`Idempotency-Key` replay).
//!    - [`messaging`]: `queue` (the `QueueClient` port, queue names, attributes, limits) and
//!      `consumer` (the handler contract of consumers).
//! 3. **Use-cases**, each with its ports beside it, in this order (each may use the ones
//!    before it, never one after):
//!    - [`inventory`]: TMF637 products: `ProductStore`, product events, `InventoryService`.
//!    - [`orders`]: product orders: `OrderStore`, `StoredOrder` (the record accepting a quote
//!      writes, so quotes depend on orders and never the reverse), dispatch records, order
//!      events, `OrderService`.
//!    - [`dispatch`]: `OrderDispatch`, the `orders` consumer handing orders to order
//!      management; its ports in `dispatch::ports`.
//!    - [`events`]: the TMF event envelopes announcing quote changes; [`quotas`]: open-quote
//!      counts.
//!    - [`configure`]: loading the catalog slice a quote needs and pricing it;
//!      [`contention`]: retrying unconditional writes that lose a version race.
//!    - [`quotes`]: the quote use-cases (create, read, list, delete); their ports in
//!      `quotes::ports` (`QuoteStore`, `StoredQuote`, `write_limits`) with [`Ports`], the
//!      bundle of every store the API needs (it converts into the order and inventory
//!      services' own `OrderPorts` and `InventoryPorts`).
//!    - [`fanout`]: the price fan-out (catalog price events → catalog copy → open quotes).
//!    - `quote_patch`: PATCH of a quote (re-price, state changes, acceptance into an order).
//!    - [`catalog_sync`]: catalog import and diff (validate a TMF620 export, compare, apply).
//!    - [`delivery`]: hub delivery: subscription queries, the callback policy, `HubDelivery`
//!      and its ports `DeliveryLog` and `CallbackSender` (`delivery::ports`).
//!    - [`relay`]: `relay_once`, moving pending outbox events to their queues.
//!    - [`dlq`]: dead-letter operations (list, peek, export, redrive, replay, purge) over the
//!      `DlqBackend` port (`dlq::ports`).
//! 4. **Old paths**: [`ports`] only re-exports (`pub use`) the ports and records from their
//!    owners, for dependents (`q2c_service::ports::QuoteStore`); nothing in this crate uses it.
//!
//! `python3 tools/layering.py shared/service` checks that no module cycle exists (it
//! exits 1 on any, naming the file and line of each edge).
#![warn(missing_docs)]

// Foundation.
pub mod clock;
pub mod context;
pub mod error;
pub mod event_versions;
pub mod hrefs;
pub mod listing;
pub mod outbox;
pub mod store;

// Shared ports.
pub mod catalog;
pub mod hubs;
pub mod idempotency;
pub mod messaging;

// Use-cases.
pub mod catalog_sync;
pub mod configure;
pub mod contention;
pub mod delivery;
pub mod dispatch;
pub mod dlq;
pub mod events;
pub mod fanout;
pub mod inventory;
pub mod orders;
pub mod quotas;
mod quote_patch;
pub mod quotes;
pub mod relay;

// Old paths only.
pub mod ports;

#[cfg(test)]
mod extensibility_tests;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use context::{RequestContext, Scope, TenantId};
pub use error::ServiceError;
pub use orders::OrderService;
pub use ports::Ports;
pub use quotes::{QuoteService, QuoteServiceConfig};
