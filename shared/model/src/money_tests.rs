//! Tests of currencies, the rounding rule and the JSON number representation of amounts.

use rust_decimal_macros::dec;

use super::*;

#[test]
fn rounding_is_half_away_from_zero_to_the_minor_unit() {
    assert_eq!(round_to_minor_unit(dec!(5.625), Currency::EUR), dec!(5.63));
    assert_eq!(
        round_to_minor_unit(dec!(-5.625), Currency::EUR),
        dec!(-5.63)
    );
    assert_eq!(
        round_to_minor_unit(dec!(5.624999), Currency::EUR),
        dec!(5.62)
    );
    assert_eq!(
        round_to_minor_unit(dec!(47.244), Currency::EUR),
        dec!(47.24)
    );
}

#[test]
fn amounts_already_on_the_minor_unit_are_unchanged() {
    assert_eq!(round_to_minor_unit(dec!(15), Currency::EUR), dec!(15));
    assert_eq!(round_to_minor_unit(dec!(15.5), Currency::EUR), dec!(15.5));
    assert_eq!(round_to_minor_unit(dec!(0.01), Currency::EUR), dec!(0.01));
}

#[test]
fn currencies_know_their_minor_unit() {
    let yen = Currency::parse("JPY").expect("ISO code");
    let dinar = Currency::parse("KWD").expect("ISO code");
    assert_eq!(Currency::EUR.minor_unit_digits(), 2);
    assert_eq!(yen.minor_unit_digits(), 0);
    assert_eq!(dinar.minor_unit_digits(), 3);
    assert_eq!(round_to_minor_unit(dec!(2.5), yen), dec!(3));
    assert_eq!(round_to_minor_unit(dec!(1.2345), dinar), dec!(1.235));
}

#[test]
fn an_unknown_currency_code_is_an_error() {
    assert_eq!(Currency::parse("EURO"), Err(UnknownCurrency("EURO".into())));
    assert!(serde_json::from_str::<Money>(r#"{"unit": "XYZ", "value": 1}"#).is_err());
}

#[test]
fn adding_different_currencies_is_a_typed_error() {
    let eur = Money::new(dec!(1), Currency::EUR);
    let usd = Money::new(dec!(1), Currency::USD);
    assert_eq!(eur.checked_add(eur), Ok(Money::new(dec!(2), Currency::EUR)));
    assert_eq!(
        eur.checked_add(usd),
        Err(CurrencyMismatch {
            left: Currency::EUR,
            right: Currency::USD
        })
    );
}

#[test]
fn money_is_tmf_money_with_a_json_number_value() {
    let money = Money::new(dec!(58.80), Currency::EUR);
    let json = serde_json::to_string(&money).expect("serialises");
    assert_eq!(json, r#"{"unit":"EUR","value":58.8}"#);
    let back: Money = serde_json::from_str(&json).expect("parses");
    assert_eq!(back, money);
}

#[test]
fn sub_cent_rates_and_integers_survive_json_exactly() {
    for text in ["0.0015", "0.1", "2.5", "199", "-3.75", "123456789012.345"] {
        let amount: Decimal = text.parse().expect("decimal");
        let json = serde_json::to_string(&Money::new(amount, Currency::EUR)).expect("serialises");
        let back: Money = serde_json::from_str(&json).expect("parses");
        assert_eq!(back.amount, amount, "{text} via {json}");
    }
}

#[test]
fn more_than_15_significant_digits_are_refused_rather_than_changed() {
    let amount: Decimal = "1234567890.1234567".parse().expect("decimal");
    assert!(serde_json::to_string(&Money::new(amount, Currency::EUR)).is_err());
}
