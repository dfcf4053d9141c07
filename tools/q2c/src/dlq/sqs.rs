//! [`SqsBackend`]: the dead-letter operations on SQS (or moto, with `--endpoint-url`).
//! Queue URLs and ARNs are looked up once per queue and cached; a DLQ is found as the
//! target of a queue's `RedrivePolicy` or by its `-dlq` name.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::Duration;

use anyhow::Context;
use async_trait::async_trait;
use aws_sdk_sqs::error::ProvideErrorMetadata;
use aws_sdk_sqs::primitives::Blob;
use aws_sdk_sqs::types::{
    ChangeMessageVisibilityBatchRequestEntry, DeleteMessageBatchRequestEntry, Message,
    MessageAttributeValue, QueueAttributeName, SendMessageBatchRequestEntry,
};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use q2c_aws::sqs::receive_messages;
use q2c_service::messaging::{QueueCounts, SendFailure, SendOutcome, check_batch};

use super::backend::{
    AttributeValue, DeadLetterQueue, DlqBackend, DlqMessage, DlqOutgoing, MoveTask, MoveTaskError,
};

/// Where the queues are: an SQS client, the deployment's queue-name prefix, and optionally
/// an explicit list of DLQs.
#[derive(Debug)]
pub struct SqsBackend {
    client: aws_sdk_sqs::Client,
    prefix: String,
    only: Option<Vec<String>>,
    urls: Mutex<HashMap<String, String>>,
    arns: Mutex<HashMap<String, String>>,
}

/// Connection settings, as the aws CLI names them.
#[derive(Debug, Clone, Default)]
pub struct SqsSettings {
    /// Another endpoint (moto, LocalStack).
    pub endpoint_url: Option<String>,
    /// The region (else the usual chain: `AWS_REGION`, the profile).
    pub region: Option<String>,
    /// A named profile of the shared config files.
    pub profile: Option<String>,
}

/// An SQS client from the default credential chain and `settings`.
pub async fn client(settings: &SqsSettings) -> aws_sdk_sqs::Client {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    if let Some(region) = &settings.region {
        loader = loader.region(aws_config::Region::new(region.clone()));
    }
    if let Some(profile) = &settings.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(endpoint) = &settings.endpoint_url {
        loader = loader.endpoint_url(endpoint);
    }
    aws_sdk_sqs::Client::new(&loader.load().await)
}

impl SqsBackend {
    /// Queues named `<prefix><name>`; `only` (full or unprefixed names) lists the DLQs to
    /// show instead of discovering them.
    pub fn new(client: aws_sdk_sqs::Client, prefix: &str, only: Option<Vec<String>>) -> Self {
        let backend = SqsBackend {
            client,
            prefix: prefix.to_owned(),
            only: None,
            urls: Mutex::new(HashMap::new()),
            arns: Mutex::new(HashMap::new()),
        };
        let only = only.map(|names| names.iter().map(|n| backend.resolve(n)).collect());
        SqsBackend { only, ..backend }
    }

    async fn url(&self, queue: &str) -> anyhow::Result<String> {
        if let Some(url) = self.urls.lock().expect("url cache").get(queue) {
            return Ok(url.clone());
        }
        let url = self
            .client
            .get_queue_url()
            .queue_name(queue)
            .send()
            .await
            .map_err(|e| sdk_error("GetQueueUrl", e))
            .with_context(|| format!("queue `{queue}`"))?
            .queue_url
            .unwrap_or_default();
        self.urls
            .lock()
            .expect("url cache")
            .insert(queue.to_owned(), url.clone());
        Ok(url)
    }

    async fn attribute(
        &self,
        queue: &str,
        name: QueueAttributeName,
    ) -> anyhow::Result<Option<String>> {
        let url = self.url(queue).await?;
        let output = self
            .client
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(name.clone())
            .send()
            .await
            .map_err(|e| sdk_error("GetQueueAttributes", e))?;
        Ok(output.attributes.unwrap_or_default().remove(&name))
    }

    async fn arn(&self, queue: &str) -> anyhow::Result<String> {
        if let Some(arn) = self.arns.lock().expect("arn cache").get(queue) {
            return Ok(arn.clone());
        }
        let arn = self
            .attribute(queue, QueueAttributeName::QueueArn)
            .await?
            .with_context(|| format!("queue `{queue}` has no ARN"))?;
        self.arns
            .lock()
            .expect("arn cache")
            .insert(queue.to_owned(), arn.clone());
        Ok(arn)
    }

    /// Every queue under the prefix (paginated `ListQueues`), by name.
    async fn queue_names(&self) -> anyhow::Result<Vec<String>> {
        let mut names = Vec::new();
        let mut token = None;
        loop {
            let output = self
                .client
                .list_queues()
                .queue_name_prefix(&self.prefix)
                .max_results(1000)
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| sdk_error("ListQueues", e))?;
            for url in output.queue_urls.unwrap_or_default() {
                let name = url.rsplit('/').next().unwrap_or_default().to_owned();
                self.urls
                    .lock()
                    .expect("url cache")
                    .insert(name.clone(), url);
                names.push(name);
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

/// An SDK error with its service code and message, named by operation.
fn sdk_error<E>(operation: &str, error: aws_sdk_sqs::error::SdkError<E>) -> anyhow::Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let detail = match (error.code(), error.message()) {
        (Some(code), Some(message)) => format!("{code}: {message}"),
        (Some(code), None) => code.to_owned(),
        _ => format!("{}", aws_sdk_sqs::error::DisplayErrorContext(&error)),
    };
    anyhow::anyhow!("SQS {operation} failed: {detail}")
}

/// Whether an error says the service does not know the operation (moto, older emulators).
fn unsupported<E>(error: &aws_sdk_sqs::error::SdkError<E>) -> bool
where
    E: ProvideErrorMetadata,
{
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

fn attribute_value(value: MessageAttributeValue) -> AttributeValue {
    AttributeValue {
        data_type: value.data_type,
        string_value: value.string_value,
        binary_value: value.binary_value.map(|b| BASE64.encode(b.as_ref())),
    }
}

fn to_sdk_attribute(value: &AttributeValue) -> anyhow::Result<MessageAttributeValue> {
    let mut builder = MessageAttributeValue::builder().data_type(&value.data_type);
    if let Some(text) = &value.string_value {
        builder = builder.string_value(text);
    }
    if let Some(base64) = &value.binary_value {
        builder = builder.binary_value(Blob::new(BASE64.decode(base64)?));
    }
    Ok(builder.build()?)
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

#[async_trait]
impl DlqBackend for SqsBackend {
    fn resolve(&self, queue: &str) -> String {
        if queue.starts_with(&self.prefix) {
            queue.to_owned()
        } else {
            format!("{}{queue}", self.prefix)
        }
    }

    async fn dead_letter_queues(&self) -> anyhow::Result<Vec<DeadLetterQueue>> {
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

    async fn counts(&self, queue: &str) -> anyhow::Result<QueueCounts> {
        let url = self.url(queue).await?;
        let output = self
            .client
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
            .send()
            .await
            .map_err(|e| sdk_error("GetQueueAttributes", e))?;
        let attributes = output.attributes.unwrap_or_default();
        let count = |name| {
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

    async fn receive(
        &self,
        queue: &str,
        max: usize,
        visibility: Duration,
        wait: Duration,
    ) -> anyhow::Result<Vec<DlqMessage>> {
        check_batch("receive", max)?;
        let url = self.url(queue).await?;
        let messages = receive_messages(&self.client, &url, max, visibility, wait)
            .await
            .map_err(|e| sdk_error("ReceiveMessage", e))?;
        Ok(messages.into_iter().map(dlq_message).collect())
    }

    async fn send_batch(
        &self,
        queue: &str,
        messages: &[DlqOutgoing],
    ) -> anyhow::Result<SendOutcome> {
        check_batch("send", messages.len())?;
        let url = self.url(queue).await?;
        let mut entries = Vec::with_capacity(messages.len());
        for (index, message) in messages.iter().enumerate() {
            let mut entry = SendMessageBatchRequestEntry::builder()
                .id(index.to_string())
                .message_body(&message.body);
            for (name, value) in &message.attributes {
                entry = entry.message_attributes(name, to_sdk_attribute(value)?);
            }
            entries.push(entry.build()?);
        }
        let output = self
            .client
            .send_message_batch()
            .queue_url(url)
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(|e| sdk_error("SendMessageBatch", e))?;
        let index = |id: &str| id.parse::<usize>().ok();
        Ok(SendOutcome {
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
        })
    }

    async fn delete_batch(&self, queue: &str, receipt_handles: &[String]) -> anyhow::Result<()> {
        check_batch("delete", receipt_handles.len())?;
        let url = self.url(queue).await?;
        let entries = receipt_handles
            .iter()
            .enumerate()
            .map(|(i, handle)| {
                DeleteMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .receipt_handle(handle)
                    .build()
            })
            .collect::<Result<Vec<_>, _>>()?;
        let output = self
            .client
            .delete_message_batch()
            .queue_url(url)
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(|e| sdk_error("DeleteMessageBatch", e))?;
        // A refused delete leaves the message in the DLQ: a later run moves it again (a
        // duplicate downstream, which consumers drop by eventId), never a loss.
        for failure in &output.failed {
            tracing::warn!(code = %failure.code, "delete refused; the message stays in the DLQ");
        }
        Ok(())
    }

    async fn release_batch(&self, queue: &str, receipt_handles: &[String]) -> anyhow::Result<()> {
        check_batch("change visibility", receipt_handles.len())?;
        let url = self.url(queue).await?;
        let entries = receipt_handles
            .iter()
            .enumerate()
            .map(|(i, handle)| {
                ChangeMessageVisibilityBatchRequestEntry::builder()
                    .id(i.to_string())
                    .receipt_handle(handle)
                    .visibility_timeout(0)
                    .build()
            })
            .collect::<Result<Vec<_>, _>>()?;
        // Stale handles (visible again already) fail per entry, harmlessly.
        self.client
            .change_message_visibility_batch()
            .queue_url(url)
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(|e| sdk_error("ChangeMessageVisibilityBatch", e))?;
        Ok(())
    }

    async fn purge(&self, queue: &str) -> anyhow::Result<()> {
        let url = self.url(queue).await?;
        self.client
            .purge_queue()
            .queue_url(url)
            .send()
            .await
            .map_err(|e| sdk_error("PurgeQueue", e))?;
        Ok(())
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
        let started = self
            .client
            .start_message_move_task()
            .source_arn(source_arn)
            .set_destination_arn(destination_arn)
            .set_max_number_of_messages_per_second(rate.and_then(|r| i32::try_from(r).ok()))
            .send()
            .await;
        match started {
            Ok(output) => Ok(output.task_handle.unwrap_or_default()),
            Err(error) if unsupported(&error) => Err(MoveTaskError::Unsupported(
                sdk_error("StartMessageMoveTask", error).to_string(),
            )),
            Err(error) => Err(sdk_error("StartMessageMoveTask", error).into()),
        }
    }

    async fn move_tasks(&self, source: &str) -> Result<Vec<MoveTask>, MoveTaskError> {
        let source_arn = self.arn(source).await?;
        let listed = self
            .client
            .list_message_move_tasks()
            .source_arn(source_arn)
            .max_results(10)
            .send()
            .await;
        match listed {
            Ok(output) => Ok(output
                .results
                .unwrap_or_default()
                .into_iter()
                .map(move_task)
                .collect()),
            Err(error) if unsupported(&error) => Err(MoveTaskError::Unsupported(
                sdk_error("ListMessageMoveTasks", error).to_string(),
            )),
            Err(error) => Err(sdk_error("ListMessageMoveTasks", error).into()),
        }
    }

    async fn cancel_move_task(&self, task_handle: &str) -> Result<u64, MoveTaskError> {
        let cancelled = self
            .client
            .cancel_message_move_task()
            .task_handle(task_handle)
            .send()
            .await;
        match cancelled {
            Ok(output) => {
                Ok(u64::try_from(output.approximate_number_of_messages_moved).unwrap_or(0))
            }
            Err(error) if unsupported(&error) => Err(MoveTaskError::Unsupported(
                sdk_error("CancelMessageMoveTask", error).to_string(),
            )),
            Err(error) => Err(sdk_error("CancelMessageMoveTask", error).into()),
        }
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
}
