//! Table key schemas and index projections, read from the SAM template (the definitions
//! that deploy), so the model prices the indexes that exist.

use serde_yaml_ng::Value as Yaml;

use crate::item::{Item, attribute_size};

/// What an index holds besides its keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Projection {
    All,
    KeysOnly,
    Include(Vec<String>),
}

/// A global secondary index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Index {
    pub name: String,
    pub partition_key: String,
    pub sort_key: Option<String>,
    pub projection: Projection,
}

/// A table: its primary key and its global secondary indexes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableSchema {
    /// The template's logical id.
    pub logical_id: String,
    pub partition_key: String,
    pub sort_key: Option<String>,
    pub indexes: Vec<Index>,
}

#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    #[error("the template is not YAML: {0}")]
    Yaml(#[from] serde_yaml_ng::Error),
    #[error("table {table}: {what}")]
    Table { table: String, what: String },
}

impl TableSchema {
    /// Every `AWS::DynamoDB::Table` of a CloudFormation/SAM template.
    pub fn from_template(text: &str) -> Result<Vec<TableSchema>, SchemaError> {
        let template: Yaml = serde_yaml_ng::from_str(text)?;
        let mut tables = Vec::new();
        let Some(resources) = template.get("Resources").and_then(Yaml::as_mapping) else {
            return Ok(tables);
        };
        for (id, resource) in resources {
            if resource.get("Type").and_then(Yaml::as_str) != Some("AWS::DynamoDB::Table") {
                continue;
            }
            let logical_id = id.as_str().unwrap_or_default().to_owned();
            let fail = |what: &str| SchemaError::Table {
                table: logical_id.clone(),
                what: what.to_owned(),
            };
            let properties = resource
                .get("Properties")
                .ok_or_else(|| fail("no Properties"))?;
            let (partition_key, sort_key) = key_schema(properties.get("KeySchema"))
                .ok_or_else(|| fail("no HASH key in KeySchema"))?;
            let mut indexes = Vec::new();
            for index in properties
                .get("GlobalSecondaryIndexes")
                .and_then(Yaml::as_sequence)
                .into_iter()
                .flatten()
            {
                let name = index
                    .get("IndexName")
                    .and_then(Yaml::as_str)
                    .ok_or_else(|| fail("an index without IndexName"))?
                    .to_owned();
                let (partition_key, sort_key) = key_schema(index.get("KeySchema"))
                    .ok_or_else(|| fail(&format!("index {name}: no HASH key")))?;
                let projection = match index
                    .get("Projection")
                    .and_then(|p| p.get("ProjectionType"))
                    .and_then(Yaml::as_str)
                {
                    Some("KEYS_ONLY") => Projection::KeysOnly,
                    Some("INCLUDE") => Projection::Include(
                        index
                            .get("Projection")
                            .and_then(|p| p.get("NonKeyAttributes"))
                            .and_then(Yaml::as_sequence)
                            .into_iter()
                            .flatten()
                            .filter_map(Yaml::as_str)
                            .map(str::to_owned)
                            .collect(),
                    ),
                    Some("ALL") => Projection::All,
                    other => return Err(fail(&format!("index {name}: projection {other:?}"))),
                };
                indexes.push(Index {
                    name,
                    partition_key,
                    sort_key,
                    projection,
                });
            }
            tables.push(TableSchema {
                logical_id,
                partition_key,
                sort_key,
                indexes,
            });
        }
        Ok(tables)
    }

    /// The attributes of the table's primary key.
    pub fn key_attributes(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.partition_key.as_str()).chain(self.sort_key.as_deref())
    }

    /// The primary key of an item, as one string (the shadow table's key).
    pub fn key_of(&self, item: &Item) -> String {
        self.key_attributes()
            .map(|a| item.get(a).map(Value::to_string).unwrap_or_default())
            .collect::<Vec<_>>()
            .join("|")
    }
}

use serde_json::Value;

impl Index {
    /// Whether an item is in this index (it has the index's key attributes).
    pub fn holds(&self, item: &Item) -> bool {
        item.contains_key(&self.partition_key)
            && self.sort_key.as_ref().is_none_or(|s| item.contains_key(s))
    }

    /// The index key of an item.
    pub fn key_of<'a>(&self, item: &'a Item) -> (Option<&'a Value>, Option<&'a Value>) {
        (
            item.get(&self.partition_key),
            self.sort_key.as_ref().and_then(|s| item.get(s)),
        )
    }

    /// The item as the index stores it: the table's and the index's keys plus the projection.
    pub fn projected(&self, table: &TableSchema, item: &Item) -> Item {
        item.iter()
            .filter(|(name, _)| {
                table.key_attributes().any(|k| k == name.as_str())
                    || *name == &self.partition_key
                    || self.sort_key.as_deref() == Some(name.as_str())
                    || match &self.projection {
                        Projection::All => true,
                        Projection::KeysOnly => false,
                        Projection::Include(names) => names.iter().any(|n| n == *name),
                    }
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// Bytes of the projected item.
    pub fn projected_size(&self, table: &TableSchema, item: &Item) -> u64 {
        self.projected(table, item)
            .iter()
            .map(|(name, value)| attribute_size(name, value))
            .sum()
    }
}

fn key_schema(schema: Option<&Yaml>) -> Option<(String, Option<String>)> {
    let mut hash = None;
    let mut range = None;
    for element in schema?.as_sequence()? {
        let name = element.get("AttributeName")?.as_str()?.to_owned();
        match element.get("KeyType")?.as_str()? {
            "HASH" => hash = Some(name),
            "RANGE" => range = Some(name),
            _ => {}
        }
    }
    Some((hash?, range))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEMPLATE: &str = r#"
Resources:
  Data:
    Type: AWS::DynamoDB::Table
    Properties:
      KeySchema:
        - {AttributeName: pk, KeyType: HASH}
        - {AttributeName: sk, KeyType: RANGE}
      SSESpecification:
        KMSMasterKeyId: !GetAtt DataKey.Arn
      GlobalSecondaryIndexes:
        - IndexName: byStatus
          KeySchema: [{AttributeName: status, KeyType: HASH}]
          Projection: {ProjectionType: KEYS_ONLY}
        - IndexName: byTenant
          KeySchema: [{AttributeName: tenant, KeyType: HASH}, {AttributeName: at, KeyType: RANGE}]
          Projection: {ProjectionType: INCLUDE, NonKeyAttributes: [total]}
  Queue:
    Type: AWS::SQS::Queue
"#;

    #[test]
    fn tables_and_projections_come_from_the_template() {
        let tables = TableSchema::from_template(TEMPLATE).unwrap();
        assert_eq!(tables.len(), 1);
        let table = &tables[0];
        assert_eq!(table.partition_key, "pk");
        assert_eq!(table.sort_key.as_deref(), Some("sk"));
        assert_eq!(table.indexes[0].projection, Projection::KeysOnly);
        assert_eq!(
            table.indexes[1].projection,
            Projection::Include(vec!["total".into()])
        );
    }

    #[test]
    fn a_keys_only_index_holds_the_keys_and_nothing_else() {
        let table = &TableSchema::from_template(TEMPLATE).unwrap()[0];
        let item: Item = serde_json::from_str(
            r#"{"pk":{"S":"q"},"sk":{"S":"Q"},"status":{"S":"open"},"body":{"S":"xxxxxxxxxx"}}"#,
        )
        .unwrap();
        let projected = table.indexes[0].projected(table, &item);
        assert_eq!(projected.len(), 3, "pk, sk and the index key");
        assert!(!projected.contains_key("body"));
        assert!(!table.indexes[1].holds(&item), "no tenant: not in byTenant");
    }
}
