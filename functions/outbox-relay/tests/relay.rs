//! The relay without AWS: which records it skips, which it reports as failures, and how it
//! derives the queue prefix. (Publishing to SQS is covered by the quote-api bootstrap test
//! on moto.)

use std::sync::Arc;

use aws_lambda_events::dynamodb::Event;
use q2c_aws::{DynamoStore, SqsPublisher};
use q2c_fn_outbox_relay::{Config, Relay, record};
use q2c_runtime::Metrics;
use q2c_testkit::offline;
use serde_json::{Value, json};

fn sample() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../events/dynamodb/outbox-insert.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).expect("sample")).expect("JSON")
}

/// A relay whose clients are never called (no endpoint, no credentials): only valid for
/// batches with nothing to publish.
fn offline_relay() -> Relay {
    Relay::new(
        DynamoStore::new(offline::dynamo_client(), "unused"),
        SqsPublisher::new(offline::sqs_client()),
        Arc::new(Metrics::new("test")),
    )
}

fn event(value: Value) -> Event {
    serde_json::from_value(value).expect("a stream event")
}

#[test]
fn the_sample_is_an_outbox_insert_and_decodes() {
    let event = event(sample());
    let record = &event.records[0];
    assert!(record::is_outbox_insert(record));
    let outbox = record::outbox_event(record).expect("decodes");
    assert_eq!(outbox.destination.queue_name(), "quote-events");
    assert_eq!(outbox.tenant.as_deref(), Some("acme"));
    assert_eq!(outbox.body["eventId"], json!(outbox.event_id));
}

#[tokio::test]
async fn modifies_and_other_items_are_skipped() {
    let mut modify = sample();
    modify["Records"][0]["eventName"] = json!("MODIFY");
    let mut quote = sample();
    quote["Records"][0]["dynamodb"]["NewImage"]["pk"] = json!({"S": "QUOTE#acme#q-1"});
    let relay = offline_relay();
    for batch in [modify, quote] {
        let record = &event(batch.clone()).records[0];
        assert!(!record::is_outbox_insert(record));
        let response = relay.handle(event(batch)).await;
        assert!(response.batch_item_failures.is_empty());
    }
}

#[test]
fn the_queue_prefix_comes_from_the_quote_events_url() {
    let config = |url: &str| Config {
        table_name: "t".into(),
        quote_events_queue_url: url.into(),
        event_schema: q2c_service::event_versions::SchemaMajor::DEFAULT_EMIT,
    };
    let url = "https://sqs.eu-west-1.amazonaws.com/123456789012/q2c-dev-quote-events";
    assert_eq!(config(url).queue_prefix(), Ok("q2c-dev-".to_owned()));
    let other = "https://sqs.eu-west-1.amazonaws.com/123456789012/q2c-orders";
    assert!(config(other).queue_prefix().is_err());
}
