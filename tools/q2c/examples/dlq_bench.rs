//! Benchmark of the manual DLQ redrive (`q2c dlq redrive --manual`): messages per second
//! and queue requests per redriven message, counted through
//! [`CountingBackend`](q2c::dlq::counting::CountingBackend), on the local engine and, when
//! `Q2C_TEST_AWS_ENDPOINT` is set, on moto.
//!
//! `cargo run --release -p q2c --example dlq_bench -- [local messages] [moto messages]`
//! (defaults 5000 and 500). Results: docs/benchmarks.md, "DLQ redrive".

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use q2c::dlq::backend::{AttributeValue, DlqBackend, DlqOutgoing};
use q2c::dlq::counting::CountingBackend;
use q2c::dlq::local::LocalBackend;
use q2c::dlq::ops::{self, MoveOptions};
use q2c::dlq::progress::Progress;
use q2c::dlq::sqs::{SqsBackend, SqsSettings};

async fn seed(backend: &dyn DlqBackend, queue: &str, n: usize) -> anyhow::Result<()> {
    let messages: Vec<DlqOutgoing> = (0..n)
        .map(|i| DlqOutgoing {
            body: format!(
                r#"{{"eventId":"e-{i}","eventType":"ProductOrderCreateEvent","event":{{"productOrder":{{"id":"o-{i}","note":"{}"}}}}}}"#,
                "x".repeat(600)
            ),
            attributes: BTreeMap::from([
                ("eventType".to_owned(), AttributeValue::string("ProductOrderCreateEvent")),
                ("eventId".to_owned(), AttributeValue::string(format!("e-{i}"))),
                ("tenant".to_owned(), AttributeValue::string("acme")),
                ("failureReason".to_owned(), AttributeValue::string("order management down")),
            ]),
        })
        .collect();
    for chunk in messages.chunks(10) {
        backend.send_batch(queue, chunk).await?;
    }
    Ok(())
}

async fn measure<B: DlqBackend>(
    label: &str,
    backend: CountingBackend<B>,
    dlq: &str,
    destination: &str,
    n: usize,
) -> anyhow::Result<()> {
    seed(&backend, dlq, n).await?;
    let before = backend.calls();
    let options = MoveOptions {
        visibility: Duration::from_secs(60),
        ..MoveOptions::default()
    };
    let started = Instant::now();
    let summary = ops::move_messages(
        &backend,
        dlq,
        destination,
        &options,
        &mut Progress::hidden(),
    )
    .await?;
    let elapsed = started.elapsed();
    let mut calls = backend.calls();
    for (operation, count) in before {
        *calls.entry(operation).or_default() -= count;
    }
    let requests: u64 = calls.values().sum();
    println!(
        "{label}: moved {} of {n} in {:.2} s = {:.0} messages/s; {requests} requests = {:.3} per message {calls:?}",
        summary.moved,
        elapsed.as_secs_f64(),
        summary.moved as f64 / elapsed.as_secs_f64(),
        requests as f64 / summary.moved.max(1) as f64,
    );
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let local_n: usize = args.next().map_or(Ok(5000), |a| a.parse())?;
    let moto_n: usize = args.next().map_or(Ok(500), |a| a.parse())?;

    let dir = tempfile::tempdir()?;
    let store = q2c_local::SqliteStore::open(&dir.path().join(q2c::local::DATABASE_FILE))?;
    let local = CountingBackend::new(LocalBackend::new(
        q2c_local::SqliteQueues::new(&store),
        None,
    ));
    measure(
        "local (SQLite file)",
        local,
        "orders-dlq",
        "orders",
        local_n,
    )
    .await?;

    if let Ok(endpoint) = std::env::var("Q2C_TEST_AWS_ENDPOINT") {
        let client = q2c::dlq::sqs::client(&SqsSettings {
            endpoint_url: Some(endpoint),
            region: Some(std::env::var("AWS_REGION").unwrap_or_else(|_| "eu-west-1".into())),
            profile: None,
        })
        .await;
        let prefix = format!("bench{}-", &uuid::Uuid::new_v4().simple().to_string()[..8]);
        for name in ["orders", "orders-dlq"] {
            client
                .create_queue()
                .queue_name(format!("{prefix}{name}"))
                .send()
                .await?;
        }
        let moto = CountingBackend::new(SqsBackend::new(client, &prefix, None));
        let (dlq, destination) = (format!("{prefix}orders-dlq"), format!("{prefix}orders"));
        measure("moto (SQS API)", moto, &dlq, &destination, moto_n).await?;
    } else {
        println!("moto: skipped (Q2C_TEST_AWS_ENDPOINT unset)");
    }
    Ok(())
}
