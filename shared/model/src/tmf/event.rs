//! The TMF event envelope (TMF688 v4) every published message uses, and hub subscriptions.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::common::Extensions;

/// A TMF event envelope around a payload such as `{"quote": {...}}`.
///
/// v4 spells `timeOcurred` (sic); we write it as v4 does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventEnvelope<P> {
    /// Stable identifier: consumers de-duplicate on it.
    pub event_id: String,
    /// When the event was produced.
    #[serde(with = "time::serde::rfc3339")]
    pub event_time: OffsetDateTime,
    /// Event name, e.g. `QuoteStateChangeEvent`.
    pub event_type: String,
    /// Correlation id of the request that caused it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<String>,
    /// Domain of the event, e.g. `quoteManagement`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// Human-readable title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Priority (`"1"`..`"5"` as a string per TMF688).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<String>,
    /// When the change happened (v4 spelling).
    #[serde(
        rename = "timeOcurred",
        default,
        skip_serializing_if = "Option::is_none",
        with = "time::serde::rfc3339::option"
    )]
    pub time_occurred: Option<OffsetDateTime>,
    /// The payload, e.g. `{"quote": {...}}`.
    pub event: P,
    /// Unmodelled fields, kept verbatim.
    #[serde(flatten)]
    pub extensions: Extensions,
}

/// A hub registration: where to deliver which events (TMF `EventSubscription`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventSubscription {
    /// Server-assigned id.
    #[serde(default)]
    pub id: String,
    /// Where events go: an HTTPS listener base URL or an SQS queue URL/ARN.
    pub callback: String,
    /// Filter, e.g. `eventType=QuoteStateChangeEvent`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
}
