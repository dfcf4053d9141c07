//! The 20-item quote priced by the benchmark and by `examples/price_loop.rs`: every price type,
//! the promotion, a bundle priced by its components, quantities 1-3 and five requested 12.5 %
//! discounts.

use q2c_model::sample_catalog::SELLABLE_OFFERINGS;
use q2c_model::tmf::{EntityRef, Price, PriceAlteration, QuoteItem, QuotePrice};
use rust_decimal::Decimal;

/// The quote's items.
pub fn twenty_items() -> Vec<QuoteItem> {
    let offerings = SELLABLE_OFFERINGS;
    (0..20)
        .map(|i| {
            let mut item = QuoteItem {
                id: Some(format!("{}", i + 1)),
                action: Some("add".into()),
                quantity: Some(1 + (i as i64 % 3)),
                product_offering: Some(EntityRef::to(offerings[i % offerings.len()])),
                ..QuoteItem::default()
            };
            if i % 4 == 0 {
                item.quote_item_price = vec![QuotePrice {
                    price_type: "recurring".into(),
                    recurring_charge_period: Some("month".into()),
                    price_alteration: vec![PriceAlteration {
                        price_type: "discount".into(),
                        price: Price {
                            percentage: Some(Decimal::new(125, 1)),
                            ..Price::default()
                        },
                        ..PriceAlteration::default()
                    }],
                    ..QuotePrice::default()
                }];
            }
            item
        })
        .collect()
}
