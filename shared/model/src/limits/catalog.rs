//! The limits of a catalog entry (an offering or a price) as the TMF620 listener, the price
//! fan-out and `q2c catalog import` receive it. One check for the three, so that each accepts
//! exactly what the store can hold and the pricing engine can use.

use rust_decimal::Decimal;
use serde_json::Value;

use super::json::{MeasureError, measure};
use super::quote::string_limit;
use super::{
    LimitError, MAX_CATALOG_ENTRY_BYTES, MAX_CATALOG_EVENT_BYTES, MAX_JSON_DEPTH,
    MAX_LINES_PER_ITEM, MAX_SIGNIFICANT_DIGITS, MAX_STRING_LENGTH,
};
use crate::money::decimal_number::unrepresentable_digits;
use crate::tmf::{ProductOffering, ProductOfferingPrice, ProductOfferingTerm};

/// Arrays of an entry that multiply pricing work: an offering's prices and its bundled
/// offerings, each at most [`MAX_LINES_PER_ITEM`] (each becomes at most one line or one
/// component of an item). Others (allowed characteristic values, categories, channels) are
/// only bounded by the entry's bytes.
const COUNTED_ARRAYS: [&str; 2] = ["productOfferingPrice", "bundledProductOffering"];

fn walk(value: &Value, path: &str, key: &str) -> Result<(), LimitError> {
    match value {
        Value::String(text) => {
            let limit = string_limit(key);
            if text.len() > limit.max() {
                limit.check(text.chars().count(), || path.to_owned())?;
            }
        }
        Value::Array(entries) => {
            if COUNTED_ARRAYS.contains(&key) {
                MAX_LINES_PER_ITEM.check(entries.len(), || path.to_owned())?;
            }
            for (index, entry) in entries.iter().enumerate() {
                walk(entry, &format!("{path}[{index}]"), key)?;
            }
        }
        Value::Object(members) => {
            for (name, member) in members {
                MAX_STRING_LENGTH.check(name.chars().count(), || path.to_owned())?;
                walk(member, &format!("{path}.{name}"), name)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// Checks one catalog entry as received (before it is typed): at most
/// [`MAX_CATALOG_ENTRY_BYTES`] as JSON and [`MAX_JSON_DEPTH`] deep, ids, texts and other
/// strings within their lengths, at most [`MAX_LINES_PER_ITEM`] prices and bundled offerings.
/// Paths are relative to the entry (`$`, `.name`, `.productOfferingPrice[3].id`).
///
/// # Errors
/// The first [`LimitError`].
pub fn check_catalog_entry(raw: &Value) -> Result<(), LimitError> {
    match measure(raw, MAX_CATALOG_ENTRY_BYTES, MAX_JSON_DEPTH) {
        Ok(_) => {}
        Err(MeasureError::Limit(e)) if e.limit == MAX_CATALOG_ENTRY_BYTES => {
            return Err(LimitError {
                path: "$".into(),
                ..e
            });
        }
        Err(MeasureError::Limit(e)) => {
            return Err(LimitError {
                path: relative(&e.path),
                ..e
            });
        }
        // A parsed JSON value can always be written back.
        Err(MeasureError::Json(_)) => {}
    }
    walk(raw, "", "")
}

/// `quoteItem[0]` → `.quoteItem[0]`; `$` stays.
fn relative(path: &str) -> String {
    if path == "$" || path.starts_with(['.', '[']) {
        path.to_owned()
    } else {
        format!(".{path}")
    }
}

/// Checks the size of a whole listener event (entry and envelope).
///
/// # Errors
/// [`MAX_CATALOG_EVENT_BYTES`] exceeded.
pub fn check_catalog_event_bytes(bytes: usize) -> Result<(), LimitError> {
    MAX_CATALOG_EVENT_BYTES.check(bytes, || "$".to_owned())
}

fn number(value: Option<&Decimal>, path: &str) -> Result<(), LimitError> {
    match value.and_then(unrepresentable_digits) {
        Some(digits) => Err(LimitError::new(
            MAX_SIGNIFICANT_DIGITS,
            digits as usize,
            path,
        )),
        None => Ok(()),
    }
}

fn terms(terms: &[ProductOfferingTerm]) -> Result<(), LimitError> {
    for (i, term) in terms.iter().enumerate() {
        number(
            term.duration.as_ref().map(|d| &d.amount),
            &format!(".productOfferingTerm[{i}].duration.amount"),
        )?;
    }
    Ok(())
}

/// Checks that every number of a price can be stored and sent exactly (at most
/// [`MAX_SIGNIFICANT_DIGITS`]): `price.value`, `percentage`, `unitOfMeasure.amount`, term
/// durations. A catalog price of `1.2345678901234567` is refused here, not by a store write
/// that fails for ever.
///
/// # Errors
/// [`LimitError`] with the path below the price (`.price.value`).
pub fn check_representable(price: &ProductOfferingPrice) -> Result<(), LimitError> {
    number(price.price.as_ref().map(|m| &m.amount), ".price.value")?;
    number(price.percentage.as_ref(), ".percentage")?;
    number(
        price.unit_of_measure.as_ref().map(|q| &q.amount),
        ".unitOfMeasure.amount",
    )?;
    terms(&price.product_offering_term)
}

/// [`check_representable`] for an offering (its term durations).
///
/// # Errors
/// [`LimitError`] with the path below the offering.
pub fn check_offering_representable(offering: &ProductOffering) -> Result<(), LimitError> {
    terms(&offering.product_offering_term)
}
