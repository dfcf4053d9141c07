//! The consumer side of messaging: the transport-independent handler contract
//! ([`ParsedMessage`], [`HandlerError`], [`handle_one`], [`handle_batch`]) shared by the
//! Lambda batch consumer and the local poller, and the envelope checks of received messages.

use std::collections::BTreeMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::time::Duration;

use futures::FutureExt;
use serde_json::Value;

use super::queue::attributes;
use crate::event_versions::{SchemaMajor, SchemaPolicy, normalise_envelope};
use crate::store::BoxError;

/// The schema major versions consumers accept by default ([`SchemaPolicy::default`]; the
/// legacy `1.x` is read as 4).
pub const ACCEPTED_SCHEMA_MAJORS: [SchemaMajor; 2] = [SchemaMajor::PREVIOUS, SchemaMajor::CURRENT];

/// A message that passed the envelope checks.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedMessage {
    /// The queue's message id.
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
    /// How many times the queue has delivered the message.
    pub receive_count: Option<u32>,
    /// The envelope's `event` payload in the internal form, e.g. `{"quote": {...}}`.
    pub event: Value,
    /// The whole envelope in the internal form (v4 envelope, model representation; see
    /// [`crate::event_versions`]), unknown fields kept.
    pub envelope: Value,
}

impl ParsedMessage {
    /// The schema major the message was received in (`schemaVersion` absent or legacy `1.x`:
    /// 4).
    pub fn schema_major(&self) -> SchemaMajor {
        self.schema_version
            .as_deref()
            .and_then(SchemaMajor::parse)
            .unwrap_or_default()
    }
}

fn field(envelope: &Value, name: &str) -> Option<String> {
    envelope
        .get(name)
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// [`parse_message_with`] under the default [`SchemaPolicy`] (majors 4 and 5).
///
/// # Errors
/// As [`parse_message_with`].
pub fn parse_message(
    message_id: &str,
    body: &str,
    attributes: &BTreeMap<String, String>,
    receive_count: Option<u32>,
) -> Result<ParsedMessage, String> {
    parse_message_with(
        &SchemaPolicy::default(),
        message_id,
        body,
        attributes,
        receive_count,
    )
}

/// Parses a message: the body must be a TMF event envelope (`eventId`, `eventType`, an
/// `event` object) whose `schemaVersion` (attribute, else envelope field; absent: the legacy
/// unversioned form, read as 4) names a major `policy` accepts. The envelope is normalised to
/// the internal form; fields it does not know are ignored (and kept).
///
/// # Errors
/// The poison reason: `unparseable body: ...` or
/// `unsupported schema version X (accepted: 4, 5)`.
pub fn parse_message_with(
    policy: &SchemaPolicy,
    message_id: &str,
    body: &str,
    attributes: &BTreeMap<String, String>,
    receive_count: Option<u32>,
) -> Result<ParsedMessage, String> {
    let envelope: Value =
        serde_json::from_str(body).map_err(|e| format!("unparseable body: {e}"))?;
    if !envelope.is_object() {
        return Err(String::from("unparseable body: not a JSON object"));
    }
    let attribute = |name: &str| attributes.get(name).cloned();
    let schema_version = attribute(attributes::SCHEMA_VERSION)
        .or_else(|| field(&envelope, attributes::SCHEMA_VERSION));
    let major = policy.check(schema_version.as_deref())?;
    let envelope =
        normalise_envelope(envelope, major).map_err(|e| format!("unparseable body: {e}"))?;
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
    Ok(ParsedMessage {
        message_id: message_id.to_owned(),
        event_id,
        event_type,
        schema_version,
        tenant: attribute(attributes::TENANT),
        correlation_id: attribute(attributes::CORRELATION_ID)
            .or_else(|| field(&envelope, attributes::CORRELATION_ID)),
        receive_count,
        event,
        envelope,
    })
}

/// How handling a message failed.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// Retrying may succeed (downstream down, throttling): the message is redelivered.
    #[error("transient failure")]
    Transient(#[source] BoxError),
    /// Retrying cannot succeed (invalid content): the message goes to the DLQ now.
    #[error("poison message: {reason}")]
    Poison {
        /// Why, recorded as the `failureReason` attribute on the DLQ message.
        reason: String,
    },
}

/// A transient failure that also says when to try again: carried as the source of
/// [`HandlerError::Transient`], it makes the drivers hide the message for `after` (SQS
/// `ChangeMessageVisibility`) instead of the queue's visibility timeout, so that retries of
/// a down downstream spread out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason} (retry in {after:?})")]
pub struct RetryAfter {
    /// How long to hide the message.
    pub after: Duration,
    /// Why it failed.
    pub reason: String,
}

/// What to do with a message after [`handle_one`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Disposition {
    /// Handled: delete it.
    Done,
    /// Leave it for redelivery after its visibility timeout.
    Retry,
    /// Leave it for redelivery, hidden for this long from now.
    RetryAfter(Duration),
    /// Send it to the DLQ with this reason, then delete it from the source.
    DeadLetter(String),
}

/// The one classification both consumers use: runs `handler` on a parsed message (a parse
/// failure is poison), with panics caught and turned into transient failures, and logs the
/// outcome. Call it inside the message's span.
pub async fn handle_one<F, Fut>(parsed: Result<ParsedMessage, String>, handler: &F) -> Disposition
where
    F: Fn(ParsedMessage) -> Fut,
    Fut: Future<Output = Result<(), HandlerError>>,
{
    let result = match parsed {
        Ok(parsed) => {
            tracing::Span::current().record("event_type", parsed.event_type.as_str());
            run_isolated(handler, parsed).await
        }
        Err(reason) => Err(HandlerError::Poison { reason }),
    };
    disposition(result)
}

/// The disposition of a handler's result: `Transient` → retry (delayed when its source is a
/// [`RetryAfter`]), `Poison` → dead-letter.
pub fn disposition(result: Result<(), HandlerError>) -> Disposition {
    match result {
        Ok(()) => Disposition::Done,
        Err(HandlerError::Transient(error)) => {
            tracing::warn!(error.message = %error, error.cause_chain = ?error, "transient failure; will be redelivered");
            match error.downcast_ref::<RetryAfter>() {
                Some(retry) => Disposition::RetryAfter(retry.after),
                None => Disposition::Retry,
            }
        }
        Err(HandlerError::Poison { reason }) => Disposition::DeadLetter(reason),
    }
}

/// The batch form of [`handle_one`], for handlers that do better with the whole batch at once
/// (e.g. hub delivery sending one `SendMessageBatch` per subscriber): messages that fail to
/// parse are dead-lettered without reaching the handler; the others go to `handler` in one
/// call, which must answer one result per message, in order. A panic, or an answer of the
/// wrong length, returns every message of the call for redelivery.
pub async fn handle_batch<F, Fut>(
    parsed: Vec<Result<ParsedMessage, String>>,
    handler: &F,
) -> Vec<Disposition>
where
    F: Fn(Vec<ParsedMessage>) -> Fut,
    Fut: Future<Output = Vec<Result<(), HandlerError>>>,
{
    let mut dispositions: Vec<Option<Disposition>> = Vec::with_capacity(parsed.len());
    let mut positions = Vec::new();
    let mut messages = Vec::new();
    for (index, item) in parsed.into_iter().enumerate() {
        match item {
            Ok(message) => {
                positions.push(index);
                messages.push(message);
                dispositions.push(None);
            }
            Err(reason) => dispositions.push(Some(Disposition::DeadLetter(reason))),
        }
    }
    if !messages.is_empty() {
        let expected = messages.len();
        let results = match std::panic::catch_unwind(AssertUnwindSafe(|| handler(messages))) {
            Ok(future) => AssertUnwindSafe(future).catch_unwind().await.ok(),
            Err(_) => None,
        };
        let results = results.filter(|r| r.len() == expected);
        if results.is_none() {
            tracing::error!(
                messages = expected,
                "batch handler panicked or answered for the wrong number of messages; all retried"
            );
        }
        match results {
            Some(results) => {
                for (index, result) in positions.into_iter().zip(results) {
                    dispositions[index] = Some(disposition(result));
                }
            }
            None => {
                for index in positions {
                    dispositions[index] = Some(Disposition::Retry);
                }
            }
        }
    }
    dispositions
        .into_iter()
        .map(|d| d.unwrap_or(Disposition::Retry))
        .collect()
}

/// Runs the handler, turning a panic (while building or polling its future) into a
/// transient failure of this message only.
async fn run_isolated<F, Fut>(handler: &F, parsed: ParsedMessage) -> Result<(), HandlerError>
where
    F: Fn(ParsedMessage) -> Fut,
    Fut: Future<Output = Result<(), HandlerError>>,
{
    let future = match std::panic::catch_unwind(AssertUnwindSafe(|| handler(parsed))) {
        Ok(future) => future,
        Err(panic) => return Err(panicked(panic.as_ref())),
    };
    match AssertUnwindSafe(future).catch_unwind().await {
        Ok(result) => result,
        Err(panic) => Err(panicked(panic.as_ref())),
    }
}

/// A panic as a transient error carrying its message.
fn panicked(payload: &(dyn std::any::Any + Send)) -> HandlerError {
    let message = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| String::from("non-string panic payload"));
    HandlerError::Transient(format!("handler panicked: {message}").into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed() -> Result<ParsedMessage, String> {
        parse_message(
            "m-1",
            r#"{"eventId":"e-1","eventType":"X","event":{}}"#,
            &BTreeMap::new(),
            Some(1),
        )
    }

    fn with_version(body: &str, version: Option<&str>) -> Result<ParsedMessage, String> {
        let attributes = version
            .map(|v| BTreeMap::from([(attributes::SCHEMA_VERSION.to_owned(), v.to_owned())]))
            .unwrap_or_default();
        parse_message("m-1", body, &attributes, Some(1))
    }

    #[test]
    fn both_majors_parse_to_the_internal_form_and_unknown_fields_are_ignored() {
        let v4 = r#"{"eventId":"e-1","eventType":"QuoteCreateEvent","schemaVersion":"4.0",
            "timeOcurred":"2026-11-27T14:00:00Z","futureField":[1,2],
            "event":{"quote":{"id":"q-1","quoteItem":[],"futureItemField":true}}}"#;
        let v5 = r#"{"@type":"QuoteCreateEvent","eventId":"e-1","eventType":"QuoteCreateEvent",
            "schemaVersion":"5.0","timeOccurred":"2026-11-27T14:00:00Z","futureField":[1,2],
            "event":{"quote":{"id":"q-1","quoteItem":[],"futureItemField":true}}}"#;
        let from_v4 = with_version(v4, Some("4.0")).expect("v4 parses");
        let from_v5 = with_version(v5, Some("5.0")).expect("v5 parses");
        assert_eq!(from_v4.schema_major(), SchemaMajor::V4);
        assert_eq!(from_v5.schema_major(), SchemaMajor::V5);
        assert_eq!(from_v5.event, from_v4.event);
        assert_eq!(from_v5.envelope["timeOcurred"], "2026-11-27T14:00:00Z");
        assert!(from_v5.envelope.get("@type").is_none());
        assert_eq!(from_v5.envelope["futureField"], serde_json::json!([1, 2]));
        assert_eq!(from_v5.event_id, "e-1");
    }

    #[test]
    fn legacy_and_unversioned_messages_are_read_as_four() {
        let body = r#"{"eventId":"e-1","eventType":"X","event":{}}"#;
        for version in [Some("1.0"), Some("1.7"), None] {
            let parsed = with_version(body, version).expect("accepted");
            assert_eq!(parsed.schema_major(), SchemaMajor::V4, "{version:?}");
        }
        let in_envelope = r#"{"eventId":"e-1","eventType":"X","event":{},"schemaVersion":"5.1"}"#;
        assert_eq!(
            with_version(in_envelope, None).map(|p| p.schema_major()),
            Ok(SchemaMajor::V5),
            "the envelope field counts when the attribute is absent"
        );
    }

    #[test]
    fn an_unknown_major_is_poison_naming_the_accepted_ones() {
        let body = r#"{"eventId":"e-1","eventType":"X","event":{}}"#;
        for version in ["3.0", "6.0", "2"] {
            assert_eq!(
                with_version(body, Some(version)),
                Err(format!(
                    "unsupported schema version {version} (accepted: 4, 5)"
                ))
            );
        }
        let only_five = SchemaPolicy {
            current: SchemaMajor::V5,
            previous: SchemaMajor::V5,
            emit: SchemaMajor::V5,
        };
        assert_eq!(
            parse_message_with(
                &only_five,
                "m-1",
                body,
                &BTreeMap::from([(attributes::SCHEMA_VERSION.to_owned(), "4.0".to_owned())]),
                None
            ),
            Err("unsupported schema version 4.0 (accepted: 5)".to_owned())
        );
    }

    #[tokio::test]
    async fn a_retry_after_source_becomes_a_delayed_retry() {
        let handler = |_m: ParsedMessage| async {
            Err(HandlerError::Transient(Box::new(RetryAfter {
                after: Duration::from_secs(42),
                reason: "down".into(),
            })))
        };
        assert_eq!(
            handle_one(parsed(), &handler).await,
            Disposition::RetryAfter(Duration::from_secs(42))
        );
        let plain = |_m: ParsedMessage| async { Err(HandlerError::Transient("down".into())) };
        assert_eq!(handle_one(parsed(), &plain).await, Disposition::Retry);
    }

    #[tokio::test]
    async fn a_batch_handler_gets_the_parsed_messages_and_decides_each() {
        let bad = Err(String::from("unparseable body: nope"));
        let handler = |messages: Vec<ParsedMessage>| async move {
            assert_eq!(
                messages.len(),
                2,
                "the unparseable one never reaches the handler"
            );
            vec![
                Ok(()),
                Err(HandlerError::Poison {
                    reason: "invalid".into(),
                }),
            ]
        };
        let dispositions = handle_batch(vec![parsed(), bad, parsed()], &handler).await;
        assert_eq!(
            dispositions,
            vec![
                Disposition::Done,
                Disposition::DeadLetter("unparseable body: nope".into()),
                Disposition::DeadLetter("invalid".into()),
            ]
        );
    }

    #[tokio::test]
    async fn a_panicking_or_miscounting_batch_handler_retries_every_message() {
        let panics = |_m: Vec<ParsedMessage>| async move {
            panic!("bug");
            #[allow(unreachable_code)]
            Vec::new()
        };
        assert_eq!(
            handle_batch(vec![parsed(), parsed()], &panics).await,
            vec![Disposition::Retry, Disposition::Retry]
        );
        let short = |_m: Vec<ParsedMessage>| async move { vec![Ok(())] };
        assert_eq!(
            handle_batch(vec![parsed(), parsed()], &short).await,
            vec![Disposition::Retry, Disposition::Retry]
        );
    }
}
