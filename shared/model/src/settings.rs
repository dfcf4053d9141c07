//! Per-tenant commercial settings: tax rate, approval threshold, validity, currency.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::money::Currency;

/// Settings of one tenant; absent fields take the documented defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "snake_case")]
pub struct TenantSettings {
    /// Tax rate in percent (20 means 20 %). Default 20.
    pub tax_rate: Decimal,
    /// A requested discount above this percentage needs approval. Default 15.
    pub approval_threshold: Decimal,
    /// Length of a new quote's `validFor`, in days. Default 30.
    pub default_validity_days: u32,
    /// Currency of the tenant's quotes. Default EUR.
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
