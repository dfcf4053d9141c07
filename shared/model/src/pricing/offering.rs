//! From a catalog offering to price lines: sellability, the prices valid now, promotions, and
//! the expansion of bundles without a price of their own.

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use time::OffsetDateTime;

use super::catalog::{CatalogView, is_retired};
use super::error::{PricingError, PricingErrorKind};
use super::line::{Alteration, Line, Reduction, price_ref};
use super::path::ItemPath;
use crate::limits::MAX_LINES_PER_ITEM;
use crate::money::Money;
use crate::tmf::{PriceAlteration, ProductOffering, ProductOfferingPrice};

/// Where offering errors point, below the item.
const ID: &str = ".productOffering.id";

/// Deepest bundle nesting the engine follows (bundles of bundles of ...).
const MAX_BUNDLE_DEPTH: usize = 8;

/// The prices of an offering valid now: a line per charge, and the discounts.
pub(super) struct OfferingPrices<'c> {
    pub lines: Vec<Line<'c>>,
    pub discounts: Vec<&'c ProductOfferingPrice>,
}

/// Checks that `offering` can be quoted at `now`. `isSellable: false` is only allowed inside a
/// bundle (offerings sold only as bundle components).
pub(super) fn check_offering(
    offering: &ProductOffering,
    now: OffsetDateTime,
    inside_bundle: bool,
    path: &ItemPath<'_>,
) -> Result<(), PricingError> {
    let not_sellable = || PricingErrorKind::NotSellable {
        id: offering.id.clone(),
        lifecycle_status: offering.lifecycle_status.clone(),
    };
    if is_retired(offering.lifecycle_status.as_deref())
        || (!inside_bundle && offering.is_sellable == Some(false))
    {
        return Err(PricingError::new(path.at(ID), not_sellable()));
    }
    if !offering.valid_for.is_none_or(|v| v.contains(now)) {
        return Err(PricingError::new(
            path.at(ID),
            PricingErrorKind::NotValidAt {
                id: offering.id.clone(),
            },
        ));
    }
    Ok(())
}

/// `entry`, the catalog's entry `id`, or the error `unknown` makes of `id`, at the item's
/// offering (`UNKNOWN_OFFERING`, `UNKNOWN_PRICE`).
pub(super) fn known<'c, T>(
    entry: Option<&'c T>,
    id: &str,
    path: &ItemPath<'_>,
    unknown: fn(String) -> PricingErrorKind,
) -> Result<&'c T, PricingError> {
    entry.ok_or_else(|| PricingError::new(path.at(ID), unknown(id.to_owned())))
}

/// The offering's prices that apply at `now` (valid and not retired; expired ones are skipped),
/// with the charges already turned into lines for `quantity` units.
pub(super) fn offering_prices<'c>(
    catalog: &'c dyn CatalogView,
    offering: &ProductOffering,
    quantity: i64,
    now: OffsetDateTime,
    path: &ItemPath<'_>,
) -> Result<OfferingPrices<'c>, PricingError> {
    let mut prices = OfferingPrices {
        lines: Vec::with_capacity(offering.product_offering_price.len()),
        discounts: Vec::new(),
    };
    for reference in &offering.product_offering_price {
        let unknown = |id| PricingErrorKind::UnknownPrice { id };
        let pop = known(catalog.price(&reference.id), &reference.id, path, unknown)?;
        if is_retired(pop.lifecycle_status.as_deref())
            || !pop.valid_for.is_none_or(|v| v.contains(now))
        {
            continue;
        }
        if pop.price_type.eq_ignore_ascii_case("discount") {
            prices.discounts.push(pop);
        } else if let Some(line) = charge_line(pop, quantity, path)? {
            prices.lines.push(line);
        }
    }
    Ok(prices)
}

/// The canonical spelling of the price types the engine knows; others are kept as they are.
fn canonical_type(price_type: &str) -> String {
    for known in ["recurring", "oneTime", "usage"] {
        if price_type.eq_ignore_ascii_case(known) {
            return known.to_owned();
        }
    }
    price_type.to_owned()
}

/// `month` for `month`/`monthly`/`Month`, `year` for `yearly`/`annual`, etc. (other periods are
/// kept as written); a length above 1 is written before it (`3 month`).
fn charge_period(pop: &ProductOfferingPrice) -> Option<String> {
    let raw = pop.recurring_charge_period_type.as_deref()?;
    let known = [
        ("month", "month"),
        ("monthly", "month"),
        ("year", "year"),
        ("yearly", "year"),
        ("annual", "year"),
        ("annually", "year"),
        ("week", "week"),
        ("weekly", "week"),
        ("day", "day"),
        ("daily", "day"),
    ];
    let period = known
        .iter()
        .find(|(spelling, _)| raw.eq_ignore_ascii_case(spelling))
        .map_or(raw, |(_, period)| period);
    match pop.recurring_charge_period_length {
        Some(n) if n > 1 => Some(format!("{n} {period}")),
        _ => Some(period.to_owned()),
    }
}

/// `unit` × `quantity`, or the error naming the item and the price.
pub(super) fn times_quantity(
    unit: Money,
    quantity: i64,
    pop: &ProductOfferingPrice,
    path: &ItemPath<'_>,
) -> Result<Money, PricingError> {
    unit.amount
        .checked_mul(Decimal::from(quantity))
        .map(|amount| Money::new(amount, unit.currency))
        .ok_or_else(|| {
            PricingError::new(
                path.render(),
                PricingErrorKind::AmountOutOfRange {
                    reason: format!("price {} of {unit} × quantity {quantity} overflows", pop.id),
                },
            )
        })
}

/// The line of a charge price for `quantity` units (none for a price without amount). Usage
/// rates are per unit and not multiplied.
fn charge_line<'c>(
    pop: &'c ProductOfferingPrice,
    quantity: i64,
    path: &ItemPath<'_>,
) -> Result<Option<Line<'c>>, PricingError> {
    let Some(unit) = pop.price else {
        return Ok(None);
    };
    let price_type = canonical_type(&pop.price_type);
    let usage = price_type == "usage";
    let list = if usage {
        unit
    } else {
        times_quantity(unit, quantity, pop, path)?.rounded()
    };
    let uom = pop.unit_of_measure.as_ref().map(|q| {
        if q.amount == Decimal::ONE {
            q.units.clone()
        } else {
            format!("{} {}", q.amount.normalize(), q.units)
        }
    });
    let period = if price_type == "oneTime" || usage {
        None
    } else {
        charge_period(pop)
    };
    Ok(Some(Line {
        pop,
        price_type,
        period,
        uom,
        usage,
        list,
        alterations: Vec::new(),
    }))
}

/// Adds catalog promotions to the lines they alter (`popRelationship`; none means every
/// recurring and one-time line). The duration of `productOfferingTerm` becomes
/// `applicationDuration` on recurring lines.
pub(super) fn apply_promotions<'c>(
    lines: &mut [Line<'c>],
    discounts: &[&'c ProductOfferingPrice],
    quantity: i64,
    used: &mut Vec<&'c ProductOfferingPrice>,
    path: &ItemPath<'_>,
) -> Result<(), PricingError> {
    for promo in discounts {
        let duration = promo
            .product_offering_term
            .iter()
            .find_map(|t| t.duration.as_ref())
            .and_then(|d| d.amount.trunc().to_i64());
        for line in lines.iter_mut() {
            // A promotion naming no price alters the charges the engine knows (recurring,
            // one-time); a type it does not know (penalty, allowance) is never altered blindly.
            let targeted = if promo.pop_relationship.is_empty() {
                line.price_type == "recurring" || line.price_type == "oneTime"
            } else {
                promo.pop_relationship.iter().any(|r| r.id == line.pop.id)
            };
            let reduction = match (promo.percentage, promo.price) {
                (Some(p), _) => Reduction::Percent(p),
                (None, Some(unit)) if line.usage => Reduction::Amount(unit),
                (None, Some(unit)) => {
                    Reduction::Amount(times_quantity(unit, quantity, promo, path)?)
                }
                (None, None) => continue,
            };
            if !targeted {
                continue;
            }
            let recurring = line.price_type == "recurring";
            line.alterations.push(Alteration {
                template: PriceAlteration {
                    application_duration: if recurring { duration } else { None },
                    description: promo.description.clone(),
                    name: promo.name.clone(),
                    price_type: promo.price_type.clone(),
                    recurring_charge_period: line.period.clone(),
                    unit_of_measure: line.uom.clone(),
                    product_offering_price: Some(price_ref(promo)),
                    ..PriceAlteration::default()
                },
                reduction,
                requested_at: None,
                amount: Decimal::ZERO,
            });
            mark_used(used, promo);
        }
    }
    Ok(())
}

/// Refuses more than [`MAX_LINES_PER_ITEM`] lines (or bundle components visited) for one item,
/// before more work is done: a catalog of bundles of bundles could otherwise expand one item
/// exponentially.
pub(super) fn check_lines(count: usize, path: &ItemPath<'_>) -> Result<(), PricingError> {
    MAX_LINES_PER_ITEM
        .check(count, || path.render())
        .map_err(|e| PricingError::new(e.path.clone(), PricingErrorKind::Limit(e)))
}

/// Lines of a bundle without a price of its own: each bundled offering's own lines (with its
/// promotions), recursively for bundles inside bundles. `visits` counts the bundles expanded
/// so far for this item.
#[allow(clippy::too_many_arguments)] // the expansion's state, each needed
pub(super) fn bundle_lines<'c>(
    catalog: &'c dyn CatalogView,
    bundle: &'c ProductOffering,
    quantity: i64,
    now: OffsetDateTime,
    path: &ItemPath<'_>,
    visited: &mut Vec<&'c str>,
    visits: &mut usize,
    used: &mut Vec<&'c ProductOfferingPrice>,
) -> Result<Vec<Line<'c>>, PricingError> {
    if visited.contains(&bundle.id.as_str()) || visited.len() >= MAX_BUNDLE_DEPTH {
        return Err(PricingError::new(
            path.at(ID),
            PricingErrorKind::BundleCycle {
                id: bundle.id.clone(),
            },
        ));
    }
    visited.push(&bundle.id);
    let mut lines = Vec::new();
    // Each bundle expanded counts: a tree of bundles that never reaches a price would
    // otherwise be walked whole (20 wide and 8 deep is 20^8 walks) without producing a line.
    *visits += 1;
    check_lines(*visits, path)?;
    for child_ref in &bundle.bundled_product_offering {
        let unknown = |id| PricingErrorKind::UnknownOffering { id };
        let child = known(
            catalog.offering(&child_ref.id),
            &child_ref.id,
            path,
            unknown,
        )?;
        check_offering(child, now, true, path)?;
        let prices = offering_prices(catalog, child, quantity, now, path)?;
        let mut child_lines = if prices.lines.is_empty() && child.is_bundle == Some(true) {
            bundle_lines(catalog, child, quantity, now, path, visited, visits, used)?
        } else {
            prices.lines
        };
        apply_promotions(&mut child_lines, &prices.discounts, quantity, used, path)?;
        check_lines(lines.len() + child_lines.len(), path)?;
        lines.append(&mut child_lines);
    }
    visited.pop();
    Ok(lines)
}

/// Records that `pop` was used. Compares references, not ids: a catalog view hands out one
/// reference per price, and comparing ids for every line is measurably slower.
pub(super) fn mark_used<'c>(
    used: &mut Vec<&'c ProductOfferingPrice>,
    pop: &'c ProductOfferingPrice,
) {
    if !used.iter().any(|seen| std::ptr::eq(*seen, pop)) {
        used.push(pop);
    }
}

/// The ids of the used prices in first-use order, without duplicates (a catalog view may hand
/// out different references for one id).
pub(super) fn unique_ids(used: &[&ProductOfferingPrice]) -> Vec<String> {
    let mut ids: Vec<String> = Vec::with_capacity(used.len());
    for pop in used {
        if !ids.contains(&pop.id) {
            ids.push(pop.id.clone());
        }
    }
    ids
}
