//! A price line being computed: the list amount of one catalog price on one item, the
//! alterations that apply to it, and how it settles into a TMF `QuotePrice` with tax.

use rust_decimal::Decimal;

use crate::limits::MAX_SIGNIFICANT_DIGITS;
use crate::money::decimal_number::unrepresentable_digits;
use crate::money::{Money, round_to_minor_unit};
use crate::tmf::{EntityRef, Price, PriceAlteration, ProductOfferingPrice, QuotePrice};

/// 0.01: multiplying by it is exact and cheaper than dividing by 100.
const ONE_PERCENT: Decimal = Decimal::from_parts(1, 0, 0, false, 2);

/// How much an alteration takes off.
#[derive(Debug, Clone, Copy)]
pub(super) enum Reduction {
    /// A percentage of the base amount (50 means half).
    Percent(Decimal),
    /// An amount for the whole line (already multiplied by the quantity).
    Amount(Money),
}

/// An alteration waiting to be applied: the TMF shape without amounts, and its reduction.
#[derive(Debug, Clone)]
pub(super) struct Alteration {
    /// Everything but the computed `price`.
    pub template: PriceAlteration,
    /// What it takes off.
    pub reduction: Reduction,
    /// Where a discount requested on the quote was asked for: it is validated strictly
    /// (errors), where a catalog promotion (`None`) is only capped at what is left of the price.
    pub requested_at: Option<RequestedAt>,
    /// The reduction, once computed by [`Line::settle`].
    pub amount: Decimal,
}

/// The position of a requested discount: `quoteItemPrice[price].priceAlteration[alteration]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct RequestedAt {
    /// Index in the item's `quoteItemPrice`.
    pub price: usize,
    /// Index in that price's `priceAlteration`.
    pub alteration: usize,
}

impl RequestedAt {
    /// The JSON path below the item, e.g. `.quoteItemPrice[0].priceAlteration[1]`.
    pub(super) fn suffix(&self) -> String {
        format!(
            ".quoteItemPrice[{}].priceAlteration[{}]",
            self.price, self.alteration
        )
    }
}

/// One computed price line of an item.
#[derive(Debug, Clone)]
pub(super) struct Line<'c> {
    /// The catalog price.
    pub pop: &'c ProductOfferingPrice,
    /// `recurring`, `oneTime`, `usage`, or the catalog's own type.
    pub price_type: String,
    /// Charge period of a recurring line.
    pub period: Option<String>,
    /// Unit of a usage line.
    pub uom: Option<String>,
    /// Usage lines hold an unrounded unit rate, not a charged amount.
    pub usage: bool,
    /// The list amount: unit price × quantity rounded, or the usage rate.
    pub list: Money,
    /// Alterations to apply, in order.
    pub alterations: Vec<Alteration>,
}

/// Why a line cannot settle.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum SettleError {
    /// A requested discount cannot apply (which one, when known) and why.
    Discount(Option<RequestedAt>, String),
    /// An amount overflows or cannot be written exactly.
    OutOfRange(String),
}

/// A settled line, and whether the discounts requested on it need approval.
pub(super) struct Settled {
    pub price: QuotePrice,
    pub approval_required: bool,
}

/// The tax rule: tax-included = duty-free × (100 + rate) / 100, rounded per line (not for
/// usage rates, which stay unrounded).
#[derive(Debug, Clone, Copy)]
pub(super) struct Tax {
    /// The rate in percent.
    pub rate: Decimal,
    factor: Decimal,
}

/// `Err` naming `what` when `amount` cannot be written exactly as a JSON number.
pub(super) fn representable(
    amount: Decimal,
    what: impl FnOnce() -> String,
) -> Result<Decimal, SettleError> {
    match unrepresentable_digits(&amount) {
        None => Ok(amount),
        Some(digits) => Err(SettleError::OutOfRange(format!(
            "{} is {amount}, {digits} significant digits (at most {MAX_SIGNIFICANT_DIGITS} can be stored exactly)",
            what()
        ))),
    }
}

fn overflow(what: &str) -> SettleError {
    SettleError::OutOfRange(format!("{what} overflows"))
}

impl Tax {
    pub(super) fn new(rate: Decimal) -> Self {
        Tax {
            rate,
            factor: (Decimal::ONE_HUNDRED + rate) / Decimal::ONE_HUNDRED,
        }
    }

    pub(super) fn included(&self, amount: Money, usage: bool) -> Result<Money, SettleError> {
        let gross = amount
            .amount
            .checked_mul(self.factor)
            .ok_or_else(|| overflow("the tax-included amount"))?;
        let gross = Money::new(gross, amount.currency);
        Ok(if usage {
            Money::new(gross.amount.normalize(), gross.currency)
        } else {
            gross.rounded()
        })
    }

    pub(super) fn price(
        &self,
        duty_free: Money,
        usage: bool,
        percentage: Option<Decimal>,
    ) -> Result<Price, SettleError> {
        let included = self.included(duty_free, usage)?;
        representable(duty_free.amount, || "the duty-free amount".to_owned())?;
        representable(included.amount, || "the tax-included amount".to_owned())?;
        Ok(Price {
            percentage,
            tax_rate: Some(self.rate),
            duty_free_amount: Some(duty_free),
            tax_included_amount: Some(included),
            ..Price::default()
        })
    }
}

impl Line<'_> {
    /// The reduction before rounding (what approval compares) and the amount charged.
    fn reduce(
        reduction: Reduction,
        base: Decimal,
        list: Money,
        usage: bool,
    ) -> Result<(Decimal, Decimal), String> {
        match reduction {
            Reduction::Percent(p) => {
                let raw = p
                    .checked_mul(ONE_PERCENT)
                    .and_then(|f| base.checked_mul(f))
                    .ok_or_else(|| String::from("the discount overflows"))?;
                let amount = if usage {
                    raw.normalize()
                } else {
                    round_to_minor_unit(raw, list.currency)
                };
                Ok((raw, amount))
            }
            Reduction::Amount(money) if money.currency != list.currency => Err(format!(
                "the discount is in {} but the price is in {}",
                money.currency, list.currency
            )),
            Reduction::Amount(money) if usage => Ok((money.amount, money.amount)),
            Reduction::Amount(money) => Ok((money.amount, money.rounded().amount)),
        }
    }

    /// Applies the alterations and settles the line into a `QuotePrice`.
    ///
    /// Alterations without `applicationDuration` are permanent: they reduce the line's price
    /// and are computed on the list amount. Time-limited ones (a promotion for 3 months) are
    /// listed with their amount and duration and computed on the price after the permanent
    /// ones, leaving the line's price at what is charged once they end.
    ///
    /// Approval: the discounts *requested* on the line (catalog promotions are the operator's
    /// own offer) are summed before rounding; when they take more than `threshold` percent
    /// of the list amount, the line needs approval. Stacked discounts therefore count
    /// together: six 15 % discounts take 90 %.
    pub(super) fn settle(mut self, tax: &Tax, threshold: Decimal) -> Result<Settled, SettleError> {
        let list = self.list.amount;
        let mut net = list;
        let mut requested = Decimal::ZERO;
        // Permanent reductions are computed first, on the list amount.
        let (list_money, usage) = (self.list, self.usage);
        for limited in [false, true] {
            let mut remaining = net;
            for alt in &mut self.alterations {
                if is_limited(&alt.template) != limited {
                    continue;
                }
                let base = if limited { net } else { list };
                let (raw, mut amount) = Self::reduce(alt.reduction, base, list_money, usage)
                    .map_err(|reason| SettleError::Discount(alt.requested_at, reason))?;
                if amount > remaining {
                    if alt.requested_at.is_some() {
                        let reason = format!("the discounts exceed the price of {list_money}");
                        return Err(SettleError::Discount(alt.requested_at, reason));
                    }
                    amount = remaining;
                }
                if alt.requested_at.is_some() {
                    requested = requested
                        .checked_add(raw)
                        .ok_or_else(|| overflow("the discounts"))?;
                }
                remaining -= amount;
                alt.amount = amount;
            }
            if !limited {
                net = remaining;
            }
        }
        let approval_required = !requested.is_zero()
            && requested
                .checked_mul(Decimal::ONE_HUNDRED)
                .zip(threshold.checked_mul(list))
                .is_none_or(|(taken, allowed)| taken > allowed);
        let currency = self.list.currency;
        let mut price_alteration = Vec::with_capacity(self.alterations.len());
        for alt in self.alterations {
            let percentage = match alt.reduction {
                Reduction::Percent(p) => Some(p),
                Reduction::Amount(_) => None,
            };
            price_alteration.push(PriceAlteration {
                price: tax.price(Money::new(alt.amount, currency), usage, percentage)?,
                ..alt.template
            });
        }
        Ok(Settled {
            price: QuotePrice {
                name: self.pop.name.clone(),
                description: self.pop.description.clone(),
                price_type: self.price_type,
                recurring_charge_period: self.period,
                unit_of_measure: self.uom,
                price: tax.price(Money::new(net, currency), usage, None)?,
                price_alteration,
                product_offering_price: Some(price_ref(self.pop)),
                ..QuotePrice::default()
            },
            approval_required,
        })
    }
}

fn is_limited(alteration: &PriceAlteration) -> bool {
    alteration.application_duration.is_some_and(|d| d > 0)
}

/// A reference to a catalog price, with its name and the catalog's href (the service puts the
/// serving server's href in its place before storing: `q2c_service::hrefs`).
pub(super) fn price_ref(pop: &ProductOfferingPrice) -> EntityRef {
    EntityRef {
        id: pop.id.clone(),
        href: pop.href.clone(),
        name: pop.name.clone(),
        ..EntityRef::default()
    }
}
