//! `q2c catalog import|diff --table … --endpoint-url …` against DynamoDB and SQS on moto
//! (`Q2C_TEST_AWS_ENDPOINT`, as the moto suites of `q2c-aws`): the valid entries land in the
//! table through the DynamoDB adapter, one change event per entry on the SQS
//! `pricing-changes` queue, a re-run changes nothing, and diff plans what import does.

use q2c::catalog_cmd::{SyncMode, SyncTarget, sync};
use q2c_service::catalog_sync::Action;
use serde_json::{Value, json};

mod catalog_common;

fn offering(n: usize, day: u32) -> Value {
    json!({
        "id": format!("aws-po-{n:04}"),
        "name": format!("offering {n} v{day}"),
        "@type": "ImportedOffering",
        "isSellable": true,
        "lastUpdate": format!("2026-07-{day:02}T10:00:00Z"),
        "x-extra": {"n": n}
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_imports_into_dynamodb_with_events_on_sqs() {
    q2c_testkit::require_moto!();
    let endpoint = q2c_testkit::moto::endpoint();
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    let table = format!("q2c-import-{suffix}");
    let prefix = format!("imp-{suffix}-");
    let config = q2c::aws::sdk_config(Some(&endpoint), Some("eu-west-1"), None).await;
    let dynamo = aws_sdk_dynamodb::Client::new(&config);
    q2c_testkit::dynamo::create_table(&dynamo, &table).await;
    let sqs = aws_sdk_sqs::Client::new(&config);
    let queue_url = q2c_testkit::sqs::create_queue(
        &sqs,
        &format!("{prefix}pricing-changes"),
        Default::default(),
    )
    .await;

    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("catalog.json");
    let mut offerings: Vec<Value> = (0..300).map(|n| offering(n, 1)).collect();
    offerings[42]["lastUpdate"] = json!(null);
    let prices = vec![json!({
        "id": "aws-pop-1", "priceType": "recurring",
        "price": {"unit": "EUR", "value": 9.99}, "lastUpdate": "2026-07-01T10:00:00Z"
    })];
    let write = |offerings: &[Value]| {
        std::fs::write(
            &file,
            json!({"productOffering": offerings, "productOfferingPrice": prices}).to_string(),
        )
        .expect("write");
    };
    write(&offerings);
    let target = SyncTarget::Aws {
        table: table.clone(),
        endpoint_url: Some(endpoint.clone()),
        region: Some("eu-west-1".into()),
        profile: None,
        queue_prefix: prefix.clone(),
    };

    let first = sync(&file, &target, SyncMode::Import, false)
        .await
        .expect("import");
    assert_eq!(first.summary.created, 300, "{:?}", first.errors);
    assert_eq!(first.summary.invalid, 1);
    assert_eq!(first.errors[0].path, "$.productOffering[42].lastUpdate");

    let store = q2c_aws::DynamoStore::new(dynamo, table);
    let read = q2c_service::ports::CatalogStore::offerings(&store, &["aws-po-0007".to_owned()])
        .await
        .expect("read");
    assert_eq!(serde_json::to_value(&read[0]).expect("json"), offerings[7]);
    let attributes = sqs
        .get_queue_attributes()
        .queue_url(&queue_url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
        .send()
        .await
        .expect("attributes");
    let pending = attributes
        .attributes
        .and_then(|a| {
            a.get(&aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
                .cloned()
        })
        .expect("count");
    assert_eq!(pending, "300", "one change event per imported entry");

    let again = sync(&file, &target, SyncMode::Import, false)
        .await
        .expect("re-run");
    assert_eq!(again.summary.changed(), 0);

    for (n, entry) in offerings.iter_mut().enumerate().take(5) {
        *entry = offering(n, 2);
    }
    write(&offerings);
    let done = catalog_common::diff_then_import(&file, &target).await;
    assert_eq!(
        done.entries
            .iter()
            .filter(|e| e.action == Action::Update)
            .count(),
        5
    );
}
