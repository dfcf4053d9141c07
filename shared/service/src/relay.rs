//! The outbox relay: moves pending outbox events to their destination queues and marks only
//! the ones the queue accepted as published. Delivery is at least once: an event sent but not
//! yet marked (the process died, or the mark failed) is sent again on the next round, with the
//! same `eventId` attribute and envelope field, so consumers de-duplicate on it.
//!
//! A bad record never blocks the ones behind it: an entry that cannot be decoded, an event
//! its queue refuses for good (a sender fault such as `MessageTooLong`) or refuses
//! [`MAX_PUBLISH_ATTEMPTS`] times is **parked**: sent whole (the body as stored or rendered,
//! its attributes, a `failureReason`) to its destination's dead-letter queue
//! (`<queue>-dlq`, where `q2c dlq` lists, exports and redrives it like any dead letter) and
//! marked parked in the outbox, so it is no longer pending. Only a failed call to a queue
//! (the queue is down) leaves events pending without counting an attempt: that is an
//! outage, which the oldest-pending-age alarm reports, not a bad record.

use std::collections::BTreeMap;

use time::OffsetDateTime;

use crate::event_versions::{SchemaMajor, SchemaPolicy, render_envelope};
use crate::messaging::{
    MAX_BATCH, MAX_BATCH_BYTES, OutgoingMessage, QueueClient, SendOutcome, attributes, dlq_name,
};
use crate::outbox::{
    Destination, OutboxEvent, OutboxStore, ParkedEvent, PendingEvent, UndecodableEvent,
};
use crate::store::StoreError;

/// Refusals of an event by its queue (without a sender fault) after which it is parked.
pub const MAX_PUBLISH_ATTEMPTS: u32 = 5;
/// Longest `failureReason` of a parked event (as the consumers' dead letters).
const MAX_REASON_CHARS: usize = 1024;

/// What one relay round did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RelayReport {
    /// Events sent and marked published.
    pub published: usize,
    /// Events left pending (refused, or their batch failed or was not attempted).
    pub failed: usize,
    /// Entries parked in their destination's dead-letter queue.
    pub parked: usize,
}

impl RelayReport {
    /// Entries the round read; when it equals the `limit`, more may be waiting.
    pub fn read(&self) -> usize {
        self.published + self.failed + self.parked
    }

    fn add(&mut self, other: RelayReport) {
        self.published += other.published;
        self.failed += other.failed;
        self.parked += other.parked;
    }
}

/// What [`relay_entries`] did, and which events stay pending because their queue could not
/// be reached (the stream path reports those to be retried).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RelayOutcome {
    /// The counts.
    pub report: RelayReport,
    /// Events left pending because a call to their queue (or dead-letter queue) failed.
    pub unsent: Vec<String>,
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
/// ([`SchemaMajor::DEFAULT_EMIT`]); see [`relay_entries`].
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
    let entries = outbox
        .pending_entries(limit)
        .await
        .map_err(RelayError::Outbox)?;
    Ok(relay_entries(outbox, queues, entries, emit).await?.report)
}

/// An event on its way to its queue.
struct Sending {
    event: OutboxEvent,
    attempts: u32,
    message: OutgoingMessage,
}

/// An entry on its way to its destination's dead-letter queue ([`dlq_name`] of `queue`):
/// the message to send there (a `failureReason` attribute added) and how to mark it parked.
#[derive(Debug, Clone)]
pub struct Parking {
    /// The destination queue the entry was for; it is parked in that queue's DLQ.
    pub queue: &'static str,
    /// The message to send to the dead-letter queue.
    pub message: OutgoingMessage,
    /// How the outbox marks it parked.
    pub parked: ParkedEvent,
}

/// A pending entry as a relay is to handle it, decided before any I/O by [`prepare`].
#[derive(Debug, Clone)]
pub enum Prepared {
    /// Publish `message` to `event`'s destination queue, then mark `event` published.
    Send {
        /// The event (in its stored form; marking it moves the open-quote count).
        event: OutboxEvent,
        /// Refusals by its queue so far.
        attempts: u32,
        /// Its message in the emitted schema major ([`outgoing_as`]).
        message: OutgoingMessage,
    },
    /// Park it at once (it cannot be decoded or serialised).
    Park(Parking),
}

/// What a relay does with `entry` in schema major `emit`: send its rendered message, or
/// park it (undecodable, or not serialisable) with the reason. Pure: the generic relay
/// ([`relay_entries`]) and the single-transaction relay of `q2c local` share it, so both
/// publish and park the same messages.
pub fn prepare(entry: PendingEvent, emit: SchemaMajor) -> Prepared {
    let (event, attempts) = match entry {
        PendingEvent::Undecodable(entry) => {
            tracing::error!(event_id = %entry.event_id, reason = %entry.reason, "undecodable outbox entry; parking it");
            return Prepared::Park(Parking::undecodable(entry));
        }
        PendingEvent::Ready { event, attempts } => (event, attempts),
    };
    match outgoing_as(&event, emit) {
        Ok(message) => Prepared::Send {
            event,
            attempts,
            message,
        },
        Err(error) => {
            let message = OutgoingMessage {
                body: event.body.to_string(),
                attributes: BTreeMap::from([(
                    attributes::EVENT_ID.to_owned(),
                    event.event_id.clone(),
                )]),
            };
            let reason = format!("outbox event cannot be serialised: {error}");
            Prepared::Park(Parking::event(event, message, reason))
        }
    }
}

impl Parking {
    /// An event its queue refused (error `code`) on its `attempts`th attempt, to be parked
    /// (a sender fault, or the last allowed attempt): the reason says which.
    pub fn refused(
        event: OutboxEvent,
        message: OutgoingMessage,
        code: &str,
        sender_fault: bool,
        attempts: u32,
    ) -> Self {
        let queue = event.destination.queue_name();
        let reason = format!(
            "{queue} refused the event ({code}, {}) after {attempts} attempt(s); {} bytes",
            if sender_fault {
                "permanent"
            } else {
                "transient"
            },
            message.bytes(),
        );
        tracing::error!(queue, event_id = %event.event_id, code, attempts, "queue refused an outbox event; parking it");
        Parking::event(event, message, reason)
    }

    /// The event's own message (as it would have been published) with the reason.
    fn event(event: OutboxEvent, message: OutgoingMessage, reason: String) -> Self {
        let queue = event.destination.queue_name();
        Parking::new(queue, message, event.event_id.clone(), reason, Some(event))
    }

    /// An undecodable entry: its body exactly as stored, the attributes that could be read.
    fn undecodable(entry: UndecodableEvent) -> Self {
        let mut attrs = BTreeMap::from([(attributes::EVENT_ID.to_owned(), entry.event_id.clone())]);
        if let Some(event_type) = entry.event_type {
            attrs.insert(attributes::EVENT_TYPE.to_owned(), event_type);
        }
        if let Some(tenant) = entry.tenant {
            attrs.insert(attributes::TENANT.to_owned(), tenant);
        }
        // An unknown destination is itself the reason; its events are parked with the
        // quote events, the queue every other entry of an unknown kind would reach hubs by.
        let queue = entry
            .destination
            .unwrap_or(Destination::QuoteEvents)
            .queue_name();
        let message = OutgoingMessage {
            body: entry.body,
            attributes: attrs,
        };
        let reason = format!("outbox entry cannot be decoded: {}", entry.reason);
        Parking::new(queue, message, entry.event_id, reason, None)
    }

    fn new(
        queue: &'static str,
        mut message: OutgoingMessage,
        event_id: String,
        reason: String,
        event: Option<OutboxEvent>,
    ) -> Self {
        let reason: String = reason.chars().take(MAX_REASON_CHARS).collect();
        message
            .attributes
            .insert(attributes::FAILURE_REASON.to_owned(), reason.clone());
        Parking {
            queue,
            message,
            parked: ParkedEvent {
                event_id,
                reason,
                event,
            },
        }
    }
}

/// Splits `items` into send batches: at most [`MAX_BATCH`] messages and
/// [`MAX_BATCH_BYTES`] together (a message alone over it goes alone: the queue refuses it).
fn batches<T>(items: Vec<T>, bytes: impl Fn(&T) -> usize) -> Vec<Vec<T>> {
    let mut out: Vec<Vec<T>> = Vec::new();
    let mut size = 0;
    for item in items {
        let n = bytes(&item);
        let full = out
            .last()
            .is_none_or(|b| b.len() == MAX_BATCH || size + n > MAX_BATCH_BYTES);
        if full {
            out.push(Vec::new());
            size = 0;
        }
        size += n;
        if let Some(batch) = out.last_mut() {
            batch.push(item);
        }
    }
    out
}

/// Relays `entries` (read from the pending outbox, or a stream batch) in schema major `emit`
/// to their destination queues in batches within SQS's limits (ten messages, 1 MiB),
/// marking each batch's accepted events published before sending the next. Undecodable
/// entries, events their queue refuses for good, and events refused
/// [`MAX_PUBLISH_ATTEMPTS`] times are parked (see the module doc); another refusal is
/// counted on the event, which stays pending. A failed call stops that destination for this
/// call (its later events stay pending, listed in [`RelayOutcome::unsent`]), so a down
/// queue is not hammered; the other destinations go on.
///
/// # Errors
/// [`RelayError::Outbox`] when the outbox cannot be marked. Events sent but not marked are
/// sent again later.
pub async fn relay_entries(
    outbox: &dyn OutboxStore,
    queues: &dyn QueueClient,
    entries: Vec<PendingEvent>,
    emit: SchemaMajor,
) -> Result<RelayOutcome, RelayError> {
    let mut parking = Vec::new();
    let mut by_queue: Vec<(&'static str, Vec<Sending>)> = Vec::new();
    for entry in entries {
        let (event, attempts, message) = match prepare(entry, emit) {
            Prepared::Park(parked) => {
                parking.push(parked);
                continue;
            }
            Prepared::Send {
                event,
                attempts,
                message,
            } => (event, attempts, message),
        };
        let queue = event.destination.queue_name();
        let sending = Sending {
            event,
            attempts,
            message,
        };
        match by_queue.iter_mut().find(|(q, _)| *q == queue) {
            Some((_, group)) => group.push(sending),
            None => by_queue.push((queue, vec![sending])),
        }
    }
    let mut outcome = RelayOutcome::default();
    let mut refused = Vec::new();
    for (queue, group) in by_queue {
        let mut chunks = batches(group, |s| s.message.bytes()).into_iter();
        for chunk in chunks.by_ref() {
            let messages: Vec<OutgoingMessage> = chunk.iter().map(|s| s.message.clone()).collect();
            let sent = match queues.send_batch(queue, &messages).await {
                Ok(sent) => sent,
                Err(error) => {
                    tracing::warn!(queue, error.message = %error, error.cause_chain = ?error, "sending outbox events failed; left pending");
                    outcome.report.failed += chunk.len();
                    outcome
                        .unsent
                        .extend(chunk.into_iter().map(|s| s.event.event_id));
                    break;
                }
            };
            let mut chunk: Vec<Option<Sending>> = chunk.into_iter().map(Some).collect();
            let published: Vec<OutboxEvent> = take_accepted(&mut chunk, &sent)
                .into_iter()
                .map(|s| s.event)
                .collect();
            outcome.report.published += published.len();
            outbox
                .mark_published(&published, OffsetDateTime::now_utc())
                .await
                .map_err(RelayError::Outbox)?;
            for failure in &sent.failed {
                let Some(sending) = chunk.get_mut(failure.index).and_then(Option::take) else {
                    continue;
                };
                let attempts = sending.attempts.saturating_add(1);
                if failure.sender_fault || attempts >= MAX_PUBLISH_ATTEMPTS {
                    parking.push(Parking::refused(
                        sending.event,
                        sending.message,
                        &failure.code,
                        failure.sender_fault,
                        attempts,
                    ));
                } else {
                    tracing::warn!(queue, event_id = %sending.event.event_id, code = %failure.code, attempts, "queue refused an outbox event; left pending");
                    outcome.report.failed += 1;
                    refused.push(sending.event.event_id);
                }
            }
        }
        for chunk in chunks {
            outcome.report.failed += chunk.len();
            outcome
                .unsent
                .extend(chunk.into_iter().map(|s| s.event.event_id));
        }
    }
    if !refused.is_empty() {
        outbox
            .record_refusals(&refused)
            .await
            .map_err(RelayError::Outbox)?;
    }
    let parked = park(outbox, queues, parking).await?;
    outcome.report.add(parked.report);
    outcome.unsent.extend(parked.unsent);
    Ok(outcome)
}

/// Sends each entry to its destination's dead-letter queue and marks the accepted ones
/// parked. One the dead-letter queue refuses, or whose send fails, stays pending (logged).
async fn park(
    outbox: &dyn OutboxStore,
    queues: &dyn QueueClient,
    parking: Vec<Parking>,
) -> Result<RelayOutcome, RelayError> {
    let mut outcome = RelayOutcome::default();
    let mut by_queue: Vec<(&'static str, Vec<Parking>)> = Vec::new();
    for entry in parking {
        match by_queue.iter_mut().find(|(q, _)| *q == entry.queue) {
            Some((_, group)) => group.push(entry),
            None => by_queue.push((entry.queue, vec![entry])),
        }
    }
    for (queue, group) in by_queue {
        let dlq = dlq_name(queue);
        for chunk in batches(group, |p| p.message.bytes()) {
            let messages: Vec<OutgoingMessage> = chunk.iter().map(|p| p.message.clone()).collect();
            let mut chunk: Vec<Option<Parking>> = chunk.into_iter().map(Some).collect();
            match queues.send_batch(&dlq, &messages).await {
                Ok(sent) => {
                    let parked: Vec<ParkedEvent> = take_accepted(&mut chunk, &sent)
                        .into_iter()
                        .map(|p| p.parked)
                        .collect();
                    outcome.report.parked += parked.len();
                    outbox
                        .park(&parked, OffsetDateTime::now_utc())
                        .await
                        .map_err(RelayError::Outbox)?;
                    for failure in &sent.failed {
                        if let Some(p) = chunk.get_mut(failure.index).and_then(Option::take) {
                            tracing::error!(queue = %dlq, event_id = %p.parked.event_id, code = %failure.code, bytes = p.message.bytes(), "the dead-letter queue refused an outbox event to park; left pending");
                            outcome.report.failed += 1;
                        }
                    }
                }
                Err(error) => {
                    tracing::error!(queue = %dlq, error.message = %error, error.cause_chain = ?error, "parking outbox events failed; left pending");
                    for p in chunk.into_iter().flatten() {
                        outcome.report.failed += 1;
                        outcome.unsent.push(p.parked.event_id);
                    }
                }
            }
        }
    }
    Ok(outcome)
}

/// How old the oldest pending outbox entry is at `now` (zero when nothing is pending): the
/// `OutboxOldestPendingAge` metric and log of the relays.
///
/// # Errors
/// [`RelayError::Outbox`] when the outbox cannot be read.
pub async fn oldest_pending_age(
    outbox: &dyn OutboxStore,
    now: OffsetDateTime,
) -> Result<time::Duration, RelayError> {
    let oldest = outbox.oldest_pending().await.map_err(RelayError::Outbox)?;
    Ok(oldest.map_or(time::Duration::ZERO, |t| {
        (now - t).max(time::Duration::ZERO)
    }))
}

/// The entries of `chunk` the queue accepted (`sent.sent`), taken out of it: what is left
/// are the ones it refused.
fn take_accepted<T>(chunk: &mut [Option<T>], sent: &SendOutcome) -> Vec<T> {
    sent.sent
        .iter()
        .filter_map(|(index, _)| chunk.get_mut(*index)?.take())
        .collect()
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::time::Duration;

    use async_trait::async_trait;
    use serde_json::json;

    use super::*;
    use crate::messaging::{
        QueueCounts, QueueError, Receive, ReceivedMessage, SendFailure, SendOutcome,
    };
    use crate::outbox::Destination;

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

    /// Pending entries, in order, with their refusals; `mark_published` and `park` remove
    /// them (parked ones are kept with their reason).
    #[derive(Default)]
    struct Outbox {
        pending: Mutex<Vec<(PendingEvent, u32)>>,
        parked: Mutex<Vec<ParkedEvent>>,
    }

    impl Outbox {
        fn with(events: Vec<OutboxEvent>) -> Self {
            let outbox = Outbox::default();
            for event in events {
                outbox.push(PendingEvent::Ready { event, attempts: 0 });
            }
            outbox
        }
        fn push(&self, entry: PendingEvent) {
            self.pending.lock().expect("lock").push((entry, 0));
        }
        fn ids(&self) -> Vec<String> {
            let pending = self.pending.lock().expect("lock");
            pending
                .iter()
                .map(|(e, _)| e.event_id().to_owned())
                .collect()
        }
    }

    #[async_trait]
    impl OutboxStore for Outbox {
        async fn pending_entries(&self, limit: usize) -> Result<Vec<PendingEvent>, StoreError> {
            let pending = self.pending.lock().expect("lock");
            Ok(pending
                .iter()
                .take(limit)
                .map(|(entry, refusals)| match entry {
                    PendingEvent::Ready { event, .. } => PendingEvent::Ready {
                        event: event.clone(),
                        attempts: *refusals,
                    },
                    other => other.clone(),
                })
                .collect())
        }
        async fn mark_published(
            &self,
            events: &[OutboxEvent],
            _: OffsetDateTime,
        ) -> Result<(), StoreError> {
            self.pending
                .lock()
                .expect("lock")
                .retain(|(e, _)| !events.iter().any(|m| m.event_id == e.event_id()));
            Ok(())
        }
        async fn record_refusals(&self, ids: &[String]) -> Result<(), StoreError> {
            for (entry, refusals) in self.pending.lock().expect("lock").iter_mut() {
                if ids.iter().any(|id| id == entry.event_id()) {
                    *refusals += 1;
                }
            }
            Ok(())
        }
        async fn park(&self, events: &[ParkedEvent], _: OffsetDateTime) -> Result<(), StoreError> {
            self.pending
                .lock()
                .expect("lock")
                .retain(|(e, _)| !events.iter().any(|m| m.event_id == e.event_id()));
            self.parked.lock().expect("lock").extend_from_slice(events);
            Ok(())
        }
        async fn oldest_pending(&self) -> Result<Option<OffsetDateTime>, StoreError> {
            let pending = self.pending.lock().expect("lock");
            Ok(pending.first().map(|(e, _)| match e {
                PendingEvent::Ready { event, .. } => event.created_at,
                PendingEvent::Undecodable(_) => OffsetDateTime::UNIX_EPOCH,
            }))
        }
        async fn purge_published(&self, _: OffsetDateTime) -> Result<u64, StoreError> {
            Ok(0)
        }
    }

    /// Accepts every entry except those whose body mentions `refused` (transient) or
    /// `too-long` (a sender fault); records each call's queue and batch size and keeps
    /// what each queue accepted.
    #[derive(Default)]
    struct Queue {
        calls: Mutex<Vec<(String, usize)>>,
        accepted: Mutex<Vec<(String, OutgoingMessage)>>,
    }

    impl Queue {
        fn batch_sizes(&self, queue: &str) -> Vec<usize> {
            let calls = self.calls.lock().expect("lock");
            calls
                .iter()
                .filter(|(q, _)| q == queue)
                .map(|(_, n)| *n)
                .collect()
        }
        fn accepted(&self, queue: &str) -> Vec<OutgoingMessage> {
            let accepted = self.accepted.lock().expect("lock");
            accepted
                .iter()
                .filter(|(q, _)| q == queue)
                .map(|(_, m)| m.clone())
                .collect()
        }
    }

    #[async_trait]
    impl QueueClient for Queue {
        async fn send_batch(
            &self,
            queue: &str,
            messages: &[OutgoingMessage],
        ) -> Result<SendOutcome, QueueError> {
            self.calls
                .lock()
                .expect("lock")
                .push((queue.to_owned(), messages.len()));
            let total: usize = messages.iter().map(OutgoingMessage::bytes).sum();
            if messages.len() > MAX_BATCH || total > MAX_BATCH_BYTES {
                return Err(QueueError::InvalidRequest("batch too large".into()));
            }
            let mut outcome = SendOutcome::default();
            for (index, m) in messages.iter().enumerate() {
                // A dead-letter queue takes everything.
                let refusal = if queue.ends_with("-dlq") {
                    None
                } else if m.body.contains("too-long") {
                    Some(("MessageTooLong", true))
                } else if m.body.contains("refused") {
                    Some(("InternalError", false))
                } else {
                    None
                };
                if let Some((code, sender_fault)) = refusal {
                    outcome.failed.push(SendFailure {
                        index,
                        code: code.to_owned(),
                        sender_fault,
                    });
                    continue;
                }
                self.accepted
                    .lock()
                    .expect("lock")
                    .push((queue.to_owned(), m.clone()));
                outcome.sent.push((index, format!("m-{index}")));
            }
            Ok(outcome)
        }
        async fn receive(&self, _: &str, _: Receive) -> Result<Vec<ReceivedMessage>, QueueError> {
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
        let outbox = Outbox::with(events);
        let queue = Queue::default();

        let report = relay_once(&outbox, &queue, 100).await.expect("relay");

        assert_eq!(
            report,
            RelayReport {
                published: 12,
                failed: 1,
                parked: 0,
            }
        );
        assert_eq!(queue.batch_sizes("quote-events"), [10, 3]);
        assert_eq!(outbox.ids(), ["refused"], "the refused event stays pending");
    }

    fn undecodable(id: &str) -> PendingEvent {
        PendingEvent::Undecodable(UndecodableEvent {
            event_id: id.to_owned(),
            destination: Some(Destination::Orders),
            event_type: Some("ProductOrderCreateEvent".into()),
            tenant: Some("acme".into()),
            body: "[[[[not json".into(),
            reason: "recursion limit exceeded".into(),
        })
    }

    #[tokio::test]
    async fn an_undecodable_entry_is_parked_whole_and_the_events_behind_it_go_out() {
        let outbox = Outbox::default();
        outbox.push(undecodable("poison"));
        for i in 0..3 {
            let event = event(&format!("e-{i}"), Some("acme"));
            outbox.push(PendingEvent::Ready { event, attempts: 0 });
        }
        let queue = Queue::default();

        let report = relay_once(&outbox, &queue, 100).await.expect("relay");

        assert_eq!((report.published, report.parked, report.failed), (3, 1, 0));
        assert!(outbox.ids().is_empty(), "nothing left pending");
        let parked = queue.accepted("orders-dlq");
        assert_eq!(parked.len(), 1);
        assert_eq!(parked[0].body, "[[[[not json", "the body exactly as stored");
        assert_eq!(parked[0].attributes["eventId"], "poison");
        assert_eq!(parked[0].attributes["eventType"], "ProductOrderCreateEvent");
        assert!(
            parked[0].attributes["failureReason"].contains("recursion limit exceeded"),
            "{:?}",
            parked[0].attributes
        );
        let marked = outbox.parked.lock().expect("lock");
        assert_eq!(marked.len(), 1);
        assert_eq!(marked[0].event_id, "poison");
        assert!(marked[0].event.is_none());
    }

    #[tokio::test]
    async fn a_permanent_refusal_parks_at_once_a_transient_one_after_the_bound() {
        let mut too_long = event("too-long", Some("acme"));
        too_long.body = json!({"eventId": "too-long"});
        let outbox = Outbox::with(vec![too_long, event("refused", Some("acme"))]);
        let queue = Queue::default();

        let first = relay_once(&outbox, &queue, 100).await.expect("relay");
        assert_eq!((first.parked, first.failed), (1, 1));
        assert_eq!(outbox.ids(), ["refused"]);
        let parked = queue.accepted("quote-events-dlq");
        assert_eq!(parked[0].attributes["eventId"], "too-long");
        assert!(parked[0].attributes["failureReason"].contains("MessageTooLong"));
        assert!(parked[0].attributes["failureReason"].contains("permanent"));

        for round in 2..MAX_PUBLISH_ATTEMPTS {
            let report = relay_once(&outbox, &queue, 100).await.expect("relay");
            assert_eq!(report.failed, 1, "round {round}: still pending");
        }
        let last = relay_once(&outbox, &queue, 100).await.expect("relay");
        assert_eq!((last.parked, last.failed), (1, 0));
        assert!(outbox.ids().is_empty());
        let parked = queue.accepted("quote-events-dlq");
        assert_eq!(parked.len(), 2);
        assert!(
            parked[1].attributes["failureReason"]
                .contains(&format!("after {MAX_PUBLISH_ATTEMPTS} attempt(s)")),
            "{:?}",
            parked[1].attributes
        );
        let marked = outbox.parked.lock().expect("lock");
        assert!(marked.iter().all(|p| p.event.is_some()));
    }

    #[tokio::test]
    async fn batches_stay_within_a_mebibyte() {
        // Four events of ~400 KB: ten would be 4 MB, so at most two go in one batch.
        let big = "x".repeat(400_000);
        let events = (0..4)
            .map(|i| {
                let mut e = event(&format!("e-{i}"), Some("acme"));
                e.body = json!({"eventId": format!("e-{i}"), "pad": big});
                e
            })
            .collect();
        let outbox = Outbox::with(events);
        let queue = Queue::default();

        let report = relay_once(&outbox, &queue, 100).await.expect("relay");

        assert_eq!(report.published, 4);
        assert_eq!(queue.batch_sizes("quote-events"), [2, 2]);
    }

    #[tokio::test]
    async fn the_oldest_pending_age_is_zero_when_nothing_waits() {
        let outbox = Outbox::default();
        let now = OffsetDateTime::UNIX_EPOCH + time::Duration::hours(1);
        assert_eq!(
            oldest_pending_age(&outbox, now).await.expect("age"),
            time::Duration::ZERO
        );
        outbox.push(PendingEvent::Ready {
            event: event("e-1", None),
            attempts: 0,
        });
        assert_eq!(
            oldest_pending_age(&outbox, now).await.expect("age"),
            time::Duration::hours(1)
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
