//! The price fan-out at scale on SQLite, through the consumers of `q2c local` (the same
//! handler as the Lambda function, polled from the embedded queues): a price change on 500
//! open quotes (pages of 25: 20 pages in 8 segments) arrives on `pricing-changes`; its
//! segments run as continuations on `pricing-continuations`, polled by several pollers at
//! once. Every quote is re-priced exactly once (version 2, one change event each), and
//! nothing is left on or dead-lettered from either queue (a continuation over its hop bound
//! would be).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use q2c_embedded::consumers::{Consumers, ConsumersConfig, ensure_continuation_queue};
use q2c_local::{FileSettings, SqliteQueues, SqliteStore};
use q2c_model::sample_catalog::sample_catalog;
use q2c_service::context::{Scope, TenantId};
use q2c_service::fanout::FanoutConfig;
use q2c_service::messaging::{OutgoingMessage, dlq_name, queues};
use q2c_service::ports::SystemClock;
use q2c_service::quotes::{QuoteService, QuoteServiceConfig};
use q2c_service::testing::{caller, item, quote_of};
use q2c_testkit::poll::eventually;
use serde_json::json;

const QUOTES: usize = 500;
const PRICE_ID: &str = "mobile-l-monthly";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_on_500_open_quotes_runs_in_8_segments_and_reprices_each_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(&dir.path().join("q2c.db")).expect("store");
    let catalog = sample_catalog();
    let offerings: Vec<_> = catalog.offerings().cloned().collect();
    let mut prices: Vec<_> = catalog.prices().cloned().collect();
    store
        .load_catalog(&offerings, &prices)
        .await
        .expect("catalog");
    let settings = FileSettings::from_toml("").expect("default settings");
    let ports = store.ports(Arc::new(settings), Arc::new(SystemClock));
    let service = QuoteService::new(
        ports.clone(),
        QuoteServiceConfig {
            quote_href_base: "/tmf-api/quoteManagement/v4/quote".to_owned(),
        },
    );
    let tenants: Vec<TenantId> = (0..4)
        .map(|i| TenantId::parse(&format!("tenant-{i}")).expect("tenant"))
        .collect();
    let mut quotes = Vec::new();
    for i in 0..QUOTES {
        let tenant = &tenants[i % tenants.len()];
        let ctx = caller(tenant.as_str(), &[Scope::QuoteWrite]);
        let quote = quote_of(vec![item("mobile-l", 1)]);
        let stored = service.create(&ctx, quote).await.expect("create quote");
        quotes.push((tenant.clone(), stored.id().to_owned()));
    }

    ensure_continuation_queue(&store).await.expect("queue");
    let config = ConsumersConfig {
        fanout: FanoutConfig {
            page_size: 25,
            segments: 8,
            write_concurrency: 8,
            ..FanoutConfig::default()
        },
        ..ConsumersConfig::new("http://127.0.0.1:9")
    };
    let consumers = Consumers::start(&store, &ports, config).expect("consumers");

    let price = prices
        .iter_mut()
        .find(|p| p.id == PRICE_ID)
        .expect("sample price");
    let mut changed = serde_json::to_value(&*price).expect("price JSON");
    changed["price"] = json!({"unit": "EUR", "value": 35});
    changed["lastUpdate"] = json!("2026-11-27T10:00:00Z");
    let body = json!({
        "eventId": "price-change-500",
        "eventType": "ProductOfferingPriceAttributeValueChangeEvent",
        "eventTime": "2026-11-27T10:00:00Z",
        "event": {"productOfferingPrice": changed},
    });
    let engine = SqliteQueues::new(&store);
    let sent = engine
        .queue_client()
        .send_batch(
            queues::PRICING_CHANGES,
            &[OutgoingMessage::with_body(body.to_string())],
        )
        .await
        .expect("send");
    assert!(sent.failed.is_empty());

    let keys = quotes.clone();
    let quote_store = ports.quotes.clone();
    eventually("every quote re-priced", Duration::from_secs(120), || {
        let (keys, quote_store) = (keys.clone(), quote_store.clone());
        async move {
            let stored = quote_store.get_many(&keys).await.ok()?;
            stored
                .iter()
                .all(|q| q.as_ref().is_some_and(|q| q.version >= 2))
                .then_some(())
        }
    })
    .await;
    // Let the pollers finish what they hold, then look at the queues.
    let client = engine.queue_client();
    for queue in [queues::PRICING_CHANGES, queues::PRICING_CONTINUATIONS] {
        eventually(&format!("{queue} drained"), Duration::from_secs(30), || {
            let client = client.clone();
            async move {
                let counts = client.counts(queue).await.ok()?;
                (counts.visible + counts.in_flight == 0).then_some(())
            }
        })
        .await;
    }
    consumers.stop().await;

    for queue in [queues::PRICING_CHANGES, queues::PRICING_CONTINUATIONS] {
        let dead = client.counts(&dlq_name(queue)).await.expect("counts");
        assert_eq!(dead.visible + dead.in_flight, 0, "{queue}: nothing parked");
    }
    let stored = ports.quotes.get_many(&quotes).await.expect("quotes");
    for (quote, key) in stored.iter().zip(&quotes) {
        let quote = quote.as_ref().expect("quote");
        assert_eq!(quote.version, 2, "{key:?} re-priced exactly once");
    }
    let pending = store
        .outbox_store()
        .pending(10 * QUOTES)
        .await
        .expect("outbox");
    let mut changes: HashMap<&str, usize> = HashMap::new();
    for event in &pending {
        if event.event_type == "QuoteAttributeValueChangeEvent" {
            *changes.entry(event.aggregate_id.as_str()).or_default() += 1;
        }
    }
    assert_eq!(changes.len(), QUOTES);
    assert!(changes.values().all(|n| *n == 1), "one change event each");
}
