//! The hrefs of the catalog resources q2c serves (TMF620 v4 offerings and prices): always
//! this server's (`<public URL>/tmf-api/productCatalogManagement/v4/<resource>/<id>`),
//! whatever href the catalog of record wrote, so that every href q2c serves resolves on it.
//! A quote's catalog references are those of the server that made the quote: the public
//! URL its own href was built on. docs/versioning.md, "Hrefs".

use q2c_model::tmf::{
    EntityRef, ProductOffering, ProductOfferingPrice, Quote, QuoteItem, QuotePrice,
};

/// Path of v4 quotes under the server's public URL (a quote's href is `<public URL><this>/<id>`).
pub const QUOTE_HREF_PATH: &str = "/tmf-api/quoteManagement/v4/quote";
/// Path of the TMF620 API under the server's public URL.
pub const CATALOG_API_PATH: &str = "/tmf-api/productCatalogManagement/v4";

/// Where this server serves catalog resources.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogHrefs {
    /// `<public URL>/tmf-api/productCatalogManagement/v4`.
    base: String,
}

impl CatalogHrefs {
    /// Under `public_base` (`https://api.example.com`, empty for root-relative hrefs).
    pub fn new(public_base: &str) -> Self {
        CatalogHrefs {
            base: format!("{}{CATALOG_API_PATH}", public_base.trim_end_matches('/')),
        }
    }

    /// Those of the server that made `quote` (its href's public URL); root-relative when the
    /// quote has no href of ours.
    pub fn of_quote(quote: &Quote) -> Self {
        Self::new(
            quote
                .href
                .as_deref()
                .and_then(public_base_of_quote)
                .unwrap_or_default(),
        )
    }

    /// The href of offering `id`.
    pub fn offering(&self, id: &str) -> String {
        format!("{}/productOffering/{id}", self.base)
    }

    /// The href of price `id`.
    pub fn price(&self, id: &str) -> String {
        format!("{}/productOfferingPrice/{id}", self.base)
    }

    /// `offering` as served: its href, its prices' and its bundled offerings' are ours; its
    /// specification keeps id and name but loses the href (q2c does not serve
    /// specifications, and TMF620's `ProductSpecificationRef` requires only the id).
    pub fn serve_offering(&self, offering: &mut ProductOffering) {
        offering.href = Some(self.offering(&offering.id));
        for price in &mut offering.product_offering_price {
            price.href = Some(self.price(&price.id));
        }
        for bundled in &mut offering.bundled_product_offering {
            bundled.href = Some(self.offering(&bundled.id));
        }
        if let Some(specification) = &mut offering.product_specification {
            specification.href = None;
        }
    }

    /// `price` as served: its href and those of the prices it relates to are ours.
    pub fn serve_price(&self, price: &mut ProductOfferingPrice) {
        price.href = Some(self.price(&price.id));
        for related in &mut price.pop_relationship {
            related.href = Some(self.price(&related.id));
        }
    }

    /// The catalog references of `items` (any depth) as served: the catalog price of each
    /// price line and alteration (references q2c makes while pricing) gets our href; an
    /// item's offering reference (the client's) keeps what it was written with, but an href
    /// written on it becomes ours.
    pub fn serve_items(&self, items: &mut [QuoteItem]) {
        for item in items {
            if let Some(offering) = &mut item.product_offering
                && offering.href.is_some()
            {
                offering.href = Some(self.offering(&offering.id));
            }
            self.serve_prices(&mut item.quote_item_price);
            self.serve_items(&mut item.quote_item);
        }
    }

    fn serve_prices(&self, prices: &mut [QuotePrice]) {
        for line in prices {
            self.serve_price_ref(line.product_offering_price.as_mut());
            for alteration in &mut line.price_alteration {
                self.serve_price_ref(alteration.product_offering_price.as_mut());
            }
        }
    }

    fn serve_price_ref(&self, reference: Option<&mut EntityRef>) {
        if let Some(reference) = reference {
            reference.href = Some(self.price(&reference.id));
        }
    }
}

/// The quote's catalog references (items and totals) on the server that made it
/// ([`CatalogHrefs::of_quote`]): what every quote written, read or announced carries, so a
/// quote stored with another catalog's hrefs reads back with ours.
pub fn serve_quote(quote: &mut Quote) {
    let hrefs = CatalogHrefs::of_quote(quote);
    hrefs.serve_items(&mut quote.quote_item);
    hrefs.serve_prices(&mut quote.quote_total_price);
}

/// The public URL in a v4 quote href (`<public URL>/tmf-api/quoteManagement/v4/quote/<id>`),
/// `None` for any other href.
pub fn public_base_of_quote(href: &str) -> Option<&str> {
    href.rsplit_once('/')
        .and_then(|(collection, _id)| collection.strip_suffix(QUOTE_HREF_PATH))
}

#[cfg(test)]
mod tests {
    use super::*;
    use q2c_model::tmf::PriceAlteration;

    const BASE: &str = "https://api.example.com/prod";
    const OURS: &str = "https://api.example.com/prod/tmf-api/productCatalogManagement/v4";
    const THEIRS: &str = "https://catalog.example/tmf-api/productCatalogManagement/v4";

    fn theirs(kind: &str, id: &str) -> EntityRef {
        EntityRef {
            href: Some(format!("{THEIRS}/{kind}/{id}")),
            ..EntityRef::to(id)
        }
    }

    /// The href of a reference, if any.
    fn href(reference: &Option<EntityRef>) -> Option<String> {
        reference.as_ref().and_then(|r| r.href.clone())
    }

    fn priced_line(price: &str, promo: Option<&str>) -> QuotePrice {
        QuotePrice {
            product_offering_price: Some(theirs("productOfferingPrice", price)),
            price_alteration: promo
                .map(|id| PriceAlteration {
                    product_offering_price: Some(theirs("productOfferingPrice", id)),
                    ..PriceAlteration::default()
                })
                .into_iter()
                .collect(),
            ..QuotePrice::default()
        }
    }

    #[test]
    fn the_public_url_of_a_quote_is_what_precedes_the_quote_path() {
        let href = format!("{BASE}{QUOTE_HREF_PATH}/q-1");
        assert_eq!(public_base_of_quote(&href), Some(BASE));
        assert_eq!(
            public_base_of_quote(&format!("{QUOTE_HREF_PATH}/q-1")),
            Some("")
        );
        assert_eq!(
            public_base_of_quote("https://x.example/tmf-api/quoteManagement/v5/quote/q-1"),
            None
        );
        assert_eq!(public_base_of_quote("q-1"), None);
    }

    #[test]
    fn a_served_offering_links_to_this_server_and_drops_the_specification_href() {
        let mut offering = ProductOffering {
            id: "bundle".into(),
            href: Some(format!("{THEIRS}/productOffering/bundle")),
            product_offering_price: vec![
                theirs("productOfferingPrice", "p-1"),
                EntityRef::to("p-2"),
            ],
            bundled_product_offering: vec![theirs("productOffering", "o-1")],
            product_specification: Some(EntityRef {
                name: Some("Spec".into()),
                ..theirs("productSpecification", "s-1")
            }),
            ..ProductOffering::default()
        };
        CatalogHrefs::new(&format!("{BASE}/")).serve_offering(&mut offering);
        assert_eq!(
            offering.href.as_deref(),
            Some(&*format!("{OURS}/productOffering/bundle"))
        );
        let prices: Vec<_> = offering
            .product_offering_price
            .iter()
            .map(|p| p.href.clone())
            .collect();
        assert_eq!(
            prices,
            [
                Some(format!("{OURS}/productOfferingPrice/p-1")),
                Some(format!("{OURS}/productOfferingPrice/p-2")),
            ]
        );
        assert_eq!(
            offering.bundled_product_offering[0].href.as_deref(),
            Some(&*format!("{OURS}/productOffering/o-1"))
        );
        let specification = offering.product_specification.expect("kept");
        assert_eq!(
            (specification.id.as_str(), specification.href),
            ("s-1", None)
        );
        assert_eq!(specification.name.as_deref(), Some("Spec"));
    }

    #[test]
    fn a_served_price_links_itself_and_its_related_prices_to_this_server() {
        let mut price = ProductOfferingPrice {
            id: "promo".into(),
            href: Some(format!("{THEIRS}/productOfferingPrice/promo")),
            pop_relationship: vec![theirs("productOfferingPrice", "monthly")],
            ..ProductOfferingPrice::default()
        };
        CatalogHrefs::new("").serve_price(&mut price);
        assert_eq!(
            price.href.as_deref(),
            Some("/tmf-api/productCatalogManagement/v4/productOfferingPrice/promo")
        );
        assert_eq!(
            price.pop_relationship[0].href.as_deref(),
            Some("/tmf-api/productCatalogManagement/v4/productOfferingPrice/monthly")
        );
    }

    #[test]
    fn a_quote_serves_its_catalog_refs_at_any_depth_on_its_own_server() {
        let child = QuoteItem {
            product_offering: Some(theirs("productOffering", "tv")),
            quote_item_price: vec![priced_line("tv-monthly", None)],
            ..QuoteItem::default()
        };
        let mut quote = Quote {
            href: Some(format!("{BASE}{QUOTE_HREF_PATH}/q-1")),
            quote_item: vec![QuoteItem {
                product_offering: Some(theirs("productOffering", "bundle")),
                quote_item_price: vec![priced_line("fibre-monthly", Some("fibre-promo"))],
                quote_item: vec![child],
                ..QuoteItem::default()
            }],
            quote_total_price: vec![priced_line("fibre-monthly", None)],
            ..Quote::default()
        };
        serve_quote(&mut quote);
        let item = &quote.quote_item[0];
        let child = &item.quote_item[0];
        let served = [
            (href(&item.product_offering), "productOffering/bundle"),
            (
                href(&item.quote_item_price[0].product_offering_price),
                "productOfferingPrice/fibre-monthly",
            ),
            (
                href(&item.quote_item_price[0].price_alteration[0].product_offering_price),
                "productOfferingPrice/fibre-promo",
            ),
            (href(&child.product_offering), "productOffering/tv"),
            (
                href(&child.quote_item_price[0].product_offering_price),
                "productOfferingPrice/tv-monthly",
            ),
            (
                href(&quote.quote_total_price[0].product_offering_price),
                "productOfferingPrice/fibre-monthly",
            ),
        ];
        for (found, path) in served {
            assert_eq!(found, Some(format!("{OURS}/{path}")), "{path}");
        }
    }

    #[test]
    fn a_quote_without_an_href_of_ours_gets_root_relative_catalog_refs() {
        let mut quote = Quote {
            quote_item: vec![QuoteItem {
                product_offering: Some(theirs("productOffering", "o-1")),
                quote_item_price: vec![priced_line("p-1", None)],
                ..QuoteItem::default()
            }],
            ..Quote::default()
        };
        serve_quote(&mut quote);
        let item = &quote.quote_item[0];
        assert_eq!(
            href(&item.product_offering).as_deref(),
            Some("/tmf-api/productCatalogManagement/v4/productOffering/o-1")
        );
        assert_eq!(
            href(&item.quote_item_price[0].product_offering_price).as_deref(),
            Some("/tmf-api/productCatalogManagement/v4/productOfferingPrice/p-1")
        );
    }

    #[test]
    fn an_offering_reference_written_without_an_href_stays_without_one() {
        let mut quote = Quote {
            href: Some(format!("{BASE}{QUOTE_HREF_PATH}/q-1")),
            quote_item: vec![QuoteItem {
                product_offering: Some(EntityRef::to("o-1")),
                quote_item_price: vec![QuotePrice {
                    product_offering_price: Some(EntityRef::to("p-1")),
                    ..QuotePrice::default()
                }],
                ..QuoteItem::default()
            }],
            ..Quote::default()
        };
        serve_quote(&mut quote);
        let item = &quote.quote_item[0];
        assert_eq!(item.product_offering, Some(EntityRef::to("o-1")));
        assert_eq!(
            href(&item.quote_item_price[0].product_offering_price),
            Some(format!("{OURS}/productOfferingPrice/p-1")),
            "q2c's own references always carry its href"
        );
    }
}
