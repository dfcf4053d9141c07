//! Characteristic validation: the characteristics a quote item requests on its product
//! (`product.productCharacteristic`) checked against what its offering allows (TMF620
//! `prodSpecCharValueUse`). Pure: the caller passes the catalog view and `now`.
//!
//! Rules (docs/pricing.md, "Characteristics"): an offering that defines no characteristic
//! uses lets every requested characteristic through untouched; one that defines them refuses
//! an unknown name, a value outside the allowed values or ranges, fewer values than
//! `minCardinality` and more than `maxCardinality`. Requested characteristics are never
//! changed: what passes is stored and ordered exactly as sent.

mod spec;

pub use spec::{AllowedValue, CharacteristicUse, PROD_SPEC_CHAR_VALUE_USE, characteristic_uses};

use serde_json::Value;
use time::OffsetDateTime;

use crate::pricing::CatalogView;
use crate::tmf::{Characteristic, ProductOffering, QuoteItem};

/// A requested characteristic the offering does not allow, naming the JSON path at fault
/// (e.g. `quoteItem[0].product.productCharacteristic[1].value`).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{path}: {kind}")]
pub struct CharacteristicError {
    /// JSON path of the field at fault, from the quote's root.
    pub path: String,
    /// What is wrong.
    pub kind: CharacteristicErrorKind,
}

impl CharacteristicError {
    /// Stable machine code of the kind (see [`CharacteristicErrorKind::code`]).
    pub fn code(&self) -> &'static str {
        self.kind.code()
    }
}

/// The ways a requested characteristic can break the offering's rules.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CharacteristicErrorKind {
    /// The offering defines characteristics, and not this one.
    #[error("product offering {offering} has no characteristic `{name}`")]
    Unknown {
        /// The offering id.
        offering: String,
        /// The requested name.
        name: String,
    },
    /// The value is none of the allowed values or ranges.
    #[error(
        "value {value} is not allowed for characteristic `{name}` of product offering {offering}"
    )]
    ValueNotAllowed {
        /// The offering id.
        offering: String,
        /// The characteristic.
        name: String,
        /// The value refused.
        value: Value,
    },
    /// A mandatory characteristic (`minCardinality` ≥ 1) has too few values.
    #[error(
        "characteristic `{name}` of product offering {offering} needs at least {min} value(s), got {count}"
    )]
    Missing {
        /// The offering id.
        offering: String,
        /// The characteristic.
        name: String,
        /// Its `minCardinality`.
        min: u64,
        /// Values requested.
        count: u64,
    },
    /// More values than `maxCardinality`.
    #[error(
        "characteristic `{name}` of product offering {offering} takes at most {max} value(s), got {count}"
    )]
    TooMany {
        /// The offering id.
        offering: String,
        /// The characteristic.
        name: String,
        /// Its `maxCardinality`.
        max: u64,
        /// Values requested.
        count: u64,
    },
}

impl CharacteristicErrorKind {
    /// Stable machine code, used as the TMF630 error `code` (HTTP 400).
    pub fn code(&self) -> &'static str {
        match self {
            CharacteristicErrorKind::Unknown { .. } => "UNKNOWN_CHARACTERISTIC",
            CharacteristicErrorKind::ValueNotAllowed { .. } => "CHARACTERISTIC_VALUE_NOT_ALLOWED",
            CharacteristicErrorKind::Missing { .. } => "MISSING_CHARACTERISTIC",
            CharacteristicErrorKind::TooMany { .. } => "TOO_MANY_CHARACTERISTIC_VALUES",
        }
    }
}

/// Checks every item's requested characteristics (child items included, each against its
/// own offering) at `now`. Items whose offering is missing or unknown are skipped: pricing
/// reports those.
///
/// # Errors
/// The first [`CharacteristicError`] in item order.
pub fn validate_characteristics(
    items: &[QuoteItem],
    catalog: &dyn CatalogView,
    now: OffsetDateTime,
) -> Result<(), CharacteristicError> {
    validate_items(items, "quoteItem", catalog, now)
}

fn validate_items(
    items: &[QuoteItem],
    prefix: &str,
    catalog: &dyn CatalogView,
    now: OffsetDateTime,
) -> Result<(), CharacteristicError> {
    for (index, item) in items.iter().enumerate() {
        let offering = item
            .product_offering
            .as_ref()
            .and_then(|reference| catalog.offering(&reference.id));
        let uses = offering.and_then(|o| characteristic_uses(o, now).map(|uses| (o, uses)));
        if uses.is_none() && item.quote_item.is_empty() {
            continue;
        }
        let path = format!("{prefix}[{index}]");
        if let Some((offering, uses)) = uses {
            validate_item(item, &path, offering, &uses)?;
        }
        validate_items(&item.quote_item, &format!("{path}.quoteItem"), catalog, now)?;
    }
    Ok(())
}

fn validate_item(
    item: &QuoteItem,
    path: &str,
    offering: &ProductOffering,
    uses: &[CharacteristicUse],
) -> Result<(), CharacteristicError> {
    let requested: &[Characteristic] = item
        .product
        .as_ref()
        .map(|p| p.product_characteristic.as_slice())
        .unwrap_or_default();
    let base = format!("{path}.product.productCharacteristic");
    let error = |at: String, kind| Err(CharacteristicError { path: at, kind });
    for (index, characteristic) in requested.iter().enumerate() {
        let Some(spec) = uses.iter().find(|u| u.name == characteristic.name) else {
            return error(
                format!("{base}[{index}].name"),
                CharacteristicErrorKind::Unknown {
                    offering: offering.id.clone(),
                    name: characteristic.name.clone(),
                },
            );
        };
        if spec.restricts_values
            && let Some(value) = &characteristic.value
            && let Some(refused) = refused_value(value, &spec.allowed)
        {
            return error(
                format!("{base}[{index}].value"),
                CharacteristicErrorKind::ValueNotAllowed {
                    offering: offering.id.clone(),
                    name: spec.name.clone(),
                    value: refused.clone(),
                },
            );
        }
    }
    for spec in uses {
        let count: u64 = requested
            .iter()
            .filter(|c| c.name == spec.name)
            .map(|c| c.value.as_ref().map_or(0, value_count))
            .sum();
        if count < spec.min_cardinality && adds_a_product(item) {
            return error(
                base,
                CharacteristicErrorKind::Missing {
                    offering: offering.id.clone(),
                    name: spec.name.clone(),
                    min: spec.min_cardinality,
                    count,
                },
            );
        }
        if let Some(max) = spec.max_cardinality.filter(|max| count > *max) {
            return error(
                base,
                CharacteristicErrorKind::TooMany {
                    offering: offering.id.clone(),
                    name: spec.name.clone(),
                    max,
                    count,
                },
            );
        }
    }
    Ok(())
}

/// Whether the item creates a product (action `add`, or none): only then must it configure
/// every mandatory characteristic. A `modify` sends what changes; `delete` and `noChange`
/// configure nothing.
fn adds_a_product(item: &QuoteItem) -> bool {
    item.action
        .as_deref()
        .is_none_or(|action| action.eq_ignore_ascii_case("add"))
}

/// How many values a requested characteristic carries: an array carries its elements (one
/// sent without a value carries none).
fn value_count(value: &Value) -> u64 {
    match value {
        Value::Array(values) => values.len() as u64,
        _ => 1,
    }
}

/// The first value that no allowed value admits, if any. An array is allowed whole (when an
/// allowed value is that array) or element by element.
fn refused_value<'v>(value: &'v Value, allowed: &[AllowedValue]) -> Option<&'v Value> {
    if allowed.iter().any(|a| a.admits(value)) {
        return None;
    }
    match value {
        Value::Array(values) => values.iter().find(|v| !allowed.iter().any(|a| a.admits(v))),
        other => Some(other),
    }
}

impl AllowedValue {
    /// Whether `value` is this allowed value, or lies in this range. Numbers compare by value
    /// (`10`, `10.0` and `"10"` are the same); other values compare as JSON.
    pub fn admits(&self, value: &Value) -> bool {
        match self {
            AllowedValue::Exact(allowed) => same_value(value, allowed),
            AllowedValue::Range {
                from,
                to,
                from_inclusive,
                to_inclusive,
            } => {
                let Some(n) = spec::number(value) else {
                    return false;
                };
                let above = from.is_none_or(|f| if *from_inclusive { n >= f } else { n > f });
                let below = to.is_none_or(|t| if *to_inclusive { n <= t } else { n < t });
                above && below
            }
        }
    }
}

fn same_value(value: &Value, allowed: &Value) -> bool {
    match (value, allowed) {
        (Value::Number(_), Value::Number(_) | Value::String(_))
        | (Value::String(_), Value::Number(_)) => {
            matches!((spec::number(value), spec::number(allowed)), (Some(a), Some(b)) if a == b)
        }
        _ => value == allowed,
    }
}

#[cfg(test)]
mod tests;
