//! Dead-letter operations: see, export, redrive and purge dead-letter queues without losing a
//! message, written once over the [`DlqBackend`] port (SQS in `q2c-aws`, the embedded engine
//! of a `q2c local` data directory in `q2c-local`). `q2c dlq` parses flags and presents.
//!
//! - [`ports`]: [`DlqBackend`], the messages and attributes it exchanges, its errors.
//! - [`ops`]: the operations (list, peek, export, replay, purge, following SQS move tasks)
//!   and the [`Scan`] that reads a queue once; they report through [`Progress`].
//! - [`redrive`](mod@redrive): the redrive of `q2c dlq redrive`: a snapshot by content key, moved once,
//!   waited for until it settles, the refused-again ones reported.
//! - [`filter`]: which messages a redrive moves.

pub mod filter;
pub mod ops;
pub mod ports;
pub mod redrive;

pub use filter::{Filter, matches_all};
pub use ops::{DlqError, Progress, QueueReport, Scan, Summary};
pub use ports::{
    APPROXIMATE_FIRST_RECEIVE_TIMESTAMP, APPROXIMATE_RECEIVE_COUNT, AttributeValue, Attributes,
    DeadLetterQueue, DlqBackend, DlqMessage, DlqOutgoing, ExactSummary, MoveTask, MoveTaskError,
    SENT_TIMESTAMP,
};
pub use redrive::{RedriveOptions, RedriveReport, Refusal, SettleCheck, redrive};
