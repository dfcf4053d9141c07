//! Versioned events on the local engine: a hub-delivery consumer configured for v4 and one
//! configured for v5 each drain a queue holding interleaved v4, v5 and legacy `1.0` quote
//! events plus one of an unknown major. Whatever the consumer emits, the subscriber
//! registered on v4 gets every event in v4 and the one registered on v5 every event in v5;
//! the unknown major lands in the DLQ with its reason.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use q2c_callbacks::{HttpCallbacks, HttpConfig};
use q2c_local::{LocalCallbackSender, Poller, SqliteQueues, SqliteStore};
use q2c_model::tmf::{EventSubscription, Quote, QuoteState};
use q2c_service::context::{RequestContext, Scope, TenantId};
use q2c_service::delivery::{CallbackPolicy, DeliveryConfig, HubDelivery};
use q2c_service::event_versions::{SchemaMajor, render_envelope};
use q2c_service::events::{QuoteEventType, quote_event};
use q2c_service::messaging::{OutgoingMessage, ReceivedMessage, attributes, parse_message};
use q2c_service::ports::{HubApi, HubStore, SystemClock};
use q2c_service::testing::added_item;
use serde_json::Value;

mod support;

const SOURCE: &str = "versions-source";
const SUB_V4: &str = "sub-v4";
const SUB_V5: &str = "sub-v5";
const TENANT: &str = "acme";

struct World {
    queues: SqliteQueues,
    delivery: HubDelivery,
}

/// A store with the two subscribers (one per API version) and a hub delivery emitting `emit`.
async fn world(emit: SchemaMajor) -> World {
    let store = SqliteStore::open_in_memory().expect("store");
    let queues = SqliteQueues::new(&store);
    support::source_with_dlq(&queues, SOURCE, 3).await;
    for name in [SUB_V4, SUB_V5] {
        queues
            .configure_queue(name, None, 5)
            .await
            .expect("subscriber queue");
    }
    let tenant = TenantId::parse(TENANT).expect("tenant");
    let subscription = |id: &str, queue: &str| EventSubscription {
        id: id.into(),
        callback: format!("local:{queue}"),
        query: None,
    };
    store
        .create(&tenant, HubApi::Quote, &subscription("s-v4", SUB_V4))
        .await
        .expect("a v4 subscription");
    store
        .create_versioned(
            &tenant,
            HubApi::Quote,
            &subscription("s-v5", SUB_V5),
            SchemaMajor::V5,
        )
        .await
        .expect("a v5 subscription");
    let http = HttpCallbacks::new(CallbackPolicy::local(), HttpConfig::default()).expect("http");
    let delivery = HubDelivery::new(
        store.hub_store(),
        store.delivery_log(),
        Arc::new(LocalCallbackSender::new(queues.queue_client(), http)),
        // The subscriber queues, listed (they are not named by the subscriber-queue rule).
        CallbackPolicy::local()
            .allow_all(&format!("local:{SUB_V4},local:{SUB_V5}"))
            .expect("allow-list"),
        Arc::new(SystemClock),
        DeliveryConfig {
            max_attempts: 3,
            emit,
            ..DeliveryConfig::default()
        },
    );
    World { queues, delivery }
}

fn quote(state: QuoteState) -> Quote {
    Quote {
        id: Some("q-1".into()),
        href: Some("http://127.0.0.1:8080/tmf-api/quoteManagement/v4/quote/q-1".into()),
        external_id: Some("crm-42".into()),
        quote_date: Some(time::OffsetDateTime::now_utc()),
        state: Some(state),
        quote_item: vec![added_item("mobile-l")],
        ..Quote::default()
    }
}

/// A quote event as a producer of `version` sends it (`1.0`: the legacy form, the internal
/// envelope labelled 1.0).
fn message(kind: QuoteEventType, state: QuoteState, version: &str) -> (String, OutgoingMessage) {
    let context = RequestContext {
        tenant: TenantId::parse(TENANT).expect("tenant"),
        subject: "user-1".into(),
        subject_name: None,
        scopes: BTreeSet::from([Scope::QuoteWrite]),
        correlation_id: "corr-1".into(),
    };
    let event = quote_event(
        kind,
        &quote(state),
        &context,
        time::OffsetDateTime::now_utc(),
    )
    .expect("event");
    let body = match SchemaMajor::parse(version) {
        Some(major) if !version.starts_with('1') => render_envelope(&event.body, major),
        _ => {
            let mut body = event.body.clone();
            body["schemaVersion"] = version.into();
            body
        }
    };
    let attributes = BTreeMap::from([
        (attributes::EVENT_TYPE.to_owned(), event.event_type.clone()),
        (attributes::EVENT_ID.to_owned(), event.event_id.clone()),
        (attributes::SCHEMA_VERSION.to_owned(), version.to_owned()),
        (attributes::TENANT.to_owned(), TENANT.to_owned()),
    ]);
    (
        event.event_id,
        OutgoingMessage {
            body: body.to_string(),
            attributes,
        },
    )
}

/// Drains `SOURCE` with the whole-batch consumer (bounded: a broken engine fails, it does not
/// hang).
async fn drain(world: &World) {
    let poller = Poller::new(world.queues.queue_client(), SOURCE)
        .with_visibility_timeout(Duration::from_millis(100))
        .with_wait(Duration::from_millis(50));
    let delivery = world.delivery.clone();
    let handler = move |batch| {
        let delivery = delivery.clone();
        async move { delivery.deliver_mixed_batch(batch).await }
    };
    support::drain(&world.queues, SOURCE, || poller.poll_batch_once(&handler)).await;
}

fn validator(file: &str) -> jsonschema::Validator {
    let path = format!("{}/../../events/schemas/{file}", env!("CARGO_MANIFEST_DIR"));
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("schema")).expect("JSON");
    jsonschema::validator_for(&schema).expect("a valid schema")
}

fn delivery_of(message: &ReceivedMessage) -> Value {
    serde_json::json!({
        "body": serde_json::from_str::<Value>(&message.body).expect("JSON body"),
        "attributes": message.attributes,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v4_and_v5_consumers_deliver_a_mixed_stream_in_each_subscriber_s_version() {
    for emit in [SchemaMajor::V4, SchemaMajor::V5] {
        let world = world(emit).await;
        let stream = [
            message(QuoteEventType::Create, QuoteState::InProgress, "4.0"),
            message(
                QuoteEventType::AttributeValueChange,
                QuoteState::InProgress,
                "5.0",
            ),
            message(QuoteEventType::StateChange, QuoteState::Pending, "1.0"),
            message(QuoteEventType::StateChange, QuoteState::Approved, "5.0"),
            message(QuoteEventType::StateChange, QuoteState::Accepted, "4.0"),
        ];
        let (_, mut unknown) = message(QuoteEventType::Delete, QuoteState::Accepted, "5.0");
        unknown
            .attributes
            .insert(attributes::SCHEMA_VERSION.into(), "6.0".into());
        let mut sent: Vec<OutgoingMessage> = stream.iter().map(|(_, m)| m.clone()).collect();
        sent.insert(2, unknown);
        let client = world.queues.queue_client();
        for chunk in sent.chunks(10) {
            client.send_batch(SOURCE, chunk).await.expect("send");
        }
        drain(&world).await;

        let expected: BTreeSet<String> = stream.iter().map(|(id, _)| id.clone()).collect();
        let v4 = support::take_all(&world.queues, SUB_V4).await;
        let v5 = support::take_all(&world.queues, SUB_V5).await;
        let ids = |messages: &[ReceivedMessage]| -> BTreeSet<String> {
            messages
                .iter()
                .map(|m| m.attributes[attributes::EVENT_ID].clone())
                .collect()
        };
        assert_eq!(v4.len(), stream.len(), "emit {emit}: each event once to v4");
        assert_eq!(v5.len(), stream.len(), "emit {emit}: each event once to v5");
        assert_eq!(ids(&v4), expected);
        assert_eq!(ids(&v5), expected);

        let (v4_schema, v5_schema) = (
            validator("v4/hub-delivery.schema.json"),
            validator("v5/hub-delivery.schema.json"),
        );
        let mut by_id_v4 = BTreeMap::new();
        for message in &v4 {
            let delivery = delivery_of(message);
            assert!(
                v4_schema.is_valid(&delivery),
                "emit {emit}: v4 delivery {delivery}"
            );
            assert!(!v5_schema.is_valid(&delivery), "a v4 delivery is not v5");
            let body = &delivery["body"];
            assert_eq!(message.attributes[attributes::SCHEMA_VERSION], "4.0");
            assert_eq!(body["schemaVersion"], "4.0");
            assert!(body.get("@type").is_none() && body.get("timeOcurred").is_some());
            assert_eq!(body["event"]["quote"]["externalId"], "crm-42");
            assert!(body["event"]["quote"]["quoteDate"].is_string());
            by_id_v4.insert(
                message.attributes[attributes::EVENT_ID].clone(),
                body.clone(),
            );
        }
        for message in &v5 {
            let delivery = delivery_of(message);
            assert!(
                v5_schema.is_valid(&delivery),
                "emit {emit}: v5 delivery {delivery}"
            );
            let body = &delivery["body"];
            assert_eq!(message.attributes[attributes::SCHEMA_VERSION], "5.0");
            assert_eq!(body["@type"], body["eventType"]);
            assert!(body.get("timeOccurred").is_some());
            let quote = &body["event"]["quote"];
            assert_eq!(quote["externalId"], serde_json::json!([{"id": "crm-42"}]));
            assert!(quote["creationDate"].is_string() && quote.get("quoteDate").is_none());
            assert!(
                quote["href"]
                    .as_str()
                    .is_some_and(|h| h.contains("/quoteManagement/v5/")),
                "{quote}"
            );
            // The v5 delivery read back is the very event the v4 subscriber got.
            let parsed = parse_message("m", &message.body, &message.attributes, None)
                .expect("a v5 delivery parses");
            let id = &message.attributes[attributes::EVENT_ID];
            assert_eq!(
                render_envelope(&parsed.envelope, SchemaMajor::V4),
                by_id_v4[id],
                "emit {emit}: event {id} is the same in both versions"
            );
        }

        let dead = support::take_all(&world.queues, &format!("{SOURCE}-dlq")).await;
        assert_eq!(
            dead.len(),
            1,
            "emit {emit}: only the unknown major is dead-lettered"
        );
        assert_eq!(
            dead[0].attributes[attributes::FAILURE_REASON],
            "unsupported schema version 6.0 (accepted: 4, 5)"
        );
        assert_eq!(dead[0].attributes[attributes::SCHEMA_VERSION], "6.0");
    }
}
