//! The table's layout as code: the key schema and indexes `infra/template.yaml` declares,
//! for creating the table on an emulator (tests, local experiments against moto). Production
//! tables come from the template.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType,
};

use crate::error::DynamoError;

/// Creates an on-demand table named `name` with `pk`/`sk` and the `gsi1`/`gsi2` indexes.
///
/// # Errors
/// [`DynamoError::Sdk`] when a builder rejects the schema or the call fails.
pub async fn create_table(client: &Client, name: &str) -> Result<(), DynamoError> {
    let build = |e: aws_sdk_dynamodb::error::BuildError| DynamoError::Sdk {
        operation: "CreateTable",
        source: Box::new(e),
    };
    let key = |attribute: &str, key_type: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(attribute)
            .key_type(key_type)
            .build()
            .map_err(build)
    };
    let index = |index: &str, pk: &str, sk: &str| {
        GlobalSecondaryIndex::builder()
            .index_name(index)
            .key_schema(key(pk, KeyType::Hash)?)
            .key_schema(key(sk, KeyType::Range)?)
            .projection(
                Projection::builder()
                    .projection_type(ProjectionType::All)
                    .build(),
            )
            .build()
            .map_err(build)
    };
    let mut request = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key("pk", KeyType::Hash)?)
        .key_schema(key("sk", KeyType::Range)?)
        .global_secondary_indexes(index("gsi1", "gsi1pk", "gsi1sk")?)
        .global_secondary_indexes(index("gsi2", "gsi2pk", "gsi2sk")?);
    for attribute in ["pk", "sk", "gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk"] {
        request = request.attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(attribute)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .map_err(build)?,
        );
    }
    request.send().await.map_err(|e| DynamoError::Sdk {
        operation: "CreateTable",
        source: Box::new(e),
    })?;
    Ok(())
}
