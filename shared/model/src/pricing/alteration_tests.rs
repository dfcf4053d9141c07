//! Tests of how alterations combine (permanent vs time-limited, amount promotions), of nested
//! bundles, and of components sold only inside bundles.

use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use super::test_support::*;
use super::*;
use crate::sample_catalog::sample_catalog;
use crate::tmf::{EntityRef, Price, PriceAlteration, ProductOffering, ProductOfferingPrice};

fn item(offering: &str) -> QuoteItem {
    QuoteItem {
        product_offering: Some(EntityRef::to(offering)),
        ..QuoteItem::default()
    }
}

fn requested_monthly(percentage: Decimal, duration: Option<i64>) -> Vec<QuotePrice> {
    vec![QuotePrice {
        price_type: "recurring".into(),
        recurring_charge_period: Some("month".into()),
        price_alteration: vec![PriceAlteration {
            application_duration: duration,
            price: Price {
                percentage: Some(percentage),
                ..Price::default()
            },
            ..PriceAlteration::default()
        }],
        ..QuotePrice::default()
    }]
}

#[test]
fn a_time_limited_promotion_applies_to_the_price_after_permanent_discounts() {
    let mut fibre = item("fibre-1g");
    fibre.quote_item_price = requested_monthly(dec!(10), None);

    let priced = price_sample(&[fibre]).expect("priced");

    let monthly = &priced.items[0].quote_item_price[0];
    assert_eq!(monthly.price.duty_free_amount, eur(dec!(36)));
    let [promo, requested] = &monthly.price_alteration[..] else {
        panic!("two alterations")
    };
    assert_eq!(requested.price_type, "discount");
    assert_eq!(requested.price.duty_free_amount, eur(dec!(4)));
    assert_eq!(promo.application_duration, Some(3));
    assert_eq!(promo.price.duty_free_amount, eur(dec!(18)));
}

#[test]
fn a_requested_time_limited_discount_leaves_the_line_price_unchanged() {
    let mut mobile = item("mobile-s");
    mobile.quote_item_price = requested_monthly(dec!(20), Some(6));

    let priced = price_sample(&[mobile]).expect("priced");

    let line = &priced.items[0].quote_item_price[0];
    assert_eq!(line.price.duty_free_amount, eur(dec!(15)));
    assert_eq!(line.price_alteration[0].application_duration, Some(6));
    assert_eq!(
        line.price_alteration[0].price.duty_free_amount,
        eur(dec!(3))
    );
    assert!(priced.approval_required);
}

#[test]
fn an_amount_promotion_takes_its_amount_per_unit_off() {
    let welcome = ProductOfferingPrice {
        pop_relationship: vec![EntityRef::to("tv-addon-monthly")],
        ..catalog_price("tv-welcome", "discount", dec!(2.5))
    };
    let catalog = sample_with_price("tv-addon", welcome);
    let mut tv_item = item("tv-addon");
    tv_item.quantity = Some(2);

    let priced = price_against(&[tv_item], &catalog).expect("priced");

    let line = &priced.items[0].quote_item_price[0];
    assert_eq!(
        line.price.duty_free_amount,
        eur(dec!(15)),
        "20.00 - 2 x 2.50"
    );
    assert_eq!(
        line.price_alteration[0].price.tax_included_amount,
        eur(dec!(6))
    );
    assert!(priced.price_ids.contains(&"tv-welcome".to_owned()));
}

#[test]
fn a_bundle_of_bundles_is_priced_by_the_leaves_and_may_contain_unsellable_components() {
    let mut catalog = sample_catalog();
    let mut tv = catalog.offering("tv-addon").expect("sample").clone();
    tv.is_sellable = Some(false);
    catalog.insert_offering(tv);
    catalog.insert_offering(ProductOffering {
        id: "family-bundle".into(),
        is_bundle: Some(true),
        bundled_product_offering: vec![EntityRef::to("home-bundle"), EntityRef::to("mobile-s")],
        ..ProductOffering::default()
    });

    let priced = price_against(&[item("family-bundle")], &catalog).expect("priced");

    let recurring = &priced.total[0];
    assert_eq!(
        recurring.price.duty_free_amount,
        eur(dec!(65)),
        "40 + 10 + 15"
    );
    assert_eq!(priced.items[0].quote_item_price.len(), 4);
}

#[test]
fn an_offering_referring_to_a_missing_price_is_an_error() {
    let catalog = sample_referring("tv-addon", "ghost");

    let err = price_against(&[item("tv-addon")], &catalog).expect_err("missing");

    assert_eq!(
        err.kind,
        PricingErrorKind::UnknownPrice { id: "ghost".into() }
    );
    assert_eq!(err.path, "quoteItem[0].productOffering.id");
}

#[test]
fn a_discount_exactly_at_the_threshold_needs_no_approval() {
    let mut mobile = item("mobile-s");
    mobile.quote_item_price = requested_monthly(dec!(15), None);

    let priced = price_sample(&[mobile]).expect("priced");

    assert!(!priced.approval_required);
}

#[test]
fn errors_in_child_items_name_the_nested_path() {
    let mut parent = item("home-bundle");
    parent.quote_item = vec![
        item("tv-addon"),
        QuoteItem {
            quantity: Some(-1),
            ..item("fibre-1g")
        },
    ];

    let err = price_sample(&[item("mobile-s"), parent]).expect_err("invalid");

    assert_eq!(err.path, "quoteItem[1].quoteItem[1].quantity");
    assert_eq!(err.kind, PricingErrorKind::InvalidQuantity { quantity: -1 });
}
