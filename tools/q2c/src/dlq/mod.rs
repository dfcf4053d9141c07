//! `q2c dlq`: see, export, redrive and purge dead-letter queues without losing a message,
//! the same against AWS, an emulator (`--endpoint-url`) and a `q2c local` data directory.
//!
//! - [`backend`]: the [`DlqBackend`](backend::DlqBackend) trait the operations need.
//! - [`sqs`] and [`local`]: its implementations; [`counting`]: a request-counting wrapper.
//! - [`ops`]: the operations, written once over the trait; [`filter`]: redrive filters;
//!   [`progress`]: progress bars and summaries.
//! - [`cmd`]: the clap definition and dispatch.

pub mod backend;
pub mod cmd;
pub mod counting;
pub mod filter;
pub mod local;
pub mod ops;
pub mod progress;
pub mod sqs;
