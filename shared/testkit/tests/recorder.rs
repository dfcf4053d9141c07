//! The request recorder on moto: what a DynamoDB and an SQS client send is recorded with its
//! operation, table or queue, partition keys, sizes and instants; requests made one after
//! the other form the critical path; requests made without the interceptor are not
//! recorded. Needs `Q2C_TEST_AWS_ENDPOINT` (tools/test.sh starts moto).

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use q2c_testkit::recorder::{self, Recorder, Service};
use q2c_testkit::{dynamo, moto, sqs};

fn s(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_owned())
}

#[tokio::test]
async fn records_dynamodb_and_sqs_requests_with_their_targets_keys_and_sizes() {
    q2c_testkit::require_moto!();
    let plain = moto::dynamo_client();
    let table = dynamo::unique_table(&plain, "q2c-rec").await;
    let queue = sqs::create_queue(&moto::sqs_client(), &moto::unique("rec"), HashMap::new()).await;
    let queue_name = queue.rsplit('/').next().expect("a queue name").to_owned();

    let recorder = Recorder::new();
    let (dynamo, sqs_client) = (recorder.dynamo_client(), recorder.sqs_client());
    // Three writes one after the other: each waits for the previous one.
    for i in 0..3 {
        dynamo
            .put_item()
            .table_name(&table)
            .item("pk", s(&format!("REC#{i}")))
            .item("sk", s("A"))
            .item("body", s(&"x".repeat(100 * (i + 1))))
            .send()
            .await
            .expect("put");
    }
    dynamo
        .query()
        .table_name(&table)
        .key_condition_expression("pk = :pk")
        .expression_attribute_values(":pk", s("REC#1"))
        .send()
        .await
        .expect("query");
    sqs_client
        .send_message()
        .queue_url(&queue)
        .message_body("hello")
        .send()
        .await
        .expect("send");
    // Not recorded: a client without the interceptor.
    plain
        .get_item()
        .table_name(&table)
        .key("pk", s("REC#0"))
        .key("sk", s("A"))
        .send()
        .await
        .expect("get");

    let requests = recorder.requests();
    let operations: Vec<&str> = requests.iter().map(|r| r.operation.as_str()).collect();
    assert_eq!(
        operations,
        ["PutItem", "PutItem", "PutItem", "Query", "SendMessage"]
    );
    for (i, put) in requests[..3].iter().enumerate() {
        assert_eq!(put.service, Service::DynamoDb);
        assert_eq!(put.targets, vec![table.clone()]);
        assert_eq!(put.partition_keys, vec![format!("REC#{i}")]);
        // pk(2) + "REC#i"(5) + sk(2) + "A"(1) + body(4) + the body's characters.
        assert_eq!(put.item_sizes, vec![14 + 100 * (i + 1)]);
        assert!(put.request_bytes > 100 * (i + 1), "{put:?}");
        assert_eq!(put.status, Some(200));
        assert_eq!(put.attempt, 1);
        assert!(put.end >= put.start);
    }
    assert_eq!(requests[3].partition_keys, vec!["REC#1".to_owned()]);
    assert_eq!(requests[4].service, Service::Sqs);
    assert_eq!(requests[4].targets, vec![queue_name]);
    assert_eq!(requests[4].item_sizes, vec![5]);

    // Each request was sent after the previous one answered: nothing overlapped, and the
    // critical path is every request, as long as the serial time.
    assert_eq!(recorder::max_in_flight(&requests), 1);
    assert!(recorder::concurrent_with(&requests).iter().all(|n| *n == 0));
    let path = recorder::critical_path(&requests);
    assert_eq!(path.requests, requests.len());
    assert_eq!(path.duration, recorder::serial(&requests));

    recorder.clear();
    assert!(recorder.requests().is_empty());
}

#[tokio::test]
async fn concurrent_requests_are_recorded_each_with_its_own_instants() {
    q2c_testkit::require_moto!();
    let plain = moto::dynamo_client();
    let table = dynamo::unique_table(&plain, "q2c-rec").await;
    let recorder = Recorder::new();
    let dynamo = recorder.dynamo_client();
    let puts = (0..8).map(|i| {
        dynamo
            .put_item()
            .table_name(&table)
            .item("pk", s(&format!("C#{i}")))
            .item("sk", s("A"))
            .send()
    });
    for result in futures::future::join_all(puts).await {
        result.expect("put");
    }
    let requests = recorder.requests();
    assert_eq!(requests.len(), 8);
    let mut keys: Vec<String> = requests
        .iter()
        .flat_map(|r| r.partition_keys.clone())
        .collect();
    keys.sort();
    assert_eq!(keys, (0..8).map(|i| format!("C#{i}")).collect::<Vec<_>>());
    // Whatever overlapped, a chain of non-overlapping requests is never longer than all of
    // them one after the other, and holds at least one request.
    let path = recorder::critical_path(&requests);
    assert!(path.requests >= 1 && path.requests <= 8);
    assert!(path.duration <= recorder::serial(&requests));
}
