//! The outbox relay: moves pending outbox events to their destination queues and marks only
//! the ones the queue accepted as published. Delivery is at least once: an event sent but not
//! yet marked (the process died, or the mark failed) is sent again on the next round, with the
//! same `eventId` attribute and envelope field, so consumers de-duplicate on it.

use std::collections::BTreeMap;

use time::OffsetDateTime;

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

/// The message of an outbox event: body = the envelope JSON; attributes `eventType`,
/// `schemaVersion`, `eventId`, and `tenant` and `correlationId` when known.
///
/// # Errors
/// When the body cannot be serialised (never for a body read back from JSON).
pub fn outgoing(event: &OutboxEvent) -> Result<OutgoingMessage, serde_json::Error> {
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
    Ok(OutgoingMessage {
        body: serde_json::to_string(&event.body)?,
        attributes: attrs,
    })
}

/// Relays up to `limit` pending events, oldest first, to their destination queues in
/// batches of ten, marking each batch's accepted events published before sending the next.
/// A refused entry stays pending; a failed batch stops that destination for this round (its
/// later events stay pending too), so a down queue is not hammered.
///
/// # Errors
/// [`RelayError::Outbox`] when the outbox cannot be read or marked. Events sent but not
/// marked are sent again by the next round.
#[tracing::instrument(skip_all, fields(limit), err)]
pub async fn relay_once(
    outbox: &dyn OutboxStore,
    queues: &dyn QueueClient,
    limit: usize,
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
            match send_chunk(queues, queue, chunk).await {
                Some(sent) => {
                    report.failed += chunk.len() - sent.len();
                    report.published += sent.len();
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
) -> Option<Vec<String>> {
    let mut messages = Vec::with_capacity(chunk.len());
    let mut ids = Vec::with_capacity(chunk.len());
    for event in chunk {
        match outgoing(event) {
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
