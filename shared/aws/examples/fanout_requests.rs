//! Benchmark: DynamoDB requests per affected quote of a price change. `PriceFanout` over a
//! `DynamoStore` (moto) with continuations through a real SQS `pricing-changes` queue
//! (`SqsQueues`); announcements go to a recording no-op. Quotes are created one at a time
//! (moto answers 500 to concurrent transactions) through the quote service, then a change of
//! their price is handled message by message until the queue is empty; the store's
//! `RequestCounter` gives the requests the fan-out made, by operation. Results go to
//! docs/benchmarks.md. Run (with moto on :5055):
//!
//! ```sh
//! Q2C_TEST_AWS_ENDPOINT=http://127.0.0.1:5055 AWS_ACCESS_KEY_ID=testing \
//!   AWS_SECRET_ACCESS_KEY=testing AWS_REGION=eu-west-1 \
//!   cargo run -p q2c-aws --example fanout_requests -- 10 100 1000
//! ```

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use q2c_aws::{DynamoStore, SqsQueues};
use q2c_contract::fanout::{
    DefaultSettings, RecordingAnnounce, create_quote_of, price_change_event, run_fanout_queue,
    seed_bench_offering, send_change_to,
};
use q2c_contract::fixtures::unique;
use q2c_model::tmf::ProductOfferingPrice;
use q2c_service::context::TenantId;
use q2c_service::fanout::{FanoutConfig, PageReport, PriceFanout};
use q2c_service::ports::SystemClock;
use q2c_service::quotes::{QuoteService, QuoteServiceConfig};
use q2c_testkit::moto::{dynamo_client, sqs_client};

const QUEUE: &str = "pricing-changes";

/// What one run created on moto, removed after it (moto keeps everything in memory).
struct Created {
    table: String,
    queue_url: String,
}

impl Created {
    async fn remove(self) {
        dynamo_client()
            .delete_table()
            .table_name(&self.table)
            .send()
            .await
            .expect("delete table");
        sqs_client()
            .delete_queue()
            .queue_url(&self.queue_url)
            .send()
            .await
            .expect("delete queue");
    }
}

/// A fresh table and queue, seeded with `count` open quotes of one offering (40.00 a month);
/// returns the store, the queues, the price and what to remove afterwards.
async fn seed(count: usize) -> (DynamoStore, Arc<SqsQueues>, ProductOfferingPrice, Created) {
    let client = dynamo_client();
    let table = format!("q2c-bench-{}", unique());
    q2c_testkit::dynamo::create_table(&client, &table).await;
    let store = DynamoStore::new(client, table.clone());
    let sqs = sqs_client();
    let prefix = format!("bench-{}-", unique());
    let queue_url =
        q2c_testkit::sqs::create_queue(&sqs, &format!("{prefix}{QUEUE}"), HashMap::new()).await;
    let created = Created { table, queue_url };
    let queues = Arc::new(SqsQueues::new(sqs).with_prefix(&prefix));

    let (offering_id, monthly) = seed_bench_offering(&store).await;

    let service = QuoteService::new(
        store.ports(Arc::new(DefaultSettings), Arc::new(SystemClock)),
        QuoteServiceConfig {
            quote_href_base: "/tmf-api/quoteManagement/v4/quote".to_owned(),
        },
    );
    let tenants = ["bench-x", "bench-y", "bench-z"].map(|t| TenantId::parse(t).expect("tenant"));
    for n in 0..count {
        create_quote_of(&service, &tenants[n % 3], "bench", offering_id.clone()).await;
    }
    (store, queues, monthly, created)
}

/// Changes the price to 45.00 and handles every message of the queue until it is empty
/// (a continuation is sent before its message is deleted, so an empty receive after the
/// last handled message means the walk is over). Returns (messages, page totals).
async fn change_price(
    store: &DynamoStore,
    queues: &Arc<SqsQueues>,
    monthly: &ProductOfferingPrice,
) -> (u64, PageReport) {
    let fanout = PriceFanout::new(
        store.fanout_ports(
            Arc::new(DefaultSettings),
            queues.clone(),
            Arc::new(RecordingAnnounce::default()),
            Arc::new(SystemClock),
        ),
        FanoutConfig::default(),
    );
    let body = price_change_event(&unique(), monthly, 45, 30);
    send_change_to(&**queues, QUEUE, &body).await;
    let mut messages = 0;
    let mut report = PageReport::default();
    let polls = (Duration::from_secs(300), Duration::ZERO);
    run_fanout_queue(&**queues, QUEUE, &fanout, polls, 1, |outcome| {
        report.repriced += outcome.page.repriced;
        report.failed += outcome.page.failed;
        messages += 1;
    })
    .await;
    (messages, report)
}

#[tokio::main]
async fn main() {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .map(|n| n.parse().expect("affected quote counts"))
        .collect();
    let sizes = if sizes.is_empty() {
        vec![10, 100, 1_000]
    } else {
        sizes
    };
    println!(
        "| affected quotes | messages | DynamoDB requests | per affected quote | by operation | fan-out time on moto |"
    );
    println!("|---|---|---|---|---|---|");
    for affected in sizes {
        let setup = Instant::now();
        let (store, queues, monthly, created) = seed(affected).await;
        eprintln!("seeded {affected} quotes in {:?}", setup.elapsed());
        let before = store.requests().snapshot();
        let started = Instant::now();
        let (messages, report) = change_price(&store, &queues, &monthly).await;
        let elapsed = started.elapsed();
        let used = store.requests().snapshot().since(&before);
        assert_eq!(
            report.repriced, affected as u64,
            "every affected quote re-priced once"
        );
        let breakdown = used.breakdown();
        println!(
            "| {affected} | {messages} | {} | {:.2} | {breakdown} | {:.1} s |",
            used.total(),
            used.total() as f64 / affected as f64,
            elapsed.as_secs_f64(),
        );
        created.remove().await;
    }
}
