//! The outbox publisher on moto's SQS.

use std::collections::HashMap;

use aws_sdk_sqs::types::MessageSystemAttributeName;
use q2c_aws::{Operation, SqsPublisher};
use q2c_service::ports::Destination;

use crate::common::{create_queue, event, sqs_client, unique};

/// Receives until `expected` messages arrived (or a few empty polls).
pub async fn receive_all(
    client: &aws_sdk_sqs::Client,
    url: &str,
    expected: usize,
) -> Vec<aws_sdk_sqs::types::Message> {
    let mut messages = Vec::new();
    let mut empty_polls = 0;
    while messages.len() < expected && empty_polls < 3 {
        let output = client
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .message_attribute_names("All")
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .send()
            .await
            .expect("receive");
        let batch = output.messages.unwrap_or_default();
        if batch.is_empty() {
            empty_polls += 1;
        }
        messages.extend(batch);
    }
    messages
}

#[tokio::test]
async fn twenty_five_events_go_out_in_three_batches_with_their_attributes() {
    q2c_testkit::require_moto!();
    let client = sqs_client();
    let prefix = format!("{}-", unique("pub"));
    let url = create_queue(&client, &format!("{prefix}quote-events"), HashMap::new()).await;
    let publisher = SqsPublisher::new(client.clone()).with_prefix(&prefix);
    let events: Vec<_> = (0..25)
        .map(|i| event(&format!("q-{i}"), Destination::QuoteEvents))
        .collect();

    let outcome = publisher.publish(&events).await.expect("publish");

    assert!(outcome.failed.is_empty(), "{:?}", outcome.failed);
    assert_eq!(outcome.published.len(), 25);
    assert_eq!(publisher.requests().get(Operation::SendMessageBatch), 3);
    assert_eq!(publisher.requests().get(Operation::GetQueueUrl), 1);
    let received = receive_all(&client, &url, 25).await;
    assert_eq!(received.len(), 25);
    let message = received
        .iter()
        .find(|m| m.body().is_some_and(|b| b.contains(&events[7].event_id)))
        .expect("event 7 arrived");
    let body: serde_json::Value =
        serde_json::from_str(message.body().expect("body")).expect("json body");
    assert_eq!(body, events[7].body);
    let attrs = message.message_attributes().expect("attributes");
    let attr = |name: &str| {
        attrs
            .get(name)
            .and_then(|a| a.string_value())
            .map(str::to_owned)
    };
    assert_eq!(attr("eventType").as_deref(), Some("QuoteCreateEvent"));
    assert_eq!(attr("schemaVersion").as_deref(), Some("1.0"));
    assert_eq!(attr("tenant").as_deref(), Some("acme"));
    assert_eq!(attr("correlationId").as_deref(), Some("corr-1"));
    assert_eq!(
        attrs.get("eventType").map(|a| a.data_type()),
        Some("String")
    );

    publisher
        .publish(&events[..1])
        .await
        .expect("publish again");
    assert_eq!(
        publisher.requests().get(Operation::GetQueueUrl),
        1,
        "queue URL cached"
    );
}

#[tokio::test]
async fn a_missing_queue_is_an_error_not_a_silent_drop() {
    q2c_testkit::require_moto!();
    let publisher = SqsPublisher::new(sqs_client()).with_prefix(format!("{}-", unique("none")));
    let result = publisher.publish(&[event("q", Destination::Orders)]).await;
    assert!(result.is_err(), "{result:?}");
}
