//! The TMF637 product events billing reads from `billing-updates`.

use serde_json::{Value, json};
use time::OffsetDateTime;

use super::StoredProduct;
use crate::context::TenantId;
use crate::outbox::{Announcement, Destination, OutboxEvent};

/// The envelope field (and message attribute) carrying the product's event sequence.
pub const SEQUENCE_FIELD: &str = "sequence";

/// The TMF637 product events q2c publishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProductEventType {
    /// A product was created (its order completed).
    Create,
    /// A product's attributes changed (a change order modified it, or it was re-priced).
    AttributeValueChange,
    /// A product's status changed (e.g. `terminated`).
    StateChange,
}

impl ProductEventType {
    /// The TMF event name.
    pub fn name(self) -> &'static str {
        match self {
            ProductEventType::Create => "ProductCreateEvent",
            ProductEventType::AttributeValueChange => "ProductAttributeValueChangeEvent",
            ProductEventType::StateChange => "ProductStateChangeEvent",
        }
    }
}

/// The outbox event announcing `product` (as it is after the change) to billing: a TMF event
/// envelope (`domain: productInventory`, `event.product`) with the product's `sequence`, to
/// `billing-updates`.
///
/// # Errors
/// When the product cannot be serialised (an amount beyond 15 significant digits).
pub fn product_event(
    kind: ProductEventType,
    product: &StoredProduct,
    tenant: &TenantId,
    correlation_id: Option<&str>,
    now: OffsetDateTime,
) -> Result<OutboxEvent, serde_json::Error> {
    let mut extensions = serde_json::Map::new();
    extensions.insert(SEQUENCE_FIELD.to_owned(), Value::from(product.version));
    Announcement {
        event_type: kind.name(),
        domain: "productInventory",
        tenant: tenant.as_str(),
        aggregate_id: product.id().to_owned(),
        correlation_id,
        destination: Destination::BillingUpdates,
        event: json!({ "product": serde_json::to_value(&product.product)? }),
        extensions,
    }
    .into_event(now)
}
