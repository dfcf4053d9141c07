//! What the property tests of the pricing engine share: the line sums a priced quote's totals
//! are checked against.

use std::collections::BTreeMap;

use q2c_model::tmf::QuoteItem;
use rust_decimal::Decimal;

/// A total's key: price type, period, unit.
pub type TotalKey = (String, Option<String>, Option<String>);

/// Sums every line of `items` (recursively) per (type, period, unit): duty-free and
/// tax-included, checked.
pub fn sum_lines(items: &[QuoteItem], sums: &mut BTreeMap<TotalKey, (Decimal, Decimal)>) {
    for item in items {
        for line in &item.quote_item_price {
            let key = (
                line.price_type.clone(),
                line.recurring_charge_period.clone(),
                line.unit_of_measure.clone(),
            );
            let entry = sums.entry(key).or_default();
            let free = line.price.duty_free_amount.expect("duty-free").amount;
            let included = line.price.tax_included_amount.expect("included").amount;
            entry.0 = entry
                .0
                .checked_add(free)
                .expect("a line sum the engine summed");
            entry.1 = entry
                .1
                .checked_add(included)
                .expect("a line sum the engine summed");
        }
        sum_lines(&item.quote_item, sums);
    }
}
