//! Rule `consumer-max-receive-count`: a consumer told its queue's `maxReceiveCount` (the
//! `MAX_RECEIVE_COUNT` variable: hub-delivery and price-fanout dead-letter a message with its
//! reason on that receive) must be told the number its queue really uses. A smaller value
//! dead-letters messages early; a larger one lets SQS move them without a reason. With
//! `maxReceiveCount` per queue, a shared parameter is an easy mistake.

use serde_yaml_ng::Value;

use super::redrive::parse_embedded;
use super::sqs_consumers;
use crate::template::Template;
use crate::{Rule, Violation};

/// The variable the functions read.
const VARIABLE: &str = "MAX_RECEIVE_COUNT";

/// Checks every SQS event source whose function sets [`VARIABLE`].
pub fn check(template: &Template) -> Vec<Violation> {
    let mut violations = Vec::new();
    for (queue_name, function_name) in sqs_consumers(template) {
        let (Some(queue), Some(function)) = (
            template.resource(queue_name),
            template.resource(function_name),
        ) else {
            continue;
        };
        let Some(told) = function
            .prop("Environment")
            .and_then(|e| e.get("Variables"))
            .and_then(|v| v.get(VARIABLE))
        else {
            continue;
        };
        let actual = queue
            .prop("RedrivePolicy")
            .map(parse_embedded)
            .and_then(|p| p.get("maxReceiveCount").cloned())
            .and_then(|v| template.number(&v));
        let told_number = number_or_text(template, told);
        match (told_number, actual) {
            (Some(told), Some(actual)) if (told - actual).abs() < f64::EPSILON => {}
            (told, actual) => violations.push(Violation::new(
                Rule::ConsumerMaxReceiveCount,
                function.name,
                format!(
                    "{VARIABLE} is {} but its queue {queue_name} redrives after {} receives",
                    told.map_or("unresolved".into(), |n| n.to_string()),
                    actual.map_or("unresolved".into(), |n| n.to_string()),
                ),
            )),
        }
    }
    violations
}

/// Environment values are strings in CloudFormation: `"8"` counts as 8.
fn number_or_text(template: &Template, value: &Value) -> Option<f64> {
    template
        .number(value)
        .or_else(|| value.as_str().and_then(|s| s.parse().ok()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{assert_passes, lint_with};

    const TEMPLATE: &str = r#"
Parameters:
  Receives: {Type: Number, Default: 8}
  Other: {Type: Number, Default: 5}
Resources:
  Q:
    Type: AWS::SQS::Queue
    Properties:
      RedrivePolicy: {deadLetterTargetArn: x, maxReceiveCount: !Ref Receives}
  F:
    Type: AWS::Serverless::Function
    Properties:
      Environment: {Variables: {MAX_RECEIVE_COUNT: TOLD}}
      Events:
        E: {Type: SQS, Properties: {Queue: !GetAtt Q.Arn}}
"#;

    #[test]
    fn the_queues_own_count_passes() {
        assert_passes(check, &TEMPLATE.replace("TOLD", "!Ref Receives"));
        assert_passes(check, &TEMPLATE.replace("TOLD", "\"8\""));
    }

    #[test]
    fn another_count_is_flagged_on_the_function() {
        let violations = lint_with(check, &TEMPLATE.replace("TOLD", "!Ref Other"));
        assert_eq!(violations.len(), 1, "{violations:?}");
        assert_eq!(violations[0].resource, "F");
        assert!(violations[0].message.contains("is 5"), "{violations:?}");
    }

    #[test]
    fn a_function_without_the_variable_is_not_checked() {
        let text = TEMPLATE.replace(
            "Environment: {Variables: {MAX_RECEIVE_COUNT: TOLD}}",
            "Timeout: 3",
        );
        assert_passes(check, &text);
    }
}
