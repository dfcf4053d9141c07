//! The capacity model on a real workload: quote lifecycles across 100 tenants (one of them
//! half of the traffic, ten with a hub subscriber) run through the stack's five functions on
//! moto (the stack rehearsal's harness), every DynamoDB and SQS request recorded by moto's
//! server, then priced by AWS's rules and extrapolated to 1,000 lifecycles/s.
//!
//! `Q2C_CAPACITY_LIFECYCLES` sets the number of lifecycles: 30 by default (the CI run, ~1.5 s
//! a lifecycle on a 2-core machine; moto keeps everything in memory and grows by ~30 MB a
//! lifecycle, which bounds a run on this machine to a few hundred). `Q2C_CAPACITY_OUT=<dir>`
//! keeps the recording (`recording.jsonl`, labelled by function) and the report (`report.md`)
//! there. Needs the Python of `tools/test.sh` and the functions' bootstraps, as the rehearsal
//! does.

use q2c_capacity::record::{Record, Service};
use q2c_capacity::replay::Replay;
use q2c_capacity::report::{PARTITION_WCU_PER_SECOND, Report, ShardedKeys};
use q2c_capacity::schema::TableSchema;
use q2c_stack_rehearsal::workload::Workload;
use q2c_stack_rehearsal::{DeployOptions, MotoServer, Rehearsal};
use serde_json::Value;

/// The rate the model extrapolates to.
const TARGET_RATE: f64 = 1_000.0;

/// Shards of the outbox index's keys (`OUTBOX_SHARDS` of `shared/aws/src/dynamo/keys.rs`,
/// exported as `q2c_aws::dynamo::OUTBOX_SHARDS`): each is chosen by a hash of the event id,
/// so the model reports each family's load per shard (`report::ShardedKeys`).
const OUTBOX_SHARDS: u32 = 32;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn quote_lifecycles_through_the_functions_are_priced_per_operation_and_per_key() {
    let unavailable = q2c_stack_rehearsal::moto::unavailable();
    q2c_testkit::skip_unless!(unavailable.is_none(), unavailable.unwrap_or_default());
    let lifecycles: usize = std::env::var("Q2C_CAPACITY_LIFECYCLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(30);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let recording = dir.path().join("moto-record.jsonl");
    let moto = MotoServer::start_recording(&recording)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let rehearsal = Rehearsal::start(&moto, DeployOptions::new("q2c"), dir.path())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    // Only what the workload does is priced: the deploy's requests are left out.
    let deployed = std::fs::read_to_string(&recording).map_or(0, |t| t.lines().count());
    let workload = Workload {
        lifecycles,
        tenants: 100,
        hub_tenants: 10,
        settle_every: 10,
    };
    let outcome = rehearsal
        .run_workload(&workload)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    moto.stop().await;
    assert_eq!(
        outcome.orders_received, lifecycles,
        "one order per lifecycle"
    );

    // The recording, labelled by the function that signed each request.
    let text = std::fs::read_to_string(&recording).expect("the recording");
    let mut records: Vec<Record> = Vec::new();
    for line in text.lines().skip(deployed) {
        let entry: Value = serde_json::from_str(line).expect("a recorded request");
        let principal = entry["principal"].as_str().unwrap_or_default();
        let service = match entry["service"].as_str() {
            Some("dynamodb") => Service::Dynamodb,
            Some("sqs") => Service::Sqs,
            other => panic!("recorded a request to {other:?}"),
        };
        let label = match outcome.principals.get(principal).map(String::as_str) {
            Some(function) if function != "operator" => function.to_owned(),
            // The harness's own table writes seed the catalog once: not part of a lifecycle.
            _ if service == Service::Dynamodb => continue,
            // Its SQS requests play the event source mappings, which AWS bills as requests.
            _ => "event source mappings (SQS polling)".to_owned(),
        };
        records.push(Record {
            service,
            operation: entry["operation"].as_str().unwrap_or_default().to_owned(),
            label: Some(label),
            request: entry["request"].clone(),
            response: entry["response"].clone(),
        });
    }
    for (function, invocations) in &outcome.report.invocations {
        for _ in 0..*invocations {
            records.push(Record {
                service: Service::Lambda,
                operation: "Invoke".into(),
                label: Some(function.clone()),
                request: Value::Null,
                response: Value::Null,
            });
        }
    }

    if let Some(out) = std::env::var_os("Q2C_CAPACITY_OUT") {
        let out = std::path::PathBuf::from(out);
        std::fs::create_dir_all(&out).expect("the output directory");
        let lines: Vec<String> = records
            .iter()
            .map(|r| serde_json::to_string(r).expect("a record"))
            .collect();
        std::fs::write(out.join("recording.jsonl"), lines.join("\n")).expect("write");
    }

    let template = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../infra/template.yaml"
    ))
    .expect("the template");
    let mut replay = Replay::new(TableSchema::from_template(&template).expect("tables"));
    replay.run(&records).unwrap_or_else(|e| panic!("{e}"));
    let report = Report::new(&replay.charges, &replay.requests, &replay.entity_keys())
        .with_sharded(
            ["OUTBOX#PENDING#", "OUTBOX#PUBLISHED#"].map(|prefix| ShardedKeys {
                prefix: prefix.to_owned(),
                shards: OUTBOX_SHARDS,
            }),
        );
    let markdown = report.markdown("lifecycle", lifecycles as f64, TARGET_RATE, 15);
    eprintln!("{lifecycles} lifecycles\n\n{markdown}");
    if let Some(out) = std::env::var_os("Q2C_CAPACITY_OUT") {
        std::fs::write(std::path::Path::new(&out).join("report.md"), &markdown).expect("write");
    }
    // Every data-plane request was priced: nothing but control-plane calls is left out.
    for operation in replay.unpriced.keys() {
        assert!(
            operation.starts_with("Describe")
                || operation.starts_with("List")
                || operation.starts_with("Create"),
            "{operation} was recorded but not priced: {:?}",
            replay.unpriced
        );
    }
    // The API function wrote the quotes, the relay published them, dispatch sent the orders:
    // each shows in the cost table with the units its requests took.
    let step = |name: &str| {
        report
            .steps
            .get(name)
            .unwrap_or_else(|| panic!("no {name} in {:?}", report.steps.keys()))
    };
    assert!(step("q2c-quote-api").write_units >= 3.0 * lifecycles as f64);
    assert!(step("q2c-outbox-relay").sqs_requests > 0);
    assert!(step("q2c-order-dispatch").lambda_invocations > 0);
    // The outbox's index keys are sharded: no event is written to an unsharded key, and each
    // shard stays under a partition's write limit at the target rate (issue 17).
    let outbox = report.family_loads(lifecycles as f64, TARGET_RATE);
    assert_eq!(outbox.len(), 2, "{outbox:?}");
    for family in &outbox {
        assert!(
            family.per_shard.write_units < PARTITION_WCU_PER_SECOND,
            "{family:?}"
        );
    }
    assert!(
        !report
            .keys
            .keys()
            .any(|(_, key)| key == "OUTBOX#PENDING" || key == "OUTBOX#PUBLISHED"),
        "an outbox event on an unsharded key"
    );
    // Every query named its partition key (the model can place every read).
    assert!(
        replay
            .charges
            .iter()
            .all(|c| c.partition_key != "(unknown)"),
        "a query whose partition key the model could not read"
    );
}
