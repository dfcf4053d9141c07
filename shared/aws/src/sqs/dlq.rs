//! [`SqsDlqBackend`]: the dead-letter operations' [`DlqBackend`] port on SQS, over the
//! consumers' adapter [`SqsQueues`]: its URL cache (which `ListQueues` answers also fill) and
//! request counter, its counts and batch delete; ARNs are looked up once per queue. A DLQ is found as the
//! target of a queue's `RedrivePolicy` or by its `-dlq` name. Messages are received and sent
//! as [`SqsQueues`] does (one [`receive_messages`](super::receive_messages), the one
//! `ReceiveMessage` request of the crate, and one `send_entries`); unlike the consumers' port, attributes
//! keep their SQS types, so a message can be moved or exported without loss.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use aws_sdk_sqs::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sqs::primitives::Blob;
use aws_sdk_sqs::types::{
    ChangeMessageVisibilityBatchRequestEntry, Message, MessageAttributeValue, QueueAttributeName,
    SendMessageBatchRequestEntry,
};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use q2c_service::dlq::{
    AttributeValue, DeadLetterQueue, DlqBackend, DlqMessage, DlqOutgoing, ExactSummary, MoveTask,
    MoveTaskError,
};
use q2c_service::messaging::{QueueClient, QueueError, Receive, SendOutcome, check_batch};

use super::SqsQueues;
use super::publisher::SqsPublisher;
use super::queues::{sdk, send_entries};
use crate::metrics::RequestCounter;

/// The dead-letter queues of a deployment on SQS. Cheap to clone (clones share caches).
#[derive(Debug, Clone)]
pub struct SqsDlqBackend {
    /// The consumers' adapter (URL cache, client, request counter), without a prefix: names
    /// here are full.
    queues: SqsQueues,
    prefix: String,
    only: Option<Vec<String>>,
    arns: Arc<Mutex<HashMap<String, String>>>,
}

impl SqsDlqBackend {
    /// Queues named `<prefix><name>` reached through `client`; `only` (full or unprefixed
    /// names) lists the DLQs to show instead of discovering them.
    pub fn new(client: aws_sdk_sqs::Client, prefix: &str, only: Option<Vec<String>>) -> Self {
        let mut backend = SqsDlqBackend {
            queues: SqsQueues::new(client),
            prefix: prefix.to_owned(),
            only: None,
            arns: Arc::default(),
        };
        backend.only = only.map(|names| names.iter().map(|n| backend.resolve(n)).collect());
        backend
    }

    /// The requests counted so far (`GetQueueUrl` and `SendMessageBatch`).
    pub fn requests(&self) -> &RequestCounter {
        self.publisher().requests()
    }

    fn publisher(&self) -> &SqsPublisher {
        self.queues.publisher()
    }

    fn client(&self) -> &aws_sdk_sqs::Client {
        self.publisher().client()
    }

    async fn url(&self, queue: &str) -> Result<String, QueueError> {
        self.publisher()
            .queue_url(queue)
            .await
            .map_err(|e| QueueError::Backend(Box::new(e)))
    }

    async fn attribute(
        &self,
        queue: &str,
        name: QueueAttributeName,
    ) -> Result<Option<String>, QueueError> {
        let url = self.url(queue).await?;
        let output = self
            .client()
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(name.clone())
            .send()
            .await
            .map_err(|e| sdk("GetQueueAttributes", e))?;
        Ok(output.attributes.unwrap_or_default().remove(&name))
    }

    async fn arn(&self, queue: &str) -> Result<String, QueueError> {
        if let Some(arn) = self.arns.lock().ok().and_then(|a| a.get(queue).cloned()) {
            return Ok(arn);
        }
        let arn = self
            .attribute(queue, QueueAttributeName::QueueArn)
            .await?
            .ok_or_else(|| QueueError::UnknownQueue(format!("{queue} (it has no ARN)")))?;
        if let Ok(mut arns) = self.arns.lock() {
            arns.insert(queue.to_owned(), arn.clone());
        }
        Ok(arn)
    }

    /// Every queue under the prefix (paginated `ListQueues`), by name; their URLs are cached.
    async fn queue_names(&self) -> Result<Vec<String>, QueueError> {
        let mut names = Vec::new();
        let mut token = None;
        loop {
            let output = self
                .client()
                .list_queues()
                .queue_name_prefix(&self.prefix)
                .max_results(1000)
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| sdk("ListQueues", e))?;
            for url in output.queue_urls.unwrap_or_default() {
                if let Some(name) = url.rsplit('/').next().filter(|n| !n.is_empty()) {
                    self.publisher().remember_url(name, &url);
                    names.push(name.to_owned());
                }
            }
            token = output.next_token;
            if token.is_none() {
                break;
            }
        }
        names.sort();
        Ok(names)
    }
}

/// An SDK error text with its service code and message (the SDK's own is "service error").
fn describe<E: ProvideErrorMetadata>(operation: &str, error: &SdkError<E>) -> String
where
    SdkError<E>: std::error::Error,
{
    match (error.code(), error.message()) {
        (Some(code), Some(message)) => format!("SQS {operation}: {code}: {message}"),
        (Some(code), None) => format!("SQS {operation}: {code}"),
        _ => format!(
            "SQS {operation}: {}",
            aws_sdk_sqs::error::DisplayErrorContext(error)
        ),
    }
}

/// Whether an error says the service does not know the operation (moto, older emulators).
fn unsupported<E: ProvideErrorMetadata>(error: &SdkError<E>) -> bool {
    let code = error.code().unwrap_or_default();
    let message = error.message().unwrap_or_default().to_ascii_lowercase();
    matches!(
        code,
        "UnsupportedOperation" | "InvalidAction" | "UnknownOperation" | "NotImplemented"
    ) || message.contains("not yet implemented")
        || message.contains("not implemented")
        || message.contains("unknown operation")
        || error.raw_response().is_some_and(|r| {
            // SQS always answers in its JSON protocol; an HTML error page is an emulator
            // that does not implement the action (moto answers 500 with one).
            let html = r
                .headers()
                .get("content-type")
                .is_some_and(|t| t.starts_with("text/html"));
            html || matches!(r.status().as_u16(), 404 | 501)
        })
}

/// A move-task call's error: [`MoveTaskError::Unsupported`] where the service lacks the API.
fn move_task_error<E>(operation: &'static str, error: SdkError<E>) -> MoveTaskError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    if unsupported(&error) {
        MoveTaskError::Unsupported(describe(operation, &error))
    } else {
        MoveTaskError::Queue(sdk(operation, error))
    }
}

fn attribute_value(value: MessageAttributeValue) -> AttributeValue {
    AttributeValue {
        data_type: value.data_type,
        string_value: value.string_value,
        binary_value: value.binary_value.map(|b| BASE64.encode(b.as_ref())),
    }
}

fn to_sdk_attribute(
    name: &str,
    value: &AttributeValue,
) -> Result<MessageAttributeValue, QueueError> {
    let mut builder = MessageAttributeValue::builder().data_type(&value.data_type);
    if let Some(text) = &value.string_value {
        builder = builder.string_value(text);
    }
    if let Some(base64) = &value.binary_value {
        let bytes = BASE64.decode(base64).map_err(|e| {
            QueueError::InvalidRequest(format!("attribute `{name}` is not base64: {e}"))
        })?;
        builder = builder.binary_value(Blob::new(bytes));
    }
    builder.build().map_err(|e| sdk("SendMessageBatch", e))
}

fn dlq_message(message: Message) -> DlqMessage {
    DlqMessage {
        message_id: message.message_id.unwrap_or_default(),
        receipt_handle: message.receipt_handle.unwrap_or_default(),
        body: message.body.unwrap_or_default(),
        attributes: message
            .message_attributes
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| (k, attribute_value(v)))
            .collect(),
        system_attributes: message
            .attributes
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| (k.as_str().to_owned(), v))
            .collect::<BTreeMap<_, _>>(),
    }
}

/// The target queue name of a `RedrivePolicy` JSON (`deadLetterTargetArn`'s last part).
fn redrive_target(policy: &str) -> Option<String> {
    let policy: serde_json::Value = serde_json::from_str(policy).ok()?;
    let arn = policy.get("deadLetterTargetArn")?.as_str()?;
    arn.rsplit(':').next().map(str::to_owned)
}

fn move_task(result: aws_sdk_sqs::types::ListMessageMoveTasksResultEntry) -> MoveTask {
    MoveTask {
        task_handle: result.task_handle,
        status: result.status.unwrap_or_default(),
        source_arn: result.source_arn,
        destination_arn: result.destination_arn,
        moved: u64::try_from(result.approximate_number_of_messages_moved).unwrap_or(0),
        to_move: result
            .approximate_number_of_messages_to_move
            .and_then(|n| u64::try_from(n).ok()),
        failure_reason: result.failure_reason,
    }
}

/// Entry ids `0..n` for a batch request (entry ids are positions).
fn ids(n: usize) -> impl Iterator<Item = String> {
    (0..n).map(|i| i.to_string())
}

#[async_trait]
impl DlqBackend for SqsDlqBackend {
    fn resolve(&self, queue: &str) -> String {
        if queue.starts_with(&self.prefix) {
            queue.to_owned()
        } else {
            format!("{}{queue}", self.prefix)
        }
    }

    fn queues(&self) -> &dyn QueueClient {
        &self.queues
    }

    async fn dead_letter_queues(&self) -> Result<Vec<DeadLetterQueue>, QueueError> {
        let names = self.queue_names().await?;
        let mut source_of: HashMap<String, String> = HashMap::new();
        for name in &names {
            let policy = self
                .attribute(name, QueueAttributeName::RedrivePolicy)
                .await?;
            if let Some(target) = policy.as_deref().and_then(redrive_target) {
                source_of.insert(target, name.clone());
            }
        }
        let dlqs: Vec<String> = match &self.only {
            Some(only) => only.clone(),
            None => names
                .into_iter()
                .filter(|n| source_of.contains_key(n) || n.ends_with("-dlq"))
                .collect(),
        };
        Ok(dlqs
            .into_iter()
            .map(|name| DeadLetterQueue {
                source: source_of.get(&name).cloned(),
                name,
            })
            .collect())
    }

    /// SQS counts are approximate and reasons need the messages: callers sample.
    async fn exact_summary(&self, _queue: &str) -> Result<Option<ExactSummary>, QueueError> {
        Ok(None)
    }

    async fn receive(&self, queue: &str, request: Receive) -> Result<Vec<DlqMessage>, QueueError> {
        let messages = self.queues.receive_raw(queue, request).await?;
        Ok(messages.into_iter().map(dlq_message).collect())
    }

    async fn send_batch(
        &self,
        queue: &str,
        messages: &[DlqOutgoing],
    ) -> Result<SendOutcome, QueueError> {
        check_batch("send", messages.len())?;
        let url = self.url(queue).await?;
        let mut entries = Vec::with_capacity(messages.len());
        for (id, message) in ids(messages.len()).zip(messages) {
            let mut entry = SendMessageBatchRequestEntry::builder()
                .id(id)
                .message_body(&message.body);
            for (name, value) in &message.attributes {
                entry = entry.message_attributes(name, to_sdk_attribute(name, value)?);
            }
            entries.push(entry.build().map_err(|e| sdk("SendMessageBatch", e))?);
        }
        send_entries(self.client(), self.requests(), url, entries)
            .await
            .map_err(|e| sdk("SendMessageBatch", e))
    }

    async fn release_batch(
        &self,
        queue: &str,
        receipt_handles: &[String],
    ) -> Result<(), QueueError> {
        check_batch("change visibility", receipt_handles.len())?;
        let url = self.url(queue).await?;
        let entries = ids(receipt_handles.len())
            .zip(receipt_handles)
            .map(|(id, handle)| {
                ChangeMessageVisibilityBatchRequestEntry::builder()
                    .id(id)
                    .receipt_handle(handle)
                    .visibility_timeout(0)
                    .build()
                    .map_err(|e| sdk("ChangeMessageVisibilityBatch", e))
            })
            .collect::<Result<Vec<_>, _>>()?;
        // Stale handles (visible again already) fail per entry, harmlessly.
        self.client()
            .change_message_visibility_batch()
            .queue_url(url)
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(|e| sdk("ChangeMessageVisibilityBatch", e))?;
        Ok(())
    }

    async fn purge(&self, queue: &str) -> Result<(), QueueError> {
        let url = self.url(queue).await?;
        self.client()
            .purge_queue()
            .queue_url(url)
            .send()
            .await
            .map_err(|e| sdk("PurgeQueue", e))?;
        Ok(())
    }

    /// SQS shows a message only to a receive, which would take it from the consumer and
    /// count against its `maxReceiveCount`: callers go by the queue's counts instead.
    async fn still_queued(
        &self,
        _queue: &str,
        _message_ids: &[String],
    ) -> Result<Option<BTreeSet<String>>, QueueError> {
        Ok(None)
    }

    async fn start_move_task(
        &self,
        source: &str,
        destination: Option<&str>,
        rate: Option<u32>,
    ) -> Result<String, MoveTaskError> {
        let source_arn = self.arn(source).await?;
        let destination_arn = match destination {
            Some(queue) => Some(self.arn(queue).await?),
            None => None,
        };
        let output = self
            .client()
            .start_message_move_task()
            .source_arn(source_arn)
            .set_destination_arn(destination_arn)
            .set_max_number_of_messages_per_second(rate.and_then(|r| i32::try_from(r).ok()))
            .send()
            .await
            .map_err(|e| move_task_error("StartMessageMoveTask", e))?;
        output.task_handle.ok_or_else(|| {
            MoveTaskError::Queue(QueueError::InvalidRequest(format!(
                "SQS started a move task of {source} without a task handle"
            )))
        })
    }

    async fn move_tasks(&self, source: &str) -> Result<Vec<MoveTask>, MoveTaskError> {
        let source_arn = self.arn(source).await?;
        let output = self
            .client()
            .list_message_move_tasks()
            .source_arn(source_arn)
            .max_results(10)
            .send()
            .await
            .map_err(|e| move_task_error("ListMessageMoveTasks", e))?;
        Ok(output
            .results
            .unwrap_or_default()
            .into_iter()
            .map(move_task)
            .collect())
    }

    async fn cancel_move_task(&self, task_handle: &str) -> Result<u64, MoveTaskError> {
        let output = self
            .client()
            .cancel_message_move_task()
            .task_handle(task_handle)
            .send()
            .await
            .map_err(|e| move_task_error("CancelMessageMoveTask", e))?;
        Ok(u64::try_from(output.approximate_number_of_messages_moved).unwrap_or(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_redrive_policy_names_its_target_queue() {
        assert_eq!(
            redrive_target(
                r#"{"deadLetterTargetArn":"arn:aws:sqs:eu-west-1:123:q2c-orders-dlq","maxReceiveCount":5}"#
            )
            .as_deref(),
            Some("q2c-orders-dlq")
        );
        assert_eq!(redrive_target("{}"), None);
    }

    #[test]
    fn names_get_the_prefix_once() {
        let client = aws_sdk_sqs::Client::from_conf(
            aws_sdk_sqs::Config::builder()
                .behavior_version(aws_sdk_sqs::config::BehaviorVersion::latest())
                .region(aws_sdk_sqs::config::Region::new("eu-west-1"))
                .build(),
        );
        let backend = SqsDlqBackend::new(client, "q2c-", Some(vec!["orders-dlq".into()]));
        assert_eq!(backend.resolve("orders-dlq"), "q2c-orders-dlq");
        assert_eq!(backend.resolve("q2c-orders-dlq"), "q2c-orders-dlq");
        assert_eq!(
            backend.only.as_deref(),
            Some(&["q2c-orders-dlq".to_owned()][..])
        );
    }
}
