//! The price fan-out's continuation scenario on DynamoDB + SQS (moto): the change and its
//! continuation messages travel through a real `pricing-changes` queue. 100 quotes in pages
//! of 7 (15 messages): moto serialises transactions and is shared by every test, so the
//! 1,000-quote run stays on SQLite (`shared/local/tests/contract.rs`); the paging and
//! continuation code paths are the same.

use std::sync::Arc;

use q2c_aws::{DynamoStore, SqsQueues};
use q2c_service::ports::{Ports, SystemClock};

use crate::common::{queue_with_dlq, sqs_client, store, unique};

/// The fan-out's ports on a fresh table and its `pricing-changes` queue (with DLQ), under a
/// unique prefix starting with `tag`.
async fn fanout_setup(tag: &str) -> (Ports, Arc<DynamoStore>, Arc<SqsQueues>) {
    let client = sqs_client();
    let prefix = format!("{}-", unique(tag));
    queue_with_dlq(&client, &format!("{prefix}pricing-changes"), 5, 60).await;
    let queues = Arc::new(SqsQueues::new(client).with_prefix(&prefix));
    let store = Arc::new(store().await);
    let ports = store.ports(
        Arc::new(q2c_contract::fanout::DefaultSettings),
        Arc::new(SystemClock),
    );
    (ports, store, queues)
}

#[tokio::test]
async fn fanout_continuation_over_sqs_and_dynamodb() {
    q2c_testkit::require_moto!();
    let (ports, store, queues) = fanout_setup("fan").await;
    q2c_contract::fanout_continuation_scenario(
        ports,
        store.clone(),
        store.clone(),
        store,
        queues,
        100,
        7,
        1,
    )
    .await;
}

#[tokio::test]
async fn offering_retirement_over_sqs_and_dynamodb() {
    q2c_testkit::require_moto!();
    let (ports, store, queues) = fanout_setup("ret").await;
    q2c_contract::offering_retirement_scenario(
        ports,
        (store.clone(), store.clone()),
        store,
        queues,
    )
    .await;
}
