//! Clients for moto, per-test tables and queues, and fixtures.

use std::collections::HashMap;

use aws_sdk_sqs::types::QueueAttributeName;
use q2c_aws::DynamoStore;
use q2c_model::tmf::{Quote, QuoteState, RelatedParty};
use q2c_service::context::TenantId;
use q2c_service::ports::{Destination, OutboxEvent, StoredQuote};
use time::OffsetDateTime;

/// The moto endpoint; panics (fails the test) when unset.
pub fn endpoint() -> String {
    std::env::var("Q2C_TEST_AWS_ENDPOINT").unwrap_or_else(|_| {
        panic!(
            "Q2C_TEST_AWS_ENDPOINT is not set: these tests need moto. Run tools/test.sh, or start \
             `moto_server -H 127.0.0.1 -p 5055` and export Q2C_TEST_AWS_ENDPOINT=http://127.0.0.1:5055 \
             AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=eu-west-1"
        )
    })
}

fn region() -> String {
    std::env::var("AWS_REGION").unwrap_or_else(|_| "eu-west-1".into())
}

/// A unique name with `prefix` (queue names allow 80 characters).
pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

/// A DynamoDB client for moto.
pub fn dynamo_client() -> aws_sdk_dynamodb::Client {
    use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region()))
        .endpoint_url(endpoint())
        .credentials_provider(Credentials::new("testing", "testing", None, None, "moto"))
        .build();
    aws_sdk_dynamodb::Client::from_conf(config)
}

/// An SQS client for moto.
pub fn sqs_client() -> aws_sdk_sqs::Client {
    use aws_sdk_sqs::config::{BehaviorVersion, Credentials, Region};
    let config = aws_sdk_sqs::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region()))
        .endpoint_url(endpoint())
        .credentials_provider(Credentials::new("testing", "testing", None, None, "moto"))
        .build();
    aws_sdk_sqs::Client::from_conf(config)
}

/// A fresh table with the key schema and GSIs of the SAM template, and a store over it.
pub async fn store() -> DynamoStore {
    let client = dynamo_client();
    let table = unique("q2c-test");
    q2c_aws::dynamo::create_table(&client, &table)
        .await
        .expect("create table on moto");
    DynamoStore::new(client, table)
}

/// Creates `<name>-dlq` and `<name>` with a redrive policy; returns (queue url, dlq url).
pub async fn queue_with_dlq(
    client: &aws_sdk_sqs::Client,
    name: &str,
    max_receive_count: u32,
    visibility_timeout: u32,
) -> (String, String) {
    let dlq_url = create_queue(client, &format!("{name}-dlq"), HashMap::new()).await;
    let dlq_arn = client
        .get_queue_attributes()
        .queue_url(&dlq_url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .expect("dlq arn")
        .attributes
        .and_then(|a| a.get(&QueueAttributeName::QueueArn).cloned())
        .expect("dlq has an arn");
    let redrive =
        format!(r#"{{"deadLetterTargetArn":"{dlq_arn}","maxReceiveCount":"{max_receive_count}"}}"#);
    let attributes = HashMap::from([
        (QueueAttributeName::RedrivePolicy, redrive),
        (
            QueueAttributeName::VisibilityTimeout,
            visibility_timeout.to_string(),
        ),
    ]);
    (create_queue(client, name, attributes).await, dlq_url)
}

/// Creates a queue; returns its URL.
pub async fn create_queue(
    client: &aws_sdk_sqs::Client,
    name: &str,
    attributes: HashMap<QueueAttributeName, String>,
) -> String {
    client
        .create_queue()
        .queue_name(name)
        .set_attributes(Some(attributes))
        .send()
        .await
        .expect("create queue on moto")
        .queue_url
        .expect("queue url")
}

/// A tenant.
pub fn tenant(name: &str) -> TenantId {
    TenantId::parse(name).expect("valid tenant")
}

/// A stored quote, version 1, in progress, using `prices`.
pub fn quote(id: &str, date: OffsetDateTime, prices: &[&str]) -> StoredQuote {
    StoredQuote {
        quote: Quote {
            id: Some(id.into()),
            quote_date: Some(date),
            state: Some(QuoteState::InProgress),
            external_id: Some(format!("ext-{id}")),
            related_party: vec![RelatedParty {
                id: "cust-1".into(),
                role: Some("customer".into()),
                ..RelatedParty::default()
            }],
            ..Quote::default()
        },
        version: 1,
        approval_required: false,
        price_ids: prices.iter().map(|p| (*p).to_owned()).collect(),
    }
}

/// An outbox event about `aggregate`.
pub fn event(aggregate: &str, destination: Destination) -> OutboxEvent {
    let event_id = uuid::Uuid::new_v4().to_string();
    OutboxEvent {
        event_id: event_id.clone(),
        event_type: "QuoteCreateEvent".into(),
        tenant: Some("acme".into()),
        aggregate_id: aggregate.into(),
        correlation_id: Some("corr-1".into()),
        schema_version: "1.0".into(),
        destination,
        body: serde_json::json!({
            "eventId": event_id,
            "eventType": "QuoteCreateEvent",
            "eventTime": "2026-11-27T14:00:00Z",
            "event": {"quote": {"id": aggregate}}
        }),
        created_at: OffsetDateTime::now_utc(),
    }
}
