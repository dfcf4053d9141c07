//! What an offering allows: its TMF620 `prodSpecCharValueUse` entries, read from the
//! offering's unmodelled fields (the catalog stores them verbatim).
//!
//! Reading is lenient on purpose: the catalog is the operator's data and a new field there
//! must not break quoting. An entry without a `name` is ignored; numbers may be JSON numbers
//! or numeric strings.

use std::str::FromStr;

use rust_decimal::Decimal;
use serde_json::Value;
use time::OffsetDateTime;

use crate::tmf::{ProductOffering, TimePeriod};

/// The extension of a TMF620 `ProductOffering` that lists the characteristics it sells.
pub const PROD_SPEC_CHAR_VALUE_USE: &str = "prodSpecCharValueUse";

/// One characteristic an offering sells (`ProductSpecificationCharacteristicValueUse`).
#[derive(Debug, Clone, PartialEq)]
pub struct CharacteristicUse {
    /// The characteristic's name, as a quote item's `productCharacteristic[].name` spells it.
    pub name: String,
    /// `minCardinality`: 1 or more makes the characteristic mandatory.
    pub min_cardinality: u64,
    /// `maxCardinality`: the most values an item may request (`None`: unbounded).
    pub max_cardinality: Option<u64>,
    /// Whether `productSpecCharacteristicValue` lists any value: without a list, any value
    /// of the characteristic is accepted.
    pub restricts_values: bool,
    /// The allowed values that are valid at the time asked for.
    pub allowed: Vec<AllowedValue>,
}

/// One allowed value or range (`CharacteristicValueSpecification`).
#[derive(Debug, Clone, PartialEq)]
pub enum AllowedValue {
    /// Exactly this value (`value`).
    Exact(Value),
    /// A numeric range (`valueFrom` / `valueTo`, ends as `rangeInterval` says).
    Range {
        /// Lower end; `None` is open-ended.
        from: Option<Decimal>,
        /// Upper end; `None` is open-ended.
        to: Option<Decimal>,
        /// Whether `from` itself is allowed.
        from_inclusive: bool,
        /// Whether `to` itself is allowed.
        to_inclusive: bool,
    },
}

/// The characteristic uses of `offering` valid at `now`, or `None` when the offering defines
/// none (no `prodSpecCharValueUse`, or an empty one): then requested characteristics are not
/// validated at all.
pub fn characteristic_uses(
    offering: &ProductOffering,
    now: OffsetDateTime,
) -> Option<Vec<CharacteristicUse>> {
    let entries = offering
        .extensions
        .get(PROD_SPEC_CHAR_VALUE_USE)?
        .as_array()
        .filter(|entries| !entries.is_empty())?;
    Some(
        entries
            .iter()
            .filter(|entry| valid_at(entry, now))
            .filter_map(|entry| read_use(entry, now))
            .collect(),
    )
}

fn read_use(entry: &Value, now: OffsetDateTime) -> Option<CharacteristicUse> {
    let name = entry.get("name")?.as_str()?.to_owned();
    let values = entry
        .get("productSpecCharacteristicValue")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    Some(CharacteristicUse {
        name,
        min_cardinality: entry.get("minCardinality").and_then(whole).unwrap_or(0),
        max_cardinality: entry.get("maxCardinality").and_then(whole),
        restricts_values: !values.is_empty(),
        allowed: values
            .iter()
            .filter(|value| valid_at(value, now))
            .filter_map(read_value)
            .collect(),
    })
}

fn read_value(spec: &Value) -> Option<AllowedValue> {
    if let Some(value) = spec.get("value").filter(|v| !v.is_null()) {
        return Some(AllowedValue::Exact(value.clone()));
    }
    let from = spec.get("valueFrom").and_then(number);
    let to = spec.get("valueTo").and_then(number);
    if from.is_none() && to.is_none() {
        return None;
    }
    // TMF620: open, closed, closedBottom, closedTop; closed when absent.
    let interval = spec
        .get("rangeInterval")
        .and_then(Value::as_str)
        .unwrap_or("closed");
    let (from_inclusive, to_inclusive) = match interval {
        i if i.eq_ignore_ascii_case("open") => (false, false),
        i if i.eq_ignore_ascii_case("closedBottom") => (true, false),
        i if i.eq_ignore_ascii_case("closedTop") => (false, true),
        _ => (true, true),
    };
    Some(AllowedValue::Range {
        from,
        to,
        from_inclusive,
        to_inclusive,
    })
}

/// Whether the entry's `validFor` (if any, and readable) contains `now`.
fn valid_at(entry: &Value, now: OffsetDateTime) -> bool {
    entry
        .get("validFor")
        .and_then(|v| serde_json::from_value::<TimePeriod>(v.clone()).ok())
        .is_none_or(|period| period.contains(now))
}

/// A JSON number, or a string holding one, as a decimal.
pub(super) fn number(value: &Value) -> Option<Decimal> {
    let text = match value {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.trim().to_owned(),
        _ => return None,
    };
    Decimal::from_str(&text)
        .or_else(|_| Decimal::from_scientific(&text))
        .ok()
}

/// A non-negative whole number.
fn whole(value: &Value) -> Option<u64> {
    let n = number(value)?;
    if !n.fract().is_zero() || n.is_sign_negative() {
        return None;
    }
    u64::from_str(&n.trunc().normalize().to_string()).ok()
}
