//! Per-tenant count quotas: the open-quote count ([`OpenQuoteCounts`]) and what changes it
//! ([`open_quote_delta`]). The request-rate quota is the HTTP edge's (`q2c-api`), the
//! subscription quota [`crate::hubs::HubStore::create_within`].
//!
//! **What is counted.** A quote is open from its creation until it reaches a final state
//! (`accepted`, `rejected`, `cancelled`) or is deleted. Quotes do not expire: a quote whose
//! `validFor` has ended stays open (and counted) until it is cancelled, rejected or deleted,
//! since nothing moves it out of its state (only acceptance checks validity).
//!
//! **How.** Every change of openness writes an outbox event in the same transaction as the
//! change (`QuoteCreateEvent`, `QuoteStateChangeEvent` into a final state, `QuoteDeleteEvent`
//! of an open quote). The count is moved by the relay when it marks that event published
//! ([`crate::outbox::OutboxStore::mark_published`]): the mark is conditional on the event
//! still being pending, and the count change is in the same write, so each event changes
//! the count exactly once, whether the stream path or a sweep relays it, however often.
//! Nothing on the quote's own write path touches a counter: no hot key, no transaction
//! conflicts between a tenant's concurrent quote writes.
//!
//! **Drift.** None at rest: once every event is published the count is exact. In between
//! it lags by the events still pending (normally the relay's latency, under a second; up to
//! the sweep interval when the stream path fails). So the quota is soft: concurrent
//! creates, and creates during such a lag, can pass it by that many quotes.

use async_trait::async_trait;
use q2c_model::tmf::QuoteState;

use crate::context::TenantId;
use crate::events::QuoteEventType;
use crate::outbox::OutboxEvent;
use crate::store::StoreError;

/// The tenant's open quotes as counted so far (see the module docs for how it lags).
///
/// An adapter answers the count its outbox moves on `mark_published` and `park`
/// ([`crate::outbox::OutboxStore`]), so both read and write one counter per tenant.
#[async_trait]
pub trait OpenQuoteCounts: Send + Sync {
    /// The count (never below 0).
    async fn open_quotes(&self, tenant: &TenantId) -> Result<u64, StoreError>;
}

/// How publishing `event` changes its tenant's open-quote count: `+1` for a
/// `QuoteCreateEvent`, `-1` for a `QuoteStateChangeEvent` into a final state and for a
/// `QuoteDeleteEvent` of a quote that was not final; `None` for every other event (and for
/// events without a tenant). Reads the outbox form (the quote at `event.quote`).
pub fn open_quote_delta(event: &OutboxEvent) -> Option<(&str, i64)> {
    let tenant = event.tenant.as_deref()?;
    let state = || {
        event
            .body
            .pointer("/event/quote/state")
            .and_then(|v| serde_json::from_value::<QuoteState>(v.clone()).ok())
    };
    let is_final = || state().is_some_and(QuoteState::is_final);
    let delta = match event.event_type.as_str() {
        t if t == QuoteEventType::Create.name() => 1,
        t if t == QuoteEventType::StateChange.name() && is_final() => -1,
        t if t == QuoteEventType::Delete.name() && !is_final() => -1,
        _ => return None,
    };
    Some((tenant, delta))
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use time::OffsetDateTime;

    use super::*;
    use crate::outbox::Destination;

    fn event(event_type: &str, state: Option<&str>, tenant: Option<&str>) -> OutboxEvent {
        OutboxEvent {
            event_id: "e-1".into(),
            event_type: event_type.into(),
            tenant: tenant.map(Into::into),
            aggregate_id: "q-1".into(),
            correlation_id: None,
            schema_version: "4.0".into(),
            destination: Destination::QuoteEvents,
            body: json!({"eventType": event_type, "event": {"quote": {"id": "q-1", "state": state}}}),
            created_at: OffsetDateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn creation_opens_final_states_and_deleting_an_open_quote_close() {
        let delta = |t: &str, s: Option<&str>| {
            open_quote_delta(&event(t, s, Some("acme"))).map(|(t, d)| (t.to_owned(), d))
        };
        let acme = |d: i64| Some(("acme".to_owned(), d));
        assert_eq!(delta("QuoteCreateEvent", Some("inProgress")), acme(1));
        for closed in ["accepted", "rejected", "cancelled"] {
            assert_eq!(
                delta("QuoteStateChangeEvent", Some(closed)),
                acme(-1),
                "{closed}"
            );
            assert_eq!(delta("QuoteDeleteEvent", Some(closed)), None, "{closed}");
        }
        for open in ["inProgress", "pending", "approved"] {
            assert_eq!(delta("QuoteStateChangeEvent", Some(open)), None, "{open}");
            assert_eq!(delta("QuoteDeleteEvent", Some(open)), acme(-1), "{open}");
        }
        assert_eq!(delta("QuoteDeleteEvent", None), acme(-1));
        assert_eq!(
            delta("QuoteAttributeValueChangeEvent", Some("inProgress")),
            None
        );
        assert_eq!(delta("ProductOrderCreateEvent", None), None);
        assert_eq!(
            open_quote_delta(&event("QuoteCreateEvent", None, None)),
            None,
            "no tenant"
        );
    }
}
