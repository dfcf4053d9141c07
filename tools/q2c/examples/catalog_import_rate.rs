//! Catalog import rate (`docs/benchmarks.md`, "Catalog import"): generates an export of N
//! offerings (plus N/10 prices), imports it with `q2c catalog import`'s code path into a
//! fresh local data directory and, when `Q2C_TEST_AWS_ENDPOINT` is set, into a fresh
//! DynamoDB table and SQS queue there (moto), and prints entries/s of the first import
//! (everything created) and of the re-run (everything unchanged).
//!
//! `cargo run --release -p q2c --example catalog_import_rate -- 5000`

use std::time::Instant;

use q2c::catalog_cmd::{SyncMode, SyncTarget, sync};
use serde_json::json;

fn export(n: usize) -> serde_json::Value {
    let offerings: Vec<_> = (0..n)
        .map(|i| {
            json!({
                "id": format!("bench-po-{i:06}"), "name": format!("Offering {i}"),
                "@type": "ProductOffering", "lifecycleStatus": "Active", "isSellable": true,
                "lastUpdate": "2026-07-01T10:00:00Z",
                "productOfferingPrice": [{"id": format!("bench-pop-{:06}", i % (n / 10).max(1))}],
                "prodSpecCharValueUse": [{"name": "speed", "productSpecCharacteristicValue": [{"value": 100}, {"value": 1000}]}],
                "x-vendor": {"sku": i}
            })
        })
        .collect();
    let prices: Vec<_> = (0..(n / 10).max(1))
        .map(|i| {
            json!({
                "id": format!("bench-pop-{i:06}"), "priceType": "recurring",
                "recurringChargePeriodType": "month",
                "price": {"unit": "EUR", "value": 10 + i}, "lastUpdate": "2026-07-01T10:00:00Z"
            })
        })
        .collect();
    json!({"productOffering": offerings, "productOfferingPrice": prices})
}

async fn measure(name: &str, file: &std::path::Path, target: &SyncTarget, entries: usize) {
    for run in ["first import", "re-run"] {
        let started = Instant::now();
        let report = sync(file, target, SyncMode::Import, false)
            .await
            .expect("import");
        let seconds = started.elapsed().as_secs_f64();
        println!(
            "{name} {run}: {entries} entries in {seconds:.2} s = {:.0} entries/s (created {}, unchanged {})",
            entries as f64 / seconds,
            report.summary.created,
            report.summary.unchanged
        );
    }
}

#[tokio::main]
async fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(5_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("catalog.json");
    std::fs::write(&file, export(n).to_string()).expect("write");
    let entries = n + (n / 10).max(1);
    let local = SyncTarget::Local {
        data_dir: dir.path().join("data"),
    };
    measure("local (SQLite)", &file, &local, entries).await;

    if let Ok(endpoint) = std::env::var("Q2C_TEST_AWS_ENDPOINT") {
        let suffix = uuid::Uuid::new_v4().simple().to_string();
        let table = format!("q2c-bench-{suffix}");
        let prefix = format!("bench-{suffix}-");
        let config = q2c::aws::sdk_config(Some(&endpoint), Some("eu-west-1"), None).await;
        q2c_testkit::dynamo::create_table(&aws_sdk_dynamodb::Client::new(&config), &table).await;
        q2c_testkit::sqs::create_queue(
            &aws_sdk_sqs::Client::new(&config),
            &format!("{prefix}pricing-changes"),
            Default::default(),
        )
        .await;
        let aws = SyncTarget::Aws {
            table,
            endpoint_url: Some(endpoint),
            region: Some("eu-west-1".into()),
            profile: None,
            queue_prefix: prefix,
        };
        measure("moto (DynamoDB + SQS)", &file, &aws, entries).await;
    }
}
