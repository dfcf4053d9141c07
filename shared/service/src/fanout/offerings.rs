//! Offering events on `pricing-changes`: TMF620 `ProductOffering*Event`s validated into an
//! [`OfferingChange`], the [`OfferingCatalogWriter`] port that applies them with the same
//! stale protection as prices, and [`offering_ids_of`], which open-quote index entries by
//! offering the adapters keep for each open quote.

use async_trait::async_trait;
use q2c_model::tmf::{ProductOffering, Quote};
use time::OffsetDateTime;

use super::ApplyOutcome;
use super::entry::{EntryInvalid, change_kind, check_entry, entry_of, field_error};
use crate::messaging::ParsedMessage;
use crate::store::StoreError;
use q2c_model::limits;

/// The TMF620 offering events the fan-out applies.
pub const OFFERING_EVENT_TYPES: [&str; 4] = [
    "ProductOfferingCreateEvent",
    "ProductOfferingAttributeValueChangeEvent",
    "ProductOfferingStateChangeEvent",
    "ProductOfferingDeleteEvent",
];

/// One validated offering change, ready to apply.
#[derive(Debug, Clone, PartialEq)]
pub struct OfferingChange {
    /// Upsert or delete (a delete leaves a tombstone).
    pub kind: super::PriceChangeKind,
    /// The offering as the event carries it (`id` non-empty), unknown fields included.
    pub offering: ProductOffering,
    /// The offering's `lastUpdate`: the order of changes of one offering.
    pub last_update: OffsetDateTime,
}

impl OfferingChange {
    /// The offering id.
    pub fn offering_id(&self) -> &str {
        &self.offering.id
    }

    /// Whether quotes can no longer use the offering: deleted, or `Retired`/`Obsolete`.
    pub fn retires(&self) -> bool {
        self.kind == super::PriceChangeKind::Delete
            || is_retired_status(self.offering.lifecycle_status.as_deref())
    }
}

/// `Retired` or `Obsolete` (any case): the lifecycle states in which nothing can be sold.
pub fn is_retired_status(status: Option<&str>) -> bool {
    status.is_some_and(|s| s.eq_ignore_ascii_case("retired") || s.eq_ignore_ascii_case("obsolete"))
}

/// Writes offering changes into the operator's catalog copy, ordered by `lastUpdate`.
#[async_trait]
pub trait OfferingCatalogWriter: Send + Sync {
    /// Stores the change only if its `lastUpdate` is newer than the stored one (an absent
    /// stored `lastUpdate` counts as oldest). A delete stores a tombstone that catalog reads
    /// no longer return but that still orders later changes. The offering is stored as the
    /// event carried it: `@type` and unknown fields round-trip as JSON.
    async fn apply_offering_change(
        &self,
        change: &OfferingChange,
    ) -> Result<ApplyOutcome, StoreError>;
}

/// Validates an offering event: a known event type, `event.productOffering` a valid
/// ProductOffering with a non-empty `id` and a `lastUpdate`.
///
/// # Errors
/// The poison reason, naming the field at fault.
pub fn parse_offering_event(message: &ParsedMessage) -> Result<OfferingChange, String> {
    let kind = change_kind(message, "ProductOfferingDeleteEvent", &OFFERING_EVENT_TYPES)
        .ok_or_else(|| {
            format!(
                "unsupported offering event type `{}` (expected one of {})",
                message.event_type,
                OFFERING_EVENT_TYPES.join(", ")
            )
        })?;
    let raw = entry_of(message, "productOffering")?;
    let offering = parse_offering(raw).map_err(|e| format!("event.productOffering{e}"))?;
    let last_update = offering
        .last_update
        .ok_or_else(|| String::from("event.productOffering.lastUpdate: missing"))?;
    Ok(OfferingChange {
        kind,
        offering,
        last_update,
    })
}

/// Parses one offering within the limits of a catalog entry; the error starts with the path
/// below the offering (`.lastUpdate: …`, or `: …` at its root), so callers prefix where the
/// offering sits.
///
/// # Errors
/// The path and reason of the first problem.
pub fn parse_offering(raw: &serde_json::Value) -> Result<ProductOffering, EntryInvalid> {
    check_entry(raw)?;
    let offering: ProductOffering =
        serde_path_to_error::deserialize(raw.clone()).map_err(|e| field_error("", &e))?;
    if offering.id.trim().is_empty() {
        return Err(String::from(".id: empty").into());
    }
    limits::check_offering_representable(&offering).map_err(EntryInvalid::Limit)?;
    Ok(offering)
}

/// The offering ids a quote's items (nested items included) reference, sorted, each once:
/// the keys of the open-quote index by offering.
pub fn offering_ids_of(quote: &Quote) -> Vec<String> {
    let mut ids: Vec<String> = q2c_model::limits::all_items(&quote.quote_item)
        .filter_map(|item| item.product_offering.as_ref())
        .filter(|offering| !offering.id.is_empty())
        .map(|offering| offering.id.clone())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}
