//! What the pricing engine's unit tests share: their clock, euro amounts, and pricing with the
//! default tenant settings against the sample catalog or another one.

use rust_decimal::Decimal;
use time::OffsetDateTime;
use time::macros::datetime;

use super::{CatalogSnapshot, CatalogView, PricedQuote, PricingError, price_quote};
use crate::money::{Currency, Money};
use crate::sample_catalog::sample_catalog;
use crate::settings::TenantSettings;
use crate::tmf::{EntityRef, ProductOfferingPrice, QuoteItem};

/// When the tests price.
pub(super) const NOW: OffsetDateTime = datetime!(2026-03-10 12:00 UTC);

pub(super) fn eur(value: Decimal) -> Option<Money> {
    Some(Money::new(value, Currency::EUR))
}

/// `items` priced against `catalog` at [`NOW`] with the default settings.
pub(super) fn price_against(
    items: &[QuoteItem],
    catalog: &CatalogSnapshot,
) -> Result<PricedQuote, PricingError> {
    price_quote(items, catalog, &TenantSettings::default(), NOW)
}

/// `items` priced against the sample catalog at [`NOW`] with the default settings.
pub(super) fn price_sample(items: &[QuoteItem]) -> Result<PricedQuote, PricingError> {
    price_against(items, &sample_catalog())
}

/// The sample catalog with `offering` also referring to price `price_id` (which the catalog
/// need not hold).
pub(super) fn sample_referring(offering: &str, price_id: &str) -> CatalogSnapshot {
    let mut catalog = sample_catalog();
    let mut changed = catalog.offering(offering).expect("sample").clone();
    changed.product_offering_price.push(EntityRef::to(price_id));
    catalog.insert_offering(changed);
    catalog
}

/// The sample catalog with `offering` also referring to `price`, which it holds.
pub(super) fn sample_with_price(offering: &str, price: ProductOfferingPrice) -> CatalogSnapshot {
    let mut catalog = sample_referring(offering, &price.id);
    catalog.insert_price(price);
    catalog
}

/// A catalog price `id` of `price_type` and `amount` euros, everything else default.
pub(super) fn catalog_price(id: &str, price_type: &str, amount: Decimal) -> ProductOfferingPrice {
    ProductOfferingPrice {
        id: id.into(),
        price_type: price_type.into(),
        price: eur(amount),
        ..ProductOfferingPrice::default()
    }
}
