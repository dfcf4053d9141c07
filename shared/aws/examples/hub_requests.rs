//! Benchmark: SQS requests per event per subscriber of hub delivery in a burst. A burst of
//! price events handed to `HubDelivery::deliver_batch` in batches of 10 (as the event source
//! mapping does), two catalog subscribers that are SQS queues (by ARN), `SqsCallbackSender`
//! and `DynamoStore` (subscriptions, delivery log) on moto. Counts the sender's SQS requests
//! and the store's DynamoDB requests, and checks each subscriber queue got every event once.
//! Results go to docs/benchmarks.md. Run (with moto on :5055):
//!
//! ```sh
//! Q2C_TEST_AWS_ENDPOINT=http://127.0.0.1:5055 AWS_ACCESS_KEY_ID=testing \
//!   AWS_SECRET_ACCESS_KEY=testing AWS_REGION=eu-west-1 \
//!   cargo run -p q2c-aws --example hub_requests -- 100
//! ```

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use q2c_aws::{DynamoStore, Operation, SqsCallbackSender};
use q2c_callbacks::{HttpCallbacks, HttpConfig};
use q2c_contract::fixtures::unique;
use q2c_model::tmf::EventSubscription;
use q2c_service::context::TenantId;
use q2c_service::delivery::{CallbackPolicy, DeliveryConfig, HubDelivery};
use q2c_service::messaging::{ParsedMessage, attributes, parse_message};
use q2c_service::ports::{HubApi, HubStore, SystemClock};
use q2c_testkit::moto::{dynamo_client, sqs_client};
use q2c_testkit::sqs;
use serde_json::json;

const BATCH: usize = 10;
const PRICE_EVENT: &str = "ProductOfferingPriceAttributeValueChangeEvent";

fn price_event(event_id: &str) -> ParsedMessage {
    let body = json!({"eventId": event_id, "eventTime": "2026-11-27T17:00:00Z",
        "eventType": PRICE_EVENT, "schemaVersion": "1.0",
        "event": {"productOfferingPrice": {"id": "pop-1"}}});
    let attrs = BTreeMap::from([
        (attributes::EVENT_TYPE.to_owned(), PRICE_EVENT.to_owned()),
        (attributes::EVENT_ID.to_owned(), event_id.to_owned()),
        (attributes::SCHEMA_VERSION.to_owned(), "1.0".to_owned()),
    ]);
    parse_message(event_id, &body.to_string(), &attrs, Some(1)).expect("valid envelope")
}

/// Every message body's eventId on the queue (deleted as read).
async fn event_ids(client: &aws_sdk_sqs::Client, url: &str) -> Vec<String> {
    sqs::event_ids(&sqs::take_all(client, url).await)
}

#[tokio::main]
async fn main() {
    let events: usize = std::env::args()
        .nth(1)
        .map_or(100, |n| n.parse().expect("events"));

    let dynamo = dynamo_client();
    let table = format!("q2c-bench-{}", unique());
    q2c_testkit::dynamo::create_table(&dynamo, &table).await;
    let store = DynamoStore::new(dynamo, table.clone());
    let client = sqs_client();
    let mut urls = Vec::new();
    let mut arns = Vec::new();
    for name in ["sub-a", "sub-b"] {
        let url = sqs::create_queue(
            &client,
            &format!("bench-{}-{name}", unique()),
            HashMap::new(),
        )
        .await;
        let arn = sqs::queue_arn(&client, &url).await;
        urls.push(url);
        arns.push(arn);
    }
    let policy = CallbackPolicy::from_allowlist(&arns.join(",")).expect("allow-list");
    for (n, arn) in arns.iter().enumerate() {
        let tenant = TenantId::parse(&format!("bench-{}", unique())).expect("tenant");
        let subscription = EventSubscription {
            id: format!("s-{n}"),
            callback: arn.clone(),
            query: Some(format!("eventType={PRICE_EVENT}")),
        };
        store
            .create(&tenant, HubApi::Catalog, &subscription)
            .await
            .expect("subscribe");
    }
    let http = HttpCallbacks::new(policy.clone(), HttpConfig::default()).expect("http");
    let sender = SqsCallbackSender::new(client.clone(), http);
    let delivery = HubDelivery::new(
        Arc::new(store.clone()),
        store.delivery_log(),
        Arc::new(sender.clone()),
        policy,
        Arc::new(SystemClock),
        DeliveryConfig::default(),
    );

    let ids: Vec<String> = (0..events)
        .map(|n| format!("bench-{n}-{}", unique()))
        .collect();
    let messages: Vec<ParsedMessage> = ids.iter().map(|id| price_event(id)).collect();
    let dynamo_before = store.requests().snapshot();
    for batch in messages.chunks(BATCH) {
        for result in delivery.deliver_batch(HubApi::Catalog, batch).await {
            result.expect("delivered");
        }
    }
    let sqs = sender.requests().snapshot();
    let dynamo = store.requests().snapshot().since(&dynamo_before);

    let expected: BTreeSet<&String> = ids.iter().collect();
    for url in &urls {
        let got = event_ids(&client, url).await;
        assert_eq!(got.len(), events, "{url}: every event once");
        assert_eq!(
            got.iter().collect::<BTreeSet<_>>(),
            expected,
            "{url}: the burst's events"
        );
    }

    let per = |n: u64| n as f64 / (events * arns.len()) as f64;
    let batches = sqs.of(Operation::SendMessageBatch);
    let lookups = sqs.of(Operation::GetQueueUrl);
    println!(
        "events {events}, SQS subscribers {}, batches of {BATCH}",
        arns.len()
    );
    println!("| SQS request | count | per event per subscriber |");
    println!("|---|---|---|");
    println!("| SendMessageBatch | {batches} | {:.3} |", per(batches));
    println!("| GetQueueUrl | {lookups} | {:.3} |", per(lookups));
    println!("| all | {} | {:.3} |", sqs.total(), per(sqs.total()));
    let breakdown = dynamo.breakdown();
    println!(
        "DynamoDB: {} requests ({:.2} per event): {breakdown}",
        dynamo.total(),
        dynamo.total() as f64 / events as f64
    );

    // moto keeps everything in memory: remove what this run created.
    dynamo_client()
        .delete_table()
        .table_name(&table)
        .send()
        .await
        .expect("delete table");
    for url in &urls {
        client
            .delete_queue()
            .queue_url(url)
            .send()
            .await
            .expect("delete queue");
    }
}
