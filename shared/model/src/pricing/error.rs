//! Pricing errors: what went wrong, and the JSON path of the quote item at fault.

use crate::limits::{LimitClass, LimitError};
use crate::money::CurrencyMismatch;

/// A quote that cannot be priced, naming the JSON path at fault
/// (e.g. `quoteItem[1].productOffering.id`).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{path}: {kind}")]
pub struct PricingError {
    /// JSON path of the field at fault, from the quote's root.
    pub path: String,
    /// What is wrong.
    pub kind: PricingErrorKind,
}

/// The kinds of pricing failure. [`PricingErrorKind::code`] gives a stable machine code.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PricingErrorKind {
    /// The item has no `productOffering` reference (or its id is empty).
    #[error("the quote item has no product offering")]
    MissingOffering,
    /// The offering is not in the catalog.
    #[error("product offering {id} does not exist")]
    UnknownOffering {
        /// The offering id.
        id: String,
    },
    /// The offering is not for sale: `isSellable` is false or it is retired.
    #[error("product offering {id} is not sellable ({})", why_not_sellable(.lifecycle_status.as_deref()))]
    NotSellable {
        /// The offering id.
        id: String,
        /// Its lifecycle status.
        lifecycle_status: Option<String>,
    },
    /// The offering's `validFor` does not contain the pricing time.
    #[error("product offering {id} is not valid now")]
    NotValidAt {
        /// The offering id.
        id: String,
    },
    /// The quantity is below 1 or above [`super::MAX_QUANTITY`] (`maxQuantity`).
    #[error("quantity {quantity} is not a count from 1 to 1000000 (maxQuantity)")]
    InvalidQuantity {
        /// The quantity given.
        quantity: i64,
    },
    /// Two prices of the quote are in different currencies.
    #[error(transparent)]
    CurrencyMismatch(#[from] CurrencyMismatch),
    /// A requested discount is malformed or cannot apply.
    #[error("invalid discount: {reason}")]
    InvalidDiscount {
        /// Why.
        reason: String,
    },
    /// The offering refers to a price that is not in the catalog.
    #[error("product offering price {id} does not exist")]
    UnknownPrice {
        /// The price id.
        id: String,
    },
    /// A bundle contains itself, directly or through other bundles.
    #[error("bundle {id} contains itself")]
    BundleCycle {
        /// The offering id found twice on the path.
        id: String,
    },
    /// An amount the item computes overflows or cannot be represented exactly (more than 15
    /// significant digits), e.g. a quantity chain of 1e18 against a price of 1e16.
    #[error("amount out of range: {reason}")]
    AmountOutOfRange {
        /// Which amount and why.
        reason: String,
    },
    /// A stated limit (`q2c_model::limits`) is exceeded: too many price lines for one item, a
    /// requested amount with more than 15 significant digits.
    #[error(transparent)]
    Limit(LimitError),
}

impl PricingErrorKind {
    /// Stable machine code, used as the TMF630 error `code`.
    pub fn code(&self) -> &'static str {
        match self {
            PricingErrorKind::MissingOffering => "MISSING_OFFERING",
            PricingErrorKind::UnknownOffering { .. } => "UNKNOWN_OFFERING",
            PricingErrorKind::NotSellable { .. } => "OFFERING_NOT_SELLABLE",
            PricingErrorKind::NotValidAt { .. } => "OFFERING_NOT_VALID",
            PricingErrorKind::InvalidQuantity { .. } => "INVALID_QUANTITY",
            PricingErrorKind::CurrencyMismatch(_) => "CURRENCY_MISMATCH",
            PricingErrorKind::InvalidDiscount { .. } => "INVALID_DISCOUNT",
            PricingErrorKind::UnknownPrice { .. } => "UNKNOWN_PRICE",
            PricingErrorKind::BundleCycle { .. } => "BUNDLE_CYCLE",
            PricingErrorKind::AmountOutOfRange { .. } => "AMOUNT_OUT_OF_RANGE",
            PricingErrorKind::Limit(e) => match e.limit.class {
                LimitClass::Stored => "QUOTE_TOO_LARGE",
                LimitClass::Request | LimitClass::Payload => "LIMIT_EXCEEDED",
            },
        }
    }

    /// Whether this is a business rule failing on a well-formed request (HTTP 422) rather than
    /// a malformed request (HTTP 400). A requested discount outside the allowed range, or
    /// above the price it reduces, is a business rule: its shape is valid.
    pub fn is_business_rule(&self) -> bool {
        match self {
            PricingErrorKind::MissingOffering | PricingErrorKind::InvalidQuantity { .. } => false,
            PricingErrorKind::Limit(e) => e.limit.class == LimitClass::Stored,
            _ => true,
        }
    }
}

impl PricingError {
    /// An error of `kind` at `path`.
    pub fn new(path: impl Into<String>, kind: impl Into<PricingErrorKind>) -> Self {
        PricingError {
            path: path.into(),
            kind: kind.into(),
        }
    }

    /// Stable machine code of the kind (see [`PricingErrorKind::code`]).
    pub fn code(&self) -> &'static str {
        self.kind.code()
    }

    /// Whether the request was well-formed but breaks a business rule (HTTP 422: unknown,
    /// unsellable or expired offering, currency mix) rather than malformed (HTTP 400: quantity
    /// below 1, missing offering reference, invalid discount).
    pub fn is_business_rule(&self) -> bool {
        self.kind.is_business_rule()
    }
}

/// Why an offering is not sellable, in wire terms: its retired `lifecycleStatus`, else
/// `isSellable` false (such offerings are sold only inside a bundle).
fn why_not_sellable(lifecycle_status: Option<&str>) -> String {
    match lifecycle_status {
        Some(status) if super::catalog::is_retired(Some(status)) => {
            format!("lifecycleStatus `{status}`")
        }
        _ => "isSellable is false: it is sold only inside a bundle".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Currency;

    #[test]
    fn validation_problems_are_not_business_rules() {
        assert!(
            !PricingError::new(
                "quoteItem[0].quantity",
                PricingErrorKind::InvalidQuantity { quantity: 0 }
            )
            .is_business_rule()
        );
        assert!(
            !PricingError::new(
                "quoteItem[0].productOffering",
                PricingErrorKind::MissingOffering
            )
            .is_business_rule()
        );
        let unknown = PricingErrorKind::UnknownOffering { id: "x".into() };
        assert!(unknown.is_business_rule());
        let mix = PricingErrorKind::from(CurrencyMismatch {
            left: Currency::EUR,
            right: Currency::USD,
        });
        assert!(mix.is_business_rule());
        assert_eq!(mix.code(), "CURRENCY_MISMATCH");
    }

    #[test]
    fn the_message_starts_with_the_json_path() {
        let err = PricingError::new(
            "quoteItem[1].productOffering.id",
            PricingErrorKind::UnknownOffering { id: "nope".into() },
        );
        assert_eq!(
            err.to_string(),
            "quoteItem[1].productOffering.id: product offering nope does not exist"
        );
        assert_eq!(err.code(), "UNKNOWN_OFFERING");
    }
}
