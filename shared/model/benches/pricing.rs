//! Prices a 20-item quote against the sample catalog: every price type, the promotion, a
//! bundle priced by its components, quantities and requested discounts.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use q2c_model::pricing::price_quote;
use q2c_model::sample_catalog::sample_catalog;
use q2c_model::settings::TenantSettings;
use q2c_model::tmf::{EntityRef, Price, PriceAlteration, QuoteItem, QuotePrice};
use rust_decimal::Decimal;
use time::macros::datetime;

fn twenty_items() -> Vec<QuoteItem> {
    let offerings = [
        "mobile-s",
        "mobile-l",
        "fibre-1g",
        "tv-addon",
        "handset-x1",
        "home-bundle",
    ];
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

fn pricing(c: &mut Criterion) {
    let catalog = sample_catalog();
    let settings = TenantSettings::default();
    let items = twenty_items();
    let now = datetime!(2026-03-10 12:00 UTC);
    c.bench_function("price_quote/20 items", |b| {
        b.iter(|| price_quote(black_box(&items), &catalog, &settings, now).expect("prices"))
    });
}

criterion_group!(benches, pricing);
criterion_main!(benches);
