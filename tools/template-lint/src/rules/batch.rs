//! Rule `esm-report-batch-item-failures`: one failed message must not make the whole batch
//! (and every good message in it) be retried.

use super::{SourceKind, event_sources};
use crate::template::{Template, items};
use crate::{Rule, Violation};

/// Checks every SQS, DynamoDB and Kinesis event source mapping.
pub fn check(template: &Template) -> Vec<Violation> {
    event_sources(template)
        .into_iter()
        .filter(|source| source.kind != SourceKind::Other)
        .filter(|source| {
            let types = source.properties.get("FunctionResponseTypes");
            !types
                .map(items)
                .unwrap_or_default()
                .into_iter()
                .any(|t| t.as_str() == Some("ReportBatchItemFailures"))
        })
        .map(|source| {
            Violation::new(
                Rule::EsmReportBatchItemFailures,
                source.label,
                "event source mapping lacks FunctionResponseTypes: [ReportBatchItemFailures]",
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::flagged;

    #[test]
    fn sam_events_and_raw_mappings_are_both_checked() {
        let text = r#"
Resources:
  Q: {Type: AWS::SQS::Queue}
  T: {Type: AWS::DynamoDB::Table}
  F:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        Good: {Type: SQS, Properties: {Queue: !GetAtt Q.Arn, FunctionResponseTypes: [ReportBatchItemFailures]}}
        Bad: {Type: DynamoDB, Properties: {Stream: !GetAtt T.StreamArn}}
        Api: {Type: HttpApi}
  Esm:
    Type: AWS::Lambda::EventSourceMapping
    Properties: {EventSourceArn: !Sub "arn:${AWS::Partition}:sqs:eu-west-1:1:q", FunctionName: !Ref F}
"#;
        assert_eq!(flagged(check, text), ["F (event Bad)", "Esm"]);
    }
}
