//! The catalog as the pricing engine sees it: a lookup of offerings and prices by id.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use serde::{Deserialize, Serialize};

use crate::tmf::{ProductOffering, ProductOfferingPrice};

/// Read access to the catalog the engine prices against. Implement it over whatever holds the
/// catalog (a preloaded snapshot, a cache); the engine only looks things up by id.
pub trait CatalogView {
    /// The offering with this id.
    fn offering(&self, id: &str) -> Option<&ProductOffering>;
    /// The price with this id.
    fn price(&self, id: &str) -> Option<&ProductOfferingPrice>;
}

/// Whether a catalog lifecycle status (of an offering or a price) means "no longer sold"
/// (case-insensitive).
pub(super) fn is_retired(status: Option<&str>) -> bool {
    status.is_some_and(|s| s.eq_ignore_ascii_case("retired") || s.eq_ignore_ascii_case("obsolete"))
}

/// FNV-1a: catalog ids are short strings and lookups dominate pricing, where SipHash's
/// flooding resistance buys nothing (keys come from the operator's catalog, not from clients).
#[derive(Debug, Clone, Copy)]
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 = (self.0 ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

type IdMap<T> = HashMap<String, T, BuildHasherDefault<Fnv>>;

/// An in-memory catalog, keyed by id. A later insert of the same id replaces the earlier one.
#[derive(Debug, Clone, Default)]
pub struct CatalogSnapshot {
    offerings: IdMap<ProductOffering>,
    prices: IdMap<ProductOfferingPrice>,
}

/// A catalog document as a JSON file holds it: `{"productOffering": [...],
/// "productOfferingPrice": [...]}` (TMF620 v4 resources).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CatalogDocument {
    /// The offerings.
    #[serde(default)]
    pub product_offering: Vec<ProductOffering>,
    /// The prices.
    #[serde(default)]
    pub product_offering_price: Vec<ProductOfferingPrice>,
}

impl CatalogSnapshot {
    /// A snapshot of these offerings and prices.
    pub fn new(
        offerings: impl IntoIterator<Item = ProductOffering>,
        prices: impl IntoIterator<Item = ProductOfferingPrice>,
    ) -> Self {
        CatalogSnapshot {
            offerings: offerings.into_iter().map(|o| (o.id.clone(), o)).collect(),
            prices: prices.into_iter().map(|p| (p.id.clone(), p)).collect(),
        }
    }

    /// Parses a [`CatalogDocument`] JSON text.
    ///
    /// # Errors
    /// When the text is not a catalog document.
    pub fn from_json(json: &str) -> Result<Self, serde_json::Error> {
        let doc: CatalogDocument = serde_json::from_str(json)?;
        Ok(CatalogSnapshot::new(
            doc.product_offering,
            doc.product_offering_price,
        ))
    }

    /// Adds or replaces an offering.
    pub fn insert_offering(&mut self, offering: ProductOffering) {
        self.offerings.insert(offering.id.clone(), offering);
    }

    /// Adds or replaces a price.
    pub fn insert_price(&mut self, price: ProductOfferingPrice) {
        self.prices.insert(price.id.clone(), price);
    }

    /// Every offering, in no particular order.
    pub fn offerings(&self) -> impl Iterator<Item = &ProductOffering> {
        self.offerings.values()
    }

    /// Every price, in no particular order.
    pub fn prices(&self) -> impl Iterator<Item = &ProductOfferingPrice> {
        self.prices.values()
    }
}

impl CatalogView for CatalogSnapshot {
    fn offering(&self, id: &str) -> Option<&ProductOffering> {
        self.offerings.get(id)
    }
    fn price(&self, id: &str) -> Option<&ProductOfferingPrice> {
        self.prices.get(id)
    }
}
