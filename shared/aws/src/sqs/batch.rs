//! Turning outbox events into `SendMessageBatch` entries (body and attributes), grouping
//! them under SQS's batch limits, and re-sending only the entries that failed.

use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

use aws_sdk_sqs::types::{MessageAttributeValue, SendMessageBatchRequestEntry};
use q2c_service::ports::OutboxEvent;

use super::attributes;
use crate::error::SqsError;
use crate::metrics::Operation;

/// Most entries in one `SendMessageBatch` (an SQS limit).
const BATCH_MAX_ENTRIES: usize = 10;
/// Most payload bytes in one batch (SQS's 1 MiB, also the most of one message).
const BATCH_MAX_BYTES: usize = q2c_service::messaging::MAX_BATCH_BYTES;
/// Sends of one entry before it is reported failed.
const MAX_ATTEMPTS: u32 = 3;

/// An event SQS did not accept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedEvent {
    /// The outbox event id.
    pub event_id: String,
    /// The SQS error code of the last attempt (`SdkError` when the call itself failed).
    pub code: String,
    /// Whether SQS blamed the request (retrying the same message will not help).
    pub sender_fault: bool,
}

/// What a publish did: the relay marks `published` and leaves `failed` pending.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PublishOutcome {
    /// Event ids SQS accepted.
    pub published: Vec<String>,
    /// Events SQS did not accept after the retries.
    pub failed: Vec<FailedEvent>,
}

/// One message to send.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub(crate) event_id: String,
    pub(crate) request: SendMessageBatchRequestEntry,
    bytes: usize,
}

impl Entry {
    pub(crate) fn failure(&self, code: &str, sender_fault: bool) -> FailedEvent {
        FailedEvent {
            event_id: self.event_id.clone(),
            code: code.to_owned(),
            sender_fault,
        }
    }
}

fn string_attribute(value: &str) -> Option<MessageAttributeValue> {
    MessageAttributeValue::builder()
        .data_type("String")
        .string_value(value)
        .build()
        .ok()
}

/// The message of one event: body = the event's envelope JSON, attributes for routing.
pub(crate) fn entry(event: &OutboxEvent) -> Result<Entry, SqsError> {
    let body = serde_json::to_string(&event.body).map_err(|source| SqsError::Body {
        event_id: event.event_id.clone(),
        source,
    })?;
    let mut attrs = vec![
        (attributes::EVENT_TYPE, event.event_type.as_str()),
        (attributes::SCHEMA_VERSION, event.schema_version.as_str()),
        (attributes::EVENT_ID, event.event_id.as_str()),
    ];
    if let Some(tenant) = &event.tenant {
        attrs.push((attributes::TENANT, tenant));
    }
    if let Some(correlation_id) = &event.correlation_id {
        attrs.push((attributes::CORRELATION_ID, correlation_id));
    }
    if let Some(hub_api) = q2c_service::relay::hub_api(event) {
        attrs.push((attributes::HUB_API, hub_api));
    }
    let bytes = body.len()
        + attrs
            .iter()
            .map(|(k, v)| k.len() + v.len() + 6)
            .sum::<usize>();
    let mut request = SendMessageBatchRequestEntry::builder().message_body(body);
    for (name, value) in attrs {
        if let Some(value) = string_attribute(value) {
            request = request.message_attributes(name, value);
        }
    }
    Ok(Entry {
        event_id: event.event_id.clone(),
        // The id is set to the entry's position in each request.
        request: request
            .id("0")
            .build()
            .map_err(|e| SqsError::sdk(Operation::SendMessageBatch, e))?,
        bytes,
    })
}

/// Groups entries into batches of at most ten and at most [`BATCH_MAX_BYTES`].
pub(crate) fn batches(entries: Vec<Entry>) -> Vec<Vec<Entry>> {
    let mut batches: Vec<Vec<Entry>> = Vec::new();
    let mut size = 0;
    for entry in entries {
        let full = batches
            .last()
            .is_none_or(|b| b.len() == BATCH_MAX_ENTRIES || size + entry.bytes > BATCH_MAX_BYTES);
        if full {
            batches.push(Vec::new());
            size = 0;
        }
        size += entry.bytes;
        if let Some(batch) = batches.last_mut() {
            batch.push(entry);
        }
    }
    batches
}

/// Sends `batch` with `send` (which answers the failed entries by event id), re-sending
/// only the entries that failed without a sender fault, at most [`MAX_ATTEMPTS`] times in
/// all, with a short backoff. A hand-written loop rather than a retry crate (`backon`):
/// each attempt sends a smaller batch (only the failed entries) and the outcome is per
/// entry, which a whole-call retry does not express.
pub(crate) async fn send_with_retries<F, Fut>(batch: Vec<Entry>, mut send: F) -> PublishOutcome
where
    F: FnMut(Vec<Entry>) -> Fut,
    Fut: Future<Output = HashMap<String, FailedEvent>>,
{
    let mut outcome = PublishOutcome::default();
    let mut pending = batch;
    for attempt in 1..=MAX_ATTEMPTS {
        if attempt > 1 {
            tokio::time::sleep(Duration::from_millis(50 << attempt)).await;
        }
        let failures = send(pending.clone()).await;
        let mut retry = Vec::new();
        for entry in pending {
            match failures.get(&entry.event_id) {
                None => outcome.published.push(entry.event_id),
                Some(f) if !f.sender_fault && attempt < MAX_ATTEMPTS => retry.push(entry),
                Some(f) => outcome.failed.push(f.clone()),
            }
        }
        pending = retry;
        if pending.is_empty() {
            break;
        }
    }
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;
    use q2c_service::ports::Destination;
    use time::OffsetDateTime;

    fn event(id: usize, body_bytes: usize) -> OutboxEvent {
        OutboxEvent {
            event_id: format!("e-{id}"),
            event_type: "QuoteCreateEvent".into(),
            tenant: Some("acme".into()),
            aggregate_id: "q".into(),
            correlation_id: None,
            schema_version: "1.0".into(),
            destination: Destination::QuoteEvents,
            body: serde_json::json!({ "pad": "x".repeat(body_bytes) }),
            created_at: OffsetDateTime::UNIX_EPOCH,
        }
    }

    fn sizes(events: &[OutboxEvent]) -> Vec<usize> {
        let entries = events.iter().map(|e| entry(e).expect("entry")).collect();
        batches(entries).iter().map(Vec::len).collect()
    }

    #[test]
    fn batches_hold_at_most_ten_entries() {
        let events: Vec<_> = (0..25).map(|i| event(i, 10)).collect();
        assert_eq!(sizes(&events), [10, 10, 5]);
    }

    #[test]
    fn batches_stay_under_the_payload_limit() {
        // 300 KiB each: three fit 1 MiB, a fourth does not.
        let events: Vec<_> = (0..4).map(|i| event(i, 300 * 1024)).collect();
        assert_eq!(sizes(&events), [3, 1]);
    }

    #[test]
    fn an_entry_carries_the_routing_attributes_present() {
        let entry = entry(&event(1, 1)).expect("entry");
        let mut names: Vec<_> = entry
            .request
            .message_attributes()
            .map(|a| a.keys().cloned().collect())
            .unwrap_or_default();
        names.sort();
        assert_eq!(names, ["eventId", "eventType", "schemaVersion", "tenant"]);
    }

    /// A sender that fails the given event ids on the first `times` calls.
    fn flaky(
        failing: &'static [(&'static str, bool)],
        times: usize,
        calls: &std::cell::RefCell<Vec<Vec<String>>>,
    ) -> impl FnMut(Vec<Entry>) -> std::future::Ready<HashMap<String, FailedEvent>> {
        move |entries: Vec<Entry>| {
            let ids: Vec<String> = entries.iter().map(|e| e.event_id.clone()).collect();
            let call = calls.borrow().len();
            calls.borrow_mut().push(ids.clone());
            let failures = failing
                .iter()
                .filter(|(id, _)| call < times && ids.iter().any(|i| i == id))
                .map(|(id, sender_fault)| {
                    let failure = FailedEvent {
                        event_id: (*id).to_owned(),
                        code: "InternalError".into(),
                        sender_fault: *sender_fault,
                    };
                    ((*id).to_owned(), failure)
                })
                .collect();
            std::future::ready(failures)
        }
    }

    fn three() -> Vec<Entry> {
        (0..3)
            .map(|i| entry(&event(i, 1)).expect("entry"))
            .collect()
    }

    #[tokio::test]
    async fn only_failed_entries_are_sent_again() {
        let calls = std::cell::RefCell::new(Vec::new());
        let outcome = send_with_retries(three(), flaky(&[("e-1", false)], 1, &calls)).await;
        assert_eq!(calls.borrow().len(), 2);
        assert_eq!(calls.borrow()[1], ["e-1"]);
        assert_eq!(outcome.published, ["e-0", "e-2", "e-1"]);
        assert!(outcome.failed.is_empty());
    }

    #[tokio::test]
    async fn sender_faults_are_not_retried_and_retries_are_bounded() {
        let calls = std::cell::RefCell::new(Vec::new());
        let failing = &[("e-0", true), ("e-2", false)];
        let outcome = send_with_retries(three(), flaky(failing, usize::MAX, &calls)).await;
        assert_eq!(calls.borrow().len(), 3, "{:?}", calls.borrow());
        assert_eq!(calls.borrow()[2], ["e-2"]);
        assert_eq!(outcome.published, ["e-1"]);
        let failed: Vec<_> = outcome.failed.iter().map(|f| f.event_id.as_str()).collect();
        assert_eq!(failed, ["e-0", "e-2"]);
        assert_eq!(outcome.failed[1].code, "InternalError");
    }
}
