//! The worked examples of docs/pricing.md, computed by hand there and asserted here against
//! the sample catalog with the default tenant settings (tax 20 %, approval above 15 %).

use q2c_model::money::{Currency, Money};
use q2c_model::pricing::{PricedQuote, price_quote};
use q2c_model::sample_catalog::sample_catalog;
use q2c_model::settings::TenantSettings;
use q2c_model::tmf::{EntityRef, Price, PriceAlteration, QuoteItem, QuotePrice};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use time::OffsetDateTime;
use time::macros::datetime;

const NOW: OffsetDateTime = datetime!(2026-03-10 12:00 UTC);

fn item(id: &str, offering: &str, quantity: Option<i64>) -> QuoteItem {
    QuoteItem {
        id: Some(id.into()),
        action: Some("add".into()),
        quantity,
        product_offering: Some(EntityRef::to(offering)),
        ..QuoteItem::default()
    }
}

fn with_requested_percentage(mut item: QuoteItem, percentage: Decimal) -> QuoteItem {
    item.quote_item_price = vec![QuotePrice {
        price_type: "recurring".into(),
        recurring_charge_period: Some("month".into()),
        price_alteration: vec![PriceAlteration {
            price_type: "discount".into(),
            name: Some("Requested discount".into()),
            price: Price {
                percentage: Some(percentage),
                ..Price::default()
            },
            ..PriceAlteration::default()
        }],
        ..QuotePrice::default()
    }];
    item
}

fn price(items: &[QuoteItem]) -> PricedQuote {
    price_quote(items, &sample_catalog(), &TenantSettings::default(), NOW)
        .expect("the example prices")
}

fn eur(value: Decimal) -> Option<Money> {
    Some(Money::new(value, Currency::EUR))
}

/// Asserts a price's duty-free and tax-included amounts.
fn assert_amounts(price: &Price, duty_free: Decimal, tax_included: Decimal) {
    assert_eq!(price.duty_free_amount, eur(duty_free), "dutyFreeAmount");
    assert_eq!(
        price.tax_included_amount,
        eur(tax_included),
        "taxIncludedAmount"
    );
}

fn total<'a>(priced: &'a PricedQuote, price_type: &str, period: Option<&str>) -> &'a QuotePrice {
    priced
        .total
        .iter()
        .find(|t| t.price_type == price_type && t.recurring_charge_period.as_deref() == period)
        .unwrap_or_else(|| panic!("no {price_type} {period:?} total in {:#?}", priced.total))
}

/// The totals fibre-1g's three-month 50 % promotion and installation make: 20.00 (24.00 with
/// tax) off the monthly total, 49.00 (58.80) one-time.
fn assert_fibre_promotion_and_installation_totals(priced: &PricedQuote) {
    let recurring = total(priced, "recurring", Some("month"));
    assert_amounts(
        &recurring.price_alteration[0].price,
        dec!(20.00),
        dec!(24.00),
    );
    assert_amounts(
        &total(priced, "oneTime", None).price,
        dec!(49.00),
        dec!(58.80),
    );
}

#[test]
fn example_1_two_mobile_l_multiply_the_fee_but_not_the_roaming_rate() {
    let priced = price(&[item("1", "mobile-l", Some(2))]);

    let lines = &priced.items[0].quote_item_price;
    assert_eq!(lines.len(), 2);
    assert_amounts(&lines[0].price, dec!(60.00), dec!(72.00));
    assert_eq!(lines[1].price_type, "usage");
    assert_eq!(lines[1].unit_of_measure.as_deref(), Some("GB"));
    assert_amounts(&lines[1].price, dec!(2.50), dec!(3.00));
    assert_eq!(priced.total.len(), 2);
    assert_amounts(
        &total(&priced, "recurring", Some("month")).price,
        dec!(60.00),
        dec!(72.00),
    );
    assert_amounts(&total(&priced, "usage", None).price, dec!(2.50), dec!(3.00));
    assert_eq!(priced.price_ids, ["mobile-l-monthly", "mobile-l-roaming"]);
    assert!(!priced.approval_required);
}

#[test]
fn example_2_fibre_with_the_three_month_promotion() {
    let priced = price(&[item("1", "fibre-1g", None)]);

    let monthly = &priced.items[0].quote_item_price[0];
    assert_eq!(monthly.recurring_charge_period.as_deref(), Some("month"));
    assert_amounts(&monthly.price, dec!(40.00), dec!(48.00));
    let promo = &monthly.price_alteration[0];
    assert_eq!(promo.application_duration, Some(3));
    assert_eq!(promo.price.percentage, Some(dec!(50)));
    assert_amounts(&promo.price, dec!(20.00), dec!(24.00));
    assert_eq!(
        promo.product_offering_price.as_ref().map(|r| r.id.as_str()),
        Some("fibre-1g-promo-50")
    );
    let install = &priced.items[0].quote_item_price[1];
    assert_eq!(install.price_type, "oneTime");
    assert_amounts(&install.price, dec!(49.00), dec!(58.80));
    let recurring = total(&priced, "recurring", Some("month"));
    assert_amounts(&recurring.price, dec!(40.00), dec!(48.00));
    assert_fibre_promotion_and_installation_totals(&priced);
    assert_eq!(
        priced.price_ids,
        ["fibre-1g-monthly", "fibre-1g-install", "fibre-1g-promo-50"]
    );
}

#[test]
fn example_3_home_bundle_is_priced_by_its_components() {
    let priced = price(&[item("1", "home-bundle", None)]);

    let lines = &priced.items[0].quote_item_price;
    let ids: Vec<&str> = lines
        .iter()
        .filter_map(|l| l.product_offering_price.as_ref())
        .map(|r| r.id.as_str())
        .collect();
    assert_eq!(
        ids,
        ["fibre-1g-monthly", "fibre-1g-install", "tv-addon-monthly"]
    );
    let recurring = total(&priced, "recurring", Some("month"));
    assert_amounts(&recurring.price, dec!(50.00), dec!(60.00));
    assert_eq!(recurring.price_alteration[0].application_duration, Some(3));
    assert_fibre_promotion_and_installation_totals(&priced);
}

#[test]
fn example_4_handset_and_mobile_s_with_a_requested_ten_percent() {
    let priced = price(&[
        item("1", "handset-x1", None),
        with_requested_percentage(item("2", "mobile-s", None), dec!(10)),
    ]);

    let mobile = &priced.items[1].quote_item_price[0];
    assert_amounts(&mobile.price, dec!(13.50), dec!(16.20));
    assert_eq!(
        mobile.price_alteration[0].name.as_deref(),
        Some("Requested discount")
    );
    assert_amounts(&mobile.price_alteration[0].price, dec!(1.50), dec!(1.80));
    assert_amounts(
        &total(&priced, "recurring", Some("month")).price,
        dec!(33.50),
        dec!(40.20),
    );
    assert_amounts(
        &total(&priced, "oneTime", None).price,
        dec!(199.00),
        dec!(238.80),
    );
    assert!(
        !priced.approval_required,
        "10 % is within the 15 % threshold"
    );
}

#[test]
fn example_5_rounding_three_mobile_s_at_twelve_and_a_half_percent() {
    let priced = price(&[with_requested_percentage(
        item("1", "mobile-s", Some(3)),
        dec!(12.5),
    )]);

    let line = &priced.items[0].quote_item_price[0];
    assert_amounts(&line.price, dec!(39.37), dec!(47.24));
    assert_amounts(&line.price_alteration[0].price, dec!(5.63), dec!(6.76));
    assert!(!priced.approval_required);
}

#[test]
fn example_6_twenty_percent_off_mobile_l_needs_approval() {
    let priced = price(&[with_requested_percentage(
        item("1", "mobile-l", None),
        dec!(20),
    )]);

    assert_amounts(
        &priced.items[0].quote_item_price[0].price,
        dec!(24.00),
        dec!(28.80),
    );
    assert!(priced.approval_required, "20 % is above the 15 % threshold");
}

#[test]
fn example_7_everything_together_sums_per_key() {
    let priced = price(&[
        item("1", "mobile-l", Some(2)),
        item("2", "home-bundle", None),
        item("3", "handset-x1", None),
        with_requested_percentage(item("4", "mobile-s", None), dec!(10)),
    ]);

    assert_amounts(
        &total(&priced, "recurring", Some("month")).price,
        dec!(143.50),
        dec!(172.20),
    );
    assert_amounts(
        &total(&priced, "oneTime", None).price,
        dec!(248.00),
        dec!(297.60),
    );
    assert_amounts(&total(&priced, "usage", None).price, dec!(2.50), dec!(3.00));
}

/// `item` with these requested alterations on its monthly line.
fn with_requested(
    mut item: QuoteItem,
    alterations: Vec<Price>,
    limited: Option<usize>,
) -> QuoteItem {
    item.quote_item_price = vec![QuotePrice {
        price_type: "recurring".into(),
        recurring_charge_period: Some("month".into()),
        price_alteration: alterations
            .into_iter()
            .enumerate()
            .map(|(i, price)| PriceAlteration {
                price_type: "discount".into(),
                application_duration: (Some(i) == limited).then_some(3),
                price,
                ..PriceAlteration::default()
            })
            .collect(),
        ..QuotePrice::default()
    }];
    item
}

fn percent(p: Decimal) -> Price {
    Price {
        percentage: Some(p),
        ..Price::default()
    }
}

fn amount(a: Decimal) -> Price {
    Price {
        duty_free_amount: eur(a),
        ..Price::default()
    }
}

#[test]
fn example_8_six_stacked_fifteen_percent_discounts_need_approval() {
    let priced = price(&[with_requested(
        item("1", "mobile-l", None),
        vec![percent(dec!(15)); 6],
        None,
    )]);

    let line = &priced.items[0].quote_item_price[0];
    assert_amounts(&line.price, dec!(3.00), dec!(3.60));
    for alteration in &line.price_alteration {
        assert_amounts(&alteration.price, dec!(4.50), dec!(5.40));
    }
    assert!(priced.approval_required, "90 % off");
}

#[test]
fn example_8_the_table_of_effective_discounts() {
    let cases = [
        (
            "one 15 %",
            item("1", "mobile-l", None),
            vec![percent(dec!(15))],
            None,
            false,
        ),
        (
            "two 10 %",
            item("1", "mobile-l", None),
            vec![percent(dec!(10)); 2],
            None,
            true,
        ),
        (
            "three amounts of 2.00",
            item("1", "mobile-l", None),
            vec![amount(dec!(2)); 3],
            None,
            true,
        ),
        (
            "10 % and 1.50",
            item("1", "mobile-l", None),
            vec![percent(dec!(10)), amount(dec!(1.5))],
            None,
            false,
        ),
        (
            "10 % then 10 % for 3 months",
            item("1", "mobile-l", None),
            vec![percent(dec!(10)); 2],
            Some(1),
            true,
        ),
        (
            "2 × mobile-s with 4.50",
            item("1", "mobile-s", Some(2)),
            vec![amount(dec!(4.5))],
            None,
            false,
        ),
    ];
    for (case, base, alterations, limited, approval) in cases {
        let priced = price(&[with_requested(base, alterations, limited)]);
        assert_eq!(priced.approval_required, approval, "{case}");
    }
}
