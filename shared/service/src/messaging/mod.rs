//! Messaging, split by job:
//! - [`queue`]: the [`QueueClient`] port with SQS semantics, the queue names of the SAM
//!   template, message attributes and limits, [`render_message`];
//! - [`consumer`]: the transport-independent handler contract ([`ParsedMessage`],
//!   [`HandlerError`], [`handle_one`], [`handle_batch`]) shared by the Lambda batch consumer
//!   and the local poller.
//!
//! Both are re-exported here (`q2c_service::messaging::QueueClient`).

pub mod consumer;
pub mod queue;

pub use consumer::*;
pub use queue::*;
