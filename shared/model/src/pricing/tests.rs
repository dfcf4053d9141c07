//! Unit tests of the engine's rules against the sample catalog: validation errors and their
//! paths, sellability, bundles, requested discounts, unknown price types and currencies.
//! The worked examples of docs/pricing.md are checked in `tests/pricing_examples.rs`.

use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use time::macros::datetime;

use super::test_support::*;
use super::*;
use crate::money::Money;
use crate::sample_catalog::sample_catalog;
use crate::tmf::{
    EntityRef, Price, PriceAlteration, ProductOffering, ProductOfferingPrice, TimePeriod,
};

fn item(offering: &str, quantity: Option<i64>) -> QuoteItem {
    QuoteItem {
        id: Some("1".into()),
        quantity,
        product_offering: Some(EntityRef::to(offering)),
        ..QuoteItem::default()
    }
}

fn err(items: &[QuoteItem]) -> PricingError {
    price_sample(items).expect_err("pricing should fail")
}

fn requested(percentage: Option<Decimal>, amount: Option<Decimal>) -> Vec<QuotePrice> {
    vec![QuotePrice {
        price_type: "recurring".into(),
        recurring_charge_period: Some("month".into()),
        price_alteration: vec![PriceAlteration {
            price_type: "discount".into(),
            name: Some("loyalty".into()),
            price: Price {
                percentage,
                duty_free_amount: amount.and_then(eur),
                ..Price::default()
            },
            ..PriceAlteration::default()
        }],
        ..QuotePrice::default()
    }]
}

#[test]
fn an_item_without_offering_is_a_validation_error_at_its_path() {
    let items = [item("mobile-s", None), QuoteItem::default()];
    let e = err(&items);
    assert_eq!(e.path, "quoteItem[1].productOffering");
    assert_eq!(e.kind, PricingErrorKind::MissingOffering);
    assert!(!e.is_business_rule());
}

#[test]
fn a_quantity_below_one_is_a_validation_error() {
    let e = err(&[item("mobile-s", Some(0))]);
    assert_eq!(e.path, "quoteItem[0].quantity");
    assert_eq!(e.kind, PricingErrorKind::InvalidQuantity { quantity: 0 });
}

#[test]
fn an_unknown_offering_is_a_business_rule_error_naming_the_id() {
    let e = err(&[item("mobile-s", None), item("nope", None)]);
    assert_eq!(e.path, "quoteItem[1].productOffering.id");
    assert_eq!(
        e.kind,
        PricingErrorKind::UnknownOffering { id: "nope".into() }
    );
    assert!(e.is_business_rule());
}

#[test]
fn a_retired_offering_is_not_sellable() {
    let e = err(&[item("mobile-legacy", None)]);
    assert_eq!(
        e.kind,
        PricingErrorKind::NotSellable {
            id: "mobile-legacy".into(),
            lifecycle_status: Some("Retired".into())
        }
    );
}

fn catalog_with(offering: ProductOffering) -> CatalogSnapshot {
    let mut catalog = sample_catalog();
    catalog.insert_offering(offering);
    catalog
}

#[test]
fn an_offering_not_for_sale_alone_is_refused_at_top_level() {
    let mut o = sample_catalog()
        .offering("tv-addon")
        .expect("sample")
        .clone();
    o.is_sellable = Some(false);
    let result = price_against(&[item("tv-addon", None)], &catalog_with(o));
    assert!(matches!(
        result,
        Err(PricingError {
            kind: PricingErrorKind::NotSellable { .. },
            ..
        })
    ));
}

#[test]
fn an_offering_outside_its_valid_for_is_refused() {
    let mut o = sample_catalog()
        .offering("tv-addon")
        .expect("sample")
        .clone();
    o.valid_for = Some(TimePeriod {
        start_date_time: None,
        end_date_time: Some(datetime!(2026-01-01 0:00 UTC)),
    });
    let result = price_against(&[item("tv-addon", None)], &catalog_with(o));
    assert_eq!(
        result.expect_err("expired").kind,
        PricingErrorKind::NotValidAt {
            id: "tv-addon".into()
        }
    );
}

#[test]
fn an_expired_price_is_skipped() {
    let mut catalog = sample_catalog();
    let mut promo = catalog.price("fibre-1g-promo-50").expect("sample").clone();
    promo.valid_for = Some(TimePeriod {
        start_date_time: None,
        end_date_time: Some(datetime!(2025-01-01 0:00 UTC)),
    });
    catalog.insert_price(promo);
    let priced = price_against(&[item("fibre-1g", None)], &catalog).expect("priced");
    assert!(
        priced.items[0]
            .quote_item_price
            .iter()
            .all(|p| p.price_alteration.is_empty())
    );
    assert!(!priced.price_ids.contains(&"fibre-1g-promo-50".to_owned()));
}

#[test]
fn a_bundle_with_its_own_price_includes_its_children_at_no_charge() {
    let mut catalog = sample_catalog();
    let mut bundle = catalog.offering("home-bundle").expect("sample").clone();
    bundle.product_offering_price = vec![EntityRef::to("home-bundle-monthly")];
    catalog.insert_offering(bundle);
    catalog.insert_price(ProductOfferingPrice {
        recurring_charge_period_type: Some("month".into()),
        ..catalog_price("home-bundle-monthly", "recurring", dec!(45))
    });
    let mut parent = item("home-bundle", None);
    parent.quote_item = vec![item("fibre-1g", None), item("tv-addon", None)];

    let priced = price_against(&[parent], &catalog).expect("priced");

    assert!(
        priced.items[0]
            .quote_item
            .iter()
            .all(|c| c.quote_item_price.is_empty())
    );
    assert_eq!(priced.total.len(), 1);
    assert_eq!(priced.total[0].price.duty_free_amount, eur(dec!(45)));
}

#[test]
fn explicit_children_of_a_bundle_without_price_are_charged_by_parent_quantity() {
    let mut parent = item("home-bundle", Some(2));
    parent.quote_item = vec![item("tv-addon", None)];

    let priced = price_sample(&[parent]).expect("priced");

    assert!(priced.items[0].quote_item_price.is_empty());
    assert_eq!(
        priced.items[0].quote_item[0].quote_item_price[0]
            .price
            .duty_free_amount,
        eur(dec!(20))
    );
}

#[test]
fn a_requested_percentage_outside_zero_to_hundred_is_invalid() {
    for p in [dec!(0), dec!(-5), dec!(100.01)] {
        let mut i = item("mobile-s", None);
        i.quote_item_price = requested(Some(p), None);
        let e = err(&[i]);
        assert_eq!(e.path, "quoteItem[0].quoteItemPrice[0].priceAlteration[0]");
        assert_eq!(e.code(), "INVALID_DISCOUNT");
        assert!(e.is_business_rule());
    }
}

#[test]
fn a_requested_amount_that_is_negative_or_above_the_price_is_invalid() {
    for amount in [dec!(-1), dec!(15.01)] {
        let mut i = item("mobile-s", None);
        i.quote_item_price = requested(None, Some(amount));
        assert_eq!(err(&[i]).code(), "INVALID_DISCOUNT");
    }
}

#[test]
fn a_requested_discount_on_a_price_the_item_lacks_is_invalid() {
    let mut i = item("handset-x1", None);
    i.quote_item_price = requested(Some(dec!(5)), None);
    i.quote_item_price[0].recurring_charge_period = Some("year".into());
    let e = err(&[i]);
    assert_eq!(e.path, "quoteItem[0].quoteItemPrice[0]");
}

#[test]
fn a_requested_amount_above_the_threshold_needs_approval_and_repricing_is_stable() {
    let mut i = item("mobile-s", None);
    i.quote_item_price = requested(None, Some(dec!(3)));

    let first = price_sample(&[i]).expect("priced");
    let again = price_sample(&first.items).expect("repriced");

    assert!(first.approval_required, "3 of 15 is 20 % > 15 %");
    assert_eq!(
        first.items[0].quote_item_price[0].price.duty_free_amount,
        eur(dec!(12))
    );
    assert_eq!(again, first);
}

#[test]
fn an_unknown_price_type_is_carried_as_its_own_line_and_total() {
    let penalty = catalog_price("tv-penalty", "penalty", dec!(30));
    let catalog = sample_with_price("tv-addon", penalty);

    let priced = price_against(&[item("tv-addon", Some(2))], &catalog).expect("priced");

    let types: Vec<&str> = priced.total.iter().map(|t| t.price_type.as_str()).collect();
    assert_eq!(types, ["recurring", "penalty"]);
    assert_eq!(priced.total[1].price.duty_free_amount, eur(dec!(60)));
    assert_eq!(priced.total[1].price.tax_included_amount, eur(dec!(72)));
}

#[test]
fn prices_in_two_currencies_are_a_typed_error() {
    let mut catalog = sample_catalog();
    let mut tv = catalog.price("tv-addon-monthly").expect("sample").clone();
    tv.price = Some(Money::new(dec!(10), Currency::USD));
    catalog.insert_price(tv);

    let e = price_against(&[item("mobile-s", None), item("tv-addon", None)], &catalog)
        .expect_err("mixed");

    assert_eq!(e.path, "quoteItem[1].productOffering.id");
    assert_eq!(
        e.kind,
        PricingErrorKind::CurrencyMismatch(CurrencyMismatch {
            left: Currency::EUR,
            right: Currency::USD
        })
    );
}

#[test]
fn a_bundle_containing_itself_is_an_error() {
    let mut bundle = sample_catalog()
        .offering("home-bundle")
        .expect("sample")
        .clone();
    bundle
        .bundled_product_offering
        .push(EntityRef::to("home-bundle"));
    let result = price_against(&[item("home-bundle", None)], &catalog_with(bundle));
    assert_eq!(result.expect_err("cycle").code(), "BUNDLE_CYCLE");
}

#[test]
fn referenced_offering_ids_include_children_once() {
    let mut parent = item("home-bundle", None);
    parent.quote_item = vec![item("fibre-1g", None), item("tv-addon", None)];
    let ids = referenced_offering_ids(&[parent, item("tv-addon", None)]);
    assert_eq!(ids, ["home-bundle", "fibre-1g", "tv-addon"]);
}
