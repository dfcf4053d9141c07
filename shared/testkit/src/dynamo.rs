//! The template's table on moto, and items as a DynamoDB stream carries them.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, GlobalSecondaryIndex, KeySchemaElement,
    KeyType, Projection, ProjectionType, ScalarAttributeType,
};

use crate::template::{self, KeySchema};

fn key_elements(key: &KeySchema) -> Vec<KeySchemaElement> {
    let element = |name: &str, kind: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(kind)
            .build()
            .expect("a key schema element")
    };
    let mut elements = vec![element(&key.hash, KeyType::Hash)];
    elements.extend(key.range.iter().map(|r| element(r, KeyType::Range)));
    elements
}

/// Creates an on-demand table called `name` with the template's keys and indexes.
pub async fn create_table(client: &Client, name: &str) {
    let table = template::table();
    let mut request = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .set_key_schema(Some(key_elements(&table.key)));
    for (attribute, kind) in &table.attributes {
        request = request.attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(attribute)
                .attribute_type(ScalarAttributeType::from(kind.as_str()))
                .build()
                .expect("an attribute definition"),
        );
    }
    for (index, key) in &table.indexes {
        request = request.global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(index)
                .set_key_schema(Some(key_elements(key)))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::All)
                        .build(),
                )
                .build()
                .expect("an index"),
        );
    }
    request
        .send()
        .await
        .unwrap_or_else(|e| panic!("create table {name} on moto: {e:?}"));
}

/// A fresh table with a unique name starting with `prefix`; returns the name.
pub async fn unique_table(client: &Client, prefix: &str) -> String {
    let name = crate::moto::unique(prefix);
    create_table(client, &name).await;
    name
}

/// The item at `pk`/`sk` as DynamoDB JSON (`{"attr": {"S": ...}}`), as a stream image
/// carries it (strings and numbers: what outbox items hold).
pub async fn stream_image(client: &Client, table: &str, pk: &str, sk: &str) -> serde_json::Value {
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
