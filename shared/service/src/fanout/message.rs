//! The messages of the `pricing-changes` queue: TMF620 price events (validated into a
//! [`PriceChange`]), offering events (an [`OfferingChange`], parsed in `offerings`) and our own continuation messages, which carry the cursor of the next
//! page of open quotes to process for a change already applied.

use std::collections::BTreeMap;

use q2c_model::limits;
use q2c_model::tmf::ProductOfferingPrice;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use time::OffsetDateTime;

use super::entry::{EntryInvalid, change_kind, check_entry, entry_of, field_error};
use super::offerings::{OFFERING_EVENT_TYPES, OfferingChange, parse_offering_event};
use super::{CatalogSubject, FanoutCursor, PriceChange, PriceChangeKind};
use crate::messaging::{OutgoingMessage, ParsedMessage, attributes};
use crate::outbox::SCHEMA_VERSION;

/// The TMF620 price events the fan-out applies.
pub const PRICE_EVENT_TYPES: [&str; 4] = [
    "ProductOfferingPriceCreateEvent",
    "ProductOfferingPriceAttributeValueChangeEvent",
    "ProductOfferingPriceStateChangeEvent",
    "ProductOfferingPriceDeleteEvent",
];

/// The event type of a continuation message (ours, never from the catalog).
pub const CONTINUATION_EVENT_TYPE: &str = "PriceFanoutContinuation";

/// What a message asks the fan-out to do.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum FanoutWork {
    /// A catalog price event: apply, announce, process the first page.
    Change(Box<PriceChange>),
    /// A catalog offering event: apply, announce, and when it retires the offering, flag
    /// the first page of open quotes holding it.
    Offering(Box<OfferingChange>),
    /// A follow-up page of a change already applied.
    Continue(Continuation),
}

/// The payload of a continuation message (`event.priceFanout`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Continuation {
    /// Whether `price_id` names a price or an offering (absent: a price, as continuations
    /// sent before offerings were handled).
    #[serde(default, skip_serializing_if = "is_price")]
    pub subject: CatalogSubject,
    /// The price (or offering) whose open quotes are being processed.
    pub price_id: String,
    /// Start after this quote.
    pub cursor: String,
    /// Whether the change retired the price (flag/note instead of re-pricing).
    pub retired: bool,
    /// `lastUpdate` of the change, quoted in notes.
    #[serde(with = "time::serde::rfc3339")]
    pub last_update: OffsetDateTime,
    /// The catalog event that started the fan-out.
    pub source_event_id: String,
    /// The last quote of this continuation's segment (a cursor, inclusive); `None`: to the
    /// end of the index (the last segment, and continuations sent before segments).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
    /// Which segment of the fan-out this continuation walks (0 for the first).
    #[serde(default)]
    pub segment: u32,
    /// The how-many-th message of its segment's chain this is (1 for the first continuation).
    #[serde(default = "first_hop")]
    pub hop: u32,
    /// The most hops its segment may take: a continuation over it is parked in the DLQ with
    /// the reason, never processed (Lambda's recursive-loop detection is off for the
    /// function; this bound replaces it).
    #[serde(default = "legacy_max_hops")]
    pub max_hops: u32,
}

fn first_hop() -> u32 {
    1
}

/// Serde's default for `max_hops`: [`LEGACY_MAX_HOPS`].
fn legacy_max_hops() -> u32 {
    LEGACY_MAX_HOPS
}

/// The hop bound of a continuation sent before continuations carried one: enough for a
/// million quotes at the default page size.
pub const LEGACY_MAX_HOPS: u32 = 10_000;

/// Where one continuation stands: its segment, its bound, its hop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentHop {
    /// The last quote of the segment (inclusive); `None`: to the end of the index.
    pub until: Option<FanoutCursor>,
    /// The segment's number.
    pub segment: u32,
    /// This message's hop (1 for the segment's first continuation).
    pub hop: u32,
    /// The most hops the segment may take.
    pub max_hops: u32,
}

/// Validates a price event: a known event type, `event.productOfferingPrice` a valid
/// ProductOfferingPrice with a non-empty `id` and a `lastUpdate`.
///
/// # Errors
/// The poison reason, naming the field at fault.
pub fn parse_price_event(message: &ParsedMessage) -> Result<PriceChange, String> {
    let kind = change_kind(
        message,
        "ProductOfferingPriceDeleteEvent",
        &PRICE_EVENT_TYPES,
    )
    .ok_or_else(|| {
        format!(
            "unsupported event type `{}` on pricing-changes (expected one of {})",
            message.event_type,
            PRICE_EVENT_TYPES.join(", ")
        )
    })?;
    let raw = entry_of(message, "productOfferingPrice")?;
    let price = parse_price(raw, kind).map_err(|e| format!("event.productOfferingPrice{e}"))?;
    let last_update = price
        .last_update
        .ok_or_else(|| String::from("event.productOfferingPrice.lastUpdate: missing"))?;
    Ok(PriceChange {
        kind,
        price,
        last_update,
    })
}

fn is_price(subject: &CatalogSubject) -> bool {
    *subject == CatalogSubject::Price
}

/// Parses one price as a change of `kind` carries it (an upsert may not have a negative
/// amount), within the limits of a catalog entry and with every number one the store can
/// write exactly; the error starts with the path below the price (`.price.value: …`, or
/// `: …` at its root), so callers prefix where the price sits.
///
/// # Errors
/// The path and reason of the first problem.
pub fn parse_price(
    raw: &Value,
    kind: PriceChangeKind,
) -> Result<ProductOfferingPrice, EntryInvalid> {
    check_entry(raw)?;
    let price: ProductOfferingPrice =
        serde_path_to_error::deserialize(raw.clone()).map_err(|e| field_error("", &e))?;
    if price.id.trim().is_empty() {
        return Err(String::from(".id: empty").into());
    }
    if kind == PriceChangeKind::Upsert
        && let Some(money) = &price.price
        && money.amount.is_sign_negative()
    {
        return Err(String::from(".price.value: negative").into());
    }
    limits::check_representable(&price).map_err(EntryInvalid::Limit)?;
    Ok(price)
}

/// What the message asks for, or the poison reason.
pub(crate) fn parse_work(message: &ParsedMessage) -> Result<FanoutWork, String> {
    if message.event_type == CONTINUATION_EVENT_TYPE {
        let raw = message
            .event
            .get("priceFanout")
            .cloned()
            .ok_or_else(|| String::from("event.priceFanout: missing"))?;
        let continuation: Continuation = serde_path_to_error::deserialize(raw)
            .map_err(|e| field_error("event.priceFanout", &e))?;
        FanoutCursor::parse(&continuation.cursor)?;
        if let Some(until) = &continuation.until {
            FanoutCursor::parse(until).map_err(|e| format!("event.priceFanout.until: {e}"))?;
        }
        return Ok(FanoutWork::Continue(continuation));
    }
    if OFFERING_EVENT_TYPES.contains(&message.event_type.as_str()) {
        return parse_offering_event(message).map(|change| FanoutWork::Offering(Box::new(change)));
    }
    if !PRICE_EVENT_TYPES.contains(&message.event_type.as_str()) {
        return Err(format!(
            "unsupported event type `{}` on pricing-changes (expected one of {}, {})",
            message.event_type,
            PRICE_EVENT_TYPES.join(", "),
            OFFERING_EVENT_TYPES.join(", ")
        ));
    }
    parse_price_event(message).map(|change| FanoutWork::Change(Box::new(change)))
}

/// The message continuing a fan-out after `continuation.cursor`, as hop `at.hop` of segment
/// `at.segment`. Its `eventId` is derived from the source event and the cursor, so a re-sent
/// continuation has the same id.
#[allow(clippy::too_many_arguments)] // the continuation's fields, each needed
pub fn continuation_message(
    subject: CatalogSubject,
    price_id: &str,
    cursor: &FanoutCursor,
    at: &SegmentHop,
    retired: bool,
    last_update: OffsetDateTime,
    source_event_id: &str,
    correlation_id: Option<&str>,
    now: OffsetDateTime,
) -> OutgoingMessage {
    let continuation = Continuation {
        subject,
        price_id: price_id.to_owned(),
        cursor: cursor.as_str().to_owned(),
        retired,
        last_update,
        source_event_id: source_event_id.to_owned(),
        until: at.until.as_ref().map(|c| c.as_str().to_owned()),
        segment: at.segment,
        hop: at.hop,
        max_hops: at.max_hops,
    };
    let event_id = format!("{source_event_id}/{cursor}");
    let mut envelope = json!({
        "eventId": event_id,
        "eventType": CONTINUATION_EVENT_TYPE,
        "eventTime": now.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
        "schemaVersion": SCHEMA_VERSION,
        "event": { "priceFanout": continuation },
    });
    let mut attrs = BTreeMap::from([
        (
            attributes::EVENT_TYPE.to_owned(),
            CONTINUATION_EVENT_TYPE.to_owned(),
        ),
        (
            attributes::SCHEMA_VERSION.to_owned(),
            SCHEMA_VERSION.to_owned(),
        ),
        (attributes::EVENT_ID.to_owned(), event_id),
    ]);
    if let Some(correlation) = correlation_id {
        attrs.insert(
            attributes::CORRELATION_ID.to_owned(),
            correlation.to_owned(),
        );
        envelope["correlationId"] = Value::from(correlation);
    }
    OutgoingMessage {
        body: envelope.to_string(),
        attributes: attrs,
    }
}
