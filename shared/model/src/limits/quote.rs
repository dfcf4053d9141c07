//! The limits of a quote: on what a client sends (shape: counts, lengths, nesting) and on what
//! is stored (the priced quote, the order it would become, its index entries).

use std::collections::BTreeSet;

use serde_json::Value;
use time::OffsetDateTime;

use super::json::{MeasureError, measure, value_depth};
use super::{
    ACCEPTANCE_RESERVE_BYTES, APPROVAL_RESERVE_BYTES, Limit, LimitError, MAX_ALTERATIONS_PER_PRICE,
    MAX_ARRAY_ITEMS, MAX_CATALOG_REFS, MAX_ID_LENGTH, MAX_ITEM_NESTING, MAX_JSON_DEPTH,
    MAX_ORDER_BYTES, MAX_PRICES_PER_ITEM, MAX_QUOTE_BYTES, MAX_QUOTE_ITEMS, MAX_SIGNIFICANT_DIGITS,
    MAX_STRING_LENGTH, MAX_TEXT_LENGTH,
};
use crate::ordering::order_from_quote;
use crate::tmf::{Quote, QuoteItem, QuoteState};

/// The limit on the strings under `key`.
pub(crate) fn string_limit(key: &str) -> Limit {
    match key {
        "id" => MAX_ID_LENGTH,
        "description" | "text" => MAX_TEXT_LENGTH,
        _ => MAX_STRING_LENGTH,
    }
}

/// The limit on the entries of an array under `key` (quote items are counted apart).
fn array_limit(key: &str) -> Limit {
    match key {
        "quoteItem" => MAX_QUOTE_ITEMS,
        "quoteItemPrice" => MAX_PRICES_PER_ITEM,
        "priceAlteration" => MAX_ALTERATIONS_PER_PRICE,
        _ => MAX_ARRAY_ITEMS,
    }
}

fn child_path(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

fn shown(path: &str) -> String {
    if path.is_empty() {
        "$".to_owned()
    } else {
        path.to_owned()
    }
}

struct QuoteWalk {
    items: usize,
}

impl QuoteWalk {
    fn value(
        &mut self,
        value: &Value,
        path: &str,
        key: &str,
        nesting: usize,
    ) -> Result<(), LimitError> {
        match value {
            Value::String(text) => {
                let limit = string_limit(key);
                // Cheap bound first: a string of at most `max` bytes has at most `max` chars.
                if text.len() > limit.max() {
                    limit.check(text.chars().count(), || shown(path))?;
                }
                Ok(())
            }
            Value::Array(entries) => {
                array_limit(key).check(entries.len(), || shown(path))?;
                let nesting = if key == "quoteItem" {
                    MAX_ITEM_NESTING.check(nesting + 1, || shown(path))?;
                    self.items += entries.len();
                    MAX_QUOTE_ITEMS.check(self.items, || shown(path))?;
                    nesting + 1
                } else {
                    nesting
                };
                for (index, entry) in entries.iter().enumerate() {
                    self.value(entry, &format!("{path}[{index}]"), key, nesting)?;
                }
                Ok(())
            }
            Value::Object(members) => {
                for (name, member) in members {
                    MAX_STRING_LENGTH.check(name.chars().count(), || shown(path))?;
                    self.value(member, &child_path(path, name), name, nesting)?;
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

/// Checks a quote as a client sends it (a create body, a merge patch, the result of a JSON
/// Patch; v4 or v5 wire form): depth, quote items (per array and in total, nested included),
/// item nesting, the entries of every other array, and the length of every string and member
/// name. Limits that depend on the catalog (index entries, price lines) and on the stored form
/// (bytes) are checked by [`check_stored_quote`] once the quote is priced.
///
/// # Errors
/// The first [`LimitError`], with its JSON path.
pub fn check_quote_json(quote: &Value) -> Result<(), LimitError> {
    let depth = value_depth(quote);
    MAX_JSON_DEPTH.check(depth, || "$".to_owned())?;
    QuoteWalk { items: 0 }.value(quote, "", "", 0)
}

/// Every quote item of `items`, nested items included, depth first (an item before its
/// children).
pub fn all_items(items: &[QuoteItem]) -> impl Iterator<Item = &QuoteItem> {
    let mut stack: Vec<&QuoteItem> = items.iter().rev().collect();
    std::iter::from_fn(move || {
        let item = stack.pop()?;
        stack.extend(item.quote_item.iter().rev());
        Some(item)
    })
}

/// Quote items, nested items included.
pub fn count_items(items: &[QuoteItem]) -> usize {
    all_items(items).count()
}

/// The open-quote index entries of a quote: its distinct catalog prices plus the distinct
/// offerings of its items (nested items included).
pub fn distinct_catalog_refs(quote: &Quote, price_ids: &[String]) -> usize {
    let offerings: BTreeSet<&str> = all_items(&quote.quote_item)
        .filter_map(|item| item.product_offering.as_ref())
        .map(|offering| offering.id.as_str())
        .filter(|id| !id.is_empty())
        .collect();
    let prices: BTreeSet<&str> = price_ids.iter().map(String::as_str).collect();
    offerings.len() + prices.len()
}

/// What a stored quote costs, as [`check_stored_quote`] measured it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Footprint {
    /// The quote's JSON plus the copies stored beside it (price ids, party ids, external id).
    pub quote_bytes: usize,
    /// The JSON of the product order the quote would become (`None` for a final quote: it is
    /// either ordered already or never will be).
    pub order_bytes: Option<usize>,
    /// Nesting depth of the quote's JSON.
    pub depth: usize,
    /// Open-quote index entries ([`distinct_catalog_refs`]).
    pub catalog_refs: usize,
}

/// The bytes a store keeps beside a quote's JSON, counted in [`MAX_QUOTE_BYTES`]: its price
/// ids, the ids of its related parties and its external id.
pub fn bytes_beside(quote: &Quote, price_ids: &[String]) -> usize {
    price_ids.iter().map(String::len).sum::<usize>()
        + quote
            .related_party
            .iter()
            .map(|p| p.id.len())
            .sum::<usize>()
        + quote.external_id.as_ref().map_or(0, String::len)
}

/// The id projected orders are measured with (a uuid, as the real one).
const PROJECTED_ORDER_ID: &str = "00000000-0000-7000-8000-000000000000";

/// Checks that a priced quote fits the storage budget, before anything is written: at most
/// [`MAX_CATALOG_REFS`] index entries, at most [`MAX_QUOTE_BYTES`] stored and, for a quote that
/// can still be accepted, an order of at most [`MAX_ORDER_BYTES`]. A quote that can still be
/// approved leaves [`APPROVAL_RESERVE_BYTES`] of both free, an approved one
/// [`ACCEPTANCE_RESERVE_BYTES`], so that approving and accepting always fit (the bytes
/// reported then include the reserve). Serialisation stops at the first byte past a
/// limit, so a hostile quote costs no more than the limit to measure.
///
/// # Errors
/// The first [`LimitError`] (a `Stored` limit, or [`MAX_JSON_DEPTH`]).
pub fn check_stored_quote(quote: &Quote, price_ids: &[String]) -> Result<Footprint, LimitError> {
    let catalog_refs = distinct_catalog_refs(quote, price_ids);
    MAX_CATALOG_REFS.check(catalog_refs, || "quoteItem".to_owned())?;
    let state = quote.state.unwrap_or(QuoteState::InProgress);
    let open = !state.is_final();
    let reserve = match state {
        QuoteState::Approved => ACCEPTANCE_RESERVE_BYTES,
        s if s.is_final() => 0,
        _ => APPROVAL_RESERVE_BYTES,
    };
    let beside = bytes_beside(quote, price_ids);
    let quote_measured = measure_within(quote, MAX_QUOTE_BYTES, beside + reserve)?;
    let order_bytes = if open {
        let when = quote.quote_date.unwrap_or(OffsetDateTime::UNIX_EPOCH);
        let order = order_from_quote(quote, PROJECTED_ORDER_ID, when);
        Some(measure_within(&order, MAX_ORDER_BYTES, reserve)?.bytes)
    } else {
        None
    };
    Ok(Footprint {
        quote_bytes: quote_measured.bytes + beside,
        order_bytes,
        depth: quote_measured.depth,
        catalog_refs,
    })
}

/// Measures `value` against `limit` less `extra` bytes counted elsewhere; an error reports the
/// whole (`received` = JSON bytes + `extra`).
fn measure_within<T: serde::Serialize>(
    value: &T,
    limit: Limit,
    extra: usize,
) -> Result<super::Measured, LimitError> {
    let Some(room) = limit.max().checked_sub(extra) else {
        return Err(LimitError::new(limit, extra, "$"));
    };
    let narrowed = Limit {
        value: u64::try_from(room).unwrap_or(u64::MAX),
        ..limit
    };
    match measure(value, narrowed, MAX_JSON_DEPTH) {
        Ok(measured) => Ok(measured),
        Err(MeasureError::Limit(e)) if e.limit.name == limit.name => {
            Err(LimitError::new(limit, e.received as usize + extra, "$"))
        }
        Err(MeasureError::Limit(e)) => Err(e),
        // Pricing checks every amount it computes, so this is an amount a client or an old
        // catalog copy brought in: it cannot be stored either.
        Err(MeasureError::Json(_)) => Err(LimitError::new(
            MAX_SIGNIFICANT_DIGITS,
            MAX_SIGNIFICANT_DIGITS.max() + 1,
            "$",
        )),
    }
}
