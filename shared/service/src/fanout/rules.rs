//! What a price change does to one open quote (the rules of `docs/pricing.md`, "Price
//! changes and open quotes"), and the approval guard for quotes holding a retired price.
//!
//! - `inProgress`/`pending`: re-priced from the current catalog; when the price was retired
//!   (or deleted) instead flagged with a note, and approval is refused until the item changes.
//! - `approved`: keeps its price (price protection until `validFor` ends) and gets a note
//!   that a newer price exists, or that the price was retired.
//! - final (`accepted`, `rejected`, `cancelled`): untouched.
//!
//! An offering that is retired (or deleted) is handled like a retired price: open quotes
//! holding it are flagged (`inProgress`/`pending`) or noted (`approved`), never re-priced;
//! other offering changes do not walk quotes.
//!
//! A change whose result equals the stored quote writes nothing and emits nothing, so a
//! redelivered event re-prices nobody twice.

use q2c_model::tmf::{Note, ProductOfferingPrice, QuoteState, TypeInfo};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::CatalogSubject;
use crate::catalog::{CatalogStore, SettingsSource};
use crate::configure::{check_stored, load_catalog_for, price_items};
use crate::context::TenantId;
use crate::error::ServiceError;
use crate::hrefs;
use crate::quotes::StoredQuote;

/// Error code of approving a quote that holds a retired price (HTTP 422).
pub const PRICE_RETIRED: &str = "PRICE_RETIRED";

/// `@type` of the note flagging a retired price on an open quote.
pub(crate) const RETIRED_NOTE_TYPE: &str = "PriceRetiredNote";
/// `@type` of the note flagging a retired offering on an open quote.
pub(crate) const OFFERING_RETIRED_NOTE_TYPE: &str = "OfferingRetiredNote";
/// `@type` of the note telling an approved quote that its price changed.
pub(crate) const CHANGED_NOTE_TYPE: &str = "PriceChangedNote";
/// Author of the fan-out's notes.
pub(crate) const NOTE_AUTHOR: &str = "q2c price fan-out";

/// The change as the rules see it.
#[derive(Debug, Clone)]
pub(crate) struct ChangeFacts<'a> {
    /// Price or offering.
    pub subject: CatalogSubject,
    /// The id of the price or offering.
    pub price_id: &'a str,
    pub retired: bool,
    pub last_update: OffsetDateTime,
}

/// What happened to one quote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum QuoteChange {
    /// Re-priced with new amounts.
    Repriced,
    /// An approved quote got (or had updated) its price-change note.
    Noted,
    /// An open quote got the retired-price flag.
    Flagged,
    /// The result equals the stored quote: nothing written.
    Unchanged,
    /// Final quote: left alone.
    Final,
}

/// The quote after the change, or `None` when nothing is to be written.
pub(crate) async fn apply_rules(
    tenant: &TenantId,
    stored: &StoredQuote,
    change: &ChangeFacts<'_>,
    catalog: &dyn CatalogStore,
    settings: &dyn SettingsSource,
    now: OffsetDateTime,
) -> Result<(QuoteChange, Option<StoredQuote>), ServiceError> {
    let state = stored.quote.state.unwrap_or(QuoteState::InProgress);
    let mut next = stored.clone();
    let kind = match state {
        QuoteState::Accepted | QuoteState::Rejected | QuoteState::Cancelled => {
            return Ok((QuoteChange::Final, None));
        }
        QuoteState::Approved => {
            let protected_until = stored
                .quote
                .valid_for
                .and_then(|v| v.end_date_time)
                .and_then(|end| end.format(&Rfc3339).ok())
                .unwrap_or_else(|| String::from("the end of its validity"));
            let (note_type, text) = match (change.subject, change.retired) {
                (CatalogSubject::Offering, _) => (
                    OFFERING_RETIRED_NOTE_TYPE,
                    format!(
                        "Offering {} was retired (catalog change of {}); this approved quote keeps its items and price until {protected_until}.",
                        change.price_id,
                        stamp(change.last_update)
                    ),
                ),
                (CatalogSubject::Price, true) => (
                    CHANGED_NOTE_TYPE,
                    format!(
                        "Price {} was retired (catalog change of {}); this approved quote keeps its price until {protected_until}.",
                        change.price_id,
                        stamp(change.last_update)
                    ),
                ),
                (CatalogSubject::Price, false) => (
                    CHANGED_NOTE_TYPE,
                    format!(
                        "A newer price {} exists (catalog change of {}); this approved quote keeps its price until {protected_until}.",
                        change.price_id,
                        stamp(change.last_update)
                    ),
                ),
            };
            upsert_note(&mut next, note_type, change.price_id, text, now);
            QuoteChange::Noted
        }
        QuoteState::InProgress | QuoteState::Pending
            if change.subject == CatalogSubject::Offering =>
        {
            let text = format!(
                "Offering {} was retired (catalog change of {}); replace or remove the items using it before approval.",
                change.price_id,
                stamp(change.last_update)
            );
            upsert_note(
                &mut next,
                OFFERING_RETIRED_NOTE_TYPE,
                change.price_id,
                text,
                now,
            );
            QuoteChange::Flagged
        }
        QuoteState::InProgress | QuoteState::Pending if change.retired => {
            let text = format!(
                "Price {} was retired (catalog change of {}); change the item using it before approval.",
                change.price_id,
                stamp(change.last_update)
            );
            upsert_note(&mut next, RETIRED_NOTE_TYPE, change.price_id, text, now);
            QuoteChange::Flagged
        }
        QuoteState::InProgress | QuoteState::Pending => {
            let tenant_settings = settings.settings(tenant).await?;
            let slice = load_catalog_for(catalog, &stored.quote.quote_item).await?;
            let priced = price_items(&stored.quote.quote_item, &slice, &tenant_settings, now)?;
            next.quote.quote_item = priced.items;
            next.quote.quote_total_price = priced.total;
            next.approval_required = priced.approval_required;
            next.price_ids = priced.price_ids;
            hrefs::serve_quote(&mut next.quote);
            // The price is in use again: its retired flag no longer applies.
            next.quote
                .note
                .retain(|n| !is_note(n, RETIRED_NOTE_TYPE, change.price_id));
            QuoteChange::Repriced
        }
    };
    if same_content(&next, stored) {
        return Ok((QuoteChange::Unchanged, None));
    }
    // A re-pricing (new promotion lines) or a note can grow a quote past its budget: then it
    // is left as it is (the caller logs it) rather than written where a store would refuse it.
    check_stored(&next.quote, &next.price_ids)?;
    next.version = stored.version + 1;
    Ok((kind, Some(next)))
}

/// Equal apart from note dates, which a re-applied note would refresh.
fn same_content(a: &StoredQuote, b: &StoredQuote) -> bool {
    let strip = |q: &StoredQuote| {
        let mut q = q.clone();
        for note in &mut q.quote.note {
            note.date = None;
        }
        q
    };
    strip(a) == strip(b)
}

fn stamp(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_default()
}

fn note_id(kind: &str, price_id: &str) -> String {
    format!("{kind}:{price_id}")
}

fn is_note(note: &Note, kind: &str, price_id: &str) -> bool {
    note.id.as_deref() == Some(note_id(kind, price_id).as_str())
}

/// One note per (kind, price): replaced when the text changes, kept (date too) otherwise.
fn upsert_note(
    quote: &mut StoredQuote,
    kind: &str,
    price_id: &str,
    text: String,
    now: OffsetDateTime,
) {
    let notes = &mut quote.quote.note;
    if let Some(existing) = notes.iter_mut().find(|n| is_note(n, kind, price_id)) {
        if existing.text != text {
            existing.text = text;
            existing.date = Some(now);
        }
        return;
    }
    notes.push(Note {
        id: Some(note_id(kind, price_id)),
        author: Some(NOTE_AUTHOR.to_owned()),
        date: Some(now),
        text,
        type_info: TypeInfo::of(kind),
        extensions: Default::default(),
    });
}

/// The ids among `price_ids` that quotes can no longer use: deleted from the catalog
/// (tombstoned or unknown) or `Retired`/`Obsolete`.
///
/// # Errors
/// `Unavailable` when the catalog store fails.
pub async fn retired_prices(
    catalog: &dyn CatalogStore,
    price_ids: &[String],
) -> Result<Vec<String>, ServiceError> {
    if price_ids.is_empty() {
        return Ok(Vec::new());
    }
    let found: Vec<ProductOfferingPrice> = catalog.prices(price_ids).await?;
    Ok(price_ids
        .iter()
        .filter(|id| {
            found.iter().find(|p| &p.id == *id).is_none_or(|p| {
                p.lifecycle_status.as_deref().is_some_and(|s| {
                    s.eq_ignore_ascii_case("retired") || s.eq_ignore_ascii_case("obsolete")
                })
            })
        })
        .cloned()
        .collect())
}
