//! Item sizes by AWS's rules ("DynamoDB item sizes and formats", Developer Guide).
//!
//! Values arrive in DynamoDB's wire JSON (`{"S": "…"}`, `{"N": "12.5"}`, `{"M": {…}}` …), so
//! this works on exactly what the SDK sent, whatever the adapter's types.

use base64::Engine;
use serde_json::{Map, Value};

/// A DynamoDB item in wire JSON: attribute name → typed value.
pub type Item = Map<String, Value>;

/// Bytes of an item: the sum over its attributes of name length plus value size.
pub fn item_size(item: &Item) -> u64 {
    item.iter()
        .map(|(name, value)| attribute_size(name, value))
        .sum()
}

/// Bytes of one top-level attribute: its name plus its value.
pub fn attribute_size(name: &str, value: &Value) -> u64 {
    name.len() as u64 + value_size(value)
}

/// Bytes of a typed value without its name.
///
/// Strings count their UTF-8 bytes; numbers 1 byte per two significant digits plus 1; binary
/// its raw (decoded) bytes; null and booleans 1; lists and maps 3 bytes plus 1 per element plus
/// the elements (a map's element also counts its key); sets the sum of their members.
pub fn value_size(value: &Value) -> u64 {
    let Some((kind, inner)) = value.as_object().and_then(|o| o.iter().next()) else {
        return 0;
    };
    match (kind.as_str(), inner) {
        ("S", Value::String(s)) => s.len() as u64,
        ("N", Value::String(n)) => number_size(n),
        ("B", Value::String(b)) => binary_size(b),
        ("BOOL", _) | ("NULL", _) => 1,
        ("SS", Value::Array(members)) => members
            .iter()
            .filter_map(Value::as_str)
            .map(|s| s.len() as u64)
            .sum(),
        ("NS", Value::Array(members)) => members
            .iter()
            .filter_map(Value::as_str)
            .map(number_size)
            .sum(),
        ("BS", Value::Array(members)) => members
            .iter()
            .filter_map(Value::as_str)
            .map(binary_size)
            .sum(),
        ("L", Value::Array(elements)) => {
            3 + elements.iter().map(|e| 1 + value_size(e)).sum::<u64>()
        }
        ("M", Value::Object(entries)) => {
            3 + entries
                .iter()
                .map(|(k, v)| 1 + k.len() as u64 + value_size(v))
                .sum::<u64>()
        }
        _ => 0,
    }
}

/// A number's size: 1 byte per two significant digits (leading and trailing zeros trimmed), plus 1.
pub fn number_size(number: &str) -> u64 {
    let digits: String = number
        .trim_start_matches(['-', '+'])
        .split(['e', 'E'])
        .next()
        .unwrap_or_default()
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    let significant = digits.trim_start_matches('0').trim_end_matches('0').len() as u64;
    significant.div_ceil(2) + 1
}

fn binary_size(base64: &str) -> u64 {
    base64::engine::general_purpose::STANDARD
        .decode(base64)
        .map(|raw| raw.len() as u64)
        .unwrap_or(base64.len() as u64 * 3 / 4)
}

/// The string value of an attribute, if it is a string.
pub fn string_attr<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    item.get(name)?.get("S")?.as_str()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn item(value: Value) -> Item {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn a_string_counts_name_and_utf8_bytes() {
        // "name" (4) + "Zoë" (4 bytes in UTF-8)
        assert_eq!(item_size(&item(json!({"name": {"S": "Zoë"}}))), 8);
    }

    #[test]
    fn numbers_count_significant_digits_in_pairs_plus_one() {
        assert_eq!(number_size("0"), 1);
        assert_eq!(number_size("7"), 2);
        assert_eq!(number_size("12"), 2);
        assert_eq!(number_size("123"), 3);
        assert_eq!(number_size("-1200"), 2, "trailing zeros are trimmed");
        assert_eq!(number_size("0.00125"), 3, "leading zeros are trimmed");
        assert_eq!(number_size("1700000000123456789"), 11);
    }

    #[test]
    fn lists_and_maps_add_three_bytes_and_one_per_element() {
        // "l" (1) + 3 + 2 × (1 + 1 ("a")) = 8
        assert_eq!(
            item_size(&item(json!({"l": {"L": [{"S": "a"}, {"S": "b"}]}}))),
            8
        );
        // "m" (1) + 3 + (1 + "k" 1 + true 1) = 7
        assert_eq!(
            item_size(&item(json!({"m": {"M": {"k": {"BOOL": true}}}}))),
            7
        );
        // empty map: name + 3
        assert_eq!(item_size(&item(json!({"m": {"M": {}}}))), 4);
    }

    #[test]
    fn binary_counts_raw_bytes_not_base64() {
        // "AAECAw==" is 4 raw bytes
        assert_eq!(item_size(&item(json!({"b": {"B": "AAECAw=="}}))), 5);
    }

    #[test]
    fn null_and_boolean_are_one_byte() {
        assert_eq!(
            item_size(&item(json!({"n": {"NULL": true}, "t": {"BOOL": false}}))),
            4
        );
    }
}
