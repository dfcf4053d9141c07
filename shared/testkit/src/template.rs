//! The queues and the table of `infra/template.yaml`, read from the template itself (built
//! into the crate), so that what tests create on moto is what the stack deploys: queue names,
//! visibility timeouts and redrive policies; the table's keys and indexes.
//!
//! Only what the emulator needs is read (no KMS, retention or alarms); the template linter
//! (`tools/template-lint`) checks the rest.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_yaml_ng::Value;

/// The SAM template.
pub const TEMPLATE: &str = include_str!("../../../infra/template.yaml");

/// An SQS queue the template declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueDefinition {
    /// Its logical id, e.g. `OrdersQueue`.
    pub logical_id: String,
    /// Its name after the stack's `${Prefix}-`, e.g. `orders`.
    pub name: String,
    /// `VisibilityTimeout`, seconds (SQS's default, 30, when absent).
    pub visibility_timeout: Option<u32>,
    /// The redrive policy: the DLQ's name and `maxReceiveCount`.
    pub redrive: Option<Redrive>,
}

/// A queue's redrive policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redrive {
    /// The DLQ's name after the prefix.
    pub dead_letter_queue: String,
    /// Receives before a message moves to the DLQ (the parameter's default when a `!Ref`).
    pub max_receive_count: u32,
}

/// A key of the table or of an index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeySchema {
    /// The partition key attribute.
    pub hash: String,
    /// The sort key attribute.
    pub range: Option<String>,
}

/// The DynamoDB table the template declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableDefinition {
    /// Attribute name → type (`S`, `N`, `B`) of every key attribute.
    pub attributes: BTreeMap<String, String>,
    /// The table's key.
    pub key: KeySchema,
    /// Global secondary indexes (all projecting every attribute) by name.
    pub indexes: BTreeMap<String, KeySchema>,
}

#[derive(Deserialize)]
struct Template {
    #[serde(rename = "Parameters", default)]
    parameters: BTreeMap<String, Value>,
    #[serde(rename = "Resources")]
    resources: BTreeMap<String, Resource>,
}

#[derive(Deserialize)]
struct Resource {
    #[serde(rename = "Type")]
    kind: String,
    #[serde(rename = "Properties", default)]
    properties: Value,
}

fn parse() -> Template {
    serde_yaml_ng::from_str(TEMPLATE).expect("infra/template.yaml parses")
}

/// The value under a CloudFormation tag (`!Sub x` → `x`), or the value itself.
fn untagged(value: &Value) -> &Value {
    match value {
        Value::Tagged(tagged) => &tagged.value,
        other => other,
    }
}

fn text<'a>(value: &'a Value, what: &str) -> &'a str {
    untagged(value)
        .as_str()
        .unwrap_or_else(|| panic!("template: {what} is not a string: {value:?}"))
}

/// A number, or a `!Ref` to a parameter with a numeric default.
fn number(template: &Template, value: &Value, what: &str) -> u32 {
    let resolved = match value {
        Value::Tagged(tagged) if tagged.tag == "Ref" => {
            let parameter = text(&tagged.value, what);
            template
                .parameters
                .get(parameter)
                .and_then(|p| p.get("Default"))
                .unwrap_or_else(|| panic!("template: {what} refers to {parameter}, no default"))
        }
        other => other,
    };
    match resolved {
        Value::Number(n) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
    .unwrap_or_else(|| panic!("template: {what} is not a number: {resolved:?}"))
}

/// `${Prefix}-orders` → `orders`.
fn queue_name(value: &Value, logical_id: &str) -> String {
    let full = text(value, logical_id);
    full.strip_prefix("${Prefix}-")
        .unwrap_or_else(|| panic!("template: {logical_id}'s QueueName `{full}` has no prefix"))
        .to_owned()
}

/// Every SQS queue of the template, DLQs included, ordered by logical id.
pub fn queues() -> Vec<QueueDefinition> {
    let template = parse();
    let names: BTreeMap<&str, String> = template
        .resources
        .iter()
        .filter(|(_, r)| r.kind == "AWS::SQS::Queue")
        .map(|(id, r)| (id.as_str(), queue_name(&r.properties["QueueName"], id)))
        .collect();
    template
        .resources
        .iter()
        .filter(|(_, r)| r.kind == "AWS::SQS::Queue")
        .map(|(id, resource)| {
            let properties = &resource.properties;
            let redrive = properties.get("RedrivePolicy").map(|policy| {
                // `!GetAtt OrdersDlq.Arn`
                let target = text(&policy["deadLetterTargetArn"], id);
                let target = target.strip_suffix(".Arn").unwrap_or(target);
                Redrive {
                    dead_letter_queue: names
                        .get(target)
                        .unwrap_or_else(|| panic!("template: {id} redrives into unknown {target}"))
                        .clone(),
                    max_receive_count: number(&template, &policy["maxReceiveCount"], id),
                }
            });
            QueueDefinition {
                logical_id: id.clone(),
                name: names[id.as_str()].clone(),
                visibility_timeout: properties
                    .get("VisibilityTimeout")
                    .map(|v| number(&template, v, id)),
                redrive,
            }
        })
        .collect()
}

/// The queue called `name` (after the prefix); panics when the template has none.
pub fn queue(name: &str) -> QueueDefinition {
    queues()
        .into_iter()
        .find(|q| q.name == name)
        .unwrap_or_else(|| panic!("template: no queue `{name}`"))
}

fn key_schema(value: &Value, what: &str) -> KeySchema {
    let elements = value
        .as_sequence()
        .unwrap_or_else(|| panic!("template: {what} KeySchema is not a list"));
    let of = |kind: &str| {
        elements
            .iter()
            .find(|e| e["KeyType"].as_str() == Some(kind))
            .map(|e| text(&e["AttributeName"], what).to_owned())
    };
    KeySchema {
        hash: of("HASH").unwrap_or_else(|| panic!("template: {what} has no HASH key")),
        range: of("RANGE"),
    }
}

/// The template's one DynamoDB table.
pub fn table() -> TableDefinition {
    let template = parse();
    let mut tables = template
        .resources
        .values()
        .filter(|r| r.kind == "AWS::DynamoDB::Table");
    let table = tables.next().expect("template: a DynamoDB table");
    assert!(tables.next().is_none(), "template: one DynamoDB table");
    let properties = &table.properties;
    let attributes = properties["AttributeDefinitions"]
        .as_sequence()
        .expect("template: AttributeDefinitions is a list")
        .iter()
        .map(|a| {
            (
                text(&a["AttributeName"], "AttributeName").to_owned(),
                text(&a["AttributeType"], "AttributeType").to_owned(),
            )
        })
        .collect();
    let indexes = properties
        .get("GlobalSecondaryIndexes")
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
        .map(|index| {
            let name = text(&index["IndexName"], "IndexName").to_owned();
            let key = key_schema(&index["KeySchema"], &name);
            (name, key)
        })
        .collect();
    TableDefinition {
        attributes,
        key: key_schema(&properties["KeySchema"], "the table"),
        indexes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_source_queue_redrives_into_its_dlq() {
        let queues = queues();
        let orders = queues.iter().find(|q| q.name == "orders").expect("orders");
        let redrive = orders.redrive.as_ref().expect("orders has a DLQ");
        assert_eq!(redrive.dead_letter_queue, "orders-dlq");
        assert!(redrive.max_receive_count >= 1);
        assert!(orders.visibility_timeout.is_some());
        for name in [
            "pricing-changes",
            "orders",
            "quote-events",
            "billing-updates",
        ] {
            let queue = queue(name);
            assert_eq!(
                queue.redrive.map(|r| r.dead_letter_queue),
                Some(format!("{name}-dlq")),
                "{name}"
            );
            assert!(queues.iter().any(|q| q.name == format!("{name}-dlq")));
        }
    }

    #[test]
    fn the_table_has_the_keys_and_indexes_the_adapters_use() {
        let table = table();
        assert_eq!(table.key.hash, "pk");
        assert_eq!(table.key.range.as_deref(), Some("sk"));
        assert_eq!(table.indexes["gsi1"].hash, "gsi1pk");
        assert_eq!(table.indexes["gsi2"].range.as_deref(), Some("gsi2sk"));
        assert_eq!(table.attributes["pk"], "S");
    }
}
