//! The queue side of messaging: the [`QueueClient`] port with SQS semantics (SQS on AWS, the
//! embedded SQLite engine locally), the queue names of the SAM template, the message
//! attributes and size limits, and [`render_message`] (an outgoing message in a schema major).

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::Value;
use time::OffsetDateTime;

use crate::event_versions::{SchemaMajor, render_envelope};
use crate::store::BoxError;

/// The queues of the SAM template (each has a `<name>-dlq`, see [`dlq_name`]).
pub mod queues {
    /// Catalog price changes, consumed by the price fan-out.
    pub const PRICING_CHANGES: &str = "pricing-changes";
    /// The price fan-out's continuations (one page of one segment each), consumed by the
    /// price fan-out through a mapping of its own (no batching window, one message a batch).
    pub const PRICING_CONTINUATIONS: &str = "pricing-continuations";
    /// Product orders, consumed by the order dispatch.
    pub const ORDERS: &str = "orders";
    /// TMF648 quote events (`Quote*Event`), written by the outbox relay.
    pub const QUOTE_EVENTS: &str = "quote-events";
    /// Billing's queue: TMF637 product events (from the outbox) and catalog price events
    /// (the catalog hub's built-in subscriber).
    pub const BILLING_UPDATES: &str = "billing-updates";
    /// Every source queue.
    pub const ALL: [&str; 4] = [PRICING_CHANGES, ORDERS, QUOTE_EVENTS, BILLING_UPDATES];
    /// Where the outbox relay's stream mapping sends records it gave up on (AWS only).
    pub const OUTBOX_RELAY_FAILURES: &str = "outbox-relay-failures";
    /// Every queue the deployment consumes or produces for itself: the source queues and
    /// the relay's failure destination (their `-dlq`s too, by suffix). A hub callback may
    /// never name one (`CallbackPolicy`); add a new system queue here.
    pub const SYSTEM: [&str; 6] = [
        PRICING_CHANGES,
        PRICING_CONTINUATIONS,
        ORDERS,
        QUOTE_EVENTS,
        BILLING_UPDATES,
        OUTBOX_RELAY_FAILURES,
    ];
}

/// The dead-letter queue of `queue`: `<queue>-dlq`.
pub fn dlq_name(queue: &str) -> String {
    format!("{queue}-dlq")
}

/// Message attributes the relay sets (all of SQS type `String`) and the DLQ reason.
pub mod attributes {
    /// The TMF event type, e.g. `QuoteStateChangeEvent`.
    pub const EVENT_TYPE: &str = "eventType";
    /// The message schema version, e.g. `5.0` (see [`crate::event_versions`]).
    pub const SCHEMA_VERSION: &str = "schemaVersion";
    /// The tenant of the aggregate (absent for catalog events).
    pub const TENANT: &str = "tenant";
    /// The correlation id of the request that caused the event.
    pub const CORRELATION_ID: &str = "correlationId";
    /// The outbox event id (stable across re-sends: consumers de-duplicate on it).
    pub const EVENT_ID: &str = "eventId";
    /// Which API's hub subscribers an event is for (`ordering`), copied from the envelope's
    /// `hubApi` field; absent on quote events, which are for the quote hub.
    pub const HUB_API: &str = "hubApi";
    /// The billing account of a product event (`event.product.billingAccount.id`).
    pub const BILLING_ACCOUNT: &str = "billingAccount";
    /// The per-product sequence of a product event (the envelope's `sequence`): billing
    /// applies a product's events in this order and skips one it has already applied.
    pub const SEQUENCE: &str = "sequence";
    /// Why a message was dead-lettered.
    pub const FAILURE_REASON: &str = "failureReason";
}

/// Most entries of one send, receive or delete batch (an SQS limit).
pub const MAX_BATCH: usize = 10;
/// Most bytes of one message, body plus attributes (SQS's 1 MiB since 2025; the embedded
/// queue of `q2c local` has the same).
pub const MAX_MESSAGE_BYTES: usize = 1024 * 1024;
/// Most bytes of all messages of one send batch together (an SQS limit).
pub const MAX_BATCH_BYTES: usize = 1024 * 1024;

/// A message to send.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OutgoingMessage {
    /// The body (a TMF event envelope as JSON).
    pub body: String,
    /// String message attributes (SQS allows at most 10).
    pub attributes: BTreeMap<String, String>,
}

impl OutgoingMessage {
    /// A message of `body` without attributes (a raw event as a listener would enqueue it).
    pub fn with_body(body: impl Into<String>) -> Self {
        OutgoingMessage {
            body: body.into(),
            attributes: BTreeMap::new(),
        }
    }

    /// Its size as SQS counts it: the body, and each attribute's name, type (`String`) and
    /// value.
    pub fn bytes(&self) -> usize {
        self.body.len()
            + self
                .attributes
                .iter()
                .map(|(k, v)| k.len() + v.len() + "String".len())
                .sum::<usize>()
    }
}

/// A received message; delete it with its `receipt_handle` once handled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedMessage {
    /// The queue's message id.
    pub message_id: String,
    /// The handle of this receive (changes on every receive).
    pub receipt_handle: String,
    /// The body.
    pub body: String,
    /// String message attributes.
    pub attributes: BTreeMap<String, String>,
    /// How many times the message has been received, this time included.
    pub receive_count: u32,
    /// When it was sent.
    pub sent_at: OffsetDateTime,
}

/// An entry of a send batch the queue refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendFailure {
    /// Position of the entry in the batch.
    pub index: usize,
    /// The queue's error code.
    pub code: String,
    /// Whether the queue blamed the request (re-sending it unchanged will not help).
    pub sender_fault: bool,
}

/// The per-entry result of [`QueueClient::send_batch`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SendOutcome {
    /// `(position in the batch, message id)` of every accepted entry.
    pub sent: Vec<(usize, String)>,
    /// The refused entries.
    pub failed: Vec<SendFailure>,
}

/// Messages of a queue by state (approximate on SQS).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct QueueCounts {
    /// Ready to be received.
    pub visible: u64,
    /// Received and not yet deleted nor visible again.
    pub in_flight: u64,
}

/// What a receive asks for: up to `max` (1..=[`MAX_BATCH`]) visible messages, each hidden for
/// `visibility` once received, waiting up to `wait` (at most 20 s) for one when none is
/// visible. Named fields: two durations side by side are easy to swap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Receive {
    /// How many messages at most (1..=[`MAX_BATCH`]).
    pub max: usize,
    /// How long each received message stays hidden.
    pub visibility: Duration,
    /// How long to wait for a message when none is visible (long polling).
    pub wait: Duration,
}

impl Receive {
    /// A full batch ([`MAX_BATCH`]), each message hidden for `visibility`, not waiting.
    #[must_use]
    pub const fn batch(visibility: Duration) -> Self {
        Self {
            max: MAX_BATCH,
            visibility,
            wait: Duration::ZERO,
        }
    }

    /// The same request, waiting up to `wait` for a message when none is visible.
    #[must_use]
    pub const fn waiting(self, wait: Duration) -> Self {
        Self { wait, ..self }
    }
}

/// Why a queue call failed as a whole.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// No queue with this name.
    #[error("queue `{0}` does not exist")]
    UnknownQueue(String),
    /// The request breaks a limit (batch size, receive count, ...); it was not attempted.
    #[error("invalid queue request: {0}")]
    InvalidRequest(String),
    /// The receipt handle names no message currently in flight.
    #[error("receipt handle is not of a message in flight")]
    NotInFlight,
    /// The backend failed; retrying may help.
    #[error("queue backend failed")]
    Backend(#[source] BoxError),
}

/// A queue service with SQS semantics: at-least-once delivery, visibility timeouts, receive
/// counts and redrive to `<name>-dlq` after the queue's `maxReceiveCount`.
///
/// An implementation keeps those semantics (the consumers' retries and dead letters depend
/// on them), refuses batches [`check_batch`] refuses before any I/O, answers refusals of
/// single entries in [`SendOutcome::failed`] and an unknown queue as
/// [`QueueError::UnknownQueue`].
#[async_trait]
pub trait QueueClient: Send + Sync {
    /// Sends up to [`MAX_BATCH`] messages; single refusals are in [`SendOutcome::failed`].
    ///
    /// # Errors
    /// [`QueueError::InvalidRequest`] for an empty or oversized batch; others as named.
    async fn send_batch(
        &self,
        queue: &str,
        messages: &[OutgoingMessage],
    ) -> Result<SendOutcome, QueueError>;

    /// Receives visible messages as `request` says ([`Receive`]).
    ///
    /// # Errors
    /// [`QueueError::InvalidRequest`] when `request.max` is out of range; others as named.
    async fn receive(
        &self,
        queue: &str,
        request: Receive,
    ) -> Result<Vec<ReceivedMessage>, QueueError>;

    /// Deletes received messages (up to [`MAX_BATCH`]); a stale handle is ignored.
    async fn delete_batch(&self, queue: &str, receipt_handles: &[String])
    -> Result<(), QueueError>;

    /// Makes a received message visible again after `timeout` from now (0: at once).
    ///
    /// # Errors
    /// [`QueueError::NotInFlight`] when the message is not in flight under this handle.
    async fn change_visibility(
        &self,
        queue: &str,
        receipt_handle: &str,
        timeout: Duration,
    ) -> Result<(), QueueError>;

    /// How many messages are visible and in flight.
    async fn counts(&self, queue: &str) -> Result<QueueCounts, QueueError>;
}

/// Checks a batch size against [`MAX_BATCH`] (adapters call it before any I/O).
///
/// # Errors
/// [`QueueError::InvalidRequest`] when `len` is 0 or above 10.
pub fn check_batch(what: &str, len: usize) -> Result<(), QueueError> {
    if (1..=MAX_BATCH).contains(&len) {
        Ok(())
    } else {
        Err(QueueError::InvalidRequest(format!(
            "{what} takes 1 to {MAX_BATCH} entries, got {len}"
        )))
    }
}

/// An outgoing message built in the internal form as `major` sends it: the body rendered
/// ([`render_envelope`]) and the `schemaVersion` attribute set. A body that is not JSON is
/// left as it is.
pub fn render_message(message: &OutgoingMessage, major: SchemaMajor) -> OutgoingMessage {
    let body = match serde_json::from_str::<Value>(&message.body) {
        Ok(envelope) => render_envelope(&envelope, major).to_string(),
        Err(_) => message.body.clone(),
    };
    let mut attributes = message.attributes.clone();
    attributes.insert(
        attributes::SCHEMA_VERSION.to_owned(),
        major.version().to_owned(),
    );
    OutgoingMessage { body, attributes }
}
