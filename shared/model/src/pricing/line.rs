//! A price line being computed: the list amount of one catalog price on one item, the
//! alterations that apply to it, and how it settles into a TMF `QuotePrice` with tax.

use rust_decimal::Decimal;

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
    /// `Some(json path)` for a discount requested on the quote: it is validated strictly
    /// (errors), where a catalog promotion is only capped at what is left of the price.
    pub requested_at: Option<String>,
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

/// A reason why a requested discount cannot apply, at a JSON path.
pub(super) type DiscountError = (String, String);

/// The tax rule: tax-included = duty-free × (100 + rate) / 100, rounded per line (not for
/// usage rates, which stay unrounded).
#[derive(Debug, Clone, Copy)]
pub(super) struct Tax {
    /// The rate in percent.
    pub rate: Decimal,
    factor: Decimal,
}

impl Tax {
    pub(super) fn new(rate: Decimal) -> Self {
        Tax {
            rate,
            factor: (Decimal::ONE_HUNDRED + rate) / Decimal::ONE_HUNDRED,
        }
    }

    pub(super) fn included(&self, amount: Money, usage: bool) -> Money {
        let gross = amount.times(self.factor);
        if usage {
            Money::new(gross.amount.normalize(), gross.currency)
        } else {
            gross.rounded()
        }
    }

    pub(super) fn price(
        &self,
        duty_free: Money,
        usage: bool,
        percentage: Option<Decimal>,
    ) -> Price {
        Price {
            percentage,
            tax_rate: Some(self.rate),
            duty_free_amount: Some(duty_free),
            tax_included_amount: Some(self.included(duty_free, usage)),
            ..Price::default()
        }
    }
}

impl Line<'_> {
    fn reduce(&self, reduction: Reduction, base: Decimal) -> Result<Decimal, String> {
        match reduction {
            Reduction::Percent(p) => {
                let amount = base * (p * ONE_PERCENT);
                Ok(if self.usage {
                    amount.normalize()
                } else {
                    round_to_minor_unit(amount, self.list.currency)
                })
            }
            Reduction::Amount(money) if money.currency != self.list.currency => Err(format!(
                "the discount is in {} but the price is in {}",
                money.currency, self.list.currency
            )),
            Reduction::Amount(money) if self.usage => Ok(money.amount),
            Reduction::Amount(money) => Ok(money.rounded().amount),
        }
    }

    /// Applies the alterations and settles the line into a `QuotePrice`.
    ///
    /// Alterations without `applicationDuration` are permanent: they reduce the line's price
    /// and are computed on the list amount. Time-limited ones (a promotion for 3 months) are
    /// listed with their amount and duration and computed on the price after the permanent
    /// ones, leaving the line's price at what is charged once they end.
    pub(super) fn settle(self, tax: &Tax) -> Result<QuotePrice, DiscountError> {
        let list = self.list.amount;
        let mut net = list;
        // Reductions by alteration index; permanent ones are computed first, on the list amount.
        let mut amounts = vec![Decimal::ZERO; self.alterations.len()];
        for limited in [false, true] {
            let mut remaining = net;
            for (index, alt) in self.alterations.iter().enumerate() {
                if is_limited(&alt.template) != limited {
                    continue;
                }
                let base = if limited { net } else { list };
                let mut amount = self
                    .reduce(alt.reduction, base)
                    .map_err(|reason| (alt.requested_at.clone().unwrap_or_default(), reason))?;
                if amount > remaining {
                    if let Some(path) = &alt.requested_at {
                        let reason = format!("the discounts exceed the price of {}", self.list);
                        return Err((path.clone(), reason));
                    }
                    amount = remaining;
                }
                remaining -= amount;
                amounts[index] = amount;
            }
            if !limited {
                net = remaining;
            }
        }
        let currency = self.list.currency;
        let usage = self.usage;
        let price_alteration = self
            .alterations
            .into_iter()
            .zip(amounts)
            .map(|(alt, amount)| {
                let percentage = match alt.reduction {
                    Reduction::Percent(p) => Some(p),
                    Reduction::Amount(_) => None,
                };
                PriceAlteration {
                    price: tax.price(Money::new(amount, currency), usage, percentage),
                    ..alt.template
                }
            })
            .collect();
        Ok(QuotePrice {
            name: self.pop.name.clone(),
            description: self.pop.description.clone(),
            price_type: self.price_type,
            recurring_charge_period: self.period,
            unit_of_measure: self.uom,
            price: tax.price(Money::new(net, currency), usage, None),
            price_alteration,
            product_offering_price: Some(price_ref(self.pop)),
            ..QuotePrice::default()
        })
    }
}

fn is_limited(alteration: &PriceAlteration) -> bool {
    alteration.application_duration.is_some_and(|d| d > 0)
}

/// A reference to a catalog price, with its name and href.
pub(super) fn price_ref(pop: &ProductOfferingPrice) -> EntityRef {
    EntityRef {
        id: pop.id.clone(),
        href: pop.href.clone(),
        name: pop.name.clone(),
        ..EntityRef::default()
    }
}
