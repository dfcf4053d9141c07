//! The sample catalog: TMF620 v4 offerings and prices (mobile plans, fibre, a TV add-on, a
//! handset, a bundle, a promotion, a usage rate) that seed `q2c local` and the worked examples
//! of `docs/pricing.md`.

use crate::pricing::CatalogSnapshot;

/// The sample catalog document: `{"productOffering": [...], "productOfferingPrice": [...]}`.
pub const SAMPLE_CATALOG_JSON: &str = include_str!("../data/sample-catalog.json");

/// The offerings of the sample catalog that can be quoted on their own (all but the retired
/// `mobile-legacy`).
pub const SELLABLE_OFFERINGS: [&str; 6] = [
    "mobile-s",
    "mobile-l",
    "fibre-1g",
    "tv-addon",
    "handset-x1",
    "home-bundle",
];

/// The sample catalog, parsed.
///
/// # Panics
/// Never in practice: the embedded JSON is parsed by a test.
pub fn sample_catalog() -> CatalogSnapshot {
    CatalogSnapshot::from_json(SAMPLE_CATALOG_JSON)
        .expect("the embedded sample catalog is a valid catalog document")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pricing::CatalogView;

    #[test]
    fn the_sample_catalog_parses_and_has_the_documented_offerings() {
        let catalog = sample_catalog();
        for id in SELLABLE_OFFERINGS.into_iter().chain(["mobile-legacy"]) {
            assert!(catalog.offering(id).is_some(), "missing offering {id}");
        }
        for id in [
            "mobile-s-monthly",
            "mobile-l-monthly",
            "mobile-l-roaming",
            "fibre-1g-monthly",
            "fibre-1g-install",
            "fibre-1g-promo-50",
            "tv-addon-monthly",
            "handset-x1-upfront",
            "handset-x1-instalment",
        ] {
            assert!(catalog.price(id).is_some(), "missing price {id}");
        }
    }

    #[test]
    fn every_price_an_offering_refers_to_exists() {
        let catalog = sample_catalog();
        for offering in catalog.offerings() {
            let prices = offering
                .product_offering_price
                .iter()
                .map(|reference| (reference, catalog.price(&reference.id).is_some()));
            let bundled = offering
                .bundled_product_offering
                .iter()
                .map(|reference| (reference, catalog.offering(&reference.id).is_some()));
            for (reference, exists) in prices.chain(bundled) {
                assert!(exists, "{} -> {}", offering.id, reference.id);
            }
        }
    }
}
