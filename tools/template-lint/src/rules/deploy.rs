//! Rule `safe-deployment`: every function deploys through an alias, shifted by CodeDeploy
//! and rolled back by alarms: `AutoPublishAlias` and a `DeploymentPreference` (its own, or
//! in `Globals`) whose `Alarms` name alarms of the template, one of them on the function's
//! own `Errors`.

use serde_yaml_ng::Value;

use super::alarms::alarms;
use crate::template::{Template, items, target};
use crate::{Rule, Violation};

/// Checks every SAM function's deployment settings.
pub fn check(template: &Template) -> Vec<Violation> {
    let all_alarms = alarms(template);
    let mut violations = Vec::new();
    for function in template.resources_of("AWS::Serverless::Function") {
        let mut report = |message: String| {
            violations.push(Violation::new(Rule::SafeDeployment, function.name, message));
        };
        let setting = |key: &str| function.prop(key).or_else(|| template.function_global(key));
        if setting("AutoPublishAlias").is_none_or(Value::is_null) {
            report(
                "no AutoPublishAlias: a deploy replaces the code every invocation runs at once"
                    .to_owned(),
            );
        }
        let Some(preference) = setting("DeploymentPreference") else {
            report(
                "no DeploymentPreference: nothing shifts traffic gradually or rolls back"
                    .to_owned(),
            );
            continue;
        };
        if preference.get("Type").is_none() {
            report("DeploymentPreference has no Type".to_owned());
        }
        let named: Vec<&str> = preference
            .get("Alarms")
            .map(items)
            .unwrap_or_default()
            .into_iter()
            .filter_map(target)
            .collect();
        if named.is_empty() {
            report(
                "DeploymentPreference has no Alarms: a bad version is never rolled back".to_owned(),
            );
            continue;
        }
        for name in &named {
            if !all_alarms.iter().any(|a| a.resource.name == *name) {
                report(format!(
                    "DeploymentPreference names {name}, which is no alarm of the template"
                ));
            }
        }
        let on_errors = all_alarms.iter().any(|alarm| {
            named.contains(&alarm.resource.name)
                && alarm.metrics.iter().any(|m| {
                    m.name == Some("Errors")
                        && m.dimensions
                            .iter()
                            .any(|(n, v)| *n == "FunctionName" && target(v) == Some(function.name))
                })
        });
        if !on_errors {
            report(
                "DeploymentPreference rolls back on no alarm of this function's Errors".to_owned(),
            );
        }
    }
    violations
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{assert_first_reports, assert_passes};

    const GOOD: &str = r#"
Globals:
  Function: {AutoPublishAlias: live}
Resources:
  F:
    Type: AWS::Serverless::Function
    Properties:
      DeploymentPreference: {Type: Canary10Percent5Minutes, Alarms: [!Ref E]}
  E:
    Type: AWS::CloudWatch::Alarm
    Properties:
      Namespace: AWS/Lambda
      MetricName: Errors
      Dimensions: [{Name: FunctionName, Value: !Ref F}]
"#;

    #[test]
    fn an_alias_with_a_canary_rolled_back_by_errors_passes() {
        assert_passes(check, GOOD);
    }

    #[test]
    fn no_alias_no_alarms_or_an_unknown_alarm_is_reported() {
        for (from, to, reported) in [
            ("{AutoPublishAlias: live}", "{}", "AutoPublishAlias"),
            ("Alarms: [!Ref E]", "Alarms: []", "no Alarms"),
            ("Alarms: [!Ref E]", "Alarms: [!Ref E, !Ref X]", "names X"),
            ("MetricName: Errors", "MetricName: Throttles", "Errors"),
        ] {
            assert_first_reports(check, &GOOD.replace(from, to), reported);
        }
    }
}
