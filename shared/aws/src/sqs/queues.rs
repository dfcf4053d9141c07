//! [`SqsQueues`]: the SQS adapter of the [`QueueClient`] port. Queue URLs are resolved by
//! name (with the optional prefix) through an [`SqsPublisher`], which caches them and counts
//! the requests; batch limits are checked before any request, so both adapters refuse the
//! same requests the same way.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_sqs::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sqs::operation::receive_message::ReceiveMessageError;
use aws_sdk_sqs::operation::send_message_batch::SendMessageBatchError;
use aws_sdk_sqs::types::{
    DeleteMessageBatchRequestEntry, Message, MessageAttributeValue, MessageSystemAttributeName,
    QueueAttributeName, SendMessageBatchRequestEntry,
};
use q2c_service::messaging::{
    MAX_BATCH, OutgoingMessage, QueueClient, QueueCounts, QueueError, Receive, ReceivedMessage,
    SendFailure, SendOutcome, check_batch,
};
use time::OffsetDateTime;

use super::publisher::SqsPublisher;
use crate::error::SqsError;
use crate::metrics::{Operation, RequestCounter};

/// The longest long poll SQS allows.
const MAX_WAIT: Duration = Duration::from_secs(20);

/// The [`QueueClient`] port over SQS. Cheap to clone.
#[derive(Debug, Clone)]
pub struct SqsQueues {
    publisher: SqsPublisher,
}

impl SqsQueues {
    /// Queues reached through `client`, named as in the SAM template.
    pub fn new(client: aws_sdk_sqs::Client) -> Self {
        SqsQueues::from_publisher(SqsPublisher::new(client))
    }

    /// Shares the URL cache, prefix and request counter of `publisher`.
    pub fn from_publisher(publisher: SqsPublisher) -> Self {
        SqsQueues { publisher }
    }

    /// Prepends `prefix` to every queue name (the stack name, or a test's unique id).
    #[must_use]
    pub fn with_prefix(self, prefix: impl Into<String>) -> Self {
        SqsQueues::from_publisher(self.publisher.with_prefix(prefix))
    }

    /// The publisher resolving the URLs (its counter has `GetQueueUrl`, `SendMessageBatch`).
    pub fn publisher(&self) -> &SqsPublisher {
        &self.publisher
    }

    async fn url(&self, queue: &str) -> Result<String, QueueError> {
        self.publisher.queue_url(queue).await.map_err(backend)
    }

    fn client(&self) -> &aws_sdk_sqs::Client {
        self.publisher.client()
    }

    /// Up to `max` messages of `queue` as SQS returns them (the batch limit checked first).
    pub(super) async fn receive_raw(
        &self,
        queue: &str,
        request: Receive,
    ) -> Result<Vec<Message>, QueueError> {
        check_batch("receive", request.max)?;
        let url = self.url(queue).await?;
        receive_messages(self.client(), &url, request)
            .await
            .map_err(|e| sdk("ReceiveMessage", e))
    }
}

/// One `SendMessageBatch` of `entries` (ids their batch positions) to the queue at `url`,
/// counted in `requests`, and what SQS did with each entry.
pub(super) async fn send_entries(
    client: &aws_sdk_sqs::Client,
    requests: &RequestCounter,
    url: String,
    entries: Vec<SendMessageBatchRequestEntry>,
) -> Result<SendOutcome, SdkError<SendMessageBatchError>> {
    requests.record(Operation::SendMessageBatch);
    let output = client
        .send_message_batch()
        .queue_url(url)
        .set_entries(Some(entries))
        .send()
        .await?;
    Ok(send_outcome(output))
}

fn backend(error: SqsError) -> QueueError {
    QueueError::Backend(Box::new(error))
}

/// An SDK failure of `operation` (named by its API name: the request counter only has the
/// operations the publisher and the stores make).
pub(super) fn sdk(
    operation: &'static str,
    error: impl std::error::Error + Send + Sync + 'static,
) -> QueueError {
    backend(SqsError::Sdk {
        operation,
        source: Box::new(error),
    })
}

fn string_value(value: &str) -> Result<MessageAttributeValue, QueueError> {
    MessageAttributeValue::builder()
        .data_type("String")
        .string_value(value)
        .build()
        .map_err(|e| sdk("SendMessageBatch", e))
}

/// The batch entries of `messages`, with their index as id.
pub(super) fn entries(
    messages: &[OutgoingMessage],
) -> Result<Vec<SendMessageBatchRequestEntry>, QueueError> {
    messages
        .iter()
        .enumerate()
        .map(|(index, message)| entry(index, message))
        .collect()
}

fn entry(
    index: usize,
    message: &OutgoingMessage,
) -> Result<SendMessageBatchRequestEntry, QueueError> {
    let mut entry = SendMessageBatchRequestEntry::builder()
        .id(index.to_string())
        .message_body(&message.body);
    for (name, value) in &message.attributes {
        entry = entry.message_attributes(name, string_value(value)?);
    }
    entry.build().map_err(|e| sdk("SendMessageBatch", e))
}

/// A received SQS message in port terms (string attributes only).
fn received(message: Message) -> ReceivedMessage {
    let system = |name: MessageSystemAttributeName| {
        message
            .attributes
            .as_ref()
            .and_then(|a| a.get(&name))
            .and_then(|v| v.parse::<i64>().ok())
    };
    let receive_count = system(MessageSystemAttributeName::ApproximateReceiveCount)
        .and_then(|n| u32::try_from(n).ok())
        .unwrap_or(1);
    let sent_at = system(MessageSystemAttributeName::SentTimestamp)
        .and_then(|ms| OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok())
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let attributes = message
        .message_attributes
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(name, value)| value.string_value.map(|v| (name, v)))
        .collect();
    ReceivedMessage {
        message_id: message.message_id.unwrap_or_default(),
        receipt_handle: message.receipt_handle.unwrap_or_default(),
        body: message.body.unwrap_or_default(),
        attributes,
        receive_count,
        sent_at,
    }
}

/// Whole seconds for SQS, which takes `i32` seconds.
fn seconds(duration: Duration) -> i32 {
    i32::try_from(duration.as_secs()).unwrap_or(i32::MAX)
}

/// One `ReceiveMessage` as `request` says, with every message and system attribute,
/// waiting at most SQS's longest long poll: the request of [`SqsQueues`] and of
/// [`SqsDlqBackend`](super::SqsDlqBackend),
/// which map the messages differently (string attributes vs typed, lossless ones).
///
/// # Errors
/// The SDK's error of the call.
pub async fn receive_messages(
    client: &aws_sdk_sqs::Client,
    url: &str,
    request: Receive,
) -> Result<Vec<Message>, SdkError<ReceiveMessageError>> {
    let output = client
        .receive_message()
        .queue_url(url)
        .max_number_of_messages(i32::try_from(request.max).unwrap_or(10))
        .visibility_timeout(seconds(request.visibility))
        .wait_time_seconds(seconds(request.wait.min(MAX_WAIT)))
        .message_attribute_names("All")
        .message_system_attribute_names(MessageSystemAttributeName::All)
        .send()
        .await?;
    Ok(output.messages.unwrap_or_default())
}

#[async_trait]
impl QueueClient for SqsQueues {
    #[tracing::instrument(skip_all, fields(queue, entries = messages.len()), err)]
    async fn send_batch(
        &self,
        queue: &str,
        messages: &[OutgoingMessage],
    ) -> Result<SendOutcome, QueueError> {
        check_batch("send", messages.len())?;
        let url = self.url(queue).await?;
        let entries = entries(messages)?;
        send_entries(self.client(), self.publisher.requests(), url, entries)
            .await
            .map_err(|e| sdk("SendMessageBatch", e))
    }

    #[tracing::instrument(skip(self), err)]
    async fn receive(
        &self,
        queue: &str,
        request: Receive,
    ) -> Result<Vec<ReceivedMessage>, QueueError> {
        let messages = self.receive_raw(queue, request).await?;
        Ok(messages.into_iter().map(received).collect())
    }

    #[tracing::instrument(skip_all, fields(queue, entries = receipt_handles.len()), err)]
    async fn delete_batch(
        &self,
        queue: &str,
        receipt_handles: &[String],
    ) -> Result<(), QueueError> {
        check_batch("delete", receipt_handles.len())?;
        let url = self.url(queue).await?;
        let entries = receipt_handles
            .iter()
            .enumerate()
            .map(|(index, handle)| {
                DeleteMessageBatchRequestEntry::builder()
                    .id(index.to_string())
                    .receipt_handle(handle)
                    .build()
                    .map_err(|e| sdk("DeleteMessageBatch", e))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let output = self
            .client()
            .delete_message_batch()
            .queue_url(url)
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(|e| sdk("DeleteMessageBatch", e))?;
        // A stale handle (the message was received again, or is gone) is not an error for
        // at-least-once consumers: the message is handled again or already deleted.
        for failure in output.failed.iter().take(MAX_BATCH) {
            tracing::debug!(code = %failure.code, "delete entry refused");
        }
        Ok(())
    }

    #[tracing::instrument(skip(self, receipt_handle), err)]
    async fn change_visibility(
        &self,
        queue: &str,
        receipt_handle: &str,
        timeout: Duration,
    ) -> Result<(), QueueError> {
        let url = self.url(queue).await?;
        let changed = self
            .client()
            .change_message_visibility()
            .queue_url(url)
            .receipt_handle(receipt_handle)
            .visibility_timeout(seconds(timeout))
            .send()
            .await;
        match changed {
            Ok(_) => Ok(()),
            Err(error) => match error.code() {
                Some(code) if code.contains("NotInflight") || code.contains("ReceiptHandle") => {
                    Err(QueueError::NotInFlight)
                }
                _ => Err(sdk("ChangeMessageVisibility", error)),
            },
        }
    }

    #[tracing::instrument(skip(self), err)]
    async fn counts(&self, queue: &str) -> Result<QueueCounts, QueueError> {
        let url = self.url(queue).await?;
        let output = self
            .client()
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
            .send()
            .await
            .map_err(|e| sdk("GetQueueAttributes", e))?;
        let attributes = output.attributes.unwrap_or_default();
        let count = |name: QueueAttributeName| {
            attributes
                .get(&name)
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        };
        Ok(QueueCounts {
            visible: count(QueueAttributeName::ApproximateNumberOfMessages),
            in_flight: count(QueueAttributeName::ApproximateNumberOfMessagesNotVisible),
        })
    }
}

/// The per-entry result of a `SendMessageBatch` whose entry ids are their batch positions.
pub(crate) fn send_outcome(
    output: aws_sdk_sqs::operation::send_message_batch::SendMessageBatchOutput,
) -> SendOutcome {
    let index = |id: &str| id.parse::<usize>().ok();
    SendOutcome {
        sent: output
            .successful
            .into_iter()
            .filter_map(|s| Some((index(&s.id)?, s.message_id)))
            .collect(),
        failed: output
            .failed
            .into_iter()
            .filter_map(|f| {
                Some(SendFailure {
                    index: index(&f.id)?,
                    code: f.code,
                    sender_fault: f.sender_fault,
                })
            })
            .collect(),
    }
}
