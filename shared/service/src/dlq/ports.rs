//! [`DlqBackend`]: what the dead-letter operations need from a queue service, beyond the
//! [`QueueClient`](crate::messaging::QueueClient) port the consumers use: discovery, system
//! attributes, typed message attributes, visibility release, purge and SQS's message-move
//! tasks.

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::messaging::{QueueClient, QueueCounts, QueueError, Receive, SendOutcome, attributes};

/// System attribute: when the message was first sent (milliseconds since the epoch).
pub const SENT_TIMESTAMP: &str = "SentTimestamp";
/// System attribute: how many times the message has been received.
pub const APPROXIMATE_RECEIVE_COUNT: &str = "ApproximateReceiveCount";
/// System attribute: when the message was first received (milliseconds since the epoch).
pub const APPROXIMATE_FIRST_RECEIVE_TIMESTAMP: &str = "ApproximateFirstReceiveTimestamp";

/// A dead-letter queue and the queue whose failures it holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeadLetterQueue {
    /// Its full name (with the deployment's prefix on AWS).
    pub name: String,
    /// The queue that redrives into it, when known: where `redrive` sends messages back.
    pub source: Option<String>,
}

/// A message attribute as SQS types it: `String`, `Number` (both as text) or `Binary`
/// (base64 here, so that an export line stays text).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttributeValue {
    /// `String`, `Number`, `Binary`, or one of those with a custom suffix (`String.x`).
    pub data_type: String,
    /// The value of a `String` or `Number` attribute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub string_value: Option<String>,
    /// The base64 of a `Binary` attribute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binary_value: Option<String>,
}

impl AttributeValue {
    /// A `String` attribute.
    pub fn string(value: impl Into<String>) -> Self {
        AttributeValue {
            data_type: "String".to_owned(),
            string_value: Some(value.into()),
            binary_value: None,
        }
    }

    /// The text of a `String`/`Number` attribute (the base64 of a binary one).
    pub fn text(&self) -> &str {
        self.string_value
            .as_deref()
            .or(self.binary_value.as_deref())
            .unwrap_or_default()
    }
}

/// Message attributes by name.
pub type Attributes = BTreeMap<String, AttributeValue>;

/// A message read from a queue, with everything needed to re-send it unchanged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DlqMessage {
    /// The queue's message id.
    pub message_id: String,
    /// The handle of this receive.
    pub receipt_handle: String,
    /// The body, exactly as sent.
    pub body: String,
    /// The message attributes.
    pub attributes: Attributes,
    /// System attributes by SQS name ([`SENT_TIMESTAMP`], [`APPROXIMATE_RECEIVE_COUNT`], ...).
    pub system_attributes: BTreeMap<String, String>,
}

impl DlqMessage {
    /// The text of message attribute `name`.
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes.get(name).map(AttributeValue::text)
    }

    /// The `failureReason` attribute.
    pub fn failure_reason(&self) -> Option<&str> {
        self.attribute(attributes::FAILURE_REASON)
    }

    /// The `eventType` attribute.
    pub fn event_type(&self) -> Option<&str> {
        self.attribute(attributes::EVENT_TYPE)
    }

    /// The event's id: the `eventId` attribute, else the envelope body's `eventId` field.
    /// A message re-sent (by a consumer dead-lettering it, or by a redrive) gets a new
    /// message id but keeps this one.
    pub fn event_id(&self) -> Option<String> {
        if let Some(id) = self
            .attribute(attributes::EVENT_ID)
            .filter(|id| !id.is_empty())
        {
            return Some(id.to_owned());
        }
        #[derive(Deserialize)]
        struct Envelope {
            #[serde(rename = "eventId")]
            event_id: Option<String>,
        }
        serde_json::from_str::<Envelope>(&self.body)
            .ok()
            .and_then(|e| e.event_id)
            .filter(|id| !id.is_empty())
    }

    /// What identifies the message's content across re-sends: its [`event_id`](Self::event_id),
    /// else (a body that is no envelope) a hash of the body, which a re-send keeps too.
    pub fn content_key(&self) -> String {
        match self.event_id() {
            Some(id) => format!("eventId:{id}"),
            None => {
                // Only compared within one process run: the std hasher is enough.
                use std::hash::{Hash, Hasher};
                let mut hasher = std::hash::DefaultHasher::new();
                self.body.hash(&mut hasher);
                format!("body:{:016x}", hasher.finish())
            }
        }
    }

    /// How many times it has been received.
    pub fn receive_count(&self) -> Option<u64> {
        self.system_attributes
            .get(APPROXIMATE_RECEIVE_COUNT)
            .and_then(|n| n.parse().ok())
    }

    /// When it was first sent.
    pub fn sent_at(&self) -> Option<OffsetDateTime> {
        millis(self.system_attributes.get(SENT_TIMESTAMP)?)
    }

    /// When it was first received.
    pub fn first_received_at(&self) -> Option<OffsetDateTime> {
        millis(
            self.system_attributes
                .get(APPROXIMATE_FIRST_RECEIVE_TIMESTAMP)?,
        )
    }

    /// The message to send to put it back unchanged (body and attributes).
    pub fn to_outgoing(&self) -> DlqOutgoing {
        DlqOutgoing {
            body: self.body.clone(),
            attributes: self.attributes.clone(),
        }
    }
}

fn millis(text: &str) -> Option<OffsetDateTime> {
    let ms: i128 = text.parse().ok()?;
    OffsetDateTime::from_unix_timestamp_nanos(ms * 1_000_000).ok()
}

/// A message to send with typed attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DlqOutgoing {
    /// The body.
    pub body: String,
    /// The message attributes.
    pub attributes: Attributes,
}

/// An exact picture of a queue, where the backend can give one (the local engine).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExactSummary {
    /// Visible and in-flight messages.
    pub counts: QueueCounts,
    /// When the oldest message was sent.
    pub oldest_sent_at: Option<OffsetDateTime>,
    /// `failureReason`s (None: no reason) with their counts, most frequent first.
    pub reasons: Vec<(Option<String>, u64)>,
}

/// State of an SQS message-move task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MoveTask {
    /// The handle to cancel it with (only while it runs).
    pub task_handle: Option<String>,
    /// `RUNNING`, `COMPLETED`, `CANCELLING`, `CANCELLED` or `FAILED`.
    pub status: String,
    /// The source queue's ARN.
    pub source_arn: Option<String>,
    /// The destination's ARN (none: each message's source queue).
    pub destination_arn: Option<String>,
    /// Messages moved so far.
    pub moved: u64,
    /// Messages to move when the task started.
    pub to_move: Option<u64>,
    /// Why it failed.
    pub failure_reason: Option<String>,
}

impl MoveTask {
    /// Whether the task has ended (completed, cancelled or failed).
    pub fn finished(&self) -> bool {
        !matches!(self.status.as_str(), "RUNNING" | "CANCELLING")
    }
}

/// Why a move-task call failed.
#[derive(Debug, thiserror::Error)]
pub enum MoveTaskError {
    /// The service has no move-task API (moto, the local engine): move messages manually.
    #[error("the message-move task API is not available here: {0}")]
    Unsupported(String),
    /// The task being followed is no longer listed.
    #[error("move task {task_handle} of {queue} not found")]
    NotFound {
        /// The task's handle.
        task_handle: String,
        /// Its source queue.
        queue: String,
    },
    /// The task ended `FAILED`.
    #[error("move task of {queue} FAILED after moving {moved}: {reason}")]
    Failed {
        /// Its source queue.
        queue: String,
        /// Messages it had moved.
        moved: u64,
        /// The reason SQS gave.
        reason: String,
    },
    /// The queue service failed.
    #[error(transparent)]
    Queue(#[from] QueueError),
}

/// The queue operations the dead-letter operations are written over. Names are full queue
/// names (see [`DlqBackend::resolve`]); every call is one request to the service, so a
/// wrapper counting calls counts requests.
///
/// A backend sits on the deployment's [`QueueClient`]: counts and deletes are that client's
/// (the defaults); the rest is what dead-letter work needs beyond it. Adapters implement
/// every required method; the move-task methods default to [`MoveTaskError::Unsupported`],
/// which is what a service without SQS's move-task API answers (callers then move messages
/// themselves).
#[async_trait]
pub trait DlqBackend: Send + Sync {
    /// The full name of `queue` (prefixed on AWS unless it already is).
    fn resolve(&self, queue: &str) -> String;

    /// The queue client the backend works through.
    fn queues(&self) -> &dyn QueueClient;

    /// The dead-letter queues of the deployment, by name.
    async fn dead_letter_queues(&self) -> Result<Vec<DeadLetterQueue>, QueueError>;

    /// Visible and in-flight counts.
    async fn counts(&self, queue: &str) -> Result<QueueCounts, QueueError> {
        self.queues().counts(queue).await
    }

    /// An exact summary, or `None` when the backend cannot compute one without receiving
    /// messages (callers then sample).
    async fn exact_summary(&self, queue: &str) -> Result<Option<ExactSummary>, QueueError>;

    /// Receives messages with all attributes, as `request` says.
    async fn receive(&self, queue: &str, request: Receive) -> Result<Vec<DlqMessage>, QueueError>;

    /// Sends up to 10 messages; refusals are per entry.
    async fn send_batch(
        &self,
        queue: &str,
        messages: &[DlqOutgoing],
    ) -> Result<SendOutcome, QueueError>;

    /// Deletes up to 10 received messages. A refused entry stays in the queue: a later run
    /// moves it again (a duplicate downstream, which consumers drop by eventId), never a loss.
    async fn delete_batch(
        &self,
        queue: &str,
        receipt_handles: &[String],
    ) -> Result<(), QueueError> {
        self.queues().delete_batch(queue, receipt_handles).await
    }

    /// Makes up to 10 received messages visible again at once (stale handles are ignored).
    async fn release_batch(
        &self,
        queue: &str,
        receipt_handles: &[String],
    ) -> Result<(), QueueError>;

    /// Deletes every message of the queue.
    async fn purge(&self, queue: &str) -> Result<(), QueueError>;

    /// Which of `message_ids` (as a send to `queue` answered them) are still in `queue`,
    /// visible or in flight, found without receiving anything (a receive would take them
    /// from the consumer and count against its `maxReceiveCount`). `None` when the service
    /// cannot look at single messages (SQS): callers then go by [`DlqBackend::counts`].
    async fn still_queued(
        &self,
        queue: &str,
        message_ids: &[String],
    ) -> Result<Option<BTreeSet<String>>, QueueError>;

    /// Starts moving every message of `source` to `destination` (none: each message's
    /// source queue) at most `rate` per second; returns the task handle.
    async fn start_move_task(
        &self,
        source: &str,
        _destination: Option<&str>,
        _rate: Option<u32>,
    ) -> Result<String, MoveTaskError> {
        Err(MoveTaskError::Unsupported(format!(
            "{source}: this backend has no move tasks"
        )))
    }

    /// The move tasks of `source`, most recent first.
    async fn move_tasks(&self, _source: &str) -> Result<Vec<MoveTask>, MoveTaskError> {
        Err(MoveTaskError::Unsupported(
            "this backend has no move tasks".into(),
        ))
    }

    /// Cancels a running move task; returns how many messages it had moved.
    async fn cancel_move_task(&self, _task_handle: &str) -> Result<u64, MoveTaskError> {
        Err(MoveTaskError::Unsupported(
            "this backend has no move tasks".into(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(id: &str, body: &str, event_id: Option<&str>) -> DlqMessage {
        DlqMessage {
            message_id: id.into(),
            receipt_handle: "h".into(),
            body: body.into(),
            attributes: event_id
                .map(|e| Attributes::from([("eventId".to_owned(), AttributeValue::string(e))]))
                .unwrap_or_default(),
            system_attributes: BTreeMap::new(),
        }
    }

    #[test]
    fn the_content_key_survives_a_resend_and_tells_events_apart() {
        let original = message("m-1", r#"{"eventId":"e-1","event":{}}"#, Some("e-1"));
        let resent = message("m-2", r#"{"eventId":"e-1","event":{}}"#, Some("e-1"));
        assert_eq!(original.content_key(), resent.content_key());
        assert_eq!(original.content_key(), "eventId:e-1");
        // The attribute wins; without it, the envelope's field.
        let body_only = message("m-3", r#"{"eventId":"e-1","event":{}}"#, None);
        assert_eq!(body_only.event_id().as_deref(), Some("e-1"));
        assert_eq!(body_only.content_key(), original.content_key());
        let other = message("m-4", r#"{"eventId":"e-2"}"#, Some("e-2"));
        assert_ne!(other.content_key(), original.content_key());
        // No envelope: the body's hash, the same for the same body only.
        let junk = message("m-5", "not json", None);
        let junk_again = message("m-6", "not json", Some(""));
        assert_eq!(junk.event_id(), None);
        assert!(junk.content_key().starts_with("body:"));
        assert_eq!(junk.content_key(), junk_again.content_key());
        assert_ne!(
            junk.content_key(),
            message("m-7", "other junk", None).content_key()
        );
    }
}
