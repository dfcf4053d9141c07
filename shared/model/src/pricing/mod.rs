//! The pricing engine: configure and price a quote's items against the catalog.
//!
//! [`price_quote`] checks every item's offering (exists, sellable, valid now), builds one line
//! per catalog price (recurring per charge period, one-time, usage per unit, and any other type
//! carried as its own line), applies catalog promotions and discounts requested on the quote,
//! adds tax, and sums the lines into `quoteTotalPrice`. The rules and worked examples are in
//! `docs/pricing.md`.

mod catalog;
mod error;
mod line;
mod offering;
mod path;
mod requested;
mod totals;

pub use catalog::{CatalogDocument, CatalogSnapshot, CatalogView};
pub use error::{PricingError, PricingErrorKind};

use time::OffsetDateTime;

use crate::limits::all_items;
use crate::money::{Currency, CurrencyMismatch};
use crate::settings::TenantSettings;
use crate::tmf::{ProductOfferingPrice, QuoteItem, QuotePrice};
use line::{Line, SettleError, Tax};
use path::ItemPath;

/// A priced quote.
#[derive(Debug, Clone, PartialEq)]
pub struct PricedQuote {
    /// The input items (ids, product, extensions untouched) with `quoteItemPrice` recomputed,
    /// recursively for child items.
    pub items: Vec<QuoteItem>,
    /// `quoteTotalPrice`: one per (priceType, recurringChargePeriod, unitOfMeasure).
    pub total: Vec<QuotePrice>,
    /// Whether the discounts requested on a line, stacked, take more than the tenant's approval
    /// threshold of its list amount (see `docs/pricing.md`, "Approval").
    pub approval_required: bool,
    /// Every catalog price used (list prices and promotions), without duplicates.
    pub price_ids: Vec<String>,
}

/// Largest quantity of one item (per unit of its parent): [`crate::limits::MAX_QUANTITY`].
#[allow(clippy::cast_possible_wrap)] // 1,000,000
pub const MAX_QUANTITY: i64 = crate::limits::MAX_QUANTITY.value as i64;

/// Ids of every offering the items reference, including nested child items, without duplicates
/// (to preload the catalog). Bundled offerings of a bundle are found in the catalog, not here.
pub fn referenced_offering_ids(items: &[QuoteItem]) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    for reference in all_items(items).filter_map(|item| item.product_offering.as_ref()) {
        if !ids.contains(&reference.id) {
            ids.push(reference.id.clone());
        }
    }
    ids
}

/// Prices `items` against `catalog` at `now` with the tenant's tax rate and approval threshold.
///
/// # Errors
/// [`PricingError`] naming the JSON path of the first item at fault: a missing offering
/// reference or a quantity below 1 (validation), an unknown, unsellable or expired offering,
/// an invalid requested discount, or prices in more than one currency.
pub fn price_quote(
    items: &[QuoteItem],
    catalog: &dyn CatalogView,
    settings: &TenantSettings,
    now: OffsetDateTime,
) -> Result<PricedQuote, PricingError> {
    let mut pricer = Pricer {
        catalog,
        settings,
        now,
        tax: Tax::new(settings.tax_rate),
        currency: None,
        used: Vec::new(),
        approval_required: false,
    };
    let mut priced = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        pricer.price_item(item, &ItemPath::top(i), 1, Placement::TopLevel, &mut priced)?;
    }
    Ok(PricedQuote {
        total: totals::quote_totals(&priced, settings.tax_rate)?,
        items: priced,
        approval_required: pricer.approval_required,
        price_ids: offering::unique_ids(&pricer.used),
    })
}

/// Where an item sits, which decides whether it must be sellable and whether it is charged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Placement {
    /// A quote's own item.
    TopLevel,
    /// A child item, charged by its own prices.
    Child,
    /// A child of a bundle that has its own price: included, not charged.
    Included,
}

struct Pricer<'a> {
    catalog: &'a dyn CatalogView,
    settings: &'a TenantSettings,
    now: OffsetDateTime,
    tax: Tax,
    currency: Option<Currency>,
    /// Catalog prices used, unique by reference (ids are de-duplicated at the end).
    used: Vec<&'a ProductOfferingPrice>,
    approval_required: bool,
}

impl<'a> Pricer<'a> {
    fn price_item(
        &mut self,
        item: &QuoteItem,
        path: &ItemPath<'_>,
        parent_quantity: i64,
        placement: Placement,
        out: &mut Vec<QuoteItem>,
    ) -> Result<(), PricingError> {
        let offering_id = match &item.product_offering {
            Some(reference) if !reference.id.is_empty() => reference.id.as_str(),
            _ => {
                return Err(PricingError::new(
                    path.at(".productOffering"),
                    PricingErrorKind::MissingOffering,
                ));
            }
        };
        let own_quantity = item.quantity.unwrap_or(1);
        if !(1..=MAX_QUANTITY).contains(&own_quantity) {
            return Err(PricingError::new(
                path.at(".quantity"),
                PricingErrorKind::InvalidQuantity {
                    quantity: own_quantity,
                },
            ));
        }
        // Each quantity is in range; their product down a chain of nested items may not be.
        let quantity = own_quantity.checked_mul(parent_quantity).ok_or_else(|| {
            PricingError::new(
                path.render(),
                PricingErrorKind::AmountOutOfRange {
                    reason: format!(
                        "quantity {own_quantity} × {parent_quantity} (the quantity of its \
                         parent items) overflows"
                    ),
                },
            )
        })?;
        let catalog: &'a dyn CatalogView = self.catalog;
        let unknown = |id| PricingErrorKind::UnknownOffering { id };
        let offering = offering::known(catalog.offering(offering_id), offering_id, path, unknown)?;
        offering::check_offering(offering, self.now, placement != Placement::TopLevel, path)?;
        let prices = offering::offering_prices(catalog, offering, quantity, self.now, path)?;
        let is_bundle = offering.is_bundle == Some(true);

        let child_placement =
            if placement == Placement::Included || (is_bundle && !prices.lines.is_empty()) {
                Placement::Included
            } else {
                Placement::Child
            };
        let mut children = Vec::with_capacity(item.quote_item.len());
        for (j, child) in item.quote_item.iter().enumerate() {
            self.price_item(
                child,
                &path.child(j),
                quantity,
                child_placement,
                &mut children,
            )?;
        }

        let mut lines: Vec<Line<'a>> = if placement == Placement::Included {
            Vec::new()
        } else if prices.lines.is_empty() && is_bundle && item.quote_item.is_empty() {
            let mut visited = Vec::new();
            let mut visits = 0;
            offering::bundle_lines(
                catalog,
                offering,
                quantity,
                self.now,
                path,
                &mut visited,
                &mut visits,
                &mut self.used,
            )?
        } else {
            prices.lines
        };
        offering::check_lines(lines.len(), path)?;
        for line in &lines {
            offering::mark_used(&mut self.used, line.pop);
        }
        offering::apply_promotions(
            &mut lines,
            &prices.discounts,
            quantity,
            &mut self.used,
            path,
        )?;
        requested::apply_requested(&mut lines, item, path)?;

        let mut quote_item_price = Vec::with_capacity(lines.len());
        for line in lines {
            self.check_currency(line.list.currency, path)?;
            let settled = line
                .settle(&self.tax, self.settings.approval_threshold)
                .map_err(|e| match e {
                    SettleError::Discount(at, reason) => {
                        let at = at.map_or_else(|| path.render(), |at| path.at(&at.suffix()));
                        PricingError::new(at, PricingErrorKind::InvalidDiscount { reason })
                    }
                    SettleError::OutOfRange(reason) => PricingError::new(
                        path.render(),
                        PricingErrorKind::AmountOutOfRange { reason },
                    ),
                })?;
            self.approval_required |= settled.approval_required;
            quote_item_price.push(settled.price);
        }
        out.push(QuoteItem {
            id: item.id.clone(),
            action: item.action.clone(),
            quantity: item.quantity,
            state: item.state,
            note: item.note.clone(),
            product: item.product.clone(),
            product_offering: item.product_offering.clone(),
            quote_item: children,
            quote_item_authorization: item.quote_item_authorization.clone(),
            quote_item_price,
            related_party: item.related_party.clone(),
            type_info: item.type_info.clone(),
            extensions: item.extensions.clone(),
        });
        Ok(())
    }

    fn check_currency(
        &mut self,
        currency: Currency,
        path: &ItemPath<'_>,
    ) -> Result<(), PricingError> {
        match self.currency {
            None => self.currency = Some(currency),
            Some(quote) if quote != currency => {
                return Err(PricingError::new(
                    path.at(".productOffering.id"),
                    CurrencyMismatch {
                        left: quote,
                        right: currency,
                    },
                ));
            }
            Some(_) => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod alteration_tests;
#[cfg(test)]
mod limit_tests;
#[cfg(test)]
mod test_support;
#[cfg(test)]
mod tests;
