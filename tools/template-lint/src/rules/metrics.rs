//! Rule `metric-names`: every alarm and every dashboard widget names a metric that exists.
//! Namespace `q2c` holds what the code emits: [`q2c_runtime::Metric::ALL`], with the one
//! dimension `function`. Namespaces `AWS/...` hold what AWS publishes, listed below for the
//! services the stack uses; a name outside these lists is a typo or a metric nobody emits,
//! and a graph or alarm on it stays empty forever.

use serde_yaml_ng::Value;

use super::alarms::alarms;
use crate::template::{Template, items};
use crate::{Rule, Violation};

/// What AWS publishes, per namespace (the services of the stack).
pub const AWS_METRICS: &[(&str, &[&str])] = &[
    (
        "AWS/Lambda",
        &[
            "Invocations",
            "Errors",
            "Throttles",
            "Duration",
            "ConcurrentExecutions",
            "UnreservedConcurrentExecutions",
            "ClaimedAccountConcurrency",
            "IteratorAge",
            "DeadLetterErrors",
            "DestinationDeliveryFailures",
            "ProvisionedConcurrencySpilloverInvocations",
            "RecursiveInvocationsDropped",
            "AsyncEventAge",
            "AsyncEventsReceived",
            "AsyncEventsDropped",
            "PostRuntimeExtensionsDuration",
        ],
    ),
    (
        "AWS/SQS",
        &[
            "ApproximateAgeOfOldestMessage",
            "ApproximateNumberOfMessagesDelayed",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesVisible",
            "NumberOfEmptyReceives",
            "NumberOfDeduplicatedSentMessages",
            "NumberOfMessagesDeleted",
            "NumberOfMessagesReceived",
            "NumberOfMessagesSent",
            "SentMessageSize",
        ],
    ),
    (
        "AWS/DynamoDB",
        &[
            "ConsumedReadCapacityUnits",
            "ConsumedWriteCapacityUnits",
            "ReadThrottleEvents",
            "WriteThrottleEvents",
            "ThrottledRequests",
            "SystemErrors",
            "UserErrors",
            "ConditionalCheckFailedRequests",
            "TransactionConflict",
            "SuccessfulRequestLatency",
            "ReturnedItemCount",
            "ReturnedBytes",
            "ReturnedRecordsCount",
            "AccountProvisionedReadCapacityUtilization",
            "AccountProvisionedWriteCapacityUtilization",
            "OnlineIndexPercentageProgress",
            "OnlineIndexThrottleEvents",
            "TimeToLiveDeletedItemCount",
        ],
    ),
    (
        "AWS/ApiGateway",
        &[
            "Count",
            "4xx",
            "5xx",
            "Latency",
            "IntegrationLatency",
            "DataProcessed",
        ],
    ),
    (
        "AWS/Events",
        &[
            "Invocations",
            "FailedInvocations",
            "TriggeredRules",
            "MatchedEvents",
        ],
    ),
];

/// The namespace of what q2c emits.
pub const Q2C_NAMESPACE: &str = q2c_runtime::metrics::NAMESPACE;

/// Checks every alarm's and every dashboard's metrics.
pub fn check(template: &Template) -> Vec<Violation> {
    let mut violations = Vec::new();
    for alarm in alarms(template) {
        for metric in &alarm.metrics {
            let dimensions: Vec<&str> = metric.dimensions.iter().map(|(n, _)| *n).collect();
            if let Some(problem) = problem(metric.namespace, metric.name, &dimensions) {
                violations.push(Violation::new(
                    Rule::MetricNames,
                    alarm.resource.name,
                    problem,
                ));
            }
        }
    }
    for dashboard in template.resources_of("AWS::CloudWatch::Dashboard") {
        let body = match dashboard.prop("DashboardBody").map(body_text) {
            Some(Some(text)) => text,
            _ => {
                violations.push(Violation::new(
                    Rule::MetricNames,
                    dashboard.name,
                    "DashboardBody is not a string or a !Sub of one",
                ));
                continue;
            }
        };
        let document: Value = match serde_yaml_ng::from_str(&placeholders(&body)) {
            Ok(document) => document,
            Err(error) => {
                violations.push(Violation::new(
                    Rule::MetricNames,
                    dashboard.name,
                    format!("DashboardBody is not JSON: {error}"),
                ));
                continue;
            }
        };
        for widget in document.get("widgets").map(items).unwrap_or_default() {
            let title = widget
                .get("properties")
                .and_then(|p| p.get("title"))
                .and_then(Value::as_str)
                .unwrap_or("untitled");
            let rows = widget
                .get("properties")
                .and_then(|p| p.get("metrics"))
                .map(items)
                .unwrap_or_default();
            for row in rows {
                if let Some(problem) = row_problem(row) {
                    violations.push(Violation::new(
                        Rule::MetricNames,
                        format!("{} (widget {title:?})", dashboard.name),
                        problem,
                    ));
                }
            }
        }
    }
    violations
}

/// What is wrong with a metric, if anything.
fn problem(namespace: Option<&str>, name: Option<&str>, dimensions: &[&str]) -> Option<String> {
    let (Some(namespace), Some(name)) = (namespace, name) else {
        return Some("Namespace and MetricName must be literal strings".to_owned());
    };
    if namespace == Q2C_NAMESPACE {
        if !q2c_runtime::Metric::ALL.iter().any(|m| m.name() == name) {
            return Some(format!(
                "q2c emits no metric {name} (q2c_runtime::Metric: {})",
                q2c_runtime::Metric::ALL.map(|m| m.name()).join(", ")
            ));
        }
        if dimensions != [q2c_runtime::metrics::DIMENSION] {
            return Some(format!(
                "q2c metrics have the one dimension `{}`, not {dimensions:?}",
                q2c_runtime::metrics::DIMENSION
            ));
        }
        return None;
    }
    match AWS_METRICS.iter().find(|(ns, _)| *ns == namespace) {
        Some((_, names)) if names.contains(&name) => None,
        Some(_) => Some(format!("AWS publishes no metric {name} in {namespace}")),
        None => Some(format!(
            "namespace {namespace} is neither q2c nor one the stack uses"
        )),
    }
}

/// A dashboard metric row: `[namespace, name, dim, value, ..., {options}]`, or an
/// expression row `[{"expression": ...}]`. Shorthand rows (`"."`, `"..."`) are refused:
/// written in full, every row can be checked.
fn row_problem(row: &Value) -> Option<String> {
    let cells = row.as_sequence()?;
    if cells.first().is_some_and(Value::is_mapping) {
        return None;
    }
    let strings: Vec<&str> = cells.iter().filter_map(Value::as_str).collect();
    if strings.iter().any(|s| *s == "." || *s == "...") {
        return Some(format!(
            "write the metric row {strings:?} in full (no \".\" or \"...\")"
        ));
    }
    let (namespace, name) = (strings.first().copied(), strings.get(1).copied());
    let dimensions: Vec<&str> = strings.iter().skip(2).step_by(2).copied().collect();
    problem(namespace, name, &dimensions)
}

/// The body of `DashboardBody`: a string, `!Sub string`, or `!Sub [string, vars]`.
fn body_text(value: &Value) -> Option<String> {
    if let Some(text) = value.as_str() {
        return Some(text.to_owned());
    }
    let sub = value.get("Fn::Sub")?;
    sub.as_str()
        .or_else(|| sub.get(0)?.as_str())
        .map(str::to_owned)
}

/// `${...}` placeholders replaced by a plain word (so the JSON parses); `${!x}` is the
/// literal `${x}`.
fn placeholders(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[start..]);
            return out;
        };
        let inner = &after[..end];
        match inner.strip_prefix('!') {
            Some(literal) => {
                out.push_str("${");
                out.push_str(literal);
                out.push('}');
            }
            None => out.push_str("placeholder"),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{assert_first_reports, assert_passes, assert_single};

    const DASHBOARD: &str = r#"
Resources:
  D:
    Type: AWS::CloudWatch::Dashboard
    Properties:
      DashboardBody: !Sub |
        {"widgets": [{"type": "metric", "properties": {"title": "t", "metrics": [
          ["q2c", "QuotesCreated", "function", "${F}"],
          ["AWS/SQS", "NumberOfMessagesSent", "QueueName", "${Q.QueueName}", {"stat": "Sum"}],
          [{"expression": "m1 / PERIOD(m1)", "id": "e1"}]
        ]}}]}
"#;

    #[test]
    fn emitted_and_published_metrics_pass() {
        assert_passes(check, DASHBOARD);
    }

    #[test]
    fn a_metric_nobody_emits_is_reported() {
        assert_single(
            check,
            &DASHBOARD.replace("QuotesCreated", "QuotesMade"),
            Rule::MetricNames,
            "q2c emits no metric QuotesMade",
        );
        assert_first_reports(
            check,
            &DASHBOARD.replace("NumberOfMessagesSent", "MessagesSent"),
            "AWS publishes no metric MessagesSent",
        );
    }

    #[test]
    fn q2c_metrics_have_the_function_dimension_and_rows_are_written_in_full() {
        assert_first_reports(
            check,
            &DASHBOARD.replace(r#""function", "${F}""#, r#""fn", "${F}""#),
            "one dimension `function`",
        );
        assert_first_reports(
            check,
            &DASHBOARD.replace(
                r#"["AWS/SQS", "NumberOfMessagesSent""#,
                r#"["...", "NumberOfMessagesSent""#,
            ),
            "in full",
        );
    }

    #[test]
    fn alarms_are_checked_too() {
        let text = "Resources:\n  A:\n    Type: AWS::CloudWatch::Alarm\n    Properties:\n      Namespace: AWS/Lambda\n      MetricName: Error\n";
        assert_single(
            check,
            text,
            Rule::MetricNames,
            "AWS publishes no metric Error in AWS/Lambda",
        );
    }

    #[test]
    fn placeholders_keep_escaped_literals() {
        assert_eq!(placeholders("a ${X} b ${!Y} c"), "a placeholder b ${Y} c");
    }
}
