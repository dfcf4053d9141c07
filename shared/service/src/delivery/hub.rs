//! [`HubDelivery`]: delivers a batch of received events to the matching subscribers of
//! their hub. Subscribers are independent: each gets its own batched sends, a failure of one
//! fails only the messages it did not receive, and a redelivered message goes only to the
//! subscribers the [`DeliveryLog`] has no record of.
//!
//! One subscriber cannot stall the others: subscribers run concurrently, an HTTP
//! subscriber's messages are POSTed concurrently (a few at a time), every send is bounded by
//! the invocation's deadline, and each delivery is recorded as soon as it succeeds, so a
//! batch cut short by the deadline re-sends nothing that was delivered. A message a
//! subscriber missed is retried on its own, later: it fails with [`RetryAfter`] (the queue
//! hides it for a backoff growing per receive, at most [`DeliveryConfig::retry_max`]) and
//! its next receive goes only to the subscribers that still lack it.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use super::policy::{CallbackPolicy, CallbackTarget};
use super::ports::{CallbackSender, DeliveryLog};
use super::query::SubscriptionQuery;
use crate::context::TenantId;
use crate::event_versions::{SchemaMajor, render_envelope};
use crate::hubs::{HubApi, HubStore, VersionedSubscription};
use futures::StreamExt;
use time::OffsetDateTime;

use crate::clock::Clock;
use crate::messaging::{
    HandlerError, MAX_BATCH, OutgoingMessage, ParsedMessage, RetryAfter, attributes,
};

/// A subscription of the stack itself (e.g. billing-updates for catalog events): not in the
/// hub store, not subject to the allow-list, delivered before the registered subscribers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuiltinSubscriber {
    /// Stable name, part of its delivery key (`builtin:<name>`).
    pub name: String,
    /// Where: a queue (SQS ARN/URL or `local:<name>`) or an HTTP URL.
    pub target: CallbackTarget,
    /// Its filter.
    pub query: SubscriptionQuery,
}

/// Tuning of [`HubDelivery`].
#[derive(Debug, Clone)]
pub struct DeliveryConfig {
    /// On this receive of a message (the source queue's `maxReceiveCount`), a message still
    /// not delivered to every subscriber fails as poison, so it reaches the DLQ with a
    /// reason naming the subscribers it missed instead of being redriven without one.
    pub max_attempts: u32,
    /// How long a delivery record is kept (longer than a message can live in the queue).
    pub record_retention: Duration,
    /// Built-in subscribers of catalog events, delivered first.
    pub catalog_builtins: Vec<BuiltinSubscriber>,
    /// The schema major built-in subscribers receive (the process's emitted major;
    /// registered subscribers receive the version they registered with).
    pub emit: SchemaMajor,
    /// How long a message a subscriber missed stays hidden after its first receive; doubled
    /// on each further receive (the message's `receive_count`), at most [`Self::retry_max`].
    pub retry_base: Duration,
    /// The longest retry backoff (SQS allows a visibility timeout of up to 12 h; 15 min
    /// keeps retries of a recovered subscriber prompt).
    pub retry_max: Duration,
    /// POSTs in flight at once to one HTTP subscriber (its messages of one batch).
    pub http_concurrency: usize,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        DeliveryConfig {
            max_attempts: 5,
            record_retention: Duration::from_secs(15 * 24 * 3600),
            catalog_builtins: Vec::new(),
            emit: SchemaMajor::DEFAULT_EMIT,
            retry_base: Duration::from_secs(30),
            retry_max: Duration::from_secs(15 * 60),
            http_concurrency: 4,
        }
    }
}

impl DeliveryConfig {
    /// The backoff after the `attempt`-th receive (1-based): `retry_base × 2^(attempt − 1)`,
    /// at most `retry_max`.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let doublings = attempt.saturating_sub(1).min(20);
        self.retry_base
            .saturating_mul(1u32 << doublings)
            .min(self.retry_max)
    }
}

/// The delivery key of a registered subscription: `<tenant>/<api>/<id>` (ids are unique
/// per tenant and API only).
pub fn subscriber_key(tenant: &TenantId, api: HubApi, id: &str) -> String {
    format!("{tenant}/{}/{id}", api.as_str())
}

/// One subscriber ready to receive.
#[derive(Debug, Clone)]
struct Subscriber {
    key: String,
    target: CallbackTarget,
    query: SubscriptionQuery,
    /// The schema major its messages are rendered in.
    version: SchemaMajor,
}

/// The hub delivery use-case.
#[derive(Clone)]
pub struct HubDelivery {
    hubs: Arc<dyn HubStore>,
    log: Arc<dyn DeliveryLog>,
    sender: Arc<dyn CallbackSender>,
    policy: Arc<CallbackPolicy>,
    clock: Arc<dyn Clock>,
    config: Arc<DeliveryConfig>,
}

/// The delivery-key prefix of built-in subscribers.
const BUILTIN_KEY_PREFIX: &str = "builtin:";

/// Which subscribers a message still misses, and why.
type Misses = BTreeMap<String, String>;

impl HubDelivery {
    /// The use-case over its ports. `policy` is checked again at delivery time, so a
    /// subscription the allow-list no longer admits is skipped.
    pub fn new(
        hubs: Arc<dyn HubStore>,
        log: Arc<dyn DeliveryLog>,
        sender: Arc<dyn CallbackSender>,
        policy: CallbackPolicy,
        clock: Arc<dyn Clock>,
        config: DeliveryConfig,
    ) -> Self {
        HubDelivery {
            hubs,
            log,
            sender,
            policy: Arc::new(policy),
            clock,
            config: Arc::new(config),
        }
    }

    /// Delivers one message (the single-message handler form).
    ///
    /// # Errors
    /// As [`HubDelivery::deliver_batch`] for this message.
    pub async fn deliver(&self, api: HubApi, message: &ParsedMessage) -> Result<(), HandlerError> {
        self.deliver_batch(api, std::slice::from_ref(message))
            .await
            .pop()
            .unwrap_or(Ok(()))
    }

    /// Delivers a batch of messages of `api`'s events; one result per message, in order.
    /// A message fails `Transient` (naming the subscribers it missed) while any matching
    /// subscriber lacks it, and `Poison` with that reason on its last attempt.
    pub async fn deliver_batch(
        &self,
        api: HubApi,
        messages: &[ParsedMessage],
    ) -> Vec<Result<(), HandlerError>> {
        self.deliver_batch_by(api, messages, None).await
    }

    /// [`HubDelivery::deliver_batch`] finishing by `deadline` (the invocation's, less the
    /// time to settle the batch): sends still unanswered then are abandoned, and their
    /// messages fail for those subscribers only (what was delivered is recorded already).
    pub async fn deliver_batch_by(
        &self,
        api: HubApi,
        messages: &[ParsedMessage],
        deadline: Option<OffsetDateTime>,
    ) -> Vec<Result<(), HandlerError>> {
        let mut misses: Vec<Misses> = vec![Misses::new(); messages.len()];
        let subscribers = match self.subscribers(api, messages).await {
            Ok(subscribers) => subscribers,
            Err(error) => {
                return messages
                    .iter()
                    .map(|_| {
                        Err(HandlerError::Transient(
                            format!("reading subscriptions: {error}").into(),
                        ))
                    })
                    .collect();
            }
        };
        // Per subscriber, the messages it should get and has not had yet.
        let mut pending: Vec<(Subscriber, Vec<usize>)> = Vec::new();
        for (index, message) in messages.iter().enumerate() {
            let matching: Vec<&Subscriber> = subscribers
                .get(&message.tenant)
                .into_iter()
                .flatten()
                .filter(|s| s.query.matches(&message.event_type, &message.envelope))
                .collect();
            if matching.is_empty() {
                continue;
            }
            let keys: Vec<String> = matching.iter().map(|s| s.key.clone()).collect();
            let done = match self.log.delivered(&message.event_id, &keys).await {
                Ok(done) => done,
                Err(error) => {
                    misses[index].insert("*".into(), format!("reading deliveries: {error}"));
                    continue;
                }
            };
            for subscriber in matching.into_iter().filter(|s| !done.contains(&s.key)) {
                match pending.iter_mut().find(|(s, _)| s.key == subscriber.key) {
                    Some((_, indexes)) => indexes.push(index),
                    None => pending.push((subscriber.clone(), vec![index])),
                }
            }
        }
        // Built-ins come first in `pending` (they were listed first) and are awaited first;
        // the registered subscribers then run concurrently, independent of each other.
        let (builtins, rest): (Vec<_>, Vec<_>) = pending
            .into_iter()
            .partition(|(s, _)| s.key.starts_with(BUILTIN_KEY_PREFIX));
        for (subscriber, indexes) in &builtins {
            for (index, reason) in self
                .deliver_to(subscriber, messages, indexes, deadline)
                .await
            {
                misses[index].insert(subscriber.key.clone(), reason);
            }
        }
        let outcomes = futures::future::join_all(
            rest.iter()
                .map(|(s, indexes)| self.deliver_to(s, messages, indexes, deadline)),
        )
        .await;
        for ((subscriber, _), failed) in rest.iter().zip(outcomes) {
            for (index, reason) in failed {
                misses[index].insert(subscriber.key.clone(), reason);
            }
        }
        messages
            .iter()
            .zip(misses)
            .map(|(message, missed)| self.outcome(message, &missed))
            .collect()
    }

    fn outcome(&self, message: &ParsedMessage, missed: &Misses) -> Result<(), HandlerError> {
        if missed.is_empty() {
            return Ok(());
        }
        let list = missed
            .iter()
            .map(|(key, reason)| format!("{key}: {reason}"))
            .collect::<Vec<_>>()
            .join("; ");
        let attempt = message.receive_count.unwrap_or(1);
        if attempt >= self.config.max_attempts {
            Err(HandlerError::Poison {
                reason: format!(
                    "event {} not delivered after {attempt} attempts to: {list}",
                    message.event_id
                ),
            })
        } else {
            Err(HandlerError::Transient(Box::new(RetryAfter {
                after: self.config.backoff(attempt),
                reason: format!("event {} not delivered to: {list}", message.event_id),
            })))
        }
    }

    /// The subscribers of each tenant that has messages in the batch (catalog events: the
    /// built-ins then every tenant's catalog subscriptions, under the `None` tenant).
    async fn subscribers(
        &self,
        api: HubApi,
        messages: &[ParsedMessage],
    ) -> Result<HashMap<Option<String>, Vec<Subscriber>>, crate::store::StoreError> {
        let mut by_tenant = HashMap::new();
        if api == HubApi::Catalog {
            let mut all: Vec<Subscriber> = self
                .config
                .catalog_builtins
                .iter()
                .map(|b| Subscriber {
                    key: format!("{BUILTIN_KEY_PREFIX}{}", b.name),
                    target: b.target.clone(),
                    query: b.query.clone(),
                    version: self.config.emit,
                })
                .collect();
            for (tenant, subscription) in self.hubs.list_for_api_versioned(api).await? {
                all.extend(self.registered(&tenant, api, &subscription));
            }
            for message in messages {
                by_tenant
                    .entry(message.tenant.clone())
                    .or_insert_with(|| all.clone());
            }
            return Ok(by_tenant);
        }
        for message in messages {
            if by_tenant.contains_key(&message.tenant) {
                continue;
            }
            let Some(tenant) = message
                .tenant
                .as_deref()
                .and_then(|t| TenantId::parse(t).ok())
            else {
                tracing::warn!(event_id = %message.event_id, "event without a valid tenant: no subscriber can match");
                by_tenant.insert(message.tenant.clone(), Vec::new());
                continue;
            };
            let subscriptions = self.hubs.list_versioned(&tenant, api).await?;
            let subscribers = subscriptions
                .iter()
                .filter_map(|s| self.registered(&tenant, api, s))
                .collect();
            by_tenant.insert(message.tenant.clone(), subscribers);
        }
        Ok(by_tenant)
    }

    /// A stored subscription as a subscriber; `None` (logged) when its query or callback no
    /// longer passes.
    fn registered(
        &self,
        tenant: &TenantId,
        api: HubApi,
        versioned: &VersionedSubscription,
    ) -> Option<Subscriber> {
        let subscription = &versioned.subscription;
        let key = subscriber_key(tenant, api, &subscription.id);
        let query = SubscriptionQuery::parse(subscription.query.as_deref())
            .inspect_err(|e| tracing::warn!(subscriber = %key, error = %e, "subscription skipped"))
            .ok()?;
        let target = self
            .policy
            .check(tenant, &subscription.callback)
            .inspect_err(|e| tracing::warn!(subscriber = %key, error = %e, "subscription skipped"))
            .ok()?;
        Some(Subscriber {
            key,
            target,
            query,
            version: versioned.version,
        })
    }

    /// Sends `indexes` of `messages` to one subscriber, recording each delivery as it
    /// succeeds, until `deadline`; returns the messages it did not get, with why.
    async fn deliver_to(
        &self,
        subscriber: &Subscriber,
        messages: &[ParsedMessage],
        indexes: &[usize],
        deadline: Option<OffsetDateTime>,
    ) -> Vec<(usize, String)> {
        // Sends are units: a queue batch of up to 10, or one HTTP POST. Each unit records
        // what it delivered before reporting, so a deadline that cuts the rest short loses
        // no record of what got through.
        let units: Vec<Vec<usize>> = match &subscriber.target {
            CallbackTarget::Queue(_) => indexes.chunks(MAX_BATCH).map(<[usize]>::to_vec).collect(),
            CallbackTarget::Http(_) => indexes.iter().map(|&i| vec![i]).collect(),
        };
        let in_flight = match &subscriber.target {
            CallbackTarget::Queue(_) => 1,
            CallbackTarget::Http(_) => self.config.http_concurrency.max(1),
        };
        let mut settled: Vec<(usize, Option<String>)> = Vec::new();
        let run = async {
            // By position, not by reference: a closure over `&Vec` trips the higher-ranked
            // lifetime check of the `async_trait` futures that await this.
            let mut sends = futures::stream::iter(
                (0..units.len()).map(|k| self.send_unit(subscriber, messages, &units[k])),
            )
            .buffer_unordered(in_flight);
            while let Some(outcome) = sends.next().await {
                settled.extend(outcome);
            }
        };
        let finished = match deadline {
            None => {
                run.await;
                true
            }
            Some(deadline) => {
                let left = deadline - self.clock.now();
                let left = Duration::try_from(left).unwrap_or(Duration::ZERO);
                tokio::time::timeout(left, run).await.is_ok()
            }
        };
        let mut failed: Vec<(usize, String)> = settled
            .iter()
            .filter_map(|(i, why)| why.clone().map(|why| (*i, why)))
            .collect();
        if !finished {
            let answered: std::collections::HashSet<usize> =
                settled.iter().map(|(i, _)| *i).collect();
            failed.extend(
                indexes
                    .iter()
                    .filter(|i| !answered.contains(i))
                    .map(|&i| (i, "no answer before the invocation's deadline".to_owned())),
            );
        }
        if !failed.is_empty() {
            tracing::warn!(subscriber = %subscriber.key, failed = failed.len(), "delivery failed");
        }
        failed
    }

    /// One send (a queue batch or an HTTP POST) and the records of what it delivered:
    /// `(index, None)` delivered and recorded, `(index, Some(why))` not delivered.
    async fn send_unit(
        &self,
        subscriber: &Subscriber,
        messages: &[ParsedMessage],
        unit: &[usize],
    ) -> Vec<(usize, Option<String>)> {
        let mut outcome = Vec::with_capacity(unit.len());
        let mut received = Vec::new();
        match &subscriber.target {
            CallbackTarget::Queue(queue) => {
                let batch: Vec<OutgoingMessage> = unit
                    .iter()
                    .map(|&i| outgoing_as(&messages[i], subscriber.version))
                    .collect();
                match self.sender.send_queue(queue, &batch).await {
                    Ok(sent) => {
                        received.extend(sent.sent.iter().map(|(pos, _)| unit[*pos]));
                        outcome.extend(
                            sent.failed.iter().map(|f| {
                                (unit[f.index], Some(format!("queue refused: {}", f.code)))
                            }),
                        );
                    }
                    Err(error) => {
                        outcome.extend(unit.iter().map(|&i| (i, Some(error.to_string()))));
                    }
                }
            }
            CallbackTarget::Http(url) => {
                for &index in unit {
                    let message = outgoing_as(&messages[index], subscriber.version);
                    let headers = http_headers(&message);
                    match self.sender.post_http(url, &message.body, &headers).await {
                        Ok(()) => received.push(index),
                        Err(error) => outcome.push((index, Some(error.to_string()))),
                    }
                }
            }
        }
        let expires_at = self.clock.now() + self.config.record_retention;
        for index in received {
            let event_id = &messages[index].event_id;
            match self.log.record(event_id, &subscriber.key, expires_at).await {
                Ok(_) => outcome.push((index, None)),
                // Delivered but not recorded: the retry sends it again (at least once).
                Err(error) => {
                    outcome.push((index, Some(format!("recording the delivery: {error}"))));
                }
            }
        }
        outcome
    }
}

/// The delivered message in the schema major the message arrived in (a forward as is).
pub fn outgoing(message: &ParsedMessage) -> OutgoingMessage {
    outgoing_as(message, message.schema_major())
}

/// The delivered message in schema major `version`: the envelope rendered in it as body,
/// with the message attributes (`schemaVersion` the rendered one).
pub fn outgoing_as(message: &ParsedMessage, version: SchemaMajor) -> OutgoingMessage {
    let mut attrs = BTreeMap::new();
    attrs.insert(
        attributes::EVENT_TYPE.to_owned(),
        message.event_type.clone(),
    );
    attrs.insert(attributes::EVENT_ID.to_owned(), message.event_id.clone());
    attrs.insert(
        attributes::SCHEMA_VERSION.to_owned(),
        version.version().to_owned(),
    );
    let optional = [
        (attributes::TENANT, &message.tenant),
        (attributes::CORRELATION_ID, &message.correlation_id),
    ];
    for (name, value) in optional {
        if let Some(value) = value {
            attrs.insert(name.to_owned(), value.clone());
        }
    }
    OutgoingMessage {
        body: render_envelope(&message.envelope, version).to_string(),
        attributes: attrs,
    }
}

/// The prefix of the HTTP headers carrying the message attributes (`X-Q2C-eventType`, ...).
pub const ATTRIBUTE_HEADER_PREFIX: &str = "X-Q2C-";

/// The attributes as HTTP headers, and the JSON content type.
fn http_headers(message: &OutgoingMessage) -> Vec<(String, String)> {
    let mut headers = vec![("Content-Type".to_owned(), "application/json".to_owned())];
    headers.extend(
        message
            .attributes
            .iter()
            .map(|(k, v)| (format!("{ATTRIBUTE_HEADER_PREFIX}{k}"), v.clone())),
    );
    headers
}

/// The built-in subscriber receiving every catalog (price) event: the stack's billing-updates
/// queue (`target`: its SQS URL/ARN, or `local:billing-updates`).
pub fn billing_updates_subscriber(target: &str) -> BuiltinSubscriber {
    BuiltinSubscriber {
        name: crate::messaging::queues::BILLING_UPDATES.to_owned(),
        target: CallbackTarget::Queue(target.to_owned()),
        query: SubscriptionQuery::default(),
    }
}

/// The hub a message on the quote-events queue is for: the envelope's `hubApi`
/// (`ordering` for product order events), else the quote hub.
pub fn hub_of(message: &ParsedMessage) -> HubApi {
    match message
        .envelope
        .get(attributes::HUB_API)
        .and_then(serde_json::Value::as_str)
    {
        Some(api) if api == HubApi::Ordering.as_str() => HubApi::Ordering,
        Some(api) if api == HubApi::Catalog.as_str() => HubApi::Catalog,
        _ => HubApi::Quote,
    }
}

impl HubDelivery {
    /// Delivers a batch of the quote-events queue, whose messages may be for different hubs
    /// ([`hub_of`]): one [`HubDelivery::deliver_batch`] per hub, results in message order.
    pub async fn deliver_mixed_batch(
        &self,
        messages: Vec<ParsedMessage>,
    ) -> Vec<Result<(), HandlerError>> {
        self.deliver_mixed_batch_by(messages, None).await
    }

    /// [`HubDelivery::deliver_mixed_batch`] finishing by `deadline`
    /// ([`HubDelivery::deliver_batch_by`]); the hubs' groups run concurrently.
    pub async fn deliver_mixed_batch_by(
        &self,
        messages: Vec<ParsedMessage>,
        deadline: Option<OffsetDateTime>,
    ) -> Vec<Result<(), HandlerError>> {
        let mut results: Vec<Option<Result<(), HandlerError>>> =
            messages.iter().map(|_| None).collect();
        let groups: Vec<(HubApi, Vec<usize>, Vec<ParsedMessage>)> =
            [HubApi::Quote, HubApi::Ordering, HubApi::Catalog]
                .into_iter()
                .filter_map(|api| {
                    let (positions, group): (Vec<usize>, Vec<ParsedMessage>) = messages
                        .iter()
                        .enumerate()
                        .filter(|(_, m)| hub_of(m) == api)
                        .map(|(i, m)| (i, m.clone()))
                        .unzip();
                    (!group.is_empty()).then_some((api, positions, group))
                })
                .collect();
        let delivered = futures::future::join_all(
            groups
                .iter()
                .map(|(api, _, group)| self.deliver_batch_by(*api, group, deadline)),
        )
        .await;
        for ((_, positions, _), outcomes) in groups.iter().zip(delivered) {
            for (position, result) in positions.iter().zip(outcomes) {
                results[*position] = Some(result);
            }
        }
        results.into_iter().map(|r| r.unwrap_or(Ok(()))).collect()
    }
}

/// Announcing an applied price change (the price fan-out's [`Announce`](crate::fanout::Announce) port) is delivering
/// it to the catalog hub.
#[async_trait::async_trait]
impl crate::fanout::Announce for HubDelivery {
    async fn announce(&self, message: &ParsedMessage) -> Result<(), HandlerError> {
        match self.deliver(HubApi::Catalog, message).await {
            // The fan-out's message is retried by its queue's visibility timeout, not the
            // hub's backoff: price-fanout never delays a message (no ChangeMessageVisibility).
            Err(HandlerError::Transient(error)) => {
                Err(HandlerError::Transient(error.to_string().into()))
            }
            other => other,
        }
    }
}
