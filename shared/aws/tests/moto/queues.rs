//! The queue and relay contracts against [`SqsQueues`] on moto's SQS (and the relay over
//! [`DynamoStore`](q2c_aws::DynamoStore)'s outbox on moto's DynamoDB).

use std::collections::HashMap;
use std::sync::Arc;

use q2c_aws::SqsQueues;
use q2c_contract::{QueueNames, queue_contract, relay_contract};

use crate::common::{create_queue, queue_with_dlq, sqs_client, store, unique};

#[tokio::test]
async fn queue_contract_on_sqs() {
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
    let client = sqs_client();
    let prefix = format!("{}-", unique("relay"));
    for queue in ["quote-events", "pricing-changes"] {
        create_queue(&client, &format!("{prefix}{queue}"), HashMap::new()).await;
    }
    let queues = SqsQueues::new(client).with_prefix(&prefix);
    let store = Arc::new(store().await);
    relay_contract(store.clone(), store, Arc::new(queues)).await;
}
