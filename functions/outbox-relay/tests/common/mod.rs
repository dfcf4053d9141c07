//! What the relay tests on moto share: a fresh table and queue prefix, the stack's queues
//! under that prefix, and the relay over them.

use std::collections::HashMap;
use std::sync::Arc;

use q2c_aws::{DynamoStore, SqsPublisher};
use q2c_fn_outbox_relay::Relay;
use q2c_runtime::Metrics;
use q2c_testkit::sqs::create_queue;
use q2c_testkit::{dynamo, moto};

/// A table and a queue prefix of their own on moto.
pub struct MotoStack {
    /// The store over the table.
    pub store: DynamoStore,
    /// The SQS client.
    pub sqs: aws_sdk_sqs::Client,
    /// The prefix of the stack's queues.
    pub prefix: String,
}

impl MotoStack {
    /// A new table named after `table` and a new queue prefix named after `prefix`.
    pub async fn new(table: &str, prefix: &str) -> Self {
        let (dynamo, sqs) = (moto::dynamo_client(), moto::sqs_client());
        let table = dynamo::unique_table(&dynamo, table).await;
        MotoStack {
            store: DynamoStore::new(dynamo, table),
            sqs,
            prefix: moto::queue_prefix(prefix),
        }
    }

    /// Creates the stack's queue `name` (under the prefix); its URL.
    pub async fn queue(&self, name: &str) -> String {
        create_queue(&self.sqs, &format!("{}{name}", self.prefix), HashMap::new()).await
    }

    /// The relay over the table, publishing to the queues under the prefix.
    pub fn relay(&self) -> Relay {
        Relay::new(
            self.store.clone(),
            SqsPublisher::new(self.sqs.clone()).with_prefix(self.prefix.clone()),
            Arc::new(Metrics::new("test")),
        )
    }
}
