//! The rules, grouped by what they look at, and the event-source view that several share.

pub mod alarms;
pub mod batch;
pub mod cors;
pub mod deploy;
pub mod encryption;
pub mod iam;
pub mod indexes;
pub mod loops;
pub mod metrics;
pub mod parking;
pub mod receives;
pub mod redrive;
pub mod retain;
pub mod visibility;

use serde_yaml_ng::Value;

use crate::template::{Template, attribute, target};

/// What feeds an event source mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    /// An SQS queue.
    Sqs,
    /// A DynamoDB stream.
    DynamoDb,
    /// A Kinesis stream.
    Kinesis,
    /// Anything else (Kafka, MQ, ...), which has no partial batch response.
    Other,
}

/// One event source mapping, whether a SAM function event or an
/// `AWS::Lambda::EventSourceMapping`.
#[derive(Debug, Clone)]
pub struct EventSource<'a> {
    /// How violations name it: `Function (event Name)` or the mapping's logical id.
    pub label: String,
    /// The logical id of the consuming function, when the template defines it.
    pub function: Option<&'a str>,
    /// The source's kind.
    pub kind: SourceKind,
    /// The logical id of the source queue/table/stream, when the template defines it.
    pub source: Option<&'a str>,
    /// The mapping's properties (`FunctionResponseTypes`, `BatchSize`, ...).
    pub properties: &'a Value,
}

/// The SQS event sources of `template` naming both ends: (queue, function) logical ids.
pub fn sqs_consumers(template: &Template) -> impl Iterator<Item = (&str, &str)> {
    event_sources(template)
        .into_iter()
        .filter(|s| s.kind == SourceKind::Sqs)
        .filter_map(|s| Some((s.source?, s.function?)))
}

/// Every event source mapping of `template`.
pub fn event_sources(template: &Template) -> Vec<EventSource<'_>> {
    let mut found = Vec::new();
    for resource in template.resources() {
        match resource.kind {
            "AWS::Serverless::Function" => {
                let events = resource.prop("Events").and_then(Value::as_mapping);
                for (name, event) in events.into_iter().flatten() {
                    let kind = match event.get("Type").and_then(Value::as_str) {
                        Some("SQS") => SourceKind::Sqs,
                        Some("DynamoDB") => SourceKind::DynamoDb,
                        Some("Kinesis") => SourceKind::Kinesis,
                        _ => continue,
                    };
                    let properties = event.get("Properties").unwrap_or(&Value::Null);
                    let arn = properties.get("Queue").or_else(|| properties.get("Stream"));
                    found.push(EventSource {
                        label: format!(
                            "{} (event {})",
                            resource.name,
                            name.as_str().unwrap_or("?")
                        ),
                        function: Some(resource.name),
                        kind,
                        source: arn.and_then(target),
                        properties,
                    });
                }
            }
            "AWS::Lambda::EventSourceMapping" => {
                let arn = resource.prop("EventSourceArn");
                found.push(EventSource {
                    label: resource.name.to_owned(),
                    function: resource.prop("FunctionName").and_then(target),
                    kind: arn.map_or(SourceKind::Other, |arn| kind_of(template, arn)),
                    source: arn.and_then(target),
                    properties: resource.properties,
                });
            }
            _ => {}
        }
    }
    found
}

/// The kind of source an `EventSourceArn` names: by the resource it points at, or by the
/// service in a literal or `Fn::Sub` ARN.
fn kind_of(template: &Template, arn: &Value) -> SourceKind {
    if let Some(resource) = target(arn).and_then(|name| template.resource(name)) {
        return match (resource.kind, attribute(arn)) {
            ("AWS::SQS::Queue", _) => SourceKind::Sqs,
            ("AWS::DynamoDB::Table", Some("StreamArn")) => SourceKind::DynamoDb,
            ("AWS::Kinesis::Stream", _) => SourceKind::Kinesis,
            _ => SourceKind::Other,
        };
    }
    let text = arn
        .as_str()
        .or_else(|| {
            arn.get("Fn::Sub")
                .and_then(|s| s.as_str().or_else(|| s.get(0)?.as_str()))
        })
        .unwrap_or_default();
    if text.contains(":sqs:") {
        SourceKind::Sqs
    } else if text.contains(":dynamodb:") {
        SourceKind::DynamoDb
    } else if text.contains(":kinesis:") {
        SourceKind::Kinesis
    } else {
        SourceKind::Other
    }
}
