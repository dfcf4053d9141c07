//! The price fan-out at scale on moto, through the function's real wiring ([`Fanout::new`]
//! over `DynamoStore` and SQS, its clients recording every request): a price change on 160
//! open quotes (pages of 5: 32 pages, 4 a segment; [`quote_count`]) is split into 8 segments whose continuations run at once on
//! `pricing-continuations` (this test plays both event source mappings: `pricing-changes`,
//! then the continuation mapping with 8 concurrent invocations of one message each, as the
//! template declares it). Every quote is re-priced exactly once, no continuation exceeds its
//! hop bound, nothing is dead-lettered, and the recorded requests' critical path (the longest
//! chain of requests that did not overlap, which bounds every chain of dependent requests)
//! is at most a sixth of their serial time. Needs `Q2C_TEST_AWS_ENDPOINT`.
//!
//! Why 160 and not 500 quotes in CI: moto deep-copies the whole table in every
//! `TransactWriteItems` (its rollback copy), so creating and re-pricing 500 quotes (~2,000
//! items) takes over 10 minutes, and a transaction running while another request writes the
//! table fails with a 500. 500 is a manual run (`Q2C_FANOUT_SCALE_QUOTES=500`, its numbers in
//! docs/benchmarks.md); the same scenario with 500 quotes runs in CI on SQLite
//! (`tools/q2c/tests/fanout_local.rs`, through the `q2c local` consumers).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use q2c_aws::DynamoStore;
use q2c_fn_price_fanout::{Config, Fanout};
use q2c_runtime::Metrics;
use q2c_service::context::TenantId;
use q2c_service::ports::{OutboxStore, QuoteStore};
use q2c_testkit::moto::{self, unique};
use q2c_testkit::recorder::{self, Recorder, Service};
use q2c_testkit::sqs::{create_queue, queue_with_dlq, receive_up_to, take_all};
use q2c_testkit::{dynamo, lambda};
use rust_decimal::Decimal;
use serde_json::Value;

mod common;
use common::{monthly_amount, open_quote, price_change, quote_service, seed_sample_catalog};

/// Open quotes the change touches: 160 in CI; `Q2C_FANOUT_SCALE_QUOTES` sets another number for
/// a manual run (500: docs/benchmarks.md, "Price fan-out in segments on moto").
fn quote_count() -> usize {
    std::env::var("Q2C_FANOUT_SCALE_QUOTES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(160)
}
const TENANTS: usize = 4;
const SEGMENTS: usize = 8;
const PAGE_SIZE: usize = 5;
/// Concurrent invocations of the continuation mapping this test plays.
const INVOCATIONS: usize = 8;

/// A DynamoDB client for moto retrying up to [`ATTEMPTS`] times (recording into `recorder`).
/// moto answers concurrent transactions on one table with a 500 (every transaction
/// deep-copies the whole table while other requests change it: "dictionary changed size
/// during iteration"); the SDK's standard retry mode retries a 500 like a throttle, so more
/// attempts ride most of them out, and a message whose write still failed is returned and
/// redone (its quotes already written are no-ops). DynamoDB's own `TransactionConflict` and
/// throttling are retried the same way in production (the standard mode's 3 attempts).
fn patient(
    config: aws_sdk_dynamodb::Config,
    recorder: Option<&Recorder>,
) -> aws_sdk_dynamodb::Client {
    use aws_sdk_dynamodb::config::retry::{RetryConfig, RetryPartition, TokenBucket};
    let mut builder = config
        .to_builder()
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(ATTEMPTS)
                .with_max_backoff(Duration::from_secs(2)),
        )
        // The standard mode's retry quota (a token bucket per partition) would stop retrying
        // after ~100 retries in a burst: unlimited for moto.
        .retry_partition(
            RetryPartition::custom("moto-price-fanout-scale")
                .token_bucket(TokenBucket::unlimited())
                .build(),
        );
    if let Some(recorder) = recorder {
        builder = builder.interceptor(recorder.interceptor());
    }
    aws_sdk_dynamodb::Client::from_conf(builder.build())
}

/// Attempts of one DynamoDB request against moto (see [`patient`]).
const ATTEMPTS: u32 = 10;

/// The `event.priceFanout` of a continuation message body.
fn continuation(body: &str) -> Value {
    let envelope: Value = serde_json::from_str(body).expect("a JSON body");
    envelope["event"]["priceFanout"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_change_on_open_quotes_runs_in_8_segments_and_reprices_each_once() {
    q2c_testkit::require_moto!();
    let quote_total = quote_count();
    let (plain_dynamo, sqs) = (patient(moto::dynamo_config(), None), moto::sqs_client());
    let table = dynamo::unique_table(&plain_dynamo, "q2c-pfs").await;
    let setup = DynamoStore::new(plain_dynamo, table.clone());
    seed_sample_catalog(&setup).await;
    let tenants: Vec<TenantId> = (0..TENANTS)
        .map(|i| TenantId::parse(&unique(&format!("t{i}"))).expect("tenant"))
        .collect();
    let service = quote_service(&setup);
    let quotes: Vec<(TenantId, String)> = futures::stream::iter(0..quote_total)
        .map(|i| {
            let (service, tenant) = (&service, &tenants[i % TENANTS]);
            async move {
                (
                    tenant.clone(),
                    open_quote(service, tenant, "mobile-l").await,
                )
            }
        })
        // One at a time: moto deep-copies the table in every transaction (see [`patient`]).
        .buffer_unordered(1)
        .collect()
        .await;
    assert_eq!(quotes.len(), quote_total);

    let prefix = format!("{}-", unique("pfs"));
    let (changes_url, changes_dlq) =
        queue_with_dlq(&sqs, &format!("{prefix}pricing-changes"), 5, 300).await;
    let (continuations_url, continuations_dlq) =
        queue_with_dlq(&sqs, &format!("{prefix}pricing-continuations"), 5, 300).await;
    let billing_url = create_queue(&sqs, &format!("{prefix}billing-updates"), HashMap::new()).await;

    // The function's clients record every request it makes.
    let recorder = Recorder::new();
    let fanout = Fanout::new(
        &Config {
            table_name: table.clone(),
            pricing_changes_queue_url: changes_url.clone(),
            pricing_changes_dlq_url: changes_dlq.clone(),
            pricing_continuations_queue_url: continuations_url.clone(),
            pricing_continuations_dlq_url: continuations_dlq.clone(),
            billing_updates_queue_url: billing_url.clone(),
            callback_allowlist: String::new(),
            subscriber_queue_prefix: None,
            max_receive_count: 5,
            event_schema: q2c_service::event_versions::SchemaMajor::DEFAULT_EMIT,
            page_size: PAGE_SIZE,
            segments: SEGMENTS,
            write_concurrency: 8,
        },
        DynamoStore::new(
            patient(moto::dynamo_config(), Some(&recorder)),
            table.clone(),
        ),
        recorder.sqs_client(),
        Arc::new(Metrics::new("price-fanout-scale")),
    )
    .expect("wiring");

    let event_id = unique("price-change");
    q2c_testkit::sqs::send(
        &sqs,
        &changes_url,
        price_change(&event_id, 35, "2026-11-27T10:00:00Z"),
    )
    .await;
    // The pricing-changes mapping: the change itself (a message whose write moto refused is
    // returned and handled again, as Lambda redelivers it).
    let failures =
        AtomicUsize::new(lambda::drain(&sqs, &changes_url, |event| fanout.handle(event)).await);

    // The continuation mapping: INVOCATIONS concurrent invocations of one message each,
    // until the queue stays empty with none in hand.
    let busy = AtomicUsize::new(0);
    let seen: Mutex<Vec<Value>> = Mutex::default();
    let invocation = || async {
        let mut idle = 0;
        while idle < 5 {
            // Batch size 1, as the continuation mapping's.
            let messages = receive_up_to(&sqs, &continuations_url, 1, None).await;
            let Some(message) = messages.first() else {
                if busy.load(Ordering::SeqCst) == 0 {
                    idle += 1;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            };
            busy.fetch_add(1, Ordering::SeqCst);
            idle = 0;
            seen.lock()
                .expect("lock")
                .push(continuation(message.body().unwrap_or_default()));
            let response = fanout
                .handle(lambda::sqs_event_from(&continuations_url, &messages))
                .await;
            if response.batch_item_failures.is_empty() {
                q2c_testkit::sqs::delete(&sqs, &continuations_url, message).await;
            } else {
                failures.fetch_add(1, Ordering::SeqCst);
                // Returned at once (an error means another invocation holds it by now).
                let _ = sqs
                    .change_message_visibility()
                    .queue_url(&continuations_url)
                    .receipt_handle(message.receipt_handle().unwrap_or_default())
                    .visibility_timeout(0)
                    .send()
                    .await;
            }
            busy.fetch_sub(1, Ordering::SeqCst);
        }
    };
    futures::future::join_all((0..INVOCATIONS).map(|_| invocation())).await;

    let seen = seen.into_inner().expect("lock");
    // What the requests cost one after the other, and along their critical path.
    let requests = recorder.requests();
    let serial = recorder::serial(&requests);
    let path = recorder::critical_path(&requests);
    let writes = requests
        .iter()
        .filter(|r| r.operation == "TransactWriteItems" && r.status == Some(200))
        .count();
    let retried = requests.iter().filter(|r| r.attempt > 1).count();
    eprintln!(
        "{} requests ({} DynamoDB, {} SQS; {writes} transactions, {retried} retries), \
         max {} in flight; serial {serial:?}, critical path {:?} over {} requests \
         (1/{:.1}), {} continuations, {} returned for a retry",
        requests.len(),
        requests
            .iter()
            .filter(|r| r.service == Service::DynamoDb)
            .count(),
        requests
            .iter()
            .filter(|r| r.service == Service::Sqs)
            .count(),
        recorder::max_in_flight(&requests),
        path.duration,
        path.requests,
        serial.as_secs_f64() / path.duration.as_secs_f64().max(f64::EPSILON),
        seen.len(),
        failures.load(Ordering::SeqCst),
    );
    // Eight segments, each continuation within its hop bound, nothing dead-lettered.
    let segments: BTreeSet<u64> = seen
        .iter()
        .map(|c| c["segment"].as_u64().expect("segment"))
        .collect();
    assert_eq!(
        segments,
        (0..SEGMENTS as u64).collect(),
        "8 segments (the first one's continuations included)"
    );
    for c in &seen {
        let (hop, bound) = (c["hop"].as_u64(), c["maxHops"].as_u64());
        assert!(hop.is_some() && hop <= bound, "{c}");
    }
    let parked: Vec<String> = take_all(&sqs, &changes_dlq)
        .await
        .into_iter()
        .chain(take_all(&sqs, &continuations_dlq).await)
        .map(|m| format!("{:?}", m.message_attributes()))
        .collect();
    assert!(parked.is_empty(), "dead-lettered: {parked:?}");
    assert!(take_all(&sqs, &continuations_url).await.is_empty());

    // Every quote re-priced exactly once.
    let pending = setup.pending(10 * quote_total).await.expect("outbox");
    let mut events: BTreeMap<&str, usize> = BTreeMap::new();
    for event in &pending {
        if event.event_type == "QuoteAttributeValueChangeEvent" {
            *events.entry(event.aggregate_id.as_str()).or_default() += 1;
        }
    }
    for (tenant, id) in &quotes {
        let stored = setup.get(tenant, id).await.expect("get").expect("quote");
        assert_eq!(stored.version, 2, "{tenant}/{id} re-priced exactly once");
        assert_eq!(monthly_amount(&stored.quote), Some(Decimal::from(35)));
        assert_eq!(events.get(id.as_str()), Some(&1), "{id} announced once");
    }
    assert_eq!(events.len(), quote_total);

    assert!(writes >= quote_total, "each quote written: {writes}");
    assert!(
        path.duration * 6 <= serial,
        "critical path {:?} is more than a sixth of the serial {serial:?}",
        path.duration
    );
}
