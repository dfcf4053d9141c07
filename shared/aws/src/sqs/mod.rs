//! SQS adapters: [`SqsPublisher`] sends outbox events in batches; [`process_batch`] runs a
//! handler over an SQS-triggered Lambda batch with partial failures and a [`DeadLetter`]
//! queue for poison messages.

mod batch;
mod consumer;
mod dead_letter;
mod message;
mod publisher;

pub use consumer::{HandlerError, process_batch};
pub use dead_letter::{DeadLetter, FAILURE_REASON};
pub use message::{ACCEPTED_SCHEMA_MAJOR, ParsedMessage, parse_message};
pub use publisher::{FailedEvent, PublishOutcome, SqsPublisher};

/// The message attributes every published message carries (all of type `String`).
pub mod attributes {
    /// The TMF event type, e.g. `QuoteStateChangeEvent`.
    pub const EVENT_TYPE: &str = "eventType";
    /// The message schema version, e.g. `1.0`.
    pub const SCHEMA_VERSION: &str = "schemaVersion";
    /// The tenant of the aggregate (absent for catalog events).
    pub const TENANT: &str = "tenant";
    /// The correlation id of the request that caused the event.
    pub const CORRELATION_ID: &str = "correlationId";
}
