//! Sending a poison message to its dead-letter queue ourselves, with the reason, so it does
//! not use up the retries meant for transient failures.

use aws_lambda_events::event::sqs::{SqsMessage, SqsMessageAttribute};
use aws_sdk_sqs::Client;
use aws_sdk_sqs::primitives::Blob;
use aws_sdk_sqs::types::MessageAttributeValue;

use crate::error::SqsError;
use crate::metrics::{Operation, RequestCounter};

/// The attribute carrying why a message was dead-lettered.
pub const FAILURE_REASON: &str = q2c_service::messaging::attributes::FAILURE_REASON;
/// SQS allows at most 10 message attributes.
const MAX_ATTRIBUTES: usize = 10;
/// Reasons are cut to this many characters (attribute values count against the 256 KiB).
const MAX_REASON_CHARS: usize = 1024;

/// A dead-letter queue to which [`process_batch`](super::process_batch) sends poison
/// messages.
#[derive(Debug, Clone)]
pub struct DeadLetter {
    client: Client,
    queue_url: String,
    source_queue_url: Option<String>,
    requests: RequestCounter,
}

impl DeadLetter {
    /// The DLQ at `queue_url` (the `<name>-dlq` queue of the source queue).
    pub fn new(client: Client, queue_url: impl Into<String>) -> Self {
        DeadLetter {
            client,
            queue_url: queue_url.into(),
            source_queue_url: None,
            requests: RequestCounter::new(),
        }
    }

    /// Also knows the source queue, so that a handler's
    /// [`RetryAfter`](q2c_service::messaging::RetryAfter) can hide a returned message for
    /// longer than the queue's visibility timeout ([`DeadLetter::delay`]).
    #[must_use]
    pub fn with_source_queue(mut self, source_queue_url: impl Into<String>) -> Self {
        self.source_queue_url = Some(source_queue_url.into());
        self
    }

    /// Hides a returned message for `after` (`ChangeMessageVisibility` on the source queue,
    /// at most SQS's 12 hours); does nothing when the source queue is unknown.
    ///
    /// # Errors
    /// [`SqsError::Sdk`] when SQS refuses (e.g. a stale receipt handle).
    pub async fn delay(
        &self,
        message: &SqsMessage,
        after: std::time::Duration,
    ) -> Result<(), SqsError> {
        let (Some(source), Some(handle)) = (&self.source_queue_url, &message.receipt_handle) else {
            return Ok(());
        };
        let seconds = i32::try_from(after.as_secs().min(12 * 3600)).unwrap_or(43_200);
        self.requests.record(Operation::ChangeMessageVisibility);
        self.client
            .change_message_visibility()
            .queue_url(source)
            .receipt_handle(handle)
            .visibility_timeout(seconds)
            .send()
            .await
            .map_err(|e| SqsError::sdk(Operation::ChangeMessageVisibility, e))?;
        Ok(())
    }

    /// The AWS requests made, per operation.
    pub fn requests(&self) -> &RequestCounter {
        &self.requests
    }

    /// The queue URL.
    pub fn queue_url(&self) -> &str {
        &self.queue_url
    }

    /// Sends `message` (same body, its attributes) with a `failureReason` attribute.
    ///
    /// # Errors
    /// [`SqsError::Sdk`] when SQS refuses or cannot be reached.
    #[tracing::instrument(skip_all, fields(queue_url = %self.queue_url), err)]
    pub async fn send(&self, message: &SqsMessage, reason: &str) -> Result<(), SqsError> {
        let reason: String = reason.chars().take(MAX_REASON_CHARS).collect();
        let mut request = self
            .client
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(message.body.clone().unwrap_or_default())
            .message_attributes(FAILURE_REASON, string_attribute(&reason)?);
        // The reason takes one of the 10 attribute slots; originals fill the rest.
        let originals = message
            .message_attributes
            .iter()
            .filter(|(name, _)| name.as_str() != FAILURE_REASON)
            .filter_map(|(name, value)| convert(value).map(|v| (name, v)))
            .take(MAX_ATTRIBUTES - 1);
        for (name, value) in originals {
            request = request.message_attributes(name, value);
        }
        self.requests.record(Operation::SendMessage);
        request
            .send()
            .await
            .map_err(|e| SqsError::sdk(Operation::SendMessage, e))?;
        Ok(())
    }
}

fn string_attribute(value: &str) -> Result<MessageAttributeValue, SqsError> {
    MessageAttributeValue::builder()
        .data_type("String")
        .string_value(value)
        .build()
        .map_err(|e| SqsError::sdk(Operation::SendMessage, e))
}

/// An event-record attribute as a send attribute (`None` when it has no value).
fn convert(value: &SqsMessageAttribute) -> Option<MessageAttributeValue> {
    let data_type = value.data_type.clone().unwrap_or_else(|| "String".into());
    let builder = MessageAttributeValue::builder().data_type(data_type);
    let builder = match (&value.string_value, &value.binary_value) {
        (Some(text), _) => builder.string_value(text),
        (None, Some(bytes)) => builder.binary_value(Blob::new(bytes.0.clone())),
        (None, None) => return None,
    };
    builder.build().ok()
}
