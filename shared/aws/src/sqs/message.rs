//! Parsing one SQS record into a [`ParsedMessage`]: the body must be a TMF event envelope
//! (`eventId`, `eventType`, `event`) of an accepted major schema version. What fails here is
//! poison: retrying cannot fix it.

use aws_lambda_events::event::sqs::SqsMessage;
use serde_json::Value;

use super::attributes;

/// The schema major version consumers accept.
pub const ACCEPTED_SCHEMA_MAJOR: u64 = 1;

/// A message that passed the envelope checks.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedMessage {
    /// The SQS message id.
    pub message_id: String,
    /// The envelope's `eventId` (de-duplicate on it: delivery is at least once).
    pub event_id: String,
    /// The envelope's `eventType`.
    pub event_type: String,
    /// `schemaVersion` from the attribute or the envelope, when given.
    pub schema_version: Option<String>,
    /// The `tenant` attribute.
    pub tenant: Option<String>,
    /// The `correlationId` attribute, else the envelope's.
    pub correlation_id: Option<String>,
    /// How many times SQS has delivered the message (`ApproximateReceiveCount`).
    pub receive_count: Option<u32>,
    /// The envelope's `event` payload, e.g. `{"quote": {...}}`.
    pub event: Value,
    /// The whole envelope.
    pub envelope: Value,
}

fn attribute(message: &SqsMessage, name: &str) -> Option<String> {
    message
        .message_attributes
        .get(name)
        .and_then(|a| a.string_value.clone())
}

fn field(envelope: &Value, name: &str) -> Option<String> {
    envelope
        .get(name)
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// Checks that `version`'s major part is the accepted one.
fn check_schema_version(version: &str) -> Result<(), String> {
    let major = version.trim().split('.').next().unwrap_or_default();
    match major.parse::<u64>() {
        Ok(ACCEPTED_SCHEMA_MAJOR) => Ok(()),
        _ => Err(format!("unsupported schema version {version}")),
    }
}

/// Parses a record.
///
/// # Errors
/// The poison reason: `unparseable body: ...` or `unsupported schema version X`.
pub fn parse_message(message: &SqsMessage) -> Result<ParsedMessage, String> {
    let body = message.body.as_deref().unwrap_or_default();
    let envelope: Value =
        serde_json::from_str(body).map_err(|e| format!("unparseable body: {e}"))?;
    let required = |name: &str| {
        field(&envelope, name).ok_or_else(|| format!("unparseable body: no string `{name}`"))
    };
    let event_id = required("eventId")?;
    let event_type = required("eventType")?;
    let event = envelope
        .get("event")
        .filter(|e| e.is_object())
        .cloned()
        .ok_or_else(|| String::from("unparseable body: no object `event`"))?;
    let schema_version = attribute(message, attributes::SCHEMA_VERSION)
        .or_else(|| field(&envelope, attributes::SCHEMA_VERSION));
    if let Some(version) = &schema_version {
        check_schema_version(version)?;
    }
    Ok(ParsedMessage {
        message_id: message.message_id.clone().unwrap_or_default(),
        event_id,
        event_type,
        schema_version,
        tenant: attribute(message, attributes::TENANT),
        correlation_id: attribute(message, attributes::CORRELATION_ID)
            .or_else(|| field(&envelope, attributes::CORRELATION_ID)),
        receive_count: message
            .attributes
            .get("ApproximateReceiveCount")
            .and_then(|n| n.parse().ok()),
        event,
        envelope,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lambda_events::event::sqs::SqsMessageAttribute;

    fn message(body: &str) -> SqsMessage {
        let mut message = SqsMessage::default();
        message.message_id = Some("m-1".into());
        message.body = Some(body.into());
        message
    }

    fn with_version(mut message: SqsMessage, version: &str) -> SqsMessage {
        let mut value = SqsMessageAttribute::default();
        value.string_value = Some(version.into());
        value.data_type = Some("String".into());
        message
            .message_attributes
            .insert(attributes::SCHEMA_VERSION.into(), value);
        message
    }

    const ENVELOPE: &str =
        r#"{"eventId":"e-1","eventType":"QuoteCreateEvent","event":{"quote":{"id":"q"}}}"#;

    #[test]
    fn an_envelope_parses_with_its_payload_and_attributes() {
        let parsed = parse_message(&with_version(message(ENVELOPE), "1.3")).expect("valid");
        assert_eq!(parsed.event_id, "e-1");
        assert_eq!(parsed.event_type, "QuoteCreateEvent");
        assert_eq!(parsed.event["quote"]["id"], "q");
        assert_eq!(parsed.schema_version.as_deref(), Some("1.3"));
    }

    #[test]
    fn a_body_that_is_not_json_or_not_an_envelope_is_poison() {
        let reason = parse_message(&message("not json")).expect_err("poison");
        assert!(reason.starts_with("unparseable body: "), "{reason}");
        let reason =
            parse_message(&message(r#"{"eventType":"X","event":{}}"#)).expect_err("poison");
        assert_eq!(reason, "unparseable body: no string `eventId`");
    }

    #[test]
    fn an_unknown_major_version_is_poison_in_the_attribute_or_the_envelope() {
        let reason = parse_message(&with_version(message(ENVELOPE), "2.0")).expect_err("poison");
        assert_eq!(reason, "unsupported schema version 2.0");
        let body = r#"{"eventId":"e","eventType":"X","event":{},"schemaVersion":"v9"}"#;
        let reason = parse_message(&message(body)).expect_err("poison");
        assert_eq!(reason, "unsupported schema version v9");
    }
}
