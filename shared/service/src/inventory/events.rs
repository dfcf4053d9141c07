//! The TMF637 product events billing reads from `billing-updates`.

use q2c_model::tmf::EventEnvelope;
use serde_json::{Value, json};
use time::OffsetDateTime;

use super::StoredProduct;
use crate::context::TenantId;
use crate::outbox::{Destination, OutboxEvent, SCHEMA_VERSION};

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
    let event_id = uuid::Uuid::now_v7().to_string();
    let aggregate_id = product.id().to_owned();
    let mut envelope = EventEnvelope {
        event_id: event_id.clone(),
        event_time: now,
        event_type: kind.name().to_owned(),
        correlation_id: correlation_id.map(str::to_owned),
        domain: Some("productInventory".to_owned()),
        title: Some(format!("{} {aggregate_id}", kind.name())),
        description: None,
        priority: Some("3".to_owned()),
        time_occurred: Some(now),
        event: json!({ "product": serde_json::to_value(&product.product)? }),
        extensions: serde_json::Map::new(),
    };
    envelope
        .extensions
        .insert("schemaVersion".to_owned(), Value::from(SCHEMA_VERSION));
    envelope
        .extensions
        .insert(SEQUENCE_FIELD.to_owned(), Value::from(product.version));
    Ok(OutboxEvent {
        event_id,
        event_type: kind.name().to_owned(),
        tenant: Some(tenant.as_str().to_owned()),
        aggregate_id,
        correlation_id: correlation_id.map(str::to_owned),
        schema_version: SCHEMA_VERSION.to_owned(),
        destination: Destination::BillingUpdates,
        body: serde_json::to_value(&envelope)?,
        created_at: now,
    })
}
