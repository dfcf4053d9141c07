//! SQS adapters: [`SqsPublisher`] sends outbox events in batches; [`process_batch`] runs a
//! handler over an SQS-triggered Lambda batch with partial failures and a [`DeadLetter`]
//! queue for poison messages; [`SqsQueues`] is the SQS adapter of the
//! [`QueueClient`](q2c_service::messaging::QueueClient) port; [`SqsCallbackSender`] delivers
//! hub events to subscriber queues (by ARN or URL) and HTTP listeners; [`SqsDlqBackend`] is
//! the dead-letter operations' port (`q2c dlq`).

mod batch;
mod callback;
mod consumer;
mod dead_letter;
mod dlq;
mod message;
mod publisher;
mod queues;

pub use callback::SqsCallbackSender;
pub use consumer::{
    BatchReport, HandlerError, process_batch, process_batch_report, process_whole_batch,
};
pub use dead_letter::{DeadLetter, FAILURE_REASON};
pub use dlq::SqsDlqBackend;
pub use message::{ACCEPTED_SCHEMA_MAJORS, ParsedMessage, parse_message};
pub use publisher::{FailedEvent, PublishOutcome, SqsPublisher};
pub use queues::{SqsQueues, receive_messages};

/// The message attributes every published message carries (all of type `String`), plus
/// `failureReason` on dead-lettered ones; defined with the transport-independent contract.
pub use q2c_service::messaging::attributes;
