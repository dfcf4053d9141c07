//! Turning outbox events into `SendMessageBatch` entries (body and attributes) and grouping
//! them under SQS's batch limits.

use aws_sdk_sqs::types::{MessageAttributeValue, SendMessageBatchRequestEntry};
use q2c_service::ports::OutboxEvent;

use super::attributes;
use super::publisher::FailedEvent;
use crate::error::SqsError;
use crate::metrics::Operation;

/// Most entries in one `SendMessageBatch` (an SQS limit).
const BATCH_MAX_ENTRIES: usize = 10;
/// Most payload bytes in one batch: SQS's historical 256 KiB, kept as the conservative bound.
const BATCH_MAX_BYTES: usize = 256 * 1024;

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
    ];
    if let Some(tenant) = &event.tenant {
        attrs.push((attributes::TENANT, tenant));
    }
    if let Some(correlation_id) = &event.correlation_id {
        attrs.push((attributes::CORRELATION_ID, correlation_id));
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
        let events: Vec<_> = (0..4).map(|i| event(i, 100 * 1024)).collect();
        assert_eq!(sizes(&events), [2, 2]);
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
        assert_eq!(names, ["eventType", "schemaVersion", "tenant"]);
    }
}
