//! The resource model: every limit on what a client, a catalog or a queue can feed q2c, stated
//! once, with the backend bound each one derives from. `docs/limits.md` is the same table for
//! people; the API, the listeners, `q2c catalog import`, the stores and the consumers all check
//! these constants and nothing else.
//!
//! # The budget
//! One rule drives the numbers: **every quote the API accepts fits every backend with the
//! events it causes**, on SQLite and on DynamoDB + SQS alike.
//!
//! - *DynamoDB item, 400 KB.* A quote, its product order and each event that carries one of
//!   them is one item. The priced quote (with the copies the stores keep beside it: price ids,
//!   party ids, external id) stays within [`MAX_QUOTE_BYTES`]; the order it would become within
//!   [`MAX_ORDER_BYTES`]; an event is its payload plus an envelope of at most
//!   [`MAX_ENVELOPE_BYTES`]. A quote that can still be approved keeps
//!   [`APPROVAL_RESERVE_BYTES`] free for what approving and accepting add, an approved one
//!   [`ACCEPTANCE_RESERVE_BYTES`] for what accepting adds.
//! - *DynamoDB transaction, 100 items.* The largest quote write is a re-pricing that also
//!   changes the state: the quote, two events, the deletes of every old open-quote index entry
//!   and the puts of every new one. With at most [`MAX_CATALOG_REFS`] entries before and after,
//!   that is `3 + 2 × 40 = 83`, leaving [`TRANSACTION_HEADROOM`] items for counters later work
//!   adds (a sharded open-quote counter needs 1-2). Rows per *item* (inventory) can never join
//!   this transaction: they scale with [`MAX_QUOTE_ITEMS`], not within 100.
//! - *serde_json's recursion limit, 128.* Stored documents are at most [`MAX_JSON_DEPTH`] deep;
//!   the outbox envelope adds 2 levels and the v5 rendering none, so every event parses with a
//!   wide margin.
//! - *SQS message, 1 MiB.* The largest event is `MAX_ORDER_BYTES + MAX_ENVELOPE_BYTES`, well
//!   below it.
//! - *Lambda response, 6 MB.* A listing page holds at most [`MAX_PAGE_BYTES`] of stored
//!   resources (fewer items than `limit` when they are large; the paging headers say how many).

mod catalog;
mod json;
mod quote;

pub use catalog::{
    check_catalog_entry, check_catalog_event_bytes, check_offering_representable,
    check_representable,
};
pub use json::{
    JsonScanner, MeasureError, Measured, TopLevel, check_json_entry, check_json_text, measure,
    split_top_level, value_depth,
};
pub use quote::{
    Footprint, all_items, bytes_beside, check_quote_json, check_stored_quote, count_items,
    distinct_catalog_refs,
};

use std::fmt;

/// How a request beyond a limit is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LimitClass {
    /// The request body (or a catalog entry, or an event) is too many bytes: HTTP 413.
    Payload,
    /// The request breaks a documented bound of its own shape (depth, counts, lengths): HTTP
    /// 400, like any other schema violation.
    Request,
    /// The request is well formed, but what it would store (the priced quote, its order, its
    /// index entries, a patch's result) exceeds the storage budget: HTTP 422.
    Stored,
}

/// One stated limit: its name (as in `docs/limits.md` and the error bodies), its value and
/// unit, and how a violation is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Limit {
    /// Stable camelCase name, e.g. `maxQuoteItems`.
    pub name: &'static str,
    /// The largest value accepted.
    pub value: u64,
    /// What is counted (`bytes`, `items`, `characters`, `levels`, ...).
    pub unit: &'static str,
    /// How a violation is answered.
    pub class: LimitClass,
}

impl Limit {
    const fn new(name: &'static str, value: u64, unit: &'static str, class: LimitClass) -> Self {
        Limit {
            name,
            value,
            unit,
            class,
        }
    }

    /// The value as a `usize` (every limit is far below `usize::MAX`).
    pub const fn max(&self) -> usize {
        self.value as usize
    }

    /// `Err` naming this limit, `actual` and `path` when `actual` exceeds the value.
    ///
    /// # Errors
    /// [`LimitError`] when `actual > value`.
    pub fn check(&self, actual: usize, path: impl FnOnce() -> String) -> Result<(), LimitError> {
        if actual > self.max() {
            Err(LimitError::new(*self, actual, path()))
        } else {
            Ok(())
        }
    }
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} = {} {}", self.name, self.value, self.unit)
    }
}

/// Something exceeded a [`Limit`]: which one, by how much, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {}", self.detail())]
pub struct LimitError {
    /// The limit.
    pub limit: Limit,
    /// What was received (or computed): a byte count, a count, a length, a depth. For a
    /// streamed body or a document measured with an early stop, the first count past the
    /// limit (at least this much).
    pub received: u64,
    /// JSON path of what exceeds it (`$` for a whole document).
    pub path: String,
}

impl LimitError {
    /// `received` against `limit` at `path`.
    pub fn new(limit: Limit, received: usize, path: impl Into<String>) -> Self {
        LimitError {
            limit,
            received: u64::try_from(received).unwrap_or(u64::MAX),
            path: path.into(),
        }
    }

    /// What exceeds what, without the path: `501 items, over the limit maxQuoteItems of 500`.
    pub fn detail(&self) -> String {
        format!(
            "{} {}, over the limit {} of {}",
            self.received, self.limit.unit, self.limit.name, self.limit.value
        )
    }

    /// The same error, its path put below `prefix` (`event.productOfferingPrice` + `.price`).
    #[must_use]
    pub fn under(mut self, prefix: &str) -> Self {
        self.path = join_path(prefix, &self.path);
        self
    }
}

/// `prefix` + `path`, where `path` is relative (`$`, `.a`, `[0]`, `a`).
pub(crate) fn join_path(prefix: &str, path: &str) -> String {
    let rest = path.strip_prefix('$').unwrap_or(path);
    if prefix.is_empty() || prefix == "$" {
        return if rest.is_empty() {
            "$".to_owned()
        } else {
            rest.trim_start_matches('.').to_owned()
        };
    }
    if rest.is_empty() {
        prefix.to_owned()
    } else if rest.starts_with(['.', '[']) {
        format!("{prefix}{rest}")
    } else {
        format!("{prefix}.{rest}")
    }
}

/// Bounds of the backends the budget is derived from (not limits of ours).
pub mod backend {
    /// Largest DynamoDB item, attribute names and values included (400 KB).
    pub const DYNAMODB_ITEM_BYTES: usize = 409_600;
    /// Most items in one DynamoDB `TransactWriteItems`.
    pub const DYNAMODB_TRANSACTION_ITEMS: usize = 100;
    /// Largest DynamoDB `TransactWriteItems` request (4 MB).
    pub const DYNAMODB_TRANSACTION_BYTES: usize = 4_000_000;
    /// Largest DynamoDB partition key (2048 bytes) and sort key (1024 bytes): ids end up in keys.
    pub const DYNAMODB_SORT_KEY_BYTES: usize = 1_024;
    /// Largest SQS message, body and attributes (1 MiB since August 2025).
    pub const SQS_MESSAGE_BYTES: usize = 1_048_576;
    /// Largest synchronous Lambda response (6 MB), which API Gateway hands back.
    pub const LAMBDA_RESPONSE_BYTES: usize = 6_291_456;
    /// Deepest JSON serde_json parses by default: a document may nest 127 levels.
    pub const SERDE_JSON_DEPTH: usize = 127;
}

use LimitClass::{Payload, Request, Stored};

/// Largest request body, any route (checked while the body streams in, before it is buffered).
/// A 300-line quote is ~20 KB; this leaves room for rich quotes and refuses the 885 KB
/// amplification bodies of issue 14 before they are read.
pub const MAX_REQUEST_BYTES: Limit = Limit::new("maxRequestBytes", 262_144, "bytes", Payload);
/// Deepest JSON document accepted or stored (request bodies, catalog entries, listener events,
/// patch results, stored quotes and orders). The outbox envelope adds 2 levels, so events stay
/// at most 34 deep, far from serde_json's 127.
pub const MAX_JSON_DEPTH: Limit = Limit::new("maxJsonDepth", 32, "levels", Request);
/// Most quote items in one quote, nested items included (pricing work and the order's size
/// grow with it).
pub const MAX_QUOTE_ITEMS: Limit = Limit::new("maxQuoteItems", 500, "items", Request);
/// Deepest nesting of quote items (`quoteItem[].quoteItem[]...`), the bundle depth the
/// pricing engine follows.
pub const MAX_ITEM_NESTING: Limit = Limit::new("maxItemNesting", 8, "levels", Request);
/// Most entries of any other array of a request: notes, characteristics, related parties,
/// billing accounts, extension arrays.
pub const MAX_ARRAY_ITEMS: Limit = Limit::new("maxArrayItems", 100, "entries", Request);
/// Most `quoteItemPrice` entries a client sends on one item (they carry requested
/// discounts): as many as the engine computes ([`MAX_LINES_PER_ITEM`]), so that a priced item
/// can be sent back as it was received.
pub const MAX_PRICES_PER_ITEM: Limit = Limit::new("maxPricesPerItem", 50, "prices", Request);
/// Most alterations on one price of an item a client sends: its requested discounts and the
/// catalog promotions a priced item carries back (those are recomputed, but sent back as
/// received they count). The OpenAPI documents state it as `maxItems`.
pub const MAX_ALTERATIONS_PER_PRICE: Limit =
    Limit::new("maxAlterationsPerPrice", 20, "alterations", Request);
/// Longest `id` (anywhere): ids become parts of DynamoDB keys (sort keys hold 1024 bytes, and
/// a character takes up to 4).
pub const MAX_ID_LENGTH: Limit = Limit::new("maxIdLength", 256, "characters", Request);
/// Longest free text: `description` and `text` (notes), anywhere.
pub const MAX_TEXT_LENGTH: Limit = Limit::new("maxTextLength", 10_000, "characters", Request);
/// Longest other string (names, hrefs, codes, extension values).
pub const MAX_STRING_LENGTH: Limit = Limit::new("maxStringLength", 2_048, "characters", Request);
/// Most JSON Patch (RFC 6902) operations in one PATCH.
pub const MAX_PATCH_OPERATIONS: Limit =
    Limit::new("maxPatchOperations", 100, "operations", Request);
/// Largest stored quote: its JSON plus the copies the stores keep beside it (price ids, party
/// ids, external id). With keys and attributes the DynamoDB item stays below 400 KB.
pub const MAX_QUOTE_BYTES: Limit = Limit::new("maxQuoteBytes", 327_680, "bytes", Stored);
/// Largest product order a quote can become (an order repeats every item's prices and adds a
/// quote-item reference to each): the order item, and the `ProductOrderCreateEvent` carrying
/// it, stay below 400 KB.
pub const MAX_ORDER_BYTES: Limit = Limit::new("maxOrderBytes", 393_216, "bytes", Stored);
/// Most distinct catalog prices and offerings one quote uses: each is an open-quote index
/// entry written (and later deleted) in the quote's DynamoDB transaction.
pub const MAX_CATALOG_REFS: Limit = Limit::new("maxCatalogRefs", 40, "catalog entries", Stored);
/// Most price lines the engine computes for one item (a bundle expands into its components'
/// lines), and most bundle components it visits for one item.
pub const MAX_LINES_PER_ITEM: Limit = Limit::new("maxPriceLinesPerItem", 50, "lines", Stored);
/// Most stored bytes one listing page reads and returns (`GET /quote`, `/productOrder`, the
/// catalog): a page of large resources holds fewer than `limit` items.
pub const MAX_PAGE_BYTES: Limit = Limit::new("maxPageBytes", 4_194_304, "bytes", Stored);
/// Most inventory products completing one order creates (its `add` items, nested ones too):
/// the products, their `ProductCreateEvent`s, the order and its state-change event are one
/// DynamoDB transaction (`2 + 2 × 48 = 98` of 100 items). A larger order's completion is
/// refused (the order keeps its state, the notification can be sent again): see
/// `docs/billing.md`.
pub const MAX_PRODUCTS_PER_ORDER: Limit = Limit::new("maxProductsPerOrder", 48, "products", Stored);
/// Largest catalog offering or price (listener event, import entry, fan-out message).
pub const MAX_CATALOG_ENTRY_BYTES: Limit =
    Limit::new("maxCatalogEntryBytes", 65_536, "bytes", Payload);
/// Largest TMF620 listener event: one entry and its envelope. It goes on `pricing-changes`
/// as posted, so it must fit a queue message.
pub const MAX_CATALOG_EVENT_BYTES: Limit =
    Limit::new("maxCatalogEventBytes", 98_304, "bytes", Payload);
/// Largest catalog file `q2c catalog import` reads.
pub const MAX_CATALOG_FILE_BYTES: Limit =
    Limit::new("maxCatalogFileBytes", 268_435_456, "bytes", Payload);

/// Largest quantity of one item (per unit of its parent): far above any real order, low
/// enough that amounts stay exact within 15 significant digits on the wire.
pub const MAX_QUANTITY: Limit = Limit::new("maxQuantity", 1_000_000, "units", Request);

/// Most significant digits of an amount, percentage or rate: a JSON number passes through an
/// `f64`, exact to 15 digits (integers up to 2^63 are written exactly and always pass).
pub const MAX_SIGNIFICANT_DIGITS: Limit =
    Limit::new("maxSignificantDigits", 15, "significant digits", Request);

/// Most filter parameters (TMF630 attribute filters) of one listing request.
pub const MAX_FILTER_CLAUSES: Limit = Limit::new("maxFilterClauses", 10, "parameters", Request);
/// Most comma-separated values (OR) of one filter parameter; each value is at most
/// [`MAX_ID_LENGTH`] characters.
pub const MAX_FILTER_VALUES: Limit = Limit::new("maxFilterValues", 20, "values", Request);
/// Most stored resources one filtered listing page reads when a filter is not served by an
/// index: the page comes back short, with a cursor to read on, rather than reading more.
pub const MAX_FILTER_READ: Limit = Limit::new("maxFilterRead", 1_000, "resources", Stored);

/// Room a quote that can still be approved (`inProgress`, `pending`) keeps below
/// [`MAX_QUOTE_BYTES`] and its order below [`MAX_ORDER_BYTES`]: approving adds an
/// authorization entry (a few hundred bytes with the approver's id and name) and then
/// accepting adds [`ACCEPTANCE_RESERVE_BYTES`]. So every quote the API accepted can be
/// approved and accepted.
pub const APPROVAL_RESERVE_BYTES: usize = 4_096;
/// Room an approved quote keeps: accepting adds the completion date and the order its href.
pub const ACCEPTANCE_RESERVE_BYTES: usize = 512;
/// The most an event envelope adds around its payload (ids, times, type, title, a correlation
/// id of at most 128 characters, the schema version).
pub const MAX_ENVELOPE_BYTES: usize = 8_192;
/// Largest event body an accepted quote can cause: the `ProductOrderCreateEvent`.
pub const MAX_EVENT_BYTES: usize = MAX_ORDER_BYTES.max() + MAX_ENVELOPE_BYTES;
/// Items of a quote's DynamoDB transaction besides index entries, at most: the quote and two
/// events (a PATCH changing items and state), or on acceptance the quote, the order and two
/// events (and then only deletes follow).
pub const QUOTE_WRITE_FIXED_ITEMS: usize = 4;
/// Transaction items left free for counters later work adds.
pub const TRANSACTION_HEADROOM: usize =
    backend::DYNAMODB_TRANSACTION_ITEMS - QUOTE_WRITE_FIXED_ITEMS - 2 * MAX_CATALOG_REFS.max();

// The budget holds: checked when the crate compiles.
const _: () = {
    assert!(TRANSACTION_HEADROOM >= 16);
    assert!(APPROVAL_RESERVE_BYTES >= ACCEPTANCE_RESERVE_BYTES + 2_048);
    assert!(MAX_QUOTE_BYTES.max() + 16_384 <= backend::DYNAMODB_ITEM_BYTES);
    assert!(MAX_EVENT_BYTES + 4_096 <= backend::DYNAMODB_ITEM_BYTES);
    assert!(MAX_EVENT_BYTES * 2 < backend::SQS_MESSAGE_BYTES);
    assert!(
        2 * (MAX_QUOTE_BYTES.max() + MAX_ORDER_BYTES.max() + 2 * MAX_ENVELOPE_BYTES)
            < backend::DYNAMODB_TRANSACTION_BYTES
    );
    assert!(MAX_JSON_DEPTH.max() + 8 < backend::SERDE_JSON_DEPTH);
    assert!(MAX_PAGE_BYTES.max() + MAX_PAGE_BYTES.max() / 4 < backend::LAMBDA_RESPONSE_BYTES);
    assert!(MAX_PAGE_BYTES.max() >= MAX_ORDER_BYTES.max());
    assert!(4 * MAX_ID_LENGTH.max() <= backend::DYNAMODB_SORT_KEY_BYTES);
    assert!(MAX_CATALOG_EVENT_BYTES.max() <= MAX_REQUEST_BYTES.max());
    assert!(MAX_CATALOG_ENTRY_BYTES.max() < MAX_CATALOG_EVENT_BYTES.max());
    assert!(2 + 2 * MAX_PRODUCTS_PER_ORDER.max() <= backend::DYNAMODB_TRANSACTION_ITEMS);
};

/// Every limit, in the order of `docs/limits.md` (a test keeps the two in step).
pub const ALL: [Limit; 25] = [
    MAX_REQUEST_BYTES,
    MAX_JSON_DEPTH,
    MAX_QUOTE_ITEMS,
    MAX_ITEM_NESTING,
    MAX_ARRAY_ITEMS,
    MAX_PRICES_PER_ITEM,
    MAX_ALTERATIONS_PER_PRICE,
    MAX_ID_LENGTH,
    MAX_TEXT_LENGTH,
    MAX_STRING_LENGTH,
    MAX_PATCH_OPERATIONS,
    MAX_QUOTE_BYTES,
    MAX_ORDER_BYTES,
    MAX_CATALOG_REFS,
    MAX_LINES_PER_ITEM,
    MAX_PAGE_BYTES,
    MAX_PRODUCTS_PER_ORDER,
    MAX_CATALOG_ENTRY_BYTES,
    MAX_CATALOG_EVENT_BYTES,
    MAX_CATALOG_FILE_BYTES,
    MAX_QUANTITY,
    MAX_SIGNIFICANT_DIGITS,
    MAX_FILTER_CLAUSES,
    MAX_FILTER_VALUES,
    MAX_FILTER_READ,
];

#[cfg(test)]
mod tests;
