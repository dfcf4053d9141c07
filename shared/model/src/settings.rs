//! Per-tenant settings the pricing engine and the quote lifecycle read: tax rate, approval
//! threshold, quote validity and currency.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::money::Currency;

/// Settings of one tenant. Every field has a default, so `{}` is a valid settings document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "snake_case")]
pub struct TenantSettings {
    /// Tax rate in percent (20 means 20 %), applied to every charged line. Default 20.
    pub tax_rate: Decimal,
    /// Requested discounts above this percentage need approval. Default 15.
    pub approval_threshold: Decimal,
    /// Length of a new quote's `validFor`, in days. Default 30.
    pub default_validity_days: u32,
    /// The tenant's currency. Default EUR.
    pub currency: Currency,
}

impl Default for TenantSettings {
    fn default() -> Self {
        TenantSettings {
            tax_rate: Decimal::from(20),
            approval_threshold: Decimal::from(15),
            default_validity_days: 30,
            currency: Currency::EUR,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_document_gives_the_defaults() {
        let settings: TenantSettings = serde_json::from_str("{}").expect("empty settings parse");
        assert_eq!(settings, TenantSettings::default());
        assert_eq!(settings.tax_rate, Decimal::from(20));
        assert_eq!(settings.approval_threshold, Decimal::from(15));
        assert_eq!(settings.default_validity_days, 30);
        assert_eq!(settings.currency, Currency::EUR);
    }

    #[test]
    fn fields_are_snake_case_and_partial_documents_keep_other_defaults() {
        let settings: TenantSettings =
            serde_json::from_str(r#"{"tax_rate": "19.6", "currency": "USD"}"#)
                .expect("settings parse");
        assert_eq!(settings.tax_rate, Decimal::new(196, 1));
        assert_eq!(settings.currency, Currency::USD);
        assert_eq!(settings.default_validity_days, 30);
    }

    #[test]
    fn numbers_are_accepted_for_rates_and_the_settings_round_trip() {
        let settings: TenantSettings =
            serde_json::from_str(r#"{"tax_rate": 19.6, "approval_threshold": 10}"#)
                .expect("settings parse");
        assert_eq!(settings.tax_rate, Decimal::new(196, 1));
        assert_eq!(settings.approval_threshold, Decimal::from(10));
        let json = serde_json::to_string(&settings).expect("serialises");
        let back: TenantSettings = serde_json::from_str(&json).expect("parses back");
        assert_eq!(back, settings);
    }
}
