//! Tests of the engine under hostile input: approval on the effective (stacked) discount,
//! arithmetic that overflows or cannot be stored, and the per-item line limit that keeps a
//! catalog of nested bundles from expanding one item without bound.

use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use super::test_support::*;
use super::*;
use crate::limits::{MAX_LINES_PER_ITEM, MAX_SIGNIFICANT_DIGITS};
use crate::money::Money;
use crate::tmf::{EntityRef, Price, PriceAlteration, ProductOffering, ProductOfferingPrice};

fn item(offering: &str) -> QuoteItem {
    QuoteItem {
        id: Some("1".into()),
        product_offering: Some(EntityRef::to(offering)),
        ..QuoteItem::default()
    }
}

fn discount(percentage: Option<Decimal>, amount: Option<Decimal>) -> PriceAlteration {
    PriceAlteration {
        price_type: "discount".into(),
        price: Price {
            percentage,
            duty_free_amount: amount.and_then(eur),
            ..Price::default()
        },
        ..PriceAlteration::default()
    }
}

/// `item` with these alterations requested on its monthly price.
fn with_monthly_discounts(mut item: QuoteItem, alterations: Vec<PriceAlteration>) -> QuoteItem {
    item.quote_item_price = vec![QuotePrice {
        price_type: "recurring".into(),
        recurring_charge_period: Some("month".into()),
        price_alteration: alterations,
        ..QuotePrice::default()
    }];
    item
}

#[test]
fn six_stacked_15_percent_discounts_need_approval() {
    let stacked = with_monthly_discounts(item("mobile-l"), vec![discount(Some(dec!(15)), None); 6]);
    let priced = price_sample(&[stacked]).expect("priced");
    assert!(
        priced.approval_required,
        "90 % off is above the 15 % threshold"
    );
    let line = &priced.items[0].quote_item_price[0];
    assert_eq!(
        line.price.duty_free_amount,
        Some(Money::new(dec!(3), Currency::EUR)),
        "6 × 15 % of 30"
    );

    let one = with_monthly_discounts(item("mobile-l"), vec![discount(Some(dec!(15)), None)]);
    assert!(!price_sample(&[one]).expect("priced").approval_required);
    let two = with_monthly_discounts(item("mobile-l"), vec![discount(Some(dec!(10)), None); 2]);
    assert!(
        price_sample(&[two]).expect("priced").approval_required,
        "20 %"
    );
}

#[test]
fn amounts_split_into_small_discounts_count_together() {
    // 3 × 2 EUR off 30 EUR is 20 %, each alone below 15 %.
    let split = with_monthly_discounts(item("mobile-l"), vec![discount(None, Some(dec!(2))); 3]);
    assert!(price_sample(&[split]).expect("priced").approval_required);
    // A percentage and an amount together: 10 % + 1.50 EUR of 30 = 15 %: not above.
    let mixed = with_monthly_discounts(
        item("mobile-l"),
        vec![
            discount(Some(dec!(10)), None),
            discount(None, Some(dec!(1.5))),
        ],
    );
    assert!(!price_sample(&[mixed]).expect("priced").approval_required);
}

#[test]
fn quantities_are_included_and_rounding_does_not_tip_the_balance() {
    // 4.50 EUR off 2 × 15 EUR = 15 %: at the threshold, not above.
    let mut two = with_monthly_discounts(item("mobile-s"), vec![discount(None, Some(dec!(4.5)))]);
    two.quantity = Some(2);
    assert!(!price_sample(&[two]).expect("priced").approval_required);
    // A time-limited discount is computed after the permanent ones, and both count: 10 %
    // permanent, then 10 % of the rest for 3 months: 19 % while both apply.
    let mut limited = discount(Some(dec!(10)), None);
    limited.application_duration = Some(3);
    let both = with_monthly_discounts(
        item("mobile-l"),
        vec![discount(Some(dec!(10)), None), limited],
    );
    assert!(price_sample(&[both]).expect("priced").approval_required);
}

#[test]
fn catalog_promotions_are_not_requested_discounts() {
    // fibre-1g has a catalog promotion of 50 % for 3 months: no approval needed.
    let priced = price_sample(&[item("fibre-1g")]).expect("priced");
    assert!(!priced.approval_required);
}

/// A catalog with one offering `big` whose monthly price is `amount` EUR.
fn catalog_priced(amount: Decimal) -> CatalogSnapshot {
    let offering = ProductOffering {
        id: "big".into(),
        is_sellable: Some(true),
        product_offering_price: vec![EntityRef::to("big-monthly")],
        ..ProductOffering::default()
    };
    let price = ProductOfferingPrice {
        id: "big-monthly".into(),
        price_type: "recurring".into(),
        recurring_charge_period_type: Some("month".into()),
        price: Some(Money::new(amount, Currency::EUR)),
        ..ProductOfferingPrice::default()
    };
    CatalogSnapshot::new(vec![offering], vec![price])
}

#[test]
fn a_quantity_chain_against_a_huge_price_is_an_error_naming_the_item_not_a_panic() {
    // 1e6 × 1e6 × 1e6 units of a 1e16 EUR price: 1e34 overflows any decimal.
    let mut inner = item("big");
    inner.quantity = Some(1_000_000);
    let mut middle = item("big");
    middle.quantity = Some(1_000_000);
    middle.quote_item = vec![inner];
    let mut outer = item("big");
    outer.quantity = Some(1_000_000);
    outer.quote_item = vec![middle];
    let catalog = catalog_priced(dec!(10_000_000_000_000_000));

    let err = price_against(&[outer], &catalog).unwrap_err();

    assert!(
        matches!(err.kind, PricingErrorKind::AmountOutOfRange { .. }),
        "{err}"
    );
    assert_eq!(err.code(), "AMOUNT_OUT_OF_RANGE");
    assert!(err.is_business_rule());
    assert_eq!(
        err.path, "quoteItem[0].quoteItem[0].quoteItem[0]",
        "the item whose quantity chain overflows"
    );
}

#[test]
fn an_amount_the_wire_cannot_hold_exactly_is_refused() {
    // 9,999,999,999,999.99 with 20 % tax: 11,999,999,999,999.988 → 16 significant digits.
    let catalog = catalog_priced(dec!(9_999_999_999_999.99));
    let err = price_against(&[item("big")], &catalog).unwrap_err();
    assert!(
        matches!(err.kind, PricingErrorKind::AmountOutOfRange { .. }),
        "{err}"
    );
    assert_eq!(err.path, "quoteItem[0]");

    // Lines that fit, whose total does not: the item that overflows the total is named.
    let catalog = catalog_priced(dec!(5_000_000_000_000.01));
    let items = vec![item("big"); 2];
    let err = price_against(&items, &catalog).unwrap_err();
    assert_eq!(err.code(), "AMOUNT_OUT_OF_RANGE", "{err}");
    assert_eq!(err.path, "quoteItem[1]", "{err}");
}

#[test]
fn a_requested_discount_of_more_than_15_digits_is_a_limit_error_at_its_path() {
    let odd = with_monthly_discounts(
        item("mobile-l"),
        vec![discount(Some(dec!(15.000000000000001)), None)],
    );
    let err = price_sample(&[odd]).unwrap_err();
    let PricingErrorKind::Limit(limit) = &err.kind else {
        panic!("a limit error: {err}");
    };
    assert_eq!(limit.limit, MAX_SIGNIFICANT_DIGITS);
    assert_eq!(
        err.path,
        "quoteItem[0].quoteItemPrice[0].priceAlteration[0].price.percentage"
    );
    assert_eq!(err.code(), "LIMIT_EXCEEDED");
    assert!(!err.is_business_rule(), "a malformed request: 400");
}

/// A bundle `bundle-0` of `width` bundles, each of `width` bundles, ... `depth` levels deep;
/// the leaves are offerings with one price each.
fn bundle_tree(width: usize, depth: usize) -> CatalogSnapshot {
    let mut offerings = Vec::new();
    let mut prices = Vec::new();
    for level in 0..depth {
        let children: Vec<EntityRef> = (0..width)
            .map(|_| EntityRef::to(format!("bundle-{}", level + 1)))
            .collect();
        offerings.push(ProductOffering {
            id: format!("bundle-{level}"),
            is_bundle: Some(true),
            is_sellable: Some(true),
            bundled_product_offering: children,
            ..ProductOffering::default()
        });
    }
    offerings.push(ProductOffering {
        id: format!("bundle-{depth}"),
        is_sellable: Some(true),
        product_offering_price: vec![EntityRef::to("leaf")],
        ..ProductOffering::default()
    });
    prices.push(ProductOfferingPrice {
        id: "leaf".into(),
        price_type: "oneTime".into(),
        price: Some(Money::new(dec!(1), Currency::EUR)),
        ..ProductOfferingPrice::default()
    });
    CatalogSnapshot::new(offerings, prices)
}

#[test]
fn a_bundle_expanding_beyond_the_line_limit_is_refused_before_it_expands() {
    // 7 × 7 = 49 lines: within the limit.
    let priced = price_against(&[item("bundle-0")], &bundle_tree(7, 2)).expect("49 lines");
    assert_eq!(priced.items[0].quote_item_price.len(), 49);

    // 20^8 components if expanded: refused after at most the limit's visits.
    let err = price_against(&[item("bundle-0")], &bundle_tree(20, 8)).unwrap_err();
    let PricingErrorKind::Limit(limit) = &err.kind else {
        panic!("a limit error: {err}");
    };
    assert_eq!(limit.limit, MAX_LINES_PER_ITEM);
    assert_eq!(err.path, "quoteItem[0]");
    assert_eq!(err.code(), "QUOTE_TOO_LARGE");
    assert!(err.is_business_rule());
}
