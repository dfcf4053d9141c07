//! Benchmark of local hub delivery: price events fanned out to 10 catalog subscribers whose
//! callbacks are embedded queues (`local:<queue>`), by `HubDelivery::deliver_batch` over a
//! file `SqliteStore` (subscriptions, delivery log) in batches of 10, as the poller hands
//! them over. Reports events/s and deliveries/s and checks every subscriber queue holds every
//! event once. Results go to docs/benchmarks.md. Run
//! `cargo run --release -p q2c-local --example hub_throughput -- [events] [concurrent batches]`
//! (defaults 2000 and 1).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use q2c_callbacks::{HttpCallbacks, HttpConfig};
use q2c_local::{LocalCallbackSender, SqliteQueues, SqliteStore};
use q2c_model::tmf::EventSubscription;
use q2c_service::context::TenantId;
use q2c_service::delivery::{CallbackPolicy, DeliveryConfig, HubDelivery};
use q2c_service::messaging::{ParsedMessage, QueueClient, attributes, parse_message};
use q2c_service::ports::{HubApi, HubStore, SystemClock};
use serde_json::json;

const SUBSCRIBERS: usize = 10;
const BATCH: usize = 10;
const PRICE_EVENT: &str = "ProductOfferingPriceAttributeValueChangeEvent";

fn price_event(n: usize) -> ParsedMessage {
    let event_id = format!("bench-event-{n}");
    let body = json!({"eventId": event_id, "eventTime": "2026-11-27T17:00:00Z",
        "eventType": PRICE_EVENT, "schemaVersion": "1.0",
        "event": {"productOfferingPrice": {"id": format!("pop-{}", n % 50), "name": "Fibre monthly",
            "price": {"unit": "EUR", "value": 45}}}});
    let attrs = BTreeMap::from([
        (attributes::EVENT_TYPE.to_owned(), PRICE_EVENT.to_owned()),
        (attributes::EVENT_ID.to_owned(), event_id.clone()),
        (attributes::SCHEMA_VERSION.to_owned(), "1.0".to_owned()),
    ]);
    parse_message(&event_id, &body.to_string(), &attrs, Some(1)).expect("valid envelope")
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut args = std::env::args().skip(1);
    let events: usize = args.next().map_or(2_000, |n| n.parse().expect("events"));
    let workers: usize = args
        .next()
        .map_or(1, |n| n.parse().expect("concurrent batches"));

    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(&dir.path().join("q2c.db")).expect("open");
    let queues = SqliteQueues::new(&store);
    for s in 0..SUBSCRIBERS {
        let queue = format!("sub-{s}");
        queues
            .configure_queue(&queue, None, 5)
            .await
            .expect("subscriber queue");
        // Subscribers in several tenants: catalog events reach every tenant's catalog hub.
        let tenant = TenantId::parse(&format!("bench-{}", s % 3)).expect("tenant");
        let subscription = EventSubscription {
            id: format!("s-{s}"),
            callback: format!("local:{queue}"),
            query: Some(format!("eventType={PRICE_EVENT}")),
        };
        store
            .create(&tenant, HubApi::Catalog, &subscription)
            .await
            .expect("subscribe");
    }
    let http = HttpCallbacks::new(CallbackPolicy::local(), HttpConfig::default()).expect("http");
    let delivery = HubDelivery::new(
        store.hub_store(),
        store.delivery_log(),
        Arc::new(LocalCallbackSender::new(queues.queue_client(), http)),
        // Every embedded queue that is not the system's: the benchmark's subscriber queues.
        CallbackPolicy::local().allow("local:*").expect("wildcard"),
        Arc::new(SystemClock),
        DeliveryConfig::default(),
    );

    let messages: Vec<ParsedMessage> = (0..events).map(price_event).collect();
    let batches: Vec<Vec<ParsedMessage>> = messages.chunks(BATCH).map(<[_]>::to_vec).collect();
    let batches = Arc::new(std::sync::Mutex::new(batches.into_iter()));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..workers.max(1) {
        let (delivery, batches) = (delivery.clone(), Arc::clone(&batches));
        tasks.spawn(async move {
            loop {
                let next = batches.lock().expect("lock").next();
                let Some(batch) = next else { break };
                for result in delivery.deliver_batch(HubApi::Catalog, &batch).await {
                    result.expect("delivered");
                }
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("worker");
    }
    let elapsed = started.elapsed().as_secs_f64();

    for s in 0..SUBSCRIBERS {
        let counts = queues.counts(&format!("sub-{s}")).await.expect("counts");
        assert_eq!(
            counts.visible, events as u64,
            "subscriber {s} holds every event once"
        );
    }
    // A redelivered batch is de-duplicated by the delivery log: nothing is sent again.
    let first = messages.chunks(BATCH).next().expect("a batch").to_vec();
    for result in delivery.deliver_batch(HubApi::Catalog, &first).await {
        result.expect("redelivery");
    }
    let counts = queues.counts("sub-0").await.expect("counts");
    assert_eq!(counts.visible, events as u64, "no duplicate on redelivery");

    let deliveries = events * SUBSCRIBERS;
    println!(
        "| {events} | {SUBSCRIBERS} | {BATCH} | {} | {:.2} | {:.0} | {:.0} |",
        workers.max(1),
        elapsed,
        events as f64 / elapsed,
        deliveries as f64 / elapsed,
    );
    let _ = Duration::ZERO;
}
