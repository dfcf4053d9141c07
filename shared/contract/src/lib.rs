//! Contract test suites for the store and queue ports of `q2c-service`. Every adapter (SQLite in
//! `q2c-local`, DynamoDB in `q2c-aws`) runs the same suites from its own tests, so the
//! use-cases can rely on one behaviour whatever the backend.
//!
//! Each suite is an `async fn` taking the port(s) as trait objects and panicking with a
//! message naming the broken rule. Suites use fresh tenant ids, keys and catalog ids (UUID
//! based), so they can share one backend with other suites; the outbox suite additionally
//! needs that nothing else writes to the outbox while it runs (the outbox is global).
//!
//! # Layout
//! - [`fixtures`]: unique tenants, quotes with extensions, events, catalog entries.
//! - [`quotes`]: [`quote_store_contract`]: round trip, conflicts, tenant isolation.
//! - [`quote_list`]: [`quote_list_contract`]: filters, ordering, paging, totals.
//! - [`cursor_paging`]: [`cursor_paging_contract`]: cursor scans of quotes, orders and the
//!   catalog (order, inserts during a walk, positions, filters).
//! - [`orders`]: [`order_store_contract`]: acceptance, listing, dispatch outcomes, state changes.
//! - [`products`]: [`product_store_contract`]: an order's completion writes its products,
//!   the order state and the events in one write (all or nothing); products per tenant.
//! - [`outbox`]: [`quote_outbox_contract`]: events written with quotes, relay side.
//! - [`idempotency`]: [`idempotency_contract`]: claim, replay, mismatch, expiry, takeover.
//! - [`hubs`]: [`hub_store_contract`]: subscriptions per tenant and API, and across tenants;
//!   [`hub_store_quota_contract`] (and [`hub_store_quota_race_contract`]): the subscription
//!   quota, exact.
//! - [`quotas`]: [`open_quote_count_contract`]: open-quote counts moved once per published
//!   quote event.
//! - [`deliveries`]: [`delivery_log_contract`]: hub deliveries recorded once per subscriber.
//! - [`catalog`]: [`catalog_store_contract`]: put, get by ids, paged lists.
//! - [`dispatch_log`]: [`dispatch_log_contract`]: exclusive order claims, leases, final
//!   dispatch; [`dispatch_log_concurrency_contract`]: one winner among racing claims.
//! - [`queues`]: [`queue_contract`]: SQS semantics of every `QueueClient` adapter.
//! - [`dlq`]: [`dlq_backend_contract`]: what the dead-letter operations need of a
//!   `DlqBackend` (discovery, lossless round trip, release, purge, batch limits).
//! - [`relay`]: [`relay_contract`]: outbox to queues, at least once, across a crash.
//! - [`limits`]: [`quote_limits_contract`]: the largest quote the API accepts is written,
//!   re-priced to disjoint prices and accepted; one step beyond is refused by the store; a
//!   listing page stops at its byte budget.
//! - [`fanout`]: [`price_catalog_writer_contract`], [`open_quote_index_contract`] and
//!   [`fanout_continuation_scenario`]: the price fan-out's ports and its continuation.
//! - [`offerings`]: offering ingestion and what the catalog import compares with
//!   ([`offering_catalog_writer_contract`], [`open_quote_offering_index_contract`],
//!   [`catalog_versions_contract`]).
//! - [`slow_subscriber`]: [`slow_subscriber_scenario`]: hub delivery that a subscriber
//!   which does not answer cannot stall, and whose retry re-sends nothing delivered.
//! - [`quote_store_wrapper!`]: a test double over a real `QuoteStore` that sees its gets
//!   and updates first ([`wrapper`]).
#![warn(missing_docs)]

pub mod catalog;
pub mod cursor_paging;
pub mod deliveries;
pub mod dispatch_log;
pub mod dlq;
pub mod fanout;
pub mod fixtures;
pub mod hubs;
pub mod idempotency;
pub mod limits;
pub mod offerings;
pub mod orders;
pub mod outbox;
pub mod products;
pub mod queues;
pub mod quotas;
pub mod quote_list;
pub mod quotes;
pub mod relay;
pub mod slow_subscriber;
pub mod wrapper;

pub use catalog::catalog_store_contract;
pub use cursor_paging::cursor_paging_contract;
pub use deliveries::delivery_log_contract;
pub use dispatch_log::{dispatch_log_concurrency_contract, dispatch_log_contract};
pub use dlq::{DlqNames, dlq_backend_contract};
pub use fanout::{
    Races, fanout_continuation_scenario, open_quote_index_contract, price_catalog_writer_contract,
};
pub use hubs::{
    hub_store_contract, hub_store_quota_contract, hub_store_quota_race_contract,
    hub_store_version_contract,
};
pub use idempotency::idempotency_contract;
pub use limits::quote_limits_contract;
pub use offerings::{
    catalog_versions_contract, offering_catalog_writer_contract, offering_retirement_scenario,
    open_quote_offering_index_contract,
};
pub use orders::order_store_contract;
pub use outbox::quote_outbox_contract;
pub use products::product_store_contract;
pub use queues::{QueueNames, queue_contract};
pub use quotas::open_quote_count_contract;
pub use quote_list::quote_list_contract;
pub use quotes::quote_store_contract;
pub use relay::{REFUSAL_MARK, Refusing, parking_contract, relay_contract, too_deep_body};
pub use slow_subscriber::{SlowSubscriberWorld, slow_subscriber_scenario};
