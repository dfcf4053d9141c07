//! q2c on AWS: DynamoDB adapters of the store ports over one table, an SQS publisher for
//! the outbox relay, and a batch consumer for SQS-triggered functions with partial batch
//! failures and a dead-letter queue for poison messages. Every AWS request is counted per
//! operation ([`RequestCounter`]), so benchmarks can report requests per business operation.
//!
//! Layout:
//! - [`dynamo`]: [`DynamoStore`] (quotes, orders, catalog, hubs, idempotency, outbox,
//!   dispatch and delivery logs) and
//!   [`DynamoSettings`]; keys in `dynamo/keys.rs`, documented in `docs/architecture.md`.
//! - [`sqs`]: [`SqsPublisher`], [`SqsQueues`] (the `QueueClient` port), [`process_batch`]
//!   with [`HandlerError`], [`DeadLetter`], [`SqsDlqBackend`] (the dead-letter operations).
//! - [`wiring`]: hub delivery assembled over these adapters (shared by the functions).
//! - [`metrics`]: [`RequestCounter`] and [`Operation`].
//! - [`error`]: [`DynamoError`], [`SqsError`].
#![warn(missing_docs)]

pub mod dynamo;
pub mod error;
pub mod metrics;
pub mod sqs;
pub mod wiring;

pub use dynamo::{DynamoSettings, DynamoStore};
pub use error::{DynamoError, SqsError};
pub use metrics::{Operation, RequestCounter, RequestSnapshot};
pub use sqs::{
    BatchReport, DeadLetter, HandlerError, ParsedMessage, PublishOutcome, SqsCallbackSender,
    SqsDlqBackend, SqsPublisher, SqsQueues, process_batch, process_batch_report,
    process_whole_batch,
};
