//! The scheduled sweep against moto: events written to the outbox that the stream path never
//! published (here: no stream at all) reach their queues, leave the pending index, and a
//! second sweep sends nothing. Needs `Q2C_TEST_AWS_ENDPOINT` (tools/test.sh starts moto).

use std::collections::HashMap;
use std::sync::Arc;

use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use q2c_aws::{DynamoStore, SqsPublisher};
use q2c_fn_outbox_relay::{Invocation, Relay};
use q2c_model::tmf::{Quote, QuoteState};
use q2c_runtime::Metrics;
use q2c_service::context::TenantId;
use q2c_service::ports::{Destination, OutboxEvent, OutboxStore, QuoteStore, StoredQuote};
use serde_json::json;
use time::OffsetDateTime;

fn endpoint() -> String {
    std::env::var("Q2C_TEST_AWS_ENDPOINT").unwrap_or_else(|_| {
        panic!("Q2C_TEST_AWS_ENDPOINT is not set: this test needs moto (run tools/test.sh)")
    })
}

fn unique(prefix: &str) -> String {
    format!("{prefix}{}", uuid::Uuid::new_v4().simple())
}

fn clients() -> (aws_sdk_dynamodb::Client, aws_sdk_sqs::Client) {
    let credentials = Credentials::new("testing", "testing", None, None, "moto");
    let dynamo = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("eu-west-1"))
        .endpoint_url(endpoint())
        .credentials_provider(credentials.clone())
        .build();
    let sqs = aws_sdk_sqs::Config::builder()
        .behavior_version(aws_sdk_sqs::config::BehaviorVersion::latest())
        .region(aws_sdk_sqs::config::Region::new("eu-west-1"))
        .endpoint_url(endpoint())
        .credentials_provider(credentials)
        .build();
    (
        aws_sdk_dynamodb::Client::from_conf(dynamo),
        aws_sdk_sqs::Client::from_conf(sqs),
    )
}

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

async fn drain(sqs: &aws_sdk_sqs::Client, url: &str) -> Vec<String> {
    let mut ids = Vec::new();
    loop {
        let out = sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .send()
            .await
            .expect("receive");
        let messages = out.messages.unwrap_or_default();
        if messages.is_empty() {
            return ids;
        }
        for message in messages {
            let body: serde_json::Value =
                serde_json::from_str(message.body().unwrap_or_default()).expect("JSON body");
            ids.push(body["eventId"].as_str().expect("eventId").to_owned());
            sqs.delete_message()
                .queue_url(url)
                .receipt_handle(message.receipt_handle().unwrap_or_default())
                .send()
                .await
                .expect("delete");
        }
    }
}

#[tokio::test]
async fn a_scheduled_sweep_relays_what_the_stream_path_missed() {
    let (dynamo, sqs) = clients();
    let table = unique("q2c-sweep-");
    q2c_aws::dynamo::create_table(&dynamo, &table)
        .await
        .expect("table");
    let prefix = unique("sw");
    let prefix = format!("{}-", &prefix[..20]);
    let url = sqs
        .create_queue()
        .queue_name(format!("{prefix}quote-events"))
        .set_attributes(Some(HashMap::new()))
        .send()
        .await
        .expect("queue")
        .queue_url
        .expect("url");
    let store = DynamoStore::new(dynamo, table);
    let tenant = TenantId::parse("acme").expect("tenant");
    // 130 events over 13 quotes: more than one sweep round of 100.
    let mut expected = Vec::new();
    for q in 0..13 {
        let id = format!("q-{q}");
        let events: Vec<_> = (0..10).map(|n| event(&id, n)).collect();
        expected.extend(events.iter().map(|e| e.event_id.clone()));
        let quote = StoredQuote {
            quote: Quote {
                id: Some(id.clone()),
                state: Some(QuoteState::InProgress),
                quote_date: Some(OffsetDateTime::now_utc()),
                ..Quote::default()
            },
            version: 1,
            approval_required: false,
            price_ids: vec![],
        };
        store
            .insert(&tenant, &quote, &events)
            .await
            .expect("insert");
    }

    let relay = Relay::new(
        store.clone(),
        SqsPublisher::new(sqs.clone()).with_prefix(prefix),
        Arc::new(Metrics::new("test")),
    );
    let sample = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../events/eventbridge/outbox-sweep.json"
    );
    let schedule: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(sample).expect("sample")).expect("JSON");
    assert!(matches!(
        Invocation::from_payload(schedule.clone()),
        Ok(Invocation::Sweep)
    ));
    let answer = relay.invoke(schedule.clone()).await.expect("sweep");
    assert_eq!(answer["published"], json!(130));
    assert_eq!(answer["failed"], json!(0));
    assert!(store.pending(10).await.expect("pending").is_empty());

    let mut received = drain(&sqs, &url).await;
    received.sort();
    expected.sort();
    assert_eq!(received, expected);

    let again = relay.invoke(schedule).await.expect("second sweep");
    assert_eq!(again["published"], json!(0));
    assert!(drain(&sqs, &url).await.is_empty());
}

#[tokio::test]
async fn an_unknown_payload_is_an_invocation_error() {
    let error = Invocation::from_payload(json!({"hello": "world"})).expect_err("refused");
    assert!(error.contains("neither"), "{error}");
    let error = Invocation::from_payload(json!({"Records": "nope"})).expect_err("refused");
    assert!(error.contains("not a DynamoDB stream batch"), "{error}");
}
