//! Builds the outbox events that announce quote changes, as TMF event envelopes.

use q2c_model::tmf::{EventEnvelope, Quote};
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::context::RequestContext;
use crate::outbox::{Destination, OutboxEvent};

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
    let event_id = uuid::Uuid::now_v7().to_string();
    let aggregate_id = quote.id.clone().unwrap_or_default();
    let mut envelope = EventEnvelope {
        event_id: event_id.clone(),
        event_time: now,
        event_type: kind.name().to_owned(),
        correlation_id: Some(ctx.correlation_id.clone()),
        domain: Some("quoteManagement".to_owned()),
        title: Some(format!("{} {}", kind.name(), aggregate_id)),
        description: None,
        priority: Some("3".to_owned()),
        time_occurred: Some(now),
        event: json!({ "quote": serde_json::to_value(quote)? }),
        extensions: serde_json::Map::new(),
    };
    envelope
        .extensions
        .insert("schemaVersion".to_owned(), Value::from(SCHEMA_VERSION));
    Ok(OutboxEvent {
        event_id,
        event_type: kind.name().to_owned(),
        tenant: Some(ctx.tenant.as_str().to_owned()),
        aggregate_id,
        correlation_id: Some(ctx.correlation_id.clone()),
        schema_version: SCHEMA_VERSION.to_owned(),
        destination: Destination::QuoteEvents,
        body: serde_json::to_value(&envelope)?,
        created_at: now,
    })
}
