//! Builds the outbox events that announce quote changes, as TMF event envelopes.

use q2c_model::tmf::Quote;
use serde_json::json;
use time::OffsetDateTime;

use crate::context::RequestContext;
use crate::outbox::{Announcement, Destination, OutboxEvent};

pub use crate::outbox::SCHEMA_VERSION;

/// The quote events of TMF648 v4 that q2c publishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuoteEventType {
    /// A quote was created.
    Create,
    /// A quote's state changed.
    StateChange,
    /// Attributes other than the state changed (items, prices, notes, ...).
    AttributeValueChange,
    /// A quote was deleted.
    Delete,
}

impl QuoteEventType {
    /// The TMF event name.
    pub fn name(self) -> &'static str {
        match self {
            QuoteEventType::Create => "QuoteCreateEvent",
            QuoteEventType::StateChange => "QuoteStateChangeEvent",
            QuoteEventType::AttributeValueChange => "QuoteAttributeValueChangeEvent",
            QuoteEventType::Delete => "QuoteDeleteEvent",
        }
    }
}

/// An outbox event announcing `quote`, bound for the quote-events queue.
///
/// # Errors
/// When the quote cannot be serialised (an amount beyond 15 significant digits).
pub fn quote_event(
    kind: QuoteEventType,
    quote: &Quote,
    ctx: &RequestContext,
    now: OffsetDateTime,
) -> Result<OutboxEvent, serde_json::Error> {
    Announcement {
        event_type: kind.name(),
        domain: "quoteManagement",
        tenant: ctx.tenant.as_str(),
        aggregate_id: quote.id.clone().unwrap_or_default(),
        correlation_id: Some(&ctx.correlation_id),
        destination: Destination::QuoteEvents,
        event: json!({ "quote": serde_json::to_value(quote)? }),
        extensions: serde_json::Map::new(),
    }
    .into_event(now)
}
