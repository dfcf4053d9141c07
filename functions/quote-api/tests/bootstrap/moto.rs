//! moto: clients, a table with the template's key schema, the seeded sample catalog, queues.
//! The table comes from `q2c_aws::dynamo::create_table`, as in `shared/aws/tests/moto`.

use q2c_aws::DynamoStore;
use q2c_service::ports::CatalogStore;

/// The moto endpoint; fails the test with instructions when unset.
pub fn endpoint() -> String {
    std::env::var("Q2C_TEST_AWS_ENDPOINT").unwrap_or_else(|_| {
        panic!(
            "Q2C_TEST_AWS_ENDPOINT is not set: this test needs moto. Run tools/test.sh, or start \
             `moto_server -H 127.0.0.1 -p 5055` and export Q2C_TEST_AWS_ENDPOINT=http://127.0.0.1:5055 \
             AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=eu-west-1"
        )
    })
}

/// The region the clients (and the spawned bootstrap) use.
pub fn region() -> String {
    std::env::var("AWS_REGION").unwrap_or_else(|_| "eu-west-1".into())
}

/// The shared SDK configuration for moto, built the way the functions build theirs.
pub async fn sdk_config() -> aws_config::SdkConfig {
    use aws_config::{BehaviorVersion, Region};
    use aws_sdk_dynamodb::config::Credentials;
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(region()))
        .endpoint_url(endpoint())
        .credentials_provider(Credentials::new("testing", "testing", None, None, "moto"))
        .load()
        .await
}

/// A unique name with `prefix`.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

/// A fresh table with the template's key schema and GSIs, seeded with the sample catalog.
pub async fn seeded_store(client: aws_sdk_dynamodb::Client) -> DynamoStore {
    let table = unique("q2c-fn-test");
    q2c_aws::dynamo::create_table(&client, &table)
        .await
        .expect("create table on moto");
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

/// The item at `pk`/`sk` as DynamoDB JSON (`{"attr": {"S": ...}}`), as a stream image
/// carries it. Outbox items hold only strings and numbers.
pub async fn item_json(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    pk: &str,
    sk: &str,
) -> serde_json::Value {
    use aws_sdk_dynamodb::types::AttributeValue;
    let item = client
        .get_item()
        .table_name(table)
        .key("pk", AttributeValue::S(pk.into()))
        .key("sk", AttributeValue::S(sk.into()))
        .consistent_read(true)
        .send()
        .await
        .expect("GetItem")
        .item
        .expect("the item exists");
    let image: serde_json::Map<String, serde_json::Value> = item
        .into_iter()
        .map(|(name, value)| {
            let typed = match value {
                AttributeValue::S(s) => serde_json::json!({ "S": s }),
                AttributeValue::N(n) => serde_json::json!({ "N": n }),
                other => panic!("unexpected attribute {name}: {other:?}"),
            };
            (name, typed)
        })
        .collect();
    serde_json::Value::Object(image)
}
