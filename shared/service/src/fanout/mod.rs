//! Price fan-out: applies TMF620 `ProductOfferingPrice*Event`s from the `pricing-changes`
//! queue to our copy of the catalog (ordered by `lastUpdate`, deletes leave tombstones), then
//! walks the open quotes using the price, one page per message, and re-prices, notes or flags
//! each one (rules in `docs/pricing.md`, "Price changes and open quotes"). A change touching
//! more quotes than one page is split into segments walked at once, each by a chain of
//! continuation messages (on `pricing-continuations`) carrying a cursor, the segment's end,
//! its hop and its hop bound.
//!
//! # Layout
//! - this file: the ports ([`PriceCatalogWriter`], [`OpenQuoteIndex`], [`Announce`]) and the
//!   records they exchange;
//! - `message`: parsing price events and continuation messages, building continuations;
//! - `handler`: the use-case [`PriceFanout`];
//! - `rules`: what a change does to one quote, and the approval guard for retired prices;
//! - `page_catalog`: the catalog read once per page for all its quotes.

use std::fmt;

use async_trait::async_trait;
use q2c_model::tmf::ProductOfferingPrice;
use time::OffsetDateTime;

use crate::context::TenantId;
use crate::listing::Scanned;
use crate::messaging::{HandlerError, ParsedMessage};
use crate::store::StoreError;

mod entry;
mod handler;
mod message;
mod offerings;
mod page_catalog;
mod rules;

pub use entry::{EntryInvalid, check_entry};
pub use handler::{FanoutConfig, FanoutOutcome, FanoutPorts, PageReport, PriceFanout};
pub use message::{
    CONTINUATION_EVENT_TYPE, LEGACY_MAX_HOPS, PRICE_EVENT_TYPES, SegmentHop, continuation_message,
    parse_price, parse_price_event,
};
pub use offerings::{
    OFFERING_EVENT_TYPES, OfferingCatalogWriter, OfferingChange, is_retired_status,
    offering_ids_of, parse_offering, parse_offering_event,
};
pub use rules::{PRICE_RETIRED, retired_prices};

/// What a catalog event does to a price.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PriceChangeKind {
    /// Created or changed: store the price.
    Upsert,
    /// Deleted: keep a tombstone, so an older update arriving late cannot bring it back.
    Delete,
}

/// One validated price change, ready to apply.
#[derive(Debug, Clone, PartialEq)]
pub struct PriceChange {
    /// Upsert or delete.
    pub kind: PriceChangeKind,
    /// The price as the event carries it (`id` non-empty).
    pub price: ProductOfferingPrice,
    /// The price's `lastUpdate`: the order of changes of one price.
    pub last_update: OffsetDateTime,
}

impl PriceChange {
    /// The price id.
    pub fn price_id(&self) -> &str {
        &self.price.id
    }

    /// Whether quotes can no longer use the price: deleted, or `Retired`/`Obsolete`.
    pub fn retires(&self) -> bool {
        self.kind == PriceChangeKind::Delete
            || self.price.lifecycle_status.as_deref().is_some_and(|s| {
                s.eq_ignore_ascii_case("retired") || s.eq_ignore_ascii_case("obsolete")
            })
    }
}

/// Result of applying a change to the catalog copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApplyOutcome {
    /// The change was newer than what we held (or we held nothing) and is now stored.
    Applied,
    /// We already hold a change with the same `lastUpdate` (a redelivery): nothing written.
    AlreadyCurrent,
    /// We hold a newer change (or a newer tombstone): nothing written, the event is skipped.
    Stale {
        /// `lastUpdate` of what we hold.
        stored: OffsetDateTime,
    },
}

/// Writes price changes into the operator's catalog copy, ordered by `lastUpdate`.
#[async_trait]
pub trait PriceCatalogWriter: Send + Sync {
    /// Stores the change only if its `lastUpdate` is newer than the stored one (an absent
    /// stored `lastUpdate` counts as oldest). A delete stores a tombstone that
    /// [`CatalogStore`](crate::catalog::CatalogStore) reads no longer return but that still
    /// orders later changes. One conditional write: concurrent appliers end in the newest.
    async fn apply_price_change(&self, change: &PriceChange) -> Result<ApplyOutcome, StoreError>;
}

/// An opaque position in the open-quote index of one price (after the quote it names).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct FanoutCursor(String);

impl FanoutCursor {
    /// The cursor just after the quote `(tenant, quote_id)`. The text is
    /// `<tenant>#<quoteId>`: tenant ids have no `#`, so it sorts like the pair.
    pub fn after(tenant: &TenantId, quote_id: &str) -> Self {
        FanoutCursor(format!("{tenant}#{quote_id}"))
    }

    /// A cursor read back from a message.
    ///
    /// # Errors
    /// The reason when the text is not `<tenant>#<quoteId>` with a valid tenant.
    pub fn parse(text: &str) -> Result<Self, String> {
        let (tenant, quote_id) = text
            .split_once('#')
            .ok_or_else(|| format!("cursor `{text}` is not <tenant>#<quoteId>"))?;
        TenantId::parse(tenant).map_err(|e| format!("cursor `{text}`: {e}"))?;
        if quote_id.is_empty() {
            return Err(format!("cursor `{text}` has an empty quote id"));
        }
        Ok(FanoutCursor(text.to_owned()))
    }

    /// The cursor text (also the sort key of the DynamoDB index item it names).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The `(tenant, quote id)` it names.
    pub fn parts(&self) -> (&str, &str) {
        self.0.split_once('#').unwrap_or((self.0.as_str(), ""))
    }
}

impl fmt::Display for FanoutCursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An open quote (not accepted, rejected or cancelled) using a price, in any tenant.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct OpenQuote {
    /// The quote's tenant.
    pub tenant: TenantId,
    /// The quote id.
    pub quote_id: String,
}

/// One page of the open-quote index.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OpenQuotePage {
    /// Ordered by tenant, then quote id.
    pub quotes: Vec<OpenQuote>,
    /// Where the next page starts; `None` when this page is the last.
    pub next: Option<FanoutCursor>,
}

impl OpenQuotePage {
    /// The page of `found`: up to `limit + 1` quotes in index order, as adapters read them.
    /// One more than asked tells that more follow; the last quote kept is where the next
    /// page starts.
    #[must_use]
    pub fn from_overfetch(found: Vec<OpenQuote>, limit: usize) -> Self {
        let Scanned { items: found, more } = Scanned::from_overfetch(found, limit as u64);
        let next = found
            .last()
            .filter(|_| more)
            .map(|last| FanoutCursor::after(&last.tenant, &last.quote_id));
        OpenQuotePage {
            quotes: found,
            next,
        }
    }
}

/// Which open quotes an index page is of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexKey<'a> {
    /// The open quotes using this catalog price.
    Price(&'a str),
    /// The open quotes with an item (nested items included) for this offering
    /// ([`offering_ids_of`]).
    Offering(&'a str),
}

impl<'a> IndexKey<'a> {
    /// The page of up to `limit` quotes after `after` (from the start when `None`).
    #[must_use]
    pub fn page(self, after: Option<&'a FanoutCursor>, limit: usize) -> IndexPage<'a> {
        IndexPage {
            key: self,
            after,
            limit,
        }
    }
}

/// A request for one page of the open-quote index ([`IndexKey::page`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexPage<'a> {
    /// Whose open quotes.
    pub key: IndexKey<'a>,
    /// Start after this quote; from the start when `None`.
    pub after: Option<&'a FanoutCursor>,
    /// At most this many quotes.
    pub limit: usize,
}

/// The index of open quotes by catalog price and by offering, across tenants: one Query per
/// page, never a scan, so a change costs in proportion to the quotes it affects.
#[async_trait]
pub trait OpenQuoteIndex: Send + Sync {
    /// One page of open quotes, ordered by tenant then quote id.
    async fn open_quotes(&self, page: IndexPage<'_>) -> Result<OpenQuotePage, StoreError>;
}

/// What kind of catalog record a change (and its walk of open quotes) is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum CatalogSubject {
    /// A ProductOfferingPrice.
    #[default]
    Price,
    /// A ProductOffering.
    Offering,
}

/// Tells subscribers (TMF620 hubs) about an applied price change. Implemented by the hub
/// delivery engine; called at least once per applied change (again on a redelivery that
/// finds the change already stored), so implementations de-duplicate on `eventId`.
#[async_trait]
pub trait Announce: Send + Sync {
    /// Announces the catalog (price or offering) event `message`.
    async fn announce(&self, message: &ParsedMessage) -> Result<(), HandlerError>;
}

#[cfg(test)]
mod fakes;
#[cfg(test)]
mod tests;
