//! Rule `iam-no-wildcard-action`: no IAM statement allows every action (`*`) or every action
//! of a service (`sqs:*`), and none allows by exclusion (`NotAction`). Looks at
//! `AWS::IAM::Role` inline policies, `AWS::IAM::Policy`/`ManagedPolicy`/`RolePolicy`, and
//! inline statements in SAM `Policies`. Resource policies (key and queue policies) are out of
//! scope: their deny-all statements and the key's root statement are how AWS expects them.

use serde_yaml_ng::Value;

use crate::template::{Template, items};
use crate::{Rule, Violation};

/// Checks every IAM policy document in `template`.
pub fn check(template: &Template) -> Vec<Violation> {
    let mut violations = Vec::new();
    for resource in template.resources() {
        for (label, document) in documents(resource.kind, resource.properties) {
            for (index, statement) in items(document.get("Statement").unwrap_or(&Value::Null))
                .into_iter()
                .enumerate()
            {
                if let Some(problem) = wildcard(statement) {
                    let sid = statement.get("Sid").and_then(Value::as_str);
                    let at = sid.map_or_else(|| format!("#{index}"), str::to_owned);
                    violations.push(Violation::new(
                        Rule::IamNoWildcardAction,
                        format!("{} ({label}, statement {at})", resource.name),
                        problem,
                    ));
                }
            }
        }
    }
    violations
}

/// The policy documents of one resource, each with a label naming it.
pub(crate) fn documents<'a>(kind: &str, properties: &'a Value) -> Vec<(String, &'a Value)> {
    match kind {
        "AWS::IAM::Role" | "AWS::IAM::User" | "AWS::IAM::Group" => {
            let policies = properties.get("Policies").map(items).unwrap_or_default();
            policies
                .into_iter()
                .filter_map(|policy| {
                    let name = policy
                        .get("PolicyName")
                        .and_then(Value::as_str)
                        .unwrap_or("?");
                    Some((format!("policy {name}"), policy.get("PolicyDocument")?))
                })
                .collect()
        }
        "AWS::IAM::Policy"
        | "AWS::IAM::ManagedPolicy"
        | "AWS::IAM::RolePolicy"
        | "AWS::IAM::UserPolicy"
        | "AWS::IAM::GroupPolicy" => properties
            .get("PolicyDocument")
            .map(|doc| vec![("PolicyDocument".to_owned(), doc)])
            .unwrap_or_default(),
        "AWS::Serverless::Function" | "AWS::Serverless::StateMachine" => {
            // `Policies` is a managed policy name, a document, or a list mixing names,
            // documents and SAM policy templates; only documents carry statements.
            let policies = properties.get("Policies").map(items).unwrap_or_default();
            policies
                .into_iter()
                .enumerate()
                .filter(|(_, policy)| policy.get("Statement").is_some())
                .map(|(index, doc)| (format!("Policies #{index}"), doc))
                .collect()
        }
        _ => Vec::new(),
    }
}

/// Why an `Allow` statement is too broad, if it is.
fn wildcard(statement: &Value) -> Option<String> {
    let effect = statement.get("Effect").and_then(Value::as_str);
    if effect == Some("Deny") {
        return None;
    }
    if statement.get("NotAction").is_some() {
        return Some("Allow with NotAction grants every other action; list the actions".into());
    }
    let actions = statement.get("Action").map(items).unwrap_or_default();
    let broad: Vec<&str> = actions
        .into_iter()
        .filter_map(Value::as_str)
        .filter(|action| is_wildcard(action))
        .collect();
    (!broad.is_empty()).then(|| {
        format!(
            "grants wildcard action {}; name the actions",
            broad.join(", ")
        )
    })
}

/// `*` or `service:*`.
fn is_wildcard(action: &str) -> bool {
    match action.split_once(':') {
        None => action.trim() == "*",
        Some((_, name)) => name.trim() == "*",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::flagged;

    #[test]
    fn wildcards_are_found_in_roles_policies_and_sam_functions() {
        let text = r#"
Conditions: {C: {'Fn::Equals': [a, a]}}
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      Policies:
        - PolicyName: p
          PolicyDocument:
            Statement:
              - {Sid: Ok, Effect: Allow, Action: [sqs:SendMessage], Resource: x}
              - !If [C, {Sid: Any, Effect: Allow, Action: "*", Resource: x}, !Ref AWS::NoValue]
  Policy:
    Type: AWS::IAM::Policy
    Properties:
      PolicyDocument:
        Statement: {Effect: Allow, NotAction: iam:PassRole, Resource: x}
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Policies:
        - AWSLambdaBasicExecutionRole
        - SQSPollerPolicy: {QueueName: q}
        - Statement: [{Effect: Allow, Action: ["dynamodb:GetItem", "dynamodb:*"], Resource: x}]
  Queue:
    Type: AWS::SQS::QueuePolicy
    Properties:
      PolicyDocument: {Statement: [{Effect: Deny, Action: "sqs:*", Principal: "*"}]}
"#;
        assert_eq!(
            flagged(check, text),
            [
                "Role (policy p, statement Any)",
                "Policy (PolicyDocument, statement #0)",
                "Fn (Policies #2, statement #0)",
            ]
        );
    }

    #[test]
    fn partial_wildcards_and_deny_statements_pass() {
        assert!(!is_wildcard("sqs:Get*"));
        assert!(is_wildcard("sqs:*"));
        assert!(is_wildcard("*"));
        assert!(
            wildcard(&serde_yaml_ng::from_str("{Effect: Deny, Action: '*'}").expect("yaml"))
                .is_none()
        );
    }
}
