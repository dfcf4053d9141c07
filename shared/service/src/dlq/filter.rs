//! Redrive filters (`--filter` of `q2c dlq redrive`): which dead-lettered messages to move.

use std::str::FromStr;
use std::time::Duration;

use time::OffsetDateTime;

use super::ports::DlqMessage;

/// One condition on a message; a redrive moves the messages matching all of its filters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    /// `event-type=X`: the `eventType` attribute is X.
    EventType(String),
    /// `older-than=2h`: sent longer ago than this.
    OlderThan(Duration),
    /// `reason~=text`: the `failureReason` attribute contains the text.
    ReasonContains(String),
}

impl FromStr for Filter {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        if let Some(text) = raw.strip_prefix("reason~=") {
            return Ok(Filter::ReasonContains(text.to_owned()));
        }
        match raw.split_once('=') {
            Some(("event-type", value)) if !value.is_empty() => {
                Ok(Filter::EventType(value.to_owned()))
            }
            Some(("older-than", value)) => humantime::parse_duration(value)
                .map(Filter::OlderThan)
                .map_err(|e| format!("`{raw}`: {e} (e.g. older-than=2h)")),
            _ => Err(format!(
                "`{raw}`: expected event-type=NAME, older-than=DURATION (e.g. 2h) or reason~=TEXT"
            )),
        }
    }
}

impl Filter {
    /// Whether `message` passes this filter at `now`.
    pub fn matches(&self, message: &DlqMessage, now: OffsetDateTime) -> bool {
        match self {
            Filter::EventType(name) => message.event_type() == Some(name.as_str()),
            Filter::OlderThan(age) => message.sent_at().is_some_and(|sent| now - sent > *age),
            Filter::ReasonContains(text) => message
                .failure_reason()
                .is_some_and(|reason| reason.contains(text.as_str())),
        }
    }
}

/// Whether `message` passes every filter (no filters: every message).
pub fn matches_all(filters: &[Filter], message: &DlqMessage, now: OffsetDateTime) -> bool {
    filters.iter().all(|f| f.matches(message, now))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::super::ports::{AttributeValue, SENT_TIMESTAMP};
    use super::*;

    fn message(event_type: &str, reason: &str, sent_ms: i64) -> DlqMessage {
        DlqMessage {
            message_id: "m".into(),
            receipt_handle: "h".into(),
            body: "{}".into(),
            attributes: BTreeMap::from([
                ("eventType".to_owned(), AttributeValue::string(event_type)),
                ("failureReason".to_owned(), AttributeValue::string(reason)),
            ]),
            system_attributes: BTreeMap::from([(SENT_TIMESTAMP.to_owned(), sent_ms.to_string())]),
        }
    }

    #[test]
    fn filters_parse_and_match_on_type_age_and_reason() {
        let now = OffsetDateTime::from_unix_timestamp(10_000).expect("time");
        let old = message("A", "order management refused: 400", 1_000_000);
        let new = message("B", "timeout", 9_999_000);
        let by_type: Filter = "event-type=A".parse().expect("parses");
        let by_age: Filter = "older-than=1h".parse().expect("parses");
        let by_reason: Filter = "reason~=refused".parse().expect("parses");
        assert!(by_type.matches(&old, now) && !by_type.matches(&new, now));
        assert!(by_age.matches(&old, now) && !by_age.matches(&new, now));
        assert!(by_reason.matches(&old, now) && !by_reason.matches(&new, now));
        assert!(matches_all(&[], &new, now));
        assert!(!matches_all(&[by_type, by_reason], &new, now));
        assert!("colour=red".parse::<Filter>().is_err());
        assert!("older-than=soon".parse::<Filter>().is_err());
        assert_eq!(
            "older-than=1h 30m".parse::<Filter>(),
            Ok(Filter::OlderThan(Duration::from_secs(5400)))
        );
    }
}
