//! Discounts requested on the quote: alterations without a `productOfferingPrice` reference in
//! the item's `quoteItemPrice`, attached to the computed line they name.

use rust_decimal::Decimal;

use super::error::{PricingError, PricingErrorKind};
use super::line::{Alteration, Line, Reduction, RequestedAt};
use super::path::ItemPath;
use crate::limits::{LimitError, MAX_SIGNIFICANT_DIGITS};
use crate::money::CurrencyMismatch;
use crate::money::decimal_number::unrepresentable_digits;
use crate::tmf::{Price, PriceAlteration, QuoteItem, QuotePrice};

fn invalid(path: String, reason: impl Into<String>) -> PricingError {
    PricingError::new(
        path,
        PricingErrorKind::InvalidDiscount {
            reason: reason.into(),
        },
    )
}

/// Attaches the requested discounts of `item` to `lines` (whether they need approval is
/// decided when the line settles, on all of them together).
pub(super) fn apply_requested(
    lines: &mut [Line<'_>],
    item: &QuoteItem,
    path: &ItemPath<'_>,
) -> Result<(), PricingError> {
    for (k, requested) in item.quote_item_price.iter().enumerate() {
        for (m, alt) in requested.price_alteration.iter().enumerate() {
            if alt.product_offering_price.is_some() {
                continue; // a catalog promotion from an earlier pricing: recomputed, not requested
            }
            let at = RequestedAt {
                price: k,
                alteration: m,
            };
            let alt_path = || path.at(&at.suffix());
            let reduction = requested_reduction(alt, alt_path)?;
            let line = lines
                .iter_mut()
                .find(|line| matches_line(requested, line))
                .ok_or_else(|| {
                    let period = requested
                        .recurring_charge_period
                        .as_deref()
                        .map(|p| format!(" per {p}"))
                        .unwrap_or_default();
                    invalid(
                        path.at(&format!(".quoteItemPrice[{k}]")),
                        format!(
                            "no {} price{period} on this item to discount",
                            requested.price_type
                        ),
                    )
                })?;
            if let Reduction::Amount(money) = reduction {
                if money.currency != line.list.currency {
                    let mismatch = CurrencyMismatch {
                        left: line.list.currency,
                        right: money.currency,
                    };
                    return Err(PricingError::new(alt_path(), mismatch));
                }
                if money.amount > line.list.amount {
                    return Err(invalid(
                        alt_path(),
                        format!("{money} is more than the price of {}", line.list),
                    ));
                }
            }
            let template = PriceAlteration {
                price_type: if alt.price_type.is_empty() {
                    "discount".to_owned()
                } else {
                    alt.price_type.clone()
                },
                price: Price::default(),
                ..alt.clone()
            };
            line.alterations.push(Alteration {
                template,
                reduction,
                requested_at: Some(at),
                amount: Decimal::ZERO,
            });
        }
    }
    Ok(())
}

fn requested_reduction(
    alt: &PriceAlteration,
    path: impl Fn() -> String,
) -> Result<Reduction, PricingError> {
    if !alt.price_type.is_empty() && !alt.price_type.eq_ignore_ascii_case("discount") {
        return Err(invalid(
            path(),
            format!("only discounts can be requested, not {}", alt.price_type),
        ));
    }
    let digits = |value: &Decimal, field: &str| match unrepresentable_digits(value) {
        Some(digits) => Err(PricingError::new(
            format!("{}.price.{field}", path()),
            PricingErrorKind::Limit(LimitError::new(
                MAX_SIGNIFICANT_DIGITS,
                digits as usize,
                format!("{}.price.{field}", path()),
            )),
        )),
        None => Ok(()),
    };
    if let Some(p) = &alt.price.percentage {
        digits(p, "percentage")?;
    }
    if let Some(money) = &alt.price.duty_free_amount {
        digits(&money.amount, "dutyFreeAmount.value")?;
    }
    match (alt.price.percentage, alt.price.duty_free_amount) {
        (Some(p), _) if p <= Decimal::ZERO || p > Decimal::ONE_HUNDRED => Err(invalid(
            path(),
            format!("percentage {p} is outside (0, 100]"),
        )),
        (Some(p), _) => Ok(Reduction::Percent(p)),
        (None, Some(money)) if money.amount <= Decimal::ZERO => {
            Err(invalid(path(), format!("amount {money} is not positive")))
        }
        (None, Some(money)) => Ok(Reduction::Amount(money)),
        (None, None) => Err(invalid(
            path(),
            "a discount needs price.percentage or price.dutyFreeAmount",
        )),
    }
}

fn matches_line(requested: &QuotePrice, line: &Line<'_>) -> bool {
    let same = |a: Option<&str>, b: Option<&str>| match (a, b) {
        (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
        (a, b) => a == b,
    };
    requested.price_type.eq_ignore_ascii_case(&line.price_type)
        && same(
            requested.recurring_charge_period.as_deref(),
            line.period.as_deref(),
        )
        && requested
            .product_offering_price
            .as_ref()
            .is_none_or(|r| r.id == line.pop.id)
        && requested
            .unit_of_measure
            .as_deref()
            .is_none_or(|u| same(Some(u), line.uom.as_deref()))
}
