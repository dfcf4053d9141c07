//! [`SubscriptionQuery`]: the `query` of a hub subscription. Grammar (terms joined by `&`):
//! `eventType=A,B` (any of the listed types) and `a.b.c=value` (the envelope value at the
//! dotted path equals `value`, e.g. `event.productOfferingPrice.id=pop-1`). Every term must
//! hold. Anything else is refused, so a typo does not silently subscribe to everything.

use serde_json::Value;

/// Longest query accepted.
pub const MAX_QUERY_LEN: usize = 1024;
/// The term that selects event types.
const EVENT_TYPE: &str = "eventType";

/// A parsed subscription filter; the empty query matches every event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubscriptionQuery {
    /// `eventType=` alternatives; `None` when the query names no type.
    event_types: Option<Vec<String>>,
    /// `(path segments, value)` equality terms.
    equals: Vec<(Vec<String>, String)>,
}

/// Why a query was refused (the message is shown to the API client).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("query: {0}")]
pub struct QueryError(pub String);

fn refuse(message: impl Into<String>) -> QueryError {
    QueryError(message.into())
}

/// A path segment: letters, digits, `_`, `-`, `@` (TMF's `@type`).
fn valid_segment(segment: &str) -> bool {
    !segment.is_empty()
        && segment
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '@'))
}

impl SubscriptionQuery {
    /// Parses a subscription's `query` (`None` or blank: everything matches).
    ///
    /// # Errors
    /// A [`QueryError`] naming the offending term.
    pub fn parse(query: Option<&str>) -> Result<Self, QueryError> {
        let Some(raw) = query.map(str::trim).filter(|q| !q.is_empty()) else {
            return Ok(SubscriptionQuery::default());
        };
        if raw.len() > MAX_QUERY_LEN {
            return Err(refuse(format!("longer than {MAX_QUERY_LEN} characters")));
        }
        let mut parsed = SubscriptionQuery::default();
        for term in raw.split('&') {
            let Some((name, value)) = term.split_once('=') else {
                return Err(refuse(format!("`{term}` is not `name=value`")));
            };
            if value.is_empty() {
                return Err(refuse(format!("`{term}` has no value")));
            }
            if name == EVENT_TYPE {
                if parsed.event_types.is_some() {
                    return Err(refuse(
                        "eventType given twice; list the types: eventType=A,B",
                    ));
                }
                let types: Vec<String> = value.split(',').map(str::to_owned).collect();
                if types.iter().any(|t| !valid_segment(t)) {
                    return Err(refuse(format!("`{value}` is not a list of event types")));
                }
                parsed.event_types = Some(types);
            } else {
                let path: Vec<String> = name.split('.').map(str::to_owned).collect();
                if path.iter().any(|segment| !valid_segment(segment)) {
                    return Err(refuse(format!(
                        "`{name}` is not `eventType` nor a dotted path such as event.quote.state"
                    )));
                }
                if value.contains(',') {
                    return Err(refuse(format!(
                        "`{term}`: only eventType takes a list of values"
                    )));
                }
                parsed.equals.push((path, value.to_owned()));
            }
        }
        Ok(parsed)
    }

    /// Whether an event of `event_type` with this `envelope` matches every term.
    pub fn matches(&self, event_type: &str, envelope: &Value) -> bool {
        let type_ok = self
            .event_types
            .as_ref()
            .is_none_or(|types| types.iter().any(|t| t == event_type));
        type_ok
            && self.equals.iter().all(|(path, expected)| {
                value_at(envelope, path).is_some_and(|v| equals(v, expected))
            })
    }
}

fn value_at<'a>(envelope: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter()
        .try_fold(envelope, |value, segment| value.get(segment.as_str()))
}

/// Strings compare as they are; numbers and booleans by their JSON text.
fn equals(value: &Value, expected: &str) -> bool {
    match value {
        Value::String(s) => s == expected,
        Value::Number(n) => n.to_string() == expected,
        Value::Bool(b) => b.to_string() == expected,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn price_event(id: &str) -> Value {
        json!({"eventId": "e-1", "eventType": "ProductOfferingPriceAttributeValueChangeEvent",
               "event": {"productOfferingPrice": {"id": id, "version": 3, "isBundle": false}}})
    }

    #[test]
    fn an_absent_or_blank_query_matches_everything() {
        for query in [None, Some(""), Some("  ")] {
            let q = SubscriptionQuery::parse(query).expect("valid");
            assert!(q.matches("AnyEvent", &json!({})));
        }
    }

    #[test]
    fn event_types_are_alternatives() {
        let q = SubscriptionQuery::parse(Some("eventType=QuoteCreateEvent,QuoteStateChangeEvent"))
            .expect("valid");
        assert!(q.matches("QuoteStateChangeEvent", &json!({})));
        assert!(q.matches("QuoteCreateEvent", &json!({})));
        assert!(!q.matches("QuoteDeleteEvent", &json!({})));
    }

    #[test]
    fn dotted_paths_compare_strings_numbers_and_booleans_and_all_terms_must_hold() {
        let q = SubscriptionQuery::parse(Some(
            "eventType=ProductOfferingPriceAttributeValueChangeEvent&event.productOfferingPrice.id=pop-1&event.productOfferingPrice.version=3&event.productOfferingPrice.isBundle=false",
        ))
        .expect("valid");
        let kind = "ProductOfferingPriceAttributeValueChangeEvent";
        assert!(q.matches(kind, &price_event("pop-1")));
        assert!(!q.matches(kind, &price_event("pop-2")), "other id");
        assert!(
            !q.matches("QuoteCreateEvent", &price_event("pop-1")),
            "other type"
        );
        assert!(!q.matches(kind, &json!({"event": {}})), "missing path");
    }

    #[test]
    fn anything_outside_the_grammar_is_refused() {
        for bad in [
            "eventType",
            "eventType=",
            "eventType=A,,B",
            "eventType=A&eventType=B",
            "event..id=1",
            "event.id=a,b",
            "=x",
            "event.quote id=1",
            "a=1&&b=2",
            "state>3",
        ] {
            let refused = SubscriptionQuery::parse(Some(bad));
            assert!(refused.is_err(), "`{bad}` must be refused, got {refused:?}");
        }
        let long = format!("event.id={}", "x".repeat(MAX_QUERY_LEN));
        assert!(SubscriptionQuery::parse(Some(&long)).is_err());
    }
}
