//! Rule `retain-policies`: what holds messages, logs or data outlives the stack. Queues,
//! DLQs and log groups are kept when the stack is deleted or an update replaces them
//! (`RetainExceptOnCreate`, which still cleans up after a failed first create, so a named
//! queue can be created again; or `Retain`), and the table refuses deletion
//! (`DeletionProtectionEnabled`) besides being retained.

use serde_yaml_ng::Value;

use crate::template::{Resource, Template};
use crate::{Rule, Violation};

const KEPT: [&str; 2] = ["RetainExceptOnCreate", "Retain"];

/// Checks the deletion and replacement policies of queues, log groups and tables.
pub fn check(template: &Template) -> Vec<Violation> {
    let mut violations = Vec::new();
    for resource in template.resources() {
        match resource.kind {
            "AWS::SQS::Queue" | "AWS::Logs::LogGroup" => {
                policies(&resource, &KEPT, &["Retain"], &mut violations);
            }
            "AWS::DynamoDB::Table" => {
                policies(
                    &resource,
                    &["Retain", "RetainExceptOnCreate", "Snapshot"],
                    &["Retain", "Snapshot"],
                    &mut violations,
                );
                let protected = match resource.prop("DeletionProtectionEnabled") {
                    Some(Value::Bool(on)) => *on,
                    Some(Value::String(on)) => on.eq_ignore_ascii_case("true"),
                    _ => false,
                };
                if !protected {
                    violations.push(Violation::new(
                        Rule::RetainPolicies,
                        resource.name,
                        "the table needs DeletionProtectionEnabled: true",
                    ));
                }
            }
            _ => {}
        }
    }
    violations
}

fn policies(
    resource: &Resource<'_>,
    deletion: &[&str],
    replacement: &[&str],
    violations: &mut Vec<Violation>,
) {
    for (attribute, allowed) in [
        ("DeletionPolicy", deletion),
        ("UpdateReplacePolicy", replacement),
    ] {
        match resource.attribute_str(attribute) {
            Some(policy) if allowed.contains(&policy) => {}
            found => violations.push(Violation::new(
                Rule::RetainPolicies,
                resource.name,
                format!(
                    "{attribute} is {}, expected one of {}",
                    found.unwrap_or("unset (Delete)"),
                    allowed.join(", ")
                ),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{assert_passes, lint_with};

    #[test]
    fn queues_and_log_groups_must_be_kept_and_tables_protected() {
        let good = "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    DeletionPolicy: RetainExceptOnCreate\n    UpdateReplacePolicy: Retain\n  L:\n    Type: AWS::Logs::LogGroup\n    DeletionPolicy: Retain\n    UpdateReplacePolicy: Retain\n  T:\n    Type: AWS::DynamoDB::Table\n    DeletionPolicy: Retain\n    UpdateReplacePolicy: Retain\n    Properties: {DeletionProtectionEnabled: true}\n";
        assert_passes(check, good);

        let bad = "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    UpdateReplacePolicy: Retain\n  T:\n    Type: AWS::DynamoDB::Table\n    DeletionPolicy: Retain\n    UpdateReplacePolicy: Retain\n";
        let violations = lint_with(check, bad);
        let names: Vec<&str> = violations.iter().map(|v| v.resource.as_str()).collect();
        assert_eq!(names, ["Q", "T"], "{violations:?}");
        assert!(violations[0].message.contains("DeletionPolicy is unset"));
        assert!(violations[1].message.contains("DeletionProtectionEnabled"));
    }
}
