//! The checks every catalog entry (a price or an offering) passes before it is typed, and
//! the error naming where it failed: shared by the price and the offering parsers.

use q2c_model::limits::{self, LimitError};
use serde_json::Value;

use super::PriceChangeKind;
use crate::messaging::ParsedMessage;

/// Why a catalog entry (an offering or a price) is refused: by a stated limit, or as invalid.
/// Displayed as `<path below the entry>: <why>` (`.price.value: …`, or `: …` at its root), so
/// that callers prefix where the entry sits. The TMF620 listener, the price fan-out and
/// `q2c catalog import` validate with the same functions ([`parse_price`](super::parse_price),
/// [`parse_offering`](super::parse_offering)), so all three accept exactly what the store
/// can hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EntryInvalid {
    /// A limit of `q2c_model::limits` (entry bytes, depth, string lengths, counted arrays,
    /// significant digits); its path is relative to the entry (`$` at its root).
    #[error("{}: {}", relative_path(&.0.path), .0.detail())]
    Limit(LimitError),
    /// Malformed: `<path>: <why>`.
    #[error("{0}")]
    Invalid(String),
}

/// `$` → ``, `x[0]` → `.x[0]`, `.x` and `[0]` as they are.
fn relative_path(path: &str) -> String {
    match path {
        "$" => String::new(),
        p if p.starts_with(['.', '[']) => p.to_owned(),
        p => format!(".{p}"),
    }
}

impl From<String> for EntryInvalid {
    fn from(reason: String) -> Self {
        EntryInvalid::Invalid(reason)
    }
}

impl From<EntryInvalid> for String {
    fn from(e: EntryInvalid) -> Self {
        e.to_string()
    }
}

/// The limits every catalog entry meets before it is typed (size, depth, strings, counted
/// arrays): [`limits::check_catalog_entry`].
///
/// # Errors
/// [`EntryInvalid::Limit`].
pub fn check_entry(raw: &Value) -> Result<(), EntryInvalid> {
    limits::check_catalog_entry(raw).map_err(EntryInvalid::Limit)
}

/// `<base>.<path>: <error>`, or `<base>: <error>` when the error is at the root.
pub(crate) fn field_error(base: &str, e: &serde_path_to_error::Error<serde_json::Error>) -> String {
    let path = e.path().to_string();
    if path == "." {
        format!("{base}: {}", e.inner())
    } else {
        format!("{base}.{path}: {}", e.inner())
    }
}

/// What a catalog event of `message`'s type does: `delete` deletes, one of `types` upserts;
/// `None` for any other type.
pub(crate) fn change_kind(
    message: &ParsedMessage,
    delete: &str,
    types: &[&str],
) -> Option<PriceChangeKind> {
    match message.event_type.as_str() {
        t if t == delete => Some(PriceChangeKind::Delete),
        t if types.contains(&t) => Some(PriceChangeKind::Upsert),
        _ => None,
    }
}

/// The catalog entry an event carries as `event.<field>`.
///
/// # Errors
/// When it is missing or not an object.
pub(crate) fn entry_of<'a>(message: &'a ParsedMessage, field: &str) -> Result<&'a Value, String> {
    message
        .event
        .get(field)
        .filter(|v| v.is_object())
        .ok_or_else(|| format!("event.{field}: missing or not an object"))
}
