//! moto: the clients, table and queue helpers of `q2c-testkit`, and a table seeded with the
//! sample catalog.

use q2c_aws::DynamoStore;
use q2c_service::ports::CatalogStore;
pub use q2c_testkit::dynamo::stream_image as item_json;
pub use q2c_testkit::moto::{endpoint, region, sdk_config, unique};

/// A fresh table with the template's key schema and GSIs, seeded with the sample catalog.
pub async fn seeded_store(client: aws_sdk_dynamodb::Client) -> DynamoStore {
    let table = q2c_testkit::dynamo::unique_table(&client, "q2c-fn-test").await;
    let store = DynamoStore::new(client, table);
    let catalog = q2c_model::sample_catalog::sample_catalog();
    for offering in catalog.offerings() {
        store.put_offering(offering).await.expect("seed offering");
    }
    for price in catalog.prices() {
        store.put_price(price).await.expect("seed price");
    }
    store
}
