//! The outbox relay: moves pending outbox events to their destination queues and marks only
//! the ones the queue accepted as published. Delivery is at least once: an event sent but not
//! yet marked (the process died, or the mark failed) is sent again on the next round, with the
//! same `eventId` attribute and envelope field, so consumers de-duplicate on it.

use std::collections::BTreeMap;

use time::OffsetDateTime;

use crate::event_versions::{SchemaMajor, SchemaPolicy, render_envelope};
use crate::messaging::{MAX_BATCH, OutgoingMessage, QueueClient, attributes};
use crate::ports::{OutboxEvent, OutboxStore, StoreError};

/// What one [`relay_once`] round did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RelayReport {
    /// Events sent and marked published.
    pub published: usize,
    /// Events left pending (refused, or their batch failed or was not attempted).
    pub failed: usize,
}

impl RelayReport {
    /// Events the round read; when it equals the `limit`, more may be waiting.
    pub fn read(&self) -> usize {
        self.published + self.failed
    }
}

/// Why a relay round stopped.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    /// The outbox could not be read or marked; the events stay pending.
    #[error("outbox unavailable")]
    Outbox(#[source] StoreError),
}

/// An outbox event (stored in the internal form) as `major` publishes it: the envelope
/// rendered in `major`, `schema_version` set to its version.
pub fn render_outbox_event(event: &OutboxEvent, major: SchemaMajor) -> OutboxEvent {
    OutboxEvent {
        body: render_envelope(&event.body, major),
        schema_version: major.version().to_owned(),
        ..event.clone()
    }
}

/// [`outgoing_as`] in the default emitted major ([`SchemaPolicy::default`]).
///
/// # Errors
/// As [`outgoing_as`].
pub fn outgoing(event: &OutboxEvent) -> Result<OutgoingMessage, serde_json::Error> {
    outgoing_as(event, SchemaPolicy::default().emit)
}

/// The message of an outbox event in `major`: body = the envelope JSON rendered in `major`;
/// attributes `eventType`, `schemaVersion` (`major`'s), `eventId`, and `tenant`,
/// `correlationId` and `hubApi` when known; product events also `billingAccount` and
/// `sequence`.
///
/// # Errors
/// When the body cannot be serialised (never for a body read back from JSON).
pub fn outgoing_as(
    event: &OutboxEvent,
    major: SchemaMajor,
) -> Result<OutgoingMessage, serde_json::Error> {
    let event = &render_outbox_event(event, major);
    let mut attrs = BTreeMap::from([
        (attributes::EVENT_TYPE.to_owned(), event.event_type.clone()),
        (
            attributes::SCHEMA_VERSION.to_owned(),
            event.schema_version.clone(),
        ),
        (attributes::EVENT_ID.to_owned(), event.event_id.clone()),
    ]);
    if let Some(tenant) = &event.tenant {
        attrs.insert(attributes::TENANT.to_owned(), tenant.clone());
    }
    if let Some(correlation_id) = &event.correlation_id {
        attrs.insert(
            attributes::CORRELATION_ID.to_owned(),
            correlation_id.clone(),
        );
    }
    if let Some(hub_api) = hub_api(event) {
        attrs.insert(attributes::HUB_API.to_owned(), hub_api.to_owned());
    }
    if let Some(account) = event
        .body
        .pointer("/event/product/billingAccount/id")
        .and_then(serde_json::Value::as_str)
    {
        attrs.insert(attributes::BILLING_ACCOUNT.to_owned(), account.to_owned());
    }
    if let Some(sequence) = event
        .body
        .get(attributes::SEQUENCE)
        .and_then(serde_json::Value::as_u64)
    {
        attrs.insert(attributes::SEQUENCE.to_owned(), sequence.to_string());
    }
    Ok(OutgoingMessage {
        body: serde_json::to_string(&event.body)?,
        attributes: attrs,
    })
}

/// The hub an event is for, from its envelope's `hubApi` field (set on order events bound
/// for ordering-hub subscribers, which share the quote-events queue).
pub fn hub_api(event: &OutboxEvent) -> Option<&str> {
    event
        .body
        .get(attributes::HUB_API)
        .and_then(serde_json::Value::as_str)
}

/// Relays up to `limit` pending events, oldest first, in the default emitted schema major
/// ([`SchemaMajor::DEFAULT_EMIT`]), to their destination queues in
/// batches of ten, marking each batch's accepted events published before sending the next.
/// A refused entry stays pending; a failed batch stops that destination for this round (its
/// later events stay pending too), so a down queue is not hammered.
///
/// # Errors
/// [`RelayError::Outbox`] when the outbox cannot be read or marked. Events sent but not
/// marked are sent again by the next round.
pub async fn relay_once(
    outbox: &dyn OutboxStore,
    queues: &dyn QueueClient,
    limit: usize,
) -> Result<RelayReport, RelayError> {
    relay_once_as(outbox, queues, limit, SchemaPolicy::default().emit).await
}

/// [`relay_once`] publishing every event in schema major `emit` (the process's
/// `EVENT_SCHEMA_VERSION`), whatever version the outbox stored it in.
///
/// # Errors
/// As [`relay_once`].
#[tracing::instrument(skip_all, fields(limit, emit = %emit), err)]
pub async fn relay_once_as(
    outbox: &dyn OutboxStore,
    queues: &dyn QueueClient,
    limit: usize,
    emit: SchemaMajor,
) -> Result<RelayReport, RelayError> {
    let pending = outbox.pending(limit).await.map_err(RelayError::Outbox)?;
    let mut by_queue: Vec<(&'static str, Vec<&OutboxEvent>)> = Vec::new();
    for event in &pending {
        let queue = event.destination.queue_name();
        match by_queue.iter_mut().find(|(q, _)| *q == queue) {
            Some((_, group)) => group.push(event),
            None => by_queue.push((queue, vec![event])),
        }
    }
    let mut report = RelayReport::default();
    for (queue, group) in by_queue {
        let mut chunks = group.chunks(MAX_BATCH);
        for chunk in chunks.by_ref() {
            match send_chunk(queues, queue, chunk, emit).await {
                Some(sent) => {
                    report.failed += chunk.len() - sent.len();
                    report.published += sent.len();
                    let sent: Vec<OutboxEvent> = chunk
                        .iter()
                        .filter(|e| sent.contains(&e.event_id))
                        .map(|e| (*e).clone())
                        .collect();
                    outbox
                        .mark_published(&sent, OffsetDateTime::now_utc())
                        .await
                        .map_err(RelayError::Outbox)?;
                }
                None => {
                    report.failed += chunk.len();
                    break;
                }
            }
        }
        report.failed += chunks.map(<[_]>::len).sum::<usize>();
    }
    Ok(report)
}

/// Sends one batch; the event ids the queue accepted, `None` when the call failed.
async fn send_chunk(
    queues: &dyn QueueClient,
    queue: &str,
    chunk: &[&OutboxEvent],
    emit: SchemaMajor,
) -> Option<Vec<String>> {
    let mut messages = Vec::with_capacity(chunk.len());
    let mut ids = Vec::with_capacity(chunk.len());
    for event in chunk {
        match outgoing_as(event, emit) {
            Ok(message) => {
                messages.push(message);
                ids.push(event.event_id.clone());
            }
            Err(error) => {
                tracing::error!(event_id = %event.event_id, error.message = %error, "outbox body cannot be serialised; left pending");
            }
        }
    }
    if messages.is_empty() {
        return Some(Vec::new());
    }
    match queues.send_batch(queue, &messages).await {
        Ok(outcome) => {
            for failure in &outcome.failed {
                tracing::warn!(queue, code = %failure.code, sender_fault = failure.sender_fault, "queue refused an outbox event; left pending");
            }
            let sent = outcome
                .sent
                .iter()
                .filter_map(|(index, _)| ids.get(*index).cloned())
                .collect();
            Some(sent)
        }
        Err(error) => {
            tracing::warn!(queue, error.message = %error, error.cause_chain = ?error, "sending outbox events failed; left pending");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::time::Duration;

    use async_trait::async_trait;
    use serde_json::json;

    use super::*;
    use crate::messaging::{QueueCounts, QueueError, ReceivedMessage, SendFailure, SendOutcome};
    use crate::ports::Destination;

    fn event(id: &str, tenant: Option<&str>) -> OutboxEvent {
        OutboxEvent {
            event_id: id.to_owned(),
            event_type: "QuoteCreateEvent".into(),
            tenant: tenant.map(str::to_owned),
            aggregate_id: "q".into(),
            correlation_id: None,
            schema_version: "1.0".into(),
            destination: Destination::QuoteEvents,
            body: json!({"eventId": id}),
            created_at: OffsetDateTime::UNIX_EPOCH,
        }
    }

    /// Pending events, in order; `mark_published` removes them.
    struct Outbox(Mutex<Vec<OutboxEvent>>);

    #[async_trait]
    impl OutboxStore for Outbox {
        async fn pending(&self, limit: usize) -> Result<Vec<OutboxEvent>, StoreError> {
            let events = self.0.lock().expect("lock");
            Ok(events.iter().take(limit).cloned().collect())
        }
        async fn mark_published(
            &self,
            events: &[OutboxEvent],
            _: OffsetDateTime,
        ) -> Result<(), StoreError> {
            self.0
                .lock()
                .expect("lock")
                .retain(|e| !events.iter().any(|m| m.event_id == e.event_id));
            Ok(())
        }
        async fn purge_published(&self, _: OffsetDateTime) -> Result<u64, StoreError> {
            Ok(0)
        }
    }

    /// Accepts every entry except those whose body mentions `refused`; records batch sizes.
    #[derive(Default)]
    struct Queue(Mutex<Vec<usize>>);

    #[async_trait]
    impl QueueClient for Queue {
        async fn send_batch(
            &self,
            _: &str,
            messages: &[OutgoingMessage],
        ) -> Result<SendOutcome, QueueError> {
            self.0.lock().expect("lock").push(messages.len());
            let mut outcome = SendOutcome::default();
            for (index, m) in messages.iter().enumerate() {
                if m.body.contains("refused") {
                    let code = "InternalError".to_owned();
                    outcome.failed.push(SendFailure {
                        index,
                        code,
                        sender_fault: false,
                    });
                } else {
                    outcome.sent.push((index, format!("m-{index}")));
                }
            }
            Ok(outcome)
        }
        async fn receive(
            &self,
            _: &str,
            _: usize,
            _: Duration,
            _: Duration,
        ) -> Result<Vec<ReceivedMessage>, QueueError> {
            Ok(Vec::new())
        }
        async fn delete_batch(&self, _: &str, _: &[String]) -> Result<(), QueueError> {
            Ok(())
        }
        async fn change_visibility(&self, _: &str, _: &str, _: Duration) -> Result<(), QueueError> {
            Ok(())
        }
        async fn counts(&self, _: &str) -> Result<QueueCounts, QueueError> {
            Ok(QueueCounts::default())
        }
    }

    #[tokio::test]
    async fn only_accepted_entries_are_marked_and_batches_hold_ten() {
        let mut events: Vec<_> = (0..12)
            .map(|i| event(&format!("e-{i}"), Some("acme")))
            .collect();
        events.push(event("refused", Some("acme")));
        let outbox = Outbox(Mutex::new(events));
        let queue = Queue::default();

        let report = relay_once(&outbox, &queue, 100).await.expect("relay");

        assert_eq!(
            report,
            RelayReport {
                published: 12,
                failed: 1
            }
        );
        assert_eq!(*queue.0.lock().expect("lock"), [10, 3]);
        let left = outbox.pending(100).await.expect("pending");
        assert_eq!(left.len(), 1);
        assert_eq!(
            left[0].event_id, "refused",
            "the refused event stays pending"
        );
    }

    #[test]
    fn an_event_for_the_ordering_hub_carries_the_hub_api_attribute() {
        let mut order_event = event("e-2", None);
        order_event.body = serde_json::json!({"eventId": "e-2", "hubApi": "ordering"});
        let message = outgoing(&order_event).expect("message");
        assert_eq!(message.attributes["hubApi"], "ordering");
    }

    #[test]
    fn a_product_event_carries_its_billing_account_and_sequence() {
        let mut stored = event("e-9", Some("acme"));
        stored.destination = Destination::BillingUpdates;
        stored.body = serde_json::json!({
            "eventId": "e-9", "eventType": "ProductCreateEvent", "sequence": 3,
            "event": {"product": {"id": "p-1", "billingAccount": {"id": "ba-7"}}}
        });
        let message = outgoing(&stored).expect("message");
        assert_eq!(message.attributes["billingAccount"], "ba-7");
        assert_eq!(message.attributes["sequence"], "3");
        assert_eq!(message.attributes["tenant"], "acme");
    }

    #[test]
    fn a_message_carries_the_event_id_and_only_the_attributes_known() {
        let message = outgoing(&event("e-1", None)).expect("message");
        let names: Vec<&str> = message.attributes.keys().map(String::as_str).collect();
        assert_eq!(names, ["eventId", "eventType", "schemaVersion"]);
        assert_eq!(message.attributes["eventId"], "e-1");
        assert_eq!(message.body, r#"{"eventId":"e-1","schemaVersion":"4.0"}"#);
    }

    #[test]
    fn the_emitted_major_sets_the_attribute_and_renders_the_envelope() {
        let mut stored = event("e-3", None);
        stored.body = serde_json::json!({
            "eventId": "e-3", "eventType": "QuoteCreateEvent", "schemaVersion": "4.0",
            "timeOcurred": "2026-11-27T14:00:00Z", "event": {"quote": {"id": "q", "quoteItem": []}},
        });
        let v4 = outgoing_as(&stored, SchemaMajor::V4).expect("message");
        assert_eq!(v4.attributes["schemaVersion"], "4.0");
        let body: serde_json::Value = serde_json::from_str(&v4.body).expect("JSON");
        assert_eq!(body, stored.body, "v4 is the stored form");
        let v5 = outgoing_as(&stored, SchemaMajor::V5).expect("message");
        assert_eq!(v5.attributes["schemaVersion"], "5.0");
        let body: serde_json::Value = serde_json::from_str(&v5.body).expect("JSON");
        assert_eq!(body["schemaVersion"], "5.0");
        assert_eq!(body["@type"], "QuoteCreateEvent");
        assert_eq!(body["timeOccurred"], "2026-11-27T14:00:00Z");
    }
}
