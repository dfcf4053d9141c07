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

/// A reason why a requested discount cannot apply, and which one.
pub(super) type DiscountError = (Option<RequestedAt>, String);

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
    fn reduce(
        reduction: Reduction,
        base: Decimal,
        list: Money,
        usage: bool,
    ) -> Result<Decimal, String> {
        match reduction {
            Reduction::Percent(p) => {
                let amount = base * (p * ONE_PERCENT);
                Ok(if usage {
                    amount.normalize()
                } else {
                    round_to_minor_unit(amount, list.currency)
                })
            }
            Reduction::Amount(money) if money.currency != list.currency => Err(format!(
                "the discount is in {} but the price is in {}",
                money.currency, list.currency
            )),
            Reduction::Amount(money) if usage => Ok(money.amount),
            Reduction::Amount(money) => Ok(money.rounded().amount),
        }
    }

    /// Applies the alterations and settles the line into a `QuotePrice`.
    ///
    /// Alterations without `applicationDuration` are permanent: they reduce the line's price
    /// and are computed on the list amount. Time-limited ones (a promotion for 3 months) are
    /// listed with their amount and duration and computed on the price after the permanent
    /// ones, leaving the line's price at what is charged once they end.
    pub(super) fn settle(mut self, tax: &Tax) -> Result<QuotePrice, DiscountError> {
        let list = self.list.amount;
        let mut net = list;
        // Permanent reductions are computed first, on the list amount.
        let (list_money, usage) = (self.list, self.usage);
        for limited in [false, true] {
            let mut remaining = net;
            for alt in &mut self.alterations {
                if is_limited(&alt.template) != limited {
                    continue;
                }
                let base = if limited { net } else { list };
                let mut amount = Self::reduce(alt.reduction, base, list_money, usage)
                    .map_err(|reason| (alt.requested_at, reason))?;
                if amount > remaining {
                    if alt.requested_at.is_some() {
                        let reason = format!("the discounts exceed the price of {list_money}");
                        return Err((alt.requested_at, reason));
                    }
                    amount = remaining;
                }
                remaining -= amount;
                alt.amount = amount;
            }
            if !limited {
                net = remaining;
            }
        }
        let currency = self.list.currency;
        let price_alteration = self
            .alterations
            .into_iter()
            .map(|alt| {
                let percentage = match alt.reduction {
                    Reduction::Percent(p) => Some(p),
                    Reduction::Amount(_) => None,
                };
                PriceAlteration {
                    price: tax.price(Money::new(alt.amount, currency), usage, percentage),
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
