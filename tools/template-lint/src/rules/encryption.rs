//! Rule `encryption-at-rest`: queues, tables and topics are encrypted with a customer-managed
//! KMS key, so that access to the data is also governed by the key policy and logged in
//! CloudTrail. SQS-managed SSE and DynamoDB's default AWS-owned key do neither.

use serde_yaml_ng::Value;

use crate::template::{Resource, Template};
use crate::{Rule, Violation};

/// Checks every SQS queue, DynamoDB table and SNS topic.
pub fn check(template: &Template) -> Vec<Violation> {
    template
        .resources()
        .filter_map(|resource| {
            let problem = match resource.kind {
                "AWS::SQS::Queue" => queue(&resource),
                "AWS::DynamoDB::Table" | "AWS::Serverless::SimpleTable" => table(&resource),
                "AWS::DynamoDB::GlobalTable" => global_table(&resource),
                "AWS::SNS::Topic" => topic(&resource),
                _ => None,
            }?;
            Some(Violation::new(
                Rule::EncryptionAtRest,
                resource.name,
                problem,
            ))
        })
        .collect()
}

fn queue(queue: &Resource<'_>) -> Option<&'static str> {
    if queue.prop("SqsManagedSseEnabled").and_then(Value::as_bool) == Some(true) {
        return Some("queue uses SQS-managed SSE; set KmsMasterKeyId to the customer-managed key");
    }
    missing(queue.prop("KmsMasterKeyId"))
        .then_some("queue has no KmsMasterKeyId (customer-managed KMS key)")
}

fn table(table: &Resource<'_>) -> Option<&'static str> {
    let sse = table.prop("SSESpecification");
    let enabled = sse
        .and_then(|s| s.get("SSEEnabled"))
        .and_then(Value::as_bool)
        == Some(true);
    let kms = sse.and_then(|s| s.get("SSEType")).and_then(Value::as_str) == Some("KMS");
    if !(enabled && kms) {
        return Some("table needs SSESpecification {SSEEnabled: true, SSEType: KMS}");
    }
    missing(sse.and_then(|s| s.get("KMSMasterKeyId")))
        .then_some("table SSESpecification has no KMSMasterKeyId (customer-managed key)")
}

fn global_table(table: &Resource<'_>) -> Option<&'static str> {
    let sse = table.prop("SSESpecification");
    let kms = sse.and_then(|s| s.get("SSEType")).and_then(Value::as_str) == Some("KMS");
    (!kms).then_some("global table needs SSESpecification {SSEEnabled: true, SSEType: KMS}")
}

fn topic(topic: &Resource<'_>) -> Option<&'static str> {
    missing(topic.prop("KmsMasterKeyId"))
        .then_some("topic has no KmsMasterKeyId (customer-managed KMS key)")
}

fn missing(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.trim().is_empty(),
        Some(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::flagged;

    #[test]
    fn each_unencrypted_store_is_named() {
        let text = r#"
Resources:
  Key: {Type: AWS::KMS::Key}
  GoodQueue: {Type: AWS::SQS::Queue, Properties: {KmsMasterKeyId: !Ref Key}}
  ManagedQueue: {Type: AWS::SQS::Queue, Properties: {SqsManagedSseEnabled: true}}
  GoodTable:
    Type: AWS::DynamoDB::Table
    Properties: {SSESpecification: {SSEEnabled: true, SSEType: KMS, KMSMasterKeyId: !GetAtt Key.Arn}}
  DefaultTable: {Type: AWS::DynamoDB::Table, Properties: {SSESpecification: {SSEEnabled: true}}}
  Topic: {Type: AWS::SNS::Topic}
"#;
        assert_eq!(
            flagged(check, text),
            ["ManagedQueue", "DefaultTable", "Topic"]
        );
    }
}
