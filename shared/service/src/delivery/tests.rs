//! `HubDelivery` over in-memory fakes: matching, independence of subscribers, retries that
//! re-send only what is missing, batching, tenants, built-ins first.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use q2c_model::tmf::EventSubscription;
use serde_json::json;
use time::OffsetDateTime;

use super::*;
use crate::clock::Clock;
use crate::context::TenantId;
use crate::event_versions::SchemaMajor;
use crate::hubs::HubApi;
use crate::messaging::{HandlerError, OutgoingMessage, ParsedMessage, SendFailure, SendOutcome};
use crate::store::{BoxError, StoreError};
use crate::testing::{ReadOnlyHubs, tenant};

#[derive(Default)]
struct Log(Mutex<BTreeSet<(String, String)>>);

#[async_trait]
impl DeliveryLog for Log {
    async fn delivered(
        &self,
        event_id: &str,
        subs: &[String],
    ) -> Result<BTreeSet<String>, StoreError> {
        let log = self.0.lock().expect("lock");
        Ok(subs
            .iter()
            .filter(|s| log.contains(&(event_id.to_owned(), (*s).clone())))
            .cloned()
            .collect())
    }
    async fn record(
        &self,
        event_id: &str,
        sub: &str,
        _: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        Ok(self
            .0
            .lock()
            .expect("lock")
            .insert((event_id.to_owned(), sub.to_owned())))
    }
}

/// Records every call; targets in `broken` fail as a whole.
#[derive(Default)]
struct Sender {
    calls: Mutex<Vec<(String, Vec<String>)>>,
    /// `(queue, schemaVersion attribute, body schemaVersion)` of every queue message sent.
    versions: Mutex<Vec<(String, String, String)>>,
    broken: Mutex<HashSet<String>>,
    refuse_event: Mutex<Option<String>>,
    /// HTTP POSTs that never answer: a URL (every event) or `<url>#<eventId>`.
    hang: Mutex<HashSet<String>>,
}

impl Sender {
    fn calls(&self) -> Vec<(String, Vec<String>)> {
        self.calls.lock().expect("lock").clone()
    }
    /// Event ids each target received, in order.
    fn received(&self) -> BTreeMap<String, Vec<String>> {
        let mut by_target: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (target, ids) in self.calls() {
            by_target.entry(target).or_default().extend(ids);
        }
        by_target
    }
    fn event_id(body: &str) -> String {
        serde_json::from_str::<serde_json::Value>(body).expect("json")["eventId"]
            .as_str()
            .expect("id")
            .to_owned()
    }
}

#[async_trait]
impl CallbackSender for Sender {
    async fn send_queue(
        &self,
        queue: &str,
        messages: &[OutgoingMessage],
    ) -> Result<SendOutcome, BoxError> {
        if self.broken.lock().expect("lock").contains(queue) {
            return Err(format!("queue {queue} does not exist").into());
        }
        let refuse = self.refuse_event.lock().expect("lock").clone();
        let mut outcome = SendOutcome::default();
        let mut sent = Vec::new();
        for (i, m) in messages.iter().enumerate() {
            let id = Self::event_id(&m.body);
            let body: serde_json::Value = serde_json::from_str(&m.body).expect("json");
            self.versions.lock().expect("lock").push((
                queue.to_owned(),
                m.attributes[crate::messaging::attributes::SCHEMA_VERSION].clone(),
                body["schemaVersion"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            ));
            if refuse.as_deref() == Some(id.as_str()) {
                outcome.failed.push(SendFailure {
                    index: i,
                    code: "InternalError".into(),
                    sender_fault: false,
                });
            } else {
                outcome.sent.push((i, format!("m-{i}")));
                sent.push(id);
            }
        }
        self.calls
            .lock()
            .expect("lock")
            .push((queue.to_owned(), sent));
        Ok(outcome)
    }
    async fn post_http(
        &self,
        url: &str,
        body: &str,
        headers: &[(String, String)],
    ) -> Result<(), BoxError> {
        assert!(
            headers
                .iter()
                .any(|(k, v)| k == "X-Q2C-eventId" && *v == Self::event_id(body))
        );
        if self.broken.lock().expect("lock").contains(url) {
            return Err("connection refused".into());
        }
        let hangs = {
            let hang = self.hang.lock().expect("lock");
            hang.contains(url) || hang.contains(&format!("{url}#{}", Self::event_id(body)))
        };
        if hangs {
            futures::future::pending::<()>().await;
        }
        self.calls
            .lock()
            .expect("lock")
            .push((url.to_owned(), vec![Self::event_id(body)]));
        Ok(())
    }
}

struct Now;
impl Clock for Now {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::UNIX_EPOCH
    }
}

const Q1: &str = "local:sub-one";
const Q2: &str = "local:sub-two";
const HTTP: &str = "http://127.0.0.1:9/listener";
const PRICE_EVENT: &str = "ProductOfferingPriceAttributeValueChangeEvent";

/// `subscription` of tenant `tenant_name` on `api`'s hub.
fn on(
    tenant_name: &str,
    api: HubApi,
    subscription: EventSubscription,
) -> (TenantId, HubApi, EventSubscription) {
    (tenant(tenant_name), api, subscription)
}

fn sub(id: &str, callback: &str, query: Option<&str>) -> EventSubscription {
    EventSubscription {
        id: id.into(),
        callback: callback.into(),
        query: query.map(Into::into),
    }
}

fn message(
    event_id: &str,
    event_type: &str,
    tenant: Option<&str>,
    receive_count: u32,
) -> ParsedMessage {
    let envelope = json!({"eventId": event_id, "eventType": event_type,
        "event": {"productOfferingPrice": {"id": format!("pop-{event_id}")}}});
    ParsedMessage {
        message_id: format!("msg-{event_id}"),
        event_id: event_id.into(),
        event_type: event_type.into(),
        schema_version: Some("1.0".into()),
        tenant: tenant.map(Into::into),
        correlation_id: None,
        receive_count: Some(receive_count),
        event: envelope["event"].clone(),
        envelope,
    }
}

struct Setup {
    delivery: HubDelivery,
    sender: Arc<Sender>,
}

fn setup(
    subscriptions: Vec<(TenantId, HubApi, EventSubscription)>,
    builtins: Vec<BuiltinSubscriber>,
) -> Setup {
    setup_emitting(subscriptions, builtins, SchemaMajor::CURRENT)
}

fn setup_emitting(
    subscriptions: Vec<(TenantId, HubApi, EventSubscription)>,
    builtins: Vec<BuiltinSubscriber>,
    emit: SchemaMajor,
) -> Setup {
    let sender = Arc::new(Sender::default());
    let delivery = HubDelivery::new(
        Arc::new(ReadOnlyHubs(subscriptions)),
        Arc::new(Log::default()),
        sender.clone(),
        CallbackPolicy::local()
            .allow_all(&format!("{Q1},{Q2}"))
            .expect("allow-list"),
        Arc::new(Now),
        DeliveryConfig {
            max_attempts: 3,
            catalog_builtins: builtins,
            emit,
            ..DeliveryConfig::default()
        },
    );
    Setup { delivery, sender }
}

fn three_catalog_subscribers() -> Vec<(TenantId, HubApi, EventSubscription)> {
    vec![
        on(
            "a",
            HubApi::Catalog,
            sub("s1", Q1, Some(&format!("eventType={PRICE_EVENT}"))),
        ),
        on("b", HubApi::Catalog, sub("s2", Q2, None)),
        on("a", HubApi::Catalog, sub("s3", HTTP, None)),
    ]
}

impl Setup {
    /// Delivers the price event `e1` to the catalog hub, on its `receive_count`th receipt.
    async fn deliver_e1(&self, receive_count: u32) -> Result<(), HandlerError> {
        let message = message("e1", PRICE_EVENT, None, receive_count);
        self.delivery.deliver(HubApi::Catalog, &message).await
    }

    /// Sends to `target` fail from now on.
    fn break_target(&self, target: &str) {
        self.sender
            .broken
            .lock()
            .expect("lock")
            .insert(target.into());
    }

    /// Each of the [`three_catalog_subscribers`] received `e1`, exactly once.
    fn assert_each_received_e1_once(&self) {
        let received = self.sender.received();
        for target in [Q1, Q2, HTTP] {
            assert_eq!(received[target], ["e1"], "{target} exactly once");
        }
    }
}

fn all_ok(results: &[Result<(), HandlerError>]) -> bool {
    results.iter().all(Result::is_ok)
}

#[tokio::test]
async fn a_price_change_reaches_every_catalog_subscriber_of_every_tenant_once() {
    let s = setup(three_catalog_subscribers(), vec![]);
    let m = message("e1", PRICE_EVENT, None, 1);
    assert!(all_ok(
        &s.delivery
            .deliver_batch(HubApi::Catalog, std::slice::from_ref(&m))
            .await
    ));
    s.delivery
        .deliver(HubApi::Catalog, &m)
        .await
        .expect("a redelivery is fine");
    s.assert_each_received_e1_once();
}

#[tokio::test]
async fn a_failing_subscriber_blocks_no_other_and_the_retry_sends_only_to_it() {
    let s = setup(three_catalog_subscribers(), vec![]);
    s.break_target(Q2);
    let first = s.deliver_e1(1).await;
    let Err(HandlerError::Transient(error)) = first else {
        panic!("transient expected, got {first:?}")
    };
    assert!(
        error.to_string().contains("b/catalog/s2"),
        "names the subscriber: {error}"
    );
    assert_eq!(
        s.sender.received().keys().cloned().collect::<Vec<_>>(),
        [HTTP, Q1]
    );

    s.sender.broken.lock().expect("lock").clear();
    s.deliver_e1(2).await.expect("delivered");
    s.assert_each_received_e1_once();
}

#[tokio::test]
async fn the_last_attempt_fails_as_poison_naming_the_missed_subscribers() {
    let s = setup(three_catalog_subscribers(), vec![]);
    s.break_target(HTTP);
    let last = s.deliver_e1(3).await;
    let Err(HandlerError::Poison { reason }) = last else {
        panic!("poison expected, got {last:?}")
    };
    assert!(
        reason.contains("a/catalog/s3") && reason.contains("connection refused"),
        "{reason}"
    );
    assert!(
        !reason.contains("s1") && !reason.contains("s2"),
        "only the missed ones: {reason}"
    );
}

#[tokio::test]
async fn a_refused_entry_fails_only_its_message() {
    let s = setup(three_catalog_subscribers(), vec![]);
    *s.sender.refuse_event.lock().expect("lock") = Some("e2".into());
    let batch: Vec<_> = ["e1", "e2", "e3"]
        .iter()
        .map(|id| message(id, PRICE_EVENT, None, 1))
        .collect();
    let results = s.delivery.deliver_batch(HubApi::Catalog, &batch).await;
    assert!(results[0].is_ok() && results[2].is_ok());
    assert!(matches!(results[1], Err(HandlerError::Transient(_))));
}

#[tokio::test]
async fn a_batch_goes_to_each_queue_subscriber_in_one_request_per_ten() {
    let s = setup(three_catalog_subscribers(), vec![]);
    let batch: Vec<_> = (0..10)
        .map(|i| message(&format!("e{i}"), PRICE_EVENT, None, 1))
        .collect();
    assert!(all_ok(
        &s.delivery.deliver_batch(HubApi::Catalog, &batch).await
    ));
    let calls = s.sender.calls();
    let queue_calls = |q: &str| calls.iter().filter(|(t, _)| t == q).count();
    assert_eq!(
        (queue_calls(Q1), queue_calls(Q2)),
        (1, 1),
        "one send per queue subscriber"
    );
    assert_eq!(
        calls.iter().filter(|(t, _)| t == HTTP).count(),
        10,
        "one POST per event"
    );
}

#[tokio::test]
async fn queries_filter_and_quote_events_reach_only_their_tenants_subscribers() {
    let s = setup(
        vec![
            on(
                "a",
                HubApi::Quote,
                sub("q-a", Q1, Some("eventType=QuoteStateChangeEvent")),
            ),
            on(
                "a",
                HubApi::Quote,
                sub("q-a-create", Q2, Some("eventType=QuoteCreateEvent")),
            ),
            on("b", HubApi::Quote, sub("q-b", HTTP, None)),
            on("a", HubApi::Catalog, sub("c-a", HTTP, None)),
        ],
        vec![],
    );
    let batch = [
        message("e1", "QuoteStateChangeEvent", Some("a"), 1),
        message("e2", "QuoteStateChangeEvent", Some("b"), 1),
    ];
    assert!(all_ok(
        &s.delivery.deliver_batch(HubApi::Quote, &batch).await
    ));
    let received = s.sender.received();
    assert_eq!(received.get(Q1).cloned().unwrap_or_default(), ["e1"]);
    assert_eq!(
        received.get(HTTP).cloned().unwrap_or_default(),
        ["e2"],
        "B's event to B only"
    );
    assert!(!received.contains_key(Q2), "query filters out");
}

#[tokio::test]
async fn built_in_subscribers_get_catalog_events_first_and_skip_the_allow_list() {
    let billing = BuiltinSubscriber {
        name: "billing-updates".into(),
        target: CallbackTarget::Queue("arn:aws:sqs:eu-west-1:1:billing-updates".into()),
        query: SubscriptionQuery::parse(Some(&format!("eventType={PRICE_EVENT}"))).expect("query"),
    };
    let s = setup(three_catalog_subscribers(), vec![billing]);
    assert!(all_ok(
        &s.delivery
            .deliver_batch(HubApi::Catalog, &[message("e1", PRICE_EVENT, None, 1)])
            .await
    ));
    let calls = s.sender.calls();
    assert_eq!(
        calls[0].0, "arn:aws:sqs:eu-west-1:1:billing-updates",
        "built-in first: {calls:?}"
    );
    assert_eq!(calls.len(), 4);
}

#[tokio::test]
async fn built_ins_get_the_emitted_major_and_registered_subscribers_their_own() {
    for (emit, version) in [(SchemaMajor::V4, "4.0"), (SchemaMajor::V5, "5.0")] {
        let billing = billing_updates_subscriber("local:billing-updates");
        let s = setup_emitting(
            vec![on("a", HubApi::Catalog, sub("s-1", Q1, None))],
            vec![billing],
            emit,
        );
        // A legacy 1.0 message: re-labelled in the version each subscriber gets.
        assert!(all_ok(
            &s.delivery
                .deliver_batch(HubApi::Catalog, &[message("e1", PRICE_EVENT, None, 1)])
                .await
        ));
        let versions = s.sender.versions.lock().expect("lock").clone();
        assert_eq!(
            versions,
            [
                (
                    "local:billing-updates".to_owned(),
                    version.to_owned(),
                    version.to_owned()
                ),
                (Q1.to_owned(), "4.0".to_owned(), "4.0".to_owned()),
            ],
            "emit {emit}"
        );
    }
}

#[tokio::test]
async fn subscriptions_the_policy_no_longer_admits_are_skipped_not_failed() {
    let s = setup(
        vec![
            on("a", HubApi::Catalog, sub("ok", Q1, None)),
            on(
                "a",
                HubApi::Catalog,
                sub("gone", "https://example.com/hook", None),
            ),
            on("a", HubApi::Catalog, sub("bad-query", Q2, Some("nonsense"))),
            // Stored before the system-queue rule: skipped, never fed the billing queue.
            on(
                "a",
                HubApi::Catalog,
                sub("system", "local:billing-updates", None),
            ),
            on("a", HubApi::Catalog, sub("dlq", "local:orders-dlq", None)),
            // Another tenant's subscriber queue.
            on(
                "a",
                HubApi::Catalog,
                sub("foreign", "local:subscriber-b", None),
            ),
        ],
        vec![],
    );
    assert!(all_ok(
        &s.delivery
            .deliver_batch(HubApi::Catalog, &[message("e1", PRICE_EVENT, None, 1)])
            .await
    ));
    assert_eq!(
        s.sender.received().keys().cloned().collect::<Vec<_>>(),
        [Q1]
    );
}

#[tokio::test]
async fn a_mixed_quote_events_batch_goes_to_the_hub_each_message_names() {
    let s = setup(
        vec![
            on("a", HubApi::Quote, sub("quote-sub", Q1, None)),
            on("a", HubApi::Ordering, sub("order-sub", Q2, None)),
        ],
        vec![],
    );
    let mut order_event = message("e2", "ProductOrderStateChangeEvent", Some("a"), 1);
    order_event.envelope["hubApi"] = json!("ordering");
    assert_eq!(hub_of(&order_event), HubApi::Ordering);
    let quote_event = message("e1", "QuoteStateChangeEvent", Some("a"), 1);
    assert_eq!(hub_of(&quote_event), HubApi::Quote);

    let results = s
        .delivery
        .deliver_mixed_batch(vec![quote_event, order_event])
        .await;
    assert_eq!(results.len(), 2);
    assert!(all_ok(&results));
    let received = s.sender.received();
    assert_eq!(received.get(Q1).cloned().unwrap_or_default(), ["e1"]);
    assert_eq!(received.get(Q2).cloned().unwrap_or_default(), ["e2"]);
}

#[tokio::test]
async fn announcing_a_price_change_delivers_it_to_billing_first() {
    let s = setup(
        three_catalog_subscribers(),
        vec![billing_updates_subscriber("local:billing-updates")],
    );
    let announce: &dyn crate::fanout::Announce = &s.delivery;
    announce
        .announce(&message("e1", PRICE_EVENT, None, 1))
        .await
        .expect("announced");
    let calls = s.sender.calls();
    assert_eq!(calls[0].0, "local:billing-updates", "{calls:?}");
    assert_eq!(
        s.sender.received().len(),
        4,
        "billing and the three subscribers"
    );
}

const SLOW: &str = "http://127.0.0.1:9/slow";

/// Tenant `a`: a queue and a slow HTTP listener; tenant `b`: a queue.
fn a_slow_subscriber() -> Vec<(TenantId, HubApi, EventSubscription)> {
    vec![
        on("a", HubApi::Quote, sub("fast", Q1, None)),
        on("a", HubApi::Quote, sub("slow", SLOW, None)),
        on("b", HubApi::Quote, sub("other", Q2, None)),
    ]
}

/// A deadline `millis` from now (the fake clock stands still, so this is real time left).
fn deadline_in(millis: u64) -> Option<OffsetDateTime> {
    Some(Now.now() + std::time::Duration::from_millis(millis))
}

#[tokio::test]
async fn a_subscriber_that_never_answers_delays_no_other_and_its_retry_resends_nothing_delivered() {
    let s = setup(a_slow_subscriber(), vec![]);
    s.sender.hang.lock().expect("lock").insert(SLOW.into());
    let batch = [
        message("e1", "QuoteStateChangeEvent", Some("a"), 1),
        message("e2", "QuoteStateChangeEvent", Some("b"), 1),
    ];
    let results = s
        .delivery
        .deliver_batch_by(HubApi::Quote, &batch, deadline_in(300))
        .await;
    assert!(results[1].is_ok(), "tenant b is not held: {:?}", results[1]);
    let Err(HandlerError::Transient(error)) = &results[0] else {
        panic!("transient expected, got {:?}", results[0])
    };
    let retry = error
        .downcast_ref::<crate::messaging::RetryAfter>()
        .expect("a retry with its backoff");
    assert_eq!(retry.after, std::time::Duration::from_secs(30));
    assert!(
        retry.reason.contains("a/quote/slow") && !retry.reason.contains("a/quote/fast"),
        "names only the slow one: {}",
        retry.reason
    );
    let received = s.sender.received();
    assert_eq!(received[Q1], ["e1"]);
    assert_eq!(received[Q2], ["e2"]);
    assert!(!received.contains_key(SLOW));

    // The retry (second receive) goes to the slow listener only, which now answers.
    s.sender.hang.lock().expect("lock").clear();
    let again = s
        .delivery
        .deliver_batch_by(HubApi::Quote, &batch[..1], deadline_in(5_000))
        .await;
    assert!(all_ok(&again), "{again:?}");
    let received = s.sender.received();
    assert_eq!(received[Q1], ["e1"], "not re-sent");
    assert_eq!(received[SLOW], ["e1"]);
}

#[tokio::test]
async fn posts_to_one_listener_are_concurrent_and_recorded_as_each_succeeds() {
    let s = setup(a_slow_subscriber(), vec![]);
    // The listener hangs on e2 only: e1 and e3 must get through beside it.
    s.sender
        .hang
        .lock()
        .expect("lock")
        .insert(format!("{SLOW}#e2"));
    let batch: Vec<ParsedMessage> = ["e1", "e2", "e3"]
        .iter()
        .map(|id| message(id, "QuoteStateChangeEvent", Some("a"), 1))
        .collect();
    let results = s
        .delivery
        .deliver_batch_by(HubApi::Quote, &batch, deadline_in(300))
        .await;
    assert!(results[0].is_ok() && results[2].is_ok(), "{results:?}");
    assert!(results[1].is_err());
    assert_eq!(s.sender.received()[SLOW], ["e1", "e3"]);

    s.sender.hang.lock().expect("lock").clear();
    let again = s
        .delivery
        .deliver_batch_by(HubApi::Quote, &batch, deadline_in(5_000))
        .await;
    assert!(all_ok(&again), "{again:?}");
    assert_eq!(
        s.sender.received()[SLOW],
        ["e1", "e3", "e2"],
        "only the one it missed"
    );
}

#[test]
fn retry_backoff_doubles_per_receive_up_to_its_cap() {
    let config = DeliveryConfig::default();
    let secs: Vec<u64> = (1..=7).map(|n| config.backoff(n).as_secs()).collect();
    assert_eq!(secs, [30, 60, 120, 240, 480, 900, 900]);
    assert_eq!(config.backoff(u32::MAX).as_secs(), 900);
}

#[tokio::test]
async fn a_failed_announce_is_retried_by_the_fanouts_queue_not_delayed() {
    let s = setup(three_catalog_subscribers(), vec![]);
    s.break_target(Q2);
    let announce: &dyn crate::fanout::Announce = &s.delivery;
    let failed = announce
        .announce(&message("e1", PRICE_EVENT, None, 1))
        .await;
    let Err(HandlerError::Transient(error)) = failed else {
        panic!("transient expected, got {failed:?}")
    };
    assert!(error.to_string().contains("b/catalog/s2"), "{error}");
    assert!(
        error
            .downcast_ref::<crate::messaging::RetryAfter>()
            .is_none(),
        "no RetryAfter: price-fanout may not change visibility"
    );
}
