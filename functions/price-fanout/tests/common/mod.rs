//! What the price-fanout tests on moto share: the sample price they change, open quotes
//! created and priced by the quote service over `DynamoStore`, and the catalog's price-change
//! event.

use std::sync::Arc;

use q2c_aws::{DynamoSettings, DynamoStore};
use q2c_model::sample_catalog::sample_catalog;
use q2c_model::tmf::{ProductOfferingPrice, Quote};
use q2c_service::context::{Scope, TenantId};
use q2c_service::ports::{CatalogStore, SystemClock};
use q2c_service::quotes::{QuoteService, QuoteServiceConfig};
use q2c_service::testing::{caller, item, quote_of};
use rust_decimal::Decimal;
use serde_json::json;

/// The sample catalog's price the tests change (`mobile-l`'s monthly charge).
pub const PRICE_ID: &str = "mobile-l-monthly";
/// The catalog event of a price change.
pub const CHANGE_EVENT: &str = "ProductOfferingPriceAttributeValueChangeEvent";

/// Puts the sample catalog (its prices and offerings) into `store`.
pub async fn seed_sample_catalog(store: &DynamoStore) {
    let catalog = sample_catalog();
    for price in catalog.prices() {
        store.put_price(price).await.expect("price");
    }
    for offering in catalog.offerings() {
        store.put_offering(offering).await.expect("offering");
    }
}

/// The quote service over `store`, as the quote API wires it.
pub fn quote_service(store: &DynamoStore) -> QuoteService {
    QuoteService::new(
        store.ports(
            Arc::new(DynamoSettings::new(store.clone())),
            Arc::new(SystemClock),
        ),
        QuoteServiceConfig {
            quote_href_base: "/tmf-api/quoteManagement/v4/quote".to_owned(),
        },
    )
}

/// Creates an open quote of `tenant` for one `offering`, priced by `service`; its id.
pub async fn open_quote(service: &QuoteService, tenant: &TenantId, offering: &str) -> String {
    let ctx = caller(tenant.as_str(), &[Scope::QuoteWrite]);
    let quote = quote_of(vec![item(offering, 1)]);
    let stored = service.create(&ctx, quote).await.expect("create quote");
    stored.id().to_owned()
}

/// The duty-free amount of the quote's line priced by [`PRICE_ID`].
pub fn monthly_amount(quote: &Quote) -> Option<Decimal> {
    quote
        .quote_item
        .iter()
        .flat_map(|item| &item.quote_item_price)
        .find(|line| {
            line.product_offering_price
                .as_ref()
                .is_some_and(|r| r.id == PRICE_ID)
        })
        .and_then(|line| line.price.duty_free_amount.as_ref())
        .map(|money| money.amount)
}

/// The sample catalog's [`PRICE_ID`].
pub fn sample_catalog_price() -> ProductOfferingPrice {
    sample_catalog()
        .prices()
        .find(|p| p.id == PRICE_ID)
        .cloned()
        .expect("sample price")
}

/// The catalog's event setting [`PRICE_ID`] to `value` EUR, last updated at `last_update`.
pub fn price_change(event_id: &str, value: i64, last_update: &str) -> String {
    let mut price =
        serde_json::to_value(sample_catalog_price()).expect("the sample price serialises");
    price["price"] = json!({"unit": "EUR", "value": value});
    price["lastUpdate"] = json!(last_update);
    json!({
        "eventId": event_id,
        "eventType": CHANGE_EVENT,
        "eventTime": last_update,
        "event": {"productOfferingPrice": price},
    })
    .to_string()
}
