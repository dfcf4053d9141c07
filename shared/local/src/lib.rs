//! q2c local mode storage: every store port of `q2c-service` on one embedded SQLite
//! database, and tenant settings read from a TOML file. It backs `q2c local` and fast tests;
//! the `q2c-contract` suites check it behaves like the DynamoDB adapter.
//!
//! # Layout
//! - [`store`]: [`SqliteStore`]: opening, connection handling (one writer, pooled readers,
//!   blocking work off the async runtime), the ports as trait objects, housekeeping.
//! - `housekeeping`: [`SqliteStore::housekeeping`], dropping expired rows of every table.
//! - `writer`: the writer thread and its group commit.
//! - `schema`: versioned migrations (`PRAGMA user_version`).
//! - `quotes`, `quote_row`, `quote_list`: [`QuoteStore`](q2c_service::ports::QuoteStore),
//!   a quote's rows (body, related-party and open-quote index rows), `GET /quote` queries.
//! - `open_quotes`: the open-quote index tables the fan-out pages through.
//! - `catalog`, `hubs`, `idempotency`, `outbox`: the other store ports.
//! - `fanout`: the price fan-out's ports (`PriceCatalogWriter` with tombstones,
//!   `OpenQuoteIndex`).
//! - `dispatch_log`: the order dispatch's [`DispatchLog`](q2c_service::dispatch::DispatchLog).
//! - `callback_sender`: [`LocalCallbackSender`], hub deliveries to embedded queues
//!   (`local:<name>`) and HTTP listeners.
//! - `deliveries`: the hub [`DeliveryLog`](q2c_service::delivery::DeliveryLog).
//! - [`queues`]: [`SqliteQueues`], the embedded queue engine with SQS semantics (the
//!   [`QueueClient`](q2c_service::messaging::QueueClient) port), in the same database.
//! - [`LocalDlqBackend`]: the dead-letter operations' port on the embedded queues.
//! - [`poller`]: [`Poller`], driving a handler over a queue like a Lambda event source mapping.
//! - [`settings`]: [`FileSettings`], a [`SettingsSource`](q2c_service::ports::SettingsSource)
//!   over a TOML file.
//! - [`error`]: [`OpenError`] and the mapping of driver errors to `StoreError`.
#![warn(missing_docs)]

mod callback_sender;
mod catalog;
mod cursor;
mod deliveries;
mod dispatch_log;
mod dlq;
pub mod error;
mod fanout;
mod housekeeping;
mod hubs;
mod idempotency;
mod open_quotes;
mod orders;
mod outbox;
pub mod poller;
mod products;
pub mod queues;
mod quotas;
mod quote_list;
mod quote_row;
mod quotes;
mod schema;
pub mod settings;
pub mod store;
mod time_codec;
mod writer;

pub use callback_sender::LocalCallbackSender;
pub use dlq::LocalDlqBackend;
pub use error::OpenError;
pub use housekeeping::HousekeepingReport;
pub use poller::{PollReport, Poller};
pub use queues::{LocalQueue, SqliteQueues};
pub use settings::{FileSettings, SettingsError};
pub use store::SqliteStore;
