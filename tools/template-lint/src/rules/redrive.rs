//! Rules `sqs-redrive-policy` and `sqs-max-receive-count`: every source queue moves poison
//! messages to a dead-letter queue, and only after enough receives.

use std::collections::BTreeSet;

use serde_yaml_ng::Value;

use crate::template::{Template, target};
use crate::{MIN_RECEIVE_COUNT, Rule, Violation};

/// Checks the redrive policies of every `AWS::SQS::Queue`.
pub fn check(template: &Template) -> Vec<Violation> {
    let exempt = dead_letter_targets(template);
    let mut violations = Vec::new();
    for queue in template.resources_of("AWS::SQS::Queue") {
        let Some(policy) = queue.prop("RedrivePolicy").map(parse_embedded) else {
            if !exempt.contains(queue.name) {
                violations.push(Violation::new(
                    Rule::SqsRedrivePolicy,
                    queue.name,
                    "queue has no RedrivePolicy: add a dead-letter queue `<name>-dlq`",
                ));
            }
            continue;
        };
        if policy.get("deadLetterTargetArn").is_none_or(Value::is_null) {
            violations.push(Violation::new(
                Rule::SqsRedrivePolicy,
                queue.name,
                "RedrivePolicy has no deadLetterTargetArn",
            ));
        }
        match policy
            .get("maxReceiveCount")
            .and_then(|v| template.number(v))
        {
            Some(count) if count >= MIN_RECEIVE_COUNT => {}
            Some(count) => violations.push(Violation::new(
                Rule::SqsMaxReceiveCount,
                queue.name,
                format!("maxReceiveCount is {count}, must be >= {MIN_RECEIVE_COUNT}"),
            )),
            None => violations.push(Violation::new(
                Rule::SqsMaxReceiveCount,
                queue.name,
                "maxReceiveCount is missing or does not resolve to a number",
            )),
        }
    }
    violations
}

/// Queues that are exempt from needing their own DLQ: those some queue's RedrivePolicy
/// targets, those that declare themselves DLQs with a RedriveAllowPolicy, and those that are
/// an `OnFailure` destination (of an event source mapping or an async invoke config).
pub(crate) fn dead_letter_targets(template: &Template) -> BTreeSet<&str> {
    let mut exempt = BTreeSet::new();
    for resource in template.resources() {
        if resource.kind == "AWS::SQS::Queue" {
            if let Some(policy) = resource.prop("RedrivePolicy").map(parse_embedded)
                && let Some(name) = policy.get("deadLetterTargetArn").and_then(target)
                && let Some(dlq) = template.resource(name)
            {
                exempt.insert(dlq.name);
            }
            let allow = resource.prop("RedriveAllowPolicy").map(parse_embedded);
            let permission = allow.as_ref().and_then(|a| a.get("redrivePermission"));
            if matches!(
                permission.and_then(Value::as_str),
                Some("byQueue" | "allowAll")
            ) {
                exempt.insert(resource.name);
            }
        }
        collect_on_failure(resource.properties, &mut |name| {
            if let Some(queue) = template.resource(name) {
                exempt.insert(queue.name);
            }
        });
    }
    exempt
}

/// Calls `found` with the logical id behind every `OnFailure.Destination` under `value`.
fn collect_on_failure<'a>(value: &'a Value, found: &mut impl FnMut(&'a str)) {
    match value {
        Value::Mapping(map) => {
            for (key, child) in map {
                if key.as_str() == Some("OnFailure")
                    && let Some(name) = child.get("Destination").and_then(target)
                {
                    found(name);
                }
                collect_on_failure(child, found);
            }
        }
        Value::Sequence(seq) => seq
            .iter()
            .for_each(|child| collect_on_failure(child, found)),
        _ => {}
    }
}

/// CloudFormation accepts the redrive policies as an object or as a JSON string.
pub(crate) fn parse_embedded(value: &Value) -> Value {
    match value.as_str() {
        Some(json) => serde_yaml_ng::from_str(json).unwrap_or(Value::Null),
        None => value.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{assert_passes, lint_with};

    #[test]
    fn a_json_string_redrive_policy_is_understood() {
        let text = r#"
Resources:
  Dlq: {Type: AWS::SQS::Queue}
  Q:
    Type: AWS::SQS::Queue
    Properties:
      RedrivePolicy: '{"deadLetterTargetArn": "arn:aws:sqs:eu-west-1:1:dlq", "maxReceiveCount": 3}'
"#;
        let violations = lint_with(check, text);

        assert_eq!(violations.len(), 2, "{violations:?}");
        assert!(
            violations
                .iter()
                .any(|v| v.rule == Rule::SqsMaxReceiveCount && v.resource == "Q")
        );
        assert!(
            violations
                .iter()
                .any(|v| v.rule == Rule::SqsRedrivePolicy && v.resource == "Dlq")
        );
    }

    #[test]
    fn long_form_targets_and_failure_destinations_are_exempt() {
        let text = r#"
Parameters:
  Count: {Type: Number, Default: 8}
Resources:
  Dlq: {Type: AWS::SQS::Queue}
  Failures: {Type: AWS::SQS::Queue}
  Q:
    Type: AWS::SQS::Queue
    Properties:
      RedrivePolicy: {deadLetterTargetArn: {'Fn::GetAtt': [Dlq, Arn]}, maxReceiveCount: {Ref: Count}}
  Esm:
    Type: AWS::Lambda::EventSourceMapping
    Properties:
      DestinationConfig: {OnFailure: {Destination: {'Fn::GetAtt': Failures.Arn}}}
"#;
        assert_passes(check, text);
    }
}
