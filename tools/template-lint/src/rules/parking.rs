//! Rule `outbox-parking`: a function fed by a DynamoDB stream (the outbox relay) that may send
//! to a queue with a dead-letter queue may send to that dead-letter queue too: the relay
//! parks there, whole and with its reason, what it cannot publish (see the outbox decision
//! record in docs/architecture.md); without the grant every parking fails and the event
//! stays pending.

use std::collections::BTreeSet;

use serde_yaml_ng::Value;

use super::iam::documents;
use super::redrive::parse_embedded;
use super::{SourceKind, event_sources};
use crate::template::{Template, items, target};
use crate::{Rule, Violation};

/// Checks the send grants of every stream-fed function.
pub fn check(template: &Template) -> Vec<Violation> {
    let relays: BTreeSet<&str> = event_sources(template)
        .into_iter()
        .filter(|s| s.kind == SourceKind::DynamoDb)
        .filter_map(|s| s.function)
        .collect();
    let mut violations = Vec::new();
    for name in relays {
        let Some(function) = template.resource(name) else {
            continue;
        };
        // The function's own `Policies`, and those of the role it names (`Role: !GetAtt X.Arn`).
        let mut sendable = sendable_queues(function.kind, function.properties);
        if let Some(role) = function
            .prop("Role")
            .and_then(target)
            .and_then(|r| template.resource(r))
        {
            sendable.extend(sendable_queues(role.kind, role.properties));
        }
        for queue in &sendable {
            let Some(dlq) = template
                .resource(queue)
                .and_then(|q| q.prop("RedrivePolicy").map(parse_embedded))
                .and_then(|p| {
                    p.get("deadLetterTargetArn")
                        .and_then(target)
                        .map(str::to_owned)
                })
            else {
                continue;
            };
            if !sendable.contains(dlq.as_str()) {
                violations.push(Violation::new(
                    Rule::OutboxParking,
                    name,
                    format!(
                        "may send to {queue} but not to its dead-letter queue {dlq}, where the relay parks what it cannot publish: allow sqs:SendMessage on {dlq} too"
                    ),
                ));
            }
        }
    }
    violations
}

/// The queues (logical ids) an `Allow` statement of the function's policies lets it send to.
fn sendable_queues<'a>(kind: &str, properties: &'a Value) -> BTreeSet<&'a str> {
    let mut queues = BTreeSet::new();
    for (_, document) in documents(kind, properties) {
        for statement in items(document.get("Statement").unwrap_or(&Value::Null)) {
            let allows = statement.get("Effect").and_then(Value::as_str) == Some("Allow");
            let sends = statement.get("Action").is_some_and(|action| {
                items(action)
                    .into_iter()
                    .any(|a| a.as_str() == Some("sqs:SendMessage"))
            });
            if allows && sends {
                let resources = statement.get("Resource").map(items).unwrap_or_default();
                queues.extend(resources.into_iter().filter_map(target));
            }
        }
    }
    queues
}
