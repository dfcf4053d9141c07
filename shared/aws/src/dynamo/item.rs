//! Reading and writing attributes of one item, with errors that name the item and the
//! attribute.

use std::collections::HashMap;
use std::str::FromStr;

use aws_sdk_dynamodb::types::AttributeValue;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::keys::{BODY, PK, SK};
use crate::error::DynamoError;

/// One DynamoDB item.
pub(crate) type Item = HashMap<String, AttributeValue>;

/// A string attribute value.
pub(crate) fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

/// A number attribute value.
pub(crate) fn n(value: impl std::fmt::Display) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// The primary key of an item.
pub(crate) fn key(pk: impl Into<String>, sk: impl Into<String>) -> Item {
    HashMap::from([(PK.to_owned(), s(pk)), (SK.to_owned(), s(sk))])
}

/// The partition key of an item, for error messages.
pub(crate) fn pk_of(item: &Item) -> String {
    item.get(PK)
        .and_then(|v| v.as_s().ok())
        .cloned()
        .unwrap_or_default()
}

/// A string attribute.
pub(crate) fn get_s<'a>(item: &'a Item, attribute: &'static str) -> Result<&'a str, DynamoError> {
    item.get(attribute)
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
        .ok_or_else(|| DynamoError::Attribute {
            key: pk_of(item),
            attribute,
        })
}

/// An optional string attribute.
pub(crate) fn opt_s(item: &Item, attribute: &str) -> Option<String> {
    item.get(attribute).and_then(|v| v.as_s().ok()).cloned()
}

/// A number attribute.
pub(crate) fn get_n<T: FromStr>(item: &Item, attribute: &'static str) -> Result<T, DynamoError> {
    item.get(attribute)
        .and_then(|v| v.as_n().ok())
        .and_then(|raw| raw.parse().ok())
        .ok_or_else(|| DynamoError::Attribute {
            key: pk_of(item),
            attribute,
        })
}

/// A boolean attribute (absent means `false`).
pub(crate) fn get_bool(item: &Item, attribute: &str) -> bool {
    item.get(attribute)
        .and_then(|v| v.as_bool().ok())
        .copied()
        .unwrap_or(false)
}

/// A list-of-strings attribute (absent means empty).
pub(crate) fn get_string_list(item: &Item, attribute: &str) -> Vec<String> {
    item.get(attribute)
        .and_then(|v| v.as_l().ok())
        .map(|values| {
            values
                .iter()
                .filter_map(|v| v.as_s().ok().cloned())
                .collect()
        })
        .unwrap_or_default()
}

/// A list-of-strings attribute value.
pub(crate) fn string_list(values: &[String]) -> AttributeValue {
    AttributeValue::L(values.iter().cloned().map(AttributeValue::S).collect())
}

/// Decodes the `body` attribute.
pub(crate) fn body<T: DeserializeOwned>(item: &Item) -> Result<T, DynamoError> {
    let text = get_s(item, BODY)?;
    serde_json::from_str(text).map_err(|source| DynamoError::Body {
        key: pk_of(item),
        source,
    })
}

/// Encodes a `body` attribute value for the item with partition key `pk`.
pub(crate) fn to_body<T: Serialize>(value: &T, pk: &str) -> Result<AttributeValue, DynamoError> {
    serde_json::to_string(value)
        .map(AttributeValue::S)
        .map_err(|source| DynamoError::Body {
            key: pk.to_owned(),
            source,
        })
}

/// The text of a `body` attribute value made by [`to_body`].
pub(crate) fn body_text(value: &AttributeValue) -> &str {
    value.as_s().map(String::as_str).unwrap_or_default()
}

/// The start of an item from its key.
pub(crate) fn item_with_key(pk: &str, sk: &str) -> Item {
    let mut item = key(pk, sk);
    item.reserve(8);
    item
}
