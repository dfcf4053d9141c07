//! Decimal money with an ISO 4217 currency, and the one place where rounding rules live.
//!
//! Amounts are [`Decimal`] because usage rates go below the minor unit (0.0015 EUR/MB) and
//! because `f64` cannot represent most prices exactly. On the wire TMF `Money.value` is a JSON
//! number: see [`decimal_number`] for the exact conversion and its 15-significant-digit bound.

use std::fmt;
use std::str::FromStr;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An ISO 4217 currency (`EUR`, `USD`, `JPY`, ...), knowing its minor unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency(iso_currency::Currency);

/// A currency code that is not an ISO 4217 alphabetic code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an ISO 4217 currency code")]
pub struct UnknownCurrency(pub String);

impl Currency {
    /// Euro, the default currency of the sample catalog.
    pub const EUR: Currency = Currency(iso_currency::Currency::EUR);
    /// US dollar.
    pub const USD: Currency = Currency(iso_currency::Currency::USD);

    /// Parses an ISO 4217 alphabetic code (exactly three upper-case letters).
    ///
    /// # Errors
    /// [`UnknownCurrency`] when the code is not a known ISO 4217 currency.
    pub fn parse(code: &str) -> Result<Self, UnknownCurrency> {
        iso_currency::Currency::from_code(code)
            .map(Currency)
            .ok_or_else(|| UnknownCurrency(code.to_owned()))
    }

    /// The three-letter code.
    pub fn code(&self) -> &'static str {
        self.0.code()
    }

    /// Number of digits after the decimal point of the currency's minor unit
    /// (2 for EUR, 0 for JPY, 3 for KWD). Currencies without a minor unit (e.g. XAU) use 2.
    pub fn minor_unit_digits(&self) -> u32 {
        self.0.exponent().map(u32::from).unwrap_or(2)
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Currency {
    type Err = UnknownCurrency;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Currency::parse(s)
    }
}

impl Serialize for Currency {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let code = String::deserialize(deserializer)?;
        Currency::parse(&code).map_err(serde::de::Error::custom)
    }
}

/// The rounding rule of q2c, stated once: amounts that are charged (line totals, tax, totals)
/// are rounded to the currency's minor unit, half away from zero ("commercial rounding").
/// Unit rates (usage prices) are kept at full precision and never rounded.
pub const ROUNDING: RoundingStrategy = RoundingStrategy::MidpointAwayFromZero;

/// Rounds `amount` to the minor unit of `currency` with [`ROUNDING`].
pub fn round_to_minor_unit(amount: Decimal, currency: Currency) -> Decimal {
    let digits = currency.minor_unit_digits();
    if amount.scale() <= digits {
        return amount; // already on the minor unit: the common case, and a measurable saving
    }
    amount.round_dp_with_strategy(digits, ROUNDING)
}

/// An amount of one currency. Serialised as TMF `Money`: `{"unit": "EUR", "value": 12.5}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    /// ISO 4217 currency (TMF `unit`).
    #[serde(rename = "unit")]
    pub currency: Currency,
    /// Decimal amount (TMF `value`, a JSON number).
    #[serde(rename = "value", with = "decimal_number")]
    pub amount: Decimal,
}

/// Two amounts in different currencies were combined.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot combine {left} and {right} amounts")]
pub struct CurrencyMismatch {
    /// Currency of the left operand.
    pub left: Currency,
    /// Currency of the right operand.
    pub right: Currency,
}

impl Money {
    /// An amount in a currency.
    pub fn new(amount: Decimal, currency: Currency) -> Self {
        Money { currency, amount }
    }

    /// Zero in `currency`.
    pub fn zero(currency: Currency) -> Self {
        Money::new(Decimal::ZERO, currency)
    }

    /// Adds two amounts of the same currency.
    ///
    /// # Errors
    /// [`CurrencyMismatch`] when the currencies differ.
    pub fn checked_add(self, other: Money) -> Result<Money, CurrencyMismatch> {
        if self.currency != other.currency {
            return Err(CurrencyMismatch {
                left: self.currency,
                right: other.currency,
            });
        }
        Ok(Money::new(self.amount + other.amount, self.currency))
    }

    /// Multiplies the amount by a factor (quantity, percentage, tax rate), keeping the currency.
    pub fn times(self, factor: Decimal) -> Money {
        Money::new(self.amount * factor, self.currency)
    }

    /// This amount rounded to the currency's minor unit with [`ROUNDING`].
    pub fn rounded(self) -> Money {
        Money::new(
            round_to_minor_unit(self.amount, self.currency),
            self.currency,
        )
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount, self.currency)
    }
}

/// Serde for a [`Decimal`] that is a JSON *number* on the wire (TMF `Money.value`, `taxRate`,
/// `percentage`).
///
/// Without serde_json's `arbitrary_precision` (which breaks `#[serde(flatten)]`, and we need
/// flatten to keep extensions), a JSON number passes through an `f64`. The conversion goes via
/// the shortest decimal text that identifies the `f64` in both directions, so every amount of up
/// to 15 significant digits round-trips exactly (IEEE 754 guarantees 15). Larger precision is
/// rejected on output rather than silently changed.
pub mod decimal_number {
    use std::str::FromStr;

    use rust_decimal::Decimal;
    use serde::{Deserializer, Serializer, de};

    /// Most significant digits that survive a trip through an `f64` exactly.
    pub const MAX_SIGNIFICANT_DIGITS: u32 = 15;

    /// Serialises as a JSON number.
    ///
    /// # Errors
    /// When the value has more than [`MAX_SIGNIFICANT_DIGITS`] significant digits.
    pub fn serialize<S: Serializer>(value: &Decimal, serializer: S) -> Result<S::Ok, S::Error> {
        let normalized = value.normalize();
        if normalized.scale() == 0
            && let Ok(int) = i64::try_from(normalized)
        {
            return serializer.serialize_i64(int);
        }
        if significant_digits(&normalized) > MAX_SIGNIFICANT_DIGITS {
            return Err(serde::ser::Error::custom(format!(
                "{value} has more than {MAX_SIGNIFICANT_DIGITS} significant digits"
            )));
        }
        let float = f64::from_str(&normalized.to_string()).map_err(serde::ser::Error::custom)?;
        serializer.serialize_f64(float)
    }

    /// How many significant digits `value` has when it cannot be written exactly as a JSON
    /// number (more than [`MAX_SIGNIFICANT_DIGITS`] and not an integer of `i64`); `None` when
    /// it can. Amounts are checked with it before they are stored, so that a write never
    /// fails on one.
    pub fn unrepresentable_digits(value: &Decimal) -> Option<u32> {
        let normalized = value.normalize();
        if normalized.scale() == 0 && i64::try_from(normalized).is_ok() {
            return None;
        }
        let digits = significant_digits(&normalized);
        (digits > MAX_SIGNIFICANT_DIGITS).then_some(digits)
    }

    /// Deserialises from a JSON number.
    ///
    /// # Errors
    /// When the value is not a finite number within the range of [`Decimal`].
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Decimal, D::Error> {
        deserializer.deserialize_any(DecimalVisitor)
    }

    pub(crate) fn significant_digits(value: &Decimal) -> u32 {
        let mantissa = value.normalize().mantissa().unsigned_abs();
        if mantissa == 0 {
            1
        } else {
            mantissa.ilog10() + 1
        }
    }

    pub(crate) struct DecimalVisitor;

    impl de::Visitor<'_> for DecimalVisitor {
        type Value = Decimal;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a JSON number")
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Decimal, E> {
            Ok(Decimal::from(v))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Decimal, E> {
            Ok(Decimal::from(v))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Decimal, E> {
            if !v.is_finite() {
                return Err(E::custom("number is not finite"));
            }
            // Display of an f64 is the shortest text that round-trips, so 0.1 reads as "0.1".
            // Below 1e-28 the text has more digits than a Decimal holds: round to its scale.
            Decimal::from_str(&v.to_string())
                .or_else(|_| Decimal::from_scientific(&format!("{v:e}")))
                .ok()
                .or_else(|| rust_decimal::prelude::FromPrimitive::from_f64(v))
                .ok_or_else(|| E::custom(format!("number {v} is out of range")))
        }
    }

    /// The same, for an optional field (`None` ↔ absent or `null`).
    pub mod option {
        use rust_decimal::Decimal;
        use serde::{Deserialize, Deserializer, Serializer};

        /// Serialises `Some` as a JSON number and `None` as `null` (use with `skip_serializing_if`).
        ///
        /// # Errors
        /// As [`super::serialize`].
        pub fn serialize<S: Serializer>(
            value: &Option<Decimal>,
            serializer: S,
        ) -> Result<S::Ok, S::Error> {
            match value {
                Some(v) => super::serialize(v, serializer),
                None => serializer.serialize_none(),
            }
        }

        /// Deserialises an optional JSON number.
        ///
        /// # Errors
        /// As [`super::deserialize`].
        pub fn deserialize<'de, D: Deserializer<'de>>(
            deserializer: D,
        ) -> Result<Option<Decimal>, D::Error> {
            #[derive(Deserialize)]
            struct Wrapped(#[serde(with = "super")] Decimal);
            Ok(Option::<Wrapped>::deserialize(deserializer)?.map(|Wrapped(d)| d))
        }
    }
}

#[cfg(test)]
#[path = "money_tests.rs"]
mod tests;
