//! Property tests: totals are the sum of item prices per key, amounts never drift from the
//! minor unit, mixing currencies is always rejected, extensions survive, and decimals of up
//! to 15 significant digits survive JSON exactly.

use std::collections::BTreeMap;

use proptest::prelude::*;
use q2c_model::money::{Currency, Money};
use q2c_model::pricing::{CatalogSnapshot, CatalogView, PricingErrorKind, price_quote};
use q2c_model::sample_catalog::{SELLABLE_OFFERINGS, sample_catalog};
use q2c_model::settings::TenantSettings;
use q2c_model::tmf::{EntityRef, Price, PriceAlteration, QuoteItem, QuotePrice};
use rust_decimal::Decimal;
use serde_json::Value;
use time::OffsetDateTime;
use time::macros::datetime;

mod common;
use common::sum_lines;

const NOW: OffsetDateTime = datetime!(2026-03-10 12:00 UTC);
/// Every price with an amount in the sample catalog.
const CHARGES: [&str; 8] = [
    "mobile-s-monthly",
    "mobile-l-monthly",
    "mobile-l-roaming",
    "fibre-1g-monthly",
    "fibre-1g-install",
    "tv-addon-monthly",
    "handset-x1-upfront",
    "handset-x1-instalment",
];

/// The sample catalog with random amounts (cents for charges, 4 decimals for the usage rate)
/// and a random currency per price.
fn catalog(amounts: &[(i64, bool)]) -> CatalogSnapshot {
    let mut catalog = sample_catalog();
    for (id, (cents, usd)) in CHARGES.iter().zip(amounts) {
        let mut pop = catalog.price(id).expect("sample price").clone();
        let scale = if pop.price_type == "usage" { 4 } else { 2 };
        let currency = if *usd { Currency::USD } else { Currency::EUR };
        pop.price = Some(Money::new(Decimal::new(*cents, scale), currency));
        catalog.insert_price(pop);
    }
    catalog
}

fn item((index, quantity, discount): (usize, i64, Option<i64>)) -> QuoteItem {
    let offering = SELLABLE_OFFERINGS[index];
    let mut item = QuoteItem {
        quantity: Some(quantity),
        product_offering: Some(EntityRef::to(offering)),
        ..QuoteItem::default()
    };
    if let Some(basis_points) = discount.filter(|_| offering != "home-bundle") {
        item.quote_item_price = vec![QuotePrice {
            price_type: "recurring".into(),
            recurring_charge_period: Some("month".into()),
            price_alteration: vec![PriceAlteration {
                price: Price {
                    percentage: Some(Decimal::new(basis_points, 2)),
                    ..Price::default()
                },
                ..PriceAlteration::default()
            }],
            ..QuotePrice::default()
        }];
    }
    item
}

fn items() -> impl Strategy<Value = Vec<QuoteItem>> {
    prop::collection::vec(
        (
            0..SELLABLE_OFFERINGS.len(),
            1i64..40,
            prop::option::of(1i64..=10_000),
        )
            .prop_map(item),
        0..12,
    )
}

fn amounts(usd_allowed: bool) -> impl Strategy<Value = Vec<(i64, bool)>> {
    prop::collection::vec(
        (
            0i64..1_000_000,
            any::<bool>().prop_map(move |b| b && usd_allowed),
        ),
        CHARGES.len(),
    )
}

fn settings() -> impl Strategy<Value = TenantSettings> {
    (0i64..300).prop_map(|tenths| TenantSettings {
        tax_rate: Decimal::new(tenths, 1),
        ..TenantSettings::default()
    })
}

fn all_lines(items: &[QuoteItem]) -> Vec<&QuotePrice> {
    items
        .iter()
        .flat_map(|i| i.quote_item_price.iter().chain(all_lines(&i.quote_item)))
        .collect()
}

fn is_cents(money: Option<Money>) -> bool {
    money.is_some_and(|m| m.amount.round_dp(2) == m.amount)
}

proptest! {
    #[test]
    fn totals_equal_the_sum_of_item_prices_per_key(items in items(), amounts in amounts(false), settings in settings()) {
        let priced = price_quote(&items, &catalog(&amounts), &settings, NOW).expect("a valid quote prices");
        let mut sums = BTreeMap::new();
        sum_lines(&priced.items, &mut sums);
        prop_assert_eq!(priced.total.len(), sums.len());
        for total in &priced.total {
            let key = (total.price_type.clone(), total.recurring_charge_period.clone(), total.unit_of_measure.clone());
            let (duty_free, tax_included) = sums[&key];
            prop_assert_eq!(total.price.duty_free_amount.map(|m| m.amount), Some(duty_free));
            prop_assert_eq!(total.price.tax_included_amount.map(|m| m.amount), Some(tax_included));
        }
    }

    #[test]
    fn charged_amounts_are_whole_cents_and_never_drift(items in items(), amounts in amounts(false), settings in settings()) {
        let priced = price_quote(&items, &catalog(&amounts), &settings, NOW).expect("a valid quote prices");
        let factor = (Decimal::ONE_HUNDRED + settings.tax_rate) / Decimal::ONE_HUNDRED;
        for line in all_lines(&priced.items).into_iter().filter(|l| l.price_type != "usage") {
            prop_assert!(is_cents(line.price.duty_free_amount) && is_cents(line.price.tax_included_amount));
            let net = line.price.duty_free_amount.expect("duty free").amount;
            let expected = (net * factor).round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
            prop_assert_eq!(line.price.tax_included_amount.map(|m| m.amount), Some(expected));
            prop_assert!(net >= Decimal::ZERO);
            for alt in &line.price_alteration {
                prop_assert!(is_cents(alt.price.duty_free_amount) && is_cents(alt.price.tax_included_amount));
            }
        }
        for total in priced.total.iter().filter(|t| t.price_type != "usage") {
            prop_assert!(is_cents(total.price.duty_free_amount) && is_cents(total.price.tax_included_amount));
        }
    }

    #[test]
    fn repricing_a_priced_quote_changes_nothing(items in items(), amounts in amounts(false)) {
        let catalog = catalog(&amounts);
        let settings = TenantSettings::default();
        let first = price_quote(&items, &catalog, &settings, NOW).expect("prices");
        let again = price_quote(&first.items, &catalog, &settings, NOW).expect("reprices");
        prop_assert_eq!(again, first);
    }

    #[test]
    fn mixing_currencies_is_always_rejected(items in items(), amounts in amounts(true)) {
        let catalog = catalog(&amounts);
        let result = price_quote(&items, &catalog, &TenantSettings::default(), NOW);
        let mut used = Vec::new();
        for offering in items.iter().filter_map(|i| i.product_offering.as_ref()) {
            let offering = catalog.offering(&offering.id).expect("sample offering");
            let refs = if offering.bundled_product_offering.is_empty() {
                offering.product_offering_price.clone()
            } else {
                offering.bundled_product_offering.iter()
                    .flat_map(|b| catalog.offering(&b.id).expect("component").product_offering_price.clone())
                    .collect()
            };
            used.extend(refs.iter().filter_map(|r| catalog.price(&r.id)?.price.map(|m| m.currency)));
        }
        used.dedup();
        let mixed = used.iter().any(|c| *c != used[0]);
        match result {
            Ok(priced) => {
                prop_assert!(!mixed);
                let lines = all_lines(&priced.items);
                prop_assert!(lines.iter().all(|l| l.price.duty_free_amount.map(|m| m.currency) == used.first().copied()));
            }
            Err(e) => {
                prop_assert!(mixed);
                prop_assert!(matches!(e.kind, PricingErrorKind::CurrencyMismatch(_)));
            }
        }
    }

    #[test]
    fn extensions_survive_pricing_and_a_json_round_trip(extensions in prop::collection::btree_map("x-[a-z]{1,8}", json_value(), 0..6), index in 0..SELLABLE_OFFERINGS.len()) {
        let mut quote_item = item((index, 1, None));
        quote_item.extensions = extensions.into_iter().collect();
        let priced = price_quote(std::slice::from_ref(&quote_item), &sample_catalog(), &TenantSettings::default(), NOW).expect("prices");
        prop_assert_eq!(&priced.items[0].extensions, &quote_item.extensions);
        let json = serde_json::to_string(&priced.items[0]).expect("serialises");
        let back: QuoteItem = serde_json::from_str(&json).expect("deserialises");
        prop_assert_eq!(&back.extensions, &quote_item.extensions);
        prop_assert_eq!(back, priced.items[0].clone());
    }

    #[test]
    fn decimals_of_up_to_15_significant_digits_round_trip_through_json(mantissa in -999_999_999_999_999i64..=999_999_999_999_999, scale in 0u32..=15) {
        let amount = Decimal::new(mantissa, scale);
        let money = Money::new(amount, Currency::EUR);
        let json = serde_json::to_string(&money).expect("serialises");
        let back: Money = serde_json::from_str(&json).expect("deserialises");
        prop_assert_eq!(back.amount, amount, "{}", json);
    }
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        "[ -~]{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z]{1,6}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}
