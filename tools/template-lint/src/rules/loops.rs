//! Rules `recursive-loop` and `continuation-queue-mapped`. A function consuming a
//! continuation queue (`…-continuations`, which it is told and sends to: the price
//! fan-out's segments) runs a Lambda→SQS→Lambda loop as long as the work, which Lambda stops
//! after ~16 hops unless the function sets `RecursiveLoop: Allow`; the setting applies to the
//! whole function, so it belongs only there (the code bounds every continuation's hops
//! instead). Retries that re-send to a function's own queue stay below 16 hops (their
//! `maxReceiveCount`) and need no exemption. A continuation queue exists so that its own
//! event source mapping can run without a batching window: it must be mapped, and without
//! one.

use serde_yaml_ng::Value;

use super::{SourceKind, event_sources};
use crate::template::{Template, target};
use crate::{Rule, Violation};

/// The name ending of a continuation queue.
const CONTINUATIONS: &str = "-continuations";

/// Checks `RecursiveLoop` on every `AWS::Serverless::Function`.
pub fn check_recursive_loop(template: &Template) -> Vec<Violation> {
    let sources = event_sources(template);
    let mut violations = Vec::new();
    for function in template.resources_of("AWS::Serverless::Function") {
        let referenced: Vec<&str> = function
            .prop("Environment")
            .and_then(|e| e.get("Variables"))
            .and_then(Value::as_mapping)
            .into_iter()
            .flatten()
            .filter_map(|(_, value)| target(value))
            .collect();
        let looping: Vec<&str> = sources
            .iter()
            .filter(|s| s.kind == SourceKind::Sqs && s.function == Some(function.name))
            .filter_map(|s| s.source)
            .filter(|queue| referenced.contains(queue) && is_continuation_queue(template, queue))
            .collect();
        let allowed = function.prop("RecursiveLoop").and_then(Value::as_str) == Some("Allow");
        match (looping.is_empty(), allowed) {
            (false, false) => violations.push(Violation::new(
                Rule::RecursiveLoop,
                function.name,
                format!(
                    "consumes and is told {} (a Lambda→SQS→Lambda loop Lambda stops after ~16 \
                     hops): set `RecursiveLoop: Allow`, with a hop bound in the code",
                    looping.join(", ")
                ),
            )),
            (true, true) => violations.push(Violation::new(
                Rule::RecursiveLoop,
                function.name,
                "sets `RecursiveLoop: Allow` but runs no continuation loop: remove it (it \
                 applies to the whole function)",
            )),
            _ => {}
        }
    }
    violations
}

/// Checks that every continuation queue is the source of an SQS event source mapping
/// without a batching window.
pub fn check_continuations_mapped(template: &Template) -> Vec<Violation> {
    let sources = event_sources(template);
    let mut violations = Vec::new();
    for queue in template.resources_of("AWS::SQS::Queue") {
        if !is_continuation_queue(template, queue.name) {
            continue;
        }
        let mappings: Vec<_> = sources
            .iter()
            .filter(|s| s.kind == SourceKind::Sqs && s.source == Some(queue.name))
            .collect();
        if mappings.is_empty() {
            violations.push(Violation::new(
                Rule::ContinuationQueueMapped,
                queue.name,
                "continuation queue is not the source of any event source mapping: nothing \
                 would ever process its messages",
            ));
        }
        for mapping in mappings {
            let window = mapping
                .properties
                .get("MaximumBatchingWindowInSeconds")
                .and_then(|v| template.number(v))
                .unwrap_or(0.0);
            if window > 0.0 {
                violations.push(Violation::new(
                    Rule::ContinuationQueueMapped,
                    &mapping.label,
                    format!(
                        "maps the continuation queue {} with a {window} s batching window: \
                         every hop would wait for it",
                        queue.name
                    ),
                ));
            }
        }
    }
    violations
}

/// Whether the logical id `name` is a queue named `…-continuations`.
fn is_continuation_queue(template: &Template, name: &str) -> bool {
    template.resource(name).is_some_and(|queue| {
        queue.kind == "AWS::SQS::Queue"
            && queue
                .prop("QueueName")
                .map(queue_name)
                .is_some_and(|n| n.ends_with(CONTINUATIONS))
    })
}

/// A `QueueName` as text: a literal, or the template of a `Fn::Sub`.
fn queue_name(value: &Value) -> String {
    value
        .as_str()
        .or_else(|| {
            value
                .get("Fn::Sub")
                .and_then(|s| s.as_str().or_else(|| s.get(0)?.as_str()))
        })
        .unwrap_or_default()
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{assert_passes, assert_single, lint_with};

    /// Both rules of this module, as `lint` runs them.
    fn check(template: &Template) -> Vec<Violation> {
        let mut all = check_recursive_loop(template);
        all.extend(check_continuations_mapped(template));
        all
    }

    const LOOP: &str = r#"
Resources:
  Continuations:
    Type: AWS::SQS::Queue
    Properties: {QueueName: !Sub "${Prefix}-pricing-continuations"}
  Other:
    Type: AWS::SQS::Queue
  Retrying:
    Type: AWS::Serverless::Function
    Properties:
      Environment: {Variables: {OWN_URL: !Ref Other}}
      Events:
        Own: {Type: SQS, Properties: {Queue: !GetAtt Other.Arn}}
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      RecursiveLoop: Allow
      Environment: {Variables: {CONTINUATIONS_URL: !Ref Continuations}}
      Events:
        More: {Type: SQS, Properties: {Queue: !GetAtt Continuations.Arn, BatchSize: 1}}
"#;

    #[test]
    fn a_continuation_loop_allowed_and_mapped_and_a_retry_loop_without_it_pass() {
        assert_passes(check, LOOP);
    }

    #[test]
    fn a_loop_without_recursive_loop_allowed_is_a_violation() {
        assert_single(
            check,
            &LOOP.replace("      RecursiveLoop: Allow\n", ""),
            Rule::RecursiveLoop,
            "Continuations",
        );
    }

    #[test]
    fn recursive_loop_allowed_without_a_loop_is_a_violation() {
        let violations = lint_with(
            check,
            &LOOP.replace(
                "Queue: !GetAtt Continuations.Arn",
                "Queue: !GetAtt Other.Arn",
            ),
        );
        let rules: Vec<Rule> = violations.iter().map(|v| v.rule).collect();
        assert_eq!(
            rules,
            [Rule::RecursiveLoop, Rule::ContinuationQueueMapped],
            "{violations:?}"
        );
    }

    #[test]
    fn a_continuation_queue_behind_a_batching_window_is_a_violation() {
        assert_single(
            check,
            &LOOP.replace("BatchSize: 1", "MaximumBatchingWindowInSeconds: 5"),
            Rule::ContinuationQueueMapped,
            "5 s batching window",
        );
    }
}
