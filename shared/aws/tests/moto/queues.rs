//! The queue and relay contracts against [`SqsQueues`] on moto's SQS (and the relay over
//! [`DynamoStore`](q2c_aws::DynamoStore)'s outbox on moto's DynamoDB).

use std::collections::HashMap;
use std::sync::Arc;

use aws_sdk_dynamodb::types::AttributeValue;
use q2c_aws::SqsQueues;
use q2c_contract::{QueueNames, parking_contract, queue_contract, relay_contract, too_deep_body};

use crate::common::{create_queue, dynamo_client, queue_with_dlq, sqs_client, store, unique};

#[tokio::test]
async fn queue_contract_on_sqs() {
    q2c_testkit::require_moto!();
    let client = sqs_client();
    let prefix = format!("{}-", unique("qc"));
    queue_with_dlq(&client, &format!("{prefix}orders"), 5, 30).await;
    let queues = SqsQueues::new(client).with_prefix(&prefix);
    let names = QueueNames {
        queue: "orders".into(),
        dlq: "orders-dlq".into(),
        max_receive_count: 5,
    };
    queue_contract(Arc::new(queues), names).await;
}

#[tokio::test]
async fn relay_contract_on_sqs_and_dynamodb() {
    q2c_testkit::require_moto!();
    let client = sqs_client();
    let prefix = format!("{}-", unique("relay"));
    for queue in ["quote-events", "pricing-changes"] {
        create_queue(&client, &format!("{prefix}{queue}"), HashMap::new()).await;
    }
    let queues = SqsQueues::new(client).with_prefix(&prefix);
    let store = Arc::new(store().await);
    relay_contract(store.clone(), store, Arc::new(queues)).await;
}

/// The poison written straight into the table ahead of everything (an item whose body serde
/// cannot parse, as an old build or a bug could leave): the relay parks it and goes on. It is
/// pending under the unsharded key of releases before the outbox was sharded, which the relay
/// still reads and marks.
#[tokio::test]
async fn parking_contract_on_sqs_and_dynamodb() {
    q2c_testkit::require_moto!();
    let client = sqs_client();
    let prefix = format!("{}-", unique("park"));
    for queue in ["quote-events", "quote-events-dlq", "orders", "orders-dlq"] {
        create_queue(&client, &format!("{prefix}{queue}"), HashMap::new()).await;
    }
    let queues = SqsQueues::new(client).with_prefix(&prefix);
    let store = store().await;
    let s = |v: &str| AttributeValue::S(v.to_owned());
    dynamo_client()
        .put_item()
        .table_name(store.table())
        .item("pk", s("OUTBOX#poison-1"))
        .item("sk", s("EVENT"))
        .item("gsi2pk", s("OUTBOX#PENDING"))
        .item("gsi2sk", s("2000-01-01T00:00:00.000000000Z#000#poison-1"))
        .item("event_id", s("poison-1"))
        .item("event_type", s("ProductOrderCreateEvent"))
        .item("tenant", s("park"))
        .item("aggregate_id", s("o-1"))
        .item("schema_version", s("1.0"))
        .item("destination", s("orders"))
        .item("created_at", s("2000-01-01T00:00:00Z"))
        .item("body", s(&too_deep_body()))
        .send()
        .await
        .expect("put the poison");
    let store = Arc::new(store);
    parking_contract(store.clone(), store, Arc::new(queues), "poison-1").await;
}
