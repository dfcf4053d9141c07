//! The relay against moto: the scheduled sweep relays events written to the outbox that the
//! stream path never published (here: no stream at all), they leave the pending index, and
//! a second sweep sends nothing; a stream batch whose first record cannot be decoded parks
//! it in the destination's DLQ, publishes the record behind it and fails no record. Needs
//! `Q2C_TEST_AWS_ENDPOINT` (tools/test.sh starts moto).

mod common;

use common::MotoStack;
use q2c_fn_outbox_relay::Invocation;
use q2c_service::context::TenantId;
use q2c_service::ports::{Destination, OutboxEvent, OutboxStore, QuoteStore};
use q2c_service::testing::fresh_quote;
use q2c_testkit::sqs::{event_ids, take_all};
use serde_json::json;
use time::OffsetDateTime;

fn event(quote_id: &str, n: usize) -> OutboxEvent {
    let event_id = format!("{quote_id}-ev-{n}");
    OutboxEvent {
        event_id: event_id.clone(),
        event_type: "QuoteCreateEvent".into(),
        tenant: Some("acme".into()),
        aggregate_id: quote_id.into(),
        correlation_id: None,
        schema_version: "1.0".into(),
        destination: Destination::QuoteEvents,
        body: json!({"eventId": event_id, "eventType": "QuoteCreateEvent",
                     "eventTime": "2026-11-27T14:00:00Z", "event": {"quote": {"id": quote_id}}}),
        created_at: OffsetDateTime::now_utc(),
    }
}

/// The sample event `events/<relative>` of the repository.
fn sample_event(relative: &str) -> serde_json::Value {
    let path = format!("{}/../../events/{relative}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).expect("sample")).expect("JSON")
}

/// The `eventId`s of every message of the queue (deleted as read).
async fn drain(sqs: &aws_sdk_sqs::Client, url: &str) -> Vec<String> {
    event_ids(&take_all(sqs, url).await)
}

#[tokio::test]
async fn a_scheduled_sweep_relays_what_the_stream_path_missed() {
    q2c_testkit::require_moto!();
    let stack = MotoStack::new("q2c-sweep", "sw").await;
    let url = stack.queue("quote-events").await;
    let (store, sqs) = (&stack.store, &stack.sqs);
    let tenant = TenantId::parse("acme").expect("tenant");
    // 130 events over 13 quotes: more than one sweep round of 100.
    let mut expected = Vec::new();
    for q in 0..13 {
        let id = format!("q-{q}");
        let events: Vec<_> = (0..10).map(|n| event(&id, n)).collect();
        expected.extend(events.iter().map(|e| e.event_id.clone()));
        let quote = fresh_quote(&id);
        store
            .insert(&tenant, &quote, &events)
            .await
            .expect("insert");
    }

    let relay = stack.relay();
    let schedule = sample_event("eventbridge/outbox-sweep.json");
    assert!(matches!(
        Invocation::from_payload(schedule.clone()),
        Ok(Invocation::Sweep)
    ));
    let answer = relay.invoke(schedule.clone()).await.expect("sweep");
    assert_eq!(answer["published"], json!(130));
    assert_eq!(answer["failed"], json!(0));
    assert!(store.pending(10).await.expect("pending").is_empty());

    let mut received = drain(sqs, &url).await;
    received.sort();
    expected.sort();
    assert_eq!(received, expected);

    let again = relay.invoke(schedule).await.expect("second sweep");
    assert_eq!(again["published"], json!(0));
    assert!(drain(sqs, &url).await.is_empty());
}

#[tokio::test]
async fn an_unknown_payload_is_an_invocation_error() {
    q2c_testkit::require_moto!();
    let error = Invocation::from_payload(json!({"hello": "world"})).expect_err("refused");
    assert!(error.contains("neither"), "{error}");
    let error = Invocation::from_payload(json!({"Records": "nope"})).expect_err("refused");
    assert!(error.contains("not a DynamoDB stream batch"), "{error}");
}

#[tokio::test]
async fn an_undecodable_stream_record_is_parked_and_the_record_behind_it_published() {
    q2c_testkit::require_moto!();
    let stack = MotoStack::new("q2c-park", "pk").await;
    let events_url = stack.queue("quote-events").await;
    let dlq_url = stack.queue("quote-events-dlq").await;
    let (relay, sqs) = (stack.relay(), &stack.sqs);
    let sample = sample_event("dynamodb/outbox-insert.json");
    let good = sample["Records"][0].clone();
    let mut poison = good.clone();
    let deep = format!("{}{}", "[".repeat(130), "]".repeat(130));
    poison["dynamodb"]["NewImage"]["body"] = json!({"S": deep});
    poison["dynamodb"]["NewImage"]["event_id"] = json!({"S": "poison-1"});
    poison["dynamodb"]["NewImage"]["pk"] = json!({"S": "OUTBOX#poison-1"});
    poison["dynamodb"]["SequenceNumber"] = json!("100");
    let good_id = good["dynamodb"]["NewImage"]["event_id"]["S"]
        .as_str()
        .expect("id")
        .to_owned();
    let batch = json!({"Records": [poison, good]});

    let response = relay.invoke(batch).await.expect("stream batch");

    assert_eq!(
        response["batchItemFailures"],
        json!([]),
        "nothing is retried: the poison is parked and acknowledged"
    );
    assert_eq!(drain(sqs, &events_url).await, [good_id]);
    let parked = take_all(sqs, &dlq_url).await;
    assert_eq!(parked.len(), 1);
    assert_eq!(parked[0].body(), Some(deep.as_str()), "parked whole");
    let attribute = |name: &str| {
        parked[0]
            .message_attributes()
            .and_then(|a| a.get(name))
            .and_then(|v| v.string_value())
            .map(str::to_owned)
    };
    assert_eq!(attribute("eventId").as_deref(), Some("poison-1"));
    let reason = attribute("failureReason").expect("a reason");
    assert!(reason.contains("cannot be decoded"), "{reason}");
}
