//! Configure + price: loads the catalog slice a quote needs, checks the requested product
//! characteristics against it and runs the model's pricing engine, turning their errors into
//! use-case errors.

use std::collections::BTreeSet;

use q2c_model::characteristics::{CharacteristicError, validate_characteristics};
use q2c_model::limits::{self, MAX_CATALOG_REFS};
use q2c_model::pricing::{self, CatalogSnapshot, PricedQuote, PricingError, PricingErrorKind};
use q2c_model::settings::TenantSettings;
use q2c_model::tmf::{Quote, QuoteItem, QuoteItemState};
use time::OffsetDateTime;

use crate::catalog::CatalogStore;
use crate::error::ServiceError;

/// Bundles nest; a catalog with a cycle must not loop forever.
const MAX_BUNDLE_DEPTH: usize = 8;

/// Loads every offering the items reference (with bundled children, transitively) and every
/// price those offerings list.
///
/// # Errors
/// `Limit` (`maxCatalogRefs`) when the items reference more distinct offerings than a quote
/// may hold, before any read; `Unavailable` when the catalog store fails.
pub async fn load_catalog_for(
    catalog: &dyn CatalogStore,
    items: &[QuoteItem],
) -> Result<CatalogSnapshot, ServiceError> {
    let mut wanted: BTreeSet<String> = pricing::referenced_offering_ids(items)
        .into_iter()
        .collect();
    // Each offering is an open-quote index entry: refuse too many before reading the catalog.
    MAX_CATALOG_REFS.check(wanted.len(), || "quoteItem".to_owned())?;
    let mut loaded = BTreeSet::new();
    let mut offerings = Vec::new();
    for _ in 0..MAX_BUNDLE_DEPTH {
        let batch: Vec<String> = wanted.difference(&loaded).cloned().collect();
        if batch.is_empty() {
            break;
        }
        loaded.extend(batch.iter().cloned());
        let found = catalog.offerings(&batch).await?;
        for offering in &found {
            wanted.extend(
                offering
                    .bundled_product_offering
                    .iter()
                    .map(|r| r.id.clone()),
            );
        }
        offerings.extend(found);
    }
    let price_ids: Vec<String> = offerings
        .iter()
        .flat_map(|o| o.product_offering_price.iter().map(|r| r.id.clone()))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let prices = catalog.prices(&price_ids).await?;
    Ok(CatalogSnapshot::new(offerings, prices))
}

/// Gives every item (and child item) without an id a fresh one, unique in the quote, and
/// sets new items to `inProgress`.
///
/// # Errors
/// `BusinessRule` (`DUPLICATE_ITEM_ID`) when two items share an id.
pub fn assign_item_ids(items: &mut [QuoteItem]) -> Result<(), ServiceError> {
    let mut seen = BTreeSet::new();
    collect_ids(items, "quoteItem", &mut seen)?;
    let mut next = 1u64;
    fill_ids(items, &mut seen, &mut next);
    Ok(())
}

fn collect_ids(
    items: &[QuoteItem],
    path: &str,
    seen: &mut BTreeSet<String>,
) -> Result<(), ServiceError> {
    for (index, item) in items.iter().enumerate() {
        let here = format!("{path}[{index}]");
        if let Some(id) = &item.id
            && !seen.insert(id.clone())
        {
            return Err(ServiceError::BusinessRule {
                code: "DUPLICATE_ITEM_ID",
                path: Some(format!("{here}.id")),
                message: format!("quote item id `{id}` is used twice in the quote"),
            });
        }
        collect_ids(&item.quote_item, &format!("{here}.quoteItem"), seen)?;
    }
    Ok(())
}

fn fill_ids(items: &mut [QuoteItem], seen: &mut BTreeSet<String>, next: &mut u64) {
    for item in items {
        if item.id.is_none() {
            while seen.contains(&next.to_string()) {
                *next += 1;
            }
            item.id = Some(next.to_string());
            seen.insert(next.to_string());
        }
        if item.state.is_none() {
            item.state = Some(QuoteItemState::InProgress);
        }
        fill_ids(&mut item.quote_item, seen, next);
    }
}

/// What a client asks for when it creates a quote or changes its items: prices (which checks
/// that every offering exists and is for sale), then checks the requested characteristics
/// against the offerings (`q2c_model::characteristics`). Re-pricing that is not the client's
/// doing (the price fan-out) calls [`price_items`] alone, so that a later catalog change of
/// characteristics never blocks it.
///
/// # Errors
/// As [`price_items`], then `InvalidConfiguration` (400) for a characteristic the offering
/// refuses.
pub fn configure_items(
    items: &[QuoteItem],
    catalog: &CatalogSnapshot,
    settings: &TenantSettings,
    now: OffsetDateTime,
) -> Result<PricedQuote, ServiceError> {
    let priced = price_items(items, catalog, settings, now)?;
    validate_characteristics(items, catalog, now).map_err(characteristic_error)?;
    Ok(priced)
}

fn characteristic_error(e: CharacteristicError) -> ServiceError {
    ServiceError::InvalidConfiguration {
        code: e.code(),
        message: e.kind.to_string(),
        path: e.path,
    }
}

/// Prices the items against the catalog slice.
///
/// # Errors
/// `InvalidInput` (400) or `BusinessRule` (422) naming the item's JSON path.
pub fn price_items(
    items: &[QuoteItem],
    catalog: &CatalogSnapshot,
    settings: &TenantSettings,
    now: OffsetDateTime,
) -> Result<PricedQuote, ServiceError> {
    pricing::price_quote(items, catalog, settings, now).map_err(pricing_error)
}

/// Checks that a quote about to be written fits the storage budget (`q2c_model::limits`):
/// its bytes, the order it would become, its index entries, its depth.
///
/// # Errors
/// `Limit` naming the limit exceeded.
pub fn check_stored(quote: &Quote, price_ids: &[String]) -> Result<(), ServiceError> {
    limits::check_stored_quote(quote, price_ids)?;
    Ok(())
}

fn pricing_error(e: PricingError) -> ServiceError {
    if let PricingErrorKind::Limit(limit) = e.kind {
        return ServiceError::Limit(limit);
    }
    // The path travels apart (the API puts it in front of the message): not twice.
    let message = e.kind.to_string();
    if e.is_business_rule() {
        ServiceError::BusinessRule {
            code: e.kind.code(),
            message,
            path: Some(e.path),
        }
    } else {
        ServiceError::InvalidInput {
            path: Some(e.path),
            message,
        }
    }
}
