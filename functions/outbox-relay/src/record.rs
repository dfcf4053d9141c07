//! Outbox items as they arrive on the table's DynamoDB stream (`NEW_IMAGE` of an
//! `OUTBOX#<eventId>` item, see `shared/aws/src/dynamo/outbox.rs`), rebuilt into
//! [`OutboxEvent`]s.

use aws_lambda_events::dynamodb::EventRecord;
use q2c_service::ports::{Destination, OutboxEvent};
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Prefix of the partition key of outbox items.
pub const OUTBOX_PK_PREFIX: &str = "OUTBOX#";

/// An outbox item that cannot be rebuilt into an event.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RecordError {
    /// A required attribute is absent or not a string.
    #[error("outbox item {pk}: attribute `{attribute}` missing or not a string")]
    Attribute {
        /// The item's partition key.
        pk: String,
        /// The attribute.
        attribute: &'static str,
    },
    /// An attribute has a value the relay does not know.
    #[error("outbox item {pk}: attribute `{attribute}` is invalid: {reason}")]
    Invalid {
        /// The item's partition key.
        pk: String,
        /// The attribute.
        attribute: &'static str,
        /// Why.
        reason: String,
    },
}

/// Whether the record is the insert of an outbox item (anything else is skipped).
pub fn is_outbox_insert(record: &EventRecord) -> bool {
    record.event_name == "INSERT"
        && string_attribute(&image(record), "pk").is_some_and(|pk| pk.starts_with(OUTBOX_PK_PREFIX))
}

/// The record's new image as DynamoDB JSON (`{"attr": {"S": "..."}}`).
fn image(record: &EventRecord) -> Value {
    serde_json::to_value(&record.change.new_image).unwrap_or(Value::Null)
}

fn string_attribute<'a>(image: &'a Value, name: &str) -> Option<&'a str> {
    image.get(name)?.get("S")?.as_str()
}

/// Rebuilds the event of an outbox insert.
///
/// # Errors
/// [`RecordError`] when an attribute is missing or invalid (a poison record).
pub fn outbox_event(record: &EventRecord) -> Result<OutboxEvent, RecordError> {
    let image = image(record);
    let pk = string_attribute(&image, "pk")
        .unwrap_or_default()
        .to_owned();
    let get = |attribute: &'static str| {
        string_attribute(&image, attribute).ok_or_else(|| RecordError::Attribute {
            pk: pk.clone(),
            attribute,
        })
    };
    let invalid = |attribute: &'static str, reason: String| RecordError::Invalid {
        pk: pk.clone(),
        attribute,
        reason,
    };
    let optional = |attribute: &str| string_attribute(&image, attribute).map(str::to_owned);
    let destination = get("destination")?;
    let destination = Destination::ALL
        .into_iter()
        .find(|d| d.queue_name() == destination)
        .ok_or_else(|| invalid("destination", format!("unknown queue `{destination}`")))?;
    let body = serde_json::from_str(get("body")?).map_err(|e| invalid("body", e.to_string()))?;
    let created_at = OffsetDateTime::parse(get("created_at")?, &Rfc3339)
        .map_err(|e| invalid("created_at", e.to_string()))?;
    Ok(OutboxEvent {
        event_id: get("event_id")?.to_owned(),
        event_type: get("event_type")?.to_owned(),
        tenant: optional("tenant"),
        aggregate_id: get("aggregate_id")?.to_owned(),
        correlation_id: optional("correlation_id"),
        schema_version: get("schema_version")?.to_owned(),
        destination,
        body,
        created_at,
    })
}
