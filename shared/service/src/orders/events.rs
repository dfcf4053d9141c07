//! The outbox events of product orders, as TMF event envelopes like the quote events.
//!
//! - `ProductOrderCreateEvent` → the `orders` queue, for the dispatch engine; payload
//!   `event.productOrder` is the plain TMF622 order it submits.
//! - `ProductOrderStateChangeEvent` → the `quote-events` queue, which the hub-delivery
//!   consumer reads, with the envelope field `hubApi: "ordering"` naming the hub whose
//!   subscribers get it; payload `event.productOrder` includes our `dispatch` extension.

use serde_json::{Value, json};
use time::OffsetDateTime;

use super::StoredOrder;
use crate::context::TenantId;
use crate::hubs::HubApi;
use crate::outbox::{Announcement, Destination, OutboxEvent};

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
    let (payload, destination) = match kind {
        OrderEventType::Create => (serde_json::to_value(&order.order)?, Destination::Orders),
        OrderEventType::StateChange => (order.to_resource()?, Destination::QuoteEvents),
    };
    let mut extensions = serde_json::Map::new();
    if kind == OrderEventType::StateChange {
        extensions.insert("hubApi".to_owned(), Value::from(HubApi::Ordering.as_str()));
    }
    Announcement {
        event_type: kind.name(),
        domain: "productOrderingManagement",
        tenant: tenant.as_str(),
        aggregate_id: order.id().to_owned(),
        correlation_id,
        destination,
        event: json!({ "productOrder": payload }),
        extensions,
    }
    .into_event(now)
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
