//! The events Lambda hands a function, built from what moto holds, and [`drain`]: the SQS
//! event source mapping played against a handler (receive, build the [`SqsEvent`], call,
//! delete what is not in `batchItemFailures`, return the failures at once, repeat).

use std::future::Future;

use aws_lambda_events::dynamodb::Event as StreamEvent;
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage, SqsMessageAttribute};
use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::Message;

use crate::sqs::receive;

/// The `SqsEvent` Lambda builds from received messages (system attributes and string
/// message attributes).
pub fn sqs_event(messages: &[Message]) -> SqsEvent {
    let mut event = SqsEvent::default();
    for m in messages {
        let mut record = SqsMessage::default();
        record.message_id = m.message_id.clone();
        record.receipt_handle = m.receipt_handle.clone();
        record.body = m.body.clone();
        for (name, value) in m.attributes().into_iter().flatten() {
            record
                .attributes
                .insert(name.as_str().to_owned(), value.clone());
        }
        for (name, value) in m.message_attributes().into_iter().flatten() {
            let mut attribute = SqsMessageAttribute::default();
            attribute.string_value = value.string_value.clone();
            attribute.data_type = Some(value.data_type.clone());
            record.message_attributes.insert(name.clone(), attribute);
        }
        event.records.push(record);
    }
    event
}

/// [`sqs_event`] as the mapping of the queue at `url` delivers it: every record's
/// `eventSourceARN` names the queue (`arn:aws:sqs:<region>:<account>:<name>`, from a
/// `…/<account>/<name>` URL).
pub fn sqs_event_from(url: &str, messages: &[Message]) -> SqsEvent {
    let mut event = sqs_event(messages);
    let arn = queue_arn_of(url);
    for record in &mut event.records {
        record.event_source_arn = Some(arn.clone());
    }
    event
}

/// The ARN of the queue at `url` (`…/<account>/<name>`), in [`crate::moto::region`].
pub fn queue_arn_of(url: &str) -> String {
    let mut parts = url.trim_end_matches('/').rsplit('/');
    let name = parts.next().unwrap_or_default();
    let account = parts.next().unwrap_or_default();
    format!("arn:aws:sqs:{}:{account}:{name}", crate::moto::region())
}

/// A DynamoDB stream `INSERT` of the item with keys `pk`/`sk` and `image` (see
/// [`crate::dynamo::stream_image`]), shaped as the sample `events/dynamodb/outbox-insert.json`.
pub fn stream_insert(pk: &str, sk: &str, image: serde_json::Value) -> StreamEvent {
    let sample = include_str!("../../../events/dynamodb/outbox-insert.json");
    let mut event: serde_json::Value = serde_json::from_str(sample).expect("the sample parses");
    event["Records"][0]["dynamodb"]["NewImage"] = image;
    event["Records"][0]["dynamodb"]["Keys"] = serde_json::json!({"pk": {"S": pk}, "sk": {"S": sk}});
    serde_json::from_value(event).expect("a stream event")
}

/// How many receive rounds [`drain`] makes before it fails the test (a handler that never
/// succeeds would otherwise loop for ever).
pub const DRAIN_ROUNDS: usize = 30;

/// The event source mapping: receives batches from `url` until it is empty, calls `handler`
/// with each as an [`SqsEvent`], deletes the messages not reported in `batchItemFailures`
/// and makes the reported ones visible again at once (instead of after the visibility
/// timeout). Returns how many batch item failures it saw; panics after [`DRAIN_ROUNDS`].
pub async fn drain<F, Fut>(client: &Client, url: &str, mut handler: F) -> usize
where
    F: FnMut(SqsEvent) -> Fut,
    Fut: Future<Output = SqsBatchResponse>,
{
    let mut failures = 0;
    for _ in 0..DRAIN_ROUNDS {
        let messages = receive(client, url).await;
        if messages.is_empty() {
            return failures;
        }
        let response = handler(sqs_event_from(url, &messages)).await;
        let failed: Vec<String> = response
            .batch_item_failures
            .into_iter()
            .map(|f| f.item_identifier)
            .collect();
        failures += failed.len();
        for message in &messages {
            let id = message.message_id().unwrap_or_default();
            if failed.iter().any(|f| f == id) {
                client
                    .change_message_visibility()
                    .queue_url(url)
                    .receipt_handle(message.receipt_handle().unwrap_or_default())
                    .visibility_timeout(0)
                    .send()
                    .await
                    .expect("return the message");
            } else {
                crate::sqs::delete(client, url, message).await;
            }
        }
    }
    panic!("{url} did not drain in {DRAIN_ROUNDS} rounds");
}
