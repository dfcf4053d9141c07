//! Rules `alarm-coverage` and `alarm-runbook`: every queue, function, table index and API
//! has the alarms an operator needs, each notifying someone and linking its runbook step.
//!
//! Coverage, by what a resource is:
//! - a source queue: `ApproximateAgeOfOldestMessage`; a DLQ or failure destination:
//!   `ApproximateNumberOfMessagesVisible` and `ApproximateAgeOfOldestMessage`;
//! - a function: `Errors`, `Throttles`, `Duration` (threshold below its timeout); with an
//!   SQS trigger also `ConcurrentExecutions` and q2c's `MessagesRetried`; with a stream
//!   trigger `IteratorAge`; behind an API `ConcurrentExecutions`;
//! - a DynamoDB table: `ReadThrottleEvents` and `WriteThrottleEvents` of the table and of
//!   each global secondary index;
//! - an HTTP API: `5xx` and `Latency`.
//!
//! An alarm counts for a resource when one of its metrics (its own, or one of a metric math
//! alarm's `Metrics`) has the metric name and a dimension pointing at the resource
//! (`!Ref`, `!GetAtt`, or the literal index name).

use serde_yaml_ng::Value;

use super::{SourceKind, event_sources};
use crate::template::{Resource, Template, items, target};
use crate::{Rule, Violation};

/// The anchor prefix an alarm description links its runbook step with.
pub const RUNBOOK_LINK: &str = "${RunbookBaseUrl}#";

/// One metric an alarm evaluates.
#[derive(Debug, Clone)]
pub struct AlarmMetric<'a> {
    /// `Namespace` (`None` when not a literal string).
    pub namespace: Option<&'a str>,
    /// `MetricName` (`None` when not a literal string).
    pub name: Option<&'a str>,
    /// `Dimensions` as (name, value).
    pub dimensions: Vec<(&'a str, &'a Value)>,
}

/// An `AWS::CloudWatch::Alarm` and the metrics it evaluates.
#[derive(Debug, Clone)]
pub struct Alarm<'a> {
    /// The resource.
    pub resource: Resource<'a>,
    /// Its metrics (one, or those of a metric math alarm).
    pub metrics: Vec<AlarmMetric<'a>>,
}

impl Alarm<'_> {
    /// Whether it evaluates `metric` with a dimension `dimension` pointing at `logical_id`.
    fn watches(&self, metric: &str, dimension: &str, logical_id: &str) -> bool {
        self.metrics.iter().any(|m| {
            m.name == Some(metric)
                && m.dimensions
                    .iter()
                    .any(|(name, value)| *name == dimension && target(value) == Some(logical_id))
        })
    }
}

fn metric<'a>(definition: &'a Value) -> AlarmMetric<'a> {
    let dimensions = definition
        .get("Dimensions")
        .map(items)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|d| Some((d.get("Name")?.as_str()?, d.get("Value")?)))
        .collect();
    AlarmMetric {
        namespace: definition.get("Namespace").and_then(Value::as_str),
        name: definition.get("MetricName").and_then(Value::as_str),
        dimensions,
    }
}

/// Every alarm of `template` with its metrics.
pub fn alarms(template: &Template) -> Vec<Alarm<'_>> {
    template
        .resources_of("AWS::CloudWatch::Alarm")
        .map(|resource| {
            let mut metrics = Vec::new();
            if resource.prop("MetricName").is_some() {
                metrics.push(metric(resource.properties));
            }
            for query in resource.prop("Metrics").map(items).unwrap_or_default() {
                if let Some(stat) = query.get("MetricStat").and_then(|s| s.get("Metric")) {
                    metrics.push(metric(stat));
                }
            }
            Alarm { resource, metrics }
        })
        .collect()
}

/// The runbook anchor an alarm's description links (`…${RunbookBaseUrl}#<anchor>`).
pub fn runbook_anchor<'a>(alarm: &Resource<'a>) -> Option<&'a str> {
    let description = alarm.prop("AlarmDescription")?;
    let text = description.as_str().or_else(|| {
        description
            .get("Fn::Sub")
            .and_then(|s| s.as_str().or_else(|| s.get(0)?.as_str()))
    })?;
    let anchor = &text[text.find(RUNBOOK_LINK)? + RUNBOOK_LINK.len()..];
    let end = anchor
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
        .unwrap_or(anchor.len());
    (end > 0).then(|| &anchor[..end])
}

/// Checks `alarm-runbook`: every alarm links a runbook anchor and notifies someone.
pub fn check_runbooks(template: &Template) -> Vec<Violation> {
    let mut violations = Vec::new();
    for alarm in alarms(template) {
        if runbook_anchor(&alarm.resource).is_none() {
            violations.push(Violation::new(
                Rule::AlarmRunbook,
                alarm.resource.name,
                format!("AlarmDescription links no runbook step (`{RUNBOOK_LINK}<anchor>`)"),
            ));
        }
        if alarm
            .resource
            .prop("AlarmActions")
            .map(items)
            .unwrap_or_default()
            .is_empty()
        {
            violations.push(Violation::new(
                Rule::AlarmRunbook,
                alarm.resource.name,
                "the alarm has no AlarmActions: nobody hears it",
            ));
        }
    }
    violations
}

/// Checks `alarm-coverage`.
pub fn check_coverage(template: &Template) -> Vec<Violation> {
    let alarms = alarms(template);
    let mut violations = Vec::new();
    let mut require = |resource: &str, metric: &str, dimension: &str, why: &str| {
        if !alarms
            .iter()
            .any(|a| a.watches(metric, dimension, resource))
        {
            violations.push(Violation::new(
                Rule::AlarmCoverage,
                resource,
                format!("no alarm on {metric} ({dimension} = {resource}): {why}"),
            ));
        }
    };
    let mut index_gaps = Vec::new();
    let dead_letter = super::redrive::dead_letter_targets(template);
    let sources = event_sources(template);
    for resource in template.resources() {
        match resource.kind {
            "AWS::SQS::Queue" => {
                if dead_letter.contains(resource.name) {
                    require(
                        resource.name,
                        "ApproximateNumberOfMessagesVisible",
                        "QueueName",
                        "messages failed for good",
                    );
                    require(
                        resource.name,
                        "ApproximateAgeOfOldestMessage",
                        "QueueName",
                        "dead letters expire",
                    );
                } else {
                    require(
                        resource.name,
                        "ApproximateAgeOfOldestMessage",
                        "QueueName",
                        "its consumer may be stuck",
                    );
                }
            }
            "AWS::Serverless::Function" | "AWS::Lambda::Function" => {
                let name = resource.name;
                require(name, "Errors", "FunctionName", "invocations fail");
                require(name, "Throttles", "FunctionName", "invocations are refused");
                require(
                    name,
                    "Duration",
                    "FunctionName",
                    "invocations near the timeout",
                );
                let triggers: Vec<SourceKind> = sources
                    .iter()
                    .filter(|s| s.function == Some(name))
                    .map(|s| s.kind)
                    .collect();
                if triggers.contains(&SourceKind::Sqs) {
                    require(
                        name,
                        "ConcurrentExecutions",
                        "FunctionName",
                        "its queue backs up at the concurrency cap",
                    );
                    require(
                        name,
                        "MessagesRetried",
                        "function",
                        "messages fail while invocations succeed",
                    );
                }
                if triggers
                    .iter()
                    .any(|k| matches!(k, SourceKind::DynamoDb | SourceKind::Kinesis))
                {
                    require(
                        name,
                        "IteratorAge",
                        "FunctionName",
                        "the stream consumer lags",
                    );
                }
                if behind_an_api(&resource) {
                    require(
                        name,
                        "ConcurrentExecutions",
                        "FunctionName",
                        "requests are throttled at the concurrency limit",
                    );
                }
            }
            "AWS::DynamoDB::Table" => {
                for metric in ["ReadThrottleEvents", "WriteThrottleEvents"] {
                    // The table's own metric: without an index dimension.
                    let table_covered = alarms.iter().any(|a| {
                        a.metrics.iter().any(|m| {
                            m.name == Some(metric)
                                && m.dimensions.iter().any(|(n, v)| {
                                    *n == "TableName" && target(v) == Some(resource.name)
                                })
                                && !m
                                    .dimensions
                                    .iter()
                                    .any(|(n, _)| *n == "GlobalSecondaryIndexName")
                        })
                    });
                    if !table_covered {
                        index_gaps.push(Violation::new(
                            Rule::AlarmCoverage,
                            resource.name,
                            format!(
                                "no alarm on {metric} (TableName = {}): requests are throttled",
                                resource.name
                            ),
                        ));
                    }
                    for index in indexes(&resource) {
                        let covered = alarms.iter().any(|a| {
                            a.watches(metric, "TableName", resource.name)
                                && a.metrics.iter().any(|m| {
                                    m.name == Some(metric)
                                        && m.dimensions.iter().any(|(n, v)| {
                                            *n == "GlobalSecondaryIndexName"
                                                && v.as_str() == Some(index)
                                        })
                                })
                        });
                        if !covered {
                            index_gaps.push(Violation::new(
                                Rule::AlarmCoverage,
                                resource.name,
                                format!("no alarm on {metric} of index {index}: its requests are throttled apart from the table's"),
                            ));
                        }
                    }
                }
            }
            "AWS::Serverless::HttpApi" | "AWS::ApiGatewayV2::Api" => {
                require(resource.name, "5xx", "ApiId", "clients get server errors");
                require(resource.name, "Latency", "ApiId", "clients wait");
            }
            _ => {}
        }
    }
    violations.extend(index_gaps);
    violations.extend(duration_thresholds(template, &alarms));
    violations
}

/// A duration alarm whose threshold is not below the function's timeout never fires before
/// the invocations time out (and `Errors` already counts those).
fn duration_thresholds(template: &Template, alarms: &[Alarm<'_>]) -> Vec<Violation> {
    let mut violations = Vec::new();
    for alarm in alarms {
        for metric in alarm.metrics.iter().filter(|m| m.name == Some("Duration")) {
            let Some(function) = metric
                .dimensions
                .iter()
                .find(|(n, _)| *n == "FunctionName")
                .and_then(|(_, v)| target(v))
            else {
                continue;
            };
            let timeout = super::visibility::function_timeout(template, function);
            let threshold = alarm
                .resource
                .prop("Threshold")
                .and_then(|t| template.number(t));
            if let (Some(timeout), Some(threshold)) = (timeout, threshold)
                && threshold >= timeout * 1000.0
            {
                violations.push(Violation::new(
                    Rule::AlarmCoverage,
                    alarm.resource.name,
                    format!("Duration threshold {threshold} ms is not below {function}'s timeout of {timeout} s"),
                ));
            }
        }
    }
    violations
}

fn behind_an_api(function: &Resource<'_>) -> bool {
    function
        .prop("Events")
        .and_then(Value::as_mapping)
        .is_some_and(|events| {
            events.values().any(|e| {
                matches!(
                    e.get("Type").and_then(Value::as_str),
                    Some("HttpApi" | "Api")
                )
            })
        })
}

fn indexes<'a>(table: &Resource<'a>) -> Vec<&'a str> {
    table
        .prop("GlobalSecondaryIndexes")
        .map(items)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|i| i.get("IndexName")?.as_str())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{assert_passes, lint_with};

    const BASE: &str = r#"
Parameters:
  RunbookBaseUrl: {Type: String, Default: "https://example.com/ops.md"}
Resources:
  Q:
    Type: AWS::SQS::Queue
  A:
    Type: AWS::CloudWatch::Alarm
    Properties:
      AlarmDescription: !Sub "Old messages. Runbook: ${RunbookBaseUrl}#queue-age"
      Namespace: AWS/SQS
      MetricName: ApproximateAgeOfOldestMessage
      Dimensions: [{Name: QueueName, Value: !GetAtt Q.QueueName}]
      AlarmActions: [arn:aws:sns:eu-west-1:123456789012:t]
"#;

    #[test]
    fn a_covered_queue_with_a_linked_alarm_passes() {
        assert_passes(check_coverage, BASE);
        assert_passes(check_runbooks, BASE);
        let template = Template::parse(BASE).expect("parses");
        let alarm = template.resource("A").expect("A");
        assert_eq!(runbook_anchor(&alarm), Some("queue-age"));
    }

    #[test]
    fn an_alarm_on_another_queue_does_not_cover_this_one() {
        let text = BASE.replace("!GetAtt Q.QueueName", "!GetAtt Other.QueueName");
        let coverage = lint_with(check_coverage, &text);
        assert_eq!(coverage.len(), 1, "{coverage:?}");
        assert_eq!(coverage[0].resource, "Q");
        assert!(
            coverage[0]
                .message
                .contains("ApproximateAgeOfOldestMessage")
        );
    }

    #[test]
    fn an_unlinked_or_silent_alarm_is_reported() {
        let text = BASE
            .replace(" Runbook: ${RunbookBaseUrl}#queue-age", "")
            .replace(
                "      AlarmActions: [arn:aws:sns:eu-west-1:123456789012:t]\n",
                "",
            );
        let runbooks = lint_with(check_runbooks, &text);
        assert_eq!(runbooks.len(), 2, "{runbooks:?}");
    }

    #[test]
    fn a_function_needs_errors_throttles_and_a_duration_below_its_timeout() {
        let text = r#"
Resources:
  F:
    Type: AWS::Serverless::Function
    Properties: {Timeout: 10}
  E:
    Type: AWS::CloudWatch::Alarm
    Properties:
      Namespace: AWS/Lambda
      MetricName: Errors
      Dimensions: [{Name: FunctionName, Value: !Ref F}]
  D:
    Type: AWS::CloudWatch::Alarm
    Properties:
      Namespace: AWS/Lambda
      MetricName: Duration
      Threshold: 12000
      Dimensions: [{Name: FunctionName, Value: !Ref F}]
"#;
        let coverage = lint_with(check_coverage, text);
        let messages: Vec<&str> = coverage.iter().map(|v| v.message.as_str()).collect();
        assert_eq!(coverage.len(), 2, "{messages:?}");
        assert!(messages.iter().any(|m| m.contains("Throttles")));
        assert!(
            messages
                .iter()
                .any(|m| m.contains("not below F's timeout of 10 s"))
        );
    }

    #[test]
    fn each_index_of_a_table_needs_its_own_throttle_alarms() {
        let text = r#"
Resources:
  T:
    Type: AWS::DynamoDB::Table
    Properties:
      GlobalSecondaryIndexes: [{IndexName: gsi1}]
  A:
    Type: AWS::CloudWatch::Alarm
    Properties:
      Metrics:
        - Id: r
          MetricStat:
            Metric: {Namespace: AWS/DynamoDB, MetricName: ReadThrottleEvents, Dimensions: [{Name: TableName, Value: !Ref T}]}
        - Id: w
          MetricStat:
            Metric: {Namespace: AWS/DynamoDB, MetricName: WriteThrottleEvents, Dimensions: [{Name: TableName, Value: !Ref T}]}
"#;
        let coverage = lint_with(check_coverage, text);
        assert_eq!(coverage.len(), 2, "{coverage:?}");
        assert!(coverage.iter().all(|v| v.message.contains("index gsi1")));
    }
}
