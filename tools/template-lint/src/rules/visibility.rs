//! Rule `sqs-visibility-timeout`: a queue must hide a received message for at least six times
//! its consumer's timeout, or a batch still being processed (or retried by the poller) is
//! delivered a second time.

use super::sqs_consumers;
use crate::template::Template;
use crate::{Rule, VISIBILITY_TIMEOUT_FACTOR, Violation};

/// Lambda's timeout when a function sets none (seconds).
const DEFAULT_FUNCTION_TIMEOUT: f64 = 3.0;
/// SQS's visibility timeout when a queue sets none (seconds).
const DEFAULT_VISIBILITY_TIMEOUT: f64 = 30.0;

/// Checks every SQS event source whose queue and function are both in the template.
pub fn check(template: &Template) -> Vec<Violation> {
    let mut violations = Vec::new();
    for (queue_name, function_name) in sqs_consumers(template) {
        let Some(queue) = template.resource(queue_name) else {
            continue;
        };
        let Some(timeout) = function_timeout(template, function_name) else {
            violations.push(Violation::new(
                Rule::SqsVisibilityTimeout,
                function_name,
                "function Timeout does not resolve to a number",
            ));
            continue;
        };
        let visibility = match queue.prop("VisibilityTimeout") {
            None => Some(DEFAULT_VISIBILITY_TIMEOUT),
            Some(value) => template.number(value),
        };
        let required = VISIBILITY_TIMEOUT_FACTOR * timeout;
        match visibility {
            Some(visibility) if visibility >= required => {}
            Some(visibility) => violations.push(Violation::new(
                Rule::SqsVisibilityTimeout,
                queue.name,
                format!(
                    "VisibilityTimeout {visibility}s is below {VISIBILITY_TIMEOUT_FACTOR} x \
                     {timeout}s (Timeout of consumer {function_name}) = {required}s"
                ),
            )),
            None => violations.push(Violation::new(
                Rule::SqsVisibilityTimeout,
                queue.name,
                "VisibilityTimeout does not resolve to a number",
            )),
        }
    }
    violations
}

/// The function's `Timeout`, else (for SAM functions) `Globals.Function.Timeout`, else
/// Lambda's default. `None` when a value is present but does not resolve.
pub(crate) fn function_timeout(template: &Template, name: &str) -> Option<f64> {
    let function = template.resource(name)?;
    let own = function.prop("Timeout");
    let global = (function.kind == "AWS::Serverless::Function")
        .then(|| template.function_global("Timeout"))
        .flatten();
    match own.or(global) {
        Some(value) => template.number(value),
        None => Some(DEFAULT_FUNCTION_TIMEOUT),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::lint_with;

    const TEMPLATE: &str = r#"
Globals:
  Function: {Timeout: 20}
Resources:
  Q:
    Type: AWS::SQS::Queue
    Properties: {VisibilityTimeout: "VT"}
  F:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        E: {Type: SQS, Properties: {Queue: !GetAtt Q.Arn}}
  Raw:
    Type: AWS::Lambda::Function
    Properties: {Timeout: 10}
  Esm:
    Type: AWS::Lambda::EventSourceMapping
    Properties: {EventSourceArn: {'Fn::GetAtt': [Q, Arn]}, FunctionName: !Ref Raw}
"#;

    fn lint(visibility: u32) -> Vec<Violation> {
        let text = TEMPLATE.replace("\"VT\"", &visibility.to_string());
        lint_with(check, &text)
    }

    #[test]
    fn the_global_timeout_applies_to_sam_functions() {
        assert_eq!(lint(120), Vec::new());

        let violations = lint(119);

        assert_eq!(violations.len(), 1, "{violations:?}");
        assert!(violations[0].message.contains("consumer F"));
    }

    #[test]
    fn raw_event_source_mappings_use_the_function_s_own_timeout() {
        let violations = lint(59);

        assert_eq!(violations.len(), 2, "{violations:?}");
        assert!(violations[1].message.contains("consumer Raw"));
    }
}
