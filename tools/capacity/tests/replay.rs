//! The replay's pricing rules, each on a request a q2c adapter makes.

use q2c_capacity::record::{Record, Service, parse_lines};
use q2c_capacity::replay::Replay;
use q2c_capacity::report::{Report, ShardedKeys};
use q2c_capacity::schema::TableSchema;
use serde_json::{Value, json};

const TEMPLATE: &str = r#"
Resources:
  DataTable:
    Type: AWS::DynamoDB::Table
    Properties:
      KeySchema: [{AttributeName: pk, KeyType: HASH}, {AttributeName: sk, KeyType: RANGE}]
      GlobalSecondaryIndexes:
        - IndexName: gsi1
          KeySchema: [{AttributeName: gsi1pk, KeyType: HASH}, {AttributeName: gsi1sk, KeyType: RANGE}]
          Projection: {ProjectionType: ALL}
        - IndexName: gsi2
          KeySchema: [{AttributeName: gsi2pk, KeyType: HASH}, {AttributeName: gsi2sk, KeyType: RANGE}]
          Projection: {ProjectionType: KEYS_ONLY}
"#;

fn replay(records: Vec<Record>) -> Replay {
    let mut replay = Replay::new(TableSchema::from_template(TEMPLATE).unwrap());
    replay.run(&records).unwrap();
    replay
}

fn dynamodb(operation: &str, request: Value, response: Value) -> Record {
    Record {
        service: Service::Dynamodb,
        operation: operation.into(),
        label: None,
        request,
        response,
    }
}

/// A string of `n` bytes.
fn bytes(n: usize) -> String {
    "x".repeat(n)
}

fn put(item: Value) -> Record {
    dynamodb(
        "PutItem",
        json!({"TableName": "q2c-data", "Item": item}),
        json!({}),
    )
}

fn units(replay: &Replay, target: &str) -> (f64, f64) {
    replay
        .charges
        .iter()
        .filter(|c| c.target == target)
        .fold((0.0, 0.0), |(w, r), c| {
            (w + c.write_units, r + c.read_units)
        })
}

#[test]
fn a_put_into_both_indexes_costs_the_table_and_each_projection() {
    // 2 + 3 + 1024 + ... : the body makes the item just over 1 KB, so the base write is 2 units;
    // gsi1 projects ALL (2 units), gsi2 only keys (1 unit).
    let replay = replay(vec![put(json!({
        "pk": {"S": "Q#1"}, "sk": {"S": "QUOTE"},
        "gsi1pk": {"S": "T#a"}, "gsi1sk": {"S": "1"},
        "gsi2pk": {"S": "OUTBOX#PENDING"}, "gsi2sk": {"S": "1"},
        "body": {"S": bytes(1000)}
    }))]);
    assert_eq!(units(&replay, "q2c-data"), (2.0, 0.0));
    assert_eq!(units(&replay, "q2c-data/gsi1"), (2.0, 0.0));
    assert_eq!(units(&replay, "q2c-data/gsi2"), (1.0, 0.0));
}

#[test]
fn an_item_without_an_index_key_costs_that_index_nothing() {
    let replay = replay(vec![put(json!({"pk": {"S": "Q#1"}, "sk": {"S": "QUOTE"}}))]);
    assert_eq!(units(&replay, "q2c-data/gsi1"), (0.0, 0.0));
    assert_eq!(replay.charges.len(), 1);
}

#[test]
fn changing_an_index_key_is_a_delete_and_a_put_in_that_index() {
    let replay = replay(vec![
        put(
            json!({"pk": {"S": "E#1"}, "sk": {"S": "EVENT"}, "gsi2pk": {"S": "OUTBOX#PENDING"}, "gsi2sk": {"S": "1"}}),
        ),
        dynamodb(
            "UpdateItem",
            json!({
                "TableName": "q2c-data",
                "Key": {"pk": {"S": "E#1"}, "sk": {"S": "EVENT"}},
                "UpdateExpression": "SET #p = :published",
                "ExpressionAttributeNames": {"#p": "gsi2pk"},
                "ExpressionAttributeValues": {":published": {"S": "OUTBOX#PUBLISHED"}}
            }),
            json!({}),
        ),
    ]);
    let gsi2: Vec<_> = replay
        .charges
        .iter()
        .filter(|c| c.target == "q2c-data/gsi2")
        .collect();
    assert_eq!(gsi2.len(), 3, "put, then delete + put: {gsi2:?}");
    assert_eq!(gsi2[1].partition_key, "OUTBOX#PENDING");
    assert_eq!(gsi2[2].partition_key, "OUTBOX#PUBLISHED");
}

#[test]
fn an_update_of_a_non_projected_attribute_does_not_touch_a_keys_only_index() {
    let replay = replay(vec![
        put(
            json!({"pk": {"S": "E#1"}, "sk": {"S": "EVENT"}, "gsi2pk": {"S": "P"}, "gsi2sk": {"S": "1"}, "n": {"N": "1"}}),
        ),
        dynamodb(
            "UpdateItem",
            json!({
                "TableName": "q2c-data",
                "Key": {"pk": {"S": "E#1"}, "sk": {"S": "EVENT"}},
                "UpdateExpression": "ADD n :one",
                "ExpressionAttributeValues": {":one": {"N": "1"}}
            }),
            json!({}),
        ),
    ]);
    assert_eq!(
        units(&replay, "q2c-data/gsi2"),
        (1.0, 0.0),
        "only the first put"
    );
}

#[test]
fn an_update_is_priced_by_the_larger_of_before_and_after() {
    let replay = replay(vec![
        put(json!({"pk": {"S": "Q#1"}, "sk": {"S": "QUOTE"}, "body": {"S": bytes(3000)}})),
        dynamodb(
            "UpdateItem",
            json!({
                "TableName": "q2c-data",
                "Key": {"pk": {"S": "Q#1"}, "sk": {"S": "QUOTE"}},
                "UpdateExpression": "REMOVE body"
            }),
            json!({}),
        ),
    ]);
    let writes: Vec<f64> = replay.charges.iter().map(|c| c.write_units).collect();
    assert_eq!(writes, vec![3.0, 3.0]);
}

#[test]
fn a_transaction_doubles_base_writes_but_not_index_propagation() {
    let replay = replay(vec![dynamodb(
        "TransactWriteItems",
        json!({"TransactItems": [
            {"Put": {"TableName": "q2c-data", "Item": {"pk": {"S": "Q#1"}, "sk": {"S": "QUOTE"}, "gsi1pk": {"S": "T"}, "gsi1sk": {"S": "1"}}}},
            {"Put": {"TableName": "q2c-data", "Item": {"pk": {"S": "E#1"}, "sk": {"S": "EVENT"}}}}
        ]}),
        json!({}),
    )]);
    assert_eq!(units(&replay, "q2c-data"), (4.0, 0.0));
    assert_eq!(units(&replay, "q2c-data/gsi1"), (1.0, 0.0));
}

#[test]
fn a_refused_conditional_write_costs_a_write_and_changes_nothing() {
    let replay = replay(vec![
        dynamodb(
            "PutItem",
            json!({"TableName": "q2c-data", "Item": {"pk": {"S": "Q#1"}, "sk": {"S": "QUOTE"}, "gsi1pk": {"S": "T"}, "gsi1sk": {"S": "1"}}}),
            json!({"__type": "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException"}),
        ),
        dynamodb(
            "GetItem",
            json!({"TableName": "q2c-data", "Key": {"pk": {"S": "Q#1"}, "sk": {"S": "QUOTE"}}, "ConsistentRead": true}),
            json!({}),
        ),
    ]);
    assert_eq!(units(&replay, "q2c-data"), (1.0, 1.0));
    assert_eq!(units(&replay, "q2c-data/gsi1"), (0.0, 0.0));
}

#[test]
fn a_query_rounds_once_over_what_it_read_and_estimates_what_a_filter_dropped() {
    let item = |n: u32| json!({"pk": {"S": "T#a"}, "sk": {"S": n.to_string()}, "body": {"S": bytes(1000)}});
    let replay = replay(vec![
        dynamodb(
            "Query",
            json!({
                "TableName": "q2c-data",
                "KeyConditionExpression": "#pk = :pk",
                "ExpressionAttributeNames": {"#pk": "pk"},
                "ExpressionAttributeValues": {":pk": {"S": "T#a"}},
                "ConsistentRead": true
            }),
            json!({"Items": [item(1), item(2), item(3)], "Count": 3, "ScannedCount": 3}),
        ),
        dynamodb(
            "Query",
            json!({
                "TableName": "q2c-data",
                "KeyConditionExpression": "pk = :pk",
                "ExpressionAttributeValues": {":pk": {"S": "T#a"}}
            }),
            json!({"Items": [item(1)], "Count": 1, "ScannedCount": 8}),
        ),
    ]);
    let queries: Vec<_> = replay.charges.iter().collect();
    assert_eq!(queries[0].read_units, 1.0, "3 × ~1 KB in one 4 KB unit");
    assert_eq!(queries[0].partition_key, "T#a");
    assert!(!queries[0].estimated);
    // 8 items of ~1 KB read, eventually consistent: 2 units × ½
    assert_eq!(queries[1].read_units, 1.0);
    assert!(queries[1].estimated);
}

#[test]
fn a_batch_get_rounds_each_item() {
    let replay = replay(vec![dynamodb(
        "BatchGetItem",
        json!({"RequestItems": {"q2c-data": {"ConsistentRead": true, "Keys": [
            {"pk": {"S": "Q#1"}, "sk": {"S": "QUOTE"}},
            {"pk": {"S": "Q#2"}, "sk": {"S": "QUOTE"}}
        ]}}}),
        json!({"Responses": {"q2c-data": [
            {"pk": {"S": "Q#1"}, "sk": {"S": "QUOTE"}, "body": {"S": bytes(1_500)}},
            {"pk": {"S": "Q#2"}, "sk": {"S": "QUOTE"}, "body": {"S": bytes(6_600)}}
        ]}}),
    )]);
    assert_eq!(units(&replay, "q2c-data"), (0.0, 3.0));
}

#[test]
fn sqs_bills_each_64_kb_chunk_and_the_report_sums_steps() {
    let text = [
        json!({"service": "sqs", "operation": "SendMessageBatch", "label": "relay",
               "request": {"Entries": [{"MessageBody": bytes(40_000)}, {"MessageBody": bytes(40_000)}]}}),
        json!({"service": "sqs", "operation": "DeleteMessageBatch", "label": "relay", "request": {}}),
        json!({"service": "lambda", "operation": "Invoke", "label": "relay"}),
    ]
    .iter()
    .map(Value::to_string)
    .collect::<Vec<_>>()
    .join("\n");
    let replay = replay(parse_lines(&text).unwrap());
    let report = Report::new(&replay.charges, &replay.requests, &replay.entity_keys());
    let relay = &report.steps["relay"];
    assert_eq!(
        relay.sqs_requests, 3,
        "80,000 bytes are two chunks, the delete one"
    );
    assert_eq!(relay.lambda_invocations, 1);
}

#[test]
fn the_hottest_key_is_extrapolated_to_the_target_rate() {
    let records: Vec<Record> = (0..10)
        .map(|n| put(json!({"pk": {"S": format!("Q#{n}")}, "sk": {"S": "QUOTE"}, "gsi2pk": {"S": "OUTBOX#PENDING"}, "gsi2sk": {"S": n.to_string()}})))
        .collect();
    let replay = replay(records);
    let report = Report::new(&replay.charges, &replay.requests, &replay.entity_keys());
    // 10 puts = 10 "lifecycles"; at 1,000/s the shared index key takes 1,000 WCU/s.
    let hottest = &report.key_load_at(10.0, 1_000.0)[0];
    assert_eq!(
        (hottest.0.as_str(), hottest.1.as_str()),
        ("q2c-data/gsi2", "OUTBOX#PENDING")
    );
    assert_eq!(hottest.2.write_units, 1_000.0);
}

#[test]
fn the_deployed_template_has_the_table_the_adapters_write() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../infra/template.yaml"
    ))
    .unwrap();
    let tables = TableSchema::from_template(&text).unwrap();
    assert_eq!(tables.len(), 1, "{tables:?}");
    assert_eq!(tables[0].partition_key, "pk");
    assert!(tables[0].indexes.iter().any(|i| i.name == "gsi2"));
}

#[test]
fn a_key_created_for_one_entity_is_not_extrapolated_but_a_shared_one_is() {
    let conditional = |pk: &str, sk: &str| {
        dynamodb(
            "PutItem",
            json!({"TableName": "q2c-data", "ConditionExpression": "attribute_not_exists(pk)",
                   "Item": {"pk": {"S": pk}, "sk": {"S": sk}}}),
            json!({}),
        )
    };
    let replay = replay(vec![
        conditional("Q#1", "QUOTE"),
        conditional("Q#2", "QUOTE"),
        // One partition, two items: a collection every quote adds to.
        conditional("POPIDX#p", "Q#1"),
        conditional("POPIDX#p", "Q#2"),
        // Written without a creating condition: shared (a counter, the catalog).
        put(json!({"pk": {"S": "COUNT#1"}, "sk": {"S": "N"}})),
    ]);
    let entities = replay.entity_keys();
    assert!(entities.contains(&("q2c-data".to_owned(), "Q#1".to_owned())));
    assert!(!entities.contains(&("q2c-data".to_owned(), "POPIDX#p".to_owned())));
    assert!(!entities.contains(&("q2c-data".to_owned(), "COUNT#1".to_owned())));
    let report = Report::new(&replay.charges, &replay.requests, &entities);
    let shared: Vec<String> = report
        .key_load_at(2.0, 1.0)
        .into_iter()
        .map(|(_, k, _)| k)
        .collect();
    assert_eq!(shared.len(), 2, "{shared:?}");
    assert!(shared.contains(&"POPIDX#p".to_owned()) && shared.contains(&"COUNT#1".to_owned()));
    assert_eq!(report.entity_keys.len(), 2);
}

#[test]
fn a_declared_sharded_family_is_one_row_with_the_load_of_each_shard() {
    // 10 "lifecycles": 7 writes to shard 0, 3 to shard 1 of a 4-shard family, 2 to a key
    // outside it (the unsharded key) and 1 to a shard number past the family.
    let key = |n: usize, pk: &str| {
        put(
            json!({"pk": {"S": format!("E#{n}")}, "sk": {"S": "EVENT"}, "gsi2pk": {"S": pk}, "gsi2sk": {"S": n.to_string()}}),
        )
    };
    let mut records: Vec<Record> = (0..7).map(|n| key(n, "OUTBOX#PENDING#0")).collect();
    records.extend((7..10).map(|n| key(n, "OUTBOX#PENDING#1")));
    records.extend((10..12).map(|n| key(n, "OUTBOX#PENDING")));
    records.push(key(12, "OUTBOX#PENDING#4"));
    let replay = replay(records);
    let family: ShardedKeys = "OUTBOX#PENDING#=4".parse().unwrap();
    let report = Report::new(&replay.charges, &replay.requests, &replay.entity_keys())
        .with_sharded([family.clone()]);
    let gsi2: Vec<(String, f64)> = report
        .key_load_at(10.0, 1_000.0)
        .into_iter()
        .filter(|(target, _, _)| target == "q2c-data/gsi2")
        .map(|(_, key, load)| (key, load.write_units))
        .collect();
    // 10 writes of 1 WCU over 10 units at 1,000 units/s: 1,000 WCU/s over 4 shards.
    assert_eq!(
        gsi2,
        vec![
            ("OUTBOX#PENDING#<n>".to_owned(), 250.0),
            ("OUTBOX#PENDING".to_owned(), 200.0),
            ("OUTBOX#PENDING#4".to_owned(), 100.0),
        ]
    );
    let families = report.family_loads(10.0, 1_000.0);
    assert_eq!(families.len(), 1);
    assert_eq!(families[0].family, family);
    assert_eq!(families[0].shards_seen, 2);
    assert_eq!(families[0].busiest_in_sample.write_units, 700.0);
    assert!(
        report
            .markdown("unit", 10.0, 1_000.0, 5)
            .contains("is 4 hash shards")
    );
    assert!("OUTBOX#PENDING#".parse::<ShardedKeys>().is_err());
    assert!("=3".parse::<ShardedKeys>().is_err());
    assert!("P#=0".parse::<ShardedKeys>().is_err());
}
