//! Hub delivery end to end on the local engine: events on an embedded source queue, driven
//! by the `Poller` through `HubDelivery`, reach two embedded subscriber queues and a loopback
//! HTTP listener exactly once; a subscriber whose queue does not exist is retried and finally
//! dead-lettered with a reason while the others are delivered once.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use q2c_callbacks::{HttpCallbacks, HttpConfig};
use q2c_local::{LocalCallbackSender, Poller, SqliteQueues, SqliteStore};
use q2c_model::tmf::EventSubscription;
use q2c_service::context::TenantId;
use q2c_service::delivery::{CallbackPolicy, DeliveryConfig, HubDelivery};
use q2c_service::messaging::{OutgoingMessage, ReceivedMessage, attributes};
use q2c_service::ports::{HubApi, HubStore, SystemClock};
use q2c_testkit::listener::{Listener, Post};
use serde_json::{Value, json};

mod support;

const SOURCE: &str = "hub-source";
const MAX_RECEIVES: u32 = 3;
const PRICE_EVENT: &str = "ProductOfferingPriceAttributeValueChangeEvent";

struct World {
    store: SqliteStore,
    queues: SqliteQueues,
    delivery: HubDelivery,
    listener: Listener,
}

async fn world() -> World {
    let store = SqliteStore::open_in_memory().expect("store");
    let queues = SqliteQueues::new(&store);
    support::source_with_dlq(&queues, SOURCE, MAX_RECEIVES).await;
    for name in ["sub-a", "sub-b", "sub-q"] {
        queues
            .configure_queue(name, None, 5)
            .await
            .expect("subscriber queue");
    }
    let listener = Listener::start(StatusCode::CREATED).await;
    let http = HttpCallbacks::new(
        CallbackPolicy::local(),
        HttpConfig {
            backoff: Duration::from_millis(1),
            ..HttpConfig::default()
        },
    )
    .expect("http");
    let delivery = HubDelivery::new(
        store.hub_store(),
        store.delivery_log(),
        Arc::new(LocalCallbackSender::new(queues.queue_client(), http)),
        // The subscriber queues, listed (they are not named by the subscriber-queue rule).
        CallbackPolicy::local()
            .allow_all("local:sub-a,local:sub-b,local:sub-q,local:no-such-queue")
            .expect("allow-list"),
        Arc::new(SystemClock),
        DeliveryConfig {
            max_attempts: MAX_RECEIVES,
            // Retries here come at once (a test does not wait out the 30 s backoff).
            retry_base: Duration::from_millis(10),
            ..DeliveryConfig::default()
        },
    );
    World {
        store,
        queues,
        delivery,
        listener,
    }
}

fn tenant(name: &str) -> TenantId {
    TenantId::parse(name).expect("tenant")
}

async fn subscribe(
    world: &World,
    tenant_name: &str,
    api: HubApi,
    id: &str,
    callback: &str,
    query: Option<&str>,
) {
    let subscription = EventSubscription {
        id: id.into(),
        callback: callback.into(),
        query: query.map(Into::into),
    };
    world
        .store
        .create(&tenant(tenant_name), api, &subscription)
        .await
        .expect("subscribe");
}

fn event(
    event_id: &str,
    event_type: &str,
    payload: Value,
    tenant: Option<&str>,
) -> OutgoingMessage {
    let body = json!({"eventId": event_id, "eventTime": "2026-11-27T17:00:00Z",
        "eventType": event_type, "schemaVersion": "1.0", "event": payload});
    let mut attrs = BTreeMap::from([
        (attributes::EVENT_TYPE.to_owned(), event_type.to_owned()),
        (attributes::EVENT_ID.to_owned(), event_id.to_owned()),
        (attributes::SCHEMA_VERSION.to_owned(), "1.0".to_owned()),
        (
            attributes::CORRELATION_ID.to_owned(),
            format!("corr-{event_id}"),
        ),
    ]);
    if let Some(t) = tenant {
        attrs.insert(attributes::TENANT.to_owned(), t.to_owned());
    }
    OutgoingMessage {
        body: body.to_string(),
        attributes: attrs,
    }
}

fn price_change(event_id: &str) -> OutgoingMessage {
    event(
        event_id,
        PRICE_EVENT,
        json!({"productOfferingPrice": {"id": "pop-1", "name": "Fibre monthly"}}),
        None,
    )
}

/// Sends `messages` to the source queue, then delivers them (see [`drain`]).
async fn deliver(world: &World, api: HubApi, messages: &[OutgoingMessage]) {
    world
        .queues
        .queue_client()
        .send_batch(SOURCE, messages)
        .await
        .expect("send");
    drain(world, api).await;
}

/// Polls `SOURCE` until it is empty (bounded: a broken engine fails, it does not hang).
async fn drain(world: &World, api: HubApi) {
    let poller = Poller::new(world.queues.queue_client(), SOURCE)
        // Short, not zero: a message visible again at once could not be deleted by its
        // receipt handle.
        .with_visibility_timeout(Duration::from_millis(100))
        .with_wait(Duration::from_millis(50));
    let delivery = world.delivery.clone();
    let handler = move |m| {
        let delivery = delivery.clone();
        async move { delivery.deliver(api, &m).await }
    };
    support::drain(&world.queues, SOURCE, || poller.poll_once(&handler)).await;
}

fn event_ids(messages: &[ReceivedMessage]) -> Vec<String> {
    messages
        .iter()
        .map(|m| m.attributes[attributes::EVENT_ID].clone())
        .collect()
}

async fn three_subscribers(world: &World) {
    subscribe(
        world,
        "tenant-a",
        HubApi::Catalog,
        "s-1",
        "local:sub-a",
        Some(&format!("eventType={PRICE_EVENT}")),
    )
    .await;
    subscribe(
        world,
        "tenant-b",
        HubApi::Catalog,
        "s-1",
        "local:sub-b",
        Some("event.productOfferingPrice.id=pop-1"),
    )
    .await;
    subscribe(
        world,
        "tenant-a",
        HubApi::Catalog,
        "s-http",
        &world.listener.url,
        None,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_price_change_published_twice_reaches_each_of_three_subscribers_once() {
    let w = world().await;
    three_subscribers(&w).await;
    // The relay is at least once: the same event arrives twice.
    deliver(&w, HubApi::Catalog, &[price_change("e-1")]).await;
    deliver(&w, HubApi::Catalog, &[price_change("e-1")]).await;

    assert_eq!(
        event_ids(&support::take_all(&w.queues, "sub-a").await),
        ["e-1"]
    );
    assert_eq!(
        event_ids(&support::take_all(&w.queues, "sub-b").await),
        ["e-1"]
    );
    let posts = w.listener.posts();
    assert_eq!(posts.len(), 1, "one POST");
    assert_eq!(posts[0].body["eventId"], "e-1");
    assert_eq!(posts[0].headers["x-q2c-eventtype"], PRICE_EVENT);
    assert_eq!(posts[0].headers["content-type"], "application/json");
    let dead = support::take_all(&w.queues, &format!("{SOURCE}-dlq")).await;
    assert!(dead.is_empty(), "nothing dead-lettered: {dead:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_without_its_queue_is_retried_then_dead_lettered_with_a_reason() {
    let w = world().await;
    three_subscribers(&w).await;
    subscribe(
        &w,
        "tenant-c",
        HubApi::Catalog,
        "s-gone",
        "local:no-such-queue",
        None,
    )
    .await;
    deliver(&w, HubApi::Catalog, &[price_change("e-2")]).await;

    let dead = support::take_all(&w.queues, &format!("{SOURCE}-dlq")).await;
    assert_eq!(dead.len(), 1, "dead-lettered once");
    let reason = &dead[0].attributes[attributes::FAILURE_REASON];
    assert!(
        reason.contains("tenant-c/catalog/s-gone"),
        "names the subscriber: {reason}"
    );
    assert!(reason.contains("no-such-queue"), "says why: {reason}");
    assert!(
        reason.contains(&format!("after {MAX_RECEIVES} attempts")),
        "retried up to maxReceiveCount: {reason}"
    );
    assert_eq!(
        event_ids(&support::take_all(&w.queues, "sub-a").await),
        ["e-2"],
        "others once"
    );
    assert_eq!(
        event_ids(&support::take_all(&w.queues, "sub-b").await),
        ["e-2"]
    );
    assert_eq!(w.listener.posts().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quote_event_reaches_its_tenants_quote_hub_subscriber_only() {
    let w = world().await;
    subscribe(
        &w,
        "tenant-a",
        HubApi::Quote,
        "q-1",
        "local:sub-q",
        Some("eventType=QuoteStateChangeEvent&event.quote.state=approved"),
    )
    .await;
    subscribe(&w, "tenant-b", HubApi::Quote, "q-1", &w.listener.url, None).await;
    let quote = |state: &str| json!({"quote": {"id": "Q-1", "state": state}});
    let batch = [
        event(
            "q-e1",
            "QuoteStateChangeEvent",
            quote("approved"),
            Some("tenant-a"),
        ),
        event(
            "q-e2",
            "QuoteStateChangeEvent",
            quote("rejected"),
            Some("tenant-a"),
        ),
    ];
    deliver(&w, HubApi::Quote, &batch).await;

    let received = support::take_all(&w.queues, "sub-q").await;
    assert_eq!(event_ids(&received), ["q-e1"], "the approved one only");
    assert_eq!(received[0].attributes[attributes::TENANT], "tenant-a");
    assert!(
        w.listener.posts().is_empty(),
        "tenant B's subscriber sees nothing of A"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivered_messages_validate_against_the_published_schema() {
    let w = world().await;
    three_subscribers(&w).await;
    deliver(&w, HubApi::Catalog, &[price_change("e-3")]).await;

    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../events/schemas/v4/hub-delivery.schema.json"
    );
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("schema")).expect("json");
    let validator = jsonschema::validator_for(&schema).expect("valid schema");
    let queued = support::take_all(&w.queues, "sub-a").await.remove(0);
    let from_queue = json!({"body": serde_json::from_str::<Value>(&queued.body).expect("body"),
                            "attributes": queued.attributes});
    let Post { headers, body } = w.listener.posts().remove(0);
    let header_attributes: BTreeMap<String, String> = headers
        .into_iter()
        .filter_map(|(k, v)| k.strip_prefix("x-q2c-").map(|name| (name.to_owned(), v)))
        .map(|(name, v)| (canonical(&name), v))
        .collect();
    let from_http = json!({"body": body, "attributes": header_attributes});
    for sample in [&from_queue, &from_http] {
        let errors: Vec<String> = validator
            .iter_errors(sample)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{sample}: {errors:?}");
    }
    let broken = json!({"body": {"eventType": PRICE_EVENT, "event": {}}, "attributes": {}});
    assert!(
        !validator.is_valid(&broken),
        "the schema refuses an envelope without eventId"
    );
}

/// HTTP lower-cases header names; the attribute names are camelCase.
fn canonical(lower: &str) -> String {
    [
        attributes::EVENT_TYPE,
        attributes::EVENT_ID,
        attributes::SCHEMA_VERSION,
        attributes::TENANT,
        attributes::CORRELATION_ID,
    ]
    .into_iter()
    .find(|name| name.eq_ignore_ascii_case(lower))
    .unwrap_or(lower)
    .to_owned()
}

/// Issue 18: a listener that holds its POST (for 30 s, or until released) delays neither
/// another tenant's listener nor its own tenant's queue, and the retry after the batch's
/// deadline re-sends nothing that was delivered (`q2c_contract::slow_subscriber_scenario`).
#[tokio::test]
async fn a_listener_that_answers_after_30_s_stalls_no_other_subscriber() {
    let w = world().await;
    let waited = q2c_contract::slow_subscriber_scenario(q2c_contract::SlowSubscriberWorld {
        hubs: w.store.hub_store(),
        delivery: w.delivery.clone(),
        queues: w.queues.queue_client(),
        source: SOURCE.into(),
        subscriber_queue: "sub-q".into(),
        subscriber_callback: "local:sub-q".into(),
    })
    .await;
    println!("local: the other tenant's listener got its event {waited:?} after the batch began");
}
