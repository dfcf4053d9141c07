//! `quoteTotalPrice`: the sum of every item's lines (children included), one total per
//! (priceType, recurringChargePeriod, unitOfMeasure). Lines are already rounded, so a total is
//! exactly the sum of the item prices: there is no rounding drift.

use rust_decimal::Decimal;

use super::error::{PricingError, PricingErrorKind};
use crate::limits::MAX_SIGNIFICANT_DIGITS;
use crate::money::Money;
use crate::money::decimal_number::unrepresentable_digits;
use crate::tmf::{Price, PriceAlteration, QuoteItem, QuotePrice};

/// Why a sum failed (the caller names the item that made it fail).
type SumError = String;

/// Sort rank of a price type in the totals: recurring, oneTime, usage, then the others.
fn rank(price_type: &str) -> u8 {
    match price_type {
        "recurring" => 0,
        "oneTime" => 1,
        "usage" => 2,
        _ => 3,
    }
}

fn add(a: Option<Money>, b: Option<Money>) -> Result<Option<Money>, SumError> {
    match (a, b) {
        (Some(a), Some(b)) => {
            let sum = a
                .amount
                .checked_add(b.amount)
                .ok_or_else(|| format!("the total of {a} and {b} overflows"))?;
            if let Some(digits) = unrepresentable_digits(&sum) {
                return Err(format!(
                    "the total {sum} {} has {digits} significant digits (at most {MAX_SIGNIFICANT_DIGITS} can be stored exactly)",
                    a.currency
                ));
            }
            Ok(Some(Money::new(sum, a.currency)))
        }
        (a, b) => Ok(a.or(b)),
    }
}

fn add_price(total: &mut Price, line: &Price) -> Result<(), SumError> {
    total.duty_free_amount = add(total.duty_free_amount, line.duty_free_amount)?;
    total.tax_included_amount = add(total.tax_included_amount, line.tax_included_amount)?;
    Ok(())
}

/// Alterations of the same kind (type, name, catalog price, duration) merge into one, summing
/// amounts; the percentage stays when all agree.
fn merge_alteration(
    into: &mut Vec<PriceAlteration>,
    alt: &PriceAlteration,
) -> Result<(), SumError> {
    let same = |t: &&mut PriceAlteration| {
        t.price_type == alt.price_type
            && t.name == alt.name
            && t.application_duration == alt.application_duration
            && t.product_offering_price.as_ref().map(|r| &r.id)
                == alt.product_offering_price.as_ref().map(|r| &r.id)
    };
    match into.iter_mut().find(same) {
        Some(total) => {
            add_price(&mut total.price, &alt.price)?;
            if total.price.percentage != alt.price.percentage {
                total.price.percentage = None;
            }
        }
        None => into.push(PriceAlteration {
            application_duration: alt.application_duration,
            description: alt.description.clone(),
            name: alt.name.clone(),
            price_type: alt.price_type.clone(),
            recurring_charge_period: alt.recurring_charge_period.clone(),
            unit_of_measure: alt.unit_of_measure.clone(),
            price: alt.price.clone(),
            product_offering_price: alt.product_offering_price.clone(),
            ..PriceAlteration::default()
        }),
    }
    Ok(())
}

/// Adds the items' lines into `totals`; a sum out of range names the item whose line made it so.
fn collect(
    items: &[QuoteItem],
    path: &str,
    totals: &mut Vec<QuotePrice>,
) -> Result<(), PricingError> {
    for (i, item) in items.iter().enumerate() {
        let here = format!("{path}[{i}]");
        let at_item = |reason: SumError| {
            PricingError::new(here.clone(), PricingErrorKind::AmountOutOfRange { reason })
        };
        for line in &item.quote_item_price {
            let existing = totals.iter().position(|t| {
                t.price_type == line.price_type
                    && t.recurring_charge_period == line.recurring_charge_period
                    && t.unit_of_measure == line.unit_of_measure
            });
            let index = match existing {
                Some(index) => {
                    add_price(&mut totals[index].price, &line.price).map_err(at_item)?;
                    index
                }
                None => {
                    totals.push(QuotePrice {
                        price_type: line.price_type.clone(),
                        recurring_charge_period: line.recurring_charge_period.clone(),
                        unit_of_measure: line.unit_of_measure.clone(),
                        price: Price {
                            percentage: None,
                            ..line.price.clone()
                        },
                        ..QuotePrice::default()
                    });
                    totals.len() - 1
                }
            };
            for alt in &line.price_alteration {
                merge_alteration(&mut totals[index].price_alteration, alt).map_err(at_item)?;
            }
        }
        collect(&item.quote_item, &format!("{here}.quoteItem"), totals)?;
    }
    Ok(())
}

/// The quote's totals, in a stable order: recurring, oneTime, usage, then other types, each
/// sorted by period and unit. Every total carries the tax rate.
///
/// # Errors
/// `AmountOutOfRange` naming the item whose line makes a total overflow or exceed 15
/// significant digits.
pub(super) fn quote_totals(
    items: &[QuoteItem],
    tax_rate: Decimal,
) -> Result<Vec<QuotePrice>, PricingError> {
    let mut totals = Vec::new();
    collect(items, "quoteItem", &mut totals)?;
    for total in &mut totals {
        total.price.tax_rate = Some(tax_rate);
        total.name = Some(match &total.recurring_charge_period {
            Some(period) => format!("Total {} per {period}", total.price_type),
            None => format!("Total {}", total.price_type),
        });
    }
    totals.sort_by(|a, b| {
        (
            rank(&a.price_type),
            &a.price_type,
            &a.recurring_charge_period,
            &a.unit_of_measure,
        )
            .cmp(&(
                rank(&b.price_type),
                &b.price_type,
                &b.recurring_charge_period,
                &b.unit_of_measure,
            ))
    });
    Ok(totals)
}
