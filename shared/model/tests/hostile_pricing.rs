//! Property tests of the pricing engine under hostile input (issue 14): random catalogs (huge
//! amounts, promotions, unknown price types, bundles of bundles, cycles), random quantities up
//! to the limit, nested items and stacked requested discounts. Whatever comes in:
//!
//! - pricing never panics: it prices or returns an error;
//! - a priced quote's totals are exactly the sum of its lines, every amount can be written as
//!   JSON exactly, no item has more lines than the limit;
//! - stacked requested discounts above the threshold always need approval;
//! - a quote the service would accept (within `check_quote_json` and `check_stored_quote`) is
//!   within every stated limit, measured independently here.

use std::collections::BTreeMap;

use proptest::prelude::*;
use q2c_model::limits::{
    self, MAX_CATALOG_REFS, MAX_JSON_DEPTH, MAX_LINES_PER_ITEM, MAX_ORDER_BYTES, MAX_QUOTE_BYTES,
    MAX_QUOTE_ITEMS,
};
use q2c_model::money::{Currency, Money};
use q2c_model::ordering::order_from_quote;
use q2c_model::pricing::{CatalogSnapshot, PricingErrorKind, price_quote};
use q2c_model::settings::TenantSettings;
use q2c_model::tmf::{
    EntityRef, Price, PriceAlteration, ProductOffering, ProductOfferingPrice, Quote, QuoteItem,
    QuotePrice, QuoteState,
};
use rust_decimal::Decimal;
use serde_json::Value;
use time::OffsetDateTime;
use time::macros::datetime;

mod common;
use common::sum_lines;

const NOW: OffsetDateTime = datetime!(2026-03-10 12:00 UTC);
const OFFERINGS: usize = 8;
const PRICES: usize = 10;

/// An amount: mostly ordinary, sometimes enormous or very precise.
fn amount() -> impl Strategy<Value = Decimal> {
    prop_oneof![
        8 => (0i64..100_000, 0u32..=2).prop_map(|(m, s)| Decimal::new(m, s)),
        1 => (0i64..i64::MAX, 0u32..=8).prop_map(|(m, s)| Decimal::new(m, s)),
        1 => (1i64..10, 10u32..=18).prop_map(|(m, e)| Decimal::from(m) * Decimal::from(10i64.pow(e))),
    ]
}

fn price_type() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        Just("recurring"),
        Just("oneTime"),
        Just("usage"),
        Just("discount"),
        Just("penalty")
    ]
}

fn price(index: usize) -> impl Strategy<Value = ProductOfferingPrice> {
    (
        price_type(),
        amount(),
        prop::option::of(1i64..=100),
        any::<bool>(),
    )
        .prop_map(move |(price_type, value, percentage, duration)| {
            let discount = price_type == "discount";
            ProductOfferingPrice {
                id: format!("price-{index}"),
                price_type: price_type.to_owned(),
                recurring_charge_period_type: Some("month".into()),
                percentage: percentage.filter(|_| discount).map(Decimal::from),
                price: Some(Money::new(value, Currency::EUR)),
                product_offering_term: if discount && duration {
                    serde_json::from_value(
                        serde_json::json!([{"duration": {"amount": 3, "units": "month"}}]),
                    )
                    .expect("term")
                } else {
                    Vec::new()
                },
                ..ProductOfferingPrice::default()
            }
        })
}

fn offering(index: usize) -> impl Strategy<Value = ProductOffering> {
    (
        prop::collection::vec(0..PRICES, 0..4),
        prop::collection::vec(0..OFFERINGS, 0..4),
        any::<bool>(),
    )
        .prop_map(move |(prices, bundled, bundle)| ProductOffering {
            id: format!("offering-{index}"),
            is_sellable: Some(true),
            is_bundle: Some(bundle),
            product_offering_price: prices
                .into_iter()
                .map(|p| EntityRef::to(format!("price-{p}")))
                .collect(),
            bundled_product_offering: if bundle {
                bundled
                    .into_iter()
                    .map(|o| EntityRef::to(format!("offering-{o}")))
                    .collect()
            } else {
                Vec::new()
            },
            ..ProductOffering::default()
        })
}

fn catalog() -> impl Strategy<Value = CatalogSnapshot> {
    let prices: Vec<_> = (0..PRICES).map(price).collect();
    let offerings: Vec<_> = (0..OFFERINGS).map(offering).collect();
    (offerings, prices).prop_map(|(o, p)| CatalogSnapshot::new(o, p))
}

fn requested() -> impl Strategy<Value = Vec<QuotePrice>> {
    let alteration = prop_oneof![
        (1i64..=3_000).prop_map(|bp| Price {
            percentage: Some(Decimal::new(bp, 2)),
            ..Price::default()
        }),
        (1i64..=500).prop_map(|cents| Price {
            duty_free_amount: Some(Money::new(Decimal::new(cents, 2), Currency::EUR)),
            ..Price::default()
        }),
    ]
    .prop_map(|price| PriceAlteration {
        price_type: "discount".into(),
        price,
        ..PriceAlteration::default()
    });
    prop::option::weighted(0.2, prop::collection::vec(alteration, 1..7)).prop_map(|alterations| {
        alterations
            .map(|price_alteration| {
                vec![QuotePrice {
                    price_type: "recurring".into(),
                    recurring_charge_period: Some("month".into()),
                    price_alteration,
                    ..QuotePrice::default()
                }]
            })
            .unwrap_or_default()
    })
}

fn quantity() -> impl Strategy<Value = i64> {
    prop_oneof![4 => 1i64..5, 1 => 1i64..=1_000_000, 1 => Just(1_000_000)]
}

fn leaf() -> impl Strategy<Value = QuoteItem> {
    (0..OFFERINGS, quantity(), requested()).prop_map(|(o, quantity, prices)| QuoteItem {
        quantity: Some(quantity),
        product_offering: Some(EntityRef::to(format!("offering-{o}"))),
        quote_item_price: prices,
        ..QuoteItem::default()
    })
}

fn item() -> impl Strategy<Value = QuoteItem> {
    leaf().prop_recursive(3, 12, 3, |inner| {
        (leaf(), prop::collection::vec(inner, 0..3)).prop_map(|(mut item, children)| {
            item.quote_item = children;
            item
        })
    })
}

fn settings() -> impl Strategy<Value = TenantSettings> {
    (0i64..=50).prop_map(|threshold| TenantSettings {
        approval_threshold: Decimal::from(threshold),
        ..TenantSettings::default()
    })
}

fn all_items(items: &[QuoteItem]) -> Vec<&QuoteItem> {
    items
        .iter()
        .flat_map(|i| std::iter::once(i).chain(all_items(&i.quote_item)))
        .collect()
}

/// Whether any line's requested discounts (alterations without a catalog price), stacked,
/// clearly take more than `threshold` % of its list amount (list = net + permanent
/// reductions; a margin of a cent per alteration for rounding).
fn clearly_above(items: &[QuoteItem], threshold: Decimal) -> bool {
    all_items(items).iter().any(|item| {
        item.quote_item_price.iter().any(|line| {
            let requested: Vec<&PriceAlteration> = line
                .price_alteration
                .iter()
                .filter(|a| a.product_offering_price.is_none())
                .collect();
            if requested.is_empty() || line.unit_of_measure.is_some() {
                return false;
            }
            let taken: Decimal = requested
                .iter()
                .map(|a| a.price.duty_free_amount.map_or(Decimal::ZERO, |m| m.amount))
                .sum();
            let permanent: Decimal = line
                .price_alteration
                .iter()
                .filter(|a| a.application_duration.is_none_or(|d| d <= 0))
                .map(|a| a.price.duty_free_amount.map_or(Decimal::ZERO, |m| m.amount))
                .sum();
            let list = line
                .price
                .duty_free_amount
                .map_or(Decimal::ZERO, |m| m.amount)
                + permanent;
            let margin = Decimal::new(i64::try_from(requested.len()).unwrap_or(i64::MAX), 2);
            list > Decimal::ZERO && (taken - margin) * Decimal::ONE_HUNDRED > threshold * list
        })
    })
}

fn depth(value: &Value) -> usize {
    match value {
        Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        Value::Object(map) => 1 + map.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 600, ..ProptestConfig::default() })]

    #[test]
    fn hostile_quotes_price_or_fail_cleanly_and_accepted_ones_fit_every_limit(
        catalog in catalog(),
        items in prop::collection::vec(item(), 1..6),
        settings in settings(),
    ) {
        // Never panics: either priced or a typed error.
        let priced = match price_quote(&items, &catalog, &settings, NOW) {
            Ok(priced) => priced,
            Err(e) => {
                prop_assert!(!e.path.is_empty(), "an error names its path: {e}");
                if let PricingErrorKind::Limit(limit) = &e.kind {
                    prop_assert!(limit.received > limit.limit.value);
                }
                return Ok(());
            }
        };

        // Totals are exactly the sums of the lines.
        let mut sums = BTreeMap::new();
        sum_lines(&priced.items, &mut sums);
        prop_assert_eq!(sums.len(), priced.total.len());
        for total in &priced.total {
            let key = (
                total.price_type.clone(),
                total.recurring_charge_period.clone(),
                total.unit_of_measure.clone(),
            );
            let (free, included) = sums[&key];
            prop_assert_eq!(total.price.duty_free_amount.map(|m| m.amount), Some(free));
            prop_assert_eq!(total.price.tax_included_amount.map(|m| m.amount), Some(included));
        }
        // Every amount can be written exactly (serialisation refuses anything else).
        prop_assert!(serde_json::to_string(&priced.items).is_ok());
        prop_assert!(serde_json::to_string(&priced.total).is_ok());
        for item in all_items(&priced.items) {
            prop_assert!(item.quote_item_price.len() <= MAX_LINES_PER_ITEM.max());
        }
        // Stacked requested discounts above the threshold are never missed.
        if clearly_above(&priced.items, settings.approval_threshold) {
            prop_assert!(priced.approval_required);
        }

        // What the service would store: within every limit, measured independently.
        let quote = Quote {
            id: Some("01a24dd4-0ba8-7546-b476-a2f432a0006a".into()),
            quote_date: Some(NOW),
            state: Some(QuoteState::InProgress),
            quote_item: priced.items.clone(),
            quote_total_price: priced.total.clone(),
            ..Quote::default()
        };
        let request = serde_json::to_value(&items).expect("request JSON");
        let accepted = limits::check_quote_json(&serde_json::json!({"quoteItem": request})).is_ok()
            && limits::check_stored_quote(&quote, &priced.price_ids).is_ok();
        if accepted {
            let text = serde_json::to_string(&quote).expect("quote JSON");
            let beside: usize = priced.price_ids.iter().map(String::len).sum();
            prop_assert!(text.len() + beside <= MAX_QUOTE_BYTES.max());
            prop_assert!(depth(&serde_json::from_str::<Value>(&text).expect("parses")) <= MAX_JSON_DEPTH.max());
            prop_assert!(limits::count_items(&quote.quote_item) <= MAX_QUOTE_ITEMS.max());
            let offerings: std::collections::BTreeSet<&str> = all_items(&quote.quote_item)
                .iter()
                .filter_map(|i| i.product_offering.as_ref().map(|o| o.id.as_str()))
                .collect();
            let prices: std::collections::BTreeSet<&String> = priced.price_ids.iter().collect();
            prop_assert!(offerings.len() + prices.len() <= MAX_CATALOG_REFS.max());
            let order = order_from_quote(&quote, "00000000-0000-7000-8000-000000000001", NOW);
            let order_text = serde_json::to_string(&order).expect("order JSON");
            prop_assert!(order_text.len() <= MAX_ORDER_BYTES.max());
        }
    }
}
