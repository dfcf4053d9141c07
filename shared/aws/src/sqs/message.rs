//! Parsing one SQS record into a [`ParsedMessage`] with the transport-independent
//! [`q2c_service::messaging::parse_message`]: the body must be a TMF event envelope
//! (`eventId`, `eventType`, `event`) of an accepted major schema version (4 or 5, the legacy
//! `1.x` read as 4), normalised to the internal form. What fails here is poison: retrying
//! cannot fix it.

use std::collections::BTreeMap;

use aws_lambda_events::event::sqs::SqsMessage;

pub use q2c_service::messaging::{ACCEPTED_SCHEMA_MAJORS, ParsedMessage};

/// Parses a record (string attributes only; `ApproximateReceiveCount` as the receive count).
///
/// # Errors
/// The poison reason: `unparseable body: ...` or
/// `unsupported schema version X (accepted: 4, 5)`.
pub fn parse_message(message: &SqsMessage) -> Result<ParsedMessage, String> {
    let attributes: BTreeMap<String, String> = message
        .message_attributes
        .iter()
        .filter_map(|(name, a)| a.string_value.clone().map(|v| (name.clone(), v)))
        .collect();
    let receive_count = message
        .attributes
        .get("ApproximateReceiveCount")
        .and_then(|n| n.parse().ok());
    q2c_service::messaging::parse_message(
        message.message_id.as_deref().unwrap_or_default(),
        message.body.as_deref().unwrap_or_default(),
        &attributes,
        receive_count,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sqs::attributes;
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
        assert_eq!(reason, "unsupported schema version 2.0 (accepted: 4, 5)");
        let body = r#"{"eventId":"e","eventType":"X","event":{},"schemaVersion":"v9"}"#;
        let reason = parse_message(&message(body)).expect_err("poison");
        assert_eq!(reason, "unsupported schema version v9 (accepted: 4, 5)");
    }

    #[test]
    fn a_v5_record_is_read_in_the_internal_form() {
        let body = r#"{"@type":"QuoteCreateEvent","eventId":"e-1","eventType":"QuoteCreateEvent",
            "timeOccurred":"2026-11-27T14:00:00Z","event":{"quote":{"id":"q","quoteItem":[],
            "creationDate":"2026-11-27T14:00:00Z","externalId":[{"id":"crm-1"}]}}}"#;
        let parsed = parse_message(&with_version(message(body), "5.0")).expect("valid");
        assert_eq!(parsed.envelope["timeOcurred"], "2026-11-27T14:00:00Z");
        assert_eq!(parsed.event["quote"]["quoteDate"], "2026-11-27T14:00:00Z");
        assert_eq!(parsed.event["quote"]["externalId"], "crm-1");
    }
}
