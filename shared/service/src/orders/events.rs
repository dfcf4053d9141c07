//! The outbox events of product orders, as TMF event envelopes like the quote events.
//!
//! - `ProductOrderCreateEvent` → the `orders` queue, for the dispatch engine; payload
//!   `event.productOrder` is the plain TMF622 order it submits.
//! - `ProductOrderStateChangeEvent` → the `quote-events` queue, which the hub-delivery
//!   consumer reads, with the envelope field `hubApi: "ordering"` naming the hub whose
//!   subscribers get it; payload `event.productOrder` includes our `dispatch` extension.

use q2c_model::tmf::EventEnvelope;
use serde_json::{Value, json};
use time::OffsetDateTime;

use super::StoredOrder;
use crate::context::TenantId;
use crate::hubs::HubApi;
use crate::outbox::{Destination, OutboxEvent, SCHEMA_VERSION};

/// The product order events of TMF622 v4 that q2c publishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderEventType {
    /// An order was created (by accepting a quote).
    Create,
    /// The order's state (or its dispatch status) changed.
    StateChange,
}

impl OrderEventType {
    /// The TMF event name.
    pub fn name(self) -> &'static str {
        match self {
            OrderEventType::Create => "ProductOrderCreateEvent",
            OrderEventType::StateChange => "ProductOrderStateChangeEvent",
        }
    }
}

/// An outbox event announcing `order`: `Create` to the orders queue, `StateChange` to the
/// hub path (quote-events queue, `hubApi: "ordering"`).
///
/// # Errors
/// When the order cannot be serialised (an amount beyond 15 significant digits).
pub fn order_event(
    kind: OrderEventType,
    order: &StoredOrder,
    tenant: &TenantId,
    correlation_id: Option<&str>,
    now: OffsetDateTime,
) -> Result<OutboxEvent, serde_json::Error> {
    let event_id = uuid::Uuid::now_v7().to_string();
    let aggregate_id = order.id().to_owned();
    let (payload, destination) = match kind {
        OrderEventType::Create => (serde_json::to_value(&order.order)?, Destination::Orders),
        OrderEventType::StateChange => (order.to_resource()?, Destination::QuoteEvents),
    };
    let mut envelope = EventEnvelope {
        event_id: event_id.clone(),
        event_time: now,
        event_type: kind.name().to_owned(),
        correlation_id: correlation_id.map(str::to_owned),
        domain: Some("productOrderingManagement".to_owned()),
        title: Some(format!("{} {aggregate_id}", kind.name())),
        description: None,
        priority: Some("3".to_owned()),
        time_occurred: Some(now),
        event: json!({ "productOrder": payload }),
        extensions: serde_json::Map::new(),
    };
    envelope
        .extensions
        .insert("schemaVersion".to_owned(), Value::from(SCHEMA_VERSION));
    if kind == OrderEventType::StateChange {
        envelope
            .extensions
            .insert("hubApi".to_owned(), Value::from(HubApi::Ordering.as_str()));
    }
    Ok(OutboxEvent {
        event_id,
        event_type: kind.name().to_owned(),
        tenant: Some(tenant.as_str().to_owned()),
        aggregate_id,
        correlation_id: correlation_id.map(str::to_owned),
        schema_version: SCHEMA_VERSION.to_owned(),
        destination,
        body: serde_json::to_value(&envelope)?,
        created_at: now,
    })
}

/// The `ProductOrderCreateEvent` of a new order.
///
/// # Errors
/// As [`order_event`].
pub fn order_created_event(
    order: &StoredOrder,
    tenant: &TenantId,
    correlation_id: Option<&str>,
    now: OffsetDateTime,
) -> Result<OutboxEvent, serde_json::Error> {
    order_event(OrderEventType::Create, order, tenant, correlation_id, now)
}

/// The `ProductOrderStateChangeEvent` written when an order's dispatch fails (`order` as it
/// is after the update). Adapters call it inside `record_dispatch`.
///
/// # Errors
/// As [`order_event`].
pub fn dispatch_failed_event(
    order: &StoredOrder,
    tenant: &TenantId,
    now: OffsetDateTime,
) -> Result<OutboxEvent, serde_json::Error> {
    order_event(OrderEventType::StateChange, order, tenant, None, now)
}
